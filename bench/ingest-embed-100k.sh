#!/usr/bin/env bash
# Benchmark for issue 4: the full 100,000-document English ingest WITH embeddings
# (all-MiniLM-L6-v2 on OpenBLAS, every chunk embedded in the same transaction as its chunks).
# Reports wall time, CPU time, docs/s, chunks/s, peak RSS and database size.
# The database is kept (default data/english-100k.sqlite) for the search and serve benchmarks.
#
# usage: bench/ingest-embed-100k.sh [DB]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/preamble.sh"
db="${1:-data/english-100k.sqlite}"
corpora/build-english-100k.sh >/dev/null
mkdir -p "$(dirname "$db")"
rm -f "$db" "$db-wal" "$db-shm"
bench_machine
timing="$(mktemp)"
report="$(mktemp)"
trap 'rm -f "$timing" "$report"' EXIT
/usr/bin/time -f '%e %U %S %M' -o "$timing" bin/kb ingest --db "$db" --json corpora/out/english-100k > "$report"
python3 - "$report" "$timing" "$db" <<'PY'
import json, os, sys
report = json.load(open(sys.argv[1]))
wall, user, system, rss_kb = open(sys.argv[2]).read().split()
wall, cpu = float(wall), float(user) + float(system)
db = sys.argv[3]
size = sum(os.path.getsize(p) for p in (db, db + "-wal") if os.path.exists(p))
print(f"ingest with embeddings: {report['added']} docs, {report['chunks']} chunks in {wall:.0f} s wall "
      f"({cpu:.0f} s CPU) = {report['added'] / wall:.0f} docs/s, {report['chunks'] / wall:.0f} chunks/s; "
      f"db {size / 2**20:.1f} MiB; peak RSS {int(rss_kb) / 1024:.0f} MiB")
print(f"load during the run (end): {open('/proc/loadavg').read().split()[:3]}")
PY
