#!/usr/bin/env bash
# Publishes the host as Native AOT, fails on any trim/AOT warning, then runs the native binary on the
# sample config and checks plain and streamed answers and an error answer; then the limits, budget and cache stages,
# and the control plane against a scratch PostgreSQL.
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

# The control plane in the trimmed binary (Npgsql, the embedded migrations, the admin API, sealed credentials, the
# key and a route limit enforced, export): a third run against a scratch PostgreSQL (install.sh installs it; initdb
# refuses root, so as root it runs as the postgres user).
initdb_bin=$(command -v initdb 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)
pgbin=$(dirname "$(readlink -f "$initdb_bin")")
pgdir="$work/pg"
mkdir -p "$pgdir"
as_pg=()
if [ "$(id -u)" = 0 ]; then chown postgres "$work" "$pgdir"; as_pg=(setpriv --reuid=postgres --regid=postgres --init-groups); fi
"${as_pg[@]}" "$pgbin/initdb" -D "$pgdir/data" -A trust -U postgres --no-sync --locale=C -E UTF8 >"$log.initdb" 2>&1 || { cat "$log.initdb"; exit 1; }
pgport=$((20000 + RANDOM % 20000))
"${as_pg[@]}" "$pgbin/postgres" -D "$pgdir/data" -p $pgport -k "$pgdir" -c listen_addresses=127.0.0.1 -c fsync=off >"$log.pg" 2>&1 &
pgpid=$!
trap 'kill $pid 2>/dev/null || true; kill -9 $pgpid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do "$pgbin/pg_isready" -q -h 127.0.0.1 -p $pgport && break; sleep 0.1; done
admin=sk-gw-smoke-admin-0123456789
secret=sk-upstream-smoke-secret-4242
CP_MASTER_KEY=$(head -c 32 /dev/urandom | base64)
export CP_MASTER_KEY
cat >"$work/cp.yaml" <<EOF
control_plane:
  url: "postgres://postgres@127.0.0.1:$pgport/postgres"
  master_key: \${CP_MASTER_KEY}
  admin_keys:
    - { id: smoke, hash: "sha256:$(printf %s "$admin" | sha256sum | cut -d' ' -f1)" }
logs: { directory: $work/cp-logs }
EOF
(cd "$work" && exec "$OLDPWD/$out/proxy" --config "$work/cp.yaml" --urls "http://127.0.0.1:$port") >"$log.cp" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/v1/health" >/dev/null && break; sleep 0.1; done
adm=(-H "Authorization: Bearer $admin" -H 'content-type: application/json')
curl -fsS -X PUT "http://127.0.0.1:$port/admin/v1/providers/mock" "${adm[@]}" -d "{\"type\":\"mock\",\"api_key\":\"$secret\"}" >/dev/null \
  || { echo "FAIL control plane: PUT provider"; cat "$log.cp"; exit 1; }
curl -fsS -X PUT "http://127.0.0.1:$port/admin/v1/routes/mock-gpt" "${adm[@]}" -d '{"provider":"mock","limits":{"requests_per_minute":2}}' >/dev/null
made=$(curl -fsS -X POST "http://127.0.0.1:$port/admin/v1/keys" "${adm[@]}" -d '{"id":"smoke-key","routes":["mock-gpt"]}')
vkey=$(sed -n 's/.*"key":"\([^"]*\)".*/\1/p' <<<"$made")
ask_cp() { curl -s -o /dev/null -w '%{http_code}' "$base/chat/completions" -H "Authorization: Bearer $vkey" -H 'content-type: application/json' \
  -d '{"model":"mock-gpt","messages":[{"role":"user","content":"hi"}]}'; }
codes="$(ask_cp) $(ask_cp) $(ask_cp)"
[ "$codes" = "200 200 429" ] || { echo "FAIL control plane: a key and a 2 rpm route made through the admin API answered $codes"; cat "$log.cp"; exit 1; }
bad=$(curl -s -o /dev/null -w '%{http_code}' -X PUT "http://127.0.0.1:$port/admin/v1/routes/broken" "${adm[@]}" -d '{"provider":"nope"}')
[ "$bad" = 400 ] || { echo "FAIL control plane: a route to a missing provider answered $bad"; exit 1; }
shown=$(curl -fsS "http://127.0.0.1:$port/admin/v1/providers/mock" "${adm[@]}")
grep -q '"api_key":"(sealed)"' <<<"$shown" || { echo "FAIL control plane: the provider read back as $shown"; exit 1; }
exported=$("$out/proxy" admin export --config "$work/cp.yaml")
grep -q 'mock-gpt' <<<"$exported" || { echo "FAIL control plane: export printed $exported"; exit 1; }
kill -TERM $pid
for _ in $(seq 1 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if grep -rqsF "$secret" "$log.cp" "$work/cp-logs" "$work"/*.json || grep -qF "$secret" <<<"$exported$shown"; then
  echo "FAIL control plane: the provider secret is readable in an answer, the export, the logs or the snapshot"; exit 1
fi
echo "AOT smoke: control plane (migrations, admin API, sealed credential, key and route limit enforced, 400 on a bad route, export) OK"
kill -INT $pgpid 2>/dev/null || true   # fast shutdown
wait $pgpid 2>/dev/null || true
rm -rf "$work"
