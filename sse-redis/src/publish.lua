-- Publishes events with contiguous ids, atomically: the SSE id of an event is its stream id,
-- "{epoch}-{seq}", where seq counts 1, 2, 3, ... within an epoch, so a missing event is
-- arithmetic. The counter and the epoch live in a hash; when the hash is gone (Redis
-- restarted without persistence, FLUSHALL, eviction) a new epoch starts, which every reader
-- and every resuming client sees as a gap.
--
-- KEYS[1]: the meta hash (fields epoch, seq). KEYS[2]: the stream.
-- ARGV[1]: the stream's length bound (exact MAXLEN). Then pairs: topic, encoded event.
-- Returns the ids given, in order.
local meta, stream, maxlen = KEYS[1], KEYS[2], ARGV[1]

-- The epoch is a time in milliseconds, later than any id in the stream, so stream ids (and
-- SSE ids) keep increasing across epochs and a reader reading from its last id sees the
-- new epoch's entries.
local function new_epoch()
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local top = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
  if top[1] then
    local ms = tonumber(string.match(top[1][1], '^(%d+)'))
    if ms >= now then now = ms + 1 end
  end
  local epoch = string.format('%.0f', now)
  redis.call('HSET', meta, 'epoch', epoch, 'seq', 0)
  return epoch
end

local epoch = redis.call('HGET', meta, 'epoch')
if not epoch then epoch = new_epoch() end
local ids = {}
for i = 2, #ARGV, 2 do
  local id = epoch .. '-' .. redis.call('HINCRBY', meta, 'seq', 1)
  local added = redis.pcall('XADD', stream, 'MAXLEN', maxlen, id,
    'topic', ARGV[i], 'event', ARGV[i + 1])
  if type(added) == 'table' and added.err then
    -- Something else wrote a later id into the stream: go on in a new epoch after it.
    epoch = new_epoch()
    id = epoch .. '-' .. redis.call('HINCRBY', meta, 'seq', 1)
    redis.call('XADD', stream, 'MAXLEN', maxlen, id, 'topic', ARGV[i], 'event', ARGV[i + 1])
  end
  ids[#ids + 1] = id
end
return ids
