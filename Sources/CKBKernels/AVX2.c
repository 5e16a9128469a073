// x86-64 AVX2/FMA/F16C kernels, compiled with function target attributes so the rest of the
// package stays baseline x86-64; `kb_matmul` calls them only when the CPU has the instructions.
//
// Integer scheme: 4-/5-/6-bit weight quants are unsigned bytes (offsets such as −8 or −32 are
// applied afterwards through the activation sums), the activations signed int8, multiplied with
// `vpmaddubsw` (u8 × s8 → pairs summed to s16) and widened/scaled with `vpmaddwd`. Q8_0 weights
// are signed: |w| × (a with w's sign). Each kernel takes 1 to 4 activation rows, so a weight block
// loaded and unpacked once serves every row of a batch pass.
#include "Internal.h"
#include "Exp.h"
#include <math.h>

#ifdef KB_HAVE_X86
#include <immintrin.h>
#include "X86Shared.h"

#define ACTIVATION_ROWS(T)                                                     \
    const T *y[8];                                                             \
    for (int j = 0; j < NA; j++) y[j] = (const T *)((const char *)act + (size_t)j * act_stride)

#define SPECIALIZE_ROWS(name) SPECIALIZE_ROWS_UP_TO(name, 4, KB_AVX2)

/// The AVX-VNNI family's `dot_u8s8`: one `vpdpbusd` for `vpmaddubsw` + `vpmaddwd`, the same 8
/// int32 lanes wherever `vpmaddubsw` cannot saturate (every 32-weight format: |q| ≤ 128, |a| ≤ 127).
#define KB_AVXVNNI __attribute__((target("avx2,fma,f16c,avxvnni")))
#define KB_AVXVNNI_INLINE static inline __attribute__((always_inline, target("avx2,fma,f16c,avxvnni")))
KB_AVXVNNI_INLINE __m256i dot_u8s8_vnni(__m256i u, __m256i s) {
    return _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), u, s);
}

// MARK: - Float weights

/// Float weight rows through `load(x, i)` (8 weights at index i) against float activations.
#define FLOAT_DOT(name, T, load, scalar)                                                              \
    KB_AVX2_INLINE void name##_n(int64_t n, const void *w, const void *act, size_t act_stride, float *out, const int NA) { \
        const T *x = w;                                                                               \
        ACTIVATION_ROWS(float);                                                                       \
        __m256 acc0[4], acc1[4];                                                                      \
        for (int j = 0; j < NA; j++) acc0[j] = acc1[j] = _mm256_setzero_ps();                         \
        int64_t i = 0;                                                                                \
        for (; i + 16 <= n; i += 16) {                                                                \
            __m256 w0 = load(x, i), w1 = load(x, i + 8);                                              \
            for (int j = 0; j < NA; j++) {                                                            \
                acc0[j] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(y[j] + i), acc0[j]);                    \
                acc1[j] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(y[j] + i + 8), acc1[j]);                \
            }                                                                                         \
        }                                                                                             \
        for (int j = 0; j < NA; j++) {                                                                \
            float sum = hsum_ps(_mm256_add_ps(acc0[j], acc1[j]));                                     \
            for (int64_t k = i; k < n; k++) sum += scalar(x[k]) * y[j][k];                            \
            out[j] = sum;                                                                             \
        }                                                                                             \
    }                                                                                                 \
    SPECIALIZE_ROWS(name)

#define LOAD_F32(x, i) _mm256_loadu_ps((x) + (i))
#define LOAD_F16(x, i) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((x) + (i))))
#define LOAD_BF16(x, i) \
    _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)((x) + (i)))), 16))
#define AS_FLOAT(v) (v)

FLOAT_DOT(dot_f32, float, LOAD_F32, AS_FLOAT)
FLOAT_DOT(dot_f16, uint16_t, LOAD_F16, half)
FLOAT_DOT(dot_bf16, uint16_t, LOAD_BF16, kb_bf16_to_f32)

// MARK: - 32-weight blocks against kb_q8_block

