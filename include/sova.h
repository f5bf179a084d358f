/* sova public C API.
 *
 * Conventions: every fallible call returns sova_status (0 = ok, negative = the
 * kind of error) and leaves a human message for the calling thread, readable
 * with sova_errmsg(). Handles are opaque; X_new/X_load pair with X_free, and
 * X_free(NULL) is a no-op. OUT: marks parameters written by the call. */
#ifndef SOVA_H
#define SOVA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    SOVA_OK = 0,
    SOVA_ERR_IO = -1,          /* a file or device could not be read or written */
    SOVA_ERR_FORMAT = -2,      /* input bytes are malformed */
    SOVA_ERR_UNSUPPORTED = -3, /* well-formed, but not something sova handles */
    SOVA_ERR_NOMEM = -4,
    SOVA_ERR_INVALID_ARG = -5,
    SOVA_ERR_BACKEND = -6,
    SOVA_ERR_NETWORK = -7,
    SOVA_ERR_LIMIT = -8,       /* a configured limit (size, pixels, context) was exceeded */
    SOVA_ERR_CANCELLED = -9,
    SOVA_ERR_TIMEOUT = -10,
} sova_status;

/* The calling thread's last error message ("" when none). The pointer stays
 * valid until the thread's next failing sova call. */
const char *sova_errmsg(void);

/* Short name of a status ("FORMAT", ...). Static storage. */
const char *sova_status_name(sova_status st);

/* "MAJOR.MINOR.PATCH". Static storage. */
const char *sova_version(void);

/* ---- types ---- */

typedef int32_t sova_token;
typedef struct sova_model sova_model; /* weights + vocabulary; immutable, shared by contexts */
typedef struct sova_ctx sova_ctx;     /* KV cache + compute state for up to n_seq_max sequences */

/* ---- models ---- */

typedef struct {
    int32_t n_threads; /* threads for work done at load time; <= 0: all cores */
    bool use_mmap;     /* use the weights in place from the file mapping (default); false reads them into memory */
} sova_model_params;

sova_model_params sova_model_default_params(void);

/* Loads a GGUF model (llama, qwen2, qwen3, gemma3 architectures; split files
 * by their first part). params may be NULL (defaults). OUT: *out, release
 * with sova_model_free. Unknown architectures are SOVA_ERR_UNSUPPORTED and
 * missing tensors SOVA_ERR_FORMAT, both naming what is wrong. */
sova_status sova_model_load(const char *path, const sova_model_params *params, sova_model **out);
void sova_model_free(sova_model *m);

const char *sova_model_arch(const sova_model *m); /* "llama", ... (static storage) */
int32_t sova_model_n_vocab(const sova_model *m);
int32_t sova_model_n_ctx_train(const sova_model *m);
int32_t sova_model_n_embd(const sova_model *m);
int32_t sova_model_n_layer(const sova_model *m);
uint64_t sova_model_n_params(const sova_model *m);
uint64_t sova_model_weight_bytes(const sova_model *m);

/* ---- vocabulary ---- */

sova_token sova_token_bos(const sova_model *m); /* -1 when the vocabulary has none */
sova_token sova_token_eos(const sova_model *m);
bool sova_token_is_eog(const sova_model *m, sova_token t); /* EOS, EOT and end-of-turn tokens */

/* Tokenizes len bytes of text. add_special adds BOS/EOS as the vocabulary
 * asks; parse_special matches control-token text such as <|im_start|>.
 * Writes at most cap ids to out. OUT: *n_tokens, the count the text needs
 * (SOVA_ERR_LIMIT, nothing written, when it exceeds cap). */
sova_status sova_tokenize(const sova_model *m, const char *text, size_t len, bool add_special, bool parse_special,
                          sova_token *out, int32_t cap, int32_t *n_tokens);
/* Text of one token (special: render control tokens). Writes at most cap
 * bytes (no NUL) and returns the full length; 0 for an out-of-range id. */
