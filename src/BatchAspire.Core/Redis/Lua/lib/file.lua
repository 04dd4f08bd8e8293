-- Writes to the file hash (ba:file:{fileId}): scripts change a file only through these functions (called from C#
-- by FileRecords), so what a file hash may hold and when is said in one place.

-- Creates the file hash at `key` with its sequence number and `fields` (a flat list: name, value, ...).
local function file_create(key, seq, fields)
  redis.call('HSET', key, 'seq', seq, unpack(fields))
end

-- Adds `fields` (name, value, ...) to a file that exists; returns false, writing nothing, when it is gone, so a file
-- deleted meanwhile stays deleted.
local function file_add(key, fields)
  if redis.call('EXISTS', key) == 0 then return false end
  redis.call('HSET', key, unpack(fields))
  return true
end

-- Forgets the file (its blobs are the caller's to list for deletion).
local function file_forget(key)
  redis.call('DEL', key)
end
