/* Byte-level BPE: pre-tokenize, map bytes to GPT-2's printable characters,
 * then merge adjacent symbols by merge rank (lowest first, leftmost on ties)
 * with a binary heap. Words seen before come from a bounded cache. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "base/hash.h"
#include "text/tok_impl.h"

enum { CACHE_SLOTS = 8192, CACHE_MAX_WORD = 64 };

typedef struct {
    uint64_t hash;
    uint16_t wlen, n; /* n == 0: empty slot */
    char word[CACHE_MAX_WORD];
    tok_id *ids;
} cache_entry;

struct tok__cache {
    pthread_mutex_t mu;
    cache_entry e[CACHE_SLOTS];
};

/* ---- merge map ---- */

static uint64_t pair_key(tok_id l, tok_id r) { return (((uint64_t)(uint32_t)l << 32) | (uint32_t)r) + 1; }

static size_t pair_slot(uint64_t key, size_t mask) {
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    return (size_t)(h ^ (h >> 29)) & mask;
}

static const tok__merge *merge_find(const tok__mergemap *m, tok_id l, tok_id r) {
    if (!m->slots) return NULL;
    uint64_t key = pair_key(l, r);
    for (size_t i = pair_slot(key, m->mask);; i = (i + 1) & m->mask) {
        if (m->slots[i].key == key) return &m->slots[i];
        if (m->slots[i].key == 0) return NULL;
    }
}

sv_status tok__bpe_init(tok_vocab *v, size_t n_merges, const char *const *merges) {
    sv_status st = tok__pretok_new(v->pre, &v->pretok);
    if (st) return st;
    v->cache = calloc(1, sizeof *v->cache);
    if (!v->cache) return sv_error(SV_ERR_NOMEM, "BPE cache");
    pthread_mutex_init(&v->cache->mu, NULL);
    size_t cap = 16;
    while (cap < n_merges * 2) cap <<= 1;
    v->merges.slots = calloc(cap, sizeof *v->merges.slots);
    if (!v->merges.slots) return sv_error(SV_ERR_NOMEM, "merge table of %zu slots", cap);
    v->merges.mask = cap - 1;
    char *both = malloc(2 * v->max_token_len + 2);
    if (!both) return sv_error(SV_ERR_NOMEM, "merge parsing");
    for (size_t i = 0; i < n_merges; i++) {
        const char *m = merges[i];
        /* The separator is the first space after the first character. */
        const char *sp = m[0] ? strchr(m + 1, ' ') : NULL;
        if (!sp) {
            free(both);
            return sv_error(SV_ERR_FORMAT, "merge %zu ('%s') has no space", i, m);
        }
        size_t ll = (size_t)(sp - m), rl = strlen(sp + 1);
        tok_id l = tok__find(v, m, ll), r = tok__find(v, sp + 1, rl);
        if (l == TOK_NULL || r == TOK_NULL || ll + rl > 2 * v->max_token_len) continue;
        memcpy(both, m, ll);
        memcpy(both + ll, sp + 1, rl);
        tok_id merged = tok__find(v, both, ll + rl);
        if (merged == TOK_NULL) continue;
        uint64_t key = pair_key(l, r);
        size_t s = pair_slot(key, v->merges.mask);
        while (v->merges.slots[s].key != 0 && v->merges.slots[s].key != key) s = (s + 1) & v->merges.mask;
        /* A repeated pair keeps its first (best) rank. */
        if (v->merges.slots[s].key == key) continue;
        v->merges.slots[s] = (tok__merge){key, (int32_t)i, merged};
    }
    free(both);
    return SV_OK;
}

void tok__bpe_free(tok_vocab *v) {
    tok__pretok_free(v->pretok);
    free(v->merges.slots);
    if (v->cache) {
        for (size_t i = 0; i < CACHE_SLOTS; i++) free(v->cache->e[i].ids);
        pthread_mutex_destroy(&v->cache->mu);
        free(v->cache);
    }
}

/* ---- merging one word ---- */

typedef struct {
    tok_id id;
    int prev, next;
} sym;

typedef struct {
    int32_t rank;
    int left, right;
    tok_id lid, rid;
} cand;

typedef struct {
    const tok_vocab *v;
    tok_ids *out;
    sym *syms;
    cand *heap;
    size_t cap;     /* capacity of syms and heap (symbols of the longest word so far) */
    size_t n_heap;
    char *mapped;   /* word in byte-level characters (ignore_merges lookup) */
    char *norm;     /* NFC output of the current text */
} bpe_state;

static bool cand_less(const cand *a, const cand *b) {
    return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

static void heap_push(bpe_state *s, cand c) {
    size_t i = s->n_heap++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!cand_less(&c, &s->heap[p])) break;
        s->heap[i] = s->heap[p];
        i = p;
    }
    s->heap[i] = c;
}

static cand heap_pop(bpe_state *s) {
    cand top = s->heap[0], last = s->heap[--s->n_heap];
    size_t i = 0, n = s->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && cand_less(&s->heap[c + 1], &s->heap[c])) c++;
        if (!cand_less(&s->heap[c], &last)) break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (n) s->heap[i] = last;
    return top;
}

