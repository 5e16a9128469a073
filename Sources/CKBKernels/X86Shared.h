// Helpers shared by the x86-64 kernel files (AVX2.c, AVX512.c): AVX2 inline functions, which
// functions of a later family may call, and the 32-weight block formats' quants as bytes.
#ifndef CKBKERNELS_X86_SHARED_H
#define CKBKERNELS_X86_SHARED_H

#include "Internal.h"
#include <immintrin.h>

#define KB_AVX2 __attribute__((target("avx2,fma,f16c")))
#define KB_AVX2_INLINE static inline __attribute__((always_inline, target("avx2,fma,f16c")))

KB_AVX2_INLINE float hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// A half float's value. Left to itself clang inserts the bits into whatever register is at hand
/// (`vpinsrw`), often an accumulator, which chains every block to the previous one: the empty
/// asm makes it load them into a fresh register (`vmovd`, which clears the rest).
KB_AVX2_INLINE float half(uint16_t h) {
    __m128i bits = _mm_cvtsi32_si128(h);
    __asm__("" : "+x"(bits));
    return _mm_cvtss_f32(_mm_cvtph_ps(bits));
}

/// 8 int32 lanes: sums of 4 adjacent products u[i]·s[i] (u unsigned, s signed bytes).
KB_AVX2_INLINE __m256i dot_u8s8(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

/// The 32 nibbles of 16 bytes as bytes: low nibbles in bytes 0-15, high nibbles in 16-31.
KB_AVX2_INLINE __m256i unpack_nibbles(const uint8_t *p) {
    __m128i raw = _mm_loadu_si128((const __m128i *)p);
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), _mm256_set1_epi8(0x0F));
}

/// 0xFF in byte i where bit i of the 32 bits at p is set, else 0.
KB_AVX2_INLINE __m256i bit_mask(const uint8_t *p) {
    uint32_t bits;
    memcpy(&bits, p, 4);
    const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                            2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits), spread);  // byte i = byte i/8 of bits
    const __m256i allButBit = _mm256_set1_epi64x(0x7FBFDFEFF7FBFDFELL);      // byte k: every bit but k
    return _mm256_cmpeq_epi8(_mm256_or_si256(bytes, allButBit), _mm256_set1_epi8(-1));
}

/// Q4_0: nibble − 8.
#define Q4_0_QUANTS(blk) _mm256_sub_epi8(unpack_nibbles((blk)->qs), _mm256_set1_epi8(8))
/// Q5_0: (nibble | fifth bit · 16) − 16, i.e. the nibble with 0xF0 set where the fifth bit is clear.
#define Q5_0_QUANTS(blk) _mm256_or_si256(unpack_nibbles((blk)->qs), _mm256_andnot_si256(bit_mask((blk)->qh), _mm256_set1_epi8((char)0xF0)))
#define Q8_0_QUANTS(blk) _mm256_loadu_si256((const __m256i *)(blk)->qs)
#define Q4_1_QUANTS(blk) unpack_nibbles((blk)->qs)
#define Q5_1_QUANTS(blk) _mm256_or_si256(unpack_nibbles((blk)->qs), _mm256_and_si256(bit_mask((blk)->qh), _mm256_set1_epi8(0x10)))


/// A kernel `name(n, w, act, stride, na, out)` (`ATTR`: its target attribute) from `name##_n`,
/// specialized for 1 ... MAX_ROWS rows (4, or 8 for the 32-weight block formats, whose unpacking
/// of a weight block is then shared by twice as many rows; each row's sum is the same whatever the
/// number of rows).
#define SPECIALIZE_ROWS_UP_TO(name, MAX_ROWS, ATTR)                                                    \
    static ATTR void name(int64_t n, const void *w, const void *act, size_t act_stride, int na, float *out) { \
        switch (na < (MAX_ROWS) ? na : (MAX_ROWS)) {                                                   \
        case 1: name##_n(n, w, act, act_stride, out, 1); break;                                        \
        case 2: name##_n(n, w, act, act_stride, out, 2); break;                                        \
        case 3: name##_n(n, w, act, act_stride, out, 3); break;                                        \
        case 4: name##_n(n, w, act, act_stride, out, 4); break;                                        \
        case 5: if ((MAX_ROWS) >= 5) name##_n(n, w, act, act_stride, out, (MAX_ROWS) >= 5 ? 5 : 1); break; \
        case 6: if ((MAX_ROWS) >= 6) name##_n(n, w, act, act_stride, out, (MAX_ROWS) >= 6 ? 6 : 1); break; \
        case 7: if ((MAX_ROWS) >= 7) name##_n(n, w, act, act_stride, out, (MAX_ROWS) >= 7 ? 7 : 1); break; \
        default: name##_n(n, w, act, act_stride, out, (MAX_ROWS) >= 8 ? 8 : (MAX_ROWS)); break;       \
        }                                                                                              \
    }

#endif
