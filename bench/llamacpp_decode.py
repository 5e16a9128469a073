"""llama.cpp's single-token decode speed, the anchor of MatMulBenchmarkTests.

Usage: python bench/llamacpp_decode.py MODEL.gguf THREADS [TOKENS]
Prints `tokens_per_second <median of 3 runs>`: each run evaluates a short prompt, then TOKENS
(default 48) tokens one at a time (a full forward pass each) and times those. Then
`prompt_tokens_per_second <median of 2 runs>`: a 512-token prompt evaluated as one batch.
Needs llama-cpp-python (the reference engine).
"""
import statistics
import sys
import time

from llama_cpp import Llama


def main() -> None:
    model, threads = sys.argv[1], int(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 48
    llm = Llama(model_path=model, n_threads=threads, n_threads_batch=threads, n_ctx=1024, n_batch=512, verbose=False)
    prompt = llm.tokenize(b"The quick brown fox jumps over the lazy dog.")
    rates = []
    for _ in range(3):
        llm.reset()
        llm.eval(prompt)
        token = prompt[-1]
        start = time.perf_counter()
        for _ in range(count):
            llm.eval([token])
        rates.append(count / (time.perf_counter() - start))
    print(f"tokens_per_second {statistics.median(rates):.3f}", flush=True)
    long_prompt = (prompt * 64)[:512]
    prompt_rates = []
    for _ in range(2):
        llm.reset()
        start = time.perf_counter()
        llm.eval(long_prompt)
        prompt_rates.append(len(long_prompt) / (time.perf_counter() - start))
    print(f"prompt_tokens_per_second {statistics.median(prompt_rates):.3f}")


if __name__ == "__main__":
    main()
