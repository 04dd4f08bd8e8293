-- Marks a chunk's results stored, once: records its line usage and the result runs of the pass that completed it
-- (off the blob sweep's list), counts it done, creates its successor when one carries requests on (a retry, or a
-- capacity re-send due later in the delayed chunks), appends it to the job's partial output (its final lines can be
-- read now), takes it off the finished chunks waiting for their results, and lists its provider files for deletion
-- if asked.
-- KEYS: 1 the chunk hash, 2 the chunk list, 3 ba:chunks:delayed, 4 ba:provider:files:delete, 5 ba:blobs:delete,
--       6 the job's chunk counters, 7 the partial output list, 8 ba:chunks:finished, 9 the chunk hash of the successor
--       (passed only with one; its number is ARGV[6]), 10 the successor's line indexes (likewise)
-- ARGV: 1 job id, 2 successor kind ('retry' | 'capacity' | ''), 3 successor attempt, 4 successor's packed line indexes,
--       5 successor's line count, 6 the successor's number (the chunk list's length the caller read), 7 capacity delay
--       (ms), 8 chunk id, 9..12 line usage (input, cached, output, reasoning tokens), 13 output run, 14 error run ('' =
--       none), 15 '1' to list the provider files for deletion, 16 output run's blob prefix, 17 error run's blob prefix,
--       18 the provider the successor goes to ('' = placed by the submitter), 19 its try at that provider, 20 requests
--       this chunk ended answered, 21 requests it ended failed (both counted in its provider's ledger)
-- Returns: {'completed', successor id or '', provider file id listed for deletion, ...} |
--          {'done', the successor an earlier call created or ''} | {'moved'} (the chunk list grew: read it again)
--#include lib/clock.lua
--#include lib/chunk.lua
--#include lib/partial.lua
if redis.call('HEXISTS', KEYS[1], 'results_done') == 1 then
  redis.call('ZREM', KEYS[8], ARGV[8])
  return {'done', redis.call('HGET', KEYS[1], 'successor') or ''}
end
local now = now_ms()
local successor = ''
if ARGV[2] ~= '' then
  if redis.call('LLEN', KEYS[2]) ~= tonumber(ARGV[6]) then return {'moved'} end
  successor = ARGV[1] .. '.' .. ARGV[6]
  local provider = ARGV[18] ~= '' and ARGV[18]
  chunk_create(KEYS[9], KEYS[2], KEYS[6], successor, 'list', false, ARGV[5], ARGV[3], ARGV[8], KEYS[10], ARGV[4], provider,
    ARGV[19])
  if ARGV[2] == 'capacity' then redis.call('ZADD', KEYS[3], now + tonumber(ARGV[7]), successor) end
end
chunk_results_done(KEYS[1], KEYS[6], now, {ARGV[9], ARGV[10], ARGV[11], ARGV[12]}, successor, ARGV[13], ARGV[14],
  {tonumber(ARGV[20]) or 0, tonumber(ARGV[21]) or 0})
partial_append(KEYS[7], ARGV[8])
-- Its results are stored: nothing needs to announce its end again.
redis.call('ZREM', KEYS[8], ARGV[8])
-- The pass that completes the chunk keeps its result runs: recorded, and no longer listed for the sweep.
if ARGV[16] ~= '' then redis.call('ZREM', KEYS[5], ARGV[16]) end
if ARGV[17] ~= '' then redis.call('ZREM', KEYS[5], ARGV[17]) end
-- Nothing reads the chunk's files at the provider again (a retry is a new chunk with a new upload): they are listed
-- for deletion in this same step, so a crash right after it cannot leave them there.
local reply = {'completed', successor}
if ARGV[15] == '1' then
  local files = redis.call('HMGET', KEYS[1], 'provider_file_id', 'provider_output_file_id', 'provider_error_file_id')
  for i = 1, 3 do
    local id = files[i]
    if id and id ~= '' then
      redis.call('ZADD', KEYS[4], now, id)
      reply[#reply + 1] = id
    end
  end
end
return reply
