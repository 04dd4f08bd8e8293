-- Writes to chunk hashes (ba:{jobId}:chunk:{n}, its :lines): scripts change a chunk only through these functions, one
-- per transition; chunk_create is the one way a chunk is made. What a chunk changes in its job's chunk counters is
-- counted here too, through lib/chunkstats.lua, in the same step.
--#include lib/chunkstats.lua

-- Creates a chunk: a range (first, count) or a list (count, its packed line indexes at lines_key), attempt and parent
-- (the chunk it carries on, or false), and for a retry of a routed model the provider it goes to and its try there
-- (or false: the submitter places it); appends it to the job's chunk list and counts it.
local function chunk_create(key, list, stats, id, kind, first, count, attempt, parent, lines_key, packed_lines, provider,
                            provider_try)
  redis.call('HSET', key, 'kind', kind, 'count', count, 'attempt', attempt)
  if first then redis.call('HSET', key, 'first', first) end
  if parent then redis.call('HSET', key, 'parent', parent) end
  if provider then redis.call('HSET', key, 'provider', provider, 'provider_try', provider_try) end
  if lines_key then redis.call('SET', lines_key, packed_lines) end
  redis.call('RPUSH', list, id)
  chunkstats_add_chunk(stats)
end

-- A submitter takes (or renews) the submit lease until until_ms.
local function chunk_lease(key, token, until_ms)
  redis.call('HSET', key, 'submit_lease', token, 'submit_lease_until_ms', until_ms)
end

local function chunk_release_lease(key)
  redis.call('HDEL', key, 'submit_lease', 'submit_lease_until_ms')
end

-- The point of no return before a provider create: the uploaded file (or '' where the create carries the lines), the
-- routed provider it went to (or '': the default provider; kept from the first create, which pins the chunk to it),
-- and when the first create started (kept).
local function chunk_begin_create(key, provider_file_id, now, provider)
  redis.call('HSET', key, 'provider_file_id', provider_file_id)
  if provider ~= '' then redis.call('HSETNX', key, 'provider', provider) end
  redis.call('HSETNX', key, 'create_started_at_ms', now)
end

-- The provider batch is recorded once; the lease and the refusal streak end with it.
local function chunk_submitted(key, provider_batch_id, provider_file_id, provider_status, now)
  redis.call('HSET', key, 'provider_batch_id', provider_batch_id, 'provider_file_id', provider_file_id,
    'status', provider_status, 'submitted_at_ms', now)
  redis.call('HDEL', key, 'submit_lease', 'submit_lease_until_ms', 'refusals')
end

-- Closed without a provider batch (it will never get one).
local function chunk_close(key, reason, status)
  redis.call('HSET', key, 'closed', 1, 'close_reason', reason, 'status', status)
  redis.call('HDEL', key, 'submit_lease', 'submit_lease_until_ms')
end

-- One more capacity refusal in a row; returns how many.
local function chunk_count_refusal(key)
  return redis.call('HINCRBY', key, 'refusals', 1)
end

-- A poller's claim: the token every later poll write checks.
local function chunk_fence(key, fence)
  redis.call('HSET', key, 'fence', fence)
end

-- The provider the chunk ran at, as the ledger names it ('' = the default provider).
local function chunk_provider(key)
  return redis.call('HGET', key, 'provider') or ''
end

-- What the chunk adds to its job's usage: the provider's batch usage where it reported one, else the sum over its lines.
local function chunk_usage(key)
  local u = redis.call('HMGET', key, 'usage_input_tokens', 'usage_cached_tokens', 'usage_output_tokens',
    'usage_reasoning_tokens', 'line_input_tokens', 'line_cached_tokens', 'line_output_tokens', 'line_reasoning_tokens')
  local at = u[1] and 0 or 4
  return { tonumber(u[at + 1]) or 0, tonumber(u[at + 2]) or 0, tonumber(u[at + 3]) or 0, tonumber(u[at + 4]) or 0 }
end

-- A poll's answer (p: status, total, completed, failed, interval_ms, and when reported usage {input, cached, output,
-- reasoning, total}, output_file_id, error_file_id, errors). A chunk whose results are stored already counts in its
-- job's usage: the counters follow a usage reported after that.
local function chunk_polled(key, stats, p, now)
  local counted = redis.call('HEXISTS', key, 'results_done') == 1
  local before = counted and chunk_usage(key)
  local previous = redis.call('HGET', key, 'status')
  redis.call('HSET', key, 'status', p.status, 'provider_total', p.total, 'provider_completed', p.completed,
    'provider_failed', p.failed, 'poll_interval_ms', p.interval_ms, 'polled_at_ms', now, 'poll_errors', 0)
  if previous ~= p.status then redis.call('HSET', key, 'status_changed_at_ms', now) end
  if p.usage then
    redis.call('HSET', key, 'usage_input_tokens', p.usage[1], 'usage_cached_tokens', p.usage[2],
      'usage_output_tokens', p.usage[3], 'usage_reasoning_tokens', p.usage[4], 'usage_total_tokens', p.usage[5])
  end
  if p.output_file_id ~= '' then redis.call('HSET', key, 'provider_output_file_id', p.output_file_id) end
  if p.error_file_id ~= '' then redis.call('HSET', key, 'provider_error_file_id', p.error_file_id) end
  if p.errors ~= '' then redis.call('HSET', key, 'provider_errors', p.errors) end
  if counted then
    chunkstats_add_usage(stats, before, -1, chunk_provider(key))
    chunkstats_add_usage(stats, chunk_usage(key), 1, chunk_provider(key))
  end
end

-- One more failed poll in a row; returns how many.
local function chunk_count_poll_error(key)
  return redis.call('HINCRBY', key, 'poll_errors', 1)
end

local function chunk_poll_done(key, now)
  redis.call('HSET', key, 'poll_done_at_ms', now)
end

-- The chunk's results are stored (once: the caller checks results_done): the usage counted from its lines, the
-- successor carrying its requests on (or ''), the result runs of the pass that completed it (or ''); counted done, with
-- the requests it ended {completed, failed} in its provider's ledger.
local function chunk_results_done(key, stats, now, line_usage, successor, output_run, error_run, ended)
  if successor ~= '' then redis.call('HSET', key, 'successor', successor) end
  redis.call('HSET', key, 'results_done', now, 'line_input_tokens', line_usage[1], 'line_cached_tokens', line_usage[2],
    'line_output_tokens', line_usage[3], 'line_reasoning_tokens', line_usage[4])
  if output_run ~= '' then redis.call('HSET', key, 'output_run', output_run) end
  if error_run ~= '' then redis.call('HSET', key, 'error_run', error_run) end
  chunkstats_add_done(stats, chunk_usage(key), chunk_provider(key), ended)
end
