#!/usr/bin/env bash
# Installs what BatchAspire needs on a fresh Debian machine, only where it is missing:
# redis-server and rabbitmq-server (run by the AppHost as local processes when no container
# runtime answers), with --tests Node.js + npm for the official `openai` npm SDK tests and Debian's chromium for the
# dashboard's browser tests (Playwright drives it; it downloads no browser of its own), and with
# --azurite (implied by --tests) Azurite, the Azure Blob emulator, into tools/azurite: the AppHost
# runs it when Blobs:Provider is azure and no container runtime answers; the storage tests run it too.
set -euo pipefail
cd "$(dirname "$0")/.."

tests=0 azurite=0
for arg in "$@"; do
  case "$arg" in
    --tests) tests=1 azurite=1 ;;
    --azurite) azurite=1 ;;
    *) echo "Unknown option: $arg (expected --tests, --azurite)" >&2; exit 2 ;;
  esac
done

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
[[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]] || missing+=(rabbitmq-server)
# Node may come from elsewhere than Debian (with npm bundled); only install what is absent.
if ((tests || azurite)); then
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
fi
# tests/BatchAspire.Dashboard.Tests launches exactly this path; the fonts (a recommendation apt skips here) keep the
# screenshots it takes readable.
if ((tests)); then
  [[ -x /usr/bin/chromium ]] || missing+=(chromium)
  # scripts/multihost.sh (and the reliability test that runs it) makes network namespaces, veths and a bridge.
  command -v ip >/dev/null || missing+=(iproute2)
  dpkg -s fonts-liberation >/dev/null 2>&1 || missing+=(fonts-liberation)
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

# npm records each install in node_modules/.package-lock.json: newer than the lock means the locked
# versions are in place, and the ~45 s reinstall is skipped.
if ((azurite)) && [[ ! tools/azurite/node_modules/.package-lock.json -nt tools/azurite/package-lock.json ]]; then
  echo "Installing Azurite into tools/azurite"
  npm ci --prefix tools/azurite --no-audit --no-fund --loglevel=error
fi
