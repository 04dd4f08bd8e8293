-- Counts a job's chunks from its chunk list into its chunk counters, for a job planned before the counters existed
-- (once: a job that has them keeps them). The count is exact only if the list is the one the caller read: a chunk
-- appended since makes the call return 'moved', and the caller reads the list again.
-- KEYS: 1 chunk counters, 2 chunk list, 3.. the chunk hashes, in list order
-- ARGV: (none)
-- Returns: 'counted' | 'exists' | 'moved'
--#include lib/chunk.lua
if redis.call('EXISTS', KEYS[1]) == 1 then return 'exists' end
if redis.call('LLEN', KEYS[2]) ~= #KEYS - 2 then return 'moved' end
chunk_stats_start(KEYS[1])
redis.call('HSET', KEYS[1], 'chunks', #KEYS - 2)
for i = 3, #KEYS do
  if redis.call('HEXISTS', KEYS[i], 'results_done') == 1 then
    redis.call('HINCRBY', KEYS[1], 'done', 1)
    chunk_stats_add_usage(KEYS[1], chunk_usage(KEYS[i]), 1)
  end
end
return 'counted'
