// Shared definitions of the kernel files: the GGUF weight block layouts and the dot-product
// signature. The layouts mirror Sources/KBLLM/Quant/Block*.swift (the documented spec).
#ifndef CKBKERNELS_INTERNAL_H
#define CKBKERNELS_INTERNAL_H

#include "CKBKernels.h"
#include <string.h>

typedef struct { uint16_t d; uint8_t qs[16]; } kb_block_q4_0;                       // 18 bytes
typedef struct { uint16_t d, m; uint8_t qs[16]; } kb_block_q4_1;                    // 20 bytes
typedef struct { uint16_t d; uint8_t qh[4]; uint8_t qs[16]; } kb_block_q5_0;        // 22 bytes
typedef struct { uint16_t d, m; uint8_t qh[4]; uint8_t qs[16]; } kb_block_q5_1;     // 24 bytes
typedef struct { uint16_t d; int8_t qs[32]; } kb_block_q8_0;                        // 34 bytes
typedef struct { uint16_t d, dmin; uint8_t scales[12]; uint8_t qs[128]; } kb_block_q4_k;  // 144
typedef struct { uint16_t d, dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128]; } kb_block_q5_k;  // 176
typedef struct { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; uint16_t d; } kb_block_q6_k;  // 210

_Static_assert(sizeof(kb_block_q4_0) == 18, "q4_0");
_Static_assert(sizeof(kb_block_q4_1) == 20, "q4_1");
_Static_assert(sizeof(kb_block_q5_0) == 22, "q5_0");
_Static_assert(sizeof(kb_block_q5_1) == 24, "q5_1");
_Static_assert(sizeof(kb_block_q8_0) == 34, "q8_0");
_Static_assert(sizeof(kb_block_q4_k) == 144, "q4_K");
_Static_assert(sizeof(kb_block_q5_k) == 176, "q5_K");
_Static_assert(sizeof(kb_block_q6_k) == 210, "q6_K");
_Static_assert(sizeof(kb_q8_block) == 40, "q8 activations");
_Static_assert(sizeof(kb_q8k_block) == 292, "q8K activations");

/// out[j] = dot(weight row `w` of `n` weights, activation row j at `act + j × act_stride`)
/// for j < na (1 ... 4).
typedef void (*kb_dot_fn)(int64_t n, const void *w, const void *act, size_t act_stride, int na, float *out);

