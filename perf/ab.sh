#!/usr/bin/env bash
# A/B two gateway binaries in alternating rounds on the same mock upstream and config: the steadier way to see a
# change of a few microseconds on a shared, noisy machine, where compare.sh runs each path once and in order.
# Each round runs A then B (B then A every other round) at saturation and takes each process's own CPU per request
# (utime+stime from /proc); prints every round and the medians. Run perf/compare.sh first: it builds the mock,
# loadgen and the gateway under perf/.work. Usage:
#   perf/ab.sh A_BINARY B_BINARY [ROUNDS (default 8)] [SECONDS (default 8)]
# e.g. perf/ab.sh /tmp/before/proxy perf/.work/gateway/proxy
# A feature's own cost: the same binary twice, with the feature's config on one side only:
#   B_KEY='limits: { requests_per_minute: 1000000000 }' perf/ab.sh perf/.work/gateway/proxy perf/.work/gateway/proxy
# A_KEY / B_KEY: YAML lines added under the side's key; A_TOP / B_TOP: top-level YAML (limits:, redis:) for the side.
# PAIRED=1: each round loads A and B at the same time (16 connections each) instead of one after the other, so a slow
# spell of a shared machine falls on both sides alike: the steadier figure for a difference of a microsecond or two.
set -euo pipefail
cd "$(dirname "$0")/.."
A=$1 B=$2 ROUNDS=${3:-8} SECS=${4:-8}
WORK=perf/.work/ab
mkdir -p "$WORK"
for f in perf/.work/mock/mock-upstream perf/.work/loadgen/loadgen.dll; do
  [ -e "$f" ] || { echo "$f is missing: run perf/compare.sh first (it builds it)" >&2; exit 1; }
done
HZ=$(getconf CLK_TCK)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true' EXIT
wait_port() { for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }

perf/.work/mock/mock-upstream --urls http://127.0.0.1:9500 >"$WORK/mock.log" 2>&1 &
PIDS+=($!)
wait_port 9500
KEY="sk-gw-ab-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
HASH=$(printf %s "$KEY" | sha256sum | cut -d' ' -f1)
start() { # NAME BINARY PORT KEY_EXTRA TOP_EXTRA -> pid
  cat >"$WORK/$1.yaml" <<EOF
$5
providers:
  upstream: { type: openai, base_url: "http://127.0.0.1:9500/v1", api_key: ab-upstream-key }
routes:
  gpt-4o-mini: { provider: upstream }
keys:
  - id: ab
    hash: "sha256:$HASH"
    $4
logs:
  directory: $PWD/$WORK/logs-$1
EOF
  "$2" --config "$WORK/$1.yaml" --urls "http://127.0.0.1:$3" >"$WORK/$1.log" 2>&1 &
  echo $!
}
PID_A=$(start a "$A" 9501 "${A_KEY:-}" "${A_TOP:-}"); PIDS+=($PID_A)
PID_B=$(start b "$B" 9502 "${B_KEY:-}" "${B_TOP:-}"); PIDS+=($PID_B)
wait_port 9501; wait_port 9502

BODY='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello in one word."}],"max_tokens":16}'
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
CONNS=$([ "${PAIRED:-0}" = 1 ] && echo 16 || echo 32)
load() { dotnet perf/.work/loadgen/loadgen.dll "http://127.0.0.1:$1/v1/chat/completions" -H "Authorization: Bearer $KEY" \
  -c "$CONNS" -d "$2s" -w 0 --body "$BODY" --summary 2>/dev/null | tail -1; }
# one NAME PORT PID -> "rps cpu_us_per_req"
one() {
  local t0 t1 s ok
  t0=$(ticks "$3"); s=$(load "$2" "$SECS"); t1=$(ticks "$3")
  ok=$(grep -o ' ok=[0-9]*' <<<"$s" | cut -d= -f2)
  awk -v a="$t0" -v b="$t1" -v n="$ok" -v hz="$HZ" -v r="$(grep -o ' rps=[^ ]*' <<<"$s" | cut -d= -f2)" \
    'BEGIN { printf "%s %.1f\n", r, (b - a) / hz * 1e6 / n }'
}
load 9501 2 >/dev/null; load 9502 2 >/dev/null   # warm both
: >"$WORK/rounds"
for r in $(seq 1 "$ROUNDS"); do
  if [ "${PAIRED:-0}" = 1 ]; then
    one a 9501 "$PID_A" >"$WORK/a.round" & side_a=$!
    one b 9502 "$PID_B" >"$WORK/b.round"; wait "$side_a"
    a=$(cat "$WORK/a.round"); b=$(cat "$WORK/b.round")
  elif [ $((r % 2)) = 1 ]; then a=$(one a 9501 "$PID_A"); b=$(one b 9502 "$PID_B"); else b=$(one b 9502 "$PID_B"); a=$(one a 9501 "$PID_A"); fi
  echo "round $r: A $a  B $b" | tee -a "$WORK/rounds"
done
median() { sort -n | awk '{v[NR]=$1} END { printf "%.1f", NR % 2 ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2 }'; }
# a round's line: round N: A RPS CPU  B RPS CPU
for side in A B; do
  col=$([ $side = A ] && echo 4 || echo 7)
  rps=$(awk -v c=$col '{print $c}' "$WORK/rounds" | median)
  cpu=$(awk -v c=$((col + 1)) '{print $c}' "$WORK/rounds" | median)
  echo "$side median: $rps req/s, $cpu us CPU per request"
done
# The steadiest figure: each round's B - A (both ran within seconds of each other), then the median.
echo "B - A, median of the rounds' differences: $(awk '{print $8 - $5}' "$WORK/rounds" | median) us CPU per request"
