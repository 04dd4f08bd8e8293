#!/usr/bin/env bash
# Soak mode of the reliability suite (docs/reliability.md): the same scenarios as CI, with N rounds of random
# kills instead of one (each round: two jobs, three services SIGKILLed at random moments and restarted).
#
#   scripts/soak.sh              # 10 rounds, whole suite
#   scripts/soak.sh 50           # 50 rounds
#   scripts/soak.sh 50 --random  # only the random-kill rounds
#   BATCHASPIRE_SOAK_SEED=1234 scripts/soak.sh 5   # replay a kill sequence (the seed is printed in the test output)
#
# Loopback only; every wait is bounded. Prints the figures (runs, kills, restarts, requests, lost, doubled) at the end
# and leaves them, with every service's console output, next to the test assembly.
set -uo pipefail
cd "$(dirname "$0")/.."

rounds=${1:-${BATCHASPIRE_SOAK_ITERATIONS:-10}}
filter=()
[[ "${2:-}" == "--random" ]] && filter=(--filter-class '*RandomKillTests')

scripts/prerequisites.sh || exit 1
dotnet build tests/BatchAspire.Reliability.Tests -v quiet -nologo || exit 1

report=${BATCHASPIRE_RELIABILITY_REPORT:-$(pwd)/artifacts/reliability-soak-$(date -u +%Y%m%d-%H%M%S).json}
mkdir -p "$(dirname "$report")"
export BATCHASPIRE_SOAK_ITERATIONS=$rounds BATCHASPIRE_RELIABILITY_REPORT=$report
echo "Soak: $rounds round(s) of random kills; figures go to $report"

dotnet test --project tests/BatchAspire.Reliability.Tests --no-build -- "${filter[@]}"
status=$?

if [[ -f "$report" ]]; then
  echo
  echo "=== figures ($report)"
  cat "$report"
fi
exit $status
