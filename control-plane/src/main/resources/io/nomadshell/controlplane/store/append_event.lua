-- Appends an event under the job's next sequence number. Returns the number, or 0 if no such job.
-- A write of the job's owner (a token given) lands only while its lease is the one it took.
-- Each append names itself (ARGV 4); the job keeps the last few names with their numbers, so an
-- append run again because its answer was lost (the connection dropped mid-call) returns the
-- number the first run took instead of appending the event twice.
-- KEYS: 1 job hash, 2 event stream, 3 lease
-- ARGV: 1 event (JSON), 2 stream cap, 3 the owner's lease token, or '' for a write that is not the owner's,
--       4 the append's name (letters and digits)
if ARGV[3] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[3] then return redis.error_reply('FENCED') end
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local recent = redis.call('HGET', KEYS[1], 'appended') or ''
local done = string.match(' ' .. recent, ' ' .. ARGV[4] .. ':(%d+)')
if done then return tonumber(done) end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '0-' .. seq, 'event', ARGV[1])
redis.call('PUBLISH', 'ns:events', redis.call('HGET', KEYS[1], 'id'))
local kept = ARGV[4] .. ':' .. seq
local count = 1
for entry in string.gmatch(recent, '%S+') do
  if count == 8 then break end
  kept = kept .. ' ' .. entry
  count = count + 1
end
redis.call('HSET', KEYS[1], 'appended', kept)
return seq
