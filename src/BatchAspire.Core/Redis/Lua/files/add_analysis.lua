-- Stores an uploaded batch file's line analysis on its hash, only while the file exists: one deleted while it was
-- being analysed stays deleted. Two first batches on one file may both analyse it; they store the same fields.
-- KEYS: 1 the file hash
-- ARGV: field, value, ... (FileAnalysis.ToHashEntries)
-- Returns: 0
--#include lib/file.lua
file_add(KEYS[1], ARGV)
return 0