/// `d_w · d_a` for every lane: the weight scale (broadcast once per block) times the activation
/// block's scale, broadcast straight from memory.
#define BLOCK_SCALE(dw, a) _mm256_mul_ps((dw), _mm256_broadcast_ss(&(a)->d))

/// One block `b` of SIGNED32_DOT into accumulators `accs[0..<NA]`.
#define SIGNED32_STEP(BLOCK, quants, DOT, b, accs)                                                         \
    do {                                                                                              \
        const BLOCK *blk = &x[b];                                                                     \
        __m256i q = quants(blk);                                                                      \
        __m256i magnitude = _mm256_abs_epi8(q);                                                       \
        __m256 dw = _mm256_set1_ps(half(blk->d));                                                     \
        for (int j = 0; j < NA; j++) {                                                                \
            const kb_q8_block *a = &y[j][b];                                                          \
            __m256i signedA = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)a->qs), q);        \
            __m256 term = _mm256_cvtepi32_ps(DOT(magnitude, signedA));                                \
            accs[j] = _mm256_fmadd_ps(term, BLOCK_SCALE(dw, a), accs[j]);                             \
        }                                                                                             \
    } while (0)

/// Q4_0, Q5_0, Q8_0: `quants(block)` gives the 32 quants as signed bytes (offset applied), so
/// result = Σ d·da·Σ q·a through |q| × (a with q's sign). One accumulator chain per row, blocks
/// in order, then the horizontal sum: llama.cpp's summation order, so results agree to the bit.
/// `DOT`, `INLINE`, `ATTR`: the integer dot product and target attributes of the family.
#define SIGNED32_DOT_FAMILY(name, BLOCK, quants, DOT, INLINE, ATTR)                                   \
    INLINE void name##_n(int64_t n, const void *w, const void *act, size_t act_stride, float *out, const int NA) { \
        const BLOCK *x = w;                                                                           \
        ACTIVATION_ROWS(kb_q8_block);                                                                 \
        __m256 acc[8];                                                                                \
        for (int j = 0; j < NA; j++) acc[j] = _mm256_setzero_ps();                                    \
        for (int64_t b = 0; b < n / 32; b++) SIGNED32_STEP(BLOCK, quants, DOT, b, acc);               \
        for (int j = 0; j < NA; j++) out[j] = hsum_ps(acc[j]);                                        \
    }                                                                                                 \
    SPECIALIZE_ROWS_UP_TO(name, 8, ATTR)
#define SIGNED32_DOT(name, BLOCK, quants) SIGNED32_DOT_FAMILY(name, BLOCK, quants, dot_u8s8, KB_AVX2_INLINE, KB_AVX2)

/// One block `b` of MIN32_DOT into accumulators `accs`, `extras`.
#define MIN32_STEP(BLOCK, quants, DOT, b, accs, extras)                                                    \
    do {                                                                                              \
        const BLOCK *blk = &x[b];                                                                     \
        __m256i q = quants(blk);                                                                      \
        __m256 dw = _mm256_set1_ps(half(blk->d));                                                     \
        __m128 m = _mm_set_ss(half(blk->m));                                                          \
        for (int j = 0; j < NA; j++) {                                                                \
            const kb_q8_block *a = &y[j][b];                                                          \
            __m256 term = _mm256_cvtepi32_ps(DOT(q, _mm256_loadu_si256((const __m256i *)a->qs)));      \
            accs[j] = _mm256_fmadd_ps(term, BLOCK_SCALE(dw, a), accs[j]);                             \
            /* m · s (s = da · Σa) */                                                                 \
            extras[j] = _mm_add_ss(extras[j], _mm_mul_ss(m, _mm_load_ss(&a->s)));                    \
        }                                                                                             \
    } while (0)

