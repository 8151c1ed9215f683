#!/usr/bin/env bash
# Measures mock-upstream alone with loadgen and with wrk, side by side, so you can check that neither the mock
# nor loadgen is the bottleneck before you trust a gateway measurement. Runs are interleaved (wrk, loadgen,
# wrk, loadgen, ...) so noise from other work on the box hits both tools alike. Everything is bounded:
# ROUNDS x 2 plain runs of DURATION, plus one streamed loadgen run and one streamed wrk run.
#
#   perf/mock-baseline.sh [OUT_DIR]       env: ROUNDS=3 DURATION=10 CONNECTIONS=32 PORT=9100 INTERVAL_MS=10
#
# Needs wrk (apt-get install -y wrk). Uses the Native AOT mock if published, else the JIT build.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3} DURATION=${DURATION:-10} CONNECTIONS=${CONNECTIONS:-32} PORT=${PORT:-9100} INTERVAL_MS=${INTERVAL_MS:-10}
OUT=${1:-perf/results/mock-baseline-$(date +%Y%m%d-%H%M%S)}
URL="http://127.0.0.1:$PORT/v1/chat/completions"
BODY='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello"}]}'
SBODY='{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Say hello"}]}'
mkdir -p "$OUT"

command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 2; }
dotnet build perf/LoadGen -c Release -v q -nologo >/dev/null
LOADGEN=(dotnet perf/LoadGen/bin/Release/net10.0/loadgen.dll)
MOCK=perf/MockUpstream/bin/Release/net10.0/linux-x64/publish/mock-upstream
if [[ ! -x $MOCK ]]; then
  dotnet build perf/MockUpstream -c Release -v q -nologo >/dev/null
  MOCK="dotnet perf/MockUpstream/bin/Release/net10.0/mock-upstream.dll"
fi

MOCK_PID=
stop_mock() { if [[ -n $MOCK_PID ]]; then kill "$MOCK_PID" 2>/dev/null || true; wait "$MOCK_PID" 2>/dev/null || true; MOCK_PID=; fi; }
trap stop_mock EXIT
start_mock() { # args: extra mock options
  $MOCK --urls "http://127.0.0.1:$PORT" "$@" >"$OUT/mock.log" 2>&1 &
  MOCK_PID=$!
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/v1/models" >/dev/null && return; sleep 0.1; done
  echo "mock-upstream did not start" >&2; exit 1
}
cpu_s() { awk '{printf "%.2f", ($14+$15)/100}' "/proc/$1/stat"; } # user+sys seconds of a pid

wrk_script() { # $1 body -> a wrk Lua script posting it
  printf 'wrk.method="POST"\nwrk.body=[[%s]]\nwrk.headers["Content-Type"]="application/json"\nwrk.headers["Authorization"]="Bearer perf-key"\n' "$1"
}
wrk_script "$BODY" >"$OUT/plain.lua"
wrk_script "$SBODY" >"$OUT/stream.lua"
wrk_line() { # wrk output -> "rps p50 p99" (ms)
  awk '/Requests\/sec/ {r=$2} $1=="50%" {p50=$2} $1=="99%" {p99=$2}
       function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
       END { printf "rps=%s p50_ms=%.3f p99_ms=%.3f", r, ms(p50), ms(p99) }' "$1"
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/summary.txt"
start_mock
for i in $(seq "$ROUNDS"); do
  c0=$(cpu_s "$MOCK_PID")
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$OUT/plain.lua" "$URL" >"$OUT/wrk-plain-$i.txt"
  echo "plain round $i wrk     $(wrk_line "$OUT/wrk-plain-$i.txt") mock_cpu_s=$(echo "$(cpu_s "$MOCK_PID") - $c0" | bc)" | tee -a "$OUT/summary.txt"
  c0=$(cpu_s "$MOCK_PID")
  line=$("${LOADGEN[@]}" "$URL" -c "$CONNECTIONS" -d "${DURATION}s" -w 2s -H "Authorization: Bearer perf-key" \
    --body "$BODY" --label "plain-$i" --summary --json "$OUT/loadgen-plain-$i.json")
  echo "plain round $i loadgen $line mock_cpu_s(incl_warmup)=$(echo "$(cpu_s "$MOCK_PID") - $c0" | bc)" | tee -a "$OUT/summary.txt"
done
stop_mock

start_mock --chunk-interval-ms "$INTERVAL_MS"
"${LOADGEN[@]}" "$URL" -c "$CONNECTIONS" -d "${DURATION}s" -w 2s -H "Authorization: Bearer perf-key" --body "$SBODY" \
  --stream --label stream --json "$OUT/loadgen-stream.json" | tee -a "$OUT/summary.txt"
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$OUT/stream.lua" "$URL" >"$OUT/wrk-stream.txt"
echo "stream wrk $(wrk_line "$OUT/wrk-stream.txt")" | tee -a "$OUT/summary.txt"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/summary.txt"
echo "results in $OUT"
