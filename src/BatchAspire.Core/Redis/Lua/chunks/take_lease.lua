-- Takes the submit lease of a chunk that still needs a provider batch, and arms the watchdog: the chunk comes due in
-- the delayed chunks a second after the lease lapses, so a submitter that dies mid-way is replaced.
-- KEYS: 1 the chunk hash, 2 the job hash, 3 ba:chunks:delayed
-- ARGV: 1 lease token, 2 lease (ms), 3 chunk id
-- Returns: {'taken'} | {'submitted', provider batch id} | {'closed'} | {'busy', lease expiry (unix ms)} |
--          {'stopping', job status} | {'missing'}
--#include lib/clock.lua
--#include lib/job_status.lua
--#include lib/chunk.lua
local now = now_ms()
local c = redis.call('HMGET', KEYS[1], 'provider_batch_id', 'closed', 'submit_lease', 'submit_lease_until_ms', 'kind')
if not c[5] then return {'missing'} end
if c[1] then return {'submitted', c[1]} end
if c[2] then return {'closed'} end
if c[3] and c[3] ~= ARGV[1] and tonumber(c[4]) > now then return {'busy', c[4]} end
local j = redis.call('HMGET', KEYS[2], 'status', 'expiring_at')
if is_stopping(j[1], j[2]) then return {'stopping', j[1] or ''} end
local until_ms = now + tonumber(ARGV[2])
chunk_lease(KEYS[1], ARGV[1], until_ms)
redis.call('ZADD', KEYS[3], until_ms + 1000, ARGV[3])
return {'taken'}
