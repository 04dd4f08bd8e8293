#!/usr/bin/env bash
# Starts the whole BatchAspire system: Redis, RabbitMQ, the Sandbox provider, intake, submitter,
# pollers and results, orchestrated by the Aspire AppHost. Ctrl+C (or SIGTERM) stops everything.
# Extra arguments go to the AppHost, e.g. --Parameters:poller-replicas=4
set -euo pipefail
cd "$(dirname "$0")/.."

# Azurite is installed only for a run that keeps its blobs in it.
prerequisites=()
[[ " $* " =~ [[:space:]]--?Blobs(:|__)Provider(=|[[:space:]]+)azure[[:space:]] ]] && prerequisites+=(--azurite)
scripts/prerequisites.sh "${prerequisites[@]}"
dotnet build BatchAspire.AppHost -c Release -v quiet -nologo

cat <<BANNER

  BatchAspire is starting.
    Dashboard        http://localhost:18888
    Intake base URL  http://localhost:5180/v1      (OpenAI SDKs: OPENAI_BASE_URL=http://localhost:5180/v1)
    Development key  ba-dev-key                    (OPENAI_API_KEY=ba-dev-key)

BANNER

exec dotnet run --no-build -c Release --project BatchAspire.AppHost --launch-profile http -- "$@"
