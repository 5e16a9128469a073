#!/usr/bin/env bash
# English benchmark corpus: exactly 100,000 kb documents.
#   1. every unique Debian English long package description (bookworm main,
#      Translation-en): id debian:PKG, title "PKG: synopsis";
#   2. WordNet 3.0 synsets (wordnet-base) up to 100,000 in total:
#      id wordnet:POS:OFFSET, title = the synset's words, text = the gloss.
# Output: corpora/out/english-100k/docs.jsonl   (usage: build-english-100k.sh [--force])
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
parse_args "$@"

NAME=english-100k
OUT="$OUT_ROOT/$NAME/docs.jsonl"
MANIFEST="$OUT_ROOT/manifests/$NAME.json"
SUMMARY_CMD='echo "$NAME: $(wc -l < "$OUT") documents, $(size_bytes "$OUT") bytes -> ${OUT#$CORPORA_DIR/}"'
skip_if_built "$OUT" "$MANIFEST"

start=$SECONDS
ensure_python
ensure_apt_lists
WN="$(fetch_deb wordnet-base)"
CORPUS_SOURCES="wordnet-base=$(deb_version wordnet-base)" \
    python3 "$LIB_DIR/build_english_100k.py" "$APT_DIR/lists" "$WN/usr/share/wordnet" "$OUT" "$MANIFEST" 100000
python3 "$LIB_DIR/check_jsonl.py" --quiet "$OUT"
log "built in $((SECONDS - start)) s"
eval "$SUMMARY_CMD"
