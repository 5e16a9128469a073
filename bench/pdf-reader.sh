#!/usr/bin/env bash
# PDF pages per second: kb's reader (`kb bench read`: pdftotext -bbox-layout in a child process plus
# kb's layout pass) against pdftotext alone (plain text, and the -bbox-layout XML kb reads), on the
# same files, median of 3 runs each, with peak RSS. Files: the 200-page generated PDF
# (scripts/fixtures/make-documents.sh) and the PDFs Debian packages ship under /usr/share/doc, or the
# files given as arguments.
# Usage: bench/pdf-reader.sh [FILE.pdf...]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/preamble.sh"
if [ "$#" -gt 0 ]; then
  files=("$@")
else
  files=("$(scripts/fixtures/make-documents.sh)/bench-200.pdf")
  while IFS= read -r pdf; do files+=("$pdf"); done < <(find /usr/share/doc -name '*.pdf' -size +20k 2>/dev/null | sort | head -20)
fi
pages=0
for f in "${files[@]}"; do pages=$((pages + $(pdfinfo "$f" | awk '/^Pages:/ {print $2}'))); done
bench_machine
echo "files: ${#files[@]}, pages: $pages"

median_of_3() {   # command... → "seconds peak_rss_kib" (median time; the largest RSS of the three)
  local times=() rss=0 out measured
  measured="$(mktemp)"
  for _ in 1 2 3; do
    /usr/bin/time -o "$measured" -f '%e %M' "$@" >/dev/null 2>&1
    out="$(tail -1 "$measured")"
    times+=("${out% *}")
    [ "${out#* }" -gt "$rss" ] && rss="${out#* }"
  done
  rm -f "$measured"
  printf '%s %s\n' "$(printf '%s\n' "${times[@]}" | sort -g | sed -n 2p)" "$rss"
}
each() { for f in "${files[@]}"; do "$@" "$f" - ; done; }
export -f each
report() {
  local name="$1" seconds="$2" rss="$3"
  awk -v n="$name" -v s="$seconds" -v p="$pages" -v r="$rss" \
    'BEGIN { printf "%-28s %7.3f s  %8.1f pages/s  peak RSS %6.1f MiB\n", n, s, (s > 0 ? p / s : 0), r / 1024 }'
}
read -r s r < <(median_of_3 bash -c "$(declare -p files); $(declare -f each); each pdftotext -q")
report "pdftotext (text)" "$s" "$r"
read -r s r < <(median_of_3 bash -c "$(declare -p files); $(declare -f each); each pdftotext -q -bbox-layout")
report "pdftotext -bbox-layout" "$s" "$r"
read -r s r < <(median_of_3 .build/release/kb bench read --runs 1 "${files[@]}")
report "kb bench read" "$s" "$r"
