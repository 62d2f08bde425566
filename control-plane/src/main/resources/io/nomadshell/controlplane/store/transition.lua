-- Moves a job to a new status only if it is in one of the allowed ones, records the fields that go
-- with the move and appends the event, all at once. Returns {1, previous} or {0, current}.
-- KEYS: 1 job hash, 2 event stream, 3 active-jobs set
-- ARGV: 1 target, 2 allowed current statuses (space separated), 3 event (JSON), 4 stream cap,
--       5 '1' when the target is terminal, 6.. field/value pairs
local current = redis.call('HGET', KEYS[1], 'status')
if not current then return {0, ''} end
local allowed = false
for status in string.gmatch(ARGV[2], '%S+') do
  if status == current then allowed = true end
end
if not allowed then return {0, current} end
redis.call('HSET', KEYS[1], 'status', ARGV[1])
for i = 6, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
local id = redis.call('HGET', KEYS[1], 'id')
if ARGV[5] == '1' then
  redis.call('SREM', KEYS[3], id)
else
  redis.call('SADD', KEYS[3], id)
end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '0-' .. seq, 'event', ARGV[3])
redis.call('PUBLISH', 'ns:events', id)
return {1, current}
