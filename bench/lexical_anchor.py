#!/usr/bin/env python3
"""SQLite-only anchor for `kb bench search`: runs the same FTS5 MATCH expressions with the same BM25
weights and LIMIT straight through Python's sqlite3 (the same SQLite 3.40 library), without kb's
chunk loading and snippets. Prints p50/p90/p99 in ms as JSON.

usage: lexical_anchor.py DB MATCH_FILE [TOP_K] [PASSES]
"""
import json
import sqlite3
import sys
import time

db, match_file = sys.argv[1], sys.argv[2]
top_k = int(sys.argv[3]) if len(sys.argv) > 3 else 10
passes = int(sys.argv[4]) if len(sys.argv) > 4 else 3
expressions = [line.rstrip("\n") for line in open(match_file, encoding="utf-8")]
expressions = [e for e in expressions if e]
conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
sql = "SELECT rowid, bm25(chunks_fts, 2.0, 1.0, 1.0) AS s FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY s LIMIT ?"
for e in expressions:  # warm-up
    conn.execute(sql, (e, top_k)).fetchall()
latencies = []
for _ in range(passes):
    for e in expressions:
        t = time.perf_counter()
        conn.execute(sql, (e, top_k)).fetchall()
        latencies.append((time.perf_counter() - t) * 1000)
latencies.sort()
pct = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))]
print(json.dumps({"queries": len(expressions), "passes": passes, "p50_ms": pct(0.5), "p90_ms": pct(0.9),
                  "p99_ms": pct(0.99), "mean_ms": sum(latencies) / len(latencies)}))
