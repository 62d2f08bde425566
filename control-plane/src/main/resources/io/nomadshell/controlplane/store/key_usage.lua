-- What the owner of an API key has in use now (owner_usage.lua comes first).
-- KEYS: 1 the owner's live jobs
-- ARGV: 1 the prefix of job hash keys, 2 the prefix of the owner's daily usage keys
local running, queued, tokens, usd, resets = owner_usage(KEYS[1], ARGV[1], ARGV[2])
return {running, queued, tokens, usd, resets}
