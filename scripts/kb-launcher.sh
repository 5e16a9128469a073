#!/usr/bin/env bash
# bin/kb: runs the release build of kb with the environment it needs, set before the process starts.
#  - KB_MODELS_DIR: where scripts/fetch-models.sh put the weights.
#  - OPENBLAS_CORETYPE: Debian's OpenBLAS 0.3.21 misdetects recent AVX-512 CPUs as "Prescott" and runs
#    SSE3 kernels (5x slower). Only on a CPU that has AVX-512 is the type overridden; an explicit value wins.
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
export KB_MODELS_DIR="${KB_MODELS_DIR:-$root/models}"
if [ -z "${OPENBLAS_CORETYPE:-}" ] && [ -r /proc/cpuinfo ]; then
  flags="$(grep -m1 '^flags' /proc/cpuinfo)"
  case " $flags " in
    *" avx512f "*)
      case " $flags " in
        *" avx512_bf16 "*) export OPENBLAS_CORETYPE=Cooperlake ;;
        *) export OPENBLAS_CORETYPE=SkylakeX ;;
      esac ;;
  esac
fi
binary="$root/.build/release/kb"
if [ ! -x "$binary" ]; then
  echo "kb: $binary is missing; run scripts/setup.sh" >&2
  exit 1
fi
exec "$binary" "$@"
