-- Takes a job's lease if nobody holds it, under the job's next epoch. The token (holder/epoch) is what
-- the owner's writes are checked against (fenced), so a replica that lost the lease, even one that
-- took it again since, cannot write with the old one. Returns the token, or nil if the lease is held
-- or there is no such job.
-- KEYS: 1 lease, 2 job hash; ARGV: 1 holder, 2 TTL (ms)
if redis.call('EXISTS', KEYS[2]) == 0 or redis.call('EXISTS', KEYS[1]) == 1 then return false end
local token = ARGV[1] .. '/' .. redis.call('HINCRBY', KEYS[2], 'lease_epoch', 1)
redis.call('SET', KEYS[1], token, 'PX', ARGV[2])
return token
