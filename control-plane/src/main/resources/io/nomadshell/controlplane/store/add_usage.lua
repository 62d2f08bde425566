-- Counts model usage toward a job's totals, if the job is still stored, and toward what its owner
-- used today (UTC, by Redis's clock; owner_usage.lua comes first). A write of the job's owner
-- lands only while its lease is the one it took.
-- KEYS: 1 job hash, 2 lease
-- ARGV: 1 steps, 2 prompt tokens, 3 completion tokens, 4 cost (USD), 5 the owner's lease token or '',
--       6 the prefix of daily usage keys (the owner and the day follow it)
if ARGV[5] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[5] then return redis.error_reply('FENCED') end
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'steps', ARGV[1])
redis.call('HINCRBY', KEYS[1], 'prompt_tokens', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'completion_tokens', ARGV[3])
if tonumber(ARGV[4]) > 0 then redis.call('HINCRBYFLOAT', KEYS[1], 'cost_usd', ARGV[4]) end
local tokens = tonumber(ARGV[2]) + tonumber(ARGV[3])
if tokens > 0 or tonumber(ARGV[4]) > 0 then
  local day = usage_day()
  local daily = ARGV[6] .. redis.call('HGET', KEYS[1], 'owner') .. ':' .. day
  redis.call('HINCRBY', daily, 'tokens', tokens)
  if tonumber(ARGV[4]) > 0 then redis.call('HINCRBYFLOAT', daily, 'cost_usd', ARGV[4]) end
  -- Kept a day past its own, for whoever reads yesterday's near midnight.
  redis.call('EXPIREAT', daily, (day + 2) * 86400)
end
return 1
