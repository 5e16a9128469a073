// CKBKernels: the quantized matrix-product kernels and the thread pool of kb's GGUF engine.
//
// Written in C because Swift cannot reach the speed of these loops: they need `pmaddubsw`-style
// integer dot products and F16C conversions that LLVM does not emit from Swift code. Every
// kernel has a portable scalar version (the specification, `KB_ISA_GENERIC`) and an x86-64
// AVX2/FMA/F16C version chosen at run time when the CPU has those instructions.
#ifndef CKBKERNELS_H
#define CKBKERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: - Activation blocks

/// 32 activations quantized to int8 for the 32-weight block types (Q4_0 … Q8_0), rounded as
/// llama.cpp's `block_q8_0`/`block_q8_1` (which store d and s as halves): activation i ≈ d × qs[i];
/// `s` = d′ × Σ qs[i] (for the minimum terms of Q4_1/Q5_1), where d′ is d before its rounding to a
/// half. 40 bytes.
typedef struct {
    /// max|x| / 127 rounded to the nearest half.
    float d;
    /// (max|x| / 127) × Σ qs rounded to the nearest half.
    float s;
    int8_t qs[32];
} kb_q8_block;

/// 256 activations quantized to int8 for the K-quant types (Q4_K, Q5_K, Q6_K):
/// activation i ≈ d × qs[i]; `bsums[g]` = Σ qs[16g ..< 16g + 16]. d is a float,
/// 1 / (127 / max|x|) as llama.cpp's `block_q8_K` computes it. 292 bytes.
typedef struct {
    float d;
    int8_t qs[256];
    int16_t bsums[16];
} kb_q8k_block;

/// Which implementation a call uses.
typedef enum {
    /// Portable scalar C: the reference.
    KB_ISA_GENERIC = 0,
    /// The best the CPU supports (AVX2/FMA/F16C on x86-64 when present, else generic).
    KB_ISA_BEST = 1,
} kb_isa;

/// Whether the CPU runs the AVX2/FMA/F16C kernels (what `KB_ISA_BEST` picks unless `KB_KERNELS=generic`).
int kb_cpu_has_avx2(void);

/// Quantizes `n` floats (a multiple of 32) into `n / 32` blocks: qs[i] =
/// round-half-even(x[i] × (127 / max|x|)) (0 for an all-zero block), d = half(max|x| / 127),
/// s = half((max|x| / 127) × Σ qs), half() rounding to the nearest half float (ties to even).
void kb_quantize_q8(const float *x, int64_t n, kb_q8_block *out, kb_isa isa);

/// Quantizes `n` floats (a multiple of 256) into `n / 256` blocks: the quants as
/// `kb_quantize_q8` over the 256 values, d = 1 / (127 / max|x|) in float, and the 16 group sums.
void kb_quantize_q8k(const float *x, int64_t n, kb_q8k_block *out, kb_isa isa);

// MARK: - Matrix products

/// Weight type ids, as ggml numbers them (`enum ggml_type`).
enum {
    KB_TYPE_F32 = 0, KB_TYPE_F16 = 1, KB_TYPE_Q4_0 = 2, KB_TYPE_Q4_1 = 3, KB_TYPE_Q5_0 = 6,
    KB_TYPE_Q5_1 = 7, KB_TYPE_Q8_0 = 8, KB_TYPE_Q4_K = 12, KB_TYPE_Q5_K = 13, KB_TYPE_Q6_K = 14,
    KB_TYPE_BF16 = 30,
};

/// The order in which a row of a product sums its terms (bits of `row_orders`). llama.cpp's CPU
/// kernels sum in an order that depends on the batch: K-quant rows of a batch of 8 or more in its
/// tiled GEMM's order (KB_ROW_BATCHED), and rows of a repacked Q4_K matrix in a full group of 4 in
/// its 4-row GEMM's order (KB_ROW_PAIRS). With the order given per row, a row's result depends only
/// on its own order, never on the rows beside it.
enum { KB_ROW_SINGLE = 0, KB_ROW_BATCHED = 1, KB_ROW_PAIRS = 2 };

/// out[b × out_stride + r] = Σᵢ W[r][i] · x[b][i] for rows r in [row_begin, row_end) and b < batch.
///
/// - w: the whole weight matrix, `n_out` rows of `row_bytes` bytes in ggml type `type`, `n_in`
///   weights each.
/// - act: `batch` activation rows, `act_row_bytes` apart: floats for F32/F16/BF16 weights,
///   `kb_q8_block`s for Q4_0/Q4_1/Q5_0/Q5_1/Q8_0, `kb_q8k_block`s for Q4_K/Q5_K/Q6_K.
/// - row_orders: `batch` orders (KB_ROW_* bits), one per activation row.
/// Up to four activation rows share each pass over a weight row.
void kb_matmul(int type, const void *w, size_t row_bytes, int64_t n_in, int64_t n_out, int64_t row_begin,
               int64_t row_end, const void *act, size_t act_row_bytes, int64_t batch, const uint8_t *row_orders,
               float *out, int64_t out_stride, kb_isa isa);

