/* CPU matmul entry points: choosing a path, sizing its scratch, and the
 * portable path built on the type traits' vec_dot. */
#include <assert.h>
#include <stdbool.h>

#include "backend/cpu/matmul-impl.h"
#include "backend/cpu/x86/matmul_q4k.h"
#include "tensor/quant_impl.h"

/* Output rows per tile of the traits path: a tile's weights stay in L2 while
 * every token passes over them. */
enum { TRAITS_ROW_TILE = 16 };

/* The quantized paths compute what ggml's CPU backend computes, bit for bit:
 * Q8_0 the way its vec_dot and llamafile kernels order the float sums, Q4_0
 * and Q4_K the way its repacked 8-row kernels do (it repacks only matrices
 * whose row count is a multiple of 8; the others take vec_dot, here the
 * traits path), and every other quantized type through the traits' vec_dot,
 * as ggml's generic mul_mat loop does. */
static mm_path select_path(tensor_cpu cpu, tensor_type t, int64_t n_tokens, int64_t n_out, bool ggml_order) {
#ifdef MM_HAVE_X86
    if (cpu == TENSOR_CPU_AVX2 || cpu == TENSOR_CPU_AVX512) { /* AVX-512 implies AVX2 */
        bool int8_act = t == GGUF_TYPE_Q8_0 || (t == GGUF_TYPE_Q4_0 && n_out % 8 == 0);
        if (int8_act && n_tokens >= MM_GEMM_MIN_TOKENS)
            return t == GGUF_TYPE_Q8_0 && !ggml_order ? MM_PATH_GEMM_Q8P : MM_PATH_GEMM_Q;
        if (int8_act) return MM_PATH_GEMV_Q;
        if (t == GGUF_TYPE_Q4_K && n_out % 8 == 0)
            return n_tokens >= MM_GEMM_MIN_TOKENS ? MM_PATH_GEMM_Q4K : MM_PATH_GEMV_Q4K;
        switch (t) {
        case GGUF_TYPE_F32:
        case GGUF_TYPE_F16:
        case GGUF_TYPE_BF16: return n_tokens >= MM_GEMM_MIN_TOKENS ? MM_PATH_GEMM : MM_PATH_GEMV_F;
        default: break;
        }
    }
#else
    (void)cpu;
    (void)t;
    (void)n_tokens;
    (void)n_out;
    (void)ggml_order;
#endif
    return MM_PATH_TRAITS;
}

size_t mm__qa_row_bytes(int64_t n_in) {
    size_t nb = (size_t)(n_in / MM_QA_BLOCK);
    return mm__align64((size_t)n_in) + mm__align64(nb * (sizeof(float) + sizeof(int32_t)));
}

/* Bytes of one converted activation row of the traits path (0: x is used as is). */
static size_t traits_act_row_bytes(const tensor_type_traits *tr, int64_t n_in) {
    if (tr->vec_dot_type == GGUF_TYPE_F32) return 0;
    return mm__align64(tensor_row_bytes(tr->vec_dot_type, n_in));
}

static const tensor_type_traits *traits_of(tensor_cpu cpu, tensor_type t) {
    const tensor_type_traits *tr = tensor_type_get_cpu(t, cpu);
    assert(tr && tr->vec_dot && "matmul of a type the CPU backend does not support");
    return tr;
}

/* Bytes of one Q8_K activation row of the Q4_K paths (as the traits path
 * lays them out). */
static size_t q8k_row_bytes(int64_t n_in) { return mm__align64(tensor_row_bytes(GGUF_TYPE_Q8_K, n_in)); }

size_t cpu_matmul_scratch_size_cpu(tensor_cpu cpu, tensor_type wtype, int64_t n_in, int64_t n_out,
                                   int64_t n_tokens, int n_tasks) {
    /* Both Q8_0 prompt kernels need the same scratch. */
    switch (select_path(cpu, wtype, n_tokens, n_out, true)) {
    case MM_PATH_TRAITS: return (size_t)n_tokens * traits_act_row_bytes(traits_of(cpu, wtype), n_in);
    case MM_PATH_GEMV_F: return 0;
    case MM_PATH_GEMV_Q:
    case MM_PATH_GEMM_Q:
    case MM_PATH_GEMM_Q8P: return (size_t)n_tokens * mm__qa_row_bytes(n_in);
    case MM_PATH_GEMM:
        return (size_t)((n_tokens + MM_MR - 1) / MM_MR) * MM_MR * (size_t)n_in * sizeof(float);
    case MM_PATH_GEMV_Q4K: return (size_t)n_tokens * q8k_row_bytes(n_in);
#ifdef MM_HAVE_X86
    case MM_PATH_GEMM_Q4K: /* then one weight panel per task */
        return (size_t)n_tokens * q8k_row_bytes(n_in) +
               (size_t)(n_tasks > 0 ? n_tasks : 1) * mm__align64(mm__gemmq_q4k_scratch(n_in));
#else
    default: return 0;
#endif
    }
    return 0;
}

