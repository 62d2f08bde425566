-- Creates a pending job, its first event and its queue entry in one step; with an idempotency
-- key that is already taken, returns the job that key created instead. A new job is admitted only
-- within the limits of its owner's API key, counted here, in the same step (owner_usage.lua comes first).
-- Returns {id}, or {'', the limit passed, what is in use, the limit, when today ends (ms)}.
-- KEYS: 1 job hash, 2 owner index, 3 event stream, 4 queue stream, 5 idempotency key,
--       6 the owner's live jobs
-- ARGV: 1 id, 2 owner, 3 task, 4 created (ms), 5 first event (JSON), 6 idempotency TTL (s),
--       7 '1' when an idempotency key was given, 8 the prefix of job hash keys,
--       9 most jobs queued or running, 10 most jobs queued, 11 most tokens a day, 12 most dollars a day
--       (each '0' for no limit), 13 the prefix of the owner's daily usage keys,
--       14... more fields of the job hash as name, value pairs
if ARGV[7] == '1' then
  local existing = redis.call('GET', KEYS[5])
  -- A job past its retention is forgotten: its key then starts a new one.
  if existing and redis.call('EXISTS', ARGV[8] .. existing) == 1 then return {existing} end
end
local refusal = over_limit(KEYS[6], ARGV[8], ARGV[13], ARGV[9], ARGV[10], ARGV[11], ARGV[12])
if refusal then return refusal end
if ARGV[7] == '1' then redis.call('SET', KEYS[5], ARGV[1], 'EX', ARGV[6]) end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'owner', ARGV[2], 'task', ARGV[3], 'status', 'pending',
  'created_at', ARGV[4], 'steps', 0, 'prompt_tokens', 0, 'completion_tokens', 0,
  'artifact_bytes', 0, 'seq', 1)
for i = 14, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
redis.call('SADD', KEYS[6], ARGV[1])
redis.call('XADD', KEYS[3], '0-1', 'event', ARGV[5])
redis.call('XADD', KEYS[4], '*', 'job_id', ARGV[1])
redis.call('PUBLISH', 'ns:events', ARGV[1])
return {ARGV[1]}
