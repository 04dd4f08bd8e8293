-- A results pass over a finished chunk is under way, or still is: moves the chunk's score in ba:chunks:finished to now,
-- if it is listed there, so the chunk is not taken for one whose ChunkFinished was lost. A chunk whose results are
-- stored is no longer listed and is not put back.
-- KEYS: 1 ba:chunks:finished
-- ARGV: 1 chunk id
-- Returns: 1 when the chunk is listed, else 0
--#include lib/clock.lua
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now_ms(), ARGV[1])
return 1
