-- Takes a terminal chunk off the poll schedule for good, if the fence token is still the chunk's.
-- KEYS: 1 the chunk hash, 2 ba:poll:due
-- ARGV: 1 chunk id, 2 fence
-- Returns: 1 removed, 0 stale token
--#include lib/clock.lua
--#include lib/chunk.lua
if redis.call('HGET', KEYS[1], 'fence') ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
chunk_poll_done(KEYS[1], now_ms())
return 1
