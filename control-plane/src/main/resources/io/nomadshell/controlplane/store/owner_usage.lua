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

-- Whether the owner's key may have one more job: nil if so, else what refuses it as
-- {'', the limit passed, what is in use, the limit, when today ends (ms)}.
-- limits: most jobs queued or running, most jobs queued, most tokens a day, most dollars a day
-- (each a string, '0' for no limit).
local function over_limit(live_key, job_prefix, usage_prefix, running_limit, queued_limit, tokens_limit, usd_limit)
  local running, queued, tokens, usd, resets = owner_usage(live_key, job_prefix, usage_prefix)
  local function over(limit, used, most)
    return {'', limit, tostring(used), most, resets}
  end
  if tonumber(running_limit) > 0 and running + queued >= tonumber(running_limit) then
    return over('running_jobs', running + queued, running_limit)
  end
  if tonumber(queued_limit) > 0 and queued >= tonumber(queued_limit) then return over('queued_jobs', queued, queued_limit) end
  if tonumber(tokens_limit) > 0 and tokens >= tonumber(tokens_limit) then return over('tokens_per_day', tokens, tokens_limit) end
  if tonumber(usd_limit) > 0 and tonumber(usd) >= tonumber(usd_limit) then return over('usd_per_day', usd, usd_limit) end
  return nil
end