// MARK: - Q4_K matrices repacked by 8 rows

/// Kernel families: the instruction sets a family of kernels uses. `KB_ISA_BEST` runs the best
/// family the CPU has, or the one `KB_KERNELS` names (`generic`, `avx2`, `avxvnni`, `avx512`) when
/// the CPU has it. The AVX-VNNI and AVX-512 families have their own kernels for repacked Q4_K
/// products (`kb_matmul_q4k_repacked`); every other product runs the AVX2 kernels in them.
typedef enum {
    KB_FAMILY_GENERIC = 0,
    /// AVX2, FMA, F16C.
    KB_FAMILY_AVX2 = 1,
    /// AVX2 and 256-bit `vpdpbusd` (AVX-VNNI).
    KB_FAMILY_AVXVNNI = 2,
    /// AVX-512 F, BW, VL and VNNI.
    KB_FAMILY_AVX512 = 3,
} kb_family;

/// Whether the CPU runs `family`'s kernels.
int kb_cpu_has_family(kb_family family);

/// The family `KB_ISA_BEST` runs: the best the CPU has, lowered to `KB_KERNELS` when set to the
/// name of a family (an unknown name or one the CPU lacks leaves the best; see `kb_family_override_error`).
kb_family kb_best_family(void);

/// The family's name as `KB_KERNELS` spells it.
const char *kb_family_name(kb_family family);

/// Why `KB_KERNELS` was not followed (an unknown name, a family the CPU lacks), or NULL.
const char *kb_family_override_error(void);

/// 8 rows of a Q4_K matrix, one super-block (256 weights) of each, interleaved so that a
/// kernel multiplies all 8 rows in vector lanes (no horizontal sums): row r's super-block is
/// d[r], dmin[r], its 8 scales and minimums unpacked from 6 bits, and its 128 quant bytes cut in
/// 8-byte pieces: qs[p][c][r] is bytes 32p + 8c ..< 32p + 8c + 8 of row r's `qs` (low nibbles:
/// weights 64p + 8c + k of sub-block 2p; high nibbles: those of sub-block 2p + 1). 1,184 bytes.
typedef struct {
    uint16_t d[8], dmin[8];
    /// [pair p][sub-block 2p + s][row]: 6-bit scales.
    uint8_t scales[4][2][8];
    /// [pair p][row][sub-block 2p + s]: 6-bit minimums.
    uint8_t mins[4][8][2];
    uint8_t qs[4][4][8][8];
} kb_block_q4_kx8;

/// Bytes of a repacked matrix of `n_out` (a multiple of 8) rows of `n_in` (a multiple of 256).
size_t kb_q4k_repacked_bytes(int64_t n_in, int64_t n_out);

/// Repacks rows [row_begin, row_end) (multiples of 8) of a Q4_K matrix (`row_bytes` apart) into
/// `packed`, laid out as groups of 8 rows, each `n_in / 256` `kb_block_q4_kx8`s.
void kb_q4k_repack(const void *w, size_t row_bytes, int64_t n_in, int64_t row_begin, int64_t row_end, void *packed);

/// `kb_matmul` for a repacked Q4_K matrix: rows [row_begin, row_end) (multiples of 8). Every row
/// sums as llama.cpp's repacked Q4_K kernels do (see AVX2.c, ORDER_REPACKED_*): in its 4-row
/// GEMM's order when its order has KB_ROW_PAIRS, else in its GEMV's (KB_ROW_BATCHED is ignored:
/// llama.cpp does not tile repacked matrices), whatever the family (same bits).
void kb_matmul_q4k_repacked(const void *packed, int64_t n_in, int64_t row_begin, int64_t row_end, const void *act,
                            size_t act_row_bytes, int64_t batch, const uint8_t *row_orders, float *out,
                            int64_t out_stride, kb_isa isa);

/// `kb_matmul_q4k_repacked` with the kernels of `family`, which the CPU must have (for tests and
/// comparisons).
void kb_matmul_q4k_repacked_family(const void *packed, int64_t n_in, int64_t row_begin, int64_t row_end, const void *act,
                                   size_t act_row_bytes, int64_t batch, const uint8_t *row_orders, float *out,
                                   int64_t out_stride, kb_family family);

