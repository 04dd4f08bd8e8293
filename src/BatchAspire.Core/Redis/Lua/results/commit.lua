-- Ends a job, if nobody ended it first: creates its output and error files from the assembled parts, moves the job to
-- its terminal status with its outcome (counts, usage, cost, file ids), records its webhook event (due at once), takes
-- it out of the open jobs, ends its partial output, lists the runs no file took for deletion and takes the files'
-- staged parts off that list; the results hash and failure bitmap expire a while later (a straggling pass may still
-- write to them).
-- KEYS: 1 the job hash, 2 ba:jobs:open, 3 ba:seq, 4 the tenant's file list, 5 ba:files:expiring, 6 ba:blobs:delete,
--       7 the results hash, 8 the failure bitmap, 9 the tenant's usage, 10 the file hash of the output file, 11 the
--       file hash of the error file, 12 the webhook event, 13 ba:webhooks:due, 14 the partial output list
-- ARGV: 1 job id, 2 terminal status, 3 request_completed, 4 request_failed, 5..8 usage (input, cached, output,
--       reasoning tokens), 9 cost in batch USD ('' = no price), 10 cost in standard USD, 11 tenant, 12 how long the
--       results hash and bitmap stay (s), 13..20 output file: id ('' = no file), lines, bytes, parts, segments,
--       filename, purpose, expires_at ('' = never), 21..28 error file likewise, 29 the cost ledger per provider (JSON;
--       '' = none), 30 number of unused run prefixes U, 31..30+U those prefixes, then the staged part prefixes
-- Returns: {'won', status} | {'lost', the status the job had} | {'missing', ''}
--#include lib/clock.lua
--#include lib/job.lua
--#include lib/file.lua
--#include lib/tenant.lua
--#include lib/webhook_event.lua
--#include lib/partial.lua
local now = now_ms()
local seconds = math.floor(now / 1000)
local from, moved = job_move(KEYS[1], ARGV[2], seconds)
if not from then return {'missing', ''} end
if not moved then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return {'lost', from}
end

local file_ids = {}
for f = 1, 2 do
  local at = 13 + (f - 1) * 8
  local hash = KEYS[9 + f]
  local id = ARGV[at]
  file_ids[f] = id
  if id ~= '' then
    local seq = redis.call('INCR', KEYS[3])
    local fields = {'tenant', ARGV[11], 'filename', ARGV[at + 5], 'purpose', ARGV[at + 6], 'bytes', ARGV[at + 2],
      'created_at', seconds, 'lines', ARGV[at + 1], 'segments', ARGV[at + 4], 'parts', ARGV[at + 3]}
    if ARGV[at + 7] ~= '' then
      fields[#fields + 1] = 'expires_at'
      fields[#fields + 1] = ARGV[at + 7]
      redis.call('ZADD', KEYS[5], ARGV[at + 7], id)
    end
    file_create(hash, seq, fields)
    redis.call('ZADD', KEYS[4], seq, id)
    tenant_count_file(KEYS[9], ARGV[at + 2])
  end
end
-- The job's work is no longer open (counted when it was created validating).
tenant_close_batch(KEYS[9], redis.call('HGET', KEYS[1], 'request_total') or '0')

job_record_outcome(KEYS[1], {
  completed = ARGV[3], failed = ARGV[4], usage = {ARGV[5], ARGV[6], ARGV[7], ARGV[8]},
  output_file_id = file_ids[1], error_file_id = file_ids[2], cost_batch = ARGV[9], cost_standard = ARGV[10],
  cost_providers = ARGV[29],
}, seconds)
webhook_event_record(KEYS[12], KEYS[13], KEYS[1], ARGV[1], now)
partial_end(KEYS[14])
redis.call('ZREM', KEYS[2], ARGV[1])

-- Runs no file took are deleted (listed here, so a crash cannot leave them); the staged parts now belong to the files,
-- off the sweep's list. An empty file's staged parts (none) and the runs of both are covered.
local unused = tonumber(ARGV[30])
for i = 31, 30 + unused do redis.call('ZADD', KEYS[6], now, ARGV[i]) end
for i = 31 + unused, #ARGV do redis.call('ZREM', KEYS[6], ARGV[i]) end
redis.call('EXPIRE', KEYS[7], tonumber(ARGV[12]))
redis.call('EXPIRE', KEYS[8], tonumber(ARGV[12]))
return {'won', ARGV[2]}
