#!/usr/bin/env bash
# Embedding throughput: kb's MiniLMEmbedder against sentence-transformers (same model, same texts,
# same thread count), with the fraction of the sgemm roofline kb reaches.
#
# Usage: bench/embedding-throughput.sh [DOCS]        (default 2000)
# Env:   THREADS="1 2"   thread counts to measure
#        RUNS=3          timed runs per engine and thread count (the table shows medians)
#        KB_BENCH_VENV=DIR   Python venv for the reference (default .venv-bench-embedding); created if missing with
#                        torch==2.13.0 (CPU) sentence-transformers==6.2.0 transformers==5.24.0
#        KB_BENCH_SCRATCH=.build-emb   SwiftPM scratch path for the release build
#
# Texts: the `text` field of the first DOCS lines of corpora/out/debian-eval/corpus.jsonl.
# kb runs as an XCTest (Tests/KBEmbeddingTests/EmbeddingThroughputBenchmark.swift) built with
# `-c release -Xswiftc -target-cpu -Xswiftc native`; its T threads are T workers over
# single-threaded OpenBLAS. The reference (bench/embedding_reference.py) runs
# torch.set_num_threads(T). Runs alternate between the two engines so that load from other
# processes on the machine falls on both alike. Each process loads the model and warms up
# before its timed run. Prints a Markdown table; raw JSON lines are kept in $OUT (default a
# temporary file, printed at the end).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/preamble.sh"

docs="${1:-2000}"
threads_list="${THREADS:-1 2}"
runs="${RUNS:-3}"
venv="${KB_BENCH_VENV:-$root/.venv-bench-embedding}"
scratch="${KB_BENCH_SCRATCH:-.build-emb}"
corpus="corpora/out/debian-eval/corpus.jsonl"
say() { printf '[embedding-throughput] %s\n' "$*" >&2; }

[ -f "$corpus" ] || { say "missing $corpus (build the corpora first)"; exit 1; }
[ -f models/all-minilm-l6-v2/model.safetensors ] || scripts/fetch-models.sh minilm
if [ ! -x "$venv/bin/python" ]; then
  say "creating $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet torch==2.13.0 sentence-transformers==6.2.0 transformers==5.24.0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
texts="$tmp/texts.jsonl"
head -n "$docs" "$corpus" > "$texts"
out="${OUT:-$(mktemp -t embedding-throughput.XXXXXX.jsonl)}"
: > "$out"

swift_test=(swift test --scratch-path "$scratch" -c release -Xswiftc -target-cpu -Xswiftc native
            --filter EmbeddingThroughputBenchmark)
say "building (release, native CPU)"
"${swift_test[@]}" > "$tmp/build.log" 2>&1 || { cat "$tmp/build.log" >&2; exit 1; }

for threads in $threads_list; do
  for run in $(seq "$runs"); do
    say "threads $threads, run $run/$runs: kb"
    KB_BENCH=1 KB_BENCH_THREADS="$threads" KB_BENCH_RUNS=1 KB_BENCH_TEXTS="$texts" KB_BENCH_DOCS="$docs" \
      OPENBLAS_NUM_THREADS=1 "${swift_test[@]}" --skip-build 2>&1 | sed -n 's/^KB_BENCH_JSON //p' >> "$out"
    say "threads $threads, run $run/$runs: sentence-transformers"
    HF_HUB_OFFLINE=1 "$venv/bin/python" bench/embedding_reference.py --texts "$texts" --threads "$threads" \
      --runs 1 2>/dev/null >> "$out"
  done
done

python3 - "$out" <<'EOF'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
print("| threads | engine | tokens/s | docs/s | run seconds | sgemm GFLOP/s | roofline |")
print("|---|---|---|---|---|---|---|")
for threads in sorted({r["threads"] for r in rows}):
    medians = {}
    for engine in ("kb", "sentence-transformers"):
        group = [r for r in rows if r["threads"] == threads and r["engine"] == engine]
        if not group:
            continue
        seconds = [s for r in group for s in r["seconds"]]
        median = statistics.median(seconds)
        tokens, docs = group[0]["tokens"], group[0]["docs"]
        medians[engine] = tokens / median
        sgemm = statistics.median(r["sgemm_gflops"] for r in group) if engine == "kb" else None
        roofline = (group[0]["model_gflop"] / median / sgemm) if sgemm else None
        print(f"| {threads} | {engine} | {tokens / median:,.0f} | {docs / median:.1f} | "
              f"{', '.join(f'{s:.1f}' for s in seconds)} | {f'{sgemm:.1f}' if sgemm else ''} | "
              f"{f'{roofline:.0%}' if roofline else ''} |")
    if len(medians) == 2:
        print(f"| {threads} | **kb / reference** | **{medians['kb'] / medians['sentence-transformers']:.2f}x** | | | | |")
print(f"\n{rows[0]['docs']} texts, {rows[0]['tokens']} tokens; raw results: {sys.argv[1]}")
EOF
