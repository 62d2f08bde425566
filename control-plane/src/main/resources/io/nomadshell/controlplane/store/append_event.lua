-- Appends an event under the job's next sequence number. Returns the number, or 0 if no such job.
-- A write of the job's owner (a token given) lands only while its lease is the one it took.
-- KEYS: 1 job hash, 2 event stream, 3 lease
-- ARGV: 1 event (JSON), 2 stream cap, 3 the owner's lease token, or '' for a write that is not the owner's
if ARGV[3] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[3] then return redis.error_reply('FENCED') end
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '0-' .. seq, 'event', ARGV[1])
redis.call('PUBLISH', 'ns:events', redis.call('HGET', KEYS[1], 'id'))
return seq
