// Shared by the attention kernels: the scalar reference (AttentionGeneric.c), the AVX2 version
// (AttentionAVX2.c) and the dispatch (Attention.c).
//
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
#ifndef CKBKERNELS_ATTENTION_H
#define CKBKERNELS_ATTENTION_H

#include "Internal.h"

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

/// Query vector `i` of the block (row i / heads, head i % heads).
#define QUERY(a, i) ((a)->q + (int64_t)((i) / (a)->heads) * (a)->q_row_stride + (int64_t)((i) % (a)->heads) * (a)->head_dim)
#define OUTPUT(a, i) ((a)->out + (int64_t)((i) / (a)->heads) * (a)->out_row_stride + (int64_t)((i) % (a)->heads) * (a)->head_dim)

/// Key or value row `t` (`head_dim` elements) in a paged head: row t % block_tokens of block t / block_tokens.
static inline const void *kv_row(const void *const *blocks, int64_t block_tokens, int type, int64_t t, int head_dim) {
    size_t element = type == KB_TYPE_F16 ? 2 : 4;
    return (const char *)blocks[t / block_tokens] + (size_t)((t % block_tokens) * head_dim) * element;
}

/// Element `d` of key or value row `t`, as a float.
static inline float kv_at(const void *const *blocks, int64_t block_tokens, int type, int64_t t, int head_dim, int d) {
    const void *row = kv_row(blocks, block_tokens, type, t, head_dim);
    return type == KB_TYPE_F16 ? kb_f16_to_f32(((const uint16_t *)row)[d]) : ((const float *)row)[d];
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

// The two implementations of each kernel (same operations, same order, same bits).
void kb_generic_to_f16_row(const float *x, uint16_t *out, int64_t n);
void kb_generic_from_f16_row(const uint16_t *x, float *out, int64_t n);
void kb_generic_attention(const kb_attention_args *a);
#ifdef KB_HAVE_X86
void kb_avx2_to_f16_row(const float *x, uint16_t *out, int64_t n);
void kb_avx2_from_f16_row(const uint16_t *x, float *out, int64_t n);
void kb_avx2_attention(const kb_attention_args *a);
#endif

#endif
