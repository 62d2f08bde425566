-- Records what an ended job keeps, if the job is still stored (its retention may have passed), and
-- wakes its watchers. Returns 1 if recorded. A write of the job's owner lands only while its lease is
-- the one it took.
-- KEYS: 1 job hash, 2 lease; ARGV: 1 job id, 2 the owner's lease token or '', 3.. field/value pairs
if ARGV[2] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[2] then return redis.error_reply('FENCED') end
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 3, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('HDEL', KEYS[1], 'artifact_due_by')
redis.call('PUBLISH', 'ns:events', ARGV[1])
return 1
