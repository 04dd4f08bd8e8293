-- Stores a new job in one step: its hash, the tenant's batch list and, for a job that starts validating,
-- ba:jobs:validating (so a lost JobAccepted is sent again) and the tenant's open-work counters. A validating job is
-- open work: it counts against the tenant's quota (checked here, so two creates cannot pass it together) until
-- results' commit ends it. A job that failed validation is never counted, and its webhook event (batch.failed) is
-- recorded with it. A refused job writes nothing.
-- KEYS: 1 the job hash, 2 the tenant's batch list, 3 ba:jobs:validating, 4 ba:seq, 5 the tenant's usage, 6 the
--       webhook event, 7 ba:webhooks:due
-- ARGV: 1 job id, 2 validating since (unix ms; '' for a job that failed validation), 3 requests it counts,
--       4 max open batches (-1 none), 5 max pending requests (-1 none), 6 first status, 7.. field, value, ...
-- Returns: {'ok', seq} or {'over', the QuotaLimit passed, what the tenant uses of it}
--#include lib/clock.lua
--#include lib/job.lua
--#include lib/tenant.lua
--#include lib/webhook_event.lua
local validating = ARGV[2] ~= ''
if validating then
  local limit, used = tenant_open_batch(KEYS[5], ARGV[3], ARGV[4], ARGV[5])
  if limit then return {'over', limit, used} end
end
local seq = redis.call('INCR', KEYS[4])
job_create(KEYS[1], seq, ARGV[6], {unpack(ARGV, 7)})
redis.call('ZADD', KEYS[2], seq, ARGV[1])
if validating then redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1]) end
webhook_event_record(KEYS[6], KEYS[7], KEYS[1], ARGV[1], now_ms())
return {'ok', seq}
