-- Claims the webhook deliveries that are due: each is pushed a claim's length into the future, so no
-- other replica takes it while this one tries it; one that crashed mid-attempt leaves it due again
-- once the claim runs out. A due entry whose record is gone is dropped.
-- KEYS: 1 due deliveries (sorted set: id by due time, ms), 2 delivery records (hash: id -> JSON)
-- ARGV: 1 now (ms), 2 claim length (ms), 3 most to claim
-- Returns {id, record, claimed-until, ...}
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local claimed = {}
local til = tonumber(ARGV[1]) + tonumber(ARGV[2])
for _, id in ipairs(due) do
  local record = redis.call('HGET', KEYS[2], id)
  if record then
    redis.call('ZADD', KEYS[1], til, id)
    table.insert(claimed, id)
    table.insert(claimed, record)
    table.insert(claimed, tostring(til))
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return claimed
