-- Moves a running job to finalizing (once) while its files are written; a job that skipped in_progress still gets
-- in_progress_at. A job that is stopping keeps its status but is stamped finalizing_at.
-- KEYS: 1 the job hash
-- ARGV: (none)
-- Returns: 1
--#include lib/clock.lua
--#include lib/job.lua
local now_s = math.floor(now_ms() / 1000)
local from, moved = job_move(KEYS[1], 'finalizing', now_s)
if moved then
  job_stamp(KEYS[1], 'in_progress_at', now_s)
elseif from and not is_terminal(from) then
  job_stamp(KEYS[1], 'finalizing_at', now_s)
end
return 1
