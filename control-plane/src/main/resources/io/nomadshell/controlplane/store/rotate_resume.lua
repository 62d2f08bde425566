-- Replaces the resume secret's hash only if the caller presented the current one; keeps its expiry.
-- KEYS[1] the job's resume key; ARGV[1] the presented hash; ARGV[2] the new hash.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
  return 1
end
return 0
