/* The sampling steps over candidate arrays. Orders are total (ties broken by
 * id) so results never depend on the sort algorithm or the platform. */
#include "sample/sample_ops.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* (key, id) ascending is the one order every partial sort below uses. */
static inline bool cand_lt(const sample_cand *a, const sample_cand *b) {
    return a->key < b->key || (a->key == b->key && a->id < b->id);
}

static inline void cand_swap(sample_cand *a, sample_cand *b) {
    sample_cand t = *a;
    *a = *b;
    *b = t;
}

/* Max-heap sift-down on a[0..n) by (key, id). */
static void heap_sift_down(sample_cand *a, size_t n, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, big = i;
        if (l < n && cand_lt(&a[big], &a[l])) big = l;
        if (l + 1 < n && cand_lt(&a[big], &a[l + 1])) big = l + 1;
        if (big == i) return;
        cand_swap(&a[i], &a[big]);
        i = big;
    }
}

static void heap_sift_up(sample_cand *a, size_t i) {
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!cand_lt(&a[parent], &a[i])) return;
        cand_swap(&a[parent], &a[i]);
        i = parent;
    }
}

/* Ascending by (key, id). */
static void heap_sort(sample_cand *a, size_t n) {
    if (n < 2) return;
    for (size_t i = n / 2; i-- > 0;) heap_sift_down(a, n, i);
    for (size_t end = n - 1; end > 0; end--) {
        cand_swap(&a[0], &a[end]);
        heap_sift_down(a, end, 0);
    }
}

/* Rearranges a[0..n) so that its m smallest by (key, id) come first, in no
 * particular order. Quickselect with a median-of-three pivot; a depth budget
 * falls back to heapsort so that no input makes it quadratic. */
static void select_first(sample_cand *a, size_t n, size_t m) {
    if (m == 0 || m >= n) return;
    size_t lo = 0, hi = n - 1, k = m - 1;
    int budget = 64;
    while (hi > lo) {
        if (--budget == 0) {
            heap_sort(a + lo, hi - lo + 1);
            return;
        }
        size_t mid = lo + (hi - lo) / 2;
        if (cand_lt(&a[mid], &a[lo])) cand_swap(&a[mid], &a[lo]);
        if (cand_lt(&a[hi], &a[lo])) cand_swap(&a[hi], &a[lo]);
        if (cand_lt(&a[hi], &a[mid])) cand_swap(&a[hi], &a[mid]);
        cand_swap(&a[mid], &a[hi]);
        const sample_cand pivot = a[hi];
        size_t store = lo;
        for (size_t i = lo; i < hi; i++)
            if (cand_lt(&a[i], &pivot)) cand_swap(&a[i], &a[store++]);
        cand_swap(&a[store], &a[hi]);
        if (store == k) return;
        if (k < store) hi = store - 1;
        else lo = store + 1;
    }
}

/* Orders a[0..n) by (key, id) only as far as needed: the smallest prefix
 * whose p sum to >= target with at least min_keep entries. Returns its length
 * (n when the target is never reached); that prefix is sorted. Chunks grow
 * geometrically, so a short nucleus costs O(n) and a long one O(n log n). */
static size_t sorted_prefix_until(sample_cand *a, size_t n, double target, size_t min_keep) {
    double cum = 0.0;
    size_t done = 0, chunk = 64;
    while (done < n) {
        size_t m = chunk < n - done ? chunk : n - done;
        select_first(a + done, n - done, m);
        heap_sort(a + done, m);
        for (size_t i = done; i < done + m; i++) {
            cum += a[i].p;
            if (cum >= target && i + 1 >= min_keep) return i + 1;
        }
        done += m;
        if (chunk < n) chunk *= 4;
    }
    return n;
}

static void keys_from_logits(sample_cands *c) {
    for (size_t i = 0; i < c->n; i++) c->data[i].key = -c->data[i].logit;
}

void sample_softmax(sample_cands *c) {
    float mx = -INFINITY;
    for (size_t i = 0; i < c->n; i++)
        if (c->data[i].logit > mx) mx = c->data[i].logit;
    double sum = 0.0;
    for (size_t i = 0; i < c->n; i++) {
        float e = expf(c->data[i].logit - mx);
        c->data[i].p = e;
        sum += e;
    }
    float inv = (float)(1.0 / sum);
    for (size_t i = 0; i < c->n; i++) c->data[i].p *= inv;
}

void sample_sort(sample_cands *c) {
    if (c->sorted) return;
    keys_from_logits(c);
    heap_sort(c->data, c->n);
    c->sorted = true;
}

void sample_top_k(sample_cands *c, size_t k) {
    if (k == 0 || k >= c->n) return;
    if (!c->sorted) {
        keys_from_logits(c);
        select_first(c->data, c->n, k);
        heap_sort(c->data, k);
        c->sorted = true;
    }
    c->n = k;
}

void sample_top_p(sample_cands *c, float p, size_t min_keep) {
    if (min_keep < 1) min_keep = 1;
    if (p >= 1.0f || c->n <= min_keep) return;
    sample_softmax(c);
    if (c->sorted) {
        double cum = 0.0;
        for (size_t i = 0; i < c->n; i++) {
            cum += c->data[i].p;
            if (cum >= p && i + 1 >= min_keep) {
                c->n = i + 1;
                return;
            }
        }
        return;
    }
    keys_from_logits(c);
    c->n = sorted_prefix_until(c->data, c->n, p, min_keep);
    c->sorted = true;
}

