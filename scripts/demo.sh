#!/usr/bin/env bash
# The main job on the default configuration: set up, build a real corpus (the Python 3.11 tutorial,
# HOWTOs and FAQ from Debian's python3.11-doc), ingest it into data/demo.sqlite, and search it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup.sh
corpora/build-demo.sh
mkdir -p data
echo
echo "== kb ingest (run it again: everything is 'unchanged')"
bin/kb ingest --db data/demo.sqlite corpora/out/demo
echo
for query in "how do I define a function with default arguments" "virtual environments and pip" "unicode strings and bytes"; do
  echo "== kb search \"$query\""
  bin/kb search --db data/demo.sqlite --top-k 3 "$query"
  echo
done
bin/kb stats --db data/demo.sqlite
echo
echo "Try your own: bin/kb search --db data/demo.sqlite \"…\"  (add --json for scripts)"
