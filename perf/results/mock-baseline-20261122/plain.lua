wrk.method="POST"
wrk.body=[[{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello"}]}]]
wrk.headers["Content-Type"]="application/json"
wrk.headers["Authorization"]="Bearer perf-key"
