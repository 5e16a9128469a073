// Q4_K matrices repacked by 8 rows (`kb_block_q4_kx8`): the layout, the scalar reference of its
// products (the specification the SIMD kernels are held to, bit for bit) and their dispatch.
//
// A product sums each output row as llama.cpp's repacked Q4_K kernels do (ORDER_REPACKED_ROWS and
// ORDER_REPACKED_PAIRS in AVX2.c, whose per-row kernels give the same bits): per super-block b and
// pair of sub-blocks p, the exact integers S = Σ_{s in p} sc[s]·Σ q·a and M = Σ_{s in p} m[s]·bsums(s),
// then in floats
//   GEMV order (pairs 0):   sum = fma(S_b, d·da, sum), min = fma(M_b, dmin·da, min) with S_b, M_b the
//                           super-block's sums of S and M;
//   GEMM order (pairs 1):   sum = fma(S, d·da, sum), min = fma(M, dmin·da, min) for every pair;
// and the result sum − min. The SIMD kernels hold the 8 rows in 8 float lanes and do exactly these
// operations lane by lane.
#include "Internal.h"
#include <math.h>

_Static_assert(sizeof(kb_block_q4_kx8) == 1184, "q4_Kx8");

size_t kb_q4k_repacked_bytes(int64_t n_in, int64_t n_out) {
    return (size_t)(n_out / 8) * (size_t)(n_in / 256) * sizeof(kb_block_q4_kx8);
}

void kb_q4k_repack(const void *w, size_t row_bytes, int64_t n_in, int64_t row_begin, int64_t row_end, void *packed) {
    const int64_t nb = n_in / 256;
    for (int64_t g = row_begin / 8; g < row_end / 8; g++) {
        kb_block_q4_kx8 *out = (kb_block_q4_kx8 *)packed + g * nb;
        for (int64_t b = 0; b < nb; b++) {
            kb_block_q4_kx8 *x8 = &out[b];
            for (int r = 0; r < 8; r++) {
                const kb_block_q4_k *blk = (const kb_block_q4_k *)((const char *)w + (size_t)(8 * g + r) * row_bytes) + b;
                uint8_t sc[8], mn[8];
                kb_unpack_k_scales(blk->scales, sc, mn);
                x8->d[r] = blk->d;
                x8->dmin[r] = blk->dmin;
                for (int p = 0; p < 4; p++) {
                    for (int s = 0; s < 2; s++) {
                        x8->scales[p][s][r] = sc[2 * p + s];
                        x8->mins[p][r][s] = mn[2 * p + s];
                    }
                    for (int c = 0; c < 4; c++) memcpy(x8->qs[p][c][r], blk->qs + 32 * p + 8 * c, 8);
                }
            }
        }
    }
}

void kb_generic_q4kx8(int64_t nb, const kb_block_q4_kx8 *w, const void *act, size_t act_stride, int na, int pairs,
                      float *out, int64_t out_stride) {
    for (int j = 0; j < na; j++) {
        const kb_q8k_block *y = (const kb_q8k_block *)((const char *)act + (size_t)j * act_stride);
        for (int r = 0; r < 8; r++) {
            float sum = 0, minSum = 0;
            for (int64_t b = 0; b < nb; b++) {
                const kb_block_q4_kx8 *x8 = &w[b];
                const float d = kb_f16_to_f32(x8->d[r]), dmin = kb_f16_to_f32(x8->dmin[r]), da = y[b].d;
                int32_t blockSum = 0, blockMin = 0;
                for (int p = 0; p < 4; p++) {
                    int32_t low = 0, high = 0;  // Σ q·a of sub-blocks 2p and 2p + 1
                    for (int c = 0; c < 4; c++) {
                        for (int k = 0; k < 8; k++) {
                            uint8_t byte = x8->qs[p][c][r][k];
                            low += (byte & 0x0F) * y[b].qs[64 * p + 8 * c + k];
                            high += (byte >> 4) * y[b].qs[64 * p + 32 + 8 * c + k];
                        }
                    }
                    const int16_t *bs = y[b].bsums + 4 * p;
                    int32_t pairSum = x8->scales[p][0][r] * low + x8->scales[p][1][r] * high;
                    int32_t pairMin = x8->mins[p][r][0] * (bs[0] + bs[1]) + x8->mins[p][r][1] * (bs[2] + bs[3]);
                    if (pairs) {
                        sum = fmaf((float)pairSum, d * da, sum);
                        minSum = fmaf((float)pairMin, dmin * da, minSum);
                    } else {
                        blockSum += pairSum;
                        blockMin += pairMin;
                    }
                }
                if (!pairs) {
                    sum = fmaf((float)blockSum, d * da, sum);
                    minSum = fmaf((float)blockMin, dmin * da, minSum);
                }
            }
            out[(int64_t)j * out_stride + r] = sum - minSum;
        }
    }
}

static kb_q4kx8_fn family_kernel(kb_family family) {
    switch (family) {
#ifdef KB_HAVE_X86
    case KB_FAMILY_AVX2: return kb_avx2_q4kx8;
    case KB_FAMILY_AVXVNNI: return kb_avxvnni_q4kx8;
    case KB_FAMILY_AVX512: return kb_avx512_q4kx8;
#endif
    default: return kb_generic_q4kx8;
    }
}

void kb_matmul_q4k_repacked_family(const void *packed, int64_t n_in, int64_t row_begin, int64_t row_end, const void *act,
                                   size_t act_row_bytes, int64_t batch, const uint8_t *row_orders, float *out,
                                   int64_t out_stride, kb_family family) {
    const kb_q4kx8_fn kernel = family_kernel(family);
    const int64_t nb = n_in / 256;
    const char *activations = act;
    // Runs of consecutive activation rows of one order (KB_ROW_PAIRS or not), 4 rows per pass.
    for (int64_t b0 = 0; b0 < batch;) {
        const int pairs = (row_orders[b0] & KB_ROW_PAIRS) != 0;
        int64_t b1 = b0 + 1;
        while (b1 < batch && ((row_orders[b1] & KB_ROW_PAIRS) != 0) == pairs) b1++;
        for (int64_t g = row_begin / 8; g < row_end / 8; g++) {
            const kb_block_q4_kx8 *w = (const kb_block_q4_kx8 *)packed + g * nb;
            for (int64_t b = b0; b < b1; b += KB_Q4KX8_ROWS_PER_PASS) {
                int na = b1 - b < KB_Q4KX8_ROWS_PER_PASS ? (int)(b1 - b) : KB_Q4KX8_ROWS_PER_PASS;
                kernel(nb, w, activations + b * act_row_bytes, act_row_bytes, na, pairs, out + b * out_stride + 8 * g, out_stride);
            }
        }
        b0 = b1;
    }
}

void kb_matmul_q4k_repacked(const void *packed, int64_t n_in, int64_t row_begin, int64_t row_end, const void *act,
                            size_t act_row_bytes, int64_t batch, const uint8_t *row_orders, float *out,
                            int64_t out_stride, kb_isa isa) {
    kb_family family = isa == KB_ISA_BEST ? kb_best_family() : KB_FAMILY_GENERIC;
    kb_matmul_q4k_repacked_family(packed, n_in, row_begin, row_end, act, act_row_bytes, batch, row_orders, out, out_stride,
                                  family);
}