/// Q4_1, Q5_1: unsigned quants `quants(block)` and a minimum: Σ d·da·Σq·a + m·s (s ≈ da·Σa, a half).
/// Summed as llama.cpp sums: one vector chain per row and a scalar chain of the m·s terms.
#define MIN32_DOT_FAMILY(name, BLOCK, quants, DOT, INLINE, ATTR)                                      \
    INLINE void name##_n(int64_t n, const void *w, const void *act, size_t act_stride, float *out, const int NA) { \
        const BLOCK *x = w;                                                                           \
        ACTIVATION_ROWS(kb_q8_block);                                                                 \
        __m256 acc[8];                                                                                \
        __m128 extra[8];                                                                              \
        for (int j = 0; j < NA; j++) {                                                                \
            acc[j] = _mm256_setzero_ps();                                                             \
            extra[j] = _mm_setzero_ps();                                                              \
        }                                                                                             \
        for (int64_t b = 0; b < n / 32; b++) MIN32_STEP(BLOCK, quants, DOT, b, acc, extra);           \
        for (int j = 0; j < NA; j++) out[j] = hsum_ps(acc[j]) + _mm_cvtss_f32(extra[j]);              \
    }                                                                                                 \
    SPECIALIZE_ROWS_UP_TO(name, 8, ATTR)
#define MIN32_DOT(name, BLOCK, quants) MIN32_DOT_FAMILY(name, BLOCK, quants, dot_u8s8, KB_AVX2_INLINE, KB_AVX2)
#define MIN32_DOT_VNNI(name, BLOCK, quants) MIN32_DOT_FAMILY(name, BLOCK, quants, dot_u8s8_vnni, KB_AVXVNNI_INLINE, KB_AVXVNNI)
#define SIGNED32_DOT_VNNI(name, BLOCK, quants) SIGNED32_DOT_FAMILY(name, BLOCK, quants, dot_u8s8_vnni, KB_AVXVNNI_INLINE, KB_AVXVNNI)

SIGNED32_DOT(dot_q4_0, kb_block_q4_0, Q4_0_QUANTS)
SIGNED32_DOT(dot_q5_0, kb_block_q5_0, Q5_0_QUANTS)
SIGNED32_DOT(dot_q8_0, kb_block_q8_0, Q8_0_QUANTS)
MIN32_DOT(dot_q4_1, kb_block_q4_1, Q4_1_QUANTS)
MIN32_DOT(dot_q5_1, kb_block_q5_1, Q5_1_QUANTS)
SIGNED32_DOT_VNNI(dot_q4_0_vnni, kb_block_q4_0, Q4_0_QUANTS)
SIGNED32_DOT_VNNI(dot_q5_0_vnni, kb_block_q5_0, Q5_0_QUANTS)
SIGNED32_DOT_VNNI(dot_q8_0_vnni, kb_block_q8_0, Q8_0_QUANTS)
MIN32_DOT_VNNI(dot_q4_1_vnni, kb_block_q4_1, Q4_1_QUANTS)
MIN32_DOT_VNNI(dot_q5_1_vnni, kb_block_q5_1, Q5_1_QUANTS)

/// The AVX-VNNI family's kernels of `type` (the 32-weight formats), or NULL (then AVX2's).
kb_dot_fn kb_avxvnni_dot(int type) {
    switch (type) {
    case KB_TYPE_Q4_0: return dot_q4_0_vnni;
    case KB_TYPE_Q4_1: return dot_q4_1_vnni;
    case KB_TYPE_Q5_0: return dot_q5_0_vnni;
    case KB_TYPE_Q5_1: return dot_q5_1_vnni;
    case KB_TYPE_Q8_0: return dot_q8_0_vnni;
    default: return NULL;
    }
}

// MARK: - K-quants against kb_q8k_block

/// Shuffle control broadcasting 16-bit element `k` (0-7) of each 128-bit lane.
#define WORD_BROADCAST(k) _mm256_set1_epi16((short)(((2 * (k) + 1) << 8) | (2 * (k))))

/// The sum of 8 int32 lanes.
KB_AVX2_INLINE int32_t hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

