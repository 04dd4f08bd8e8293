-- Stores a job's plan once: its chunks (attempt 1, in the chunk list), its chunk counters, request_total (unless
-- set), its entry in the open jobs; takes it out of the validating jobs. A job that has a plan keeps it; a job that is
-- gone or terminal gets none.
-- KEYS: 1 the job hash, 2 the chunk list, 3 ba:jobs:validating, 4 ba:jobs:open, 5 the job's chunk counters, 6.. the
--       chunk hash of each planned chunk in order (chunk n is KEYS[6 + n])
-- ARGV: 1 job id, 2 request total, 3 chunk kind (range), 4.. first line and line count of each chunk
-- Returns: {'planned' | 'existing' | 'terminal' | 'missing', chunks in the plan}
--#include lib/job.lua
--#include lib/chunk.lua
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing', 0} end
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('ZREM', KEYS[3], ARGV[1])
  return {'existing', redis.call('LLEN', KEYS[2])}
end
if is_terminal(status) then
  redis.call('ZREM', KEYS[3], ARGV[1])
  return {'terminal', 0}
end
chunkstats_start(KEYS[5])
local n = 0
for i = 4, #ARGV, 2 do
  chunk_create(KEYS[6 + n], KEYS[2], KEYS[5], ARGV[1] .. '.' .. n, ARGV[3], ARGV[i], ARGV[i + 1], 1, false, false, false)
  n = n + 1
end
job_set_total_once(KEYS[1], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[1])
local created = tonumber(redis.call('HGET', KEYS[1], 'created_at') or '')
if not created then
  local clock = redis.call('TIME')
  created = tonumber(clock[1])
end
redis.call('ZADD', KEYS[4], 'NX', created * 1000, ARGV[1])
return {'planned', n}
