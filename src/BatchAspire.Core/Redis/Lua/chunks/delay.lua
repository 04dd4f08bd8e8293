-- Puts a chunk in the delayed chunks, due after a delay; a capacity refusal doubles the delay per refusal in a row,
-- up to a cap.
-- KEYS: 1 the chunk hash, 2 ba:chunks:delayed
-- ARGV: 1 chunk id, 2 delay (ms), 3 longest delay (ms), 4 '1' when this is a capacity refusal
-- Returns: the delay chosen (ms)
--#include lib/clock.lua
--#include lib/chunk.lua
local delay = tonumber(ARGV[2])
if ARGV[4] == '1' then
  local n = chunk_count_refusal(KEYS[1])
  delay = math.min(delay * math.pow(2, math.min(n - 1, 30)), tonumber(ARGV[3]))
end
delay = math.floor(delay)
redis.call('ZADD', KEYS[2], now_ms() + delay, ARGV[1])
return delay
