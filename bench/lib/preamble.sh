# Sourced by every bench/*.sh: the same start for every benchmark.
#   - cd to the repository root ($root);
#   - the release build and bin/kb (scripts/setup.sh, skipped when done);
#   - OPENBLAS_CORETYPE for this CPU (scripts/openblas-coretype.sh), KB_MODELS_DIR=models/;
#   - bench_machine: one line naming the machine (cores, CPU model, AVX-512 or not, load), for the report;
#   - bench_python_with_sqlite_extensions: a Python that can load SQLite extensions (sqlite-vec).
# Temporary files go to mktemp's folder ($TMPDIR), never a fixed path.
root="$(cd "$(dirname "${BASH_SOURCE[1]}")/.." && pwd)"
cd "$root"
[ -x bin/kb ] && [ -x .build/release/kb ] || scripts/setup.sh >/dev/null
coretype="$(scripts/openblas-coretype.sh)"
[ -z "$coretype" ] || export OPENBLAS_CORETYPE="$coretype"
export KB_MODELS_DIR="${KB_MODELS_DIR:-$root/models}"

bench_machine() {
  local isa="AVX2"
  grep -q avx512f /proc/cpuinfo && isa="AVX-512"
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $isa, load $(cut -d' ' -f1-3 /proc/loadavg)"
}

# The first of $PYTHON_SQLITE, the python3 on PATH and Debian's system python whose sqlite3 module
# can load extensions (pyenv builds often cannot).
bench_python_with_sqlite_extensions() {
  local candidate
  for candidate in ${PYTHON_SQLITE:-} python3 /usr/bin/python3; do
    command -v "$candidate" >/dev/null 2>&1 || continue
    if "$candidate" -c 'import sqlite3; sqlite3.connect(":memory:").enable_load_extension(True)' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  echo "no Python whose sqlite3 can load extensions: set PYTHON_SQLITE" >&2
  return 1
}
