#!/usr/bin/env bash
# Runs every benchmark in bench/, each printing its figures beside a baseline measured in the same
# run. `scripts/bench.sh --short` runs small sizes (what CI runs); without it, the full sizes that
# docs/performance.md reports. Loopback only; every benchmark bounds its own time.
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/prerequisites.sh || exit 1
status=0
for project in bench/*/; do
  name=$(basename "$project")
  echo "=== $name ==="
  dotnet run -c Release --project "$project" -- "$@" || { echo "!!! $name failed"; status=1; }
  echo
done
exit $status
