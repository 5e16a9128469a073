// The SwiGLU gate of the feed-forward block, gate[i] = silu(gate[i]) · up[i], with e^x computed
// as ggml computes it (Exp.h) so that the gated activations — which are quantized to int8 next —
// are llama.cpp's to the bit. As in ggml, whole groups of 8 use the polynomial exp and a tail of
// fewer than 8 uses the C library's expf.
#include "Internal.h"
#include "Exp.h"

/// The tail of fewer than 8 values, with the C library's expf (ggml's scalar `ggml_silu_f32`).
static void swiglu_tail(float *gate, const float *up, int64_t from, int64_t n) {
    for (int64_t i = from; i < n; i++) gate[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

static void generic_swiglu(float *gate, const float *up, int64_t n) {
    int64_t whole = n / 8 * 8;
    for (int64_t i = 0; i < whole; i++) gate[i] = kb_silu_mul_scalar(gate[i], up[i]);
    swiglu_tail(gate, up, whole, n);
}

#ifdef KB_HAVE_X86
static __attribute__((target("avx2,fma"))) void avx2_swiglu(float *gate, const float *up, int64_t n) {
    const __m256 one = _mm256_set1_ps(1.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_loadu_ps(gate + i);
        __m256 silu = _mm256_div_ps(x, _mm256_add_ps(one, kb_exp_avx2(_mm256_sub_ps(_mm256_setzero_ps(), x))));
        _mm256_storeu_ps(gate + i, _mm256_mul_ps(silu, _mm256_loadu_ps(up + i)));
    }
    swiglu_tail(gate, up, i, n);
}
#endif

void kb_swiglu(float *gate, const float *up, int64_t n, kb_isa isa) {
#ifdef KB_HAVE_X86
    if (isa == KB_ISA_BEST && kb_cpu_has_avx2()) { avx2_swiglu(gate, up, n); return; }
#endif
    (void)isa;
    generic_swiglu(gate, up, n);
}

float kb_exp(float x) { return kb_exp_scalar(x); }
