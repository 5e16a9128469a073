#!/usr/bin/env bash
# Property-based API testing of a live `kb serve` against schemas/openapi.yaml with schemathesis.
#
# Builds a temporary base from a few documents, starts the release binary (bin/kb, from
# scripts/setup.sh) with an API key and SmolLM2 for answers (scripts/fetch-models.sh smollm2), and
# runs schemathesis with a fixed seed and a bounded number of examples per operation. Fails on any
# 5xx, any response that does not match the spec, invalid input that is accepted, and the stateful
# checks (a deleted document must be gone; writes without the key must be refused).
#
# Usage: scripts/schemathesis.sh                    (CI: 100 examples per operation, about 30 s)
#        ST_MAX_EXAMPLES=200 ST_SEED=7 scripts/schemathesis.sh   (longer, another seed)
#        ST_EXTRA_ARGS="--include-path /v1/ask" scripts/schemathesis.sh  (more schemathesis options)
# Reports (JUnit and a pytest file reproducing each failure) go to $ST_REPORT_DIR when set.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
LIVE_SERVER_NAME=schemathesis
say() { printf '[schemathesis] %s\n' "$*" >&2; }

version=4.32.5
venv=.venv-schemathesis
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "version $version\$"; then
  say "installing schemathesis==$version into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "schemathesis==$version"
fi

source scripts/lib/live-server.sh
# One answer at a time and a short queue, as deployed; answers of at most 8 tokens.
live_server_start --max-generations 1 --generation-queue 4

report_dir="${ST_REPORT_DIR:-$KB_WORK/report}"
set +e
SCHEMATHESIS_HOOKS=scripts/schemathesis_hooks.py timeout "${ST_TIMEOUT:-900}" \
  "$venv/bin/schemathesis" --config-file scripts/schemathesis.toml run schemas/openapi.yaml \
  --url "$KB_URL" \
  --header "Authorization: Bearer $KB_KEY" \
  --max-examples "${ST_MAX_EXAMPLES:-100}" \
  --seed "${ST_SEED:-20261204}" \
  --workers 1 \
  --request-timeout "${ST_REQUEST_TIMEOUT:-60}" \
  --suppress-health-check all \
  --report junit,pytest --report-dir "$report_dir" \
  --output-sanitize false \
  --no-color \
  ${ST_EXTRA_ARGS:-}
status=$?
set -e
if ! kill -0 "$KB_PID" 2>/dev/null; then
  say "kb serve died during the run:"; tail -n 40 "$KB_LOG" >&2; status=1
fi
if [ "$status" -ne 0 ]; then
  say "FAILED (exit $status); server log tail:"; tail -n 20 "$KB_LOG" >&2
  if [ -n "${ST_REPORT_DIR:-}" ]; then cp "$KB_LOG" "$report_dir/serve.log"; say "reports and serve.log in $report_dir"; fi
  exit 1
fi
say "passed"
