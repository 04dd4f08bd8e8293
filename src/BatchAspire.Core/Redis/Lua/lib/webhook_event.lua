-- Writes a job's webhook event (ba:{jobId}:event) and its place in ba:webhooks:due and ba:webhooks:dead. A job that
-- ends gets one event, recorded by the script that ends it, so the event is durable in the same step as the status
-- it announces, before any delivery is tried; the dispatcher (results) settles it only through these functions.

-- A terminal status → the type of the event it sends (OpenAI's names).
local webhook_event_types = { completed = 'batch.completed', failed = 'batch.failed', expired = 'batch.expired', cancelled = 'batch.cancelled' }

-- Records the event of job `job_id` (its hash at `job_key`, just moved to a terminal status) at `key`, due at
-- `now_ms` in `due_key`. Once per job: a later call, or a job not terminal, changes nothing. The event id is the
-- job id's random part after 'evt_', the same whoever derives it.
local function webhook_event_record(key, due_key, job_key, job_id, now_ms)
  local job = redis.call('HMGET', job_key, 'status', 'tenant')
  local type = webhook_event_types[job[1]]
  if not type or redis.call('EXISTS', key) == 1 then return end
  local id = 'evt_' .. (string.gsub(job_id, '^batch_', ''))
  redis.call('HSET', key, 'id', id, 'type', type, 'job', job_id, 'tenant', job[2], 'created_at', math.floor(now_ms / 1000),
    'first_at', now_ms, 'attempts', 0)
  redis.call('ZADD', due_key, now_ms, job_id)
end

-- Marks the endpoint `url` as having taken the event (a 2xx), so later rounds skip it.
local function webhook_event_delivered_to(key, url)
  redis.call('HSET', key, 'to ' .. url, 'ok')
end

-- Every endpoint has the event: it is forgotten.
local function webhook_event_forget(key, due_key, job_id)
  redis.call('DEL', key)
  redis.call('ZREM', due_key, job_id)
end

-- A round left endpoints without the event: it is due again at `due_ms`.
local function webhook_event_retry(key, due_key, job_id, due_ms)
  redis.call('HINCRBY', key, 'attempts', 1)
  redis.call('ZADD', due_key, due_ms, job_id)
end

-- The last round failed: the event leaves the due set for `dead_key` (scored by now) and is kept `retention_ms`;
-- older dead letters go.
local function webhook_event_dead(key, due_key, dead_key, job_id, now_ms, retention_ms)
  redis.call('HINCRBY', key, 'attempts', 1)
  redis.call('HSET', key, 'dead_at', now_ms)
  redis.call('PEXPIRE', key, retention_ms)
  redis.call('ZREM', due_key, job_id)
  redis.call('ZADD', dead_key, now_ms, job_id)
  redis.call('ZREMRANGEBYSCORE', dead_key, '-inf', now_ms - retention_ms)
end
