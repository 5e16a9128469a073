// The repacked Q4_K products (`kb_block_q4_kx8`, see Q4KRepack.c) for x86-64: AVX2, AVX-VNNI and
// AVX-512 (BW, VL, VNNI). Each holds the 8 rows of a group in lanes, so no horizontal sum is
// needed, and does the scalar reference's float operations lane by lane (same bits).
//
// Integers: a piece of 8 quant bytes of a row meets 8 activation bytes broadcast to every row;
// the low nibbles (sub-block 2p) and the high nibbles (2p + 1) accumulate separately over the 4
// pieces of a pair, in int16 pairs (`vpmaddubsw` + `vpaddw`, AVX2) or int32 lanes (`vpdpbusd`,
// the VNNI families). A lane then holds at most 16 products of a 4-bit quant and an int8
// (|sum| ≤ 16 · 15 · 127 = 30,480 < 2^15), so `vpmaddwd` with the scale in the low half of a
// 32-bit lane multiplies it exactly. Two lanes per row remain; they are added, then S·(d·da)
// and M·(dmin·da) accumulate in float lanes as the reference does.
#include "Internal.h"

#ifdef KB_HAVE_X86
#include <immintrin.h>

/// 8 activation bytes at `p` in every 64-bit lane.
#define BROADCAST8(p) ({ int64_t bits_; memcpy(&bits_, (p), 8); bits_; })

/// (bsums[0] + bsums[1]) in the low half of every 32-bit lane, (bsums[2] + bsums[3]) in the high:
/// `vpmaddwd` with a row's two minimums then gives M.
#define BSUM_PAIRS(bs) ((int32_t)(uint16_t)(int16_t)((bs)[0] + (bs)[1]) | (int32_t)((uint32_t)(uint16_t)(int16_t)((bs)[2] + (bs)[3]) << 16))

// MARK: - 256-bit: AVX2 and AVX-VNNI

