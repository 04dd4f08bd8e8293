-- Counts a job's chunks from its chunk list into its chunk counters, for a job planned before the counters existed
-- (once: a job that has them keeps them). The count is exact only if the list is the one the caller read: a chunk
-- appended since makes the call return 'moved', and the caller reads the list again.
-- KEYS: 1 the job's chunk counters, 2 the chunk list, 3.. the chunk hash of each chunk in the list, in order
-- ARGV: (none)
-- Returns: 'counted' | 'exists' | 'moved'
--#include lib/chunk.lua
if redis.call('EXISTS', KEYS[1]) == 1 then return 'exists' end
if redis.call('LLEN', KEYS[2]) ~= #KEYS - 2 then return 'moved' end
local done, usage = 0, {0, 0, 0, 0}
for i = 3, #KEYS do
  if redis.call('HEXISTS', KEYS[i], 'results_done') == 1 then
    done = done + 1
    local u = chunk_usage(KEYS[i])
    for f = 1, 4 do usage[f] = usage[f] + u[f] end
  end
end
chunkstats_set(KEYS[1], #KEYS - 2, done, usage)
return 'counted'
