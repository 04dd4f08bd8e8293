-- Writes to a tenant's usage counters (ba:tenant:{tenant}:usage, C# TenantUsage): scripts change them only through
-- these functions, in the same step as the file or job they count, so the counters never drift from the records.
-- A limit argument is -1 for none; a limit passed names the QuotaLimit it is (the C# enum member).

-- What the tenant uses of `field` when adding `add` would pass `max`, else false.
local function tenant_over(key, field, add, max)
  max = tonumber(max)
  local used = tonumber(redis.call('HGET', key, field) or '0')
  if max >= 0 and used + tonumber(add) > max then return used end
  return false
end

-- Counts a stored file of `bytes` with no limit: a file the pipeline writes for a batch it admitted already.
local function tenant_count_file(key, bytes)
  redis.call('HINCRBY', key, 'bytes', bytes)
  redis.call('HINCRBY', key, 'files', 1)
end

-- Counts a stored file of `bytes` unless it would pass max_bytes or max_files. Returns false when counted, else the
-- limit passed and what the tenant uses of it.
local function tenant_add_file(key, bytes, max_bytes, max_files)
  local used = tenant_over(key, 'bytes', bytes, max_bytes)
  if used then return 'StoredBytes', used end
  used = tenant_over(key, 'files', 1, max_files)
  if used then return 'Files', used end
  tenant_count_file(key, bytes)
  return false
end

-- Stops counting a deleted file of `bytes`.
local function tenant_remove_file(key, bytes)
  redis.call('HINCRBY', key, 'bytes', -tonumber(bytes))
  redis.call('HINCRBY', key, 'files', -1)
end

-- Counts a new open batch of `requests` requests unless it would pass max_batches or max_requests. Returns false
-- when counted, else the limit passed and what the tenant uses of it.
local function tenant_open_batch(key, requests, max_batches, max_requests)
  local used = tenant_over(key, 'open_batches', 1, max_batches)
  if used then return 'OpenBatches', used end
  used = tenant_over(key, 'pending_requests', requests, max_requests)
  if used then return 'PendingRequests', used end
  redis.call('HINCRBY', key, 'open_batches', 1)
  redis.call('HINCRBY', key, 'pending_requests', requests)
  return false
end

-- Stops counting an ended batch of `requests` requests as open work.
local function tenant_close_batch(key, requests)
  redis.call('HINCRBY', key, 'open_batches', -1)
  redis.call('HINCRBY', key, 'pending_requests', -tonumber(requests))
end
