-- The job's status rules as scripts need them (the C# side is JobStatus; a test checks that the two agree).
local function is_terminal(status)
  return status == 'completed' or status == 'failed' or status == 'expired' or status == 'cancelled'
end

-- Past the point where anything new may be submitted: cancelling, ended, or marked expiring (expiring_at set).
local function is_stopping(status, expiring_at)
  return status == 'cancelling' or is_terminal(status) or (expiring_at ~= false and expiring_at ~= nil)
end
