#!/usr/bin/env bash
# Prints the OPENBLAS_CORETYPE kb should run with, or nothing to keep OpenBLAS's own detection.
# Debian's OpenBLAS 0.3.21 detects CPUs newer than itself as "Prescott" (SSE3 kernels, ~5x slower
# sgemm). A core type is named only from the CPU's own flags (one the CPU lacks dies with an illegal
# instruction): AVX-512 -> Cooperlake/SkylakeX, AVX2+FMA -> Haswell (the kernels OpenBLAS also uses
# for Zen). An OPENBLAS_CORETYPE already in the environment wins.
if [ -n "${OPENBLAS_CORETYPE:-}" ]; then printf '%s\n' "$OPENBLAS_CORETYPE"; exit 0; fi
[ -r /proc/cpuinfo ] || exit 0
flags=" $(grep -m1 '^flags' /proc/cpuinfo) "
case "$flags" in
  *" avx512f "*)
    case "$flags" in
      *" avx512_bf16 "*) echo Cooperlake ;;
      *) echo SkylakeX ;;
    esac ;;
  *" avx2 "*)
    case "$flags" in *" fma "*) echo Haswell ;; esac ;;
esac
