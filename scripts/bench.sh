#!/usr/bin/env bash
# Runs every benchmark in bench/, each printing its figures beside a baseline measured in the same
# run, then gathers their headline figures into one table. `scripts/bench.sh --short` runs small
# sizes (what CI runs); without it, the full sizes that docs/performance.md reports. Loopback only;
# every benchmark bounds its own time. Other arguments go to every benchmark.
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/prerequisites.sh || exit 1
figures=$(mktemp) output=$(mktemp)
trap 'rm -f "$figures" "$output"' EXIT
status=0
for project in bench/*/; do
  name=$(basename "$project")
  [[ -f "$project/$name.csproj" ]] || continue
  echo "=== $name ==="
  started=$SECONDS
  dotnet run -c Release --project "$project" -- "$@" | tee "$output"
  [[ ${PIPESTATUS[0]} -eq 0 ]] || { echo "!!! $name failed"; status=1; }
  grep -a '^bench-figure' "$output" >>"$figures"
  echo "($name took $((SECONDS - started)) s)"
  echo
done

echo "=== Figures (load average now: $(cut -d' ' -f1-3 /proc/loadavg)) ==="
echo "| benchmark | figure | BatchAspire | baseline (same run) | ratio | goal | |"
echo "| --- | --- | ---: | ---: | ---: | --- | --- |"
sort -s -t$'\t' -k2,2 "$figures" | awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s | %s |\n", $2, $3, $4, $5, $6, $7, $8}'
exit $status
