-- Extends a lease only for the replica that holds it. Returns 1 if renewed.
-- KEYS: 1 lease key; ARGV: 1 holder, 2 TTL (ms)
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
