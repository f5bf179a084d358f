/* Tokenizers for GGUF vocabularies: byte-level BPE (tokenizer.ggml.model =
 * "gpt2", with the split regexes named by tokenizer.ggml.pre), SentencePiece
 * style BPE ("llama": scores, byte fallback <0xXX>, U+2581 for spaces) and
 * WordPiece ("bert").
 *
 * A tok_vocab is immutable after loading and safe to share between threads;
 * every encode/decode call takes it by const pointer. Token ids are int32_t,
 * TOK_NULL (-1) marks "no such token".
 *
 * Typical use:
 *     tok_vocab *v; tok_vocab_load(gguf, &v);
 *     tok_ids ids = {0};
 *     tok_encode(v, text, strlen(text), TOK_ADD_SPECIAL, &ids);
 *     ... tok_ids_free(&ids); tok_vocab_free(v);
 */
#ifndef TOK_H
#define TOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/status.h"
#include "gguf/gguf.h"

typedef int32_t tok_id;
enum { TOK_NULL = -1 };

typedef struct tok_vocab tok_vocab;

/* tokenizer.ggml.model */
typedef enum {
    TOK_MODEL_BPE, /* "gpt2": byte-level BPE */
    TOK_MODEL_SPM, /* "llama": SentencePiece BPE with scores */
    TOK_MODEL_WPM, /* "bert": WordPiece */
} tok_model;

/* tokenizer.ggml.token_type values (as llama.cpp's converter writes them). */
typedef enum {
    TOK_TYPE_UNDEFINED = 0,
    TOK_TYPE_NORMAL = 1,
    TOK_TYPE_UNKNOWN = 2,
    TOK_TYPE_CONTROL = 3,
    TOK_TYPE_USER_DEFINED = 4,
    TOK_TYPE_UNUSED = 5,
    TOK_TYPE_BYTE = 6,
} tok_type;

/* Flags of tok_encode. */
enum {
    /* Add BOS/EOS (or CLS/SEP for WordPiece) as the vocabulary asks
     * (tokenizer.ggml.add_bos_token / add_eos_token). */
    TOK_ADD_SPECIAL = 1u << 0,
    /* Match the text of control tokens ("<|im_start|>") in the input. Without
     * it they are tokenized as plain text; user-defined tokens are matched
     * either way (as HF and llama.cpp do). */
    TOK_PARSE_SPECIAL = 1u << 1,
};

/* Flags of decoding. */
enum {
    /* Render control/unknown tokens as their text; without it they vanish. */
    TOK_DECODE_SPECIAL = 1u << 0,
    /* Drop the space an SPM vocabulary with add_space_prefix (or WordPiece)
     * put in front of the first word, as HF's decoders do. */
    TOK_DECODE_STRIP_PREFIX = 1u << 1,
};

/* A growable id array. Zero-initialise; tok_encode appends. */
typedef struct {
    tok_id *ids;
    size_t n, cap;
} tok_ids;

void tok_ids_free(tok_ids *a);
/* Appends one id; SV_ERR_NOMEM on allocation failure. */
sv_status tok_ids_push(tok_ids *a, tok_id id);

/* Builds the tokenizer from the tokenizer.ggml.* keys of `f` (model, pre,
 * tokens, scores, token_type, merges, bos/eos/eot/unk/sep/pad ids,
 * add_bos_token, add_eos_token, add_space_prefix). The vocabulary copies what
 * it needs: `f` may be freed afterwards. OUT: *out (release with tok_vocab_free).
 * Errors: SV_ERR_FORMAT for missing/ill-typed keys or inconsistent arrays,
 * SV_ERR_UNSUPPORTED for an unknown model or pre-tokenizer name. */
sv_status tok_vocab_load(const gguf_file *f, tok_vocab **out);

/* The same from plain arrays (tests, fuzzing, synthetic models). Strings are
 * copied. scores, types and merges may be NULL (n_merges 0). */
typedef struct {
    const char *model;           /* "gpt2", "llama", "bert" */
    const char *pre;             /* pre-tokenizer name; NULL = "default" */
    size_t n_tokens;
    const char *const *tokens;   /* n_tokens NUL-terminated strings */
    const float *scores;         /* n_tokens or NULL */
    const int32_t *types;        /* n_tokens tok_type values or NULL (all normal) */
    size_t n_merges;
    const char *const *merges;   /* "left right" */
    tok_id bos, eos, eot, unk, sep, pad; /* TOK_NULL when absent */
    int add_bos, add_eos, add_space_prefix; /* -1 = the model's default */
} tok_vocab_desc;

