#!/usr/bin/env python3
"""llama.cpp anchors for `kb bench generate` and `kb bench ttft`, through llama-cpp-python on the
same GGUF file and thread count. Prints JSON shaped like kb's.

  generate_anchor.py speed MODEL THREADS PROMPT_TOKENS GEN_TOKENS REPETITIONS
      As llama-bench: ppN evaluates N random tokens on an empty context in one call (batches of
      512); tgN evaluates one random token at a time N times from an empty context. One warm-up
      run each, then REPETITIONS timed runs.
  generate_anchor.py ttft MODEL THREADS PROMPT_FILE PROMPT_TOKENS CACHED_TOKENS REPETITIONS
      The prompts of `kb bench ttft` (the same tokens: the tokenizers agree): cold on an empty
      context, then with the first CACHED_TOKENS tokens left in llama.cpp's KV cache (as its
      server's cache_prompt reuses a common prefix). Time to first token = evaluating + argmax.
  generate_anchor.py rag-prompt OUT_FILE FILE...
      Writes a RAG-style prompt (ChatML system turn with numbered passages from FILEs, then
      questions) long enough for `ttft`.

Needs llama-cpp-python (0.3.x) and numpy.
"""
import json
import statistics
import sys
import time

import llama_cpp
import numpy as np


def load(model, threads, n_ctx):
    from llama_cpp import Llama

    start = time.perf_counter()
    llm = Llama(model_path=model, n_threads=threads, n_threads_batch=threads, n_ctx=n_ctx, n_batch=512,
                n_ubatch=512, verbose=False)
    return llm, (time.perf_counter() - start) * 1000


def speed(model, threads, prompt_tokens, gen_tokens, repetitions):
    llm, load_ms = load(model, threads, max(prompt_tokens, gen_tokens) + 16)
    rng = np.random.default_rng(1234)
    vocab = llm.n_vocab()
    tests = []

    def measure(name, tokens, body):
        body()  # warm-up
        rates = []
        for _ in range(repetitions):
            llm.reset()
            start = time.perf_counter()
            body()
            rates.append(tokens / (time.perf_counter() - start))
        tests.append({"name": name, "tokens": tokens, "tokens_per_second": rates,
                      "median_tokens_per_second": statistics.median(rates)})

    if prompt_tokens > 0:
        prompt = rng.integers(0, vocab, prompt_tokens).tolist()

        def pp():
            llm.reset()
            llm.eval(prompt)
        measure(f"pp{prompt_tokens}", prompt_tokens, pp)
    if gen_tokens > 0:
        tokens = rng.integers(0, vocab, gen_tokens).tolist()

        def tg():
            llm.reset()
            for token in tokens:
                llm.eval([token])
        measure(f"tg{gen_tokens}", gen_tokens, tg)
    return {"model": model.rsplit("/", 1)[-1], "threads": threads, "load_ms": load_ms, "tests": tests}


def ttft(model, threads, prompt_file, prompt_tokens, cached_tokens, repetitions):
    llm, _ = load(model, threads, prompt_tokens + 16)
    text = open(prompt_file, encoding="utf-8").read()
    all_tokens = llm.tokenize(text.encode("utf-8"), add_bos=True, special=True)
    suffix = prompt_tokens - cached_tokens
    needed = cached_tokens + (repetitions + 1) * suffix
    if len(all_tokens) < needed:
        sys.exit(f"{prompt_file}: {len(all_tokens)} tokens; {needed} needed")
    prefix = all_tokens[:cached_tokens]

    def prompt(run):
        start = cached_tokens + run * suffix
        return prefix + all_tokens[start:start + suffix]

    def first_token(tokens, keep):
        # `keep` tokens of the previous context stay in the KV cache; eval() drops the rest.
        llm.n_tokens = keep
        start = time.perf_counter()
        llm.eval(tokens[keep:])
        # Llama.scores holds only n_batch rows without logits_all: read the last row from llama.cpp.
        logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm.ctx, -1), shape=(llm.n_vocab(),))
        int(np.argmax(logits))
        return (time.perf_counter() - start) * 1000

    first_token(prompt(0), 0)  # warm-up
    cold = [first_token(prompt(run), 0) for run in range(1, repetitions + 1)]
    warm = []
    for run in range(1, repetitions + 1):
        llm.n_tokens = 0
        llm.eval(prefix)
        warm.append(first_token(prompt(run), cached_tokens))
    return {"model": model.rsplit("/", 1)[-1], "threads": threads, "prompt_tokens": prompt_tokens,
            "cached_tokens": cached_tokens, "cold_ms": cold, "cached_ms": warm,
            "median_cold_ms": statistics.median(cold), "median_cached_ms": statistics.median(warm),
            "ratio": statistics.median(warm) / statistics.median(cold)}


def rag_prompt(out_file, files):
    passages = []
    for path in files:
        for block in open(path, encoding="utf-8").read().split("\n\n"):
            block = block.strip()
            if len(block) > 80:
                passages.append(block)
    parts = ["<|im_start|>system\nYou are kb, a knowledge-base assistant. Answer only from the numbered "
             "passages below and cite them as [n]. If the passages do not answer the question, say so.\n\n"]
    for number, passage in enumerate(passages, 1):
        parts.append(f"[{number}] {passage}\n\n")
    parts.append("<|im_end|>\n")
    questions = ["How does kb keep the database consistent when ingest is killed?",
                 "Which search modes exist and how are their results fused?",
                 "Where are model files read from, and how is OpenBLAS configured?",
                 "What happens to Chinese text in the full-text index?"]
    for question in questions * 8:
        parts.append(f"<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n"
                     "According to the passages, the answer depends on the sections cited below. ")
    with open(out_file, "w", encoding="utf-8") as out:
        out.write("".join(parts))


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "speed":
        print(json.dumps(speed(args[0], int(args[1]), int(args[2]), int(args[3]), int(args[4]))))
    elif command == "ttft":
        print(json.dumps(ttft(args[0], int(args[1]), args[2], int(args[3]), int(args[4]), int(args[5]))))
    elif command == "rag-prompt":
        rag_prompt(args[0], args[1:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
