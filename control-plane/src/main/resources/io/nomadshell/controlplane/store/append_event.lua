-- Appends an event under the job's next sequence number. Returns the number, or 0 if no such job.
-- KEYS: 1 job hash, 2 event stream
-- ARGV: 1 event (JSON), 2 stream cap
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '0-' .. seq, 'event', ARGV[1])
redis.call('PUBLISH', 'ns:events', redis.call('HGET', KEYS[1], 'id'))
return seq