size_t sova_token_to_piece(const sova_model *m, sova_token t, bool special, char *buf, size_t cap);
/* Text of n tokens. OUT: *text (malloc'd, NUL-terminated; free()). */
sova_status sova_detokenize(const sova_model *m, const sova_token *tokens, size_t n, bool special, char **text);

/* Streaming detokenizer: holds back incomplete UTF-8 characters. */
typedef struct sova_detok sova_detok;
sova_status sova_detok_new(const sova_model *m, bool special, sova_detok **out);
/* Adds one token. OUT: *text and *len, the bytes now complete (valid until the next call). */
sova_status sova_detok_push(sova_detok *d, sova_token t, const char **text, size_t *len);
/* What is still held back (an unfinished character), then resets. */
void sova_detok_flush(sova_detok *d, const char **text, size_t *len);
void sova_detok_free(sova_detok *d);

/* ---- chat templates ---- */

typedef struct {
    const char *role; /* "system", "user", "assistant" */
    const char *content;
} sova_chat_message;

/* Renders messages with the template named tmpl ("chatml", "qwen2.5",
 * "qwen3", "llama3", "gemma", "mistral") or, when NULL, the one recognised in
 * the model's tokenizer.chat_template. The text has no BOS: tokenize it with
 * add_special and parse_special. OUT: *text (malloc'd, NUL-terminated; free()). */
sova_status sova_chat_apply(const sova_model *m, const char *tmpl, const sova_chat_message *msgs, size_t n,
                            bool add_generation_prompt, char **text);

/* ---- contexts ---- */

typedef enum { SOVA_KV_F32 = 0, SOVA_KV_F16 = 1, SOVA_KV_Q8_0 = 8 } sova_kv_type;

#define SOVA_MAX_SEQ 64

typedef struct {
    uint32_t n_ctx;     /* KV cache cells; 0: the model's training context */
    uint32_t n_batch;   /* most tokens one sova_decode call takes */
    uint32_t n_ubatch;  /* tokens computed per step (micro-batch), <= n_batch */
    uint32_t n_seq_max; /* sequences sharing the cache, 1..SOVA_MAX_SEQ */
    int32_t n_threads;  /* <= 0: all cores */
    sova_kv_type type_k, type_v;
    /* Every CPU matmul in the float order of llama.cpp's CPU backend (AVX2),
     * so the logits equal llama.cpp's to the bit where the rest of the graph
     * does; costs ~1/3 of Q8_0 prompt speed. Off: Q8_0 prompts use a faster
     * kernel with the same int8 products (decode is in that order anyway). */
    bool ggml_order;
} sova_ctx_params;

/* n_ctx 4096, n_batch 2048, n_ubatch 512, n_seq_max 1, all cores, F16 cache,
 * ggml_order off. */
sova_ctx_params sova_ctx_default_params(void);

/* Creates a context: allocates the KV cache and the compute buffers (sized
 * for the largest micro-batch over the full cache). m must outlive it.
 * params may be NULL. OUT: *out, release with sova_ctx_free. */
sova_status sova_ctx_new(sova_model *m, const sova_ctx_params *params, sova_ctx **out);
void sova_ctx_free(sova_ctx *c);
uint32_t sova_ctx_n_ctx(const sova_ctx *c);
uint32_t sova_ctx_n_batch(const sova_ctx *c);

typedef struct {
    uint64_t weights; /* model weights (mapped or in memory) */
    uint64_t kv;      /* KV cache */
    uint64_t compute; /* compute buffers and the CPU ops' scratch */
    uint64_t logits;  /* host logits storage */
} sova_memory;
void sova_ctx_memory(const sova_ctx *c, sova_memory *out);

/* ---- batches ---- */

/* Tokens for one sova_decode call (llama.cpp's llama_batch). */
typedef struct {
    int32_t n_tokens;
    sova_token *token; /* [n_tokens] */
    int32_t *pos;      /* [n_tokens] position in its sequence(s) */
    int32_t *n_seq_id; /* [n_tokens] */
    int32_t **seq_id;  /* [n_tokens][n_seq_id[i]] sequences the token belongs to */
    int8_t *logits;    /* [n_tokens] nonzero: produce logits for this token */
    int32_t cap, seq_cap; /* capacity in tokens and sequence ids per token */
} sova_batch;

