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
#             five passages kb's search returns for it; TTFT p50/p90, tokens/s, cold and warm;
#   rate      the highest arrival rate (Poisson, 45 s at each rate, rising by 1.5x from 0.1/s)
#             whose TTFT p90 stays within 2x the unloaded TTFT, for kb and for llama-server (-np 16).
# usage: bench/batching.sh [MODEL=qwen2.5-coder-0.5b-instruct-q4_k_m.gguf] [THREADS=2]
#   SCENARIOS="decode gaps sessions rate", SESSIONS, MAX_TOKENS (sessions, 64), GEN (decode, 128), RUNS (3), DB (data/demo.sqlite)
#   Each server's peak RSS (VmHWM) is printed after it stops.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/preamble.sh"
model="${1:-qwen2.5-coder-0.5b-instruct-q4_k_m.gguf}"; threads="${2:-2}"
[ -f "$model" ] || model="models/$model"
sessions=(${SESSIONS:-1 4 16 50}); scenarios=(${SCENARIOS:-decode gaps sessions rate}); db="${DB:-data/demo.sqlite}"
gen="${GEN:-128}"; runs="${RUNS:-3}"
llama_bin="$(scripts/llama-server.sh)"
# KiB of F16 keys and values per token: 2 × layers × KV heads × head size × 2 bytes.
token_kib="$(python3 - "$model" <<'PY'
import struct, sys
# Reads the GGUF metadata for block_count, head_count_kv, embedding_length and head_count.
def read(f, fmt):
    return struct.unpack("<" + fmt, f.read(struct.calcsize("<" + fmt)))[0]
def string(f):
    return f.read(read(f, "Q")).decode("utf-8", "replace")
sizes = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
def value(f, kind):
    if kind == 8:
        return string(f)
    if kind == 9:
        inner, count = read(f, "I"), read(f, "Q")
        return [value(f, inner) for _ in range(count)]
    return read(f, sizes[kind])
with open(sys.argv[1], "rb") as f:
    f.read(4); read(f, "I"); read(f, "Q"); count = read(f, "Q")
    meta = {}
    for _ in range(count):
        key = string(f)
        meta[key] = value(f, read(f, "I"))
arch = meta["general.architecture"]
layers, kv, width, heads = (meta[f"{arch}.{k}"] for k in ["block_count", "attention.head_count_kv", "embedding_length", "attention.head_count"])
print(2 * layers * kv * (width // heads) * 2 // 1024)
PY
)"
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
start_kb() {  # $1 max generations; the KV pool as large as llama-server's cache for as many slots (2,048 tokens each)
  cp "$db" "$out/kb.sqlite"; [ ! -f "$db-wal" ] || cp "$db-wal" "$out/kb.sqlite-wal"
  bin/kb serve --db "$out/kb.sqlite" --model "$model" --port 0 --threads "$threads" --max-generations "$1" \
    --generation-queue 256 --kv-cache "$(( $1 * 2048 * token_kib / 1024 + 1 ))M" > "$out/kb.log" 2>&1 &
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
    rate)
      [ -f "$out/passages.json" ] || python3 bench/batching_client.py passages "$out/passages.json" --db "$db"
      for engine in kb llama; do
        if [ "$engine" = kb ]; then start_kb 16; else start_llama 16; fi
        unloaded="$(python3 bench/batching_client.py rate 0 --engine "$engine" --port "$port" --max-tokens 32 --passages "$out/passages.json")"
        echo "$engine unloaded: $unloaded"
        base="$(echo "$unloaded" | python3 -c 'import json, sys; print(json.load(sys.stdin)["ttft_p50_ms"])')"
        best=0
        for r in 0.1 0.15 0.22 0.33 0.5 0.75 1.1 1.7 2.5; do
          line="$(python3 bench/batching_client.py rate "$r" --engine "$engine" --port "$port" --max-tokens 32 --passages "$out/passages.json")"
          echo "$engine $line"
          p90="$(echo "$line" | python3 -c 'import json, sys; print(json.load(sys.stdin)["ttft_p90_ms"] or 1e12)')"
          python3 -c "import sys; sys.exit(0 if $p90 <= 2 * $base else 1)" || break
          best="$r"
        done
        echo "$engine: highest rate with TTFT p90 <= 2x unloaded ($base ms): $best/s"
        stop
      done ;;
  esac
done
