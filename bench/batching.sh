#!/usr/bin/env bash
# Benchmark for issue 16 (continuous batching): kb serve against llama.cpp's llama-server in the
# same run, on the same GGUF file, the same threads and the same requests (bench/batching_client.py,
# POST /v1/chat/completions, greedy, streamed). llama-server is built from the llama.cpp sources of
# the llama-cpp-python 0.3.36 sdist by scripts/llama-server.sh (cached per machine), with -np equal
# to the number of streams and a unified KV cache of 2,048 tokens per sequence.
#
# Scenarios (each server fresh for each):
#   decode N   aggregate decode tokens/s of N streams of long answers (N = 1 and 16; the ratio to
#              one stream and to llama-server is printed);
#   gaps N     p50/p99 gap between tokens of N running streams while a new ~600-token prompt
#              arrives every 1.5 s;
#   sessions N RAG-like questions from N sessions at once (SESSIONS, default "1 4 16 50"): TTFT p50/p90,
#              tokens/s per stream and aggregate, cold and warm.
# usage: bench/batching.sh [MODEL=qwen2.5-coder-0.5b-instruct-q4_k_m.gguf] [THREADS=2]
#   SESSIONS="1 4 16 50", MAX_TOKENS (sessions, 64), DECODE_TOKENS (128), SCENARIOS="decode gaps sessions"
#   The peak RSS of each server is printed after each scenario (from /proc, VmHWM).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/preamble.sh"
model="${1:-qwen2.5-coder-0.5b-instruct-q4_k_m.gguf}"; threads="${2:-2}"
[ -f "$model" ] || model="models/$model"
sessions=(${SESSIONS:-1 4 16 50}); scenarios=(${SCENARIOS:-decode gaps sessions})
llama_bin="$(scripts/llama-server.sh)"
out="$(mktemp -d)"; server=""
trap '[ -z "$server" ] || kill "$server" 2>/dev/null || true; rm -rf "$out"' EXIT
bin/kb ingest --db "$out/kb.sqlite" --no-embed README.md > /dev/null 2>&1 || bin/kb ingest --db "$out/kb.sqlite" README.md > /dev/null
bench_machine
echo "model $(basename "$model"), $threads threads; llama-server from llama-cpp-python 0.3.36 ($llama_bin)"
unified=""
"$llama_bin/llama-server" --help 2>&1 | grep -q -- '--kv-unified' && unified="--kv-unified"

wait_port() {  # $1 log file; prints the port kb chose, or waits for llama-server's /health on $2
  local log="$1" port="${2:-}"
  for _ in $(seq 1 1200); do
    if [ -z "$port" ]; then
      port="$(grep -oE 'listening on http://127\.0\.0\.1:[0-9]+' "$log" | grep -oE '[0-9]+$' || true)"
      [ -n "$port" ] && { echo "$port"; return 0; }
    elif curl -sf "http://127.0.0.1:$port/health" > /dev/null 2>&1; then
      echo "$port"; return 0
    fi
    kill -0 "$server" 2>/dev/null || { cat "$log" >&2; return 1; }
    sleep 0.1
  done
  echo "server did not start" >&2; cat "$log" >&2; return 1
}

start() {  # $1 engine (kb|llama), $2 parallel sequences; sets $server and $port
  if [ "$1" = kb ]; then
    bin/kb serve --db "$out/kb.sqlite" --model "$model" --port 0 --threads "$threads" --max-generations "$2" \
      --generation-queue 256 > "$out/server.log" 2>&1 &
    server=$!; port="$(wait_port "$out/server.log")"
  else
    port=$((20000 + RANDOM % 20000))
    "$llama_bin/llama-server" -m "$model" --port "$port" -np "$2" -c $(( $2 * 2048 )) -t "$threads" $unified \
      > "$out/server.log" 2>&1 &
    server=$!; port="$(wait_port "$out/server.log" "$port")"
  fi
}

stop() {
  echo "  peak RSS $(awk '/VmHWM/ {printf "%.0f MiB", $2 / 1024}' /proc/$server/status)"
  kill -TERM "$server"; wait "$server" 2>/dev/null || true; server=""
}

for scenario in "${scenarios[@]}"; do
  case "$scenario" in
    decode) levels=(1 16); extra=(--max-tokens "${DECODE_TOKENS:-128}") ;;
    gaps) levels=(8); extra=(--max-tokens 200 --period 1.5) ;;
    sessions) levels=("${sessions[@]}"); extra=(--max-tokens "${MAX_TOKENS:-64}") ;;
  esac
  for n in "${levels[@]}"; do
    for engine in kb llama; do
      start "$engine" "$(( n < 2 ? 2 : n ))"
      echo "$engine $scenario $n: $(python3 bench/batching_client.py --port "$port" "${extra[@]}" "$scenario" "$n" | tr '\n' ' ')"
      stop
    done
  done
done
