/* WordPiece (BERT): NFD, lower case, accents removed, words split at
 * whitespace and around punctuation and CJK ideographs; each word (with the
 * U+2581 marker llama.cpp's converter gives word-initial pieces) is cut
 * greedily into the longest vocabulary pieces, or becomes [UNK] as a whole. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "base/checked.h"
#include "text/tok_impl.h"

static bool is_cjk(uint32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
           (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

static bool is_space(uint32_t c, utf8proc_category_t cat) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || cat == UTF8PROC_CATEGORY_ZS;
}

static bool is_punct(uint32_t c, utf8proc_category_t cat) {
    if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
    return cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_PO;
}

/* Greedy longest-match of one word ("\u2581" + word in w[0..n)). */
static sv_status emit_word(const tok_vocab *v, const char *w, size_t n, tok_ids *out) {
    size_t n0 = out->n;
    sv_status st;
    for (size_t i = 0; i < n;) {
        size_t j = n - i > v->max_token_len ? i + v->max_token_len : n;
        tok_id id = TOK_NULL;
        for (; j > i; j--)
            if ((id = tok__find(v, w + i, j - i)) != TOK_NULL) break;
        if (id == TOK_NULL) {
            out->n = n0;
            return v->unk != TOK_NULL ? tok_ids_push(out, v->unk) : SV_OK;
        }
        if ((st = tok_ids_push(out, id))) return st;
        i = j;
    }
    return SV_OK;
}

sv_status tok__wpm_encode(const tok_vocab *v, const char *text, size_t len, tok_ids *out) {
    utf8proc_uint8_t *nfd = NULL;
    utf8proc_ssize_t nn = utf8proc_map((const utf8proc_uint8_t *)text, (utf8proc_ssize_t)len, &nfd,
                                       UTF8PROC_STABLE | UTF8PROC_DECOMPOSE);
    if (nn < 0) {
        /* Not valid UTF-8: what can be read of it is unknown. */
        return len && v->unk != TOK_NULL ? tok_ids_push(out, v->unk) : SV_OK;
    }
    size_t cap;
    sv_status st = SV_OK;
    if (sv_mul_size((size_t)nn + 1, 4, &cap)) {
        free(nfd);
        return sv_error(SV_ERR_LIMIT, "text of %zu bytes", len);
    }
    char *w = malloc(cap + 3);
    if (!w) {
        free(nfd);
        return sv_error(SV_ERR_NOMEM, "WordPiece buffer");
    }
    memcpy(w, "\xE2\x96\x81", 3);
    size_t wn = 3;
    for (utf8proc_ssize_t i = 0; i < nn && !st;) {
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate(nfd + i, nn - i, &c);
        if (k <= 0) break;
        i += k;
        utf8proc_category_t cat = utf8proc_category(c);
        uint32_t cp = (uint32_t)c;
        bool sp = is_space(cp, cat);
        if (sp || cp == 0 || cp == 0xFFFD || cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF ||
            cat == UTF8PROC_CATEGORY_MN) {
            if (sp && wn > 3) {
                st = emit_word(v, w, wn, out);
                wn = 3;
            }
            continue;
        }
        char u[4];
        int ul = tok__utf8_encode((uint32_t)utf8proc_tolower(c), u);
        if (is_punct(cp, cat) || is_cjk(cp)) {
            if (wn > 3 && (st = emit_word(v, w, wn, out))) break;
            memcpy(w + 3, u, (size_t)ul);
            st = emit_word(v, w, 3 + (size_t)ul, out);
            wn = 3;
        } else {
            memcpy(w + wn, u, (size_t)ul);
            wn += (size_t)ul;
        }
    }
    if (!st && wn > 3) st = emit_word(v, w, wn, out);
    free(w);
    free(nfd);
    return st;
}
