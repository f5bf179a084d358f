/* Models: hyperparameters read from a GGUF file's {arch}.* keys (with the
 * defaults llama.cpp-converted files rely on), the weights looked up by
 * llama.cpp's tensor names and used in place from the file mapping, and one
 * graph builder per architecture (src/model/arch/).
 *
 * A model is immutable once loaded and shared by every context using it. */
#ifndef MODEL_MODEL_H
#define MODEL_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "base/arena.h"
#include "base/status.h"
#include "gguf/gguf.h"
#include "tensor/graph.h"

typedef enum {
    MODEL_ARCH_LLAMA = 0, /* Llama 2/3/3.1, Mistral */
    MODEL_ARCH_QWEN2,
    MODEL_ARCH_QWEN3,
    MODEL_ARCH_GEMMA3,
    MODEL_ARCH_COUNT
} model_arch;

typedef struct {
    model_arch arch;
    int32_t n_vocab;
    int32_t n_ctx_train;
    int32_t n_embd;
    int32_t n_layer;
    int32_t n_head;
    int32_t n_head_kv;
    int32_t n_ff;
    int32_t n_embd_head_k; /* key/query width of one head */
    int32_t n_embd_head_v;
    int32_t n_rot;         /* rotated dimensions of a head */
    int rope_mode;         /* TENSOR_ROPE_NORMAL or TENSOR_ROPE_NEOX */
    float norm_eps;
    float rope_freq_base, rope_freq_scale;         /* global (or only) attention layers */
    float rope_freq_base_swa, rope_freq_scale_swa; /* sliding-window layers */
    int32_t n_swa;          /* sliding window in tokens; 0: none */
    int32_t swa_pattern;    /* layer il is local when il % swa_pattern < swa_pattern - 1 */
    float attn_scale;       /* multiplies q.k */
    float attn_softcap;     /* > 0: tanh soft-capping of attention scores */
    float final_softcap;    /* > 0: tanh soft-capping of the output logits */
    float embd_scale;       /* multiplies the token embeddings (1: none) */
} model_hparams;

/* Weights of one transformer block; NULL where the architecture has none. */
typedef struct {
    tensor *attn_norm;      /* [n_embd] */
    tensor *wq;             /* [n_embd, n_head * head_k] */
    tensor *wk;             /* [n_embd, n_head_kv * head_k] */
    tensor *wv;             /* [n_embd, n_head_kv * head_v] */
    tensor *wo;             /* [n_head * head_v, n_embd] */
    tensor *bq, *bk, *bv;   /* [n_head * head_k], [n_head_kv * head_k], [n_head_kv * head_v] */
    tensor *q_norm, *k_norm; /* [head_k] */
    tensor *attn_post_norm; /* [n_embd] */
    tensor *ffn_norm;       /* [n_embd] */
    tensor *ffn_gate;       /* [n_embd, n_ff] */
    tensor *ffn_up;         /* [n_embd, n_ff] */
    tensor *ffn_down;       /* [n_ff, n_embd] */
    tensor *ffn_post_norm;  /* [n_embd] */
} model_layer;

typedef struct model model;

/* What a builder needs for one micro-batch; tensors are the graph's inputs. */
typedef struct {
    graph *g;
    const model *m;
    int32_t n_tokens;
    int32_t n_kv;            /* cache cells attention looks at: [0, n_kv) */
    int32_t n_outputs;       /* rows of logits wanted */
    const uint32_t *cells;   /* [n_tokens] cache cell each token is written to */
    tensor *const *k_cache;  /* [n_layer] each [n_head_kv * head_k, n_cells] */
    tensor *const *v_cache;  /* [n_layer] each [n_head_kv * head_v, n_cells] */
    tensor *inp_tokens;      /* I32 [n_tokens] */
    tensor *inp_pos;         /* I32 [n_tokens] */
    tensor *inp_mask;        /* F32 [n_kv, n_tokens] causal mask over the cells */
    tensor *inp_mask_swa;    /* F32 [n_kv, n_tokens] with the sliding window, or NULL */
    tensor *inp_out_ids;     /* I32 [n_outputs] rows to produce logits for, or NULL for all */
} model_ubatch_graph;

