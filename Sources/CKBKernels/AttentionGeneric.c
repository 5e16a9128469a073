// The scalar reference of the attention kernels: the specification the AVX2 version
// (AttentionAVX2.c) is held to bit for bit (AttentionKernelTests).
#include "AttentionShared.h"
#include "Exp.h"
#include <math.h>

// MARK: - F16 rows

void kb_generic_to_f16_row(const float *x, uint16_t *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = kb_f32_to_f16(x[i]);
}

void kb_generic_from_f16_row(const uint16_t *x, float *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = kb_f16_to_f32(x[i]);
}

// MARK: - Attention

/// Σ q[d]·k[d] over `hd` elements in the order described at the top; with four accumulators,
/// elements past the last whole 32-wide step are added one by one in double, as ggml does.
static float generic_score(const float *q, const void *const *k, int64_t bt, int type, int64_t t, int hd, int single_token) {
    if (!single_token && hd % 8 == 0) {
        float a[8] = {0};
        for (int d = 0; d < hd; d++) a[d % 8] = fmaf(q[d], kv_at(k, bt, type, t, hd, d), a[d % 8]);
        return sum_lanes(a);
    }
    float s[4][8] = {{0}};
    int whole = hd / 32 * 32;
    for (int d = 0; d < whole; d++) s[(d / 8) % 4][d % 8] = fmaf(q[d], kv_at(k, bt, type, t, hd, d), s[(d / 8) % 4][d % 8]);
    double sum = sum_four_accumulators(s);
    for (int d = whole; d < hd; d++) sum += (double)(q[d] * kv_at(k, bt, type, t, hd, d));
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

void kb_generic_attention(const kb_attention_args *a) {
    const int hd = a->head_dim, count = a->rows * a->heads, f16 = a->kv_type == KB_TYPE_F16;
    const int64_t stride = score_stride(a->first_length + a->rows - 1, a->single_token);
    float *scores = a->scratch, *q = a->scratch + (int64_t)count * stride;
    for (int i = 0; i < count; i++) {
        int64_t length = a->first_length + i / a->heads;
        const float *query = QUERY(a, i);
        // The query in the keys' precision (llama.cpp converts it to the K type).
        for (int d = 0; d < hd; d++) q[d] = f16 ? kb_round_to_f16(query[d]) : query[d];
        float *row = scores + (int64_t)i * stride;
        for (int64_t t = 0; t < length; t++) row[t] = generic_score(q, a->k_blocks, a->block_tokens, a->kv_type, t, hd, a->single_token) * a->scale;
        generic_softmax(row, length, stride, f16);
        float *out = OUTPUT(a, i);
        for (int d = 0; d < hd; d++) {
            float s[4][8] = {{0}};
            int groups = accumulators(a->single_token);
            for (int64_t t = 0; t < length; t++) {
                float *lane = &s[(t / 8) % groups][t % 8];
                *lane = fmaf(row[t], kv_at(a->v_blocks, a->block_tokens, a->kv_type, t, hd, d), *lane);
            }
            out[d] = groups == 4 ? sum_four_accumulators((const float(*)[8])s) : sum_lanes(s[0]);
        }
    }
}
