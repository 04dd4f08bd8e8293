-- After a failed provider call: moves the chunk's due time out by the error back-off (base doubling per failure in a
-- row, capped), if the fence token is still the chunk's.
-- KEYS: 1 the chunk hash, 2 ba:poll:due
-- ARGV: 1 chunk id, 2 fence, 3 base delay (ms), 4 longest delay (ms)
-- Returns: the delay chosen (ms), -1 for a stale token
--#include lib/clock.lua
--#include lib/chunk.lua
if redis.call('HGET', KEYS[1], 'fence') ~= ARGV[2] then return -1 end
local errors = chunk_count_poll_error(KEYS[1])
local delay = math.min(tonumber(ARGV[3]) * math.pow(2, math.min(errors - 1, 30)), tonumber(ARGV[4]))
redis.call('ZADD', KEYS[2], 'XX', now_ms() + delay, ARGV[1])
return delay
