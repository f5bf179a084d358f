/* Command-line options of `sova run`. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_util.h"

static int bad(const char *opt, const char *val) {
    fprintf(stderr, "sova run: bad value '%s' for %s\n", val ? val : "(missing)", opt);
    return -1;
}

static int to_long(const char *opt, const char *s, long lo, long hi, long *out) {
    if (!s) return bad(opt, s);
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return bad(opt, s);
    *out = v;
    return 0;
}

static int to_float(const char *opt, const char *s, float *out) {
    if (!s) return bad(opt, s);
    char *end;
    errno = 0;
    float v = strtof(s, &end);
    if (errno || end == s || *end || v != v) return bad(opt, s);
    *out = v;
    return 0;
}

static int kv_type(const char *opt, const char *s, sova_kv_type *out) {
    if (s && !strcmp(s, "f16")) *out = SOVA_KV_F16;
    else if (s && !strcmp(s, "f32")) *out = SOVA_KV_F32;
    else if (s && !strcmp(s, "q8_0")) *out = SOVA_KV_Q8_0;
    else return bad(opt, s);
    return 0;
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "sova run: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    while (b) {
        size_t k = fread(b + n, 1, cap - n - 1, f);
        n += k;
        if (k == 0) break;
        if (cap - n < 2) {
            char *p = cap > SIZE_MAX / 2 ? NULL : realloc(b, cap * 2);
            if (!p) {
                free(b);
                b = NULL;
                break;
            }
            b = p;
            cap *= 2;
        }
    }
    if (b && ferror(f)) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (!b) fprintf(stderr, "sova run: cannot read %s\n", path);
    else b[n] = '\0';
    return b;
}

static int parse_ids(const char *s, run_opts *o) {
    size_t cap = 16;
    o->prompt_ids = malloc(cap * sizeof *o->prompt_ids);
    while (o->prompt_ids && *s) {
        while (*s == ' ' || *s == ',' || *s == '\n' || *s == '\t') s++;
        if (!*s) break;
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || end == s || v < 0 || v > INT32_MAX) return bad("--prompt-ids", s);
        if ((size_t)o->n_prompt_ids == cap) {
            sova_token *p = realloc(o->prompt_ids, 2 * cap * sizeof *p);
            if (!p) break;
            o->prompt_ids = p;
            cap *= 2;
        }
        o->prompt_ids[o->n_prompt_ids++] = (sova_token)v;
        s = end;
    }
    if (!o->prompt_ids || *s) {
        fprintf(stderr, "sova run: out of memory\n");
        return -1;
    }
    return 0;
}

int run_parse_args(int argc, char **argv, run_opts *o) {
    memset(o, 0, sizeof *o);
    o->n_predict = 128;
    o->n_keep = -1;
    o->context_shift = true;
    o->stats = true;
    o->cp = sova_ctx_default_params();
    o->sp = sova_sampler_default_params();
    o->sp.penalty_repeat = 1.0f;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n = 0;
        int rc = 0;
        bool takes = true;
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) o->model = v;
        else if (!strcmp(a, "-p") || !strcmp(a, "--prompt")) {
            free(o->prompt);
            o->prompt = v ? strdup(v) : NULL;
            if (!o->prompt) rc = bad(a, v);
        } else if (!strcmp(a, "-f") || !strcmp(a, "--file")) {
            free(o->prompt);
            o->prompt = v ? read_file(v) : NULL;
            if (!o->prompt) rc = -1;
        } else if (!strcmp(a, "--prompt-ids")) rc = v ? parse_ids(v, o) : bad(a, v);
        else if (!strcmp(a, "-n") || !strcmp(a, "--n-predict")) {
            rc = to_long(a, v, -1, INT32_MAX, &n);
            o->n_predict = (int32_t)n;
        } else if (!strcmp(a, "-c") || !strcmp(a, "--ctx-size")) {
            rc = to_long(a, v, 0, 1L << 24, &n);
            o->cp.n_ctx = (uint32_t)n;
        } else if (!strcmp(a, "-b") || !strcmp(a, "--batch-size")) {
            rc = to_long(a, v, 1, 1L << 24, &n);
            o->cp.n_batch = (uint32_t)n;
        } else if (!strcmp(a, "-ub") || !strcmp(a, "--ubatch-size")) {
            rc = to_long(a, v, 1, 1L << 24, &n);
            o->cp.n_ubatch = (uint32_t)n;
        } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            rc = to_long(a, v, 0, 1024, &n);
            o->cp.n_threads = (int32_t)n;
        } else if (!strcmp(a, "--temp")) rc = to_float(a, v, &o->sp.temp);
        else if (!strcmp(a, "--top-k")) {
            rc = to_long(a, v, 0, INT32_MAX, &n);
            o->sp.top_k = (int32_t)n;
        } else if (!strcmp(a, "--top-p")) rc = to_float(a, v, &o->sp.top_p);
        else if (!strcmp(a, "--min-p")) rc = to_float(a, v, &o->sp.min_p);
        else if (!strcmp(a, "--repeat-penalty")) rc = to_float(a, v, &o->sp.penalty_repeat);
        else if (!strcmp(a, "--repeat-last-n")) {
            rc = to_long(a, v, 0, 1L << 20, &n);
            o->sp.penalty_last_n = (int32_t)n;
        } else if (!strcmp(a, "--seed")) {
            char *end;
            errno = 0;
            unsigned long long s = v ? strtoull(v, &end, 10) : 0;
            if (!v || errno || end == v || *end) rc = bad(a, v);
            o->sp.seed = (uint64_t)s;
        } else if (!strcmp(a, "--keep")) {
            rc = to_long(a, v, -1, INT32_MAX, &n);
            o->n_keep = (int32_t)n;
        } else if (!strcmp(a, "--cache-type-k")) rc = kv_type(a, v, &o->cp.type_k);
        else if (!strcmp(a, "--cache-type-v")) rc = kv_type(a, v, &o->cp.type_v);
        else if (!strcmp(a, "--chat-template")) o->chat_template = v;
        else if (!strcmp(a, "-sys") || !strcmp(a, "--system")) o->system = v;
        else {
            takes = false;
            if (!strcmp(a, "--chat")) o->chat = true;
            else if (!strcmp(a, "--ids")) o->print_ids = true;
            else if (!strcmp(a, "--no-stats")) o->stats = false;
            else if (!strcmp(a, "--no-context-shift")) o->context_shift = false;
            else {
                fprintf(stderr, "sova run: unknown option '%s'\n", a);
                rc = -1;
            }
        }
        if (takes && !v && rc == 0) rc = bad(a, v);
        if (rc != 0) {
            run_free_opts(o);
            return -1;
        }
        if (takes) i++;
    }
    if (!o->model) {
        fprintf(stderr, "sova run: -m MODEL is required\n");
        run_free_opts(o);
        return -1;
    }
    if (!o->chat && !o->prompt && !o->prompt_ids) {
        fprintf(stderr, "sova run: give a prompt (-p, -f or --prompt-ids) or --chat\n");
        run_free_opts(o);
        return -1;
    }
    return 0;
}

void run_free_opts(run_opts *o) {
    free(o->prompt);
    free(o->prompt_ids);
    o->prompt = NULL;
    o->prompt_ids = NULL;
}
