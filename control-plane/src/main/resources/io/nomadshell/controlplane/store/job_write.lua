-- One write to a key of a job that keeps the job's lifetime: a key it creates after the job ended
-- (a transcript entry of a loop that has not yet noticed a cancel) expires with the job's hash.
-- A write of the job's owner (a token given) lands only while its lease is the one it took.
-- KEYS: 1 job hash, 2 the key written, 3 lease
-- ARGV: 1 the owner's lease token or '', 2 command, 3.. its arguments after the key
if ARGV[1] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[1] then return redis.error_reply('FENCED') end
local result = redis.call(ARGV[2], KEYS[2], unpack(ARGV, 3))
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 and redis.call('PTTL', KEYS[2]) == -1 then redis.call('PEXPIRE', KEYS[2], ttl) end
return result
