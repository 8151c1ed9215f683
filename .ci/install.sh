#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks for the tests and the AOT build. Idempotent.
set -euo pipefail
need=()
command -v clang >/dev/null || need+=(clang)            # the Native AOT link (the image has clang-14 but no 'clang')
[ -e /usr/include/zlib.h ] || need+=(zlib1g-dev)          # linked into the AOT binary
command -v curl >/dev/null || need+=(curl)                # smoke requests
if [ ${#need[@]} -gt 0 ]; then
  echo "== apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
