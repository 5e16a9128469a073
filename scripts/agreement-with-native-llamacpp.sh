#!/usr/bin/env bash
# How far kb is from llama.cpp built for this CPU (AVX-512 where it has it), on the generation
# fixture's prompts: per model and prompt, the largest logit difference of the prompt's last
# position and whether the next token (argmax) is the same. kb gives llama.cpp's AVX2 build's bits
# in every kernel family (the tests hold that); llama.cpp's AVX-512 build sums attention and SwiGLU
# in other orders, so its logits differ from its own AVX2 build's by as much.
# usage: scripts/agreement-with-native-llamacpp.sh [MODEL...]   (builds llama-cpp-python once, cached)
set -euo pipefail
cd "$(dirname "$0")/.."
python="$(scripts/llama-cpp-python-native.sh)"
models=("${@:-qwen2.5-coder-0.5b-instruct-q4_k_m.gguf smollm2-135m-instruct-q4_1.gguf qwen2.5-coder-1.5b-instruct-q4_k_m.gguf}")
models=(${models[@]})
prompts=("The capital of France is" "def fibonacci(n):" "北京是中国的")
same=0; total=0
for model in "${models[@]}"; do
  for prompt in "${prompts[@]}"; do
    report="$("$python" scripts/compare-with-llamacpp.py "models/$model" "$prompt" 2>/dev/null || true)"
    logits="$(grep '^result_output' <<<"$report" | sed 's/ \+/ /g' | cut -d' ' -f4)"
    next="$(grep '^next token' <<<"$report")"
    printf '%-42s %-26s max |Δlogit| %s; %s\n' "$model" "$prompt" "$logits" "${next#next token: }"
    total=$((total + 1)); grep -q '(same' <<<"$next" && same=$((same + 1))
  done
done
echo "same next token: $same of $total"
