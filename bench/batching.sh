#!/usr/bin/env bash
# Benchmark for issue 16 (continuous batching): kb against llama.cpp in the same run, on the same
# GGUF file and threads. llama.cpp's `llama-server` and `llama-batched-bench` are built from the
# llama.cpp sources of the llama-cpp-python 0.3.36 sdist by scripts/llama-server.sh (cached per machine).
#
#   decode    aggregate decode tokens/s of 1 and 16 streams (128-token prompts, GEN tokens each):
#             `kb bench batch` against `llama-batched-bench -kvu` (its S_TG), medians of RUNS runs;
#   gaps      p50/p99/max gap between tokens of 8 decoding streams while a 600-token prompt arrives
#             every 4 s (about 45 % of the prompt throughput of 2 cores): `kb bench batch --arrival-period` against llama-server -np 9 (bench/batching_client.py gaps);
#   sessions  N people ask at once (SESSIONS, default "1 4 16 50"): kb serve's POST /v1/ask on the
#             demo base against llama-server's /v1/chat/completions given the same question and the
#             five passages kb's search returns for it; TTFT p50/p90, tokens/s, cold and warm.
# usage: bench/batching.sh [MODEL=qwen2.5-coder-0.5b-instruct-q4_k_m.gguf] [THREADS=2]
#   SCENARIOS="decode gaps sessions", SESSIONS, MAX_TOKENS (sessions, 64), GEN (decode, 128), RUNS (3), DB (data/demo.sqlite)
#   Each server's peak RSS (VmHWM) is printed after it stops.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/preamble.sh"
model="${1:-qwen2.5-coder-0.5b-instruct-q4_k_m.gguf}"; threads="${2:-2}"
[ -f "$model" ] || model="models/$model"
sessions=(${SESSIONS:-1 4 16 50}); scenarios=(${SCENARIOS:-decode gaps sessions}); db="${DB:-data/demo.sqlite}"
gen="${GEN:-128}"; runs="${RUNS:-3}"
llama_bin="$(scripts/llama-server.sh)"
out="$(mktemp -d)"; server=""
trap '[ -z "$server" ] || kill "$server" 2>/dev/null || true; rm -rf "$out"' EXIT
bench_machine
echo "model $(basename "$model"), $threads threads; llama.cpp from llama-cpp-python 0.3.36 ($llama_bin)"

wait_ready() {  # $1 log, $2 port (llama-server) or empty (kb: read the port from the log); prints the port
  local log="$1" port="${2:-}"
  for _ in $(seq 1 1200); do
    if [ -z "$port" ]; then
      local found
      found="$(grep -oE 'listening on http://127\.0\.0\.1:[0-9]+' "$log" | grep -oE '[0-9]+$' || true)"
      [ -n "$found" ] && { echo "$found"; return 0; }
    elif curl -sf "http://127.0.0.1:$port/health" > /dev/null 2>&1; then
      echo "$port"; return 0
    fi
    kill -0 "$server" 2>/dev/null || { cat "$log" >&2; return 1; }
    sleep 0.1
  done
  echo "server did not start" >&2; cat "$log" >&2; return 1
}
start_llama() {  # $1 slots
  local p=$((20000 + RANDOM % 20000))
  "$llama_bin/llama-server" -m "$model" --port "$p" -np "$1" -c $(( $1 * 2048 )) -t "$threads" -kvu > "$out/llama.log" 2>&1 &
  server=$!; port="$(wait_ready "$out/llama.log" "$p")"
}
start_kb() {  # $1 max generations
  cp "$db" "$out/kb.sqlite"; [ ! -f "$db-wal" ] || cp "$db-wal" "$out/kb.sqlite-wal"
  bin/kb serve --db "$out/kb.sqlite" --model "$model" --port 0 --threads "$threads" --max-generations "$1" \
    --generation-queue 256 > "$out/kb.log" 2>&1 &
  server=$!; port="$(wait_ready "$out/kb.log")"
}
stop() {
  echo "  peak RSS $(awk '/VmHWM/ {printf "%.0f MiB", $2 / 1024}' /proc/$server/status)"
  kill -TERM "$server"; wait "$server" 2>/dev/null || true; server=""
}

for scenario in "${scenarios[@]}"; do
  case "$scenario" in
    decode)
      .build/release/kb bench batch --model "$model" --threads "$threads" --streams 1,16 --prompt-tokens 128 \
        --gen-tokens "$gen" --repetitions "$runs"
      "$llama_bin/llama-batched-bench" -m "$model" -c $(( 16 * (128 + gen) )) -b 2048 -ub 512 -npp 128 -ntg "$gen" \
        -npl 1,16 -t "$threads" -kvu 2>&1 | grep -E '^\|' ;;
    gaps)
      .build/release/kb bench batch --model "$model" --threads "$threads" --streams 8 --prompt-tokens 128 \
        --gen-tokens 200 --repetitions 1 --arrival-period 4 --arrival-tokens 600 | tail -1
      start_llama 9
      echo "llama-server $(python3 bench/batching_client.py gaps 8 --port "$port" --gen-tokens 200 --period 4)"
      stop ;;
    sessions)
      python3 bench/batching_client.py passages "$out/passages.json" --db "$db"
      for n in "${sessions[@]}"; do
        start_kb "$(( n < 16 ? 16 : n ))"
        python3 bench/batching_client.py ask "$n" --port "$port" --max-tokens "${MAX_TOKENS:-64}" | sed 's/^/kb /'
        stop
        start_llama "$n"
        python3 bench/batching_client.py chat "$n" --port "$port" --max-tokens "${MAX_TOKENS:-64}" --passages "$out/passages.json" | sed 's/^/llama-server /'
        stop
      done ;;
  esac
done
