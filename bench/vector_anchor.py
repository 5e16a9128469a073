#!/usr/bin/env python3
"""Anchors for `kb bench vectors`: the same vectors and queries through FAISS IndexFlatIP and
sqlite-vec (vec0, float32, exact), one query at a time, same thread count. Prints JSON.

Needs Debian's python3 (the pyenv build cannot load SQLite extensions) with faiss-cpu, sqlite-vec
and numpy; bench/vector-search.sh sets up that venv.

usage: vector_anchor.py VECTORS.f32 QUERIES.f32 DIMENSIONS K THREADS
"""
import json
import sqlite3
import sys
import time

import faiss
import numpy as np
import sqlite_vec

vectors_file, queries_file = sys.argv[1], sys.argv[2]
d, k, threads = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
X = np.fromfile(vectors_file, dtype="<f4").reshape(-1, d)
Q = np.fromfile(queries_file, dtype="<f4").reshape(-1, d)
faiss.omp_set_num_threads(threads)


def latency(samples):
    s = sorted(samples)
    return {"p50": s[len(s) // 2] * 1000, "p99": s[min(len(s) - 1, len(s) * 99 // 100)] * 1000}


index = faiss.IndexFlatIP(d)
index.add(X)
index.search(Q[:1], k)
faiss_times, faiss_ids = [], []
for q in Q:
    t = time.perf_counter()
    _, ids = index.search(q[None, :], k)
    faiss_times.append(time.perf_counter() - t)
    faiss_ids.append(set(ids[0].tolist()))

db = sqlite3.connect(":memory:")
db.enable_load_extension(True)
sqlite_vec.load(db)
db.execute(f"CREATE VIRTUAL TABLE v USING vec0(embedding float[{d}] distance_metric=cosine)")
t = time.perf_counter()
with db:
    db.executemany("INSERT INTO v(rowid, embedding) VALUES (?, ?)",
                   ((i, X[i].tobytes()) for i in range(X.shape[0])))
load_seconds = time.perf_counter() - t
vec_times, agree = [], 0
for n, q in enumerate(Q):
    t = time.perf_counter()
    rows = db.execute("SELECT rowid FROM v WHERE embedding MATCH ? AND k = ?", (q.tobytes(), k)).fetchall()
    vec_times.append(time.perf_counter() - t)
    agree += len({r[0] for r in rows} & faiss_ids[n])

print(json.dumps({"faiss_flat_ip": latency(faiss_times), "sqlite_vec": latency(vec_times),
                  "sqlite_vec_load_seconds": load_seconds,
                  "sqlite_vec_agreement_with_faiss": agree / (len(Q) * k),
                  "threads": threads, "count": int(X.shape[0])}))
