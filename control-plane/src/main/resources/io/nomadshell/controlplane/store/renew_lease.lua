-- Extends each lease only while it is still the acquisition that holds it, in one round trip for all
-- of a replica's jobs. Returns, per key, 1 if renewed and 0 if the lease was lost.
-- KEYS: the lease keys; ARGV: 1 TTL (ms), 2.. the token of each key's lease, in the same order
local renewed = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[i + 1] then
    renewed[i] = redis.call('PEXPIRE', key, ARGV[1])
  else
    renewed[i] = 0
  end
end
return renewed
