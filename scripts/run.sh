#!/usr/bin/env bash
# Starts the whole BatchAspire system: Redis, RabbitMQ, the blob store, the Sandbox provider, intake,
# submitter, pollers and results, orchestrated by the Aspire AppHost. Ctrl+C (or SIGTERM) stops everything.
#
# Everything the system keeps (Redis' append-only file, RabbitMQ's node, the blobs, the Sandbox's files and
# batches) lives in one folder that outlives the run, so stopping and starting again loses nothing:
# $BATCHASPIRE_DATA, by default ~/.local/share/batchaspire. `--fresh` starts from a new, empty folder instead.
# Other arguments go to the AppHost, e.g. --Parameters:poller-replicas=4
set -euo pipefail
cd "$(dirname "$0")/.."

data="${BATCHASPIRE_DATA:-${XDG_DATA_HOME:-$HOME/.local/share}/batchaspire}"
args=()
for arg in "$@"; do
  if [[ "$arg" == --fresh ]]; then data=$(mktemp -d -t batchaspire-XXXXXX); else args+=("$arg"); fi
done
mkdir -p "$data"

# Azurite is installed only for a run that keeps its blobs in it.
prerequisites=()
[[ " ${args[*]} " =~ [[:space:]]--?Blobs(:|__)Provider(=|[[:space:]]+)azure[[:space:]] ]] && prerequisites+=(--azurite)
scripts/prerequisites.sh "${prerequisites[@]}"
dotnet build BatchAspire.AppHost -c Release -v quiet -nologo

cat <<BANNER

  BatchAspire is starting.
    Dashboard        http://localhost:18888
    Intake base URL  http://localhost:5180/v1      (OpenAI SDKs: OPENAI_BASE_URL=http://localhost:5180/v1)
    Development key  ba-dev-key                    (OPENAI_API_KEY=ba-dev-key)
    Data folder      $data

BANNER

# The data folder comes first, so an explicit --Infra:DataDirectory=... among the arguments wins.
exec dotnet run --no-build -c Release --project BatchAspire.AppHost --launch-profile http -- "--Infra:DataDirectory=$data" "${args[@]}"
