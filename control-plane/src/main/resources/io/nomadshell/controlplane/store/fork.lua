-- Makes a new pending job from another's conversation just after a step: its transcript entries and
-- checkpoints up to that step are copied, and the new job restores that step's files in its first
-- sandbox. With a message, it is the fork's first (in its inbox, and an event). Queued at once, if
-- the owner's key is within its limits (owner_usage.lua comes first).
-- Returns {1}, {0} when there is no such checkpoint, or what refuses it (see over_limit).
-- KEYS: 1 new job hash, 2 owner index, 3 new event stream, 4 queue, 5 source transcript,
--       6 new transcript, 7 source checkpoints, 8 new checkpoints, 9 new inbox, 10 the owner's live jobs
-- ARGV: 1 new id, 2 step, 3 created (ms), 4 first event (JSON), 5 message event (JSON) or '',
--       6 message, 7 the prefix of job hash keys, 8 most jobs queued or running, 9 most jobs queued,
--       10 most tokens a day, 11 most dollars a day, 12 the prefix of the owner's daily usage keys,
--       13... more fields of the new job's hash as name, value pairs
local step = tonumber(ARGV[2])
if redis.call('HEXISTS', KEYS[7], ARGV[2]) == 0 then return {0} end
local refusal = over_limit(KEYS[10], ARGV[7], ARGV[12], ARGV[8], ARGV[9], ARGV[10], ARGV[11])
if refusal then return refusal end
for _, entry in ipairs(redis.call('LRANGE', KEYS[5], 0, -1)) do
  if tonumber(cjson.decode(entry).step) <= step then redis.call('RPUSH', KEYS[6], entry) end
end
local checkpoints = redis.call('HGETALL', KEYS[7])
for i = 1, #checkpoints, 2 do
  if tonumber(checkpoints[i]) <= step then redis.call('HSET', KEYS[8], checkpoints[i], checkpoints[i + 1]) end
end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'status', 'pending', 'created_at', ARGV[3], 'steps', step,
  'prompt_tokens', 0, 'completion_tokens', 0, 'artifact_bytes', 0, 'seq', 1,
  'restore_step', step, 'checkpoint_step', step)
for i = 13, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('SADD', KEYS[10], ARGV[1])
redis.call('XADD', KEYS[3], '0-1', 'event', ARGV[4])
if ARGV[5] ~= '' then
  redis.call('RPUSH', KEYS[9], ARGV[6])
  redis.call('HSET', KEYS[1], 'seq', 2)
  redis.call('XADD', KEYS[3], '0-2', 'event', ARGV[5])
end
redis.call('XADD', KEYS[4], '*', 'job_id', ARGV[1])
redis.call('PUBLISH', 'ns:events', ARGV[1])
return {1}
