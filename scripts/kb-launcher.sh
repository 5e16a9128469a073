#!/usr/bin/env bash
# bin/kb: runs the release build of kb with the environment it needs, set before the process starts:
#  - KB_MODELS_DIR: where scripts/fetch-models.sh put the weights;
#  - OPENBLAS_CORETYPE: see scripts/openblas-coretype.sh (OpenBLAS reads it only at process start).
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
export KB_MODELS_DIR="${KB_MODELS_DIR:-$root/models}"
coretype="$("$root/scripts/openblas-coretype.sh")"
[ -z "$coretype" ] || export OPENBLAS_CORETYPE="$coretype"
binary="$root/.build/release/kb"
if [ ! -x "$binary" ]; then
  echo "kb: $binary is missing; run scripts/setup.sh" >&2
  exit 1
fi
exec "$binary" "$@"
