-- Records that the workspace after a step is kept (its commit in the job's checkpoint repository),
-- and tells watchers. Fenced with the owner's lease. The key expires with the job's hash.
-- KEYS: 1 job hash, 2 checkpoints, 3 event stream, 4 lease
-- ARGV: 1 the owner's lease token, 2 step, 3 "commit files created-at(ms)", 4 event (JSON), 5 stream cap,
--       6 the bytes it added (counted toward the job's checkpoint_bytes)
if ARGV[1] ~= '' and redis.call('GET', KEYS[4]) ~= ARGV[1] then return redis.error_reply('FENCED') end
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('HSET', KEYS[1], 'checkpoint_step', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'checkpoint_bytes', ARGV[6])
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '0-' .. seq, 'event', ARGV[4])
redis.call('PUBLISH', 'ns:events', redis.call('HGET', KEYS[1], 'id'))
return 1
