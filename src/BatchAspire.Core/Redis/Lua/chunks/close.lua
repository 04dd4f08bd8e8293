-- Closes a chunk that has no provider batch (it will never get one) and takes it out of the delayed chunks.
-- KEYS: 1 the chunk hash, 2 ba:chunks:delayed
-- ARGV: 1 close reason, 2 status, 3 chunk id
-- Returns: {'closed', close reason (this call's or an earlier one's)} | {'submitted', provider batch id, its last
--          status or ''} | {'missing'}
--#include lib/chunk.lua
local c = redis.call('HMGET', KEYS[1], 'provider_batch_id', 'closed', 'status', 'kind', 'close_reason')
if not c[4] then return {'missing'} end
if c[1] then return {'submitted', c[1], c[3] or ''} end
if c[2] then return {'closed', c[5] or ARGV[1]} end
chunk_close(KEYS[1], ARGV[1], ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[3])
return {'closed', ARGV[1]}
