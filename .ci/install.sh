#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks for the tests and the AOT build. Idempotent.
set -euo pipefail
need=()
lean=()
command -v clang >/dev/null || need+=(clang)            # the Native AOT link (the image has clang-14 but no 'clang')
[ -e /usr/include/zlib.h ] || need+=(zlib1g-dev)          # linked into the AOT binary
command -v curl >/dev/null || need+=(curl)                # smoke requests
command -v npm >/dev/null || need+=(npm)                  # s3rver, the S3 server the log sink tests run against
# promtool checks and unit-tests deploy/prometheus; the package's recommends (a node exporter) are not needed.
command -v promtool >/dev/null || lean+=(prometheus)
if [ ${#need[@]} -gt 0 ] || [ ${#lean[@]} -gt 0 ]; then
  echo "== apt-get install ${need[*]} ${lean[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  if [ ${#need[@]} -gt 0 ]; then apt-get install -y -qq "${need[@]}" >/dev/null; fi
  if [ ${#lean[@]} -gt 0 ]; then apt-get install -y -qq --no-install-recommends "${lean[@]}" >/dev/null; fi
fi

# The S3 and Azure sink tests install s3rver and Azurite themselves when it is missing; doing it here keeps that out of test time.
if [ ! -x tests/Proxy.Logging.S3.Tests/.node/node_modules/.bin/s3rver ]; then
  echo "== npm install s3rver@3"
  npm install --silent --no-audit --no-fund --prefix tests/Proxy.Logging.S3.Tests/.node s3rver@3 >/dev/null
fi
if [ ! -x tests/Proxy.Logging.Azure.Tests/.node/node_modules/.bin/azurite-blob ]; then
  echo "== npm install azurite@3"
  npm install --silent --no-audit --no-fund --prefix tests/Proxy.Logging.Azure.Tests/.node azurite@3 >/dev/null
fi