void sample_min_p(sample_cands *c, float p, size_t min_keep) {
    if (min_keep < 1) min_keep = 1;
    if (p <= 0.0f || c->n <= min_keep) return;
    float mx = -INFINITY;
    for (size_t i = 0; i < c->n; i++)
        if (c->data[i].logit > mx) mx = c->data[i].logit;
    const float thr = mx + logf(p);
    size_t keep = 0;
    for (size_t i = 0; i < c->n; i++) keep += c->data[i].logit >= thr;
    if (keep < min_keep) {
        sample_top_k(c, min_keep);
        return;
    }
    size_t w = 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->data[i].logit >= thr) c->data[w++] = c->data[i];
    c->n = w;
}

void sample_typical(sample_cands *c, float p, size_t min_keep) {
    if (min_keep < 1) min_keep = 1;
    if (p >= 1.0f || c->n <= min_keep) return;
    sample_softmax(c);
    double h = 0.0;
    for (size_t i = 0; i < c->n; i++) {
        float pi = c->data[i].p;
        if (pi > 0.0f) h -= (double)pi * log((double)pi);
    }
    for (size_t i = 0; i < c->n; i++) {
        float pi = c->data[i].p;
        c->data[i].key = pi > 0.0f ? (float)fabs(-log((double)pi) - h) : INFINITY;
    }
    c->n = sorted_prefix_until(c->data, c->n, p, min_keep);
    c->sorted = false;
}

void sample_temp(sample_cands *c, float t) {
    /* Division, not a reciprocal: 1/t overflows for tiny t and 0 * inf is NaN.
     * Clamping keeps the softmax finite (inf - inf) when l / t overflows. */
    for (size_t i = 0; i < c->n; i++) {
        float l = c->data[i].logit / t;
        c->data[i].logit = l > FLT_MAX ? FLT_MAX : l;
    }
}

size_t sample_pick(const sample_cands *c, double u) {
    double total = 0.0;
    for (size_t i = 0; i < c->n; i++) total += c->data[i].p;
    const double target = u * total;
    double cum = 0.0;
    size_t last = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (c->data[i].p <= 0.0f) continue;
        cum += c->data[i].p;
        last = i;
        if (cum > target) return i;
    }
    return last;
}

enum { SCAN_BLOCK = 16 };

/* Whether any of x[0..SCAN_BLOCK) is > thr (false for NaN). Large-vocabulary
 * scans spend almost all their time here, and compilers do not vectorise the
 * plain loop (they keep the per-element branches), so it is written with the
 * GCC/Clang vector extension: four 4-wide compares and ORs on any target. */
#if defined(__GNUC__)
typedef float scan_v4f __attribute__((vector_size(16)));
typedef int32_t scan_v4i __attribute__((vector_size(16)));

static inline bool block_any_gt(const float *x, float thr) {
    scan_v4f a, b, c, d;
    memcpy(&a, x, sizeof a);
    memcpy(&b, x + 4, sizeof b);
    memcpy(&c, x + 8, sizeof c);
    memcpy(&d, x + 12, sizeof d);
    const scan_v4f t = {thr, thr, thr, thr};
    scan_v4i m = (a > t) | (b > t) | (c > t) | (d > t);
    return (m[0] | m[1] | m[2] | m[3]) != 0;
}
#else
static inline bool block_any_gt(const float *x, float thr) {
    int any = 0;
    for (int j = 0; j < SCAN_BLOCK; j++) any |= x[j] > thr;
    return any != 0;
}
#endif

/* The heap keeps the k best seen so far with the worst at its root (key =
 * -logit, max-heap): a new entry enters only when strictly above the worst
 * logit, since it has the higher id and so loses a tie. */
static inline float clamp_inf(float v) { return v > FLT_MAX ? FLT_MAX : v; }

size_t sample_top_k_scan(const float *x, size_t n, size_t k, sample_cand *out) {
    size_t h = 0, i = 0;
    for (; i < n && h < k; i++) {
        if (!(x[i] > -INFINITY)) continue;
        const float v = clamp_inf(x[i]);
        out[h] = (sample_cand){.id = (int32_t)i, .logit = v, .key = -v};
        heap_sift_up(out, h++);
    }
    if (h == k) {
        float thr = -out[0].key;
        while (i < n) {
            /* The raw block test lets +INFINITY through to the exact test
             * below, which compares the clamped value. */
            if (i + SCAN_BLOCK <= n && !block_any_gt(x + i, thr)) {
                i += SCAN_BLOCK;
                continue;
            }
            size_t end = i + SCAN_BLOCK <= n ? i + SCAN_BLOCK : n;
            for (; i < end; i++) {
                const float v = clamp_inf(x[i]);
                if (v > thr) {
                    out[0] = (sample_cand){.id = (int32_t)i, .logit = v, .key = -v};
                    heap_sift_down(out, k, 0);
                    thr = -out[0].key;
                }
            }
        }
    }
    heap_sort(out, h);
    return h;
}

float sample_penalize(float logit, int32_t count, float repeat, float freq, float present) {
    float l = logit <= 0.0f ? logit * repeat : logit / repeat;
    l -= (float)count * freq + present;
    if (l != l) return -INFINITY;
    return clamp_inf(l);
}