/// How a K-quant kernel sums its floats, after llama.cpp's choice of kernel (each super-block's
/// scaled sum S and minimum term M are exact integers; d, dmin are the weight's, da the activation's):
/// - ORDER_LANES: 8 float lanes of partial sums, d·da·S − dmin·da·M per lane, horizontal sum at
///   the end (`ggml_vec_dot_q*_K_q8_K`, one or few rows).
/// - ORDER_REPACKED: two scalar chains, Σ S·(d·da) and Σ M·(dmin·da), subtracted at the end
///   (its repacked Q4_K kernels, for matrices of a multiple of 8 rows); a full pass of 4 rows
///   (its 4-row GEMM) adds once per pair of sub-blocks, fewer rows (its GEMV) once per super-block.
/// - ORDER_TILED: one chain of fma(d·S − dmin·M, da) (its tiled K-quant GEMM, batches of 8 or more).
/// - ORDER_REPACKED_ROWS / ORDER_REPACKED_PAIRS: ORDER_REPACKED with the GEMV's (per super-block)
///   or the 4-row GEMM's (per pair of sub-blocks) additions whatever the number of rows, so that a
///   row's result does not depend on the rows beside it (the batching engine's order).
enum { ORDER_LANES = 0, ORDER_REPACKED = 1, ORDER_TILED = 2, ORDER_REPACKED_ROWS = 3, ORDER_REPACKED_PAIRS = 4 };

