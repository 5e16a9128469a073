// Causal attention of a block of query vectors over one KV head, and the F16 conversions of the
// KV cache.
//
// Shape of a call: `rows` consecutive query positions × `heads` query heads that read the same KV
// head (grouped-query attention), so every key and value tile is loaded (and converted from F16)
// once for the whole block. Three passes, as llama.cpp's attention without flash attention:
// all scores, then softmax, then the weighted sum of values with the probabilities rounded to the
// value type (F16) first.
//
// Rounding is llama.cpp's, to the bit (kb's greedy output is held to llama.cpp's): every dot
// product — q·k over the head dimension, p·v over positions — runs in 8 float lanes, element i in
// lane i % 8, each lane a chain of fused multiply-adds. A batch keeps one such accumulator (ggml's
// tiled tinyBLAS product) and ends with `sum_lanes`; a single token keeps four, step s of 8
// elements in accumulator s % 4 (`ggml_vec_dot_f16`), and ends with `sum_four_accumulators`.
// Elements past the end (positions not attended, as llama.cpp's masked cells) count as zeros.
//
// The scalar functions are the specification; the AVX2/FMA/F16C ones compute the same operations
// in the same order, so the two agree exactly.
#include "Internal.h"
#include "Exp.h"
#include <math.h>
#include <stdlib.h>

/// Key/value positions per tile: a tile of keys or values as floats is TILE × head_dim × 4 bytes
/// (16 KiB for head_dim 64), so it stays in L1 while every query vector of the block reads it.
enum { TILE = 64 };

/// Accumulators per dot product: 4 for a single token (ggml's vector kernel), 1 for a batch.
static inline int accumulators(int single_token) { return single_token ? 4 : 1; }

/// Positions a score row holds: the longest row, rounded up to a whole step of the summation
/// (32 positions with four accumulators, 8 with one), the rest zeros.
static inline int64_t score_stride(int64_t longest, int single_token) {
    int64_t step = 8 * accumulators(single_token);
    return (longest + step - 1) / step * step;
}

int64_t kb_attention_scratch_floats(int rows, int heads, int64_t first_length, int head_dim, int single_token) {
    int64_t count = (int64_t)rows * heads, longest = first_length + rows - 1;
    return count * score_stride(longest, single_token)                   // scores, then probabilities
        + (int64_t)TILE * head_dim + head_dim                            // a tile, the rounded query
        + count * accumulators(single_token) * head_dim * 8;             // p·v accumulators
}

// MARK: - F16 rows

static void generic_to_f16(const float *x, uint16_t *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = kb_f32_to_f16(x[i]);
}

static void generic_from_f16(const uint16_t *x, float *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = kb_f16_to_f32(x[i]);
}

#ifdef KB_HAVE_X86
#include <immintrin.h>
#define KB_AVX2 __attribute__((target("avx2,fma,f16c")))

static KB_AVX2 void avx2_to_f16(const float *x, uint16_t *out, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm_storeu_si128((__m128i *)(out + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    }
    for (; i < n; i++) out[i] = kb_f32_to_f16(x[i]);
}

static KB_AVX2 void avx2_from_f16(const uint16_t *x, float *out, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i))));
    for (; i < n; i++) out[i] = kb_f16_to_f32(x[i]);
}
#endif

void kb_f32_to_f16_row(const float *x, uint16_t *out, int64_t n, kb_isa isa) {
#ifdef KB_HAVE_X86
    if (isa == KB_ISA_BEST && kb_cpu_has_avx2()) { avx2_to_f16(x, out, n); return; }
#endif
    (void)isa;
    generic_to_f16(x, out, n);
}

void kb_f16_to_f32_row(const uint16_t *x, float *out, int64_t n, kb_isa isa) {
#ifdef KB_HAVE_X86
    if (isa == KB_ISA_BEST && kb_cpu_has_avx2()) { avx2_from_f16(x, out, n); return; }
#endif
    (void)isa;
    generic_from_f16(x, out, n);
}

// MARK: - Scalar reference

