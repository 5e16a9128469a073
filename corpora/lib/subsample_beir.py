"""Derives a smaller BEIR set: every judged document, plus a seeded random sample of the other
documents as distractors, with the same queries and judgements.

usage: subsample_beir.py SOURCE_DIR OUT_DIR TOTAL_DOCUMENTS [SEED]
"""
import json
import os
import random
import sys


def main():
    source, out, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 42
    with open(os.path.join(source, "qrels", "test.tsv"), encoding="utf-8") as f:
        qrels = f.read().splitlines()
    judged = {line.split("\t")[1] for line in qrels[1:] if line.strip()}
    with open(os.path.join(source, "corpus.jsonl"), encoding="utf-8") as f:
        corpus = [line for line in f if line.strip()]
    ids = [json.loads(line)["_id"] for line in corpus]
    others = [i for i, doc_id in enumerate(ids) if doc_id not in judged]
    keep = {i for i, doc_id in enumerate(ids) if doc_id in judged}
    keep.update(random.Random(seed).sample(others, max(0, min(len(others), total - len(keep)))))
    os.makedirs(os.path.join(out, "qrels"), exist_ok=True)
    with open(os.path.join(out, "corpus.jsonl"), "w", encoding="utf-8") as f:
        f.writelines(corpus[i] for i in sorted(keep))
    with open(os.path.join(source, "queries.jsonl"), encoding="utf-8") as src, \
            open(os.path.join(out, "queries.jsonl"), "w", encoding="utf-8") as dst:
        dst.write(src.read())
    with open(os.path.join(out, "qrels", "test.tsv"), "w", encoding="utf-8") as f:
        f.write("\n".join(qrels) + "\n")
    print(f"{len(keep)} documents ({len(judged)} judged), {len(qrels) - 1} judgements", file=sys.stderr)


if __name__ == "__main__":
    main()