size_t cpu_matmul_scratch_size(tensor_type wtype, int64_t n_in, int64_t n_out, int64_t n_tokens, int n_tasks) {
    return cpu_matmul_scratch_size_cpu(tensor_cpu_active(), wtype, n_in, n_out, n_tokens, n_tasks);
}

/* Thread ith's share [*lo, *hi) of n items. */
static void share(int64_t n, int ith, int nth, int64_t *lo, int64_t *hi) {
    *lo = n * ith / nth;
    *hi = n * (ith + 1) / nth;
}

/* Splits the n_tokens * nb activation blocks evenly over the threads, so that
 * a single decode token is also converted in parallel; calls fn per token row
 * with that thread's block range of it. */
typedef void (*row_blocks_fn)(const cpu_matmul_args *a, const void *ctx, int64_t t, int64_t b0,
                              int64_t b1);

static void for_my_blocks(const cpu_matmul_args *a, int64_t nb, int ith, int nth,
                          row_blocks_fn fn, const void *ctx) {
    int64_t lo, hi;
    share(a->n_tokens * nb, ith, nth, &lo, &hi);
    while (lo < hi) {
        int64_t t = lo / nb, b0 = lo % nb;
        int64_t b1 = b0 + (hi - lo) < nb ? b0 + (hi - lo) : nb;
        fn(a, ctx, t, b0, b1);
        lo += b1 - b0;
    }
}

static void traits_convert(const cpu_matmul_args *a, const void *ctx, int64_t t, int64_t b0,
                           int64_t b1) {
    const tensor_type_traits *vt = ctx;
    size_t row = traits_act_row_bytes(vt, a->n_in);
    uint8_t *dst = (uint8_t *)a->scratch + (size_t)t * row + (size_t)b0 * vt->block_bytes;
    vt->from_float_act(a->x + (size_t)t * a->x_row_stride + b0 * vt->block_size, dst, (b1 - b0) * vt->block_size);
}

#ifdef MM_HAVE_X86
static void qa_convert(const cpu_matmul_args *a, const void *ctx, int64_t t, int64_t b0,
                       int64_t b1) {
    (void)ctx;
    mm__quantize_act_avx2(a->x + (size_t)t * a->x_row_stride,
                          (uint8_t *)a->scratch + (size_t)t * mm__qa_row_bytes(a->n_in), a->n_in,
                          b0, b1);
}
#endif

void cpu_matmul_prepare_cpu(tensor_cpu cpu, const cpu_matmul_args *a, int ith, int nth) {
    switch (select_path(cpu, a->wtype, a->n_tokens, a->n_out, a->ggml_order)) {
    case MM_PATH_TRAITS: {
        const tensor_type_traits *tr = traits_of(cpu, a->wtype);
        if (tr->vec_dot_type == GGUF_TYPE_F32) return;
        const tensor_type_traits *vt = tensor_type_get_cpu(tr->vec_dot_type, cpu);
        assert(vt && vt->from_float_act);
        for_my_blocks(a, a->n_in / vt->block_size, ith, nth, traits_convert, vt);
        return;
    }
    case MM_PATH_GEMV_F: return;
#ifdef MM_HAVE_X86
    case MM_PATH_GEMV_Q:
    case MM_PATH_GEMM_Q:
    case MM_PATH_GEMM_Q8P: for_my_blocks(a, a->n_in / MM_QA_BLOCK, ith, nth, qa_convert, NULL); return;
    case MM_PATH_GEMV_Q4K:
    case MM_PATH_GEMM_Q4K:
        /* the Q8_K rows the traits path would make for Q4_K */
        for_my_blocks(a, a->n_in / QK_K, ith, nth, traits_convert, tensor_type_get_cpu(GGUF_TYPE_Q8_K, cpu));
        return;
    case MM_PATH_GEMM: {
        int64_t p0, p1;
        share((a->n_tokens + MM_MR - 1) / MM_MR, ith, nth, &p0, &p1);
        if (p0 < p1) mm__pack_act_avx2(a, a->scratch, p0, p1);
        return;
    }
#else
    default: return;
#endif
    }
}

