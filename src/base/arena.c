#include "base/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct sv_arena_block {
    sv_arena_block *next;
    size_t cap;
    size_t off;
    _Alignas(16) unsigned char data[];
};

void sv_arena_init(sv_arena *a, size_t block_size) {
    a->head = NULL;
    a->block_size = block_size ? block_size : 64 * 1024;
    a->used = 0;
}

void *sv_arena_alloc(sv_arena *a, size_t size) {
    size_t need = (size + 15) & ~(size_t)15;
    if (need < size) return NULL;
    sv_arena_block *b = a->head;
    if (!b || b->cap - b->off < need) {
        size_t cap = need > a->block_size ? need : a->block_size;
        if (cap > SIZE_MAX - sizeof *b) return NULL;
        b = malloc(sizeof *b + cap);
        if (!b) return NULL;
        b->cap = cap;
        b->off = 0;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->off;
    b->off += need;
    a->used += need;
    memset(p, 0, size);
    return p;
}

char *sv_arena_strdup(sv_arena *a, const char *s, size_t len) {
    if (len == SIZE_MAX) return NULL;
    char *p = sv_arena_alloc(a, len + 1);
    if (!p) return NULL;
    memcpy(p, s, len);
    p[len] = 0;
    return p;
}

void sv_arena_reset(sv_arena *a) {
    sv_arena_block *b = a->head;
    if (!b) return;
    /* Keep the oldest (first) block, which is usually the reserve size. */
    while (b->next) {
        sv_arena_block *next = b->next;
        free(b);
        b = next;
    }
    b->off = 0;
    a->head = b;
    a->used = 0;
}

void sv_arena_free(sv_arena *a) {
    sv_arena_block *b = a->head;
    while (b) {
        sv_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->used = 0;
}
