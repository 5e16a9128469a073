// x86-64 AVX-512 (F, BW, VL, VNNI) kernels of the per-row products, compiled with function target
// attributes; `kb_matmul` calls them only for the AVX-512 family. Each gives the bits of the AVX2
// kernel of the same order (the integers are exact in any order; the float operations are the same).
#include "Internal.h"
#include <math.h>
#include <stddef.h>

#ifdef KB_HAVE_X86
#include <immintrin.h>
#include "X86Shared.h"

#define KB_AVX512_INLINE static inline __attribute__((always_inline, target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")))
#define KB_AVX512 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")))

/// Q6_K rows in llama.cpp's orders (AVX2.c's dot_q6_k_order): `TILED` 1, a batch's (per super-block
/// the exact integer T = Σ sc·Σ(q − 32)·a, then sum = fma(d·T, da, sum)); `TILED` 0, a single row's
/// (8 int32 lanes, lane i the products of bytes 4i ..< 4i + 4 of every 32 weights, then 8 float
/// lanes acc = fma(lanes, d·da, acc) and the horizontal sum at the end). 64 weights per
/// instruction: a 64-byte run of `ql` holds the low 4 bits of weights 0-63 (low nibbles) and
/// 64-127 (high nibbles) of a half, the 32 bytes of `qh` their top 2 bits (2 bits per 32 weights);
/// the two 32-weight halves of a register add up to AVX2's 8 lanes.
KB_AVX512_INLINE void dot_q6_k_order_n(int64_t n, const void *w, const void *act, size_t act_stride, float *out, const int NA,
                                       const int TILED) {
    const kb_block_q6_k *x = w;
    const kb_q8k_block *y[8];
    for (int j = 0; j < NA; j++) y[j] = (const kb_q8k_block *)((const char *)act + (size_t)j * act_stride);
    float sums[8] = {0};
    __m256 acc[8];
    for (int j = 0; j < NA; j++) acc[j] = _mm256_setzero_ps();
    const __m512i low4 = _mm512_set1_epi8(0x0F), low2 = _mm512_set1_epi8(3);
    // Shifts of the duplicated qh bytes: weights 0-31 take bits 0-1, 32-63 bits 2-3 (q_a); 64-95
    // bits 4-5, 96-127 bits 6-7 (q_b).
    const __m512i shiftA = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
    const __m512i shiftB = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(6), 1);
    // 16-bit lane k of a product of 64 weights (weights 2k, 2k + 1) takes the group's scale k / 8.
    static const int16_t scaleOfLane[32] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                            2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3};
    const __m512i scaleIndex = _mm512_loadu_si512((const void *)scaleOfLane);
    for (int64_t b = 0; b < n / 256; b++) {
        const kb_block_q6_k *blk = &x[b];
        const __m256i scales16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)blk->scales));  // 16 × s16
        const __m512i scalesWide = _mm512_zextsi256_si512(scales16);
        __m512i q[4], sc[4];
        for (int h = 0; h < 2; h++) {
            __m512i ql = _mm512_loadu_si512((const void *)(blk->ql + 64 * h));
            __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(blk->qh + 32 * h)));
            __m512i highA = _mm512_and_si512(_mm512_srlv_epi16(qh, shiftA), low2);
            __m512i highB = _mm512_and_si512(_mm512_srlv_epi16(qh, shiftB), low2);
            q[2 * h] = _mm512_or_si512(_mm512_and_si512(ql, low4), _mm512_slli_epi16(highA, 4));
            q[2 * h + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), low4), _mm512_slli_epi16(highB, 4));
            // q[2h] covers weights 128h + 0 ..< 64 (scales 8h + 0 ... 3), q[2h + 1] 128h + 64 ..< 128 (8h + 4 ... 7).
            for (int k = 0; k < 2; k++) {
                __m512i index = _mm512_add_epi16(scaleIndex, _mm512_set1_epi16((short)(8 * h + 4 * k)));
                sc[2 * h + k] = _mm512_permutexvar_epi16(index, scalesWide);
            }
        }
        float d = kb_f16_to_f32(blk->d);
        for (int j = 0; j < NA; j++) {
            const kb_q8k_block *a = &y[j][b];
            __m512i isum = _mm512_setzero_si512();
            for (int k = 0; k < 4; k++) {
                __m512i av = _mm512_loadu_si512((const void *)(a->qs + 64 * k));
                isum = _mm512_add_epi32(isum, _mm512_madd_epi16(_mm512_maddubs_epi16(q[k], av), sc[k]));
            }
            // − 32·Σ sc·bsum, the offset of the quants (lane i: the two groups of 16 it stands for).
            __m256i offset = _mm256_slli_epi32(_mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)a->bsums), scales16), 5);
            if (TILED) {
                int32_t total = _mm512_reduce_add_epi32(_mm512_sub_epi32(isum, _mm512_zextsi256_si512(offset)));
                sums[j] = fmaf(d * (float)total, a->d, sums[j]);
            } else {
                __m256i lanes = _mm256_add_epi32(_mm512_castsi512_si256(isum), _mm512_extracti64x4_epi64(isum, 1));
                __m256i total = _mm256_sub_epi32(lanes, offset);
                acc[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(total), _mm256_set1_ps(d * a->d), acc[j]);
            }
        }
    }
    for (int j = 0; j < NA; j++) out[j] = TILED ? sums[j] : hsum_ps(acc[j]);
}
KB_AVX512_INLINE void dot_q6_k_tiled_n(int64_t n, const void *w, const void *act, size_t act_stride, float *out, const int NA) {
    dot_q6_k_order_n(n, w, act, act_stride, out, NA, 1);
}
KB_AVX512_INLINE void dot_q6_k_n(int64_t n, const void *w, const void *act, size_t act_stride, float *out, const int NA) {
    dot_q6_k_order_n(n, w, act, act_stride, out, NA, 0);
}
SPECIALIZE_ROWS_UP_TO(dot_q6_k_tiled, 8, KB_AVX512)
SPECIALIZE_ROWS_UP_TO(dot_q6_k, 8, KB_AVX512)

