/* The sampling steps over candidate arrays. Orders are total (ties broken by
 * id) so results never depend on the sort algorithm or the platform. */
#include "sample/sample_ops.h"

#include "sample/sample_vec.h"

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

/* Moves to a[0..m) the m smallest entries by (key, id), for the least m
 * whose p sum to >= target (n when none), raised to min_keep; their order is
 * unspecified. A quickselect that steers by mass instead of by count: each
 * partition sums the smaller side and keeps the side holding the boundary, so
 * the cost is O(n) expected whatever the size of the nucleus, and nothing is
 * sorted but the last few dozen entries. a[0..hint) must hold the hint
 * smallest entries (any order; 0: no hint): the search starts there. */
static size_t select_mass(sample_cand *a, size_t n, size_t hint, double target, size_t min_keep) {
    double cum = 0.0; /* mass of a[0..lo), the lo smallest entries */
    size_t lo = 0, hi = hint > 0 && hint < n ? hint : n, m = n;
    int budget = 64;
    for (;;) {
        if (hi - lo <= 32 || --budget == 0) {
            heap_sort(a + lo, hi - lo);
            for (; lo < hi; lo++)
                if ((cum += a[lo].p) >= target) break;
            if (lo < hi) {
                m = lo + 1;
                break;
            }
            if (hi == n) break;
            /* Rounding: the sums said the boundary was inside [lo, hi), the
             * running sum disagrees; everything past hi is larger, go on. */
            hi = n;
            budget = 64;
            continue;
        }
        size_t mid = lo + (hi - lo) / 2, last = hi - 1;
        if (cand_lt(&a[mid], &a[lo])) cand_swap(&a[mid], &a[lo]);
        if (cand_lt(&a[last], &a[lo])) cand_swap(&a[last], &a[lo]);
        if (cand_lt(&a[last], &a[mid])) cand_swap(&a[last], &a[mid]);
        cand_swap(&a[mid], &a[last]);
        const sample_cand pivot = a[last];
        size_t s = lo;
        double left = 0.0;
        for (size_t i = lo; i < last; i++)
            if (cand_lt(&a[i], &pivot)) {
                left += a[i].p;
                cand_swap(&a[i], &a[s++]);
            }
        cand_swap(&a[s], &a[last]);
        if (cum + left >= target) {
            hi = s;
        } else if (cum + left + a[s].p >= target) {
            m = s + 1;
            break;
        } else {
            cum += left + a[s].p;
            lo = s + 1;
        }
    }
    if (m < min_keep) {
        select_first(a, n, min_keep);
        m = min_keep;
    }
    return m;
}

static void keys_from_logits(sample_cands *c) {
    for (size_t i = 0; i < c->n; i++) c->data[i].key = -c->data[i].logit;
}

/* Largest logit of the candidates (-INFINITY when none). */
static float max_logit(const sample_cands *c) {
    const sample_cand *d = c->data;
    size_t i = 0;
    float mx = -INFINITY;
#if SAMPLE_VEC
    sample_v4f m4 = sample_v4f_splat(-INFINITY);
    for (; i + 4 <= c->n; i += 4) {
        const sample_v4f x = {d[i].logit, d[i + 1].logit, d[i + 2].logit, d[i + 3].logit};
        m4 = sample_v4f_max(m4, x);
    }
    for (int k = 0; k < 4; k++) mx = m4[k] > mx ? m4[k] : mx;
#endif
    for (; i < c->n; i++) mx = d[i].logit > mx ? d[i].logit : mx;
    return mx;
}

/* Softmax; returns the normaliser sum(e^(l - mx)) and sets *mx_out. */
static double softmax_z(sample_cands *c, float *mx_out) {
    sample_cand *d = c->data;
    const float mx = max_logit(c);
    *mx_out = mx;
    /* Partial sums of 64 terms (each <= 1) in float, in a fixed order, then
     * added up in double. */
    double sum = 0.0;
    size_t i = 0;
#if SAMPLE_VEC
    const sample_v4f m4 = sample_v4f_splat(mx);
    while (i + 64 <= c->n) {
        sample_v4f acc = sample_v4f_splat(0.0f);
        for (size_t end = i + 64; i < end; i += 4) {
            const sample_v4f x = {d[i].logit, d[i + 1].logit, d[i + 2].logit, d[i + 3].logit};
            const sample_v4f e = sample_v4f_exp_nonpos(x - m4);
            d[i].p = e[0];
            d[i + 1].p = e[1];
            d[i + 2].p = e[2];
            d[i + 3].p = e[3];
            acc += e;
        }
        sum += (double)((acc[0] + acc[1]) + (acc[2] + acc[3]));
    }
#endif
    float part = 0.0f;
    for (; i < c->n; i++) {
        d[i].p = sample_exp_nonpos(d[i].logit - mx);
        part += d[i].p;
    }
    sum += part;
    const float inv = (float)(1.0 / sum);
    for (i = 0; i < c->n; i++) d[i].p *= inv;
    return sum;
}

