/* SentencePiece-style BPE (llama.cpp's SPM tokenizer): spaces become U+2581,
 * the text is cut into characters, and adjacent symbols whose concatenation
 * is a token merge, highest token score first (leftmost on ties). Characters
 * that never form a token fall back to <0xXX> byte tokens. */
#include <stdlib.h>
#include <string.h>

#include "base/checked.h"
#include "text/tok_impl.h"

typedef struct {
    const char *text;
    size_t n;
    tok_id id;
    int prev, next;
} sym;

typedef struct {
    float score;
    int left, right;
    size_t size;
} cand;

typedef struct {
    sym *syms;
    cand *heap;
    size_t n_heap;
} spm_state;

static bool cand_better(const cand *a, const cand *b) {
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static void heap_push(spm_state *s, cand c) {
    size_t i = s->n_heap++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!cand_better(&c, &s->heap[p])) break;
        s->heap[i] = s->heap[p];
        i = p;
    }
    s->heap[i] = c;
}

static cand heap_pop(spm_state *s) {
    cand top = s->heap[0], last = s->heap[--s->n_heap];
    size_t i = 0, n = s->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && cand_better(&s->heap[c + 1], &s->heap[c])) c++;
        if (!cand_better(&s->heap[c], &last)) break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (n) s->heap[i] = last;
    return top;
}

static void try_pair(const tok_vocab *v, spm_state *s, int l, int r) {
    if (l < 0 || r < 0) return;
    /* Symbols are contiguous in the text, so their union starts at the left one. */
    size_t size = s->syms[l].n + s->syms[r].n;
    tok_id id = tok__find(v, s->syms[l].text, size);
    if (id == TOK_NULL) return;
    heap_push(s, (cand){v->scores[id], l, r, size});
}

static sv_status emit(const tok_vocab *v, const sym *y, tok_ids *out) {
    if (y->id != TOK_NULL) return tok_ids_push(out, y->id);
    bool bytes = true;
    for (size_t j = 0; j < y->n; j++) bytes &= v->byte_tok[(uint8_t)y->text[j]] != TOK_NULL;
    if (!bytes) return v->unk != TOK_NULL ? tok_ids_push(out, v->unk) : SV_OK;
    sv_status st = SV_OK;
    for (size_t j = 0; j < y->n && !st; j++) st = tok_ids_push(out, v->byte_tok[(uint8_t)y->text[j]]);
    return st;
}

sv_status tok__spm_encode(const tok_vocab *v, const char *text, size_t len, bool prefix_space, tok_ids *out) {
    size_t cap;
    if (sv_mul_size(len + 1, 3, &cap)) return sv_error(SV_ERR_LIMIT, "text of %zu bytes", len);
    char *esc = malloc(cap);
    spm_state s = {0};
    sv_status st = SV_OK;
    size_t n = 0;
    if (esc) {
        if (prefix_space) memcpy(esc + n, "\xE2\x96\x81", 3), n += 3;
        for (size_t i = 0; i < len; i++) {
            if (text[i] == ' ') memcpy(esc + n, "\xE2\x96\x81", 3), n += 3;
            else esc[n++] = text[i];
        }
        /* Invalid UTF-8 can split an escaped space, so symbols are bounded
         * by bytes, not characters; the heap holds at most 3 per symbol. */
        s.syms = malloc((n + 1) * sizeof *s.syms);
        s.heap = malloc(3 * (n + 1) * sizeof *s.heap);
    }
    if (!esc || !s.syms || !s.heap) {
        st = sv_error(SV_ERR_NOMEM, "SPM buffers for %zu bytes", len);
        goto done;
    }
    int ns = 0;
    for (size_t off = 0; off < n;) {
        size_t k = (size_t)tok__utf8_len((uint8_t)esc[off]);
        if (k > n - off) k = n - off;
        s.syms[ns] = (sym){esc + off, k, tok__find(v, esc + off, k), ns - 1, off + k < n ? ns + 1 : -1};
        ns++;
        off += k;
    }
    for (int i = 1; i < ns; i++) try_pair(v, &s, i - 1, i);
    while (s.n_heap) {
        cand c = heap_pop(&s);
        sym *l = &s.syms[c.left], *r = &s.syms[c.right];
        if (l->n == 0 || r->n == 0 || l->next != c.right || l->n + r->n != c.size) continue;
        l->n += r->n;
        l->id = tok__find(v, l->text, l->n);
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) s.syms[r->next].prev = c.left;
        try_pair(v, &s, l->prev, c.left);
        try_pair(v, &s, c.left, l->next);
    }
    for (int i = ns ? 0 : -1; i >= 0 && !st; i = s.syms[i].next) st = emit(v, &s.syms[i], out);
done:
    free(esc);
    free(s.syms);
    free(s.heap);
    return st;
}
