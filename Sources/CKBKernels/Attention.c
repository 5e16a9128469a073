// Causal attention and the F16 rows of the KV cache: scratch sizing and the choice between the
// scalar reference (AttentionGeneric.c) and the AVX2 kernels (AttentionAVX2.c); the method is
// described in AttentionShared.h.
#include "AttentionShared.h"

int64_t kb_attention_scratch_floats(int rows, int heads, int64_t first_length, int head_dim, int single_token) {
    int64_t count = (int64_t)rows * heads, longest = first_length + rows - 1;
    return count * score_stride(longest, single_token)                   // scores, then probabilities
        + (int64_t)TILE * head_dim + head_dim                            // a tile, the rounded query
        + count * accumulators(single_token) * head_dim * 8;             // p·v accumulators
}

// MARK: - Dispatch

void kb_f32_to_f16_row(const float *x, uint16_t *out, int64_t n, kb_isa isa) {
#ifdef KB_HAVE_X86
    if (kb_use_avx2(isa)) { kb_avx2_to_f16_row(x, out, n); return; }
#endif
    (void)isa;
    kb_generic_to_f16_row(x, out, n);
}

void kb_f16_to_f32_row(const uint16_t *x, float *out, int64_t n, kb_isa isa) {
#ifdef KB_HAVE_X86
    if (kb_use_avx2(isa)) { kb_avx2_from_f16_row(x, out, n); return; }
#endif
    (void)isa;
    kb_generic_from_f16_row(x, out, n);
}

void kb_attention(const kb_attention_args *args, kb_isa isa) {
#ifdef KB_HAVE_X86
    if (kb_use_avx2(isa) && args->head_dim % 8 == 0) { kb_avx2_attention(args); return; }
#endif
    (void)isa;
    kb_generic_attention(args);
}
