-- Deletes every key of a job whose retention has passed, and its place in the owner's index and
-- among the ended jobs. A job that is no longer ended (never expected) only leaves the ended set.
-- Safe to run twice or from two replicas at once. Returns 1 if this call forgot the job.
-- KEYS: 1 ended-jobs sorted set, 2 owner index, 3 job hash, 4.. the job's other keys
-- ARGV: 1 member of the ended set, 2 job id
local filed = redis.call('ZREM', KEYS[1], ARGV[1])
local status = redis.call('HGET', KEYS[3], 'status')
if status == 'pending' or status == 'starting' or status == 'running' then return 0 end
redis.call('ZREM', KEYS[2], ARGV[2])
for i = 3, #KEYS do redis.call('DEL', KEYS[i]) end
return filed
