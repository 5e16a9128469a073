#!/usr/bin/env bash
# Benchmark for issue 4: exact top-10 search over 300,000 x 384 float32 vectors. kb's float32 scan and
# int8 scan (+ re-rank) against the memory-bandwidth bound measured in the same process, and the same
# vectors and queries through FAISS IndexFlatIP and sqlite-vec in the same run. Medians of RUNS runs.
# usage: bench/vector-search.sh [RUNS] [COUNT]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/preamble.sh"
runs="${1:-3}"; count="${2:-300000}"
venv="$root/.venv-bench"
if [ ! -x "$venv/bin/python" ]; then
  "$(bench_python_with_sqlite_extensions)" -m venv "$venv"   # sqlite-vec needs a sqlite3 that loads extensions
  "$venv/bin/pip" install -q faiss-cpu==1.15.1 sqlite-vec==0.1.6 numpy==2.4.6
fi
out="$(mktemp -d)"; trap 'rm -rf "$out"' EXIT
bench_machine
for run in $(seq 1 "$runs"); do
  /usr/bin/time -f '%M' -o "$out/rss" bin/kb bench vectors --count "$count" \
    --write-vectors "$out/x.f32" --write-queries "$out/q.f32" > "$out/kb.$run.json"
  "$venv/bin/python" bench/vector_anchor.py "$out/x.f32" "$out/q.f32" 384 10 "$(nproc)" > "$out/anchor.$run.json"
  echo "run $run: kb peak RSS $(( $(cat "$out/rss") / 1024 )) MiB"
done
python3 - "$out" "$runs" <<'PY'
import json, statistics, sys
out, runs = sys.argv[1], int(sys.argv[2])
kb = [json.load(open(f"{out}/kb.{r}.json")) for r in range(1, runs + 1)]
an = [json.load(open(f"{out}/anchor.{r}.json")) for r in range(1, runs + 1)]
med = lambda xs: statistics.median(xs)
bound = med([k["boundMilliseconds"] for k in kb])
print(f"{kb[0]['count']} x {kb[0]['dimensions']} float32 = {kb[0]['matrixMiB']:.0f} MiB; "
      f"stream {med([k['streamGBPerSecond'] for k in kb]):.1f} GB/s -> bound {bound:.2f} ms/query")
for name, key in [("kb float32 (SIMD scan)", "float32"), ("kb int8 + rerank", "int8")]:
    p50, p99 = med([k[key]["p50"] for k in kb]), med([k[key]["p99"] for k in kb])
    print(f"  {name:22s} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  p50/bound {p50 / bound:.2f}")
print(f"  int8 recall@10 vs float32: {med([k['int8RecallAtK'] for k in kb]):.4f}; "
      f"batched (sgemm, 16/batch): {med([k['batchedPerQueryMilliseconds'] for k in kb]):.2f} ms/query")
for name, key in [("FAISS IndexFlatIP", "faiss_flat_ip"), ("sqlite-vec vec0", "sqlite_vec")]:
    p50, p99 = med([a[key]["p50"] for a in an]), med([a[key]["p99"] for a in an])
    print(f"  {name:22s} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  (kb float32 p50 is {med([k['float32']['p50'] for k in kb]) / p50:.2f}x this)")
print(f"  sqlite-vec top-10 agreement with FAISS: {med([a['sqlite_vec_agreement_with_faiss'] for a in an]):.3f}")
PY