/// Q4_K (`HIGH_BITS` 0) and Q5_K (1) rows of a batch in the tiled GEMM's order (ORDER_TILED in
/// AVX2.c): per super-block the exact integers S = Σ sc·Σ q·a and M = Σ m·bsums, then
/// sum = fma(fma(−dmin, M, d·S), da, sum). A pair of sub-blocks (64 weights: the low and high
/// nibbles of 32 bytes, Q5_K's fifth bits from `qh` bits 2p and 2p + 1) is one 512-bit register.
KB_AVX512_INLINE void k45_tiled_n(int64_t n, const void *w, const void *act, size_t act_stride, float *out, const int NA,
                                  const int HIGH_BITS) {
    const size_t blockBytes = HIGH_BITS ? sizeof(kb_block_q5_k) : sizeof(kb_block_q4_k);
    const size_t quantsAt = HIGH_BITS ? offsetof(kb_block_q5_k, qs) : offsetof(kb_block_q4_k, qs);
    const kb_q8k_block *y[8];
    for (int j = 0; j < NA; j++) y[j] = (const kb_q8k_block *)((const char *)act + (size_t)j * act_stride);
    float sums[8] = {0};
    const __m512i low4 = _mm512_set1_epi8(0x0F), one = _mm512_set1_epi8(1);
    for (int64_t b = 0; b < n / 256; b++) {
        const uint8_t *blk = (const uint8_t *)w + (size_t)b * blockBytes;
        uint16_t dBits, dminBits;
        memcpy(&dBits, blk, 2);
        memcpy(&dminBits, blk + 2, 2);
        uint8_t sc[8], mn[8];
        kb_unpack_k_scales(blk + 4, sc, mn);
        // Each minimum twice: 16-bit lanes 2s and 2s + 1 meet the two group sums of sub-block s.
        const __m128i mnBytes = _mm_loadl_epi64((const __m128i *)mn);
        const __m256i mins = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(mnBytes, mnBytes));
        const __m256i highBits = HIGH_BITS ? _mm256_loadu_si256((const __m256i *)(blk + offsetof(kb_block_q5_k, qh))) : _mm256_setzero_si256();
        __m512i q[4], scales[4];
        for (int p = 0; p < 4; p++) {
            __m256i raw = _mm256_loadu_si256((const __m256i *)(blk + quantsAt + 32 * p));
            __m512i quants = _mm512_and_si512(_mm512_inserti64x4(_mm512_castsi256_si512(raw), _mm256_srli_epi16(raw, 4), 1), low4);
            if (HIGH_BITS) {
                __m512i shift = _mm512_inserti64x4(_mm512_set1_epi16((short)(2 * p)), _mm256_set1_epi16((short)(2 * p + 1)), 1);
                __m512i fifth = _mm512_and_si512(_mm512_srlv_epi16(_mm512_broadcast_i64x4(highBits), shift), one);
                quants = _mm512_or_si512(quants, _mm512_slli_epi16(fifth, 4));
            }
            q[p] = quants;
            scales[p] = _mm512_inserti64x4(_mm512_set1_epi16(sc[2 * p]), _mm256_set1_epi16(sc[2 * p + 1]), 1);
        }
        const float d = kb_f16_to_f32(dBits), dmin = kb_f16_to_f32(dminBits);
        for (int j = 0; j < NA; j++) {
            const kb_q8k_block *a = &y[j][b];
            __m512i isum = _mm512_setzero_si512();
            for (int p = 0; p < 4; p++) {
                __m512i av = _mm512_loadu_si512((const void *)(a->qs + 64 * p));
                isum = _mm512_add_epi32(isum, _mm512_madd_epi16(_mm512_maddubs_epi16(q[p], av), scales[p]));
            }
            int32_t blockSum = _mm512_reduce_add_epi32(isum);
            __m256i minTerms = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)a->bsums), mins);
            int32_t blockMin = _mm512_reduce_add_epi32(_mm512_zextsi256_si512(minTerms));
            float scaled = fmaf(-dmin, (float)blockMin, d * (float)blockSum);
            sums[j] = fmaf(scaled, a->d, sums[j]);
        }
    }
    for (int j = 0; j < NA; j++) out[j] = sums[j];
}