static void try_pair(bpe_state *s, int l, int r) {
    if (l < 0 || r < 0) return;
    const tok__merge *m = merge_find(&s->v->merges, s->syms[l].id, s->syms[r].id);
    if (m) heap_push(s, (cand){m->rank, l, r, s->syms[l].id, s->syms[r].id});
}

static sv_status reserve(bpe_state *s, size_t n) {
    if (n <= s->cap) return SV_OK;
    size_t cap = s->cap ? s->cap : 64;
    while (cap < n) cap *= 2;
    sym *a = realloc(s->syms, cap * sizeof *a);
    if (a) s->syms = a;
    /* At most 3 candidates per symbol are alive at once: initial pairs plus two per merge. */
    cand *h = realloc(s->heap, 3 * cap * sizeof *h);
    if (h) s->heap = h;
    char *m = realloc(s->mapped, 2 * cap + 1);
    if (m) s->mapped = m;
    if (!a || !h || !m) return sv_error(SV_ERR_NOMEM, "BPE word of %zu bytes", n);
    s->cap = cap;
    return SV_OK;
}

static sv_status merge_word(bpe_state *s, const uint8_t *w, size_t len, tok_ids *res) {
    const tok_vocab *v = s->v;
    sv_status st = reserve(s, len);
    if (st) return st;
    if (v->ignore_merges) {
        size_t m = 0;
        for (size_t i = 0; i < len; i++) m += (size_t)tok__utf8_encode(tok__byte_to_cp(w[i]), s->mapped + m);
        tok_id whole = tok__find(v, s->mapped, m);
        if (whole != TOK_NULL) return tok_ids_push(res, whole);
    }
    for (size_t i = 0; i < len; i++)
        s->syms[i] = (sym){v->byte_tok[w[i]], (int)i - 1, i + 1 < len ? (int)i + 1 : -1};
    s->n_heap = 0;
    for (size_t i = 1; i < len; i++) try_pair(s, (int)i - 1, (int)i);
    while (s->n_heap) {
        cand c = heap_pop(s);
        sym *l = &s->syms[c.left], *r = &s->syms[c.right];
        /* Stale when either side has merged since the pair was queued. */
        if (l->id != c.lid || r->id != c.rid || l->next != c.right || r->id == TOK_NULL) continue;
        l->id = merge_find(&v->merges, c.lid, c.rid)->merged;
        l->next = r->next;
        if (r->next >= 0) s->syms[r->next].prev = c.left;
        r->id = TOK_NULL;
        r->next = r->prev = -1;
        try_pair(s, l->prev, c.left);
        try_pair(s, c.left, l->next);
    }
    for (int i = 0; i >= 0; i = s->syms[i].next)
        if (s->syms[i].id != TOK_NULL && (st = tok_ids_push(res, s->syms[i].id))) return st;
    return SV_OK;
}

static sv_status encode_piece(void *ctx, const char *piece, size_t len) {
    bpe_state *s = ctx;
    tok__cache *c = s->v->cache;
    uint64_t h = 0;
    cache_entry *e = NULL;
    if (len <= CACHE_MAX_WORD) {
        h = sv_xxh64(piece, len, 0);
        e = &c->e[h % CACHE_SLOTS];
        pthread_mutex_lock(&c->mu);
        bool hit = e->n && e->hash == h && e->wlen == len && memcmp(e->word, piece, len) == 0;
        sv_status st = SV_OK;
        for (size_t i = 0; hit && i < e->n && !st; i++) st = tok_ids_push(s->out, e->ids[i]);
        pthread_mutex_unlock(&c->mu);
        if (hit) return st;
    }
    size_t n0 = s->out->n;
    sv_status st = merge_word(s, (const uint8_t *)piece, len, s->out);
    size_t n = s->out->n - n0;
    if (st || !e || n == 0 || n > UINT16_MAX) return st;
    tok_id *ids = malloc(n * sizeof *ids);
    if (!ids) return SV_OK; /* caching is optional */
    memcpy(ids, s->out->ids + n0, n * sizeof *ids);
    pthread_mutex_lock(&c->mu);
    free(e->ids);
    e->ids = ids;
    e->hash = h;
    e->wlen = (uint16_t)len;
    e->n = (uint16_t)n;
    memcpy(e->word, piece, len);
    pthread_mutex_unlock(&c->mu);
    return SV_OK;
}

/* NFC through utf8proc; text that is not valid UTF-8 is left as it is. */
static const char *nfc(bpe_state *s, const char *text, size_t *len) {
    utf8proc_uint8_t *outp = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)text, (utf8proc_ssize_t)*len, &outp,
                                      UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    if (n < 0) return text;
    s->norm = (char *)outp;
    *len = (size_t)n;
    return s->norm;
}

sv_status tok__bpe_encode(const tok_vocab *v, const char *text, size_t len, tok_ids *out) {
    bpe_state s = {.v = v, .out = out};
    if (v->nfc) text = nfc(&s, text, &len);
    sv_status st = tok__pretok_split(v->pretok, text, len, encode_piece, &s);
    free(s.syms);
    free(s.heap);
    free(s.mapped);
    free(s.norm);
    return st;
}
