-- Marks a job past its completion window (expiring_at, once). A job that is terminal or gone leaves the open jobs.
-- KEYS: 1 the job hash, 2 ba:jobs:open
-- ARGV: 1 job id
-- Returns: 1 marked (now or before), 0 the job is terminal or gone
--#include lib/clock.lua
--#include lib/job.lua
local status = redis.call('HGET', KEYS[1], 'status')
if not status or is_terminal(status) then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 0
end
job_stamp(KEYS[1], 'expiring_at', math.floor(now_ms() / 1000))
return 1
