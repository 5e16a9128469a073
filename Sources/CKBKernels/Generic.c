// Portable scalar kernels: the specification the SIMD kernels are tested against.
//
// Each dot product is integer within a block (weights' quants × activations' int8 quants) and
// float across blocks, the same arithmetic as the SIMD versions up to the float summation order.
#include "Internal.h"
#include "Exp.h"
#include <math.h>

// MARK: - Activation quantizers

/// One run of `n` floats to int8: q = round-half-even(x × 127 / max|x|); returns max|x|.
static float quantize_run(const float *x, int n, int8_t *q) {
    float amax = 0;
    for (int i = 0; i < n; i++) {
        float a = fabsf(x[i]);
        if (a > amax) amax = a;
    }
    float id = amax != 0 ? 127.0f / amax : 0.0f;
    for (int i = 0; i < n; i++) q[i] = (int8_t)nearbyintf(x[i] * id);
    return amax;
}

void kb_generic_quantize_q8(const float *x, int64_t n, kb_q8_block *out) {
    for (int64_t b = 0; b < n / 32; b++) {
        float d = quantize_run(x + 32 * b, 32, out[b].qs) / 127.0f;
        int32_t sum = 0;
        for (int i = 0; i < 32; i++) sum += out[b].qs[i];
        out[b].d = kb_round_to_f16(d);
        out[b].s = kb_round_to_f16(d * (float)sum);
    }
}

void kb_generic_quantize_q8k(const float *x, int64_t n, kb_q8k_block *out) {
    for (int64_t b = 0; b < n / 256; b++) {
        float amax = quantize_run(x + 256 * b, 256, out[b].qs);
        out[b].d = amax != 0 ? 1.0f / (127.0f / amax) : 0.0f;
        for (int g = 0; g < 16; g++) {
            int sum = 0;
            for (int i = 0; i < 16; i++) sum += out[b].qs[16 * g + i];
            out[b].bsums[g] = (int16_t)sum;
        }
    }
}

// MARK: - Dot products, one weight row against `na` activation rows

#define FOR_EACH_ACTIVATION(...)                                               \
    for (int j = 0; j < na; j++) {                                             \
        const void *a_row = (const char *)act + (size_t)j * act_stride;       \
        float sum = 0;                                                         \
        __VA_ARGS__;                                                           \
        out[j] = sum;                                                          \
    }

static void dot_f32(int64_t n, const void *w, const void *act, size_t act_stride, int na, float *out) {
    const float *x = w;
    FOR_EACH_ACTIVATION({
        const float *y = a_row;
        for (int64_t i = 0; i < n; i++) sum += x[i] * y[i];
    })
}

static void dot_f16(int64_t n, const void *w, const void *act, size_t act_stride, int na, float *out) {
    const uint16_t *x = w;
    FOR_EACH_ACTIVATION({
        const float *y = a_row;
        for (int64_t i = 0; i < n; i++) sum += kb_f16_to_f32(x[i]) * y[i];
    })
}

static void dot_bf16(int64_t n, const void *w, const void *act, size_t act_stride, int na, float *out) {
    const uint16_t *x = w;
    FOR_EACH_ACTIVATION({
        const float *y = a_row;
        for (int64_t i = 0; i < n; i++) sum += kb_bf16_to_f32(x[i]) * y[i];
    })
}

static void dot_q4_0(int64_t n, const void *w, const void *act, size_t act_stride, int na, float *out) {
    const kb_block_q4_0 *x = w;
    FOR_EACH_ACTIVATION({
        const kb_q8_block *y = a_row;
        for (int64_t b = 0; b < n / 32; b++) {
            int isum = 0;
            for (int i = 0; i < 16; i++) {
                isum += ((x[b].qs[i] & 0x0F) - 8) * y[b].qs[i];
                isum += ((x[b].qs[i] >> 4) - 8) * y[b].qs[i + 16];
            }
            sum += kb_f16_to_f32(x[b].d) * y[b].d * (float)isum;
        }
    })
}

static void dot_q4_1(int64_t n, const void *w, const void *act, size_t act_stride, int na, float *out) {
    const kb_block_q4_1 *x = w;
    FOR_EACH_ACTIVATION({
        const kb_q8_block *y = a_row;
        for (int64_t b = 0; b < n / 32; b++) {
            int isum = 0;
            for (int i = 0; i < 16; i++) {
                isum += (x[b].qs[i] & 0x0F) * y[b].qs[i];
                isum += (x[b].qs[i] >> 4) * y[b].qs[i + 16];
            }
            sum += kb_f16_to_f32(x[b].d) * y[b].d * (float)isum + kb_f16_to_f32(x[b].m) * y[b].s;
        }
    })
}

static inline uint32_t load_u32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void dot_q5_0(int64_t n, const void *w, const void *act, size_t act_stride, int na, float *out) {
    const kb_block_q5_0 *x = w;
    FOR_EACH_ACTIVATION({
        const kb_q8_block *y = a_row;
        for (int64_t b = 0; b < n / 32; b++) {
            uint32_t qh = load_u32(x[b].qh);
            int isum = 0;
            for (int i = 0; i < 16; i++) {
                int q0 = (x[b].qs[i] & 0x0F) | (int)((qh >> i) & 1) << 4;
                int q1 = (x[b].qs[i] >> 4) | (int)((qh >> (i + 16)) & 1) << 4;
                isum += (q0 - 16) * y[b].qs[i] + (q1 - 16) * y[b].qs[i + 16];
            }
            sum += kb_f16_to_f32(x[b].d) * y[b].d * (float)isum;
        }
    })
}

