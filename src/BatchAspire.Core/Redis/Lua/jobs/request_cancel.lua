-- A client's cancel: moves the tenant's job to cancelling when its status allows (lib/job.lua's table) and lists it
-- in ba:jobs:cancelling, scored by when the cancel was sent, so a lost JobCancelRequested is sent again.
-- KEYS: 1 the job hash, 2 ba:jobs:cancelling
-- ARGV: 1 tenant, 2 now (unix s), 3 job id, 4 now (unix ms)
-- Returns: {status before, 1, 1 when this call moved it to cancelling else 0}; {'', 0, 0} for an unknown job or
--          another tenant's
--#include lib/job.lua
if redis.call('HGET', KEYS[1], 'tenant') ~= ARGV[1] then return {'', 0, 0} end
local from, moved = job_move(KEYS[1], 'cancelling', ARGV[2])
if not moved then return {from, 1, 0} end
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
return {from, 1, 1}
