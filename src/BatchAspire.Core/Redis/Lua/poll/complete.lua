-- Takes a terminal chunk off the poll schedule for good, if the fence token is still the chunk's, and lists it among the
-- finished chunks that wait for their results (scored now), unless its results are stored already: if its
-- ChunkFinished is lost, results finds it there and announces it again.
-- KEYS: 1 the chunk hash, 2 ba:poll:due, 3 ba:chunks:finished
-- ARGV: 1 chunk id, 2 fence
-- Returns: 1 removed, 0 stale token
--#include lib/clock.lua
--#include lib/chunk.lua
if redis.call('HGET', KEYS[1], 'fence') ~= ARGV[2] then return 0 end
local now = now_ms()
redis.call('ZREM', KEYS[2], ARGV[1])
chunk_poll_done(KEYS[1], now)
if redis.call('HEXISTS', KEYS[1], 'results_done') == 0 then redis.call('ZADD', KEYS[3], now, ARGV[1]) end
return 1