/// The kernel over 256-bit registers: rows 4h ..< 4h + 4 of a group fill one register (8 bytes
/// each); `VNNI` chooses `vpdpbusd` accumulation.
#define Q4KX8_256(name, TARGET, VNNI)                                                                      \
    static inline __attribute__((always_inline, target(TARGET))) void name##_n(                            \
        int64_t nb, const kb_block_q4_kx8 *w, const void *act, size_t act_stride, float *out, int64_t out_stride, \
        const int NA, const int PAIRS) {                                                                   \
        const kb_q8k_block *y[KB_Q4KX8_ROWS_PER_PASS];                                                     \
        for (int j = 0; j < NA; j++) y[j] = (const kb_q8k_block *)((const char *)act + (size_t)j * act_stride); \
        const __m256i low4 = _mm256_set1_epi8(0x0F);                                                       \
        __m256 sums[KB_Q4KX8_ROWS_PER_PASS], minSums[KB_Q4KX8_ROWS_PER_PASS];                              \
        for (int j = 0; j < NA; j++) sums[j] = minSums[j] = _mm256_setzero_ps();                           \
        for (int64_t b = 0; b < nb; b++) {                                                                 \
            const kb_block_q4_kx8 *x8 = &w[b];                                                             \
            const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)x8->d));                     \
            const __m256 dmin = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)x8->dmin));               \
            __m256i blockSum[KB_Q4KX8_ROWS_PER_PASS], blockMin[KB_Q4KX8_ROWS_PER_PASS];                    \
            for (int j = 0; j < NA; j++) blockSum[j] = blockMin[j] = _mm256_setzero_si256();               \
            for (int p = 0; p < 4; p++) {                                                                  \
                __m256i halves[2][KB_Q4KX8_ROWS_PER_PASS];                                                 \
                for (int h = 0; h < 2; h++) {                                                              \
                    __m256i accLo[KB_Q4KX8_ROWS_PER_PASS], accHi[KB_Q4KX8_ROWS_PER_PASS];                  \
                    for (int j = 0; j < NA; j++) accLo[j] = accHi[j] = _mm256_setzero_si256();             \
                    for (int c = 0; c < 4; c++) {                                                          \
                        __m256i raw = _mm256_loadu_si256((const __m256i *)x8->qs[p][c][4 * h]);            \
                        __m256i lo = _mm256_and_si256(raw, low4);                                          \
                        __m256i hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), low4);                    \
                        for (int j = 0; j < NA; j++) {                                                     \
                            __m256i aLo = _mm256_set1_epi64x(BROADCAST8(y[j][b].qs + 64 * p + 8 * c));     \
                            __m256i aHi = _mm256_set1_epi64x(BROADCAST8(y[j][b].qs + 64 * p + 32 + 8 * c)); \
                            if (VNNI) {                                                                    \
                                accLo[j] = _mm256_dpbusd_avx_epi32(accLo[j], lo, aLo);                     \
                                accHi[j] = _mm256_dpbusd_avx_epi32(accHi[j], hi, aHi);                     \
                            } else {                                                                       \
                                accLo[j] = _mm256_add_epi16(accLo[j], _mm256_maddubs_epi16(lo, aLo));      \
                                accHi[j] = _mm256_add_epi16(accHi[j], _mm256_maddubs_epi16(hi, aHi));      \
                            }                                                                              \
                        }                                                                                  \
                    }                                                                                      \
                    /* The 4 rows' scales in the 16-bit lanes the accumulators' sums sit in. */            \
                    int32_t scLoBits, scHiBits;                                                            \
                    memcpy(&scLoBits, &x8->scales[p][0][4 * h], 4);                                        \
                    memcpy(&scHiBits, &x8->scales[p][1][4 * h], 4);                                        \
                    __m128i scLoBytes = _mm_cvtsi32_si128(scLoBits), scHiBytes = _mm_cvtsi32_si128(scHiBits); \
                    scLoBytes = _mm_unpacklo_epi8(scLoBytes, scLoBytes);                                   \
                    scHiBytes = _mm_unpacklo_epi8(scHiBytes, scHiBytes);                                   \
                    __m256i scLo, scHi;                                                                    \
                    if (VNNI) {                                                                            \
                        scLo = _mm256_cvtepu8_epi32(scLoBytes);                                            \
                        scHi = _mm256_cvtepu8_epi32(scHiBytes);                                            \
                    } else {                                                                               \
                        scLo = _mm256_cvtepu8_epi16(_mm_unpacklo_epi16(scLoBytes, scLoBytes));             \
                        scHi = _mm256_cvtepu8_epi16(_mm_unpacklo_epi16(scHiBytes, scHiBytes));             \
                    }                                                                                      \
                    for (int j = 0; j < NA; j++) {                                                         \
                        halves[h][j] = _mm256_add_epi32(_mm256_madd_epi16(accLo[j], scLo), _mm256_madd_epi16(accHi[j], scHi)); \
                    }                                                                                      \
                }                                                                                          \
                const __m256i mins = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)x8->mins[p])); \
                for (int j = 0; j < NA; j++) {                                                             \
                    /* hadd: rows 0, 1, 4, 5 | 2, 3, 6, 7; the permutation puts them in order. */          \
                    __m256i pairSum = _mm256_permute4x64_epi64(_mm256_hadd_epi32(halves[0][j], halves[1][j]), 0xD8); \
                    __m256i pairMin = _mm256_madd_epi16(mins, _mm256_set1_epi32(BSUM_PAIRS(y[j][b].bsums + 4 * p))); \
                    if (PAIRS) {                                                                           \
                        const __m256 da = _mm256_set1_ps(y[j][b].d);                                       \
                        sums[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(pairSum), _mm256_mul_ps(d, da), sums[j]); \
                        minSums[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(pairMin), _mm256_mul_ps(dmin, da), minSums[j]); \
                    } else {                                                                               \
                        blockSum[j] = _mm256_add_epi32(blockSum[j], pairSum);                              \
                        blockMin[j] = _mm256_add_epi32(blockMin[j], pairMin);                              \
                    }                                                                                      \
                }                                                                                          \
            }                                                                                              \
            if (!PAIRS) {                                                                                  \
                for (int j = 0; j < NA; j++) {                                                             \
                    const __m256 da = _mm256_set1_ps(y[j][b].d);                                           \
                    sums[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(blockSum[j]), _mm256_mul_ps(d, da), sums[j]); \
                    minSums[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(blockMin[j]), _mm256_mul_ps(dmin, da), minSums[j]); \
                }                                                                                          \
            }                                                                                              \
        }                                                                                                  \
        for (int j = 0; j < NA; j++) _mm256_storeu_ps(out + (int64_t)j * out_stride, _mm256_sub_ps(sums[j], minSums[j])); \
    }

/// `name(nb, w, act, stride, na, pairs, out, out_stride)` from `name##_n`, specialized for 1 ... 4
/// activation rows and each order.
#define Q4KX8_SPECIALIZE(name, TARGET)                                                                     \
    __attribute__((target(TARGET))) void name(int64_t nb, const kb_block_q4_kx8 *w, const void *act,       \
                                              size_t act_stride, int na, int pairs, float *out, int64_t out_stride) { \
        switch (na * 2 + (pairs != 0)) {                                                                   \
        case 2: name##_n(nb, w, act, act_stride, out, out_stride, 1, 0); break;                            \
        case 3: name##_n(nb, w, act, act_stride, out, out_stride, 1, 1); break;                            \
        case 4: name##_n(nb, w, act, act_stride, out, out_stride, 2, 0); break;                            \
        case 5: name##_n(nb, w, act, act_stride, out, out_stride, 2, 1); break;                            \
        case 6: name##_n(nb, w, act, act_stride, out, out_stride, 3, 0); break;                            \
        case 7: name##_n(nb, w, act, act_stride, out, out_stride, 3, 1); break;                            \
        case 8: name##_n(nb, w, act, act_stride, out, out_stride, 4, 0); break;                            \
        default: name##_n(nb, w, act, act_stride, out, out_stride, 4, 1); break;                           \
        }                                                                                                  \
    }

