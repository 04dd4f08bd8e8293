-- After a claim of a waiting set (ba:jobs:validating, ba:jobs:cancelling, through DueSet): keeps the job in the set
-- while it still has the status the set waits on, and drops it otherwise (it moved on, or is gone).
-- KEYS: 1 the waiting set, 2 the job hash
-- ARGV: 1 job id, 2 the status the set waits on
-- Returns: 1 when the job still waits, 0 when it was dropped
if redis.call('HGET', KEYS[2], 'status') == ARGV[2] then return 1 end
redis.call('ZREM', KEYS[1], ARGV[1])
return 0
