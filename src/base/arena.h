/* Bump allocator: many small allocations freed together. */
#ifndef SV_ARENA_H
#define SV_ARENA_H

#include <stddef.h>

typedef struct sv_arena_block sv_arena_block;

typedef struct {
    sv_arena_block *head;
    size_t block_size; /* default size of a new block */
    size_t used;       /* bytes handed out since the last reset */
} sv_arena;

void sv_arena_init(sv_arena *a, size_t block_size);
/* 16-byte aligned, zeroed memory; NULL when out of memory. */
void *sv_arena_alloc(sv_arena *a, size_t size);
char *sv_arena_strdup(sv_arena *a, const char *s, size_t len);
/* Forgets all allocations but keeps the first block for reuse. */
void sv_arena_reset(sv_arena *a);
void sv_arena_free(sv_arena *a);

#endif
