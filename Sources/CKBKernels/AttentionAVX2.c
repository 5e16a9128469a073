// The AVX2/FMA/F16C attention kernels: the scalar reference's operations (AttentionGeneric.c) in
// the same order, 8 lanes at a time.
#include "AttentionShared.h"
#include "Exp.h"
#include <math.h>

#ifdef KB_HAVE_X86
#include <immintrin.h>
#define KB_AVX2 __attribute__((target("avx2,fma,f16c")))

// MARK: - F16 rows

KB_AVX2 void kb_avx2_to_f16_row(const float *x, uint16_t *out, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm_storeu_si128((__m128i *)(out + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    }
    for (; i < n; i++) out[i] = kb_f32_to_f16(x[i]);
}

KB_AVX2 void kb_avx2_from_f16_row(const uint16_t *x, float *out, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i))));
    for (; i < n; i++) out[i] = kb_f16_to_f32(x[i]);
}

// MARK: - Attention

#define KB_AVX2_INLINE static inline __attribute__((always_inline, target("avx2,fma,f16c")))

/// `sum_lanes` of 8 accumulators at once: lane j of the result is sum_lanes(acc[j]).
KB_AVX2_INLINE __m256 sum_lanes8(const __m256 acc[8]) {
    __m256 t[4];
    for (int j = 0; j < 4; j++) {  // t[j] = halves added: (acc[2j] lanes 0-3 | acc[2j+1] lanes 0-3)
        __m256 low = _mm256_permute2f128_ps(acc[2 * j], acc[2 * j + 1], 0x20);
        __m256 high = _mm256_permute2f128_ps(acc[2 * j], acc[2 * j + 1], 0x31);
        t[j] = _mm256_add_ps(low, high);
    }
    // Pairs two apart: (t0 + t2, t1 + t3) for each accumulator.
    __m256 u01 = _mm256_add_ps(_mm256_shuffle_ps(t[0], t[1], _MM_SHUFFLE(1, 0, 1, 0)), _mm256_shuffle_ps(t[0], t[1], _MM_SHUFFLE(3, 2, 3, 2)));
    __m256 u23 = _mm256_add_ps(_mm256_shuffle_ps(t[2], t[3], _MM_SHUFFLE(1, 0, 1, 0)), _mm256_shuffle_ps(t[2], t[3], _MM_SHUFFLE(3, 2, 3, 2)));
    // u01 = (acc0: u0 u1, acc2: u0 u1 | acc1: u0 u1, acc3: u0 u1); the last pair by hadd.
    __m256 r = _mm256_hadd_ps(u01, u23);  // (acc0 acc2 acc4 acc6 | acc1 acc3 acc5 acc7)
    return _mm256_permutevar8x32_ps(r, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/// `sum_four_accumulators` of 8 dot products at once: lane j of the result for s[j][0..3].
KB_AVX2_INLINE __m256 sum_four_accumulators8(__m256 s[8][4]) {
    __m256 x[8];
    for (int j = 0; j < 8; j++) x[j] = _mm256_add_ps(_mm256_add_ps(s[j][0], s[j][2]), _mm256_add_ps(s[j][1], s[j][3]));
    __m256 t[4];
    for (int j = 0; j < 4; j++) {
        __m256 low = _mm256_permute2f128_ps(x[2 * j], x[2 * j + 1], 0x20);
        __m256 high = _mm256_permute2f128_ps(x[2 * j], x[2 * j + 1], 0x31);
        t[j] = _mm256_add_ps(low, high);  // (x[2j] halves added | x[2j+1] halves added)
    }
    __m256 h01 = _mm256_hadd_ps(t[0], t[1]), h23 = _mm256_hadd_ps(t[2], t[3]);  // adjacent pairs
    __m256 r = _mm256_hadd_ps(h01, h23);  // (x0 x2 x4 x6 | x1 x3 x5 x7)
    return _mm256_permutevar8x32_ps(r, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/// Rows t0 ..< t0 + n of a key head into `tile` as floats (n ≤ TILE), zero rows up to a multiple of 8.
KB_AVX2_INLINE void load_tile(const void *const *blocks, int64_t bt, int type, int64_t t0, int64_t n, int hd, float *tile) {
    for (int64_t t = 0; t < n;) {  // runs of consecutive rows within one block
        int64_t run = bt - (t0 + t) % bt;
        if (run > n - t) run = n - t;
        const void *row = kv_row(blocks, bt, type, t0 + t, hd);
        if (type == KB_TYPE_F16) {
            kb_avx2_from_f16_row((const uint16_t *)row, tile + t * hd, run * hd);
        } else {
            memcpy(tile + t * hd, row, (size_t)(run * hd) * sizeof(float));
        }
        t += run;
    }
    int64_t padded = (n + 7) / 8 * 8;
    if (padded > n) memset(tile + n * hd, 0, (size_t)((padded - n) * hd) * sizeof(float));
}

/// Rows t0 ..< t0 + n of a value head into `tile` transposed by steps of 8 positions: step c,
/// dimension d holds positions t0 + 8c ..< t0 + 8c + 8 of dimension d in 8 lanes (zeros past n).
KB_AVX2_INLINE void load_transposed_tile(const void *const *blocks, int64_t bt, int type, int64_t t0, int64_t n, int hd, float *tile) {
    for (int64_t c = 0; c * 8 < n; c++) {
        for (int d0 = 0; d0 < hd; d0 += 8) {
            __m256 r[8];
            for (int l = 0; l < 8; l++) {
                int64_t t = 8 * c + l;
                if (t >= n) { r[l] = _mm256_setzero_ps(); continue; }
                const void *row = kv_row(blocks, bt, type, t0 + t, hd);
                r[l] = type == KB_TYPE_F16
                    ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)row + d0)))
                    : _mm256_loadu_ps((const float *)row + d0);
            }
            // 8 × 8 transpose: r[l][dd] → out[dd][l].
            __m256 u0 = _mm256_unpacklo_ps(r[0], r[1]), u1 = _mm256_unpackhi_ps(r[0], r[1]);
            __m256 u2 = _mm256_unpacklo_ps(r[2], r[3]), u3 = _mm256_unpackhi_ps(r[2], r[3]);
            __m256 u4 = _mm256_unpacklo_ps(r[4], r[5]), u5 = _mm256_unpackhi_ps(r[4], r[5]);
            __m256 u6 = _mm256_unpacklo_ps(r[6], r[7]), u7 = _mm256_unpackhi_ps(r[6], r[7]);
            __m256 v0 = _mm256_shuffle_ps(u0, u2, _MM_SHUFFLE(1, 0, 1, 0)), v1 = _mm256_shuffle_ps(u0, u2, _MM_SHUFFLE(3, 2, 3, 2));
            __m256 v2 = _mm256_shuffle_ps(u1, u3, _MM_SHUFFLE(1, 0, 1, 0)), v3 = _mm256_shuffle_ps(u1, u3, _MM_SHUFFLE(3, 2, 3, 2));
            __m256 v4 = _mm256_shuffle_ps(u4, u6, _MM_SHUFFLE(1, 0, 1, 0)), v5 = _mm256_shuffle_ps(u4, u6, _MM_SHUFFLE(3, 2, 3, 2));
            __m256 v6 = _mm256_shuffle_ps(u5, u7, _MM_SHUFFLE(1, 0, 1, 0)), v7 = _mm256_shuffle_ps(u5, u7, _MM_SHUFFLE(3, 2, 3, 2));
            float *out = tile + (c * hd + d0) * 8;
            _mm256_storeu_ps(out + 0 * 8, _mm256_permute2f128_ps(v0, v4, 0x20));
            _mm256_storeu_ps(out + 1 * 8, _mm256_permute2f128_ps(v1, v5, 0x20));
            _mm256_storeu_ps(out + 2 * 8, _mm256_permute2f128_ps(v2, v6, 0x20));
            _mm256_storeu_ps(out + 3 * 8, _mm256_permute2f128_ps(v3, v7, 0x20));
            _mm256_storeu_ps(out + 4 * 8, _mm256_permute2f128_ps(v0, v4, 0x31));
            _mm256_storeu_ps(out + 5 * 8, _mm256_permute2f128_ps(v1, v5, 0x31));
            _mm256_storeu_ps(out + 6 * 8, _mm256_permute2f128_ps(v2, v6, 0x31));
            _mm256_storeu_ps(out + 7 * 8, _mm256_permute2f128_ps(v3, v7, 0x31));
        }
    }
}

