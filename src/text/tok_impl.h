/* Internals of the tokenizers, shared by the src/text/tok_*.c files. */
#ifndef TOK_IMPL_H
#define TOK_IMPL_H

#include <pthread.h>

#include "text/tok.h"

/* Open-addressing map from byte strings to token ids (strings not owned). */
typedef struct {
    uint32_t *slots; /* token id + 1; 0 = empty */
    size_t mask;
} tok__strmap;

/* Map from an ordered pair of token ids to a BPE merge. */
typedef struct {
    uint64_t key;   /* (left << 32) | right, plus one so that 0 marks empty */
    int32_t rank;
    tok_id merged;
} tok__merge;

typedef struct {
    tok__merge *slots;
    size_t mask;
} tok__mergemap;

/* Pre-tokenizer: a list of regexes applied one after another, each splitting
 * every piece the previous one produced into matches and the gaps between. */
typedef struct tok__pretok tok__pretok;

/* Word -> ids cache for BPE (bounded, replaced wholesale when full). */
typedef struct tok__cache tok__cache;

struct tok_vocab {
    tok_model model;
    char *pre;
    int32_t n;
    char *text_blob;       /* all token texts, each NUL-terminated */
    uint32_t *text_off;    /* [n] offsets into text_blob */
    uint32_t *text_len;    /* [n] */
    float *scores;         /* [n] */
    uint8_t *types;        /* [n] tok_type */
    tok__strmap by_text;
    size_t max_token_len;

    tok_id bos, eos, eot, unk, sep, pad;
    bool add_bos, add_eos, add_space_prefix;
    tok_id *eog;           /* ids that end a generation */
    int n_eog;

    /* Tokens matched in raw text before tokenizing (control, user-defined,
     * unknown), longest text first. */
    tok_id *special;
    size_t n_special;
    bool special_first[256]; /* some special token starts with this byte */

    /* Decoded bytes of every token (tok_token_to_piece without flags aside
     * from the control-token check), piece_off has n + 1 entries. */
    char *piece_blob;
    uint32_t *piece_off;

    /* byte-level BPE */
    tok__mergemap merges;
    tok__pretok *pretok;
    bool ignore_merges;  /* a word that is itself a token is kept whole (Llama 3) */
    bool nfc;            /* NFC-normalise text first (Qwen's normalizer) */
    tok_id byte_tok[256]; /* token of each byte: its byte-level char (BPE) or <0xXX> (SPM) */
    tok__cache *cache;
};

/* tok_vocab.c */
tok_id tok__find(const tok_vocab *v, const char *s, size_t len);
static inline const char *tok__text(const tok_vocab *v, tok_id id) { return v->text_blob + v->text_off[id]; }

/* tok_utf8.c */
/* Length of the UTF-8 sequence a lead byte announces (1 for invalid bytes). */
int tok__utf8_len(uint8_t c);
/* Decodes one code point at s (n bytes available); returns its length, or 0
 * for an invalid or truncated sequence. */
int tok__utf8_decode(const uint8_t *s, size_t n, uint32_t *cp);
int tok__utf8_encode(uint32_t cp, char *out);
/* GPT-2's byte <-> printable code point table. */
uint32_t tok__byte_to_cp(uint8_t b);
int tok__cp_to_byte(uint32_t cp); /* -1 when cp is not one of the 256 */

/* tok_pretok.c */
sv_status tok__pretok_new(const char *pre, tok__pretok **out);
void tok__pretok_free(tok__pretok *p);
/* Calls fn(ctx, offset, length) for each piece of text in order. */
typedef sv_status (*tok__piece_fn)(void *ctx, const char *piece, size_t len);
sv_status tok__pretok_split(const tok__pretok *p, const char *text, size_t len, tok__piece_fn fn, void *ctx);
/* Whether a pre-tokenizer name is known, and its vocabulary defaults. */
bool tok__pretok_known(const char *pre);

/* tok_bpe.c */
sv_status tok__bpe_init(tok_vocab *v, size_t n_merges, const char *const *merges);
sv_status tok__bpe_encode(const tok_vocab *v, const char *text, size_t len, tok_ids *out);
void tok__bpe_free(tok_vocab *v);

/* tok_spm.c */
sv_status tok__spm_encode(const tok_vocab *v, const char *text, size_t len, bool prefix_space, tok_ids *out);

/* tok_wpm.c */
sv_status tok__wpm_encode(const tok_vocab *v, const char *text, size_t len, tok_ids *out);

#endif
