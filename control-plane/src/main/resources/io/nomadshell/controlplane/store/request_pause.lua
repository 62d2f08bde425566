-- Asks the runner of a starting or running job to pause it at the end of its current step (and then
-- roll it back, with a step). Not the owner's write: never fenced. Returns the job's status ('' if
-- none); only for an active job is anything written.
-- KEYS: 1 job hash
-- ARGV: 1 the step to roll back to, or ''
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'starting' and status ~= 'running' then return status or '' end
redis.call('HSET', KEYS[1], 'pause_requested', '1')
if ARGV[1] ~= '' then redis.call('HSET', KEYS[1], 'rollback_to', ARGV[1]) end
redis.call('PUBLISH', 'ns:events', redis.call('HGET', KEYS[1], 'id'))
return status
