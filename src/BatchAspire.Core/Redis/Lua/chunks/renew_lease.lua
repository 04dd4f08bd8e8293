-- Extends a submit lease (and its watchdog in the delayed chunks) if the token still holds it.
-- KEYS: 1 the chunk hash, 2 ba:chunks:delayed
-- ARGV: 1 lease token, 2 lease (ms), 3 chunk id
-- Returns: 1 renewed, 0 the token no longer holds the lease
--#include lib/clock.lua
--#include lib/chunk.lua
if redis.call('HGET', KEYS[1], 'submit_lease') ~= ARGV[1] then return 0 end
local until_ms = now_ms() + tonumber(ARGV[2])
chunk_lease(KEYS[1], ARGV[1], until_ms)
redis.call('ZADD', KEYS[2], 'XX', until_ms + 1000, ARGV[3])
return 1
