/* Parallel tensor hashing (see the plan in manifest.h). */
#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "base/hash.h"
#include "base/progress.h"
#include "base/threadpool.h"
#include "gguf/gguf_impl.h"
#include "gguf/manifest.h"

/* Chunk fed to every per-tensor hasher in turn while it is cache-hot, and
 * the granularity of progress updates. */
enum { CHUNK = 256 * 1024 };

static const char *const k_names[GGUF_HASH_COUNT] = {"xxh64", "xxh3", "xxh128", "sha1", "sha256", "uuid"};

/* Order in which whole-model streams start, slowest algorithm first. */
static const int k_rank[GGUF_HASH_COUNT] = {3, 4, 5, 1, 0, 2};

/* uuid.uuid5(uuid.NAMESPACE_URL, 'en.wikipedia.org/wiki/Llama.cpp'), the
 * namespace llama-gguf-hash uses for --uuid. */
static const uint8_t k_uuid_ns[16] = {0xef, 0x00, 0x12, 0x06, 0xda, 0xdc, 0x5f, 0x6d,
                                      0xa1, 0x5f, 0x33, 0x59, 0xe5, 0x77, 0xd4, 0xe5};

const char *gguf_hash_name(gguf_hash_algo a) { return (unsigned)a < GGUF_HASH_COUNT ? k_names[a] : "?"; }

int gguf_hash_from_name(const char *name) {
    for (int i = 0; i < GGUF_HASH_COUNT; i++)
        if (!strcmp(name, k_names[i])) return i;
    return -1;
}

/* One streaming hasher of any algorithm. */
typedef struct {
    gguf_hash_algo algo;
    XXH64_state_t *x64;
    XXH3_state_t *x3;
    EVP_MD_CTX *md;
} hasher;

static bool hasher_init(hasher *h, gguf_hash_algo a) {
    memset(h, 0, sizeof *h);
    h->algo = a;
    switch (a) {
    case GGUF_HASH_XXH64: return (h->x64 = XXH64_createState()) != NULL;
    case GGUF_HASH_XXH3: case GGUF_HASH_XXH128: return (h->x3 = XXH3_createState()) != NULL;
    default: return (h->md = EVP_MD_CTX_new()) != NULL;
    }
}

static void hasher_reset(hasher *h) {
    switch (h->algo) {
    case GGUF_HASH_XXH64: XXH64_reset(h->x64, 0); break;
    case GGUF_HASH_XXH3: XXH3_64bits_reset(h->x3); break;
    case GGUF_HASH_XXH128: XXH3_128bits_reset(h->x3); break;
    case GGUF_HASH_SHA256: EVP_DigestInit_ex(h->md, EVP_sha256(), NULL); break;
    case GGUF_HASH_UUID:
        EVP_DigestInit_ex(h->md, EVP_sha1(), NULL);
        EVP_DigestUpdate(h->md, k_uuid_ns, sizeof k_uuid_ns);
        break;
    default: EVP_DigestInit_ex(h->md, EVP_sha1(), NULL); break;
    }
}

static void hasher_update(hasher *h, const void *p, size_t n) {
    switch (h->algo) {
    case GGUF_HASH_XXH64: XXH64_update(h->x64, p, n); break;
    case GGUF_HASH_XXH3: XXH3_64bits_update(h->x3, p, n); break;
    case GGUF_HASH_XXH128: XXH3_128bits_update(h->x3, p, n); break;
    default: EVP_DigestUpdate(h->md, p, n); break;
    }
}

static void to_hex(const uint8_t *b, size_t n, char *hex) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        hex[2 * i] = digits[b[i] >> 4];
        hex[2 * i + 1] = digits[b[i] & 15];
    }
    hex[2 * n] = 0;
}

static void hasher_hex(hasher *h, char *hex) {
    switch (h->algo) {
    case GGUF_HASH_XXH64: case GGUF_HASH_XXH3: {
        XXH64_canonical_t c;
        XXH64_canonicalFromHash(&c, h->algo == GGUF_HASH_XXH64 ? XXH64_digest(h->x64) : XXH3_64bits_digest(h->x3));
        to_hex(c.digest, sizeof c.digest, hex);
        break;
    }
    case GGUF_HASH_XXH128: {
        XXH128_canonical_t c;
        XXH128_canonicalFromHash(&c, XXH3_128bits_digest(h->x3));
        to_hex(c.digest, sizeof c.digest, hex);
        break;
    }
    default: {
        uint8_t d[EVP_MAX_MD_SIZE];
        unsigned n = 0;
        if (!EVP_DigestFinal_ex(h->md, d, &n)) {
            hex[0] = 0;
            break;
        }
        if (h->algo != GGUF_HASH_UUID) {
            to_hex(d, n, hex);
            break;
        }
        d[6] = (uint8_t)((d[6] & 0x0F) | 0x50); /* version 5 */
        d[8] = (uint8_t)((d[8] & 0x3F) | 0x80); /* RFC 4122 variant */
        char raw[33];
        to_hex(d, 16, raw);
        snprintf(hex, GGUF_HASH_HEX, "%.8s-%.4s-%.4s-%.4s-%.12s", raw, raw + 8, raw + 12, raw + 16, raw + 20);
        break;
    }
    }
}

