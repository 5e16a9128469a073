#!/usr/bin/env bash
# A bounded soak of a live `kb serve` (bench/soak.py): 200 concurrent mixed clients (search, ask,
# ask streamed and abandoned, chat completions, uploads, bad requests) for a fixed time, with the
# server's RSS sampled. Fails on a crash, a 5xx other than an overload refusal, a generation queue
# or slot that does not drain, or RSS that does not come back within the bound.
#
# Usage: bench/soak.sh [SECONDS] [CLIENTS]      (default 60 s, 200 clients; CI runs the default)
#        bench/soak.sh 300                      (the longer run for a closing note)
# Extra bench/soak.py options go in SOAK_ARGS (e.g. SOAK_ARGS="--rss-slack-mib 64").
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
LIVE_SERVER_NAME=soak
seconds="${1:-60}"
clients="${2:-200}"
[ -x bin/kb ] || scripts/setup.sh
[ -f models/smollm2-135m-instruct-q4_1.gguf ] || scripts/fetch-models.sh smollm2
source scripts/lib/live-server.sh
# The defaults a deployment has (16 answers generated together, 64 waiting, more refused with 429),
# with a KV pool of 128 MiB: its pages fill as prompts are cached, by design, so the RSS bound
# allows the pool on top of the usual slack; growth beyond both would be a leak.
live_server_start --max-generations 16 --generation-queue 64 --kv-cache 128M
printf '[soak] %s, %s clients for %s s\n' "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')" "$clients" "$seconds" >&2
set +e
python3 bench/soak.py --url "$KB_URL" --key "$KB_KEY" --pid "$KB_PID" --duration "$seconds" --clients "$clients" \
  --rss-slack-mib 256 ${SOAK_ARGS:-}
status=$?
set -e
if [ "$status" -ne 0 ]; then
  printf '[soak] server log tail:\n' >&2; tail -n 30 "$KB_LOG" >&2
fi
exit "$status"
