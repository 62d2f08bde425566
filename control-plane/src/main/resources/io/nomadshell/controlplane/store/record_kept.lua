-- Records what an ended job keeps, if the job is still stored (its retention may have passed), and
-- wakes its watchers. Returns 1 if recorded.
-- KEYS: 1 job hash; ARGV: 1 job id, 2.. field/value pairs
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 2, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('HDEL', KEYS[1], 'artifact_due_by')
redis.call('PUBLISH', 'ns:events', ARGV[1])
return 1
