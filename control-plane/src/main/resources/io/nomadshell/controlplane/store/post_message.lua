-- A message from the job's owner: queued in the job's inbox for its agent's next step, and told to
-- watchers as an event, at once. Not the owner's write (a user's): never fenced. A key made after the
-- job ended expires with the job's hash. Returns the job's status, or '' if no such job.
-- KEYS: 1 job hash, 2 event stream, 3 inbox
-- ARGV: 1 event (JSON), 2 stream cap, 3 the message
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return '' end
redis.call('RPUSH', KEYS[3], ARGV[3])
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[3], ttl) end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '0-' .. seq, 'event', ARGV[1])
redis.call('PUBLISH', 'ns:events', redis.call('HGET', KEYS[1], 'id'))
return status