/// The value of IEEE half-precision bits (exact).
static inline float kb_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF, bits;
    if (exponent == 0x1F) {
        bits = sign | 0x7F800000u | (mantissa << 13);
    } else if (exponent == 0) {
        float magnitude = (float)mantissa * 0x1p-24f;
        return sign ? -magnitude : magnitude;
    } else {
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/// `x` rounded to the nearest IEEE half (ties to even), as bits: F16C's `vcvtps2ph` with
/// rounding mode 0 and ggml's `GGML_FP32_TO_FP16`. Overflow gives ±infinity, NaN stays NaN.
static inline uint16_t kb_f32_to_f16(float x) {
    uint32_t bits;
    memcpy(&bits, &x, 4);
    uint32_t sign = (bits >> 16) & 0x8000u, magnitude = bits & 0x7FFFFFFFu;
    if (magnitude > 0x7F800000u) return (uint16_t)(sign | 0x7E00u | (magnitude >> 13));  // NaN
    if (magnitude >= 0x477FF000u) return (uint16_t)(sign | 0x7C00u);                         // ≥ 65520: infinity
    if (magnitude < 0x38800000u) {                                                           // below 2^-14: subnormal
        // The value in units of 2^-24, rounded to nearest even (exact in float: < 2^10 units).
        float units = 0;
        memcpy(&units, &magnitude, 4);
        units *= 0x1p24f;
        float rounded = __builtin_nearbyintf(units);
        return (uint16_t)(sign | (uint32_t)rounded);
    }
    uint32_t mantissa = magnitude & 0x7FFFFFu, exponent = (magnitude >> 23) - 112;
    uint32_t half = (exponent << 10) | (mantissa >> 13), rest = mantissa & 0x1FFFu;
    if (rest > 0x1000u || (rest == 0x1000u && (half & 1))) half++;  // carries into the exponent correctly
    return (uint16_t)(sign | half);
}

/// `x` rounded to the nearest half, as a float.
static inline float kb_round_to_f16(float x) { return kb_f16_to_f32(kb_f32_to_f16(x)); }

/// The value of bfloat16 bits.
static inline float kb_bf16_to_f32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/// The 6-bit scales (sc[0..7]) and minimums (m[0..7]) of a Q4_K/Q5_K super-block, unpacked
/// from their 12 bytes (see BlockQ4K.scaleAndMin).
static inline void kb_unpack_k_scales(const uint8_t *packed, uint8_t sc[8], uint8_t m[8]) {
    uint32_t u0, u1, u2;
    memcpy(&u0, packed, 4);
    memcpy(&u1, packed + 4, 4);
    memcpy(&u2, packed + 8, 4);
    uint32_t scLow = u0 & 0x3F3F3F3Fu, minLow = u1 & 0x3F3F3F3Fu;
    uint32_t scHigh = (u2 & 0x0F0F0F0Fu) | (((u0 >> 6) & 0x03030303u) << 4);
    uint32_t minHigh = ((u2 >> 4) & 0x0F0F0F0Fu) | (((u1 >> 6) & 0x03030303u) << 4);
    memcpy(sc, &scLow, 4);
    memcpy(sc + 4, &scHigh, 4);
    memcpy(m, &minLow, 4);
    memcpy(m + 4, &minHigh, 4);
}

/// A repacked Q4_K product over one group of 8 weight rows: out[j × out_stride + r] (r < 8) for
/// activation rows j < na (1 ... 4, `act_stride` bytes apart) over `nb` super-blocks, in the 4-row
/// GEMM's order (`pairs` 1) or the GEMV's (0); see Q4KRepack.c.
typedef void (*kb_q4kx8_fn)(int64_t nb, const kb_block_q4_kx8 *w, const void *act, size_t act_stride, int na, int pairs,
                            float *out, int64_t out_stride);

/// Activation rows per pass of the repacked Q4_K kernels.
enum { KB_Q4KX8_ROWS_PER_PASS = 4 };

void kb_generic_q4kx8(int64_t nb, const kb_block_q4_kx8 *w, const void *act, size_t act_stride, int na, int pairs,
                      float *out, int64_t out_stride);

/// Whether a call with `isa` runs the AVX2 kernels (or those of a later family).
static inline int kb_use_avx2(kb_isa isa) { return isa == KB_ISA_BEST && kb_best_family() >= KB_FAMILY_AVX2; }

kb_dot_fn kb_generic_dot(int type);
void kb_generic_quantize_q8(const float *x, int64_t n, kb_q8_block *out);
void kb_generic_quantize_q8k(const float *x, int64_t n, kb_q8k_block *out);
void kb_generic_swiglu(float *gate, const float *up, int64_t n);

#if defined(__x86_64__) || defined(_M_X64)
#define KB_HAVE_X86 1
kb_dot_fn kb_avx2_dot(int type);
/// The K-quant kernels summing in the order of llama.cpp's tiled GEMM (batches of 8 rows or more), or NULL.
kb_dot_fn kb_avx2_dot_tiled(int type);
/// The kernels whose order does not depend on how many rows they are given: for Q4_K the GEMV's
/// order (`pairs` 0) or the 4-row GEMM's (`pairs` 1) for every row; otherwise `kb_avx2_dot`'s
/// kernels (already the same for any number of rows).
kb_dot_fn kb_avx2_dot_ordered(int type, int pairs);
void kb_avx2_quantize_q8(const float *x, int64_t n, kb_q8_block *out);
void kb_avx2_quantize_q8k(const float *x, int64_t n, kb_q8k_block *out);
void kb_avx2_swiglu(float *gate, const float *up, int64_t n);
/// The AVX-VNNI family's kernels of `type` (any order, any number of rows), or NULL (then AVX2's).
kb_dot_fn kb_avxvnni_dot(int type);
/// The AVX-512 family's kernels for batched rows (KB_ROW_BATCHED) of `type`, or NULL (then AVX2's).
kb_dot_fn kb_avx512_dot_tiled(int type);
/// The AVX-512 family's kernels of `type` for passes of 2 rows or more (any order: their order is
/// the AVX2 kernels' for every number of rows), or NULL (then AVX2's).
kb_dot_fn kb_avx512_dot(int type);
/// The AVX-512 family's kernels for single-order rows (neither KB_ROW_BATCHED nor a repacked
/// matrix) of `type`, or NULL (then AVX2's).
kb_dot_fn kb_avx512_dot_single(int type);
/// Activation rows per pass of the AVX-512 family's K-quant kernels (up to 8).
int kb_avx512_tiled_rows_per_pass(int type);
void kb_avx2_q4kx8(int64_t nb, const kb_block_q4_kx8 *w, const void *act, size_t act_stride, int na, int pairs,
                   float *out, int64_t out_stride);
void kb_avxvnni_q4kx8(int64_t nb, const kb_block_q4_kx8 *w, const void *act, size_t act_stride, int na, int pairs,
                      float *out, int64_t out_stride);
void kb_avx512_q4kx8(int64_t nb, const kb_block_q4_kx8 *w, const void *act, size_t act_stride, int na, int pairs,
                     float *out, int64_t out_stride);
#endif

#endif
