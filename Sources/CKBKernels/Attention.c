// Causal attention of a block of query vectors over one KV head, and the F16 conversions of the
// KV cache. The scalar functions are the specification; the AVX2/FMA/F16C ones compute the same
// function up to float summation order and a polynomial exp (within ~2 ulp of expf).
//
// Shape of a call: `rows` consecutive query positions × `heads` query heads that read the same KV
// head (grouped-query attention), so every key and value tile is loaded (and converted from F16)
// once for the whole block. Two passes, as llama.cpp's attention without flash attention:
// all scores, then softmax, then the weighted sum of values with the probabilities rounded to the
// value type (F16) first.
#include "Internal.h"
#include <math.h>
#include <stdlib.h>

/// Key/value positions per tile: a tile of keys or values as floats is TILE × head_dim × 4 bytes
/// (16 KiB for head_dim 64), so it stays in L1 while every query vector of the block reads it.
enum { TILE = 64 };

int64_t kb_attention_scratch_floats(int rows, int heads, int64_t first_length, int head_dim) {
    int64_t longest = first_length + rows - 1;
    int64_t stride = (longest + 7) / 8 * 8;
    return (int64_t)rows * heads * stride + (int64_t)TILE * head_dim + head_dim;
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

static void generic_attention(const kb_attention_args *a) {
    const int hd = a->head_dim, count = a->rows * a->heads, f16 = a->kv_type == KB_TYPE_F16;
    float *scores = a->scratch, *q = a->scratch + (a->first_length + a->rows);
    for (int i = 0; i < count; i++) {
        int64_t length = a->first_length + i / a->heads;
        const float *query = QUERY(a, i);
        // The query in the keys' precision (llama.cpp converts it to the K type).
        for (int d = 0; d < hd; d++) q[d] = f16 ? kb_round_to_f16(query[d]) : query[d];
        float maximum = -INFINITY;
        for (int64_t t = 0; t < length; t++) {
            float s = 0;
            for (int d = 0; d < hd; d++) s += q[d] * kv_at(a->k, a->kv_type, t, hd, d);
            scores[t] = s * a->scale;
            if (scores[t] > maximum) maximum = scores[t];
        }
        double sum = 0;
        for (int64_t t = 0; t < length; t++) {
            scores[t] = expf(scores[t] - maximum);
            sum += scores[t];
        }
        float inverse = (float)(1.0 / sum);
        for (int64_t t = 0; t < length; t++) {
            float p = scores[t] * inverse;
            scores[t] = f16 ? kb_round_to_f16(p) : p;  // llama.cpp converts the probabilities to the V type
        }
        float *out = OUTPUT(a, i);
        for (int d = 0; d < hd; d++) {
            float acc = 0;
            for (int64_t t = 0; t < length; t++) acc += scores[t] * kv_at(a->v, a->kv_type, t, hd, d);
            out[d] = acc;
        }
    }
}

// MARK: - AVX2

#ifdef KB_HAVE_X86
#define KB_AVX2_INLINE static inline __attribute__((always_inline, target("avx2,fma,f16c")))

/// e^x for x ≤ 0 (scores minus their maximum): 2^n · P(r), r = x − n·ln 2 ∈ [−ln2/2, ln2/2], P the
/// degree-7 Taylor polynomial (relative error < 1e-8 before rounding); 0 below −87.
KB_AVX2_INLINE __m256 exp_nonpositive(__m256 x) {
    const __m256 low = _mm256_set1_ps(-87.0f);
    __m256 underflow = _mm256_cmp_ps(x, low, _CMP_LT_OQ);
    x = _mm256_max_ps(x, low);
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), x);  // ln 2, high part (exact product)
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428606765330187e-06f), r);     // ln 2, low part
    __m256 p = _mm256_set1_ps(1.0f / 5040);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    __m256i exponent = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_andnot_ps(underflow, _mm256_mul_ps(p, _mm256_castsi256_ps(exponent)));
}

/// The 8 sums of 8 accumulators, in order: lane j = Σ acc[j].
KB_AVX2_INLINE __m256 sum8(const __m256 acc[8]) {
    __m256 h01 = _mm256_hadd_ps(acc[0], acc[1]), h23 = _mm256_hadd_ps(acc[2], acc[3]);
    __m256 h45 = _mm256_hadd_ps(acc[4], acc[5]), h67 = _mm256_hadd_ps(acc[6], acc[7]);
    __m256 h0123 = _mm256_hadd_ps(h01, h23), h4567 = _mm256_hadd_ps(h45, h67);
    return _mm256_add_ps(_mm256_permute2f128_ps(h0123, h4567, 0x20), _mm256_permute2f128_ps(h0123, h4567, 0x31));
}