typedef struct {
    const char *name;                       /* general.architecture value */
    sv_status (*load)(model *m);            /* looks up the tensors */
    tensor *(*build)(model_ubatch_graph *u); /* logits F32 [n_vocab, n_outputs] */
} model_arch_def;

struct model {
    model_hparams hp;
    const model_arch_def *def;
    gguf_file *gguf;
    sv_arena arena;               /* tensors and tables of the model */
    tensor *tok_embd;             /* [n_embd, n_vocab] */
    tensor *output_norm;          /* [n_embd] */
    tensor *output;               /* [n_embd, n_vocab]; tok_embd when tied */
    tensor *rope_freqs;           /* [n_rot/2] frequency divisors (Llama 3.1), or NULL */
    model_layer *layers;          /* [n_layer] */
    backend_buffer **wbufs;       /* [n_wbufs] buffers holding the weights */
    int n_wbufs;
    void *wcopy;                  /* weights read into memory when not mapped */
    size_t weight_bytes;
    int64_t n_params;
};

typedef struct {
    bool use_mmap; /* weights used in place from the file mapping (else read into memory) */
} model_load_params;

/* Opens `path` and loads hyperparameters and weights. SV_ERR_UNSUPPORTED
 * names an unknown architecture; a missing or misshapen tensor is
 * SV_ERR_FORMAT naming it. OUT: *out (release with model_free). */
sv_status model_load(const char *path, const model_load_params *p, model **out);
void model_free(model *m);

/* Reads the {arch}.* keys of f (llama.cpp's defaults for absent ones). */
sv_status model_read_hparams(const gguf_file *f, model_hparams *hp);
/* Whether layer il uses the sliding window. */
bool model_layer_is_swa(const model_hparams *hp, int32_t il);
const char *model_arch_name(model_arch a);
const model_arch_def *model_arch_get(model_arch a);

/* ---- helpers for the architecture files (model_load.c) ---- */

/* Tensor `name` (printf-style) with exactly the given dimensions (unused
 * ones 1); NULL and SV_ERR_FORMAT when absent or misshapen, or NULL without
 * error when absent and !required. */
tensor *model_tensor(model *m, bool required, int n_dims, const int64_t *ne, const char *fmt, ...) SV_PRINTF(5, 6);
/* Loads the weights llama-style blocks share (attention, norms, gated FFN,
 * embeddings, output with tying). */
sv_status model_load_common(model *m, bool qkv_bias, bool qk_norm, bool post_norms);

/* ---- shared graph pieces (model_graph.c) ---- */

/* RMS norm times weight w (w may be NULL). */
tensor *model_rms_norm(graph *g, tensor *x, tensor *w, float eps);
/* Gated FFN down(act(gate x) * up x). */
tensor *model_ffn(graph *g, const model_layer *L, tensor *x, tensor_unary_op act);
/* Self-attention of layer il on normed input x [n_embd, n_tokens]: projects
 * q, k, v (+bias, +QK norm), applies rope with the layer's base, stores k/v
 * in the cache cells, attends over the cells and projects the output. */
tensor *model_attention(model_ubatch_graph *u, int32_t il, tensor *x);
/* Rope of x [d, heads, n_tokens] at u->inp_pos with layer il's base. */
tensor *model_rope(model_ubatch_graph *u, tensor *x, int32_t il);
/* Token embeddings of the micro-batch, scaled by hp.embd_scale. */
tensor *model_embed(model_ubatch_graph *u);
/* Final norm, row selection and output projection (with soft-capping). */
tensor *model_logits(model_ubatch_graph *u, tensor *x);

extern const model_arch_def model_arch_llama;
extern const model_arch_def model_arch_qwen2;
extern const model_arch_def model_arch_qwen3;
extern const model_arch_def model_arch_gemma3;

#endif