/// Q4_K (`HIGH_BITS` 0) and Q5_K (1): per super-block, Σ_s sc[s]·Σq·a and Σ_s m[s]·(bsums of s)
/// in integers, then d·da·S − dmin·da·M summed in `ORDER`.
#define K45_DOT(name, BLOCK, HIGH_BITS, ORDER)                                                               \
    KB_AVX2_INLINE void name##_n(int64_t n, const void *w, const void *act, size_t act_stride, float *out, const int NA) { \
        const BLOCK *x = w;                                                                           \
        ACTIVATION_ROWS(kb_q8k_block);                                                                \
        const __m256i low4 = _mm256_set1_epi8(0x0F);                                                  \
        const int perPair = (ORDER == ORDER_REPACKED && NA == 4) || ORDER == ORDER_REPACKED_PAIRS;    \
        __m256 acc[4];                                                                                \
        float sums[4] = {0}, minSums[4] = {0};                                                        \
        for (int j = 0; j < NA; j++) acc[j] = _mm256_setzero_ps();                                    \
        for (int64_t b = 0; b < n / 256; b++) {                                                       \
            const BLOCK *blk = &x[b];                                                                 \
            uint8_t scMinBytes[16]; /* the 8 scales, then the 8 minimums */                           \
            kb_unpack_k_scales(blk->scales, scMinBytes, scMinBytes + 8);                              \
            const uint8_t *mn = scMinBytes + 8;                                                       \
            __m256i scMin = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)scMinBytes));       \
            __m256i scales = _mm256_broadcastsi128_si256(_mm256_castsi256_si128(scMin));              \
            __m128i mins = _mm256_extracti128_si256(scMin, 1);                                        \
            __m256i minPairs = _mm256_set_m128i(_mm_unpackhi_epi16(mins, mins), _mm_unpacklo_epi16(mins, mins)); \
            __m256i isum[4];                                                                          \
            int32_t blockSum[4] = {0}, blockMin[4] = {0};                                             \
            for (int j = 0; j < NA; j++) isum[j] = _mm256_setzero_si256();                            \
            __m256i high = HIGH_BITS ? _mm256_loadu_si256((const __m256i *)((const uint8_t *)blk + 16)) : _mm256_setzero_si256(); \
            float d = half(blk->d), dmin = half(blk->dmin);                                           \
            for (int g = 0; g < 4; g++) {                                                             \
                __m256i qv = _mm256_loadu_si256((const __m256i *)(blk->qs + 32 * g));                 \
                __m256i lo = _mm256_and_si256(qv, low4);                                              \
                __m256i hi = _mm256_and_si256(_mm256_srli_epi16(qv, 4), low4);                        \
                if (HIGH_BITS) {                                                                      \
                    lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(high, _mm256_set1_epi8(1)), 4)); \
                    hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(high, _mm256_set1_epi8(2)), 3)); \
                    high = _mm256_srli_epi16(high, 2);                                                \
                }                                                                                     \
                __m256i scaleLo = _mm256_shuffle_epi8(scales, WORD_BROADCAST(2 * g));                 \
                __m256i scaleHi = _mm256_shuffle_epi8(scales, WORD_BROADCAST(2 * g + 1));             \
                for (int j = 0; j < NA; j++) {                                                        \
                    const int8_t *a = y[j][b].qs + 64 * g;                                            \
                    __m256i pLo = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)a));   \
                    __m256i pHi = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(a + 32))); \
                    __m256i pair = _mm256_add_epi32(_mm256_madd_epi16(pLo, scaleLo), _mm256_madd_epi16(pHi, scaleHi)); \
                    if (ORDER == ORDER_LANES) { isum[j] = _mm256_add_epi32(isum[j], pair); continue; } \
                    const int16_t *bs = y[j][b].bsums + 4 * g;                                        \
                    int32_t pairSum = hsum_epi32(pair);                                               \
                    int32_t pairMin = mn[2 * g] * (bs[0] + bs[1]) + mn[2 * g + 1] * (bs[2] + bs[3]);  \
                    if (perPair) {                                                                    \
                        float da = y[j][b].d;                                                         \
                        sums[j] = fmaf((float)pairSum, d * da, sums[j]);                              \
                        minSums[j] = fmaf((float)pairMin, dmin * da, minSums[j]);                     \
                    } else {                                                                          \
                        blockSum[j] += pairSum;                                                       \
                        blockMin[j] += pairMin;                                                       \
                    }                                                                                 \
                }                                                                                     \
            }                                                                                         \
            for (int j = 0; j < NA; j++) {                                                            \
                const kb_q8k_block *a = &y[j][b];                                                     \
                if (ORDER == ORDER_LANES) {                                                           \
                    __m256i msum = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)a->bsums), minPairs); \
                    acc[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[j]), _mm256_set1_ps(d * a->d), acc[j]); \
                    acc[j] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(msum), _mm256_set1_ps(dmin * a->d), acc[j]); \
                } else if (ORDER == ORDER_TILED) {                                                    \
                    float scaled = fmaf(-dmin, (float)blockMin[j], d * (float)blockSum[j]);           \
                    sums[j] = fmaf(scaled, a->d, sums[j]);                                            \
                } else if (!perPair) {                                                                \
                    sums[j] = fmaf((float)blockSum[j], d * a->d, sums[j]);                            \
                    minSums[j] = fmaf((float)blockMin[j], dmin * a->d, minSums[j]);                   \
                }                                                                                     \
            }                                                                                         \
        }                                                                                             \
        for (int j = 0; j < NA; j++) {                                                                \
            out[j] = ORDER == ORDER_LANES ? hsum_ps(acc[j]) : ORDER == ORDER_TILED ? sums[j] : sums[j] - minSums[j]; \
        }                                                                                             \
    }                                                                                                 \
    SPECIALIZE_ROWS(name)

K45_DOT(dot_q4_k, kb_block_q4_k, 0, ORDER_REPACKED)
K45_DOT(dot_q4_k_tiled, kb_block_q4_k, 0, ORDER_TILED)
K45_DOT(dot_q4_k_rows, kb_block_q4_k, 0, ORDER_REPACKED_ROWS)
K45_DOT(dot_q4_k_pairs, kb_block_q4_k, 0, ORDER_REPACKED_PAIRS)
K45_DOT(dot_q5_k, kb_block_q5_k, 1, ORDER_LANES)
K45_DOT(dot_q5_k_tiled, kb_block_q5_k, 1, ORDER_TILED)

