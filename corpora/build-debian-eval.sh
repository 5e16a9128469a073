#!/usr/bin/env bash
# English retrieval evaluation set (BEIR layout) from Debian package descriptions:
# query = a package's one-line synopsis, relevant document = its long description.
# Output: corpora/out/debian-eval/{corpus.jsonl,queries.jsonl,qrels/test.tsv}
# (usage: build-debian-eval.sh [--force])
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
parse_args "$@"

NAME=debian-eval
OUT="$OUT_ROOT/$NAME"
MANIFEST="$OUT_ROOT/manifests/$NAME.json"
SUMMARY_CMD='echo "$NAME: $(wc -l < "$OUT/corpus.jsonl") documents, $(wc -l < "$OUT/queries.jsonl") queries, $(size_bytes "$OUT") bytes -> ${OUT#$CORPORA_DIR/}/"'
skip_if_built "$OUT/corpus.jsonl" "$OUT/queries.jsonl" "$OUT/qrels/test.tsv" "$MANIFEST"

start=$SECONDS
ensure_python
ensure_apt_lists
python3 "$LIB_DIR/build_debian_eval.py" "$APT_DIR/lists" en "$OUT" "$MANIFEST" 1000 42
python3 "$LIB_DIR/check_jsonl.py" --quiet --beir "$OUT"
log "built in $((SECONDS - start)) s"
eval "$SUMMARY_CMD"