void sample_softmax(sample_cands *c) {
    float mx;
    (void)softmax_z(c, &mx);
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
    /* Move the likely tokens to the front in rounds (logit >= max - 9.2,
     * i.e. p >= 1e-4 p_max, then 1e-8, ...) until their mass reaches p: the
     * nucleus lies among them, so the search starts there: a peaked
     * distribution then looks at a few dozen tokens, not the vocabulary. */
    const float mx = max_logit(c);
    size_t front = 0;
    double mass = 0.0;
    for (float thr = mx - 9.2f; front < c->n && (mass < p || front < min_keep); thr -= 9.2f) {
        for (size_t i = front; i < c->n; i++)
            if (c->data[i].logit >= thr) {
                mass += c->data[i].p;
                cand_swap(&c->data[i], &c->data[front++]);
            }
        if (thr < -FLT_MAX) front = c->n;
    }
    keys_from_logits(c);
    c->n = select_mass(c->data, c->n, front, p, min_keep);
}

void sample_min_p(sample_cands *c, float p, size_t min_keep) {
    if (min_keep < 1) min_keep = 1;
    if (p <= 0.0f || c->n <= min_keep) return;
    const float thr = max_logit(c) + logf(p);
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
    float mx;
    const double z = softmax_z(c, &mx);
    /* -log p_i = mx + log z - l_i: no logarithm per token. */
    const double nl0 = (double)mx + log(z);
    double h = 0.0;
    for (size_t i = 0; i < c->n; i++)
        if (c->data[i].p > 0.0f) h += (double)c->data[i].p * (nl0 - c->data[i].logit);
    const float shift = (float)(nl0 - h);
    for (size_t i = 0; i < c->n; i++)
        c->data[i].key = c->data[i].p > 0.0f ? fabsf(shift - c->data[i].logit) : INFINITY;
    c->n = select_mass(c->data, c->n, 0, p, min_keep);
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

/* The heap keeps the k best seen so far with the worst at its root (key =
 * -logit, max-heap): a new entry enters only when strictly above the worst
 * logit, since it has the higher id and so loses a tie. Skipped ids are
 * looked up only on that rare path. */
static inline float clamp_inf(float v) { return v > FLT_MAX ? FLT_MAX : v; }

size_t sample_top_k_scan(const float *x, size_t n, size_t k, const uint32_t *skip, sample_cand *out) {
    size_t h = 0, i = 0;
    for (; i < n && h < k; i++) {
        if (!(x[i] > -INFINITY) || (skip && skip[i])) continue;
        const float v = clamp_inf(x[i]);
        out[h] = (sample_cand){.id = (int32_t)i, .logit = v, .key = -v};
        heap_sift_up(out, h++);
    }
    if (h == k) {
        float thr = -out[0].key;
        while (i < n) {
            /* The raw block test lets +INFINITY through to the exact test
             * below, which compares the clamped value. */
            if (i + SAMPLE_SCAN_BLOCK <= n && !sample_block_any_gt(x + i, thr)) {
                i += SAMPLE_SCAN_BLOCK;
                continue;
            }
            size_t end = i + SAMPLE_SCAN_BLOCK <= n ? i + SAMPLE_SCAN_BLOCK : n;
            for (; i < end; i++) {
                const float v = clamp_inf(x[i]);
                if (v > thr && !(skip && skip[i])) {
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

size_t sample_collect_at_least(const float *x, size_t n, float thr, const uint32_t *skip, sample_cand *out) {
    /* x > the float just below thr is x >= thr, the form the block test has. */
    const float below = nextafterf(thr, -INFINITY);
    size_t m = 0, i = 0;
    while (i < n) {
        if (i + SAMPLE_SCAN_BLOCK <= n && !sample_block_any_gt(x + i, below)) {
            i += SAMPLE_SCAN_BLOCK;
            continue;
        }
        size_t end = i + SAMPLE_SCAN_BLOCK <= n ? i + SAMPLE_SCAN_BLOCK : n;
        for (; i < end; i++) {
            const float v = clamp_inf(x[i]);
            if (v >= thr && v > -INFINITY && !(skip && skip[i])) out[m++] = (sample_cand){.id = (int32_t)i, .logit = v};
        }
    }
    return m;
}

float sample_penalize(float logit, int32_t count, float repeat, float freq, float present) {
    float l = logit <= 0.0f ? logit * repeat : logit / repeat;
    l -= (float)count * freq + present;
    if (l != l) return -INFINITY;
    return clamp_inf(l);
}