/// Q6_K: unsigned 6-bit quants, signed 8-bit scale per 16 weights; the −32 offset goes through
/// the activation group sums: Σ sc·Σ(q − 32)·a = Σ sc·Σq·a − 32·Σ sc·bsum.
/// (`ORDER` as for K45_DOT: ORDER_LANES or ORDER_TILED; llama.cpp does not repack Q6_K on AVX2.)
KB_AVX2_INLINE void dot_q6_k_order(int64_t n, const void *w, const void *act, size_t act_stride, float *out, const int NA,
                                   const int ORDER) {
    const kb_block_q6_k *x = w;
    float sums[4] = {0};
    ACTIVATION_ROWS(kb_q8k_block);
    const __m256i low4 = _mm256_set1_epi8(0x0F), low2 = _mm256_set1_epi8(3);
    // Within each dword (sc[2p], sc[2p+1]): broadcast the first word in the low lane, the second in the high.
    const __m256i pairSplit = _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1,
                                               2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3);
    __m256 acc[4];
    for (int j = 0; j < NA; j++) acc[j] = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / 256; b++) {
        const kb_block_q6_k *blk = &x[b];
        __m256i scales = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)blk->scales));  // 16 × s16
        __m256i isum[4];
        for (int j = 0; j < NA; j++) isum[j] = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            __m256i ql0 = _mm256_loadu_si256((const __m256i *)(blk->ql + 64 * h));
            __m256i ql1 = _mm256_loadu_si256((const __m256i *)(blk->ql + 64 * h + 32));
            __m256i qh = _mm256_loadu_si256((const __m256i *)(blk->qh + 32 * h));
            __m256i q[4];
            q[0] = _mm256_or_si256(_mm256_and_si256(ql0, low4), _mm256_slli_epi16(_mm256_and_si256(qh, low2), 4));
            q[1] = _mm256_or_si256(_mm256_and_si256(ql1, low4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), low2), 4));
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), low2), 4));
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), low2), 4));
            for (int k = 0; k < 4; k++) {
                __m256i pair = _mm256_permutevar8x32_epi32(scales, _mm256_set1_epi32(4 * h + k));
                __m256i scale = _mm256_shuffle_epi8(pair, pairSplit);
                for (int j = 0; j < NA; j++) {
                    __m256i a = _mm256_loadu_si256((const __m256i *)(y[j][b].qs + 128 * h + 32 * k));
                    isum[j] = _mm256_add_epi32(isum[j], _mm256_madd_epi16(_mm256_maddubs_epi16(q[k], a), scale));
                }
            }
        }
        float d = half(blk->d);
        for (int j = 0; j < NA; j++) {
            const kb_q8k_block *a = &y[j][b];
            __m256i offset = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)a->bsums), scales);
            __m256i total = _mm256_sub_epi32(isum[j], _mm256_slli_epi32(offset, 5));
            if (ORDER == ORDER_TILED) {
                sums[j] = fmaf(d * (float)hsum_epi32(total), a->d, sums[j]);
            } else {
                acc[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(total), _mm256_set1_ps(d * a->d), acc[j]);
            }
        }
    }
    for (int j = 0; j < NA; j++) out[j] = ORDER == ORDER_TILED ? sums[j] : hsum_ps(acc[j]);
}
KB_AVX2_INLINE void dot_q6_k_n(int64_t n, const void *w, const void *act, size_t act_stride, float *out, const int NA) {
    dot_q6_k_order(n, w, act, act_stride, out, NA, ORDER_LANES);
}
KB_AVX2_INLINE void dot_q6_k_tiled_n(int64_t n, const void *w, const void *act, size_t act_stride, float *out, const int NA) {
    dot_q6_k_order(n, w, act, act_stride, out, NA, ORDER_TILED);
}
SPECIALIZE_ROWS(dot_q6_k)
SPECIALIZE_ROWS(dot_q6_k_tiled)

kb_dot_fn kb_avx2_dot_tiled(int type) {
    switch (type) {
    case KB_TYPE_Q4_K: return dot_q4_k_tiled;
    case KB_TYPE_Q5_K: return dot_q5_k_tiled;
    case KB_TYPE_Q6_K: return dot_q6_k_tiled;
    default: return NULL;
    }
}

kb_dot_fn kb_avx2_dot_ordered(int type, int pairs) {
    if (type == KB_TYPE_Q4_K) return pairs ? dot_q4_k_pairs : dot_q4_k_rows;
    return kb_avx2_dot(type);
}

