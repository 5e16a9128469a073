#!/usr/bin/env bash
# Longer runs of the parser fuzzers (the same XCTests CI runs with a fixed, smaller count):
# JSON Lines, HTML and Markdown readers, the GGUF reader, the E5S1 model reader.
#
# Usage: scripts/fuzz.sh [ITERATIONS] [SEED]     (default 200000 inputs per target, seed 1)
# Each target must finish without a crash, an unexpected error, a slow input (over 2 s) or a jump in
# peak memory; a failure prints the input's length and first bytes (rerun with the same SEED).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export KB_FUZZ_ITERATIONS="${1:-200000}"
export KB_FUZZ_SEED="${2:-1}"
swift build --build-tests
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for target in ParserFuzzTests GGUFFuzzTests E5FuzzTests; do
  printf '[fuzz] %s: %s inputs per test, seed %s\n' "$target" "$KB_FUZZ_ITERATIONS" "$KB_FUZZ_SEED" >&2
  if ! swift test --skip-build --filter "$target" >"$log" 2>&1; then
    grep -E 'error|Fatal|signal|failed' "$log" | head -n 40 >&2
    printf '[fuzz] %s FAILED\n' "$target" >&2
    exit 1
  fi
  grep -E 'fuzz:' "$log" >&2 || true
done
printf '[fuzz] all targets passed\n' >&2
