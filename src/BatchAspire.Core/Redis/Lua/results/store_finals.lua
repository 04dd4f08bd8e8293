-- Stores final results with HSETNX semantics: a line that has its final result keeps it, and its failure bit is set
-- only together with the result that won.
-- KEYS: 1 the results hash, 2 the failure bitmap
-- ARGV: for each result three values: line index, '1' if a failure else '0', the result line
-- Returns: how many results were new
local stored = 0
for i = 1, #ARGV, 3 do
  if redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 2]) == 1 then
    stored = stored + 1
    if ARGV[i + 1] == '1' then redis.call('SETBIT', KEYS[2], ARGV[i], 1) end
  end
end
return stored
