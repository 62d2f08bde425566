-- What an API key's owner has in use, for the scripts that count it against the key's limits.
-- The day is Redis's own UTC day (one clock for every replica); its count resets at UTC midnight.
local function usage_day()
  return math.floor(tonumber(redis.call('TIME')[1]) / 86400)
end

-- The owner's jobs queued (pending) and running (starting, running), from the set of its jobs that
-- have not ended; a member that ended or is gone is dropped as it is met. Paused jobs hold nothing.
-- Returns running, queued, tokens today, dollars today (a string), when today ends (ms since 1970).
local function owner_usage(live_key, job_prefix, usage_prefix)
  local running, queued = 0, 0
  for _, id in ipairs(redis.call('SMEMBERS', live_key)) do
    local status = redis.call('HGET', job_prefix .. id, 'status')
    if status == 'pending' then
      queued = queued + 1
    elseif status == 'starting' or status == 'running' then
      running = running + 1
    elseif status ~= 'paused' then
      redis.call('SREM', live_key, id)
    end
  end
  local day = usage_day()
  local used = redis.call('HMGET', usage_prefix .. day, 'tokens', 'cost_usd')
  return running, queued, tonumber(used[1] or '0'), used[2] or '0', (day + 1) * 86400000
end