/// `kb_matmul` with the kernels of `family`, which the CPU must have (for tests and comparisons).
void kb_matmul_family(int type, const void *w, size_t row_bytes, int64_t n_in, int64_t n_out, int64_t row_begin,
                      int64_t row_end, const void *act, size_t act_row_bytes, int64_t batch, const uint8_t *row_orders,
                      float *out, int64_t out_stride, kb_family family);

// MARK: - Element-wise functions

/// SwiGLU in place over `n` floats: gate[i] = gate[i] / (1 + e^−gate[i]) · up[i], with e^x as
/// ggml's CPU backend computes it (a polynomial within ~1.5 ulp of expf; the C library's expf for
/// a tail of fewer than 8), so results are llama.cpp's to the bit.
void kb_swiglu(float *gate, const float *up, int64_t n, kb_isa isa);

/// e^x as `kb_swiglu` and `kb_attention`'s softmax compute it (ggml's polynomial; exposed for tests).
float kb_exp(float x);

// MARK: - Attention and the F16 KV cache

/// `n` floats to IEEE halves, rounded to nearest even (F16C `vcvtps2ph`, ggml's conversion).
void kb_f32_to_f16_row(const float *x, uint16_t *out, int64_t n, kb_isa isa);

/// `n` IEEE halves to floats (exact).
void kb_f16_to_f32_row(const uint16_t *x, float *out, int64_t n, kb_isa isa);

/// A block of causal attention: `rows` consecutive query positions × `heads` query heads that
/// read the same KV head. Query vector (r, h) is at `q + r × q_row_stride + h × head_dim` and
/// attends to key/value positions `0 ..< first_length + r`; its output goes to
/// `out + r × out_row_stride + h × head_dim`.
///
/// For each query vector: s_t = scale · q·k_t, p = softmax(s), out = Σ p_t · v_t, computed as
/// llama.cpp's CPU attention without flash attention computes it, to the bit: with an F16 cache
/// the query is rounded to F16 before the products and the probabilities before the sum; dot
/// products are summed in 8 lanes (see `single_token` for how lanes are grouped) and the lanes
/// pairwise; e^x is ggml's polynomial; the softmax sums groups of 8 exponentials in float and
/// the groups in double.
typedef struct {
    const float *q;
    int64_t q_row_stride;
    float *out;
    int64_t out_row_stride;
    int rows;
    int heads;
    /// Positions row 0 attends to (its position + 1).
    int64_t first_length;
    /// The KV head's keys and values, in blocks of `block_tokens` positions (a paged KV cache):
    /// position t is row t % block_tokens of `k_blocks[t / block_tokens]` (and of `v_blocks[…]`),
    /// `head_dim` elements of `kv_type` per row. A contiguous cache is one block.
    const void *const *k_blocks;
    const void *const *v_blocks;
    int64_t block_tokens;
    /// KB_TYPE_F16 or KB_TYPE_F32.
    int kv_type;
    int head_dim;
    /// Multiplies the scores (1/√head_dim).
    float scale;
    /// 1 when the forward pass evaluates a single token. llama.cpp then takes its vector dot
    /// products (`ggml_vec_dot_f16`: four 8-lane accumulators over 32-wide steps) where a batch
    /// takes its tiled ones (one 8-lane accumulator); the kernel sums in the same order.
    int single_token;
    /// `kb_attention_scratch_floats(rows, heads, first_length, head_dim, single_token)` floats.
    float *scratch;
} kb_attention_args;

/// Floats of scratch a `kb_attention` call needs.
int64_t kb_attention_scratch_floats(int rows, int heads, int64_t first_length, int head_dim, int single_token);

/// Runs one block of attention (see `kb_attention_args`). The AVX2 path needs head_dim % 8 == 0
/// (else the scalar reference runs).
void kb_attention(const kb_attention_args *args, kb_isa isa);

// MARK: - Thread pool

/// A persistent pool of worker threads for data-parallel loops.
typedef struct kb_pool kb_pool;

/// A loop body: called once for each task index.
typedef void (*kb_task_fn)(void *context, int64_t task);

/// Starts `threads - 1` workers (the caller of `kb_pool_run` is the last thread); NULL if a
/// thread cannot be started.
kb_pool *kb_pool_create(int threads);

/// Calls `fn(context, t)` for every t in [0, count), spread over the workers and the calling
/// thread, and returns when all calls have returned. A call made while another loop of the pool
/// is running (from a task, or another thread) runs its tasks inline on the calling thread.
void kb_pool_run(kb_pool *pool, int64_t count, kb_task_fn fn, void *context);

/// Stops and joins the workers and frees the pool.
void kb_pool_destroy(kb_pool *pool);

#ifdef __cplusplus
}
#endif

#endif