#define K45_TILED(name, HIGH_BITS)                                                                         \
    KB_AVX512_INLINE void name##_n(int64_t n, const void *w, const void *act, size_t act_stride, float *out, const int NA) { \
        k45_tiled_n(n, w, act, act_stride, out, NA, HIGH_BITS);                                            \
    }
K45_TILED(dot_q4_k_tiled, 0)
K45_TILED(dot_q5_k_tiled, 1)
SPECIALIZE_ROWS_UP_TO(dot_q4_k_tiled, 8, KB_AVX512)
SPECIALIZE_ROWS_UP_TO(dot_q5_k_tiled, 8, KB_AVX512)

// MARK: - 32-weight blocks, two activation rows a register

/// Q4_0, Q5_0, Q8_0 in SIGNED32_DOT's order (AVX2.c: per row one chain of 8 float lanes, blocks
/// in order, then the horizontal sum), with two activation rows in the halves of one 512-bit
/// register: the block's |q| in both halves meets rows j and j + 1 (negated where q < 0) in one
/// `vpdpbusd` (the same 8 int32 lanes as `vpmaddubsw` + `vpmaddwd`: no pair can saturate,
/// |q| ≤ 128 and |a| ≤ 127), and each half accumulates its row's d_w·d_a terms.
#define SIGNED32_AVX512(name, BLOCK, quants)                                                               \
    KB_AVX512_INLINE void name##_n(int64_t n, const void *w, const void *act, size_t act_stride, float *out, const int NA) { \
        const BLOCK *x = w;                                                                                \
        const kb_q8_block *y[8];                                                                           \
        for (int j = 0; j < NA; j++) y[j] = (const kb_q8_block *)((const char *)act + (size_t)j * act_stride); \
        const int pairs = (NA + 1) / 2;                                                                    \
        __m512 acc[4];                                                                                     \
        for (int p = 0; p < pairs; p++) acc[p] = _mm512_setzero_ps();                                      \
        for (int64_t b = 0; b < n / 32; b++) {                                                             \
            const BLOCK *blk = &x[b];                                                                      \
            const __m256i q = quants(blk);                                                                 \
            const __m512i magnitude = _mm512_broadcast_i64x4(_mm256_abs_epi8(q));                          \
            const __mmask64 negative = _mm512_movepi8_mask(_mm512_broadcast_i64x4(q));                     \
            const __m512 dw = _mm512_set1_ps(half(blk->d));                                                \
            for (int p = 0; p < pairs; p++) {                                                              \
                const kb_q8_block *a0 = &y[2 * p][b], *a1 = &y[2 * p + 1 < NA ? 2 * p + 1 : 2 * p][b];     \
                __m512i av = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)a0->qs)), \
                                                _mm256_loadu_si256((const __m256i *)a1->qs), 1);           \
                __m512i signedA = _mm512_mask_sub_epi8(av, negative, _mm512_setzero_si512(), av);          \
                __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), magnitude, signedA);             \
                __m512 da = _mm512_mask_broadcastss_ps(_mm512_set1_ps(a0->d), 0xFF00, _mm_load_ss(&a1->d)); \
                acc[p] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(dw, da), acc[p]);          \
            }                                                                                              \
        }                                                                                                  \
        for (int j = 0; j < NA; j++) {                                                                     \
            __m512d pair = _mm512_castps_pd(acc[j / 2]);                                                   \
            out[j] = hsum_ps(_mm256_castpd_ps((j & 1) ? _mm512_extractf64x4_pd(pair, 1) : _mm512_castpd512_pd256(pair))); \
        }                                                                                                  \
    }                                                                                                      \
    SPECIALIZE_ROWS_UP_TO(name, 8, KB_AVX512)

SIGNED32_AVX512(dot_q4_0, kb_block_q4_0, Q4_0_QUANTS)
SIGNED32_AVX512(dot_q5_0, kb_block_q5_0, Q5_0_QUANTS)
SIGNED32_AVX512(dot_q8_0, kb_block_q8_0, Q8_0_QUANTS)

kb_dot_fn kb_avx512_dot(int type) {
    switch (type) {
    case KB_TYPE_Q4_0: return dot_q4_0;
    case KB_TYPE_Q5_0: return dot_q5_0;
    case KB_TYPE_Q8_0: return dot_q8_0;
    default: return NULL;
    }
}

/// Activation rows per pass of `kb_avx512_dot_tiled(type)`'s and `kb_avx512_dot_single(type)`'s kernels.
int kb_avx512_tiled_rows_per_pass(int type) { (void)type; return 8; }

kb_dot_fn kb_avx512_dot_single(int type) {
    return type == KB_TYPE_Q6_K ? dot_q6_k : NULL;
}

kb_dot_fn kb_avx512_dot_tiled(int type) {
    switch (type) {
    case KB_TYPE_Q4_K: return dot_q4_k_tiled;
    case KB_TYPE_Q5_K: return dot_q5_k_tiled;
    case KB_TYPE_Q6_K: return dot_q6_k_tiled;
    default: return NULL;
    }
}

#endif
