// The SwiGLU gate of the feed-forward block, gate[i] = silu(gate[i]) · up[i], with e^x computed
// as ggml computes it (Exp.h) so that the gated activations — which are quantized to int8 next —
// are llama.cpp's to the bit. As in ggml, whole groups of 8 use the polynomial exp and a tail of
// fewer than 8 uses the C library's expf. The scalar reference is in Generic.c, the AVX2 version
// in AVX2.c; this file chooses.
#include "Internal.h"
#include "Exp.h"

void kb_swiglu(float *gate, const float *up, int64_t n, kb_isa isa) {
#ifdef KB_HAVE_X86
    if (kb_use_avx2(isa)) { kb_avx2_swiglu(gate, up, n); return; }
#endif
    (void)isa;
    kb_generic_swiglu(gate, up, n);
}

float kb_exp(float x) { return kb_exp_scalar(x); }
