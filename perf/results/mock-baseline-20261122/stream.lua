wrk.method="POST"
wrk.body=[[{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Say hello"}]}]]
wrk.headers["Content-Type"]="application/json"
wrk.headers["Authorization"]="Bearer perf-key"
