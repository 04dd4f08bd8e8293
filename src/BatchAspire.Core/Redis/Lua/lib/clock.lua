-- Redis server time in unix ms. Scripts read the clock here, not from their caller, so services whose clocks are
-- skewed still agree on leases and due times.
local function now_ms()
  local clock = redis.call('TIME')
  return tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
end
