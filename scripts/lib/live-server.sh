# Sourced by scripts that test a live `kb serve` (scripts/schemathesis.sh, bench/soak.sh).
# Builds a small temporary base, starts the release binary on a free loopback port with an API key
# and SmolLM2 for answers, and stops it (and removes the base) on exit.
#
#   source scripts/lib/live-server.sh
#   live_server_start [extra kb serve options...]   # sets KB_URL, KB_KEY, KB_PID, KB_WORK, KB_LOG
#   ... (live_server_stop runs on EXIT)
#
# Environment: KB_LIVE_MODEL (default models/smollm2-135m-instruct-q4_1.gguf), KB_MAX_ANSWER_TOKENS
# (default 8: answers stay short), KB_CONTEXT_CHUNKS (default 2).

live_server_say() { printf '[%s] %s\n' "${LIVE_SERVER_NAME:-live-server}" "$*" >&2; }

live_server_stop() {
  if [ -n "${KB_PID:-}" ] && kill -0 "$KB_PID" 2>/dev/null; then
    kill -TERM "$KB_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$KB_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$KB_PID" 2>/dev/null || true
    wait "$KB_PID" 2>/dev/null || true
  fi
  KB_PID=""
  if [ -n "${KB_WORK:-}" ] && [ -d "$KB_WORK" ]; then rm -rf "$KB_WORK"; fi
}

# A free TCP port on 127.0.0.1 (the kernel's choice; the server binds it right after).
live_server_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# The few documents the base holds: Markdown, HTML and JSON Lines, so every reader is used.
live_server_documents() { # DIR
  local dir="$1"
  mkdir -p "$dir"
  cat >"$dir/backups.md" <<'DOC'
# Backups

Backups run nightly at 02:00 with `kb-backup`. Old archives are compressed with zstd and kept for
30 days; the oldest are deleted first when the disk is more than 90% full.

## Restore

Stop the service, copy the archive back and run `kb-restore --verify`.
DOC
  cat >"$dir/logs.html" <<'DOC'
<html><head><title>Log rotation</title></head><body>
<h1>Log rotation</h1><p>Logs rotate daily. Rotated logs are compressed with gzip after one day and
removed after two weeks.</p><h2>Debugging</h2><p>Set <code>LOG_LEVEL=debug</code> to log requests.</p>
</body></html>
DOC
  cat >"$dir/records.jsonl" <<'DOC'
{"id": "faq-1", "title": "Failover", "text": "The replica takes over within 30 seconds when the primary stops answering.", "metadata": {"team": "db"}}
{"id": "faq-2", "title": "Ports", "text": "The service listens on port 8080 on the loopback address by default.", "metadata": {"team": "ops"}}
{"id": "faq-3", "title": "检索", "text": "中文文档也可以检索。混合检索结合词法和向量。", "metadata": {"team": "search"}}
DOC
}

live_server_start() { # [extra kb serve options...]
  local root model port
  root="$(pwd)"
  model="${KB_LIVE_MODEL:-models/smollm2-135m-instruct-q4_1.gguf}"
  [ -x bin/kb ] || { live_server_say "bin/kb is missing: run scripts/setup.sh"; return 1; }
  [ -f "$model" ] || { live_server_say "$model is missing: run scripts/fetch-models.sh smollm2"; return 1; }
  KB_WORK="$(mktemp -d "${TMPDIR:-/tmp}/kb-live.XXXXXX")"
  trap live_server_stop EXIT
  trap 'exit 130' INT TERM
  live_server_documents "$KB_WORK/docs"
  bin/kb ingest --db "$KB_WORK/kb.sqlite" "$KB_WORK/docs" >"$KB_WORK/ingest.log" 2>&1 \
    || { live_server_say "ingest failed:"; cat "$KB_WORK/ingest.log" >&2; return 1; }
  KB_KEY="live-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
  port="$(live_server_free_port)"
  KB_URL="http://127.0.0.1:$port"
  KB_LOG="$KB_WORK/serve.log"
  KB_API_KEYS="$KB_KEY" KB_MAX_ANSWER_TOKENS="${KB_MAX_ANSWER_TOKENS:-8}" KB_CONTEXT_CHUNKS="${KB_CONTEXT_CHUNKS:-2}" \
    bin/kb serve --db "$KB_WORK/kb.sqlite" --host 127.0.0.1 --port "$port" --model "$root/$model" "$@" \
    >"$KB_LOG" 2>&1 &
  KB_PID=$!
  local i
  for i in $(seq 1 600); do
    if ! kill -0 "$KB_PID" 2>/dev/null; then
      live_server_say "kb serve exited at start:"; tail -n 30 "$KB_LOG" >&2; KB_PID=""; return 1
    fi
    if python3 - "$KB_URL/readyz" <<'PY' 2>/dev/null; then break; fi
import sys, urllib.request
sys.exit(0 if urllib.request.urlopen(sys.argv[1], timeout=2).status == 200 else 1)
PY
    sleep 0.2
    [ "$i" -lt 600 ] || { live_server_say "kb serve not ready after 120 s"; tail -n 30 "$KB_LOG" >&2; return 1; }
  done
  live_server_say "kb serve (pid $KB_PID) ready at $KB_URL"
  export KB_URL KB_KEY KB_PID KB_WORK KB_LOG
}
