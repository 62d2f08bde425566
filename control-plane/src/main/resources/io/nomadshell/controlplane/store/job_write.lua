-- One write to a key of a job that keeps the job's lifetime: a key it creates after the job ended
-- (a transcript entry of a loop that has not yet noticed a cancel) expires with the job's hash.
-- KEYS: 1 job hash, 2 the key written; ARGV: 1 command, 2.. its arguments after the key
local result = redis.call(ARGV[1], KEYS[2], unpack(ARGV, 2))
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 and redis.call('PTTL', KEYS[2]) == -1 then redis.call('PEXPIRE', KEYS[2], ttl) end
return result
