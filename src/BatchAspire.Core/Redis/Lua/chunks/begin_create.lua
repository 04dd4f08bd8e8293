-- The point of no return before a provider create: checks the lease and the job once more, records the uploaded file
-- and the routed provider, and stamps when the first create started (kept from then on), so whoever comes next looks up
-- by metadata first, at the same provider.
-- KEYS: 1 the chunk hash, 2 the job hash
-- ARGV: 1 lease token, 2 provider file id ('' when the create carries the lines), 3 routed provider name ('': default)
-- Returns: {'go', first create's start (unix ms), 1 if an earlier create may have reached the provider else 0} |
--          {'submitted', provider batch id} | {'stopping'} | {'lost'}
--#include lib/clock.lua
--#include lib/job_status.lua
--#include lib/chunk.lua
local now = now_ms()
local c = redis.call('HMGET', KEYS[1], 'submit_lease', 'provider_batch_id', 'create_started_at_ms')
if c[2] then return {'submitted', c[2]} end
if c[1] ~= ARGV[1] then return {'lost'} end
local j = redis.call('HMGET', KEYS[2], 'status', 'expiring_at')
if is_stopping(j[1], j[2]) then return {'stopping'} end
chunk_begin_create(KEYS[1], ARGV[2], now, ARGV[3] or '')
if not c[3] then return {'go', now, 0} end
return {'go', tonumber(c[3]), 1}
