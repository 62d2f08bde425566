-- Moves a job to a new status only if it is in one of the allowed ones, records the fields that go
-- with the move and appends the event, all at once. A job that ends gets an expiry on every key it
-- has (none is left without one: it is set here, with the end) and is filed among the ended jobs.
-- A job that goes on after an end (back to pending) loses those expiries and leaves the ended jobs;
-- one moved to pending is queued again.
-- A move by the job's owner (a token given) lands only while its lease is the one it took.
-- Returns {1, previous} or {0, current}.
-- A job with a callback_url gets a webhook delivery queued with the move (at its end; at every move
-- when it asked for all of them), so a delivery is never lost between the two.
-- KEYS: 1 job hash, 2 event stream, 3 active-jobs set, 4 ended-jobs sorted set, 5 lease, 6 queue,
--       7 due webhook deliveries, 8 webhook delivery records, 9.. the job's other keys
-- ARGV: 1 target, 2 allowed current statuses (space separated), 3 event (JSON), 4 stream cap,
--       5 what the target is: 'end', 'active' (a runner drives it) or 'idle' (pending, paused),
--       6 retention (ms), 7 now (ms),
--       8 the owner's lease token or '' for a move that is not the owner's (a user's cancel),
--       9.. field/value pairs
if ARGV[8] ~= '' and redis.call('GET', KEYS[5]) ~= ARGV[8] then return redis.error_reply('FENCED') end
local current = redis.call('HGET', KEYS[1], 'status')
if not current then return {0, ''} end
local allowed = false
for status in string.gmatch(ARGV[2], '%S+') do
  if status == current then allowed = true end
end
if not allowed then return {0, current} end
redis.call('HSET', KEYS[1], 'status', ARGV[1])
for i = 9, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
local id = redis.call('HGET', KEYS[1], 'id')
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '0-' .. seq, 'event', ARGV[3])
local owner = redis.call('HGET', KEYS[1], 'owner')
local callback = redis.call('HGET', KEYS[1], 'callback_url')
if callback and (ARGV[5] == 'end' or redis.call('HGET', KEYS[1], 'callback_events') == 'all') then
  local delivery = id .. '-' .. seq
  redis.call('HSET', KEYS[8], delivery, cjson.encode({id = delivery, job_id = id, owner = owner, url = callback,
    status = ARGV[1], since = tonumber(ARGV[7]), attempt = 0}))
  redis.call('ZADD', KEYS[7], ARGV[7], delivery)
end
local live = 'ns:owner:' .. owner .. ':live' -- Keys.ownerLive: the owner's jobs counted against its key
if ARGV[5] == 'end' then
  redis.call('SREM', KEYS[3], id)
  redis.call('SREM', live, id)
  -- The retention counts from the job's last write: a cancelled job's partial zip may come later.
  local now = tonumber(ARGV[7])
  local last = math.max(now, tonumber(redis.call('HGET', KEYS[1], 'artifact_due_by') or now))
  redis.call('ZADD', KEYS[4], last, id .. ':' .. owner)
  local keep = tonumber(ARGV[6]) + last - now
  for i, key in ipairs(KEYS) do
    -- The lease keeps its own expiry: its owner still records what the job keeps, and then releases it.
    if i == 1 or i == 2 or i >= 9 then
      -- Never lengthens a shorter expiry (credentials); a key without one gets it.
      local ttl = redis.call('PTTL', key)
      if ttl == -1 or ttl > keep then redis.call('PEXPIRE', key, keep) end
    end
  end
elseif ARGV[5] == 'active' then
  redis.call('SADD', KEYS[3], id)
  redis.call('SADD', live, id)
else
  redis.call('SADD', live, id)
  redis.call('SREM', KEYS[3], id)
  if redis.call('ZREM', KEYS[4], id .. ':' .. owner) == 1 then
    -- Going on after an end: what said how it ended no longer holds.
    redis.call('HDEL', KEYS[1], 'error', 'finished_at', 'artifact_note', 'artifact_due_by')
    for i, key in ipairs(KEYS) do
      if i == 1 or i == 2 or i >= 9 then redis.call('PERSIST', key) end
    end
  end
  if ARGV[1] == 'pending' then redis.call('XADD', KEYS[6], '*', 'job_id', id) end
end
redis.call('PUBLISH', 'ns:events', id)
return {1, current}