/// The scores of 8 keys (`keys`, rows of hd floats) against `q`, times `scale`, into `out`.
KB_AVX2_INLINE void scores8(const float *q, const float *keys, int hd, int single_token, __m256 scale, float *out) {
    __m256 sum;
    if (!single_token) {
        __m256 acc[8];
        for (int j = 0; j < 8; j++) acc[j] = _mm256_setzero_ps();
        for (int d = 0; d < hd; d += 8) {
            __m256 qd = _mm256_loadu_ps(q + d);
            for (int j = 0; j < 8; j++) acc[j] = _mm256_fmadd_ps(qd, _mm256_loadu_ps(keys + j * hd + d), acc[j]);
        }
        sum = sum_lanes8(acc);
    } else {
        __m256 s[8][4];
        int whole = hd / 32 * 32;
        for (int j = 0; j < 8; j++) for (int g = 0; g < 4; g++) s[j][g] = _mm256_setzero_ps();
        for (int d = 0; d < whole; d += 32) {
            for (int g = 0; g < 4; g++) {
                __m256 qd = _mm256_loadu_ps(q + d + 8 * g);
                for (int j = 0; j < 8; j++) s[j][g] = _mm256_fmadd_ps(qd, _mm256_loadu_ps(keys + j * hd + d + 8 * g), s[j][g]);
            }
        }
        sum = sum_four_accumulators8(s);
        if (whole < hd) {  // the rest one by one in double, as ggml's vector kernel
            float partial[8];
            _mm256_storeu_ps(partial, sum);
            for (int j = 0; j < 8; j++) {
                double total = partial[j];
                for (int d = whole; d < hd; d++) total += (double)(q[d] * keys[j * hd + d]);
                partial[j] = (float)total;
            }
            sum = _mm256_loadu_ps(partial);
        }
    }
    _mm256_storeu_ps(out, _mm256_mul_ps(sum, scale));
}