void cpu_matmul_prepare(const cpu_matmul_args *a, int ith, int nth) {
    cpu_matmul_prepare_cpu(tensor_cpu_active(), a, ith, nth);
}

static void traits_compute(tensor_cpu cpu, const cpu_matmul_args *a, int64_t o0, int64_t o1) {
    const tensor_type_traits *tr = traits_of(cpu, a->wtype);
    size_t act_row = traits_act_row_bytes(tr, a->n_in);
    const uint8_t *w = a->w;
    for (int64_t ob = o0; ob < o1; ob += TRAITS_ROW_TILE) {
        int64_t oe = ob + TRAITS_ROW_TILE < o1 ? ob + TRAITS_ROW_TILE : o1;
        for (int64_t t = 0; t < a->n_tokens; t++) {
            const void *xt = act_row ? (const void *)((const uint8_t *)a->scratch + (size_t)t * act_row)
                                     : (const void *)(a->x + (size_t)t * a->x_row_stride);
            float *yt = a->y + (size_t)t * a->y_row_stride;
            for (int64_t o = ob; o < oe; o++)
                tr->vec_dot(a->n_in, &yt[o], w + (size_t)o * a->w_row_bytes, xt);
        }
    }
}

void cpu_matmul_compute_cpu(tensor_cpu cpu, const cpu_matmul_args *a, int ith, int nth) {
    mm_path path = select_path(cpu, a->wtype, a->n_tokens, a->n_out, a->ggml_order);
    int64_t lo, hi;
    if (path == MM_PATH_GEMM) {
#ifdef MM_HAVE_X86
        share((a->n_out + MM_NR - 1) / MM_NR, ith, nth, &lo, &hi);
        if (lo < hi) mm__gemm_avx2(a, a->scratch, lo, hi);
#endif
        return;
    }
    if (path == MM_PATH_GEMM_Q || path == MM_PATH_GEMM_Q8P) {
#ifdef MM_HAVE_X86
        share((a->n_out + MM_QR - 1) / MM_QR, ith, nth, &lo, &hi);
        if (lo < hi && path == MM_PATH_GEMM_Q) mm__gemmq_avx2(a, a->scratch, mm__qa_row_bytes(a->n_in), lo, hi);
        else if (lo < hi) mm__gemmq_q8_panel_avx2(a, a->scratch, mm__qa_row_bytes(a->n_in), lo, hi);
#endif
        return;
    }
    if (path == MM_PATH_GEMM_Q4K) {
#ifdef MM_HAVE_X86
        share(a->n_out / 8, ith, nth, &lo, &hi);
        uint8_t *panel = (uint8_t *)a->scratch + (size_t)a->n_tokens * q8k_row_bytes(a->n_in) +
                         (size_t)ith * mm__align64(mm__gemmq_q4k_scratch(a->n_in));
        if (lo < hi) mm__gemmq_q4k_avx2(a, a->scratch, q8k_row_bytes(a->n_in), lo, hi, panel);
#endif
        return;
    }
    share(a->n_out, ith, nth, &lo, &hi);
    if (lo >= hi) return;
    switch (path) {
    case MM_PATH_TRAITS: traits_compute(cpu, a, lo, hi); return;
#ifdef MM_HAVE_X86
    case MM_PATH_GEMV_F: mm__gemv_avx2(a, NULL, 0, lo, hi); return;
    case MM_PATH_GEMV_Q: mm__gemv_avx2(a, a->scratch, mm__qa_row_bytes(a->n_in), lo, hi); return;
    case MM_PATH_GEMV_Q4K: mm__gemv_q4k_avx2(a, a->scratch, q8k_row_bytes(a->n_in), lo, hi); return;
#endif
    default: return;
    }
}

void cpu_matmul_compute(const cpu_matmul_args *a, int ith, int nth) {
    cpu_matmul_compute_cpu(tensor_cpu_active(), a, ith, nth);
}
