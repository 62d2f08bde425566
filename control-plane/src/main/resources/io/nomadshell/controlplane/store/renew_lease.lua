-- Extends each lease only for the replica that holds it, in one round trip for all of a replica's
-- jobs. Returns, per key, 1 if renewed and 0 if the lease was lost.
-- KEYS: the lease keys; ARGV: 1 holder, 2 TTL (ms)
local renewed = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    renewed[i] = redis.call('PEXPIRE', key, ARGV[2])
  else
    renewed[i] = 0
  end
end
return renewed
