#!/usr/bin/env bash
# Runs the whole test suite: installs what the tests need, builds, runs every test project
# one after another (several start a whole AppHost: two cores cannot run them side by side),
# and ends with the plain summary line "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/prerequisites.sh --tests || exit 1
if [[ -f tests/sdk/package-lock.json ]]; then
  npm ci --prefix tests/sdk --no-audit --no-fund --loglevel=error || exit 1
fi

dotnet build BatchAspire.sln -v quiet -nologo || exit 1

log=$(mktemp)
dotnet test --solution BatchAspire.sln --no-build --max-parallel-test-modules 1 "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# The benchmarks' short mode runs too, so they cannot rot: it fails on an error (a request left unanswered, a
# double poll, a crash), not on a goal missed on a shared machine. BATCHASPIRE_SKIP_BENCH=1 leaves it out.
bench_status=0
if [[ "${BATCHASPIRE_SKIP_BENCH:-0}" != 1 ]]; then
  scripts/bench.sh --short
  bench_status=$?
  ((bench_status == 0)) || echo "Benchmarks (short mode) failed." >&2
fi

# CI shows the end of this output: name each failed test there, with the first lines of its message.
if grep -qE '^ *failed [^:]' "$log"; then
  echo "Failed tests:"
  awk '/^ *failed [^:]/{n=8} n>0{print; n--}' "$log"
fi

# Microsoft.Testing.Platform prints a summary per run; add them up into the one plain line CI reads.
awk '/^ *failed: /{f+=$2} /^ *succeeded: /{p+=$2} /^ *skipped: /{s+=$2} END{printf "%d passed, %d failed, %d skipped\n", p, f, s}' "$log"
rm -f "$log"
((status != 0)) && exit "$status"
exit "$bench_status"
