-- Writes to a job's chunk counters (ba:{jobId}:chunkstats, C# ChunkStatsFields): how many chunks the job has, how
-- many have their results stored, and the usage of those (each one's provider usage where reported, else its lines').
-- Changed only here, in the same step as the chunk change they count (lib/chunk.lua), so finalizing can read them
-- instead of every chunk. A job planned before they existed has none until ChunkStore counts them once
-- (chunks/recount.lua); until then nothing here counts for it.

-- Starts the counters of a job being planned (its chunks are counted as they are made).
local function chunkstats_start(stats)
  redis.call('HSET', stats, 'chunks', 0, 'done', 0, 'input_tokens', 0, 'cached_tokens', 0, 'output_tokens', 0,
    'reasoning_tokens', 0)
end

-- Sets the counters of a job planned before they existed, from a count over its chunks.
local function chunkstats_set(stats, chunks, done, usage)
  redis.call('HSET', stats, 'chunks', chunks, 'done', done, 'input_tokens', usage[1], 'cached_tokens', usage[2],
    'output_tokens', usage[3], 'reasoning_tokens', usage[4])
end

local function chunkstats_add_chunk(stats)
  if redis.call('EXISTS', stats) == 1 then redis.call('HINCRBY', stats, 'chunks', 1) end
end

-- The cost ledger: the same usage per provider the chunk ran at, in fields 'p:{provider}:{what}' (provider '' = the
-- default provider of the Provider section), with the requests that provider answered ('completed') or failed finally
-- ('failed'). A few fields per provider of the job, whatever its size (C# ChunkStatsFields.Ledger*).
local function chunkstats_ledger_add(stats, provider, what, n)
  if n ~= 0 then redis.call('HINCRBY', stats, 'p:' .. provider .. ':' .. what, n) end
end

-- Adds (sign 1) or takes back (sign -1) a done chunk's usage {input, cached, output, reasoning}, in the job's totals and
-- in the ledger of the provider it ran at. Zeros are skipped: Lua's -0 is no integer to HINCRBY.
local function chunkstats_add_usage(stats, usage, sign, provider)
  if redis.call('EXISTS', stats) == 0 then return end
  if usage[1] ~= 0 then redis.call('HINCRBY', stats, 'input_tokens', sign * usage[1]) end
  if usage[2] ~= 0 then redis.call('HINCRBY', stats, 'cached_tokens', sign * usage[2]) end
  if usage[3] ~= 0 then redis.call('HINCRBY', stats, 'output_tokens', sign * usage[3]) end
  if usage[4] ~= 0 then redis.call('HINCRBY', stats, 'reasoning_tokens', sign * usage[4]) end
  chunkstats_ledger_add(stats, provider, 'input_tokens', sign * usage[1])
  chunkstats_ledger_add(stats, provider, 'cached_tokens', sign * usage[2])
  chunkstats_ledger_add(stats, provider, 'output_tokens', sign * usage[3])
  chunkstats_ledger_add(stats, provider, 'reasoning_tokens', sign * usage[4])
end

-- One more chunk has its results stored, with its usage and the requests it ended {completed, failed}, at provider.
local function chunkstats_add_done(stats, usage, provider, ended)
  if redis.call('EXISTS', stats) == 0 then return end
  redis.call('HINCRBY', stats, 'done', 1)
  chunkstats_add_usage(stats, usage, 1, provider)
  chunkstats_ledger_add(stats, provider, 'completed', ended[1])
  chunkstats_ledger_add(stats, provider, 'failed', ended[2])
end
