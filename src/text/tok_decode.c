/* Ids back to text: whole sequences and a streaming detokenizer that holds
 * back incomplete UTF-8 characters. */
#include <stdlib.h>
#include <string.h>

#include "base/checked.h"
#include "text/tok_impl.h"

static bool strips_prefix(const tok_vocab *v, unsigned flags) {
    return (flags & TOK_DECODE_STRIP_PREFIX) &&
           ((v->model == TOK_MODEL_SPM && v->add_space_prefix) || v->model == TOK_MODEL_WPM);
}

sv_status tok_decode(const tok_vocab *v, const tok_id *ids, size_t n, unsigned flags, char **text, size_t *len) {
    *text = NULL;
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        if (sv_add_size(total, tok_token_to_piece(v, ids[i], flags, NULL, 0), &total))
            return sv_error(SV_ERR_LIMIT, "decoded text too long");
    char *out = malloc(total + 1);
    if (!out) return sv_error(SV_ERR_NOMEM, "decoded text of %zu bytes", total);
    size_t at = 0;
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        size_t k = tok_token_to_piece(v, ids[i], flags, out + at, total - at);
        if (k == 0) continue;
        if (first && out[at] == ' ' && strips_prefix(v, flags)) {
            memmove(out + at, out + at + 1, k - 1);
            k--;
        }
        first = false;
        at += k;
    }
    out[at] = 0;
    *text = out;
    if (len) *len = at;
    return SV_OK;
}

void tok_detok_stream_init(tok_detok_stream *s, const tok_vocab *v, unsigned flags) {
    memset(s, 0, sizeof *s);
    s->vocab = v;
    s->flags = flags;
}

/* Bytes at the end of b[0..n) that start a character still missing bytes. */
static size_t incomplete_tail(const uint8_t *b, size_t n) {
    for (size_t back = 1; back <= 3 && back <= n; back++) {
        uint8_t c = b[n - back];
        if ((c & 0xC0) == 0x80) continue; /* continuation byte: look further back */
        if (c < 0x80) return 0;
        size_t want = (size_t)tok__utf8_len(c);
        /* A lone invalid lead byte (want 1) never completes. */
        return want > back ? back : 0;
    }
    return 0;
}

sv_status tok_detok_stream_push(tok_detok_stream *s, tok_id id, const char **text, size_t *len) {
    *text = "";
    *len = 0;
    size_t k = tok_token_to_piece(s->vocab, id, s->flags, NULL, 0);
    size_t need = (size_t)s->n_held + k;
    if (need > s->cap) {
        size_t cap = need < 64 ? 64 : need * 2;
        char *b = realloc(s->buf, cap);
        if (!b) return sv_error(SV_ERR_NOMEM, "detokenizer buffer of %zu bytes", cap);
        s->buf = b;
        s->cap = cap;
    }
    memcpy(s->buf, s->held, (size_t)s->n_held);
    tok_token_to_piece(s->vocab, id, s->flags, s->buf + s->n_held, k);
    char *p = s->buf;
    if (!s->started && k > 0) {
        s->started = true;
        if (p[s->n_held] == ' ' && s->n_held == 0 && strips_prefix(s->vocab, s->flags)) p++, need--;
    }
    size_t tail = incomplete_tail((const uint8_t *)p, need);
    memcpy(s->held, p + need - tail, tail);
    s->n_held = (int)tail;
    *text = p;
    *len = need - tail;
    return SV_OK;
}

void tok_detok_stream_flush(tok_detok_stream *s, const char **text, size_t *len) {
    /* held[] is returned through buf so that it survives the reset. */
    size_t n = (size_t)s->n_held;
    if (n && s->cap >= n) memcpy(s->buf, s->held, n);
    *text = n && s->cap >= n ? s->buf : "";
    *len = n && s->cap >= n ? n : 0;
    s->n_held = 0;
    s->started = false;
}

void tok_detok_stream_free(tok_detok_stream *s) {
    free(s->buf);
    s->buf = NULL;
    s->cap = 0;
    s->n_held = 0;
}