/* OUT: *b with room for n_tokens tokens of up to n_seq sequences each
 * (release with sova_batch_free). */
sova_status sova_batch_init(int32_t n_tokens, int32_t n_seq, sova_batch *b);
void sova_batch_free(sova_batch *b);
void sova_batch_clear(sova_batch *b);
/* Appends a token; SOVA_ERR_LIMIT when the batch is full. */
sova_status sova_batch_add(sova_batch *b, sova_token t, int32_t pos, const int32_t *seq_ids, int32_t n_seq,
                           bool logits);

/* Runs the model on a batch in micro-batches of n_ubatch, storing K/V in the
 * cache and the logits of the flagged tokens. SOVA_ERR_LIMIT when the cache
 * has no room (make some with the sova_kv_* calls), SOVA_ERR_INVALID_ARG for
 * bad tokens, positions or sequence ids. */
sova_status sova_decode(sova_ctx *c, const sova_batch *b);

/* Logits of the last decode: one row of n_vocab floats per flagged token, in
 * batch order. Valid until the next decode. */
const float *sova_get_logits(sova_ctx *c);
/* Row of batch token i (negative: from the end), NULL with an error when it
 * was not flagged. */
const float *sova_get_logits_ith(sova_ctx *c, int32_t i);

/* ---- KV cache (llama.cpp's memory API): seq -1 means every sequence where
 * allowed, a range [p0, p1) takes p0 < 0 as 0 and p1 < 0 as no upper bound. */

void sova_kv_clear(sova_ctx *c);
sova_status sova_kv_seq_rm(sova_ctx *c, int32_t seq, int32_t p0, int32_t p1);
sova_status sova_kv_seq_cp(sova_ctx *c, int32_t src, int32_t dst, int32_t p0, int32_t p1);
sova_status sova_kv_seq_keep(sova_ctx *c, int32_t seq);
/* Moves positions by delta; keys are re-rotated at the next decode. */
sova_status sova_kv_seq_add(sova_ctx *c, int32_t seq, int32_t p0, int32_t p1, int32_t delta);
int32_t sova_kv_seq_pos_max(const sova_ctx *c, int32_t seq); /* -1 when empty */
uint32_t sova_kv_used(const sova_ctx *c);

/* ---- sampling ---- */

typedef struct sova_sampler sova_sampler;

typedef struct {
    uint64_t seed;         /* UINT64_MAX: from the clock */
    float temp;            /* <= 0: greedy */
    int32_t top_k;         /* <= 0: off */
    float top_p;           /* >= 1: off */
    float min_p;           /* <= 0: off */
    float typical_p;       /* >= 1: off */
    int32_t penalty_last_n; /* tokens remembered for penalties */
    float penalty_repeat;  /* 1: off */
    float penalty_freq;    /* 0: off */
    float penalty_present; /* 0: off */
} sova_sampler_params;

/* llama.cpp's defaults: temp 0.8, top_k 40, top_p 0.95, min_p 0.05, last 64. */
sova_sampler_params sova_sampler_default_params(void);
sova_status sova_sampler_new(const sova_model *m, const sova_sampler_params *p, sova_sampler **out);
void sova_sampler_free(sova_sampler *s);
/* Samples from the logits of batch token i of c's last decode (as
 * sova_get_logits_ith) and accepts the token. Returns it, or a negative status. */
sova_token sova_sampler_sample(sova_sampler *s, sova_ctx *c, int32_t i);
/* Records a token (e.g. of the prompt) for the penalties. */
sova_status sova_sampler_accept(sova_sampler *s, sova_token t);
void sova_sampler_reset(sova_sampler *s);
uint64_t sova_sampler_seed(const sova_sampler *s);

#ifdef __cplusplus
}
#endif

#endif