static void hasher_free(hasher *h) {
    if (h->x64) XXH64_freeState(h->x64);
    if (h->x3) XXH3_freeState(h->x3);
    if (h->md) EVP_MD_CTX_free(h->md);
}

typedef struct {
    int64_t tensor;      /* -1 for a whole-model stream */
    gguf_hash_algo algo; /* stream jobs only */
} job;

typedef struct {
    const gguf_file *f;
    const gguf_hash_params *p;
    gguf_hashes *out;
    job *jobs;
    int64_t n_jobs;
    atomic_int_fast64_t next;
    atomic_int failed;
    sv_progress progress;
} run_ctx;

static void feed(run_ctx *c, hasher *hs, int nh, const gguf_tensor_info *t) {
    for (uint64_t off = 0; off < t->size; off += CHUNK) {
        size_t n = t->size - off < CHUNK ? (size_t)(t->size - off) : CHUNK;
        for (int k = 0; k < nh; k++) hasher_update(&hs[k], t->data + off, n);
        sv_progress_add(&c->progress, n * (uint64_t)nh);
    }
}

/* One thread: every hasher, stream and per-tensor, is fed each chunk while
 * it is in cache, so the data is read from memory once. */
static bool run_fused(run_ctx *c) {
    hasher hs[2 * GGUF_HASH_COUNT];
    int nt = 0, nm = 0;
    bool ok = true;
    for (int a = 0; a < GGUF_HASH_COUNT; a++)
        if (c->p->tensor_algos & GGUF_HASH_BIT(a)) ok = hasher_init(&hs[nt++], (gguf_hash_algo)a) && ok;
    for (int a = 0; a < GGUF_HASH_COUNT; a++)
        if (c->p->model_algos & GGUF_HASH_BIT(a)) ok = hasher_init(&hs[nt + nm++], (gguf_hash_algo)a) && ok;
    for (int k = 0; k < nt + nm && ok; k++) hasher_reset(&hs[k]);
    for (int64_t i = 0; i < gguf_tensor_count(c->f) && ok; i++) {
        for (int k = 0; k < nt; k++) hasher_reset(&hs[k]);
        feed(c, hs, nt + nm, gguf_tensor(c->f, i));
        for (int k = 0; k < nt; k++) hasher_hex(&hs[k], c->out->tensor[i][hs[k].algo]);
    }
    for (int k = nt; k < nt + nm && ok; k++) hasher_hex(&hs[k], c->out->model[hs[k].algo]);
    for (int k = 0; k < nt + nm; k++) hasher_free(&hs[k]);
    return ok;
}

static void worker(void *ctx, int ith, int nth) {
    (void)ith;
    (void)nth;
    run_ctx *c = ctx;
    hasher hs[GGUF_HASH_COUNT];
    int nh = 0;
    bool ok = true;
    for (int a = 0; a < GGUF_HASH_COUNT; a++) {
        if (!(c->p->tensor_algos & GGUF_HASH_BIT(a))) continue;
        if (!hasher_init(&hs[nh], (gguf_hash_algo)a)) ok = false;
        nh++;
    }
    hasher stream;
    bool have_stream = false;
    for (;;) {
        if (!ok) {
            atomic_store(&c->failed, 1);
            break;
        }
        int64_t j = atomic_fetch_add(&c->next, 1);
        if (j >= c->n_jobs) break;
        const job *jb = &c->jobs[j];
        if (jb->tensor >= 0) {
            for (int k = 0; k < nh; k++) hasher_reset(&hs[k]);
            feed(c, hs, nh, gguf_tensor(c->f, jb->tensor));
            for (int k = 0; k < nh; k++) hasher_hex(&hs[k], c->out->tensor[jb->tensor][hs[k].algo]);
            continue;
        }
        if (have_stream) hasher_free(&stream);
        have_stream = hasher_init(&stream, jb->algo);
        if (!have_stream) {
            ok = false;
            continue;
        }
        hasher_reset(&stream);
        for (int64_t i = 0; i < gguf_tensor_count(c->f); i++) feed(c, &stream, 1, gguf_tensor(c->f, i));
        hasher_hex(&stream, c->out->model[jb->algo]);
    }
    if (have_stream) hasher_free(&stream);
    for (int k = 0; k < nh; k++) hasher_free(&hs[k]);
}

