-- Claims due members of a sorted set scored by when each is due (unix ms), with a lease: a claimed member's score
-- moves to now + lease, so no other claimer sees it until the lease lapses; then it is due again unless its holder
-- rescheduled or removed it. The one lease claim of BatchAspire (DueSet): poll schedule, delayed chunks, stranded
-- jobs, deletions, finished chunks whose results show no life.
-- KEYS: 1 the due set
-- ARGV: 1 max members, 2 lease (ms), 3 now (unix ms; '' = Redis TIME), 4 claim members due at or before (unix ms;
--       '' = now), 5 and only those due that much earlier still (ms; '' = 0): in a set scored by when each member last
--       showed life, the members quiet that long
-- Returns: {now, the earliest due time left in the set or false, member, its due time, member, its due time, ...}
--#include lib/clock.lua
local now = ARGV[3] ~= '' and tonumber(ARGV[3]) or now_ms()
local due_before = (ARGV[4] ~= '' and tonumber(ARGV[4]) or now) - (ARGV[5] and ARGV[5] ~= '' and tonumber(ARGV[5]) or 0)
local lease_until = now + tonumber(ARGV[2])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', due_before, 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[1]))
local reply = {now, false}
for i = 1, #due, 2 do
  redis.call('ZADD', KEYS[1], 'XX', lease_until, due[i])
  reply[#reply + 1] = due[i]
  reply[#reply + 1] = due[i + 1]
end
local head = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if head[2] then reply[2] = head[2] end
return reply
