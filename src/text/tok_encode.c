/* tok_encode: cuts special-token text out of the input (leftmost, longest
 * first, as HF's added-token matcher does), then hands each plain fragment to
 * the vocabulary's tokenizer. */
#include <stdlib.h>
#include <string.h>

#include "text/tok_impl.h"

void tok_ids_free(tok_ids *a) {
    free(a->ids);
    a->ids = NULL;
    a->n = a->cap = 0;
}

sv_status tok_ids_push(tok_ids *a, tok_id id) {
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        tok_id *p = realloc(a->ids, cap * sizeof *p);
        if (!p) return sv_error(SV_ERR_NOMEM, "token list of %zu ids", cap);
        a->ids = p;
        a->cap = cap;
    }
    a->ids[a->n++] = id;
    return SV_OK;
}

/* The special token that starts at `p` (longest first), or TOK_NULL. */
static tok_id special_at(const tok_vocab *v, const char *p, size_t left, bool parse_special) {
    if (!v->special_first[(uint8_t)*p]) return TOK_NULL;
    for (size_t k = 0; k < v->n_special; k++) {
        tok_id id = v->special[k];
        size_t n = v->text_len[id];
        if (n > left || memcmp(p, tok__text(v, id), n) != 0) continue;
        if (!parse_special && v->types[id] != TOK_TYPE_USER_DEFINED) continue;
        return id;
    }
    return TOK_NULL;
}

/* A plain fragment either starts the input or follows a special token; SPM
 * vocabularies with add_space_prefix put a space before it in both cases. */
static sv_status encode_fragment(const tok_vocab *v, const char *s, size_t n, tok_ids *out) {
    switch (v->model) {
    case TOK_MODEL_BPE: return tok__bpe_encode(v, s, n, out);
    case TOK_MODEL_SPM: return tok__spm_encode(v, s, n, v->add_space_prefix, out);
    case TOK_MODEL_WPM: return tok__wpm_encode(v, s, n, out);
    }
    return sv_error(SV_ERR_UNSUPPORTED, "tokenizer model %d", (int)v->model);
}

sv_status tok_encode(const tok_vocab *v, const char *text, size_t len, unsigned flags, tok_ids *out) {
    if (len > (size_t)INT32_MAX) return sv_error(SV_ERR_LIMIT, "text of %zu bytes is too long to tokenize", len);
    bool add = (flags & TOK_ADD_SPECIAL) != 0, parse = (flags & TOK_PARSE_SPECIAL) != 0;
    sv_status st = SV_OK;
    if (add && v->add_bos && v->bos != TOK_NULL && (st = tok_ids_push(out, v->bos))) return st;
    size_t start = 0;
    for (size_t i = 0; i < len;) {
        tok_id sp = v->n_special ? special_at(v, text + i, len - i, parse) : TOK_NULL;
        if (sp == TOK_NULL) {
            i++;
            continue;
        }
        if (i > start) {
            if ((st = encode_fragment(v, text + start, i - start, out))) return st;
        }
        if ((st = tok_ids_push(out, sp))) return st;
        i += v->text_len[sp];
        start = i;
    }
    if (len > start && (st = encode_fragment(v, text + start, len - start, out))) return st;
    if (add && v->model == TOK_MODEL_WPM && v->sep != TOK_NULL) return tok_ids_push(out, v->sep);
    if (add && v->add_eos && v->eos != TOK_NULL) return tok_ids_push(out, v->eos);
    return SV_OK;
}