/// Query vector `i` of the block (row i / heads, head i % heads).
#define QUERY(a, i) ((a)->q + (int64_t)((i) / (a)->heads) * (a)->q_row_stride + (int64_t)((i) % (a)->heads) * (a)->head_dim)
#define OUTPUT(a, i) ((a)->out + (int64_t)((i) / (a)->heads) * (a)->out_row_stride + (int64_t)((i) % (a)->heads) * (a)->head_dim)

/// Element `d` of key or value row `t`, as a float.
static inline float kv_at(const void *base, int type, int64_t t, int head_dim, int d) {
    int64_t index = t * head_dim + d;
    return type == KB_TYPE_F16 ? kb_f16_to_f32(((const uint16_t *)base)[index]) : ((const float *)base)[index];
}

/// The sum of one accumulator's 8 lanes as ggml takes it (`hsum_float_8`, tinyBLAS's `hsum`):
/// halves first, then pairs two apart, then the last two.
static inline float sum_lanes(const float a[8]) {
    float t0 = a[0] + a[4], t1 = a[1] + a[5], t2 = a[2] + a[6], t3 = a[3] + a[7];
    return (t0 + t2) + (t1 + t3);
}

/// The sum of four 8-lane accumulators as ggml's `GGML_F32x8_REDUCE` takes it: (s0 + s2) +
/// (s1 + s3) lane by lane, halves, then adjacent pairs (`hadd`).
static inline float sum_four_accumulators(const float s[4][8]) {
    float x[8], t[4];
    for (int l = 0; l < 8; l++) x[l] = (s[0][l] + s[2][l]) + (s[1][l] + s[3][l]);
    for (int l = 0; l < 4; l++) t[l] = x[l] + x[l + 4];
    return (t[0] + t[1]) + (t[2] + t[3]);
}

/// Σ q[d]·k[d] over `hd` elements in the order described at the top; with four accumulators,
/// elements past the last whole 32-wide step are added one by one in double, as ggml does.
static float generic_score(const float *q, const void *k, int type, int64_t t, int hd, int single_token) {
    if (!single_token && hd % 8 == 0) {
        float a[8] = {0};
        for (int d = 0; d < hd; d++) a[d % 8] = fmaf(q[d], kv_at(k, type, t, hd, d), a[d % 8]);
        return sum_lanes(a);
    }
    float s[4][8] = {{0}};
    int whole = hd / 32 * 32;
    for (int d = 0; d < whole; d++) s[(d / 8) % 4][d % 8] = fmaf(q[d], kv_at(k, type, t, hd, d), s[(d / 8) % 4][d % 8]);
    double sum = sum_four_accumulators(s);
    for (int d = whole; d < hd; d++) sum += (double)(q[d] * kv_at(k, type, t, hd, d));
    return (float)sum;
}

/// Softmax of `row[0 ..< length]` in place, rounded as ggml's: e^(s − max) by the polynomial,
/// groups of 8 summed in float (`sum_lanes`, zeros past the end), groups summed in double, then
/// each value times the float of 1/sum (and rounded to F16 when `f16`). Writes zeros up to `stride`.
static void generic_softmax(float *row, int64_t length, int64_t stride, int f16) {
    float maximum = -INFINITY;
    for (int64_t t = 0; t < length; t++) maximum = row[t] > maximum ? row[t] : maximum;
    for (int64_t t = 0; t < stride; t++) row[t] = t < length ? kb_exp_scalar(row[t] - maximum) : 0.0f;
    double sum = 0;
    for (int64_t t = 0; t < stride; t += 8) sum += (double)sum_lanes(row + t);
    float inverse = (float)(1.0 / sum);
    for (int64_t t = 0; t < length; t++) {
        float p = row[t] * inverse;
        row[t] = f16 ? kb_round_to_f16(p) : p;
    }
}

