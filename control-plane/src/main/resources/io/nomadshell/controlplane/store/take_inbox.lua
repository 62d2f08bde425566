-- At a step's start, the job's owner takes the messages its user sent: each moves from the inbox to
-- the transcript (as {"kind": "message", "step": the step it comes before, "content": text}) in the
-- same instant, so none is lost or seen twice whatever stops when. Fenced with the owner's lease.
-- Returns {pause requested ('1' or '0'), rollback step or '', the messages...}.
-- KEYS: 1 job hash, 2 inbox, 3 transcript, 4 lease
-- ARGV: 1 the owner's lease token, 2 the step the messages come before
if ARGV[1] ~= '' and redis.call('GET', KEYS[4]) ~= ARGV[1] then return redis.error_reply('FENCED') end
local fields = redis.call('HMGET', KEYS[1], 'pause_requested', 'rollback_to')
local reply = {fields[1] or '0', fields[2] or ''}
local messages = redis.call('LRANGE', KEYS[2], 0, -1)
if #messages > 0 then
  redis.call('DEL', KEYS[2])
  for _, text in ipairs(messages) do
    redis.call('RPUSH', KEYS[3], cjson.encode({kind = 'message', step = tonumber(ARGV[2]), content = text}))
    reply[#reply + 1] = text
  end
end
return reply