static void dot_q5_1(int64_t n, const void *w, const void *act, size_t act_stride, int na, float *out) {
    const kb_block_q5_1 *x = w;
    FOR_EACH_ACTIVATION({
        const kb_q8_block *y = a_row;
        for (int64_t b = 0; b < n / 32; b++) {
            uint32_t qh = load_u32(x[b].qh);
            int isum = 0;
            for (int i = 0; i < 16; i++) {
                int q0 = (x[b].qs[i] & 0x0F) | (int)((qh >> i) & 1) << 4;
                int q1 = (x[b].qs[i] >> 4) | (int)((qh >> (i + 16)) & 1) << 4;
                isum += q0 * y[b].qs[i] + q1 * y[b].qs[i + 16];
            }
            sum += kb_f16_to_f32(x[b].d) * y[b].d * (float)isum + kb_f16_to_f32(x[b].m) * y[b].s;
        }
    })
}

static void dot_q8_0(int64_t n, const void *w, const void *act, size_t act_stride, int na, float *out) {
    const kb_block_q8_0 *x = w;
    FOR_EACH_ACTIVATION({
        const kb_q8_block *y = a_row;
        for (int64_t b = 0; b < n / 32; b++) {
            int isum = 0;
            for (int i = 0; i < 32; i++) isum += x[b].qs[i] * y[b].qs[i];
            sum += kb_f16_to_f32(x[b].d) * y[b].d * (float)isum;
        }
    })
}

/// Q4_K and Q5_K (`qh` NULL for Q4_K): Σ_s d·sc[s]·Σ q·a − dmin·m[s]·Σ a, over 8 sub-blocks of 32.
static float dot_k45_block(uint16_t d16, uint16_t dmin16, const uint8_t *scales, const uint8_t *qh,
                           const uint8_t *qs, const kb_q8k_block *y) {
    uint8_t sc[8], m[8];
    kb_unpack_k_scales(scales, sc, m);
    int sumi = 0, summ = 0;
    for (int s = 0; s < 8; s++) {
        const uint8_t *group = qs + 32 * (s / 2);
        int isum = 0;
        for (int l = 0; l < 32; l++) {
            int q = s % 2 == 0 ? group[l] & 0x0F : group[l] >> 4;
            if (qh) q |= ((qh[l] >> s) & 1) << 4;
            isum += q * y->qs[32 * s + l];
        }
        sumi += sc[s] * isum;
        summ += m[s] * (y->bsums[2 * s] + y->bsums[2 * s + 1]);
    }
    return kb_f16_to_f32(d16) * y->d * (float)sumi - kb_f16_to_f32(dmin16) * y->d * (float)summ;
}

static void dot_q4_k(int64_t n, const void *w, const void *act, size_t act_stride, int na, float *out) {
    const kb_block_q4_k *x = w;
    FOR_EACH_ACTIVATION({
        const kb_q8k_block *y = a_row;
        for (int64_t b = 0; b < n / 256; b++) sum += dot_k45_block(x[b].d, x[b].dmin, x[b].scales, NULL, x[b].qs, &y[b]);
    })
}

static void dot_q5_k(int64_t n, const void *w, const void *act, size_t act_stride, int na, float *out) {
    const kb_block_q5_k *x = w;
    FOR_EACH_ACTIVATION({
        const kb_q8k_block *y = a_row;
        for (int64_t b = 0; b < n / 256; b++) sum += dot_k45_block(x[b].d, x[b].dmin, x[b].scales, x[b].qh, x[b].qs, &y[b]);
    })
}

static void dot_q6_k(int64_t n, const void *w, const void *act, size_t act_stride, int na, float *out) {
    const kb_block_q6_k *x = w;
    FOR_EACH_ACTIVATION({
        const kb_q8k_block *y = a_row;
        for (int64_t b = 0; b < n / 256; b++) {
            int sumi = 0;
            for (int sub = 0; sub < 16; sub++) {  // 16 weights each
                int isum = 0;
                for (int t = 0; t < 16; t++) {
                    int i = 16 * sub + t, half = i / 128, k = (i % 128) / 32, l = i % 32;
                    uint8_t low = x[b].ql[64 * half + l + 32 * (k % 2)];
                    int q = (k < 2 ? low & 0x0F : low >> 4) | ((x[b].qh[32 * half + l] >> (2 * k)) & 3) << 4;
                    isum += (q - 32) * y[b].qs[i];
                }
                sumi += x[b].scales[sub] * isum;
            }
            sum += kb_f16_to_f32(x[b].d) * y[b].d * (float)sumi;
        }
    })
}

kb_dot_fn kb_generic_dot(int type) {
    switch (type) {
    case KB_TYPE_F32: return dot_f32;
    case KB_TYPE_F16: return dot_f16;
    case KB_TYPE_BF16: return dot_bf16;
    case KB_TYPE_Q4_0: return dot_q4_0;
    case KB_TYPE_Q4_1: return dot_q4_1;
    case KB_TYPE_Q5_0: return dot_q5_0;
    case KB_TYPE_Q5_1: return dot_q5_1;
    case KB_TYPE_Q8_0: return dot_q8_0;
    case KB_TYPE_Q4_K: return dot_q4_k;
    case KB_TYPE_Q5_K: return dot_q5_k;
    case KB_TYPE_Q6_K: return dot_q6_k;
    default: return NULL;
    }
}

// MARK: - SwiGLU

/// gate[i] = silu(gate[i]) · up[i]: whole groups of 8 with ggml's polynomial exp, the tail with expf.
void kb_generic_swiglu(float *gate, const float *up, int64_t n) {
    int64_t whole = n / 8 * 8;
    for (int64_t i = 0; i < whole; i++) gate[i] = kb_silu_mul_scalar(gate[i], up[i]);
    kb_swiglu_tail(gate, up, whole, n);
}