static void generic_attention(const kb_attention_args *a) {
    const int hd = a->head_dim, count = a->rows * a->heads, f16 = a->kv_type == KB_TYPE_F16;
    const int64_t stride = score_stride(a->first_length + a->rows - 1, a->single_token);
    float *scores = a->scratch, *q = a->scratch + (int64_t)count * stride;
    for (int i = 0; i < count; i++) {
        int64_t length = a->first_length + i / a->heads;
        const float *query = QUERY(a, i);
        // The query in the keys' precision (llama.cpp converts it to the K type).
        for (int d = 0; d < hd; d++) q[d] = f16 ? kb_round_to_f16(query[d]) : query[d];
        float *row = scores + (int64_t)i * stride;
        for (int64_t t = 0; t < length; t++) row[t] = generic_score(q, a->k, a->kv_type, t, hd, a->single_token) * a->scale;
        generic_softmax(row, length, stride, f16);
        float *out = OUTPUT(a, i);
        for (int d = 0; d < hd; d++) {
            float s[4][8] = {{0}};
            int groups = accumulators(a->single_token);
            for (int64_t t = 0; t < length; t++) {
                float *lane = &s[(t / 8) % groups][t % 8];
                *lane = fmaf(row[t], kv_at(a->v, a->kv_type, t, hd, d), *lane);
            }
            out[d] = groups == 4 ? sum_four_accumulators((const float(*)[8])s) : sum_lanes(s[0]);
        }
    }
}

// MARK: - AVX2

#ifdef KB_HAVE_X86
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
KB_AVX2_INLINE void load_tile(const void *base, int type, int64_t t0, int64_t n, int hd, float *tile) {
    if (type == KB_TYPE_F16) {
        avx2_from_f16((const uint16_t *)base + t0 * hd, tile, n * hd);
    } else {
        memcpy(tile, (const float *)base + t0 * hd, (size_t)(n * hd) * sizeof(float));
    }
    int64_t padded = (n + 7) / 8 * 8;
    if (padded > n) memset(tile + n * hd, 0, (size_t)((padded - n) * hd) * sizeof(float));
}

/// Rows t0 ..< t0 + n of a value head into `tile` transposed by steps of 8 positions: step c,
/// dimension d holds positions t0 + 8c ..< t0 + 8c + 8 of dimension d in 8 lanes (zeros past n).
KB_AVX2_INLINE void load_transposed_tile(const void *base, int type, int64_t t0, int64_t n, int hd, float *tile) {
    for (int64_t c = 0; c * 8 < n; c++) {
        for (int d0 = 0; d0 < hd; d0 += 8) {
            __m256 r[8];
            for (int l = 0; l < 8; l++) {
                int64_t t = 8 * c + l;
                if (t >= n) { r[l] = _mm256_setzero_ps(); continue; }
                r[l] = type == KB_TYPE_F16
                    ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)base + (t0 + t) * hd + d0)))
                    : _mm256_loadu_ps((const float *)base + (t0 + t) * hd + d0);
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

static KB_AVX2 void avx2_attention(const kb_attention_args *a) {
    const int hd = a->head_dim, count = a->rows * a->heads, f16 = a->kv_type == KB_TYPE_F16;
    const int groups = accumulators(a->single_token);
    const int64_t longest = a->first_length + a->rows - 1, stride = score_stride(longest, a->single_token);
    float *scores = a->scratch, *tile = scores + (int64_t)count * stride, *q = tile + (int64_t)TILE * hd;
    float *accs = q + hd;  // count × groups × hd × 8: query vector i, accumulator g, dimension d
    const __m256 scale = _mm256_set1_ps(a->scale);

    // Pass 1: scores, one key tile at a time for every query vector.
    for (int64_t t0 = 0; t0 < longest; t0 += TILE) {
        int64_t n = longest - t0 < TILE ? longest - t0 : TILE;
        load_tile(a->k, a->kv_type, t0, n, hd, tile);
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
        load_transposed_tile(a->v, a->kv_type, t0, n, hd, tile);
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

void kb_attention(const kb_attention_args *args, kb_isa isa) {
#ifdef KB_HAVE_X86
    if (isa == KB_ISA_BEST && kb_cpu_has_avx2() && args->head_dim % 8 == 0) { avx2_attention(args); return; }
#endif
    (void)isa;
    generic_attention(args);
}
