/* Graph IR: the model code builds one graph per micro-batch from tensors
 * allocated in an arena, then graph_expand orders the nodes topologically.
 * No memory is touched while building; the planner (tensor/planner.h) and the
 * scheduler (backend/sched.h) give the nodes memory and run them.
 *
 * Error handling: a builder returns NULL (and records the first error in
 * g->status with sv_error's message) when its arguments do not fit; a NULL
 * argument makes it return NULL silently. Model code can therefore build a
 * whole layer and check g->status once, since shapes come from GGUF files.
 *
 * Shapes are written innermost first, as tensor ne[] are. */
#ifndef TENSOR_GRAPH_H
#define TENSOR_GRAPH_H

#include <stdio.h>

#include "tensor/tensor.h"

typedef struct {
    sv_arena *arena;
    tensor **nodes; /* [n_nodes] topological order: every src precedes its user */
    int n_nodes;
    tensor **leafs; /* [n_leafs] tensors without op (weights, inputs, state) */
    int n_leafs;
    int max_tensors;
    sv_status status; /* first error while building, SV_OK otherwise */
    uint64_t id;      /* unique per graph_new in this process (graphs reuse arena addresses) */
    /* visited set of graph_expand: open addressing over tensor pointers */
    const tensor **seen; /* [seen_cap] */
    size_t seen_cap;
} graph;

/* A graph whose node and leaf lists each hold up to max_tensors, all memory
 * (including the tensors the builders make) from `arena`. OUT: *out. */
sv_status graph_new(sv_arena *arena, int max_tensors, graph **out);

/* Adds t and everything it depends on (once) to the node/leaf lists; flags t
 * as an output. Returns g->status. */
sv_status graph_expand(graph *g, tensor *t);

/* One line per leaf and node: index, op, type and shape, strides when not
 * contiguous, flags, placement and name (for debugging model graphs). */
void graph_print(const graph *g, FILE *f);

/* A tensor with no op (an input when flagged TENSOR_FLAG_INPUT). */
tensor *graph_new_tensor(graph *g, tensor_type type, int n_dims, const int64_t *ne);
tensor *graph_new_tensor_1d(graph *g, tensor_type type, int64_t ne0);
tensor *graph_new_tensor_2d(graph *g, tensor_type type, int64_t ne0, int64_t ne1);
tensor *graph_new_tensor_3d(graph *g, tensor_type type, int64_t ne0, int64_t ne1, int64_t ne2);
tensor *graph_new_tensor_4d(graph *g, tensor_type type, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3);
/* Marks t as an input the caller fills after planning; returns t. */
tensor *graph_set_input(tensor *t);

/* ---- views (no computation) ---- */
/* Reshapes need a contiguous a and the same element count. */
tensor *graph_reshape_2d(graph *g, tensor *a, int64_t ne0, int64_t ne1);
tensor *graph_reshape_3d(graph *g, tensor *a, int64_t ne0, int64_t ne1, int64_t ne2);
tensor *graph_reshape_4d(graph *g, tensor *a, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3);
/* Views of a's memory at byte `offset` with given strides (nb1..nb3), checked
 * to stay inside a's extent. */
tensor *graph_view_1d(graph *g, tensor *a, int64_t ne0, size_t offset);
tensor *graph_view_2d(graph *g, tensor *a, int64_t ne0, int64_t ne1, size_t nb1, size_t offset);
tensor *graph_view_3d(graph *g, tensor *a, int64_t ne0, int64_t ne1, int64_t ne2, size_t nb1, size_t nb2,
                      size_t offset);
tensor *graph_view_4d(graph *g, tensor *a, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3, size_t nb1,
                      size_t nb2, size_t nb3, size_t offset);
/* Dimension i of a becomes dimension axis_i of the result (ggml's convention). */
tensor *graph_permute(graph *g, tensor *a, int axis0, int axis1, int axis2, int axis3);
tensor *graph_transpose(graph *g, tensor *a); /* swaps dimensions 0 and 1 */

/* ---- data movement ---- */
/* Contiguous copy of a (f32, f16 or bf16), any layout. */
tensor *graph_cont(graph *g, tensor *a);
/* Writes a, converted, into b's memory; the result is a view of b to depend
 * on. Same element count; element order is row-major for both. Types: from
 * any readable type to F32/F16/BF16, and F32 to any type with from_float
 * (e.g. Q8_0 for a quantized KV cache), which needs a and b of one shape. */
tensor *graph_cpy(graph *g, tensor *a, tensor *b);
/* w [E, V] any readable type, ids I32 [n] -> F32 [E, n]: rows ids[i] of w. */
tensor *graph_get_rows(graph *g, tensor *w, tensor *ids);
/* a and b f32 of one shape except along `dim`: result joins them there. */
tensor *graph_concat(graph *g, tensor *a, tensor *b, int dim);

/* ---- element-wise, f32; b broadcasts (its dims divide a's) ---- */
tensor *graph_add(graph *g, tensor *a, tensor *b);
tensor *graph_mul(graph *g, tensor *a, tensor *b);
tensor *graph_scale(graph *g, tensor *a, float s); /* a * s */
tensor *graph_unary(graph *g, tensor *a, tensor_unary_op op);
tensor *graph_silu(graph *g, tensor *a);
tensor *graph_gelu(graph *g, tensor *a);     /* tanh approximation */
tensor *graph_gelu_erf(graph *g, tensor *a); /* exact, with erf */
/* act(a) * b, a and b of one shape (gated FFN). */
tensor *graph_glu(graph *g, tensor *a, tensor *b, tensor_unary_op act);
tensor *graph_swiglu(graph *g, tensor *a, tensor *b);
tensor *graph_geglu(graph *g, tensor *a, tensor *b);

