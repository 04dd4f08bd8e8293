-- Gives a submit lease back; its watchdog entry in the delayed chunks stays unless asked.
-- KEYS: 1 the chunk hash, 2 ba:chunks:delayed
-- ARGV: 1 lease token, 2 '1' to take the chunk out of the delayed chunks too, 3 chunk id
-- Returns: 1 released, 0 the token did not hold the lease
--#include lib/chunk.lua
if redis.call('HGET', KEYS[1], 'submit_lease') ~= ARGV[1] then return 0 end
chunk_release_lease(KEYS[1])
if ARGV[2] == '1' then redis.call('ZREM', KEYS[2], ARGV[3]) end
return 1