void gguf_hashes_free(gguf_hashes *h) {
    if (!h) return;
    free(h->tensor);
    free(h);
}

sv_status gguf_hash_file(const gguf_file *f, const gguf_hash_params *p, gguf_hashes **out) {
    *out = NULL;
    if (p->tensor_algos & GGUF_HASH_BIT(GGUF_HASH_UUID))
        return sv_error(SV_ERR_INVALID_ARG, "uuid is a whole-model hash only");
    int64_t nt = gguf_tensor_count(f);
    uint64_t total = 0;
    for (int64_t i = 0; i < nt; i++) {
        const gguf_tensor_info *t = gguf_tensor(f, i);
        if (!t->data && t->size)
            return sv_error(SV_ERR_INVALID_ARG, "%s: tensor data is not mapped", gguf_split_path(f, t->split));
        total += t->size;
    }
    gguf_hashes *h = calloc(1, sizeof *h);
    run_ctx c = {.f = f, .p = p, .out = h};
    unsigned ntalg = 0, nmalg = 0;
    for (int a = 0; a < GGUF_HASH_COUNT; a++) {
        if (p->tensor_algos & GGUF_HASH_BIT(a)) ntalg++;
        if (p->model_algos & GGUF_HASH_BIT(a)) nmalg++;
    }
    int64_t n_jobs = (ntalg ? nt : 0) + nmalg;
    if (h) {
        h->n_tensors = nt;
        h->tensor = calloc(nt ? (size_t)nt : 1, sizeof *h->tensor);
        c.jobs = malloc((size_t)(n_jobs ? n_jobs : 1) * sizeof *c.jobs);
    }
    if (!h || !h->tensor || !c.jobs) {
        free(c.jobs);
        gguf_hashes_free(h);
        return sv_error(SV_ERR_NOMEM, "out of memory");
    }
    /* Streams first, costliest first, each taken by its own thread; then
     * tensors in file order, so that with few threads the per-tensor workers
     * read the same region as the streams at about the same time and the
     * second read of each byte comes from the shared cache, not memory. */
    for (int r = 0; r < GGUF_HASH_COUNT; r++)
        for (int a = 0; a < GGUF_HASH_COUNT; a++)
            if ((p->model_algos & GGUF_HASH_BIT(a)) && k_rank[a] == r) c.jobs[c.n_jobs++] = (job){-1, (gguf_hash_algo)a};
    for (int64_t i = 0; i < nt && ntalg; i++) c.jobs[c.n_jobs++] = (job){i, GGUF_HASH_XXH64};
    atomic_init(&c.next, 0);
    atomic_init(&c.failed, 0);
    sv_progress_init(&c.progress, "hashing", total * (ntalg + nmalg));
    if (!p->progress) c.progress.enabled = false;

    int n_threads = p->n_threads > 0 ? p->n_threads : sv_cpu_count();
    if (n_threads > c.n_jobs) n_threads = c.n_jobs > 0 ? (int)c.n_jobs : 1;
    sv_pool *pool = NULL;
    sv_status st = SV_OK;
    if (n_threads == 1) {
        if (!run_fused(&c)) atomic_store(&c.failed, 1);
    } else if (!(st = sv_pool_new(n_threads, &pool))) {
        sv_pool_run(pool, worker, &c);
        sv_pool_free(pool);
    }
    if (!st) {
        sv_progress_finish(&c.progress);
        if (atomic_load(&c.failed)) st = sv_error(SV_ERR_NOMEM, "out of memory for hash states");
    }
    free(c.jobs);
    if (st) {
        gguf_hashes_free(h);
        return st;
    }
    *out = h;
    return SV_OK;
}

sv_status gguf_metadata_sha256(const gguf_file *f, int split, char *hex) {
    const gguf_file *p = f->n_parts ? (split >= 0 && split < f->n_parts ? f->parts[split] : NULL) : (split == 0 ? f : NULL);
    if (!p) return sv_error(SV_ERR_INVALID_ARG, "no split %d", split);
    if (!p->bytes && p->size) return sv_error(SV_ERR_INVALID_ARG, "%s: file is not mapped", p->path);
    uint64_t n = p->data_offset < p->size ? p->data_offset : p->size;
    return sv_hash_hex(SV_HASH_SHA256, p->bytes, (size_t)n, hex);
}
