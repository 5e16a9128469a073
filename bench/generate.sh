#!/usr/bin/env bash
# Benchmark for issue 5: kb's GGUF engine against llama.cpp (llama-cpp-python) in the same run, on
# the same GGUF files and thread counts: prompt processing (pp512) and generation (tg128) tokens/s
# for both models at 1 and 2 threads, and the time to first token of a 1,500-token RAG prompt cold
# and with its first 1,200 tokens cached. Medians of RUNS runs; prints the ratios kb / llama.cpp.
# usage: bench/generate.sh [RUNS] [THREADS...]
#   PYTHON: a python with llama-cpp-python (default: .venv-llm/bin/python in the checkout, else python3)
#   PP, TG: prompt and generation test sizes (default 512 and 128); MODELS: file names in models/;
#   SPEED=0 skips the pp/tg tests, TTFT=0 skips the time-to-first-token test; TTFT_PROMPT, TTFT_CACHED its sizes (1500, 1200)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/preamble.sh"
runs="${1:-3}"; shift || true
threads=("${@:-1 2}"); threads=(${threads[@]})
python="${PYTHON:-$root/.venv-llm/bin/python}"
[ -x "$python" ] || python=python3
"$python" -c 'import llama_cpp' || { echo "llama-cpp-python is missing for $python" >&2; exit 1; }
models=(${MODELS:-smollm2-135m-instruct-q4_1.gguf qwen2.5-coder-0.5b-instruct-q4_k_m.gguf})
pp="${PP:-512}"; tg="${TG:-128}"
kb=(.build/release/kb)
out="$(mktemp -d)"; trap 'rm -rf "$out"' EXIT
bench_machine
echo "llama-cpp-python $("$python" -c 'import llama_cpp; print(llama_cpp.__version__)'), $runs runs each"

for model in "${models[@]}"; do
  for t in "${threads[@]}"; do
    [ "${SPEED:-1}" = 1 ] || break
    "${kb[@]}" bench generate --model "models/$model" --threads "$t" --prompt-tokens "$pp" --gen-tokens "$tg" \
      --repetitions "$runs" --json > "$out/kb-$model-$t.json"
    "$python" bench/generate_anchor.py speed "models/$model" "$t" "$pp" "$tg" "$runs" > "$out/llama-$model-$t.json"
  done
done

"$python" bench/generate_anchor.py rag-prompt "$out/rag.txt" ARCHITECTURE.md README.md corpora/README.md
t="${threads[-1]}"
for model in "${models[@]}"; do
  [ "${TTFT:-1}" = 1 ] || break
  "${kb[@]}" bench ttft --model "models/$model" --threads "$t" --prompt-file "$out/rag.txt" \
    --prompt-tokens "${TTFT_PROMPT:-1500}" --cached-tokens "${TTFT_CACHED:-1200}" --repetitions "$runs" --json > "$out/kb-ttft-$model.json"
  "$python" bench/generate_anchor.py ttft "models/$model" "$t" "$out/rag.txt" "${TTFT_PROMPT:-1500}" "${TTFT_CACHED:-1200}" "$runs" > "$out/llama-ttft-$model.json"
done

python3 - "$out" "${threads[*]}" "${models[@]}" <<'PY'
import json, sys
out, threads, models = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
print(f"{'model':42s} {'thr':>3s} {'test':6s} {'kb t/s':>9s} {'llama.cpp':>10s} {'ratio':>6s}")
for model in models:
    for t in threads:
        try:
            kb = json.load(open(f"{out}/kb-{model}-{t}.json"))
        except FileNotFoundError:
            continue
        ll = json.load(open(f"{out}/llama-{model}-{t}.json"))
        for a, b in zip(kb["tests"], ll["tests"]):
            k, l = a["median_tokens_per_second"], b["median_tokens_per_second"]
            print(f"{model:42s} {t:>3s} {a['name']:6s} {k:9.2f} {l:10.2f} {k / l:6.2f}")
        print(f"{'':42s} {t:>3s} load: kb {kb['load_ms']:.0f} ms (peak RSS {kb['peak_rss_bytes'] / 2**20:.0f} MiB), "
              f"llama.cpp {ll['load_ms']:.0f} ms")
print()
for model in models:
    try:
        kb = json.load(open(f"{out}/kb-ttft-{model}.json"))
    except FileNotFoundError:
        continue
    ll = json.load(open(f"{out}/llama-ttft-{model}.json"))
    print(f"TTFT {model} ({kb['threads']} threads, {kb['prompt_tokens']}-token prompt, {kb['cached_tokens']} cached, "
          f"{kb['reused_tokens']} reused by kb): kb cold {kb['median_cold_ms']:.0f} ms, cached {kb['median_cached_ms']:.0f} ms "
          f"(ratio {kb['ratio']:.3f}); llama.cpp cold {ll['median_cold_ms']:.0f} ms, cached {ll['median_cached_ms']:.0f} ms "
          f"(ratio {ll['ratio']:.3f}); kb cold / llama.cpp cold {kb['median_cold_ms'] / ll['median_cold_ms']:.2f}")
PY
