-- Stores a whole tool output under the job's next handle (o1, o2, ...); returns the handle. Like
-- job_write.lua, the keys it creates after the job ended expire with the job's hash, and a write of
-- the job's owner lands only while its lease is the one it took.
-- KEYS: 1 job hash, 2 context hash, 3 outputs hash, 4 lease; ARGV: 1 the output, 2 the owner's lease token or ''
if ARGV[2] ~= '' and redis.call('GET', KEYS[4]) ~= ARGV[2] then return redis.error_reply('FENCED') end
local handle = 'o' .. redis.call('HINCRBY', KEYS[2], 'outputs', 1)
redis.call('HSET', KEYS[3], handle, ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then
  for i = 2, 3 do
    if redis.call('PTTL', KEYS[i]) == -1 then redis.call('PEXPIRE', KEYS[i], ttl) end
  end
end
return handle
