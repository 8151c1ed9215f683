#!/usr/bin/env bash
# One command, one run, side by side, against the same mock upstream:
#   direct  -> the mock upstream itself
#   nginx   -> nginx proxy_pass (keepalive, one worker per core)
#   floor   -> perf/Floor: bare Kestrel + SocketsHttpHandler, forwarding only (Native AOT): what any .NET proxy pays
#   gateway -> the gateway's Native AOT binary, key auth + routing + usage accounting on
#   gateway-nolog -> (NOLOG=1) the same binary and config with the request log off
#   portkey -> the Portkey gateway (npm @portkey-ai/gateway), when npm can install it
# For each: throughput at saturation (closed loop), latency at a fixed rate of half nginx's saturation
# (open loop), streaming time to first token and chunk gaps, the proxy's RSS under load, and the proxy's CPU per
# request (utime+stime of its processes over the measured window, divided by the requests served: steadier than
# req/s on a shared machine). With GATEWAY_BEFORE=path/to/proxy (an earlier AOT build), that binary runs as the path
# 'before' with the same config, so a change is measured before and after in one run.
# Prints each path as a ratio to nginx, to the floor and to direct, and keeps everything in perf/results/<date>-compare/,
# with the machine's facts (cores, CPU, kernel, dotnet, pinning) in machine.txt.
# With 8 or more cores, upstream, load generator and proxy run on cores of their own (taskset; the proxy on 2), so
# they stop competing for CPU; on fewer they share every core, and the output says so.
# Traffic stays on 127.0.0.1; every load run is bounded in time.
# Usage: [GATEWAY_BEFORE=...] [NOLOG=1] [PIN=0] [MOCK_PORT=...] perf/compare.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CONNS=${CONNS:-32}
[ "${1:-}" = "--quick" ] && { DURATION=4s; WARMUP=1s; }

WORK=$ROOT/perf/.work
# RESULTS_NAME names the folder when a day has more than one run worth keeping.
OUT=$ROOT/perf/results/${RESULTS_NAME:-$(date -u +%Y-%m-%d)-compare}
mkdir -p "$WORK" "$OUT"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

log() { printf '== %s\n' "$*" >&2; }

# ---- install what is missing (apt: nginx, clang for the AOT link; npm: portkey) ----
need=()
command -v nginx >/dev/null || need+=(nginx)
command -v clang >/dev/null || need+=(clang)
[ -e /usr/include/zlib.h ] || need+=(zlib1g-dev)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  log "apt-get install ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
PORTKEY=""
if command -v npm >/dev/null; then
  if [ ! -d "$WORK/portkey/node_modules/@portkey-ai/gateway" ]; then
    log "npm install @portkey-ai/gateway"
    mkdir -p "$WORK/portkey" && (cd "$WORK/portkey" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund @portkey-ai/gateway >/dev/null 2>&1) || true
  fi
  [ -d "$WORK/portkey/node_modules/@portkey-ai/gateway" ] && PORTKEY="$WORK/portkey/node_modules/@portkey-ai/gateway"
fi

# ---- where each process runs: separate cores when there are enough, else shared (said in the output) ----
CORES=$(nproc)
PIN_PROXY=(); PIN_UPSTREAM=(); PIN_LOAD=()
if [ "$CORES" -ge 8 ] && [ "${PIN:-1}" != 0 ] && command -v taskset >/dev/null; then
  # The proxy gets 2 cores (the size of the machines the gateway is sized for); the rest is split between the upstream
  # and the load generator, so neither of them is what limits the proxy.
  PROXY_CPUS=0-1
  UP_N=$(( (CORES - 2) / 2 ))
  UPSTREAM_CPUS=2-$(( 1 + UP_N ))
  LOAD_CPUS=$(( 2 + UP_N ))-$(( CORES - 1 ))
  PIN_PROXY=(taskset -c "$PROXY_CPUS"); PIN_UPSTREAM=(taskset -c "$UPSTREAM_CPUS"); PIN_LOAD=(taskset -c "$LOAD_CPUS")
  PROXY_WORKERS=2
  PINNING="pinned with taskset: proxy on cores $PROXY_CPUS, upstream on $UPSTREAM_CPUS, load generator on $LOAD_CPUS"
else
  PROXY_WORKERS=$CORES
  why="$CORES cores < 8"
  [ "$CORES" -ge 8 ] && why=$([ "${PIN:-1}" = 0 ] && echo "PIN=0" || echo "no taskset")
  PINNING="unpinned ($why): upstream, load generator and proxy share all $CORES cores, so read ratios, not absolute numbers"
fi
log "$PINNING"