/* A desc with every id TOK_NULL and every flag -1. */
tok_vocab_desc tok_vocab_desc_init(void);
sv_status tok_vocab_build(const tok_vocab_desc *d, tok_vocab **out);
void tok_vocab_free(tok_vocab *v);

tok_model tok_vocab_model(const tok_vocab *v);
const char *tok_vocab_pre(const tok_vocab *v);
int32_t tok_vocab_n_tokens(const tok_vocab *v);
tok_id tok_bos(const tok_vocab *v);
tok_id tok_eos(const tok_vocab *v);
tok_id tok_eot(const tok_vocab *v); /* <|eot_id|>, <|im_end|>, <end_of_turn>... or TOK_NULL */
tok_id tok_unk(const tok_vocab *v);
tok_id tok_sep(const tok_vocab *v);
tok_id tok_pad(const tok_vocab *v);
bool tok_add_bos(const tok_vocab *v);
bool tok_add_eos(const tok_vocab *v);
/* True for ids that end a generation: EOS, EOT and the usual end-of-turn tokens. */
bool tok_is_eog(const tok_vocab *v, tok_id id);

/* The vocabulary's stored text of `id` (NULL when out of range). */
const char *tok_token_text(const tok_vocab *v, tok_id id);
tok_type tok_token_type(const tok_vocab *v, tok_id id);
float tok_token_score(const tok_vocab *v, tok_id id);
/* Id of a token by its stored text, TOK_NULL when none. */
tok_id tok_find(const tok_vocab *v, const char *text, size_t len);

/* Tokenizes `len` bytes of `text` (any bytes; invalid UTF-8 is tokenized as
 * bytes where the vocabulary can, never an error), appending ids to `out`.
 * Errors: SV_ERR_NOMEM, SV_ERR_LIMIT for text longer than INT32_MAX bytes. */
sv_status tok_encode(const tok_vocab *v, const char *text, size_t len, unsigned flags, tok_ids *out);

/* Bytes of one token as it appears in text (byte tokens give one raw byte,
 * byte-level BPE tokens their original bytes, U+2581 becomes a space). Writes
 * at most `cap` bytes to `buf` and returns the full length (like snprintf,
 * without a NUL), or 0 for an out-of-range id. */
size_t tok_token_to_piece(const tok_vocab *v, tok_id id, unsigned flags, char *buf, size_t cap);

/* Text of a whole id sequence (flags: TOK_DECODE_*). OUT: *text (malloc'd,
 * NUL-terminated, free()), *len (may be NULL). Bytes are returned as they
 * come, so a sequence cut inside a character ends with a partial UTF-8 one. */
sv_status tok_decode(const tok_vocab *v, const tok_id *ids, size_t n, unsigned flags, char **text, size_t *len);

/* Streaming detokenizer: feed ids one by one and print what comes back. It
 * holds back the bytes of a UTF-8 character until the character is complete,
 * so a terminal never sees half a character; bytes that can never complete a
 * character are passed through as they are. */
typedef struct {
    const tok_vocab *vocab;
    unsigned flags;   /* TOK_DECODE_SPECIAL */
    bool started;     /* a token has been pushed (for the SPM prefix space) */
    uint8_t held[4];  /* incomplete trailing UTF-8 sequence */
    int n_held;
    char *buf;        /* output buffer, reused between calls */
    size_t cap;
} tok_detok_stream;

void tok_detok_stream_init(tok_detok_stream *s, const tok_vocab *v, unsigned flags);
/* Adds `id`. OUT: *text and *len: the bytes now complete (valid until the next
 * call on `s`; *len may be 0). */
sv_status tok_detok_stream_push(tok_detok_stream *s, tok_id id, const char **text, size_t *len);
/* Returns whatever is still held (an unfinished character) and resets. */
void tok_detok_stream_flush(tok_detok_stream *s, const char **text, size_t *len);
void tok_detok_stream_free(tok_detok_stream *s);

#endif
