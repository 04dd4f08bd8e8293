-- Makes a written file visible in one step, once its blobs are committed: checks the tenant's storage quota, writes
-- the file's hash (with its list position and its parts), lists it for its tenant and, when it expires, for the
-- expired-file sweeper, counts it in the tenant's usage, and takes its blob prefix off ba:blobs:delete. Before this
-- nothing names the file; a refused file changes nothing.
-- KEYS: 1 the file hash, 2 ba:seq, 3 the tenant's file list, 4 ba:files:expiring, 5 ba:blobs:delete,
--       6 the tenant's usage
-- ARGV: 1 file id, 2 its blob prefix, 3 bytes, 4 max stored bytes (-1 none), 5 max files (-1 none),
--       6.. field, value, ...
-- Returns: {'ok', seq} or {'over', the QuotaLimit passed, what the tenant uses of it}
--#include lib/file.lua
--#include lib/tenant.lua
local limit, used = tenant_add_file(KEYS[6], ARGV[3], ARGV[4], ARGV[5])
if limit then return {'over', limit, used} end
local seq = redis.call('INCR', KEYS[2])
file_create(KEYS[1], seq, {unpack(ARGV, 6)})
redis.call('ZADD', KEYS[3], seq, ARGV[1])
local expires_at = redis.call('HGET', KEYS[1], 'expires_at')
if expires_at then redis.call('ZADD', KEYS[4], expires_at, ARGV[1]) end
redis.call('ZREM', KEYS[5], ARGV[2])
return {'ok', seq}