/// `generic_softmax` in 8 lanes.
static KB_AVX2 void avx2_softmax(float *row, int64_t length, int64_t stride, int f16) {
    float maximum = -INFINITY;
    for (int64_t t = 0; t < length; t++) maximum = row[t] > maximum ? row[t] : maximum;
    for (int64_t t = length; t < stride; t++) row[t] = -INFINITY;  // e^-inf = 0, as masked cells
    const __m256 m = _mm256_set1_ps(maximum);
    double sum = 0;
    for (int64_t t = 0; t < stride; t += 8) {
        __m256 e = kb_exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(row + t), m));
        _mm256_storeu_ps(row + t, e);
        __m128 h = _mm_add_ps(_mm256_castps256_ps128(e), _mm256_extractf128_ps(e, 1));
        h = _mm_add_ps(h, _mm_movehl_ps(h, h));
        h = _mm_add_ss(h, _mm_movehdup_ps(h));
        sum += (double)_mm_cvtss_f32(h);
    }
    const __m256 inverse = _mm256_set1_ps((float)(1.0 / sum));
    for (int64_t t = 0; t < stride; t += 8) {
        __m256 p = _mm256_mul_ps(_mm256_loadu_ps(row + t), inverse);
        if (f16) p = _mm256_cvtph_ps(_mm256_cvtps_ph(p, _MM_FROUND_TO_NEAREST_INT));
        _mm256_storeu_ps(row + t, p);
    }
}

