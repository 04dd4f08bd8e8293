-- Writes to the job hash (ba:{jobId}:job): scripts change a job only through these functions, and its status only
-- through job_move, whose table below is the one place that says which status may follow which.
--#include lib/job_status.lua

-- Status → the statuses it may move to. A job that is cancelling can still end completed or expired: its last
-- chunk's results may land before the cancel reaches them.
local job_moves = {
  validating = { in_progress = true, finalizing = true, cancelling = true, failed = true, completed = true, expired = true, cancelled = true },
  in_progress = { finalizing = true, cancelling = true, completed = true, expired = true, cancelled = true },
  finalizing = { cancelling = true, completed = true, expired = true, cancelled = true },
  cancelling = { completed = true, expired = true, cancelled = true },
}

-- Moves the job at `key` to status `to` if its status allows it, stamping `<to>_at` (unix seconds) once.
-- Returns the status it had (false when the job is gone) and whether it moved.
local function job_move(key, to, now_s)
  local from = redis.call('HGET', key, 'status')
  if not from then return false, false end
  local allowed = job_moves[from]
  if not allowed or not allowed[to] then return from, false end
  redis.call('HSET', key, 'status', to)
  redis.call('HSETNX', key, to .. '_at', now_s)
  return from, true
end

-- Sets a timestamp field (unix seconds) unless it is set already.
local function job_stamp(key, field, now_s)
  redis.call('HSETNX', key, field, now_s)
end

-- Adds to the live request_completed count of a job that has not ended (once it has, results owns the counts).
local function job_add_completed(key, delta)
  if delta == 0 then return end
  local status = redis.call('HGET', key, 'status')
  if status and not is_terminal(status) then redis.call('HINCRBY', key, 'request_completed', delta) end
end

-- Sets request_total when the job is planned, unless the intake set it at creation.
local function job_set_total_once(key, total)
  redis.call('HSETNX', key, 'request_total', total)
end

-- The statuses a job starts in: validating when the intake accepts it, failed when its input file fails the checks.
local job_starts = { validating = true, failed = true }

-- Creates the job hash at `key` with its sequence number, first status (one of job_starts) and `fields` (a flat
-- list: name, value, ...). Every later status comes through job_move.
local function job_create(key, seq, status, fields)
  if not job_starts[status] then error('a job cannot start ' .. tostring(status)) end
  redis.call('HSET', key, 'seq', seq, 'status', status, unpack(fields))
end

-- The outcome an ended job keeps (o: completed, failed, usage {input, cached, output, reasoning}, output_file_id and
-- error_file_id ('' = none), cost_batch and cost_standard ('' = no price), cost_providers (the per-provider ledger,
-- JSON, '' = none)), written when it ends.
local function job_record_outcome(key, o, now_s)
  redis.call('HSET', key, 'request_completed', o.completed, 'request_failed', o.failed,
    'usage_input_tokens', o.usage[1], 'usage_cached_tokens', o.usage[2], 'usage_output_tokens', o.usage[3],
    'usage_reasoning_tokens', o.usage[4])
  redis.call('HSETNX', key, 'finalizing_at', now_s)
  if o.output_file_id ~= '' then redis.call('HSET', key, 'output_file_id', o.output_file_id) end
  if o.error_file_id ~= '' then redis.call('HSET', key, 'error_file_id', o.error_file_id) end
  if o.cost_batch ~= '' then redis.call('HSET', key, 'cost_batch_usd', o.cost_batch, 'cost_standard_usd', o.cost_standard) end
  if o.cost_providers and o.cost_providers ~= '' then redis.call('HSET', key, 'cost_providers', o.cost_providers) end
end
