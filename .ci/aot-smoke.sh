#!/usr/bin/env bash
# Publishes the host as Native AOT, fails on any trim/AOT warning, then runs the native binary on the
# sample config and checks plain and streamed answers and an error answer.
set -euo pipefail
cd "$(dirname "$0")/.."
out=artifacts/aot
log=$(mktemp)
dotnet publish src/Proxy.Host -c Release -r linux-x64 -o "$out" 2>&1 | tee "$log" >/dev/null || { cat "$log"; exit 1; }
if grep -E "warning (IL|AOT|CS|CA)[0-9]+" "$log" | sort -u | grep .; then
  echo "FAIL: the AOT publish printed warnings (above)"; exit 1
fi
size=$(stat -c %s "$out/proxy")
echo "AOT publish: 0 warnings, binary $((size / 1024 / 1024)) MiB ($size bytes)"

port=18080
work=$(mktemp -d)
# Run from a scratch directory so the request log (./logs) of this smoke run is its own.
(cd "$work" && exec "$OLDPWD/$out/proxy" --config "$OLDPWD/samples/gateway.yaml" --urls "http://127.0.0.1:$port") >"$log.run" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$port/v1/health" >/dev/null && break; sleep 0.1; done
key=sk-gw-local-demo-key
base="http://127.0.0.1:$port/v1"
plain=$(curl -fsS "$base/chat/completions" -H "Authorization: Bearer $key" -H 'content-type: application/json' \
  -d '{"model":"mock-gpt","messages":[{"role":"user","content":"hi"}]}')
grep -q '"object":"chat.completion"' <<<"$plain" || { echo "FAIL plain: $plain"; exit 1; }
stream=$(curl -fsSN "$base/chat/completions" -H "Authorization: Bearer $key" -H 'content-type: application/json' \
  -d '{"model":"mock-gpt","stream":true,"messages":[{"role":"user","content":"hi"}]}')
grep -q 'data: \[DONE\]' <<<"$stream" || { echo "FAIL stream: $stream"; exit 1; }
status=$(curl -s -o /dev/null -w '%{http_code}' "$base/chat/completions" -H "Authorization: Bearer $key" \
  -H 'content-type: application/json' -d '{"model":')
[ "$status" = 400 ] || { echo "FAIL: malformed JSON gave $status"; exit 1; }
# The other client APIs, translated from the mock (the trimmed binary must still write each one's shape).
msg=$(curl -fsS "$base/messages" -H "x-api-key: $key" -H 'anthropic-version: 2023-06-01' -H 'content-type: application/json' \
  -d '{"model":"mock-gpt","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}')
grep -q '"type":"message"' <<<"$msg" || { echo "FAIL messages: $msg"; exit 1; }
msgs=$(curl -fsSN "$base/messages" -H "x-api-key: $key" -H 'anthropic-version: 2023-06-01' -H 'content-type: application/json' \
  -d '{"model":"mock-gpt","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}')
grep -q 'event: message_stop' <<<"$msgs" || { echo "FAIL messages stream: $msgs"; exit 1; }
resp=$(curl -fsS "$base/responses" -H "Authorization: Bearer $key" -H 'content-type: application/json' \
  -d '{"model":"mock-gpt","input":"hi"}')
grep -q '"object":"response"' <<<"$resp" || { echo "FAIL responses: $resp"; exit 1; }
id=$(grep -o '"id":"resp_[^"]*"' <<<"$resp" | head -1 | cut -d'"' -f4)
curl -fsS "$base/responses/$id" -H "Authorization: Bearer $key" | grep -q "\"$id\"" || { echo "FAIL: stored response $id not retrievable"; exit 1; }
resps=$(curl -fsSN "$base/responses" -H "Authorization: Bearer $key" -H 'content-type: application/json' \
  -d '{"model":"mock-gpt","input":"hi","stream":true}')
grep -q 'event: response.completed' <<<"$resps" || { echo "FAIL responses stream: $resps"; exit 1; }
sleep 1
rss=$(ps -o rss= -p $pid | tr -d ' ')
echo "AOT smoke: chat plain/stream/error, messages plain/stream, responses plain/stream/retrieve OK; RSS after smoke $((rss / 1024)) MiB"

# SIGTERM: the gateway drains its request log before exiting; the seven model requests above are seven records
# (the stored-response retrieve is answered from the gateway's store and is not a model request).
kill -TERM $pid
for _ in $(seq 1 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then echo "FAIL: the gateway did not exit within 10 s of SIGTERM"; exit 1; fi
records=$(find "$work/logs" -name '*.jsonl.gz' -exec zcat {} + 2>/dev/null | grep -c '"request_id"' || true)
[ "$records" = 7 ] || { echo "FAIL: expected 7 request log records after SIGTERM, found $records"; cat "$log.run"; exit 1; }
echo "AOT smoke: SIGTERM drained the request log ($records records)"

# The limits, budget and response cache stages in the trimmed binary (in memory): a second run on a config of its own.
cat >"$work/stages.yaml" <<EOF
providers:
  mock: { type: mock, completion_tokens: 4 }
routes:
  mock-gpt:
    provider: mock
    model: mock-1
    cache: { ttl: 1m }
pricing:
  mock-1: { input: 1.0, output: 2.0 }
keys:
  - id: smoke
    hash: sha256:f3ecdc9d5aaa1aaf3014e1b602f4796174303c14b4b0bff9620d285c945d6c8f
    limits: { requests_per_minute: 3 }
    budget: { usd: 10, period: day }
EOF
(cd "$work" && exec "$OLDPWD/$out/proxy" --config "$work/stages.yaml" --urls "http://127.0.0.1:$port") >"$log.stages" 2>&1 &
pid=$!
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$port/v1/health" >/dev/null && break; sleep 0.1; done
ask() { curl -s -D - -o /dev/null "$base/chat/completions" -H "Authorization: Bearer $key" -H 'content-type: application/json' \
  -d '{"model":"mock-gpt","messages":[{"role":"user","content":"hi"}]}'; }
first=$(ask); second=$(ask); third=$(ask); fourth=$(ask)
grep -qi '^x-ratelimit-limit-requests: 3' <<<"$first" || { echo "FAIL limits headers: $first"; cat "$log.stages"; exit 1; }
{ grep -qi '^x-gateway-cache: miss' <<<"$first" && grep -qi '^x-gateway-cache: hit' <<<"$second"; } || { echo "FAIL cache: $first $second"; exit 1; }
grep -q '^HTTP/1.1 429' <<<"$fourth" || { echo "FAIL: the fourth request in a minute at 3 rpm was not refused: $fourth"; exit 1; }
usage=$(curl -fsS "$base/usage" -H "Authorization: Bearer $key")
grep -q '"limit_usd":10' <<<"$usage" || { echo "FAIL usage: $usage"; exit 1; }
kill -TERM $pid
for _ in $(seq 1 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
echo "AOT smoke: limits (headers, 429), response cache (miss then hit) and budgets (GET /v1/usage) OK"
rm -rf "$work"
