-- Counts model usage toward a job's totals, if the job is still stored.
-- KEYS: 1 job hash; ARGV: 1 steps, 2 prompt tokens, 3 completion tokens, 4 cost (USD)
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'steps', ARGV[1])
redis.call('HINCRBY', KEYS[1], 'prompt_tokens', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'completion_tokens', ARGV[3])
if tonumber(ARGV[4]) > 0 then redis.call('HINCRBYFLOAT', KEYS[1], 'cost_usd', ARGV[4]) end
return 1
