/* `sova gguf synth`: random-weight GGUF files with the exact tensor names,
 * shapes and metadata of real models, for benchmarks without downloads. */
#ifndef SOVA_TOOLS_GGUF_SYNTH_H
#define SOVA_TOOLS_GGUF_SYNTH_H

#include <stdbool.h>
#include <stdint.h>

#include "base/status.h"
#include "gguf/gguf_writer.h"

/* Hyperparameters of a published model (its config.json). */
typedef struct {
    const char *name;  /* what --like takes: "qwen2.5-0.5b" */
    const char *arch;  /* general.architecture: "qwen2", "llama", "gemma3" */
    const char *label; /* general.size_label */
    int n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff;
    int64_t n_vocab;
    int n_ctx_train;
    float rope_theta;
    float rms_eps;
    bool tied_embeddings;
    bool qkv_bias;       /* qwen2: attn_q/k/v biases */
    /* llama 3.1: per-frequency rope factors (tensor rope_freqs.weight) */
    float rope_llama3_factor, rope_llama3_low, rope_llama3_high;
    int rope_llama3_orig_ctx;
    /* gemma3: sliding-window layers with their own rope base, linear rope scaling */
    int sliding_window;
    float rope_theta_swa;
    float rope_linear_factor;
} synth_model;

/* Initial values of a tensor. */
typedef enum { SYNTH_INIT_NORMAL, SYNTH_INIT_ONES, SYNTH_INIT_ROPE_FREQS } synth_init;

typedef struct {
    char name[64];
    int n_dims;
    int64_t ne[4];
    synth_init init;
} synth_tensor;

/* Known models, NULL-terminated by name == NULL. */
extern const synth_model synth_models[];
const synth_model *synth_find_model(const char *name);

/* The model's tensors in the converter's naming. OUT: *out (free()), *n. */
sv_status synth_model_tensors(const synth_model *m, synth_tensor **out, int64_t *n);
/* Sets general.* (but file type) and {arch}.* keys. */
sv_status synth_model_keys(const synth_model *m, gguf_writer *w);
/* llama 3.1 rope factor i of head_dim/2 (1 for high frequencies, the
 * scaling factor for low ones, smooth in between). */
float synth_rope_llama3_factor(const synth_model *m, int i);

int gguf_cmd_synth(int argc, char **argv);

#endif