/* ---- row-wise, f32 [n, ...] ---- */
tensor *graph_rms_norm(graph *g, tensor *a, float eps); /* x / sqrt(mean(x^2) + eps) */
tensor *graph_norm(graph *g, tensor *a, float eps);     /* (x - mean) / sqrt(var + eps) */
/* softmax(softcap(a * scale) + mask) over dimension 0, where softcap(x) =
 * cap * tanh(x / cap) when softcap > 0. a [n_kv, n_q, h, b]; mask NULL or
 * F32/F16 [n_kv, >= n_q, h' | h, b' | b] (-INFINITY hides a position). */
tensor *graph_soft_max(graph *g, tensor *a, tensor *mask, float scale, float softcap);
/* I32 [rows]: index of the largest value of each row (first one on ties). */
tensor *graph_argmax(graph *g, tensor *a);

/* Rotary embedding modes (values are ggml's). Pair (x_i, x_j) turns by
 * theta = pos * freq_scale * freq_base^(-2k/n_dims) for pair number k:
 *  NORMAL: pairs (2k, 2k+1), k < n_dims/2.
 *  NEOX:   pairs (k, k + n_dims/2).
 *  MROPE:  as NEOX; pair k takes its position from section s of sections[]
 *          chosen by k mod sum(sections); pos holds 4 * n_tok values, section
 *          s at pos[s * n_tok + t] (Qwen2-VL's t, h, w, extra).
 *  VISION: pairs (k, k + n_dims), k < n_dims (so 2*n_dims values turn), the
 *          exponent restarting at 0 in each section (2-D rope of Qwen2-VL's ViT).
 * Values past the turned ones are copied unchanged. */
enum { TENSOR_ROPE_NORMAL = 0, TENSOR_ROPE_NEOX = 2, TENSOR_ROPE_MROPE = 8, TENSOR_ROPE_VISION = 24 };

/* a f32 [d, heads, n_tok, b], pos I32 [n_tok] (or [4 * n_tok] for MROPE/VISION). */
tensor *graph_rope(graph *g, tensor *a, tensor *pos, int n_dims, int mode, float freq_base, float freq_scale);
tensor *graph_rope_multi(graph *g, tensor *a, tensor *pos, int n_dims, const int sections[4], int mode,
                         float freq_base, float freq_scale);
/* NORMAL/NEOX with per-pair frequency factors (Llama 3.1's rope_freqs.weight):
 * pair k turns by theta_k / freq_factors[k]; freq_factors F32 [n_dims/2]. */
tensor *graph_rope_ext(graph *g, tensor *a, tensor *pos, tensor *freq_factors, int n_dims, int mode,
                       float freq_base, float freq_scale);

/* ---- heavy ops ---- */
/* w [k, n, B2, B3] any supported weight type (rows contiguous), x F32
 * [k, m, b2, b3] with B2 | b2 and B3 | b3 (broadcast for grouped heads)
 * -> F32 [n, m, b2, b3]: result(i, j) = dot(row i of w, row j of x). */
tensor *graph_mul_mat(graph *g, tensor *w, tensor *x);

typedef struct {
    float scale;   /* multiplies q.k */
    float softcap; /* > 0: cap * tanh(s / cap) on the scaled scores */
    /* Built-in causal mask, an alternative to a mask tensor when query i is
     * at position q_pos0 + i and key j at position j. */
    bool causal;
    int32_t q_pos0;
    int32_t window; /* > 0: a query also ignores keys window or more positions back */
} graph_attn_params;

/* softmax(q k^T) v per head without materialising the scores.
 * q F32 [d, n_q, h, b], k [d, n_kv, h_kv, b] F16 (fast path), F32 or any
 * readable type such as Q8_0 (a quantized KV cache), v of k's type
 * [dv, n_kv, h_kv, b], h_kv | h (grouped-query heads), mask NULL or F32/F16
 * [n_kv, >= n_q] -> F32 [dv, h, n_q, b] (heads adjacent: reshape to
 * [dv*h, n_q] for the output projection). */
tensor *graph_flash_attn(graph *g, tensor *q, tensor *k, tensor *v, tensor *mask, const graph_attn_params *p);

/* Patches of img F32 [w, h, c, n] for a kernel of kw x kh over c channels:
 * -> F32 [kw*kh*c, ow, oh, n], column index kx + kw*(ky + kh*ch). */
tensor *graph_im2col(graph *g, tensor *img, int64_t kw, int64_t kh, int s0, int s1, int p0, int p1, int d0,
                     int d1);
/* kernel [kw, kh, c, oc] (F32/F16), img F32 [w, h, c, n] -> F32 [oc, ow, oh, n]
 * (channels innermost: one row per output pixel, ready as patch embeddings). */
tensor *graph_conv_2d(graph *g, tensor *kernel, tensor *img, int s0, int s1, int p0, int p1, int d0, int d1);
/* Average pooling of a F32 [w, h, c, n] -> [ow, oh, c, n]; padded positions
 * count as zeros (the sum is divided by k0*k1). */
tensor *graph_pool_2d_avg(graph *g, tensor *a, int k0, int k1, int s0, int s1, int p0, int p1);

#endif
