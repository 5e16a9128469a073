#!/usr/bin/env python3
"""Compares ways to make Chinese lexically searchable in SQLite FTS5 (issue 3, item 5).

Options, each a contentless FTS5 table over the same Chinese documents:
  trigram   FTS5's trigram tokenizer on the raw text (substring search for 3+ characters)
  unigram   unicode61 over text with every CJK character spaced out; queries are phrases of characters (kb's choice)
  bigram    unicode61 over overlapping character bigrams; 1-character queries use a prefix query
For 1-, 2- and 3/4-character queries sampled from the corpus, the ground truth is every document
containing the query as a substring; recall is averaged over queries. Index size is the FTS shadow
tables' pages. Uses only Python's sqlite3 (SQLite 3.40, as kb links).

usage: cjk_fts_options.py [DOCS_JSONL]   (default corpora/out/chinese/docs.jsonl, first 20,000 docs)
"""
import json, os, random, sqlite3, sys, tempfile, time

path = sys.argv[1] if len(sys.argv) > 1 else "corpora/out/chinese/docs.jsonl"
docs = []
with open(path, encoding="utf-8") as f:
    for line in f:
        d = json.loads(line)
        docs.append(d["title"] + "\n" + d["text"])
        if len(docs) >= 20000:
            break

def is_cjk(c):
    o = ord(c)
    return 0x3040 <= o <= 0x30FF or 0x3400 <= o <= 0x4DBF or 0x4E00 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x2FA1F

def unigram(text):
    return "".join(f" {c} " if is_cjk(c) else c for c in text)

def bigram(text):
    out, run = [], []
    def flush():
        if len(run) == 1:
            out.append(run[0])
        out.extend(run[i] + run[i + 1] for i in range(len(run) - 1))
        run.clear()
    word = []
    for c in text:
        if is_cjk(c):
            if word: out.append("".join(word)); word.clear()
            run.append(c)
        else:
            flush()
            if c.isalnum(): word.append(c)
            elif word: out.append("".join(word)); word.clear()
    flush()
    if word: out.append("".join(word))
    return " ".join(out)

def query(option, q):
    if option == "trigram":
        return '"' + q + '"' if len(q) >= 3 else None
    if option == "unigram":
        return '"' + " ".join(q) + '"'
    if len(q) == 1:
        return q + "*"
    return '"' + " ".join(q[i:i + 2] for i in range(len(q) - 1)) + '"'

rng = random.Random(7)
samples = {1: [], 2: [], 3: []}
while any(len(v) < 100 for v in samples.values()):
    d = rng.choice(docs)
    runs = [i for i, c in enumerate(d) if is_cjk(c)]
    if not runs: continue
    i = rng.choice(runs)
    for n in (1, 2, 3):
        length = n if n < 3 else rng.choice([3, 4])
        q = d[i:i + length]
        if len(q) == length and all(is_cjk(c) for c in q) and len(samples[n]) < 100:
            samples[n].append(q)

truth = {q: {i + 1 for i, d in enumerate(docs) if q in d} for qs in samples.values() for q in qs}
results = {}
tmp = tempfile.mkdtemp()
for option, tokenize, transform in [("trigram", "trigram", lambda t: t),
                                    ("unigram", "unicode61", unigram),
                                    ("bigram", "unicode61", bigram)]:
    db = os.path.join(tmp, option + ".db")
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA page_size=8192")
    conn.execute(f"CREATE VIRTUAL TABLE fts USING fts5(body, content='', tokenize='{tokenize}')")
    t = time.perf_counter()
    with conn:
        conn.executemany("INSERT INTO fts(rowid, body) VALUES (?, ?)", ((i + 1, transform(d)) for i, d in enumerate(docs)))
    build = time.perf_counter() - t
    conn.execute("VACUUM")
    size = os.path.getsize(db)
    recall = {}
    latency = []
    for n, qs in samples.items():
        r = []
        for q in qs:
            m = query(option, q)
            if m is None:
                r.append(0.0); continue
            t = time.perf_counter()
            found = {row[0] for row in conn.execute("SELECT rowid FROM fts WHERE fts MATCH ?", (m,))}
            latency.append((time.perf_counter() - t) * 1000)
            r.append(len(found & truth[q]) / len(truth[q]))
        recall[n] = sum(r) / len(r)
    conn.close()
    results[option] = {"index_mib": round(size / 2**20, 2), "build_s": round(build, 2),
                       "recall_1_char": round(recall[1], 3), "recall_2_chars": round(recall[2], 3),
                       "recall_3_4_chars": round(recall[3], 3),
                       "median_query_ms": round(sorted(latency)[len(latency) // 2], 3)}
text_mib = sum(len(d.encode()) for d in docs) / 2**20
print(json.dumps({"documents": len(docs), "text_mib": round(text_mib, 2), "options": results}, indent=2))
