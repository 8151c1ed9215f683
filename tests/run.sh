#!/usr/bin/env bash
# The one test command (README, "Tests"; CI runs it too): installs what the tests need when it is missing
# (.ci/install.sh: apt clang, zlib1g-dev, curl, npm, promtool, redis-server, postgresql; npm s3rver and Azurite), then runs every test project.
# Extra arguments go to dotnet test, e.g.: bash tests/run.sh --filter "FullyQualifiedName~RequestLog"
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
bash .ci/install.sh
echo "== dotnet test Proxy.sln -c Release $*"
exec dotnet test Proxy.sln -c Release "$@"
