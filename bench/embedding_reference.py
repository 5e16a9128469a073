#!/usr/bin/env python3
"""Reference side of bench/embedding-throughput.sh: sentence-transformers on all-MiniLM-L6-v2.

Requires (in a venv, not the system Python; the CPU torch wheel):
    pip install torch==2.13.0 sentence-transformers==6.2.0 transformers==5.24.0

Usage:  embedding_reference.py --texts FILE.jsonl --threads N [--runs 3] [--batch-size 32]
        [--model models/all-minilm-l6-v2]

Encodes the `text` field of every line of FILE.jsonl the way sentence-transformers ships
all-MiniLM-L6-v2 (256 tokens at most, mean pooling, L2 normalization; `encode` sorts by length
and batches 32), with torch.set_num_threads(N). One untimed warm-up pass, then RUNS timed
passes; prints one JSON object: tokens (real tokens, [CLS] and [SEP] included, after truncation),
docs, per-run seconds and the median tokens/s and docs/s.
"""

import argparse
import json
import os
import pathlib
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402
from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
MAX_SEQ_LENGTH = 256


def load_model(folder: pathlib.Path) -> SentenceTransformer:
    # The model folder has the weights and tokenizer but not sentence-transformers' own
    # modules.json, so assemble the published all-MiniLM-L6-v2 pipeline explicitly.
    transformer = Transformer(str(folder), max_seq_length=MAX_SEQ_LENGTH)
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    return SentenceTransformer(modules=[transformer, pooling, Normalize()], device="cpu")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--model", default=str(ROOT / "models" / "all-minilm-l6-v2"))
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    with open(args.texts, encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f if line.strip()]
    model = load_model(pathlib.Path(args.model))
    tokenizer = model.tokenizer
    tokens = sum(
        min(len(ids), MAX_SEQ_LENGTH)
        for ids in tokenizer(texts, add_special_tokens=True, truncation=False)["input_ids"]
    )

    with torch.inference_mode():
        model.encode(texts[:64], batch_size=args.batch_size)  # warm-up
        seconds = []
        for _ in range(args.runs):
            start = time.perf_counter()
            model.encode(texts, batch_size=args.batch_size)
            seconds.append(time.perf_counter() - start)
    median = statistics.median(seconds)
    print(json.dumps({
        "engine": "sentence-transformers",
        "torch": torch.__version__,
        "threads": args.threads,
        "docs": len(texts),
        "tokens": tokens,
        "seconds": [round(s, 4) for s in seconds],
        "tokens_per_second": round(tokens / median, 1),
        "docs_per_second": round(len(texts) / median, 2),
    }))


if __name__ == "__main__":
    main()
