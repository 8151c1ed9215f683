#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks for the tests and the AOT build. Idempotent; tests/run.sh runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
lean=()
command -v clang >/dev/null || need+=(clang)            # the Native AOT link (the image has clang-14 but no 'clang')
[ -e /usr/include/zlib.h ] || need+=(zlib1g-dev)          # linked into the AOT binary
command -v curl >/dev/null || need+=(curl)                # smoke requests
command -v npm >/dev/null || need+=(npm)                  # s3rver and Azurite, the S3 and Azure Blob servers the log sink tests run against
command -v flock >/dev/null || need+=(util-linux)         # the install lock below
command -v redis-server >/dev/null || need+=(redis-server) # the shared limits store's tests run against a real Redis
# The control plane's tests run a real PostgreSQL (tests/Common/PostgresServer.cs). Debian keeps initdb off PATH, under
# /usr/lib/postgresql/N/bin; the package also creates and starts a default cluster, which the tests never use.
command -v initdb >/dev/null || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
# promtool checks and unit-tests deploy/prometheus; the package's recommends (a node exporter) are not needed.
command -v promtool >/dev/null || lean+=(prometheus)
if [ ${#need[@]} -gt 0 ] || [ ${#lean[@]} -gt 0 ]; then
  echo "== apt-get install ${need[*]} ${lean[*]}"
  sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)                       # a developer's machine; CI runs as root
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  if [ ${#need[@]} -gt 0 ]; then "${sudo[@]}" apt-get install -y -qq "${need[@]}" >/dev/null; fi
  if [ ${#lean[@]} -gt 0 ]; then "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${lean[@]}" >/dev/null; fi
fi

# The S3 and Azure sink tests (and the functional tests) install s3rver and Azurite themselves when they are missing
# (tests/Common/NodeServer.cs); doing it here keeps that out of test time. One folder per package, tests/.node/NAME,
# under the same lock file NodeServer takes (flock), so this never installs into a folder a test process is filling.
npm_tool() { # package bin
  local name=${1%@*} dir=tests/.node/${1%@*}
  [ -x "$dir/node_modules/.bin/$2" ] && return 0
  mkdir -p tests/.node
  echo "== npm install $1"
  flock -w 300 "tests/.node/$name.lock" bash -c '
    [ -x "$1/node_modules/.bin/$3" ] && exit 0
    rm -rf "$1"    # what an interrupted install left
    npm install --silent --no-audit --no-fund --prefix "$1" "$2" >/dev/null' _ "$dir" "$1" "$2"
  [ -x "$dir/node_modules/.bin/$2" ] || { echo "npm install $1 did not produce $dir/node_modules/.bin/$2" >&2; exit 1; }
}
npm_tool s3rver@3 s3rver
npm_tool azurite@3 azurite-blob

# The client SDKs the client-API tests drive the gateway with (node scripts under tests/Proxy.Functional.Tests/ClientApis):
# one folder, as NodeServer.FindOrInstallLibraries makes it.
if [ ! -e tests/.node/sdk-clients/node_modules/@anthropic-ai/sdk/package.json ] || [ ! -e tests/.node/sdk-clients/node_modules/openai/package.json ]; then
  mkdir -p tests/.node
  echo "== npm install @anthropic-ai/sdk openai"
  flock -w 300 tests/.node/sdk-clients.lock bash -c '
    [ -e tests/.node/sdk-clients/node_modules/@anthropic-ai/sdk/package.json ] && [ -e tests/.node/sdk-clients/node_modules/openai/package.json ] && exit 0
    rm -rf tests/.node/sdk-clients
    npm install --silent --no-audit --no-fund --prefix tests/.node/sdk-clients @anthropic-ai/sdk@1 openai@7 >/dev/null'
fi
