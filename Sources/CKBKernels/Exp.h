// e^x in float as ggml's CPU backend computes it for softmax and SiLU (its vectorised `expf`,
// after ARM's optimized-routines): within ~1.5 ulp of the true value, and — what matters here —
// the same bits as llama.cpp, so probabilities and gated activations round (to F16 or int8)
// as llama.cpp's do.
//
// Method: n = round(x · log2 e) by the shift trick, b = x − n·ln2 in two fused steps (ln 2 split
// in a high and a low part), e^b by a degree-5 polynomial in b evaluated as
// (c4·b + c3)·b⁴ + (c2·b + c1)·b² + c0·b, and 2^n put into the exponent bits; |n| > 126 takes a
// two-factor scaling to reach subnormals and infinity without overflow in between.
//
// The scalar function is the specification; the AVX2 one computes the same operations lane by
// lane (every multiply-add fused in both), so the two agree to the bit.
#ifndef CKBKERNELS_EXP_H
#define CKBKERNELS_EXP_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#define KB_EXP_SHIFT 0x1.8p23f
#define KB_EXP_LOG2E 0x1.715476p+0f
#define KB_EXP_LN2_HI 0x1.62e4p-1f
#define KB_EXP_LN2_LO 0x1.7f7d1cp-20f
#define KB_EXP_C0 0x1.ffffecp-1f
#define KB_EXP_C1 0x1.fffdb6p-2f
#define KB_EXP_C2 0x1.555e66p-3f
#define KB_EXP_C3 0x1.573e2ep-5f
#define KB_EXP_C4 0x1.0e4020p-7f

static inline float kb_bits_to_float(uint32_t bits) { float f; memcpy(&f, &bits, 4); return f; }
static inline uint32_t kb_float_to_bits(float f) { uint32_t bits; memcpy(&bits, &f, 4); return bits; }

/// e^x, bit-identical to the AVX2 version below (and to ggml's vector expf).
static inline float kb_exp_scalar(float x) {
    float z = fmaf(x, KB_EXP_LOG2E, KB_EXP_SHIFT);
    float n = z - KB_EXP_SHIFT;
    float b = fmaf(-n, KB_EXP_LN2_LO, fmaf(-n, KB_EXP_LN2_HI, x));
    uint32_t e = kb_float_to_bits(z) << 23;
    float k = kb_bits_to_float(e + kb_float_to_bits(1.0f));  // 2^n
    float u = b * b;
    float j = fmaf(fmaf(fmaf(KB_EXP_C4, b, KB_EXP_C3), u, fmaf(KB_EXP_C2, b, KB_EXP_C1)), u, KB_EXP_C0 * b);
    if (!(fabsf(n) > 126)) return fmaf(k, j, k);
    uint32_t g = n <= 0 ? 0x82000000u : 0;
    float s1 = kb_bits_to_float(g + 0x7f000000u), s2 = kb_bits_to_float(e - g);
    if (fabsf(n) > 192) return s1 * s1;
    return fmaf(s2, j, s2) * s1;
}

/// silu(x) · y = x / (1 + e^−x) · y, bit-identical to the AVX2 version.
static inline float kb_silu_mul_scalar(float x, float y) {
    return x / (1.0f + kb_exp_scalar(0.0f - x)) * y;
}

/// SwiGLU's tail of fewer than 8 values, with the C library's expf (ggml's scalar `ggml_silu_f32`):
/// both implementations end with it.
static inline void kb_swiglu_tail(float *gate, const float *up, int64_t from, int64_t n) {
    for (int64_t i = from; i < n; i++) gate[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

/// e^x in 8 lanes (see kb_exp_scalar).
static inline __attribute__((always_inline, target("avx2,fma"))) __m256 kb_exp_avx2(__m256 x) {
    const __m256 shift = _mm256_set1_ps(KB_EXP_SHIFT);
    __m256 z = _mm256_fmadd_ps(x, _mm256_set1_ps(KB_EXP_LOG2E), shift);
    __m256 n = _mm256_sub_ps(z, shift);
    __m256 b = _mm256_fnmadd_ps(n, _mm256_set1_ps(KB_EXP_LN2_LO), _mm256_fnmadd_ps(n, _mm256_set1_ps(KB_EXP_LN2_HI), x));
    __m256i e = _mm256_slli_epi32(_mm256_castps_si256(z), 23);
    __m256 k = _mm256_castsi256_ps(_mm256_add_epi32(e, _mm256_castps_si256(_mm256_set1_ps(1))));
    __m256 absN = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), n);
    __m256 large = _mm256_cmp_ps(absN, _mm256_set1_ps(126), _CMP_GT_OQ);
    __m256 u = _mm256_mul_ps(b, b);
    __m256 j = _mm256_fmadd_ps(
        _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_set1_ps(KB_EXP_C4), b, _mm256_set1_ps(KB_EXP_C3)), u,
                        _mm256_fmadd_ps(_mm256_set1_ps(KB_EXP_C2), b, _mm256_set1_ps(KB_EXP_C1))),
        u, _mm256_mul_ps(_mm256_set1_ps(KB_EXP_C0), b));
    __m256 normal = _mm256_fmadd_ps(k, j, k);
    if (!_mm256_movemask_ps(large)) return normal;
    __m256i g = _mm256_and_si256(_mm256_castps_si256(_mm256_cmp_ps(n, _mm256_setzero_ps(), _CMP_LE_OQ)),
                                 _mm256_set1_epi32((int)0x82000000u));
    __m256 s1 = _mm256_castsi256_ps(_mm256_add_epi32(g, _mm256_set1_epi32(0x7f000000)));
    __m256 s2 = _mm256_castsi256_ps(_mm256_sub_epi32(e, g));
    __m256 huge = _mm256_cmp_ps(absN, _mm256_set1_ps(192), _CMP_GT_OQ);
    __m256 scaled = _mm256_mul_ps(_mm256_fmadd_ps(s2, j, s2), s1);
    __m256 result = _mm256_blendv_ps(normal, scaled, large);
    return _mm256_blendv_ps(result, _mm256_mul_ps(s1, s1), huge);
}
#endif

#endif