# ---- build: the gateway, the floor and the mock as Native AOT, loadgen as a Release build ----
log "building (Native AOT gateway, floor and mock upstream, loadgen)"
dotnet publish src/Proxy.Host -c Release -r linux-x64 -o "$WORK/gateway" >"$WORK/build-gateway.log" 2>&1 || { cat "$WORK/build-gateway.log"; exit 1; }
dotnet publish perf/MockUpstream -c Release -r linux-x64 -o "$WORK/mock" >"$WORK/build-mock.log" 2>&1 || { cat "$WORK/build-mock.log"; exit 1; }
dotnet publish perf/Floor -c Release -r linux-x64 -o "$WORK/floor" >"$WORK/build-floor.log" 2>&1 || { cat "$WORK/build-floor.log"; exit 1; }
dotnet build perf/LoadGen -c Release -o "$WORK/loadgen" >"$WORK/build-loadgen.log" 2>&1 || { cat "$WORK/build-loadgen.log"; exit 1; }
LOADGEN=("${PIN_LOAD[@]}" dotnet "$WORK/loadgen/loadgen.dll")

# Every port this run listens on must be free: wait_port would otherwise take another run's server for ours.
# Each can be moved (MOCK_PORT, NGINX_PORT, GW_PORT, BF_PORT, NL_PORT, FL_PORT) when another run holds it.
for port in "${MOCK_PORT:-9100}" "${NGINX_PORT:-9200}" "${GW_PORT:-9300}" "${BF_PORT:-9301}" "${NL_PORT:-9302}" "${FL_PORT:-9400}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "port $port is in use (another compare.sh run?); stop it or move ours (see the ports below)" >&2; exit 1; fi
done
wait_port() { for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }

# ---- the upstream: answers at once for plain requests; streams 16 chunks 5 ms apart ----
MOCK_PORT=${MOCK_PORT:-9100}
"${PIN_UPSTREAM[@]}" "$WORK/mock/mock-upstream" --urls "http://127.0.0.1:$MOCK_PORT" --chunks 16 --chunk-interval-ms 5 >"$WORK/mock.log" 2>&1 &
MOCK_PID=$!
PIDS+=($MOCK_PID)
wait_port $MOCK_PORT