/// Rows t0 ..< t0 + n of a key or value head into `tile` as floats (n ≤ TILE), zero rows up to a multiple of 8.
KB_AVX2_INLINE void load_tile(const void *base, int type, int64_t t0, int64_t n, int hd, float *tile) {
    if (type == KB_TYPE_F16) {
        avx2_from_f16((const uint16_t *)base + t0 * hd, tile, n * hd);
    } else {
        memcpy(tile, (const float *)base + t0 * hd, (size_t)(n * hd) * sizeof(float));
    }
    int64_t padded = (n + 7) / 8 * 8;
    if (padded > n) memset(tile + n * hd, 0, (size_t)((padded - n) * hd) * sizeof(float));
}

static KB_AVX2 void avx2_attention(const kb_attention_args *a) {
    const int hd = a->head_dim, count = a->rows * a->heads, f16 = a->kv_type == KB_TYPE_F16;
    const int64_t longest = a->first_length + a->rows - 1, stride = (longest + 7) / 8 * 8;
    float *scores = a->scratch, *tile = scores + (int64_t)count * stride, *q = tile + (int64_t)TILE * hd;
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
            for (int64_t t = 0; t < end; t += 8) {
                __m256 acc[8];
                for (int j = 0; j < 8; j++) acc[j] = _mm256_setzero_ps();
                const float *keys = tile + t * hd;
                for (int d = 0; d < hd; d += 8) {
                    __m256 qd = _mm256_loadu_ps(q + d);
                    for (int j = 0; j < 8; j++) acc[j] = _mm256_fmadd_ps(qd, _mm256_loadu_ps(keys + j * hd + d), acc[j]);
                }
                _mm256_storeu_ps(row + t, _mm256_mul_ps(sum8(acc), scale));
            }
        }
    }

    // Pass 2: softmax of each query vector's scores; probabilities rounded to the value type.
    for (int i = 0; i < count; i++) {
        int64_t length = a->first_length + i / a->heads;
        float *row = scores + (int64_t)i * stride;
        float maximum = -INFINITY;
        for (int64_t t = 0; t < length; t++) maximum = row[t] > maximum ? row[t] : maximum;
        __m256 m = _mm256_set1_ps(maximum);
        __m256d total = _mm256_setzero_pd();
        int64_t t = 0;
        for (; t + 8 <= length; t += 8) {
            __m256 e = exp_nonpositive(_mm256_sub_ps(_mm256_loadu_ps(row + t), m));
            _mm256_storeu_ps(row + t, e);
            total = _mm256_add_pd(total, _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(e)), _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1))));
        }
        double lanes[4];
        _mm256_storeu_pd(lanes, total);
        double sum = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
        for (; t < length; t++) {
            row[t] = expf(row[t] - maximum);
            sum += row[t];
        }
        __m256 inverse = _mm256_set1_ps((float)(1.0 / sum));
        for (t = 0; t + 8 <= length; t += 8) {
            __m256 p = _mm256_mul_ps(_mm256_loadu_ps(row + t), inverse);
            if (f16) p = _mm256_cvtph_ps(_mm256_cvtps_ph(p, _MM_FROUND_TO_NEAREST_INT));
            _mm256_storeu_ps(row + t, p);
        }
        for (; t < length; t++) {
            float p = row[t] * (float)(1.0 / sum);
            row[t] = f16 ? kb_round_to_f16(p) : p;
        }
    }

    // Pass 3: Σ p·v, one value tile at a time for every query vector.
    for (int64_t t0 = 0; t0 < longest; t0 += TILE) {
        int64_t n = longest - t0 < TILE ? longest - t0 : TILE;
        load_tile(a->v, a->kv_type, t0, n, hd, tile);
        for (int i = 0; i < count; i++) {
            int64_t length = a->first_length + i / a->heads;
            if (length <= t0) continue;
            int64_t end = length - t0 < n ? length - t0 : n;
            const float *p = scores + (int64_t)i * stride + t0;
            float *out = OUTPUT(a, i);
            int d = 0;
            for (; d + 32 <= hd; d += 32) {
                __m256 acc[4];
                for (int k = 0; k < 4; k++) acc[k] = t0 == 0 ? _mm256_setzero_ps() : _mm256_loadu_ps(out + d + 8 * k);
                for (int64_t t = 0; t < end; t++) {
                    __m256 pt = _mm256_broadcast_ss(p + t);
                    const float *v = tile + t * hd + d;
                    for (int k = 0; k < 4; k++) acc[k] = _mm256_fmadd_ps(pt, _mm256_loadu_ps(v + 8 * k), acc[k]);
                }
                for (int k = 0; k < 4; k++) _mm256_storeu_ps(out + d + 8 * k, acc[k]);
            }
            for (; d < hd; d += 8) {
                __m256 acc = t0 == 0 ? _mm256_setzero_ps() : _mm256_loadu_ps(out + d);
                for (int64_t t = 0; t < end; t++) acc = _mm256_fmadd_ps(_mm256_broadcast_ss(p + t), _mm256_loadu_ps(tile + t * hd + d), acc);
                _mm256_storeu_ps(out + d, acc);
            }
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