kb_dot_fn kb_avx2_dot(int type) {
    switch (type) {
    case KB_TYPE_F32: return dot_f32;
    case KB_TYPE_F16: return dot_f16;
    case KB_TYPE_BF16: return dot_bf16;
    case KB_TYPE_Q4_0: return dot_q4_0;
    case KB_TYPE_Q4_1: return dot_q4_1;
    case KB_TYPE_Q5_0: return dot_q5_0;
    case KB_TYPE_Q5_1: return dot_q5_1;
    case KB_TYPE_Q8_0: return dot_q8_0;
    case KB_TYPE_Q4_K: return dot_q4_k;
    case KB_TYPE_Q5_K: return dot_q5_k;
    case KB_TYPE_Q6_K: return dot_q6_k;
    default: return NULL;
    }
}

// MARK: - Activation quantizers

/// `n` (a multiple of 32) floats to int8 with one scale, as the generic quantizer; returns max|x|.
static KB_AVX2 float quantize_run(const float *x, int n, int8_t *q) {
    const __m256 signBit = _mm256_set1_ps(-0.0f);
    __m256 vmax = _mm256_setzero_ps();
    for (int i = 0; i < n; i += 8) vmax = _mm256_max_ps(vmax, _mm256_andnot_ps(signBit, _mm256_loadu_ps(x + i)));
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(vmax), _mm256_extractf128_ps(vmax, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    float amax = _mm_cvtss_f32(m);
    __m256 id = _mm256_set1_ps(amax != 0 ? 127.0f / amax : 0.0f);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int i = 0; i < n; i += 32) {
        __m256i v[4];
        for (int k = 0; k < 4; k++) {
            __m256 scaled = _mm256_mul_ps(_mm256_loadu_ps(x + i + 8 * k), id);
            v[k] = _mm256_cvtps_epi32(_mm256_round_ps(scaled, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        }
        __m256i packed = _mm256_packs_epi16(_mm256_packs_epi32(v[0], v[1]), _mm256_packs_epi32(v[2], v[3]));
        _mm256_storeu_si256((__m256i *)(q + i), _mm256_permutevar8x32_epi32(packed, order));
    }
    return amax;
}

KB_AVX2 void kb_avx2_quantize_q8(const float *x, int64_t n, kb_q8_block *out) {
    for (int64_t b = 0; b < n / 32; b++) {
        float d = quantize_run(x + 32 * b, 32, out[b].qs) / 127.0f;
        int32_t sum = 0;
        for (int i = 0; i < 32; i++) sum += out[b].qs[i];
        out[b].d = kb_round_to_f16(d);
        out[b].s = kb_round_to_f16(d * (float)sum);
    }
}

KB_AVX2 void kb_avx2_quantize_q8k(const float *x, int64_t n, kb_q8k_block *out) {
    for (int64_t b = 0; b < n / 256; b++) {
        float amax = quantize_run(x + 256 * b, 256, out[b].qs);
        out[b].d = amax != 0 ? 1.0f / (127.0f / amax) : 0.0f;
        for (int g = 0; g < 16; g++) {
            int sum = 0;
            for (int i = 0; i < 16; i++) sum += out[b].qs[16 * g + i];
            out[b].bsums[g] = (int16_t)sum;
        }
    }
}

// MARK: - SwiGLU

/// `kb_generic_swiglu` 8 lanes at a time, bit for bit.
__attribute__((target("avx2,fma"))) void kb_avx2_swiglu(float *gate, const float *up, int64_t n) {
    const __m256 one = _mm256_set1_ps(1.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_loadu_ps(gate + i);
        __m256 silu = _mm256_div_ps(x, _mm256_add_ps(one, kb_exp_avx2(_mm256_sub_ps(_mm256_setzero_ps(), x))));
        _mm256_storeu_ps(gate + i, _mm256_mul_ps(silu, _mm256_loadu_ps(up + i)));
    }
    kb_swiglu_tail(gate, up, i, n);
}

#endif
