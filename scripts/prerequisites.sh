#!/usr/bin/env bash
# Installs what BatchAspire needs on a fresh Debian machine, only where it is missing:
# redis-server and rabbitmq-server (run by the AppHost as local processes when no container
# runtime answers) and, with --tests, Node.js + npm for the official `openai` npm SDK tests.
set -euo pipefail

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
[[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]] || missing+=(rabbitmq-server)
# Node may come from elsewhere than Debian (with npm bundled); only install what is absent.
if [[ "${1:-}" == "--tests" ]]; then
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
fi

if ((${#missing[@]})); then
  echo "Installing: ${missing[*]}"
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  # The packages' own services are not wanted: the AppHost starts its own servers per run.
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v dotnet >/dev/null || { echo "The .NET 10 SDK is required (dotnet was not found on PATH)." >&2; exit 1; }
