-- Records how a claimed webhook delivery went, only while the claim is still this caller's (its due
-- time is the one the claim set): done drops it, otherwise it is due again at the given time.
-- KEYS: 1 due deliveries, 2 delivery records
-- ARGV: 1 id, 2 claimed-until (ms, as the claim returned it), 3 'done' or the next due time (ms),
--       4 the record to keep (for a retry)
-- Returns 1 when recorded, 0 when the claim was lost.
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) ~= tonumber(ARGV[2]) then return 0 end
if ARGV[3] == 'done' then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
else
  redis.call('ZADD', KEYS[1], tonumber(ARGV[3]), ARGV[1])
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
end
return 1
