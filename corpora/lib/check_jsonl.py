#!/usr/bin/env python3
"""Validate corpus files and print their document counts.

usage: check_jsonl.py [--quiet] FILE.jsonl...   kb documents ({"id","title","text"[,"url"][,"metadata"]})
       check_jsonl.py [--quiet] --beir DIR...   BEIR set (corpus.jsonl, queries.jsonl, qrels/test.tsv)

Every line must be valid UTF-8 JSON with the right keys and types, ids must be
unique, text non-empty and free of ANSI escapes / control characters.
Exit status 1 if anything is wrong (the first 20 problems are printed).
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus_io import validate_doc  # noqa: E402

MAX_ERRORS = 20


class Checker:
    def __init__(self):
        self.errors = 0

    def error(self, where, msg):
        self.errors += 1
        if self.errors <= MAX_ERRORS:
            print(f"{where}: {msg}", file=sys.stderr)

    def jsonl(self, path, validate):
        """Yield parsed objects of a JSONL file, reporting unparsable lines."""
        with open(path, "rb") as f:
            for n, raw in enumerate(f, 1):
                where = f"{path}:{n}"
                try:
                    obj = json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError) as e:
                    self.error(where, f"not valid UTF-8 JSON ({e})")
                    continue
                for msg in validate(obj):
                    self.error(where, msg)
                yield obj


def check_docs(c, path):
    ids = set()
    count = 0
    for d in c.jsonl(path, validate_doc):
        count += 1
        i = d.get("id") if isinstance(d, dict) else None
        if isinstance(i, str):
            if i in ids:
                c.error(path, f"duplicate id {i!r}")
            ids.add(i)
    return f"{path}: {count} documents, {os.path.getsize(path)} bytes"


def _beir_obj(keys):
    def validate(o):
        if not isinstance(o, dict):
            return ["not a JSON object"]
        errs = [f"'{k}' missing or not a string" for k in keys if not isinstance(o.get(k), str)]
        if isinstance(o.get("_id"), str) and not o["_id"]:
            errs.append("empty _id")
        if isinstance(o.get("text"), str) and not o["text"].strip():
            errs.append("empty text")
        return errs
    return validate


def check_beir(c, d):
    corpus = [o.get("_id") for o in c.jsonl(os.path.join(d, "corpus.jsonl"), _beir_obj(("_id", "title", "text")))]
    queries = [o.get("_id") for o in c.jsonl(os.path.join(d, "queries.jsonl"), _beir_obj(("_id", "text")))]
    for name, ids in (("corpus", corpus), ("queries", queries)):
        if len(set(ids)) != len(ids):
            c.error(d, f"duplicate ids in {name}")
    corpus_ids, query_ids = set(corpus), set(queries)
    qrels_path = os.path.join(d, "qrels", "test.tsv")
    n_qrels = 0
    judged = set()
    with open(qrels_path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n")
        if header != "query-id\tcorpus-id\tscore":
            c.error(qrels_path, f"bad header {header!r}")
        for n, line in enumerate(f, 2):
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3 or not parts[2].lstrip("-").isdigit():
                c.error(f"{qrels_path}:{n}", "expected query-id<TAB>corpus-id<TAB>integer score")
                continue
            if parts[0] not in query_ids:
                c.error(f"{qrels_path}:{n}", f"unknown query {parts[0]!r}")
            if parts[1] not in corpus_ids:
                c.error(f"{qrels_path}:{n}", f"unknown document {parts[1]!r}")
            judged.add(parts[0])
            n_qrels += 1
    if query_ids - judged:
        c.error(d, f"{len(query_ids - judged)} queries have no judgement")
    return f"{d}: {len(corpus)} documents, {len(queries)} queries, {n_qrels} qrels"


def main(argv):
    quiet = "--quiet" in argv
    argv = [a for a in argv if a != "--quiet"]
    beir = "--beir" in argv
    paths = [a for a in argv if a != "--beir"]
    if not paths:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    c = Checker()
    for p in paths:
        summary = check_beir(c, p) if beir else check_docs(c, p)
        if not quiet:
            print(summary)
    if c.errors:
        print(f"{c.errors} problem(s) found", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
