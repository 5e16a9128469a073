#!/usr/bin/env bash
# A 5,000-document version of the Debian evaluation set for quick runs (embedding the full 60k-document
# corpus takes the better part of an hour on 2 cores): the same 1,000 queries and judgements, every
# judged document, and 4,000 seeded random distractors.
# Output: corpora/out/debian-eval-small/{corpus.jsonl,queries.jsonl,qrels/test.tsv}
# (usage: build-debian-eval-small.sh [--force])
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
parse_args "$@"

NAME=debian-eval-small
OUT="$OUT_ROOT/$NAME"
SUMMARY_CMD='echo "$NAME: $(wc -l < "$OUT/corpus.jsonl") documents, $(wc -l < "$OUT/queries.jsonl") queries -> ${OUT#$CORPORA_DIR/}/"'
skip_if_built "$OUT/corpus.jsonl" "$OUT/queries.jsonl" "$OUT/qrels/test.tsv"

"$CORPORA_DIR/build-debian-eval.sh"
ensure_python
python3 "$LIB_DIR/subsample_beir.py" "$OUT_ROOT/debian-eval" "$OUT" 5000 42
python3 "$LIB_DIR/check_jsonl.py" --quiet --beir "$OUT"
eval "$SUMMARY_CMD"
