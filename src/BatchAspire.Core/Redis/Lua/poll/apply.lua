-- Writes a poll's answer if the fence token is still the chunk's: the chunk's status, provider counts, usage and file
-- ids; the job's live request_completed (by the change in this chunk's completed count) and its move to in_progress
-- once a provider batch passed validation; and the chunk's next due time. A chunk someone took off the schedule (a
-- cancel) is not put back by a late poll.
-- KEYS: 1 the chunk hash, 2 the job hash, 3 ba:poll:due, 4 the job's chunk counters
-- ARGV: 1 chunk id, 2 fence, 3 provider status, 4 total, 5 completed, 6 failed, 7 '1' when usage is reported,
--       8..12 usage (input, cached, output, reasoning, total tokens), 13 output file id, 14 error file id ('' = none),
--       15 errors (JSON, '' = none), 16 '1' when the status means the job is running, 17 poll interval (ms),
--       18 delay to the next poll (ms)
-- Returns: 1 applied, 0 stale token
--#include lib/clock.lua
--#include lib/job.lua
--#include lib/chunk.lua
if redis.call('HGET', KEYS[1], 'fence') ~= ARGV[2] then return 0 end
local now = now_ms()
local previous_completed = tonumber(redis.call('HGET', KEYS[1], 'provider_completed')) or 0
chunk_polled(KEYS[1], KEYS[4], {
  status = ARGV[3], total = ARGV[4], completed = ARGV[5], failed = ARGV[6], interval_ms = ARGV[17],
  usage = ARGV[7] == '1' and {ARGV[8], ARGV[9], ARGV[10], ARGV[11], ARGV[12]} or nil,
  output_file_id = ARGV[13], error_file_id = ARGV[14], errors = ARGV[15],
}, now)
job_add_completed(KEYS[2], tonumber(ARGV[5]) - previous_completed)
if ARGV[16] == '1' then job_move(KEYS[2], 'in_progress', math.floor(now / 1000)) end
redis.call('ZADD', KEYS[3], 'XX', now + tonumber(ARGV[18]), ARGV[1])
return 1