# ---- nginx: proxy_pass with upstream keepalive, a worker per proxy core, no buffering (for streams) ----
NGINX_PORT=${NGINX_PORT:-9200}
mkdir -p "$WORK/nginx/logs"
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes $PROXY_WORKERS;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  upstream mock { server 127.0.0.1:$MOCK_PORT; keepalive 128; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
EOF
"${PIN_PROXY[@]}" nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
NGINX_PID=$!
PIDS+=($NGINX_PID)
wait_port $NGINX_PORT

# ---- the gateway: its AOT binary, a key, a route to the mock ----
GW_PORT=${GW_PORT:-9300}
KEY="sk-gw-perf-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
HASH=$(printf %s "$KEY" | sha256sum | cut -d' ' -f1)
cat >"$WORK/gateway.yaml" <<EOF
server:
  max_body_bytes: 1MiB
providers:
  upstream:
    type: openai
    base_url: http://127.0.0.1:$MOCK_PORT/v1
    api_key: perf-upstream-key
routes:
  gpt-4o-mini:
    provider: upstream
keys:
  - id: perf
    hash: sha256:$HASH
logs:
  directory: $WORK/logs          # the request log is on, as in the embedded default (local directory)
EOF
"${PIN_PROXY[@]}" "$WORK/gateway/proxy" --config "$WORK/gateway.yaml" --urls "http://127.0.0.1:$GW_PORT" >"$WORK/gateway.log" 2>&1 &
GW_PID=$!
PIDS+=($GW_PID)
wait_port $GW_PORT
sleep 1
GW_RSS_IDLE=$(awk '/VmRSS/ {print int($2/1024)}' /proc/$GW_PID/status)

# ---- the earlier gateway build, when given: same config, its own port and log directory ----
BF_PORT=${BF_PORT:-9301}
if [ -n "${GATEWAY_BEFORE:-}" ]; then
  sed "s#directory: $WORK/logs#directory: $WORK/logs-before#" "$WORK/gateway.yaml" >"$WORK/gateway-before.yaml"
  "${PIN_PROXY[@]}" "$GATEWAY_BEFORE" --config "$WORK/gateway-before.yaml" --urls "http://127.0.0.1:$BF_PORT" >"$WORK/gateway-before.log" 2>&1 &
  BF_PID=$!
  PIDS+=($BF_PID)
  wait_port $BF_PORT
fi

# ---- the floor: Kestrel + SocketsHttpHandler forwarding to the same mock with the same upstream key ----
FL_PORT=${FL_PORT:-9400}
"${PIN_PROXY[@]}" "$WORK/floor/floor" --urls "http://127.0.0.1:$FL_PORT" --upstream "http://127.0.0.1:$MOCK_PORT" --upstream-key perf-upstream-key >"$WORK/floor.log" 2>&1 &
FL_PID=$!
PIDS+=($FL_PID)
wait_port $FL_PORT

# ---- the gateway with the request log off (NOLOG=1): what the log costs, in the same run ----
NL_PORT=${NL_PORT:-9302}
if [ "${NOLOG:-0}" = 1 ]; then
  sed "s|^  directory: $WORK/logs .*|  enabled: false         # the request log is off: this path measures the gateway without it|" "$WORK/gateway.yaml" >"$WORK/gateway-nolog.yaml"
  grep -q 'enabled: false' "$WORK/gateway-nolog.yaml" || { echo "could not switch the request log off in gateway-nolog.yaml" >&2; exit 1; }
  "${PIN_PROXY[@]}" "$WORK/gateway/proxy" --config "$WORK/gateway-nolog.yaml" --urls "http://127.0.0.1:$NL_PORT" >"$WORK/gateway-nolog.log" 2>&1 &
  NL_PID=$!
  PIDS+=($NL_PID)
  wait_port $NL_PORT
fi

# ---- portkey (optional) ----
PK_PORT=8787
if [ -n "$PORTKEY" ] && (exec 3<>"/dev/tcp/127.0.0.1/$PK_PORT") 2>/dev/null; then
  log "port $PK_PORT (Portkey's own) is in use: Portkey is left out of this run"
  PORTKEY=""
fi
if [ -n "$PORTKEY" ]; then
  # The package's bin is build/start-server.js; it listens on :8787.
  (cd "$WORK/portkey" && exec "${PIN_PROXY[@]}" node "$PORTKEY/build/start-server.js") >"$WORK/portkey.log" 2>&1 &
  PIDS+=($!)
  wait_port $PK_PORT || PORTKEY=""
fi

PLAIN='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello in one word."}],"max_tokens":16}'
STREAM='{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Say hello in one word."}]}'

# url and extra loadgen args per path
declare -A URL ARGS
URL[direct]="http://127.0.0.1:$MOCK_PORT/v1/chat/completions"; ARGS[direct]=""
URL[nginx]="http://127.0.0.1:$NGINX_PORT/v1/chat/completions";  ARGS[nginx]=""
URL[floor]="http://127.0.0.1:$FL_PORT/v1/chat/completions";     ARGS[floor]=""
URL[gateway]="http://127.0.0.1:$GW_PORT/v1/chat/completions";   ARGS[gateway]="-H|Authorization: Bearer $KEY"
URL[gateway-nolog]="http://127.0.0.1:$NL_PORT/v1/chat/completions"; ARGS[gateway-nolog]="-H|Authorization: Bearer $KEY"
URL[before]="http://127.0.0.1:$BF_PORT/v1/chat/completions";    ARGS[before]="-H|Authorization: Bearer $KEY"
URL[portkey]="http://127.0.0.1:$PK_PORT/v1/chat/completions";   ARGS[portkey]="-H|x-portkey-provider: openai|-H|x-portkey-custom-host: http://127.0.0.1:$MOCK_PORT/v1|-H|Authorization: Bearer perf-upstream-key"
PATHS=(direct nginx floor gateway)
[ "${NOLOG:-0}" = 1 ] && PATHS+=(gateway-nolog)
[ -n "${GATEWAY_BEFORE:-}" ] && PATHS+=(before)
[ -n "$PORTKEY" ] && PATHS+=(portkey)

# The processes whose CPU is the path's own: the mock for direct, nginx's master (its workers are its children),
# each gateway, node for Portkey.
declare -A PROC
PROC[direct]=$MOCK_PID
PROC[nginx]=$NGINX_PID
PROC[floor]=$FL_PID
PROC[gateway]=$GW_PID
PROC[gateway-nolog]=${NL_PID:-}
PROC[before]=${BF_PID:-}
PROC[portkey]=$(pgrep -f "build/start-server.js" | head -1)
HZ=$(getconf CLK_TCK)
# ticks PID: utime+stime of the process (all its threads) and its children, in clock ticks
ticks() {
  local t=0 p
  for p in $1 $(cat /proc/$1/task/*/children 2>/dev/null); do
    [ -r /proc/$p/stat ] && t=$((t + $(awk '{print $14+$15}' /proc/$p/stat)))
  done
  echo $t
}
# cpu_per PID T0 T1 N: microseconds of CPU per request
cpu_per() { awk -v a="$2" -v b="$3" -v n="$4" -v hz="$HZ" 'BEGIN { if (n > 0 && b >= a) printf "%.1f", (b - a) / hz * 1e6 / n; else printf "-" }'; }

# run LABEL PATH [loadgen args...] -> prints the --summary line, keeps the JSON
run() {
  local label=$1 path=$2; shift 2
  local extra=()
  IFS='|' read -r -a extra <<<"${ARGS[$path]}"
  [ -z "${ARGS[$path]}" ] && extra=()
  "${LOADGEN[@]}" "${URL[$path]}" "${extra[@]}" "$@" --summary --label "$label" --json "$OUT/$label.json" 2>/dev/null | tail -1 || true
}
field() { grep -o " $1=[^ ]*" <<<"$2" | head -1 | cut -d= -f2; }

# RSS sampler: the max VmRSS of a pid while a run goes on
rss_max() { local pid=$1 file=$2; echo 0 >"$file"; while kill -0 "$pid" 2>/dev/null; do awk '/VmRSS/ {print int($2/1024)}' /proc/$pid/status 2>/dev/null | awk -v f="$file" '{getline m < f; close(f); if ($1 > m) print $1 > f}'; sleep 0.2; done; }

# The .NET processes' RSS under load (nginx's and node's are not comparable: workers, a runtime of their own).
has_rss() { case $1 in floor|gateway|gateway-nolog|before) return 0 ;; esac; return 1; }

declare -A RPS P99SAT P50FIX P99FIX P50C8 P99C8 TTFT GAP RSS ERR CPU SCPU
for p in "${PATHS[@]}"; do
  log "$p: saturation, $CONNS connections, $DURATION"
  # Warm up in a run of its own, so the CPU window below holds only measured requests.
  run "$p-plain-warmup" "$p" -c "$CONNS" -d "$WARMUP" -w 0 --body "$PLAIN" >/dev/null
  if has_rss "$p"; then rss_max "${PROC[$p]}" "$WORK/rss" & SAMPLER=$!; fi
  t0=$(ticks "${PROC[$p]}")
  s=$(run "$p-plain-sat" "$p" -c "$CONNS" -d "$DURATION" -w 0 --body "$PLAIN")
  t1=$(ticks "${PROC[$p]}")
  if has_rss "$p"; then kill $SAMPLER 2>/dev/null || true; RSS[$p]=$(cat "$WORK/rss"); fi
  RPS[$p]=$(field rps "$s"); P99SAT[$p]=$(field p99_ms "$s"); ERR[$p]=$(field errors "$s")
  CPU[$p]=$(cpu_per "${PROC[$p]}" "$t0" "$t1" "$(( $(field ok "$s") + $(field errors "$s") ))")
  echo "$s cpu_us_per_req=${CPU[$p]}" >>"$OUT/summary.txt"
done

# fixed rate: half of nginx's saturation throughput, for every path
RATE=$(awk -v r="${RPS[nginx]}" 'BEGIN { printf "%d", r / 2 }')
for p in "${PATHS[@]}"; do
  log "$p: fixed rate $RATE/s, $DURATION"
  s=$(run "$p-plain-fixed" "$p" -r "$RATE" -c 256 -d "$DURATION" -w "$WARMUP" --body "$PLAIN")
  P50FIX[$p]=$(field p50_ms "$s"); P99FIX[$p]=$(field p99_ms "$s")
  echo "$s" >>"$OUT/summary.txt"
done

# light load: 8 connections closed loop, the latency a few busy clients see (issue 13: p99 at most 3x nginx's)
for p in "${PATHS[@]}"; do
  log "$p: 8 connections, $DURATION"
  s=$(run "$p-plain-c8" "$p" -c 8 -d "$DURATION" -w "$WARMUP" --body "$PLAIN")
  P50C8[$p]=$(field p50_ms "$s"); P99C8[$p]=$(field p99_ms "$s")
  echo "$s" >>"$OUT/summary.txt"
done

# streaming: 16 chunks 5 ms apart; few connections so queueing does not hide per-chunk latency
for p in "${PATHS[@]}"; do
  log "$p: streaming, 8 connections, $DURATION"
  run "$p-stream-warmup" "$p" -c 8 -d "$WARMUP" -w 0 --stream --body "$STREAM" >/dev/null
  t0=$(ticks "${PROC[$p]}")
  s=$(run "$p-stream" "$p" -c 8 -d "$DURATION" -w 0 --stream --body "$STREAM")
  t1=$(ticks "${PROC[$p]}")
  SCPU[$p]=$(cpu_per "${PROC[$p]}" "$t0" "$t1" "$(( $(field ok "$s") + $(field errors "$s") ))")
  TTFT[$p]=$(field ttft_p50_ms "$s"); GAP[$p]=$(field gap_p50_ms "$s")
  # A path whose streams all failed has no timings to show (Portkey on Node 20 answers streams with 500).
  if [ "$(field ok "$s")" = 0 ]; then TTFT[$p]=failed; GAP[$p]=failed; fi
  echo "$s cpu_us_per_stream=${SCPU[$p]}" >>"$OUT/summary.txt"
done

# ---- the machine's facts, next to the numbers they explain ----
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cores: $CORES"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "kernel: $(uname -sr)"
  echo "os: $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
  echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  # The framework the AOT binaries were built for, from the publish log, so this line stays true when the flag changes.
  echo "dotnet sdk: $(dotnet --version); AOT binaries (gateway, floor, mock) built for $(grep -o 'bin/Release/net[0-9.]*' "$WORK/build-gateway.log" | head -1 | cut -d/ -f3)"
  echo "nginx: $(nginx -v 2>&1 | cut -d/ -f2)"
  echo "pinning: $PINNING"
  echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/machine.txt"
sed 's/^/# /' "$OUT/machine.txt" >>"$OUT/summary.txt"

# ---- the table ----
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "") printf "%.2f", a / b; else printf "-" }'; }
{
  echo "# compare.sh $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "machine: $CORES cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r), dotnet $(dotnet --version)"
  echo "pinning: $PINNING"
  echo "load: loadgen, $CONNS connections closed loop (saturation), open loop at ${RATE}/s (half nginx), 8 connections closed loop (c8), streaming 8 connections x 16 chunks 5 ms apart; $DURATION each after $WARMUP warmup"
  echo
  fmt='%-13s %8s %7s %7s %8s %8s | %8s %8s | %7s %7s %7s | %8s %8s %8s | %8s %7s %6s | %7s %7s %7s | %8s %7s %7s\n'
  printf "$fmt" path "sat rps" "x nginx" "x floor" "x direct" "sat p99" "fix p50" "fix p99" "c8 p50" "c8 p99" "c8/ngx" "ttft p50" "+ttft" "gap p50" "p99/ngx" "rss MiB" errors \
    "cpu/req" "x nginx" "x floor" "cpu/strm" "x nginx" "x floor"
  for p in "${PATHS[@]}"; do
    addttft=$(awk -v a="${TTFT[$p]}" -v b="${TTFT[direct]}" 'BEGIN { if (a == "failed") printf "-"; else printf "%+.3f", a - b }')
    printf "$fmt" "$p" "${RPS[$p]}" "$(ratio "${RPS[$p]}" "${RPS[nginx]}")" "$(ratio "${RPS[$p]}" "${RPS[floor]}")" \
      "$(ratio "${RPS[$p]}" "${RPS[direct]}")" "${P99SAT[$p]}" "${P50FIX[$p]}" "${P99FIX[$p]}" \
      "${P50C8[$p]}" "${P99C8[$p]}" "$(ratio "${P99C8[$p]}" "${P99C8[nginx]}")" "${TTFT[$p]}" "$addttft" "${GAP[$p]}" \
      "$(ratio "${P99FIX[$p]}" "${P99FIX[nginx]}")" "${RSS[$p]:--}" "${ERR[$p]}" \
      "${CPU[$p]}" "$(ratio "${CPU[$p]}" "${CPU[nginx]}")" "$(ratio "${CPU[$p]}" "${CPU[floor]}")" \
      "${SCPU[$p]}" "$(ratio "${SCPU[$p]}" "${SCPU[nginx]}")" "$(ratio "${SCPU[$p]}" "${SCPU[floor]}")"
  done
  echo
  echo "times in ms; '+ttft' is the median time to first token minus direct's; 'p99/ngx' is fixed-rate p99 over nginx's; 'c8/ngx' the 8-connection p99 over nginx's."
  echo "cpu/req and cpu/strm: microseconds of the path's own processes' CPU (utime+stime) per request (saturation) and per stream (direct: the mock's own)."
  echo "floor: bare Kestrel + SocketsHttpHandler (perf/Floor); 'x floor' is what the path costs relative to forwarding alone in .NET."
  echo "gateway RSS: ${GW_RSS_IDLE} MiB idle, ${RSS[gateway]} MiB max during saturation; floor ${RSS[floor]} MiB max."
} | tee "$OUT/table.txt"
