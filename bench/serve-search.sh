#!/usr/bin/env bash
# Benchmark for issue 6: POST /v1/search under CLIENTS concurrent connections (wrk), throughput and
# latency percentiles, with GET /healthz under the same load in the same run as the anchor (what the
# HTTP stack alone sustains on this machine). The server is the release build (bin/kb), started here
# on a free port and stopped with SIGTERM. Queries: one per line of a JSON Lines file ("text" or
# "query" field), cycled by the wrk script.
#
# usage: bench/serve-search.sh DB QUERIES.jsonl [CLIENTS=50] [SECONDS=20] [MODE=hybrid] [RUNS=3]
#   The issue's corpus is the 100k one (corpora/build-english-100k.sh, then kb ingest; the team's copy
#   with MiniLM vectors is data/english-100k.sqlite), queried with the Debian evaluation queries:
#   bench/serve-search.sh data/english-100k.sqlite corpora/out/debian-eval/queries.jsonl 50 15 hybrid 2
#   Any kb database works, e.g. the 5k Debian evaluation set:
#   bench/serve-search.sh corpora/out/debian-eval-small/kb-eval.sqlite corpora/out/debian-eval-small/queries.jsonl
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/preamble.sh"
db="$1"; queries="$2"; clients="${3:-50}"; seconds="${4:-20}"; mode="${5:-hybrid}"; runs="${6:-3}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
out="$(mktemp -d)"; trap 'kill "$server" 2>/dev/null || true; rm -rf "$out"' EXIT
cp "$db" "$out/bench.sqlite"   # the server opens its file read-write (WAL); leave the original alone

python3 - "$queries" "$mode" "$out/queries.lua" <<'PY'
import json, sys
src, mode, dst = sys.argv[1:4]
bodies = []
for line in open(src, encoding="utf-8"):
    line = line.strip()
    if not line: continue
    record = json.loads(line)
    text = record.get("text") or record.get("query")
    bodies.append(json.dumps({"query": text, "mode": mode, "top_k": 10}))
with open(dst, "w") as f:
    f.write("bodies = {\n" + ",\n".join("[==[" + b + "]==]" for b in bodies) + "\n}\n")
    f.write("""
counter = 0
request = function()
  counter = counter + 1
  local body = bodies[(counter % #bodies) + 1]
  return wrk.format("POST", "/v1/search", {["Content-Type"] = "application/json"}, body)
end
""")
print(f"{len(bodies)} queries, mode {mode}", file=sys.stderr)
PY

bin/kb serve --db "$out/bench.sqlite" --port 0 --generation-queue 0 > "$out/server.log" 2>&1 &
server=$!
for _ in $(seq 1 600); do
  port="$(grep -oE 'listening on http://127\.0\.0\.1:[0-9]+' "$out/server.log" | grep -oE '[0-9]+$' || true)"
  [ -n "$port" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$out/server.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "the server did not start" >&2; cat "$out/server.log" >&2; exit 1; }
url="http://127.0.0.1:$port"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); server pid $server on $url"
curl -sf -X POST "$url/v1/search" -H 'Content-Type: application/json' -d "{\"query\": \"warm up\", \"mode\": \"$mode\"}" >/dev/null

summary() {  # wrk --latency output -> "rps p50 p99 non-2xx timeouts"
  awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} /Non-2xx/ {bad=$NF}
       /Socket errors/ {split($0, a, "timeout "); to=a[2]+0}
       END {printf "%s %s %s %s %s\n", rps, p50, p99, (bad == "" ? 0 : bad), to}' "$1"
}
threads=$(( clients < 2 ? clients : 2 ))
for run in $(seq 1 "$runs"); do
  wrk -t"$threads" -c"$clients" -d"${seconds}s" --timeout 60s --latency "$url/healthz" > "$out/healthz.$run.txt"
  wrk -t"$threads" -c"$clients" -d"${seconds}s" --timeout 60s --latency -s "$out/queries.lua" "$url" > "$out/search.$run.txt"
  echo "run $run: search $(summary "$out/search.$run.txt")  healthz $(summary "$out/healthz.$run.txt")  (req/s p50 p99 non-2xx timeouts)"
done
kill -TERM "$server"; wait "$server" || true
python3 - "$out" "$runs" "$clients" <<'PY'
import re, statistics, sys
out, runs, clients = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def ms(text):
    m = re.match(r"([\d.]+)(us|ms|s)$", text)
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
def parse(path):
    text = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p50 = ms(re.search(r"\n\s+50%\s+(\S+)", text).group(1))
    p99 = ms(re.search(r"\n\s+99%\s+(\S+)", text).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    timeouts = re.search(r"timeout (\d+)", text)
    return rps, p50, p99, (int(bad.group(1)) if bad else 0) + (int(timeouts.group(1)) if timeouts else 0)
for name in ["search", "healthz"]:
    rows = [parse(f"{out}/{name}.{r}.txt") for r in range(1, runs + 1)]
    med = [statistics.median(col) for col in zip(*rows)]
    print(f"{name:8s} {clients} clients, median of {runs}: {med[0]:8.1f} req/s  p50 {med[1]:7.2f} ms  p99 {med[2]:7.2f} ms  "
          f"failed or timed out {sum(r[3] for r in rows)}")
PY
