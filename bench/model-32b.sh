#!/usr/bin/env bash
# Benchmark for issue 21: a model of the production size (Qwen2.5-32B-Instruct Q4_K_M's exact
# metadata, tensor names, shapes and types, random weights; 19.85 GB, written once by
# scripts/make-32b-shaped-gguf.py into models/synthetic/) in kb and in llama.cpp built for this CPU
# (llama-batched-bench, scripts/llama-server.sh), same file and threads, one after the other:
# load time, peak RSS, prompt (pp) and generation (tg) tokens/s, and generation's share of the
# measured memory read bandwidth (weights read per token × tokens/s ÷ bandwidth). Needs ~21 GiB of
# free memory and ~20 GB of disk; minutes per run. Never in CI.
# usage: bench/model-32b.sh [RUNS] [THREADS]   (PP, TG: test sizes, default 64 and 16)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/preamble.sh"
runs="${1:-1}"; t="${2:-$(nproc)}"
pp="${PP:-64}"; tg="${TG:-16}"
model=models/synthetic/qwen2.5-32b-instruct-shaped-q4_k_m.gguf
python="${PYTHON:-$root/.venv-llm/bin/python}"
[ -x "$python" ] || python=python3
if [ ! -f "$model" ]; then
  mkdir -p "$(dirname "$model")"
  "$python" scripts/make-32b-shaped-gguf.py models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf "$model"
fi
llama_bin="$(scripts/llama-server.sh)"
out="$(mktemp -d)"; trap 'rm -rf "$out"' EXIT
cc -O2 -pthread -o "$out/membw" bench/lib/membw.c
bench_machine
bandwidth="$("$out/membw" "$t")"
echo "memory read bandwidth, $t threads: $bandwidth GB/s; $model ($(stat -c %s "$model") bytes), pp$pp tg$tg, $runs runs"

/usr/bin/time -f "%M %e" -o "$out/kb-rss" .build/release/kb bench generate --model "$model" --threads "$t" \
  --prompt-tokens "$pp" --gen-tokens "$tg" --repetitions "$runs" --json > "$out/kb.json"
/usr/bin/time -f "%M %e" -o "$out/llama-rss" "$llama_bin/llama-batched-bench" -m "$model" -c $((pp + tg + 64)) -b "$pp" \
  -ub "$pp" -npp "$pp" -ntg "$tg" -npl 1 -t "$t" --output-format jsonl > "$out/llama.json" 2> "$out/llama.log"
python3 - "$out" "$model" "$bandwidth" "$runs" <<'PY'
import json, os, sys
out, model, bandwidth, runs = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
kb = json.load(open(f"{out}/kb.json"))
ll = json.loads([l for l in open(f"{out}/llama.json") if l.startswith("{")][-1])
size = os.path.getsize(model)
embedding = 152064 * 5120 * 144 // 256  # token_embd (Q4_K): one row is read per token, not the matrix
per_token = size - embedding
def rss_wall(name):
    rss, wall = open(f"{out}/{name}").read().split()[-2:]
    return int(rss) / 2**20, float(wall)
(kb_rss, kb_wall), (ll_rss, ll_wall) = rss_wall("kb-rss"), rss_wall("llama-rss")
kb_pp, kb_tg = (t["median_tokens_per_second"] for t in kb["tests"])
print(f"{'':12s} {'wall s':>7s} {'peak RSS GiB':>13s} {'pp t/s':>8s} {'tg t/s':>8s} {'tg GB/s':>8s} {'share of bandwidth':>19s}")
print(f"{'kb ' + kb['kernels']:12s} {kb_wall:7.1f} {kb_rss:13.2f} {kb_pp:8.2f} {kb_tg:8.3f} {kb_tg * per_token / 1e9:8.2f} {kb_tg * per_token / 1e9 / bandwidth:19.2f}")
print(f"{'llama.cpp':12s} {ll_wall:7.1f} {ll_rss:13.2f} {ll['speed_pp']:8.2f} {ll['speed_tg']:8.3f} {ll['speed_tg'] * per_token / 1e9:8.2f} {ll['speed_tg'] * per_token / 1e9 / bandwidth:19.2f}")
print(f"kb's load: {kb['load_ms'] / 1000:.1f} s (wall: the whole run, load included, {runs} runs and a warm-up for kb, one pass for llama.cpp)")
print(f"kb / llama.cpp: pp {kb_pp / ll['speed_pp']:.2f}x, tg {kb_tg / ll['speed_tg']:.2f}x")
PY
