-- Records a chunk's provider batch once and takes the chunk out of the delayed chunks. A chunk closed meanwhile, or
-- holding another batch, is left as it is.
-- KEYS: 1 the chunk hash, 2 the job hash, 3 ba:chunks:delayed
-- ARGV: 1 provider batch id, 2 provider file id, 3 provider status, 4 chunk id
-- Returns: {'recorded', job status or '', job expiring_at or ''} | {'exists', the batch recorded before} | {'closed'}
--#include lib/clock.lua
--#include lib/chunk.lua
local c = redis.call('HMGET', KEYS[1], 'provider_batch_id', 'closed')
if c[1] then return {'exists', c[1]} end
if c[2] then return {'closed'} end
chunk_submitted(KEYS[1], ARGV[1], ARGV[2], ARGV[3], now_ms())
redis.call('ZREM', KEYS[3], ARGV[4])
local j = redis.call('HMGET', KEYS[2], 'status', 'expiring_at')
return {'recorded', j[1] or '', j[2] or ''}
