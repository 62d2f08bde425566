-- One page of an owner's jobs, newest first, in one round trip: {more, job hash as a flat array, ...}.
-- An id whose job hash has already expired (the sweeper forgets it soon) is left out.
-- KEYS: 1 owner index; ARGV: 1 offset, 2 page size, 3 the prefix of job hash keys
local ids = redis.call('ZREVRANGE', KEYS[1], ARGV[1], tonumber(ARGV[1]) + tonumber(ARGV[2]))
local more = 0
if #ids > tonumber(ARGV[2]) then
  more = 1
  ids[#ids] = nil
end
local page = {more}
for _, id in ipairs(ids) do
  local fields = redis.call('HGETALL', ARGV[3] .. id)
  if #fields > 0 then page[#page + 1] = fields end
end
return page
