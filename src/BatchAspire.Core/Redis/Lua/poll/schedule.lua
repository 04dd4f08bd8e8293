-- Schedules a chunk's first poll. A chunk already scheduled or leased keeps its due time and lease, and a chunk whose
-- polling finished is not scheduled again.
-- KEYS: 1 the chunk hash, 2 ba:poll:due
-- ARGV: 1 chunk id, 2 due (unix ms)
-- Returns: 1 added, 0 not
if redis.call('HEXISTS', KEYS[1], 'poll_done_at_ms') == 1 then return 0 end
return redis.call('ZADD', KEYS[2], 'NX', ARGV[2], ARGV[1])
