/* The sampler's own PRNG: splitmix64 seeding xoshiro256**, integer-only so the
 * same seed yields the same stream on every platform and libc. */
#ifndef SAMPLE_RNG_H
#define SAMPLE_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
} sample_rng;

/* Advances *state and returns the next splitmix64 output. */
static inline uint64_t sample_splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Fills the xoshiro state from splitmix64 so that every seed, 0 included,
 * gives a state that is not all zero. */
static inline void sample_rng_seed(sample_rng *r, uint64_t seed) {
    uint64_t st = seed;
    for (int i = 0; i < 4; i++) r->s[i] = sample_splitmix64(&st);
}

static inline uint64_t sample_rng_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t sample_rng_next(sample_rng *r) {
    uint64_t *s = r->s;
    uint64_t out = sample_rng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = sample_rng_rotl(s[3], 45);
    return out;
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double sample_rng_uniform(sample_rng *r) {
    return (double)(sample_rng_next(r) >> 11) * 0x1.0p-53;
}

#endif
