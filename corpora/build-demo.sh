#!/usr/bin/env bash
# Small real corpus for tests and the demo (ingests in seconds): the HTML pages
# of the Python 3.11 documentation's tutorial, howto, faq and using sections,
# from Debian's python3.11-doc package, copied as-is (no _static assets).
# Output: corpora/out/demo/python-docs/{tutorial,howto,faq,using}/*.html
# (usage: build-demo.sh [--force])
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
parse_args "$@"

NAME=demo
OUT="$OUT_ROOT/$NAME/python-docs"
MANIFEST="$OUT_ROOT/manifests/$NAME.json"
SECTIONS=(tutorial howto faq using)
SUMMARY_CMD='echo "$NAME: $(find "$OUT" -type f -name "*.html" | wc -l) HTML files, $(size_bytes "$OUT") bytes -> ${OUT#$CORPORA_DIR/}/"'
skip_if_built "$OUT" "$MANIFEST"

start=$SECONDS
DOC="$(fetch_deb python3.11-doc)"
HTML="$DOC/usr/share/doc/python3.11/html"
TMP="$OUT.tmp"
rm -rf "$TMP"
mkdir -p "$TMP"
for s in "${SECTIONS[@]}"; do
    mkdir -p "$TMP/$s"
    # -L: copy file contents even if a Debian version ships symlinks
    find "$HTML/$s" -maxdepth 1 -type f -name '*.html' -print0 | sort -z |
        xargs -0 -r cp -L --preserve=timestamps -t "$TMP/$s"
done
# the pages must be UTF-8 text
bad=0
while IFS= read -r -d '' f; do
    iconv -f UTF-8 -t UTF-8 "$f" >/dev/null 2>&1 || { log "not UTF-8: $f"; bad=1; }
done < <(find "$TMP" -type f -print0)
[ "$bad" = 0 ]
rm -rf "$OUT"
mv "$TMP" "$OUT"
mkdir -p "$(dirname "$MANIFEST")"
cat > "$MANIFEST" <<JSON
{
  "output": "demo/python-docs",
  "source_packages": ["python3.11-doc=$(deb_version python3.11-doc)"],
  "sections": [$(printf '"%s",' "${SECTIONS[@]}" | sed 's/,$//')],
  "files": $(find "$OUT" -type f | wc -l),
  "bytes": $(size_bytes "$OUT")
}
JSON
log "built in $((SECONDS - start)) s"
eval "$SUMMARY_CMD"
