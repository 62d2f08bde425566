-- Takes a paused job's conversation back to just after a step: transcript entries of later steps
-- go (a message is filed under the step it came before), so does the running summary (it may cover
-- them; the next prompt condenses again if it must) and every later checkpoint. The job is left to
-- restore that step's files in its next sandbox. Returns 1, or 0 if the job is not paused.
-- KEYS: 1 job hash, 2 event stream, 3 transcript, 4 context, 5 checkpoints
-- ARGV: 1 step, 2 event (JSON), 3 stream cap
if redis.call('HGET', KEYS[1], 'status') ~= 'paused' then return 0 end
local step = tonumber(ARGV[1])
local kept = {}
for _, entry in ipairs(redis.call('LRANGE', KEYS[3], 0, -1)) do
  if tonumber(cjson.decode(entry).step) <= step then kept[#kept + 1] = entry end
end
redis.call('DEL', KEYS[3])
for i = 1, #kept, 1000 do
  redis.call('RPUSH', KEYS[3], unpack(kept, i, math.min(i + 999, #kept)))
end
redis.call('HDEL', KEYS[4], 'summary', 'condensed_turns')
for _, field in ipairs(redis.call('HKEYS', KEYS[5])) do
  if tonumber(field) > step then redis.call('HDEL', KEYS[5], field) end
end
redis.call('HSET', KEYS[1], 'steps', step, 'restore_step', step, 'checkpoint_step', step)
redis.call('HDEL', KEYS[1], 'pause_requested', 'rollback_to')
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then
  for i = 3, 5 do redis.call('PEXPIRE', KEYS[i], ttl) end
end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '0-' .. seq, 'event', ARGV[2])
redis.call('PUBLISH', 'ns:events', redis.call('HGET', KEYS[1], 'id'))
return 1
