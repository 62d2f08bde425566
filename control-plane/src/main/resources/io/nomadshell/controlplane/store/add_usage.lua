-- Counts model usage toward a job's totals, if the job is still stored. A write of the job's owner
-- lands only while its lease is the one it took.
-- KEYS: 1 job hash, 2 lease
-- ARGV: 1 steps, 2 prompt tokens, 3 completion tokens, 4 cost (USD), 5 the owner's lease token or ''
if ARGV[5] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[5] then return redis.error_reply('FENCED') end
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'steps', ARGV[1])
redis.call('HINCRBY', KEYS[1], 'prompt_tokens', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'completion_tokens', ARGV[3])
if tonumber(ARGV[4]) > 0 then redis.call('HINCRBYFLOAT', KEYS[1], 'cost_usd', ARGV[4]) end
return 1
