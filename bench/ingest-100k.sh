#!/usr/bin/env bash
# Benchmark for issue 3: ingest of the 100,000-document English corpus without embeddings (the
# pipeline's own cost: read, parse, chunk, store, index), then lexical search latency
# over the 1,000 Debian synopsis queries, with an SQLite-only anchor run in the same session.
# Reports docs/s, database size, peak RSS, and p50/p90/p99 latency for kb and for bare FTS5.
#
# usage: bench/ingest-100k.sh [RUNS]     (default 3 ingest runs; medians reported)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/preamble.sh"
runs="${1:-3}"
corpora/build-english-100k.sh >/dev/null
corpora/build-debian-eval.sh >/dev/null
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
bench_machine

for run in $(seq 1 "$runs"); do
  rm -f "$out"/kb.sqlite*
  /usr/bin/time -f '%e %M' -o "$out/time.$run" bin/kb ingest --db "$out/kb.sqlite" --no-embed --json corpora/out/english-100k \
    > "$out/ingest.$run.json"
  python3 - "$out/ingest.$run.json" "$out/time.$run" "$out/kb.sqlite" <<'PY'
import json, os, sys
report = json.load(open(sys.argv[1]))
wall, rss_kb = open(sys.argv[2]).read().split()
size = os.path.getsize(sys.argv[3]) + (os.path.getsize(sys.argv[3] + "-wal") if os.path.exists(sys.argv[3] + "-wal") else 0)
print(f"ingest: {report['added']} docs, {report['chunks']} chunks in {float(wall):.1f} s = "
      f"{report['added'] / float(wall):.0f} docs/s; db {size / 2**20:.1f} MiB; peak RSS {int(rss_kb) / 1024:.0f} MiB")
PY
done

echo "re-run on the same database (everything unchanged):"
/usr/bin/time -f '  %e s wall, peak RSS %M KiB' bin/kb ingest --db "$out/kb.sqlite" --no-embed -q corpora/out/english-100k 2>&1 | tail -2

queries=corpora/out/debian-eval/queries.jsonl
echo "lexical search, $(wc -l < "$queries") queries x 3 passes, top 10:"
for run in 1 2 3; do
  kb_json="$(bin/kb bench search --db "$out/kb.sqlite" --json --write-match-expressions "$out/match.txt" "$queries")"
  anchor_json="$(python3 bench/lexical_anchor.py "$out/kb.sqlite" "$out/match.txt" 10 3)"
  python3 - "$kb_json" "$anchor_json" <<'PY'
import json, sys
kb, anchor = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"  kb:            p50 {kb['p50_ms']:.2f} ms  p90 {kb['p90_ms']:.2f} ms  p99 {kb['p99_ms']:.2f} ms")
print(f"  sqlite anchor: p50 {anchor['p50_ms']:.2f} ms  p90 {anchor['p90_ms']:.2f} ms  p99 {anchor['p99_ms']:.2f} ms"
      f"   (kb/anchor p50 {kb['p50_ms'] / anchor['p50_ms']:.2f}x, p99 {kb['p99_ms'] / anchor['p99_ms']:.2f}x)")
PY
done
