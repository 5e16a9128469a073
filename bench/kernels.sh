#!/usr/bin/env bash
# Benchmark for issue 21: kb's kernel families against llama.cpp built for this CPU, same run, same
# GGUF files and threads. For each model and thread count: prompt processing (pp512) and generation
# (tg128) tokens/s of kb with each kernel family the CPU runs (KB_KERNELS=avx2, avxvnni, avx512),
# and of llama.cpp (llama-batched-bench, one sequence, built with GGML_NATIVE=ON by
# scripts/llama-server.sh, cached per machine); medians of RUNS runs; ratios of kb's best family
# to llama.cpp.
# usage: bench/kernels.sh [RUNS] [THREADS...]
#   MODELS: file names in models/ (default: SmolLM2-135M, Qwen2.5-Coder-0.5B and 1.5B); PP, TG: test sizes
#   Then the cold time to first token of a 1,500-token RAG prompt (bench/generate_anchor.py rag-prompt,
#   PYTHON with llama-cpp-python) on the Qwen models at the last thread count: kb (best family)
#   against llama.cpp's time for a 1,500-token prompt and one token.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/preamble.sh"
runs="${1:-3}"; shift || true
threads=("${@:-1 2}"); threads=(${threads[@]})
models=(${MODELS:-smollm2-135m-instruct-q4_1.gguf qwen2.5-coder-0.5b-instruct-q4_k_m.gguf qwen2.5-coder-1.5b-instruct-q4_k_m.gguf})
pp="${PP:-512}"; tg="${TG:-128}"
llama_bin="$(scripts/llama-server.sh)"
out="$(mktemp -d)"; trap 'rm -rf "$out"' EXIT
bench_machine
echo "flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|fma|f16c|avx_vnni|avx512f|avx512bw|avx512vl|avx512_vnni|avx512_bf16)$' | xargs)"
families=()
for family in avx2 avxvnni avx512; do
  KB_KERNELS=$family .build/release/kb bench generate --model models/"${models[0]}" --prompt-tokens 0 --gen-tokens 1 \
    --repetitions 1 --json 2>/dev/null | grep -q "\"kernels\" *: *\"$family\"" && families+=("$family")
done
echo "kb kernel families on this CPU: ${families[*]}; llama.cpp: $llama_bin; $runs runs each"

for model in "${models[@]}"; do
  for t in "${threads[@]}"; do
    for family in "${families[@]}"; do
      KB_KERNELS=$family .build/release/kb bench generate --model "models/$model" --threads "$t" --prompt-tokens "$pp" \
        --gen-tokens "$tg" --repetitions "$runs" --json > "$out/kb-$family-$model-$t.json"
    done
    for r in $(seq "$runs"); do
      "$llama_bin/llama-batched-bench" -m "models/$model" -c $((pp + tg + 64)) -b "$pp" -ub "$pp" -npp "$pp" -ntg "$tg" \
        -npl 1 -t "$t" --output-format jsonl 2>/dev/null | grep '^{' > "$out/llama-$model-$t-$r.json"
    done
  done
done

python="${PYTHON:-$root/.venv-llm/bin/python}"
[ -x "$python" ] || python=python3
t="${threads[-1]}"
if "$python" bench/generate_anchor.py rag-prompt "$out/rag.txt" ARCHITECTURE.md README.md corpora/README.md 2>/dev/null; then
  for model in "${models[@]}"; do
    case "$model" in qwen*) ;; *) continue ;; esac
    .build/release/kb bench ttft --model "models/$model" --threads "$t" --prompt-file "$out/rag.txt" --prompt-tokens 1500 \
      --cached-tokens 1200 --repetitions "$runs" --json > "$out/kb-ttft-$model.json"
    for r in $(seq "$runs"); do
      "$llama_bin/llama-batched-bench" -m "models/$model" -c 1600 -b 2048 -ub 512 -npp 1500 -ntg 1 -npl 1 -t "$t" \
        --output-format jsonl 2>/dev/null | grep '^{' > "$out/llama-ttft-$model-$r.json"
    done
  done
else
  echo "no llama-cpp-python for $python: the TTFT comparison is skipped" >&2
fi

python3 - "$out" "$runs" "${threads[*]}" "${families[*]}" "${models[@]}" <<'PY'
import json, statistics, sys
out, runs, threads, families, models = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), sys.argv[4].split(), sys.argv[5:]
print(f"{'model':42s} {'thr':>3s} {'test':6s} " + " ".join(f"{'kb ' + f:>12s}" for f in families) + f" {'llama.cpp':>10s} {'best/llama':>10s}")
for model in models:
    for t in threads:
        kb = {f: json.load(open(f"{out}/kb-{f}-{model}-{t}.json")) for f in families}
        ll = [json.loads(open(f"{out}/llama-{model}-{t}-{r}.json").read().splitlines()[-1]) for r in range(1, runs + 1)]
        anchors = [statistics.median(x["speed_pp"] for x in ll), statistics.median(x["speed_tg"] for x in ll)]
        for i, anchor in enumerate(anchors):
            speeds = [kb[f]["tests"][i]["median_tokens_per_second"] for f in families]
            name = kb[families[0]]["tests"][i]["name"]
            print(f"{model:42s} {t:>3s} {name:6s} " + " ".join(f"{s:12.1f}" for s in speeds) + f" {anchor:10.1f} {speeds[-1] / anchor:10.2f}")
print()
for model in models:
    try:
        kb = json.load(open(f"{out}/kb-ttft-{model}.json"))
    except FileNotFoundError:
        continue
    ll = [json.loads(open(f"{out}/llama-ttft-{model}-{r}.json").read().splitlines()[-1]) for r in range(1, runs + 1)]
    anchor = statistics.median(x["t_pp"] + x["t_tg"] for x in ll) * 1000
    print(f"{model}: cold TTFT of a {kb['prompt_tokens']}-token RAG prompt, {kb['threads']} threads: kb {kb['median_cold_ms']:.0f} ms, "
          f"llama.cpp {anchor:.0f} ms (1,500-token prompt + 1 token): {kb['median_cold_ms'] / anchor:.2f}x; "
          f"kb with {kb['reused_tokens']} tokens cached: {kb['median_cached_ms']:.0f} ms")
PY
