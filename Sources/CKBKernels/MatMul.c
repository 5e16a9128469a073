// Matrix products over a range of output rows: kernel selection and cache tiling.
#include "Internal.h"

void kb_quantize_q8(const float *x, int64_t n, kb_q8_block *out, kb_isa isa) {
#ifdef KB_HAVE_X86
    if (kb_use_avx2(isa)) { kb_avx2_quantize_q8(x, n, out); return; }
#endif
    kb_generic_quantize_q8(x, n, out);
}

void kb_quantize_q8k(const float *x, int64_t n, kb_q8k_block *out, kb_isa isa) {
#ifdef KB_HAVE_X86
    if (kb_use_avx2(isa)) { kb_avx2_quantize_q8k(x, n, out); return; }
#endif
    kb_generic_quantize_q8k(x, n, out);
}

/// Weight rows per tile in batched products: a tile (16 rows, at most a few tens of KB) stays in
/// L1/L2 while every group of activation rows passes over it; a group is up to 8 rows for the
/// 32-weight block formats on AVX2 and for K-quant rows on AVX-512 (their kernels share each
/// unpacked weight block by that many), 4 otherwise.
enum { ROW_TILE = 16, MAX_ROWS_PER_PASS = 8 };

static int rows_per_pass(int type, int order, int64_t n_out, kb_family family) {
#ifdef KB_HAVE_X86
    if (family >= KB_FAMILY_AVX2) {
        switch (type) {
        case KB_TYPE_Q4_0: case KB_TYPE_Q4_1: case KB_TYPE_Q5_0: case KB_TYPE_Q5_1: case KB_TYPE_Q8_0: return 8;
        default: break;
        }
        int repacked = type == KB_TYPE_Q4_K && n_out % 8 == 0;
        if (family >= KB_FAMILY_AVX512 && !repacked &&
            ((order & KB_ROW_BATCHED) ? kb_avx512_dot_tiled(type) : kb_avx512_dot_single(type))) {
            return kb_avx512_tiled_rows_per_pass(type);
        }
    }
#endif
    (void)type;
    (void)order;
    (void)n_out;
    (void)family;
    return 4;
}

/// The kernel for rows of `order` (KB_ROW_BATCHED, KB_ROW_PAIRS bits): llama.cpp's tiled K-quant
/// GEMM for batched rows where it has one (not for a repacked Q4_K matrix, one of a multiple of 8
/// rows, see AVX2.c), the AVX-512 family's where it has one; for a repacked Q4_K matrix the 4-row
/// GEMM's or the GEMV's order; otherwise the single-row kernels (their order does not depend on
/// the rows beside them). A run of 2 rows or more of a 32-weight signed block type takes the
/// AVX-512 family's kernel (2 rows a register), other 32-weight runs the AVX-VNNI family's where
/// the CPU has it (same bits).
static kb_dot_fn select_kernel(int type, int64_t n_out, int order, int64_t rows, kb_family family) {
#ifdef KB_HAVE_X86
    if (family >= KB_FAMILY_AVX512 && rows >= 2) {
        kb_dot_fn wide = kb_avx512_dot(type);
        if (wide) return wide;
    }
    // The AVX-512 family's CPUs mostly have AVX-VNNI too (not every Xeon with AVX-512 VNNI does).
    if (family >= KB_FAMILY_AVXVNNI && kb_cpu_has_family(KB_FAMILY_AVXVNNI)) {
        kb_dot_fn vnni = kb_avxvnni_dot(type);
        if (vnni) return vnni;
    }
    if (family >= KB_FAMILY_AVX2) {
        int repacked = type == KB_TYPE_Q4_K && n_out % 8 == 0;
        if ((order & KB_ROW_BATCHED) && !repacked) {
            kb_dot_fn tiled = family >= KB_FAMILY_AVX512 ? kb_avx512_dot_tiled(type) : NULL;
            if (!tiled) tiled = kb_avx2_dot_tiled(type);
            if (tiled) return tiled;
        } else if (family >= KB_FAMILY_AVX512 && !repacked) {
            kb_dot_fn single = kb_avx512_dot_single(type);
            if (single) return single;
        }
        return kb_avx2_dot_ordered(type, (order & KB_ROW_PAIRS) != 0);
    }
#endif
    (void)n_out;
    (void)order;
    (void)rows;
    (void)family;
    return kb_generic_dot(type);
}

void kb_matmul(int type, const void *w, size_t row_bytes, int64_t n_in, int64_t n_out, int64_t row_begin,
               int64_t row_end, const void *act, size_t act_row_bytes, int64_t batch, const uint8_t *row_orders,
               float *out, int64_t out_stride, kb_isa isa) {
    kb_matmul_family(type, w, row_bytes, n_in, n_out, row_begin, row_end, act, act_row_bytes, batch, row_orders, out,
                     out_stride, isa == KB_ISA_BEST ? kb_best_family() : KB_FAMILY_GENERIC);
}

void kb_matmul_family(int type, const void *w, size_t row_bytes, int64_t n_in, int64_t n_out, int64_t row_begin,
                      int64_t row_end, const void *act, size_t act_row_bytes, int64_t batch, const uint8_t *row_orders,
                      float *out, int64_t out_stride, kb_family family) {
    const char *weights = w, *activations = act;
    // Runs of consecutive activation rows of one order, up to rows_per_pass per pass over a weight row.
    for (int64_t b0 = 0; b0 < batch;) {
        int order = row_orders[b0];
        int64_t b1 = b0 + 1;
        while (b1 < batch && row_orders[b1] == order) b1++;
        kb_dot_fn dot = select_kernel(type, n_out, order, b1 - b0, family);
        if (!dot) return;
        const int per_pass = rows_per_pass(type, order, n_out, family);
        if (b1 - b0 == 1) {
            const char *a = activations + b0 * act_row_bytes;
            for (int64_t r = row_begin; r < row_end; r++) dot(n_in, weights + r * row_bytes, a, act_row_bytes, 1, out + b0 * out_stride + r);
            b0 = b1;
            continue;
        }
        for (int64_t r0 = row_begin; r0 < row_end; r0 += ROW_TILE) {
            int64_t r1 = r0 + ROW_TILE < row_end ? r0 + ROW_TILE : row_end;
            for (int64_t b = b0; b < b1; b += per_pass) {
                int na = b1 - b < per_pass ? (int)(b1 - b) : per_pass;
                const char *a = activations + b * act_row_bytes;
                for (int64_t r = r0; r < r1; r++) {
                    float result[MAX_ROWS_PER_PASS];
                    dot(n_in, weights + r * row_bytes, a, act_row_bytes, na, result);
                    for (int j = 0; j < na; j++) out[(b + j) * out_stride + r] = result[j];
                }
            }
        }
        b0 = b1;
    }
}