Q4KX8_256(kb_avx2_q4kx8, "avx2,fma,f16c", 0)
Q4KX8_SPECIALIZE(kb_avx2_q4kx8, "avx2,fma,f16c")
Q4KX8_256(kb_avxvnni_q4kx8, "avx2,fma,f16c,avxvnni", 1)
Q4KX8_SPECIALIZE(kb_avxvnni_q4kx8, "avx2,fma,f16c,avxvnni")

// MARK: - 512-bit: AVX-512 BW, VL, VNNI

#define AVX512_TARGET "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni"

/// All 8 rows of a group in one 512-bit register (8 bytes each, two 32-bit lanes per row).
static inline __attribute__((always_inline, target(AVX512_TARGET))) void kb_avx512_q4kx8_n(
    int64_t nb, const kb_block_q4_kx8 *w, const void *act, size_t act_stride, float *out, int64_t out_stride, const int NA,
    const int PAIRS) {
    const kb_q8k_block *y[KB_Q4KX8_ROWS_PER_PASS];
    for (int j = 0; j < NA; j++) y[j] = (const kb_q8k_block *)((const char *)act + (size_t)j * act_stride);
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    __m256 sums[KB_Q4KX8_ROWS_PER_PASS], minSums[KB_Q4KX8_ROWS_PER_PASS];
    for (int j = 0; j < NA; j++) sums[j] = minSums[j] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const kb_block_q4_kx8 *x8 = &w[b];
        const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)x8->d));
        const __m256 dmin = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)x8->dmin));
        __m256i blockSum[KB_Q4KX8_ROWS_PER_PASS], blockMin[KB_Q4KX8_ROWS_PER_PASS];
        for (int j = 0; j < NA; j++) blockSum[j] = blockMin[j] = _mm256_setzero_si256();
        for (int p = 0; p < 4; p++) {
            __m512i accLo[KB_Q4KX8_ROWS_PER_PASS], accHi[KB_Q4KX8_ROWS_PER_PASS];
            for (int j = 0; j < NA; j++) accLo[j] = accHi[j] = _mm512_setzero_si512();
            for (int c = 0; c < 4; c++) {
                __m512i raw = _mm512_loadu_si512((const void *)x8->qs[p][c]);
                __m512i lo = _mm512_and_si512(raw, low4);
                __m512i hi = _mm512_and_si512(_mm512_srli_epi16(raw, 4), low4);
                for (int j = 0; j < NA; j++) {
                    accLo[j] = _mm512_dpbusd_epi32(accLo[j], lo, _mm512_set1_epi64(BROADCAST8(y[j][b].qs + 64 * p + 8 * c)));
                    accHi[j] = _mm512_dpbusd_epi32(accHi[j], hi, _mm512_set1_epi64(BROADCAST8(y[j][b].qs + 64 * p + 32 + 8 * c)));
                }
            }
            __m128i scLoBytes = _mm_loadl_epi64((const __m128i *)x8->scales[p][0]);
            __m128i scHiBytes = _mm_loadl_epi64((const __m128i *)x8->scales[p][1]);
            const __m512i scLo = _mm512_cvtepu8_epi32(_mm_unpacklo_epi8(scLoBytes, scLoBytes));
            const __m512i scHi = _mm512_cvtepu8_epi32(_mm_unpacklo_epi8(scHiBytes, scHiBytes));
            const __m256i mins = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)x8->mins[p]));
            for (int j = 0; j < NA; j++) {
                __m512i both = _mm512_add_epi32(_mm512_madd_epi16(accLo[j], scLo), _mm512_madd_epi16(accHi[j], scHi));
                // Row r's two lanes 2r, 2r + 1 added into lane 2r, then the even lanes in order.
                both = _mm512_add_epi32(both, _mm512_shuffle_epi32(both, _MM_PERM_CDAB));
                __m256i pairSum = _mm512_cvtepi64_epi32(both);
                __m256i pairMin = _mm256_madd_epi16(mins, _mm256_set1_epi32(BSUM_PAIRS(y[j][b].bsums + 4 * p)));
                if (PAIRS) {
                    const __m256 da = _mm256_set1_ps(y[j][b].d);
                    sums[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(pairSum), _mm256_mul_ps(d, da), sums[j]);
                    minSums[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(pairMin), _mm256_mul_ps(dmin, da), minSums[j]);
                } else {
                    blockSum[j] = _mm256_add_epi32(blockSum[j], pairSum);
                    blockMin[j] = _mm256_add_epi32(blockMin[j], pairMin);
                }
            }
        }
        if (!PAIRS) {
            for (int j = 0; j < NA; j++) {
                const __m256 da = _mm256_set1_ps(y[j][b].d);
                sums[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(blockSum[j]), _mm256_mul_ps(d, da), sums[j]);
                minSums[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(blockMin[j]), _mm256_mul_ps(dmin, da), minSums[j]);
            }
        }
    }
    for (int j = 0; j < NA; j++) _mm256_storeu_ps(out + (int64_t)j * out_stride, _mm256_sub_ps(sums[j], minSums[j]));
}
Q4KX8_SPECIALIZE(kb_avx512_q4kx8, AVX512_TARGET)

#endif
