#!/usr/bin/env bash
# Cited answers on the shipped question sets (corpora/build-answer-sets.sh): `kb eval answers` over
# the English and the Chinese set, each beside the same model answering closed-book in the same run
# (the anchor: what the model knows without kb), then the attribution's cost on long answers: the
# Python FAQ questions answered with up to 200 tokens, where the time from an answer's last token to
# its finished attribution is set beside the same run's time per generated token.
#
# Usage: bench/answers.sh [SPLIT]           (dev, test or all; default test)
# Env:   MODELS="qwen2.5-coder-0.5b-instruct-q4_k_m"   GGUF names in models/ (qwen2-1.5b: scripts/fetch-models.sh)
#        MAX_TOKENS=64                                  per answer in the sets
#        DB_DIR=$TMPDIR                                 where the two knowledge bases are kept between runs
#        OUT_DIR=                                       keep the per-question records (kb eval answers --out) here
#
# Time on the 2-core development machine with the 0.5B model: test split about 25 min, dev split
# about 6 min (ingesting the two bases once: about 2 min); the 1.5B model takes about 3 times as long.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/preamble.sh"

split="${1:-test}"
models="${MODELS:-qwen2.5-coder-0.5b-instruct-q4_k_m}"
max_tokens="${MAX_TOKENS:-64}"
db_dir="${DB_DIR:-${TMPDIR:-/tmp}}"
say() { printf '[answers] %s\n' "$*" >&2; }

corpora/build-answer-sets.sh >/dev/null
scripts/fetch-models.sh multilingual-e5 >/dev/null
if [ -n "${OUT_DIR:-}" ]; then
  out="$OUT_DIR"; mkdir -p "$out"
else
  out="$(mktemp -d)"; trap 'rm -rf "$out"' EXIT
fi
bench_machine
for model in $models; do
  [ -f "models/$model.gguf" ] || { say "missing models/$model.gguf (scripts/fetch-models.sh)"; exit 1; }
  for set in en zh; do
    embedder=all-minilm-l6-v2
    [ "$set" = zh ] && embedder=multilingual-e5-small
    say "$model, answers-$set, $split split"
    bin/kb eval answers --db "$db_dir/kb-answers-$set.sqlite" --embedder "$embedder" --model "$model.gguf" \
      --split "$split" --max-tokens "$max_tokens" --out "$out/$model-$set.jsonl" "corpora/out/answers-$set"
  done
  say "$model, attribution after the last token of long answers (Python FAQ, up to 200 tokens)"
  bin/kb eval answers --db "$db_dir/kb-answers-en.sqlite" --model "$model.gguf" --split all --kinds faq --limit 20 \
    --max-tokens 200 --no-closed-book --out "$out/$model-long.jsonl" corpora/out/answers-en
  python3 - "$out/$model-long.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(line)["observation"] for line in open(sys.argv[1])]
rows = [r for r in rows if r.get("attributionSeconds") is not None and r["answerTokens"] > 1]
per_token = [(r["totalSeconds"] - r["timeToFirstToken"] - r["attributionSeconds"]) / (r["answerTokens"] - 1) * 1000 for r in rows]
attribution = [r["attributionSeconds"] * 1000 for r in rows]
print("long answers: %d, tokens median %d (max %d); attribution after the last token: median %.1f ms, max %.1f ms; "
      "anchor, the same run's decode: %.1f ms per token (ratio attribution/one token: %.2f)"
      % (len(rows), statistics.median(r["answerTokens"] for r in rows), max(r["answerTokens"] for r in rows),
         statistics.median(attribution), max(attribution), statistics.median(per_token),
         statistics.median(attribution) / statistics.median(per_token)))
PY
done
