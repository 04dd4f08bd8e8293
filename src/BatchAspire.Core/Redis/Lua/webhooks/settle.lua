-- Settles one delivery round of a job's webhook event: marks the endpoints that took it this round, then forgets the
-- event (every endpoint has it), makes it due again later (a retry), or dead-letters it (the last round). An event
-- already settled by another dispatcher (one whose lease lapsed while this one still worked) is left as it is.
-- KEYS: 1 the webhook event, 2 ba:webhooks:due, 3 ba:webhooks:dead
-- ARGV: 1 job id, 2 outcome ('done', 'retry' or 'dead'), 3 for a retry its due time (unix ms), for a dead letter how
--       long it is kept (ms), 4.. the urls of the endpoints that took the event this round
-- Returns: 'settled' | 'missing'
--#include lib/clock.lua
--#include lib/webhook_event.lua
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 'missing'
end
for i = 4, #ARGV do webhook_event_delivered_to(KEYS[1], ARGV[i]) end
if ARGV[2] == 'done' then
  webhook_event_forget(KEYS[1], KEYS[2], ARGV[1])
elseif ARGV[2] == 'retry' then
  webhook_event_retry(KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[3]))
else
  webhook_event_dead(KEYS[1], KEYS[2], KEYS[3], ARGV[1], now_ms(), tonumber(ARGV[3]))
end
return 'settled'
