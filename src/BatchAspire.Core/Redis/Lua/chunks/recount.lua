-- Counts a job's chunks from its chunk list into its chunk counters, for a job planned before the counters existed
-- (once: a job that has them keeps them). The count is exact only if the list is the one the caller read: a chunk
-- appended since makes the call return 'moved', and the caller reads the list again.
-- KEYS: 1 chunk counters, 2 chunk list, 3.. the chunk hashes, in list order
-- ARGV: (none)
-- Returns: 'counted' | 'exists' | 'moved'
--#include lib/chunk.lua
if redis.call('EXISTS', KEYS[1]) == 1 then return 'exists' end
if redis.call('LLEN', KEYS[2]) ~= #KEYS - 2 then return 'moved' end
local chunk_keys = {}
for i = 3, #KEYS do chunk_keys[#chunk_keys + 1] = KEYS[i] end
chunk_stats_recount(KEYS[1], chunk_keys)
return 'counted'