KB_AVX2 void kb_avx2_attention(const kb_attention_args *a) {
    const int hd = a->head_dim, count = a->rows * a->heads, f16 = a->kv_type == KB_TYPE_F16;
    const int groups = accumulators(a->single_token);
    const int64_t longest = a->first_length + a->rows - 1, stride = score_stride(longest, a->single_token);
    float *scores = a->scratch, *tile = scores + (int64_t)count * stride, *q = tile + (int64_t)TILE * hd;
    float *accs = q + hd;  // count × groups × hd × 8: query vector i, accumulator g, dimension d
    const __m256 scale = _mm256_set1_ps(a->scale);

    // Pass 1: scores, one key tile at a time for every query vector.
    for (int64_t t0 = 0; t0 < longest; t0 += TILE) {
        int64_t n = longest - t0 < TILE ? longest - t0 : TILE;
        load_tile(a->k_blocks, a->block_tokens, a->kv_type, t0, n, hd, tile);
        for (int i = 0; i < count; i++) {
            int64_t length = a->first_length + i / a->heads;
            if (length <= t0) continue;
            int64_t end = length - t0 < n ? length - t0 : n;  // keys of this tile the query sees
            const float *query = QUERY(a, i);
            for (int d = 0; d < hd; d += 8) {
                __m256 x = _mm256_loadu_ps(query + d);
                // The query in the keys' precision (llama.cpp converts it to the K type).
                if (f16) x = _mm256_cvtph_ps(_mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT));
                _mm256_storeu_ps(q + d, x);
            }
            float *row = scores + (int64_t)i * stride + t0;
            for (int64_t t = 0; t < end; t += 8) scores8(q, tile + t * hd, hd, a->single_token, scale, row + t);
        }
    }

    // Pass 2: softmax of each query vector's scores; probabilities rounded to the value type.
    for (int i = 0; i < count; i++) {
        avx2_softmax(scores + (int64_t)i * stride, a->first_length + i / a->heads, stride, f16);
    }

    // Pass 3: Σ p·v, one transposed value tile at a time for every query vector; step c of 8
    // positions (counted from position 0) goes to accumulator c % groups.
    memset(accs, 0, (size_t)count * groups * hd * 8 * sizeof(float));
    for (int64_t t0 = 0; t0 < longest; t0 += TILE) {
        int64_t n = longest - t0 < TILE ? longest - t0 : TILE;
        load_transposed_tile(a->v_blocks, a->block_tokens, a->kv_type, t0, n, hd, tile);
        for (int i = 0; i < count; i++) {
            int64_t length = a->first_length + i / a->heads;
            if (length <= t0) continue;
            int64_t end = length - t0 < n ? length - t0 : n;
            const float *p = scores + (int64_t)i * stride + t0;  // zeros from `length` on
            float *acc = accs + (int64_t)i * groups * hd * 8;
            if (groups == 1) {  // 8 dimensions' accumulators stay in registers across the tile
                for (int d0 = 0; d0 < hd; d0 += 8) {
                    __m256 r[8];
                    for (int j = 0; j < 8; j++) r[j] = _mm256_loadu_ps(acc + (d0 + j) * 8);
                    for (int64_t c = 0; c * 8 < end; c++) {
                        __m256 pc = _mm256_loadu_ps(p + 8 * c);
                        const float *vt = tile + (c * hd + d0) * 8;
                        for (int j = 0; j < 8; j++) r[j] = _mm256_fmadd_ps(pc, _mm256_loadu_ps(vt + j * 8), r[j]);
                    }
                    for (int j = 0; j < 8; j++) _mm256_storeu_ps(acc + (d0 + j) * 8, r[j]);
                }
                continue;
            }
            for (int64_t c = 0; c * 8 < end; c++) {
                int g = (int)((t0 / 8 + c) % groups);
                __m256 pc = _mm256_loadu_ps(p + 8 * c);
                const float *vt = tile + c * hd * 8;
                float *ag = acc + (int64_t)g * hd * 8;
                for (int d = 0; d < hd; d++) {
                    _mm256_storeu_ps(ag + d * 8, _mm256_fmadd_ps(pc, _mm256_loadu_ps(vt + d * 8), _mm256_loadu_ps(ag + d * 8)));
                }
            }
        }
    }
    for (int i = 0; i < count; i++) {
        const float *acc = accs + (int64_t)i * groups * hd * 8;
        float *out = OUTPUT(a, i);
        for (int d0 = 0; d0 < hd; d0 += 8) {
            __m256 sum;
            if (groups == 1) {
                __m256 lanes[8];
                for (int j = 0; j < 8; j++) lanes[j] = _mm256_loadu_ps(acc + (d0 + j) * 8);
                sum = sum_lanes8(lanes);
            } else {
                __m256 s[8][4];
                for (int j = 0; j < 8; j++) for (int g = 0; g < 4; g++) s[j][g] = _mm256_loadu_ps(acc + ((int64_t)g * hd + d0 + j) * 8);
                sum = sum_four_accumulators8(s);
            }
            _mm256_storeu_ps(out + d0, sum);
        }
    }
}
#endif
