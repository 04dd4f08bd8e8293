-- Forgets one of a tenant's files and lists its blob prefixes for deletion in the same step, so a crash before the
-- blobs are deleted leaves them to the sweep, never behind; stops counting it in the tenant's usage.
-- KEYS: 1 the file hash, 2 the tenant's file list, 3 ba:files:expiring, 4 ba:blobs:delete, 5 the tenant's usage
-- ARGV: 1 tenant, 2 file id, 3 now (unix ms: the prefixes are due at once)
-- Returns: the file's parts (LinePart text), or false when the file is unknown or another tenant's
--#include lib/file.lua
--#include lib/tenant.lua
if redis.call('HGET', KEYS[1], 'tenant') ~= ARGV[1] then return false end
local parts = redis.call('HGET', KEYS[1], 'parts') or ''
for part in string.gmatch(parts, '([^ ;]+) [^;]*') do redis.call('ZADD', KEYS[4], ARGV[3], part) end
local bytes = redis.call('HGET', KEYS[1], 'bytes') or '0'
file_forget(KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[2])
tenant_remove_file(KEYS[5], bytes)
return parts
