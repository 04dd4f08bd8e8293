-- Writes to a job's partial output (ba:{jobId}:partial, a list): the ids of its chunks in the order their final lines
-- were stored, then 'end' once the job has ended. Append-only, so an index into it is a client's resume cursor
-- (docs/webhooks.md, "Partial results"); nothing is appended after 'end'.

-- A chunk's results were stored: its final lines (those no successor carries on) can be read.
local function partial_append(list, chunk_id)
  if redis.call('LINDEX', list, -1) == 'end' then return end
  redis.call('RPUSH', list, chunk_id)
end

-- The job ended: whatever its files hold beyond the chunks listed is read from them.
local function partial_end(list)
  if redis.call('LINDEX', list, -1) == 'end' then return end
  redis.call('RPUSH', list, 'end')
end
