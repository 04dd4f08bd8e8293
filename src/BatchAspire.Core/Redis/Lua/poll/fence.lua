-- Fences a chunk just claimed from the poll schedule (due/claim.lua) with a fresh token, which every later write for
-- it checks. Only while the claim's lease is still the chunk's score: a claimer that stalled past its lease, after
-- another took the chunk, gets nothing. A chunk whose hash is gone (its job's keys expired) leaves the schedule.
-- KEYS: 1 the chunk hash, 2 the job hash, 3 ba:poll:fence, 4 ba:poll:due
-- ARGV: 1 chunk id, 2 the claim's lease expiry (unix ms)
-- Returns: false (not this claimer's, or dropped) | {fence, provider batch id, status, poll interval (ms), provider
--          completed, provider failed, last polled (unix ms), job traceparent, submitted (unix ms), routed provider}
--          (a field not set is false)
--#include lib/chunk.lua
if tonumber(redis.call('ZSCORE', KEYS[4], ARGV[1])) ~= tonumber(ARGV[2]) then return false end
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[4], ARGV[1])
  return false
end
local fence = redis.call('INCR', KEYS[3])
chunk_fence(KEYS[1], fence)
local c = redis.call('HMGET', KEYS[1], 'provider_batch_id', 'status', 'poll_interval_ms', 'provider_completed',
  'provider_failed', 'polled_at_ms', 'submitted_at_ms', 'provider')
return {fence, c[1], c[2], c[3], c[4], c[5], c[6], redis.call('HGET', KEYS[2], 'traceparent'), c[7], c[8]}
