-- Spends a launch credential's nonce; returns 1 the first time, 0 after. The set of spent nonces
-- lives at least until the latest credential's expiry.
-- KEYS: 1 the job's spent-launch set, 2 the nonce's key in the layout before that set (spent by a
--       server of that version; it expires with its credential)
-- ARGV: 1 nonce, 2 the credential's expiry (epoch ms), 3 now (epoch ms)
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local added = redis.call('SADD', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -1 or ttl < tonumber(ARGV[2]) - tonumber(ARGV[3]) then redis.call('PEXPIREAT', KEYS[1], ARGV[2]) end
return added
