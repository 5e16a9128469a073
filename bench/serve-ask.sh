#!/usr/bin/env bash
# Benchmark for issue 6: POST /v1/ask with 1, 4 and 16 concurrent streaming sessions: time to first
# token (p50/p90) and tokens/s, with a cold and a warm prefix cache (bench/serve_ask_client.py:
# "cold" = a freshly started server seeing the questions for the first time, "warm" = the same
# questions asked again on the same server). Each concurrency level gets a fresh server (release
# build, bin/kb), stopped with SIGTERM. The load average is printed beside every pass (shared machine).
#
# usage: bench/serve-ask.sh DB MODEL.gguf [MAX_TOKENS=32] [SESSIONS="1 4 16"] [QUESTIONS=8] [MAX_GENERATIONS=1] [TOP_K]
#   e.g. bench/serve-ask.sh data/demo.sqlite models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf
#   MAX_GENERATIONS is the server's --max-generations (answers generated at once; the rest queue).
#   TOP_K: sources per answer (default: the server's 5); 2 halves the prompt (~1.4k -> ~0.6k tokens).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/preamble.sh"
db="$1"; model="$2"; max_tokens="${3:-32}"; sessions="${4:-1 4 16}"; questions="${5:-8}"; generations="${6:-1}"; top_k="${7:-}"
out="$(mktemp -d)"; server=""
trap '[ -z "$server" ] || kill "$server" 2>/dev/null || true; rm -rf "$out"' EXIT
cp "$db" "$out/bench.sqlite"   # the server opens its file read-write (WAL); leave the original alone

echo "machine: $(nproc) cores; model $(basename "$model"); max_tokens $max_tokens; --max-generations $generations; top_k ${top_k:-server default}"
for concurrency in $sessions; do
  bin/kb serve --db "$out/bench.sqlite" --model "$model" --port 0 --max-generations "$generations" \
    --generation-queue 64 > "$out/server.log" 2>&1 &
  server=$!
  port=""
  for _ in $(seq 1 600); do
    port="$(grep -oE 'listening on http://127\.0\.0\.1:[0-9]+' "$out/server.log" | grep -oE '[0-9]+$' || true)"
    [ -n "$port" ] && break
    kill -0 "$server" 2>/dev/null || { cat "$out/server.log" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$port" ] || { echo "the server did not start" >&2; cat "$out/server.log" >&2; exit 1; }
  python3 bench/serve_ask_client.py --port "$port" --concurrency "$concurrency" --questions "$questions" \
    --max-tokens "$max_tokens" ${top_k:+--top-k "$top_k"}
  kill -TERM "$server"; wait "$server" || true; server=""
done
