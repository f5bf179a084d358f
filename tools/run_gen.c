/* The generation and chat loops of `sova run`. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/status.h"
#include "run_util.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

sova_status run_open(const run_opts *o, run_state *r) {
    memset(r, 0, sizeof *r);
    double t0 = now_s();
    sova_model_params mp = sova_model_default_params();
    mp.n_threads = o->cp.n_threads;
    sova_status st = sova_model_load(o->model, &mp, &r->model);
    if (st == SOVA_OK) st = sova_ctx_new(r->model, &o->cp, &r->ctx);
    if (st == SOVA_OK) st = sova_sampler_new(r->model, &o->sp, &r->smp);
    if (st == SOVA_OK) st = sova_batch_init((int32_t)sova_ctx_n_batch(r->ctx), 1, &r->batch);
    if (st == SOVA_OK) st = sova_detok_new(r->model, false, &r->detok);
    if (st == SOVA_OK) {
        r->tokens = malloc(sova_ctx_n_ctx(r->ctx) * sizeof *r->tokens);
        if (!r->tokens) st = SOVA_ERR_NOMEM;
    }
    r->t_load = now_s() - t0;
    if (st == SOVA_OK && o->stats) {
        sova_memory mem;
        sova_ctx_memory(r->ctx, &mem);
        fprintf(stderr,
                "sova run: %s model, %.1f M parameters, %.1f MiB weights; n_ctx %u; KV cache %.1f MiB, compute %.1f "
                "MiB; loaded in %.3f s\n",
                sova_model_arch(r->model), (double)sova_model_n_params(r->model) / 1e6,
                (double)mem.weights / 1048576.0, sova_ctx_n_ctx(r->ctx), (double)mem.kv / 1048576.0,
                (double)mem.compute / 1048576.0, r->t_load);
    }
    return st;
}

void run_close(run_state *r) {
    sova_detok_free(r->detok);
    sova_batch_free(&r->batch);
    sova_sampler_free(r->smp);
    sova_ctx_free(r->ctx);
    sova_model_free(r->model);
    free(r->tokens);
    memset(r, 0, sizeof *r);
}

/* Makes room for `need` more tokens: llama.cpp's context shift keeps the
 * first n_keep tokens and drops half of the rest. */
static sova_status make_room(const run_opts *o, run_state *r, int32_t need) {
    int32_t n_ctx = (int32_t)sova_ctx_n_ctx(r->ctx);
    while (r->n_past + need > n_ctx) {
        if (!o->context_shift) {
            return (sova_status)sv_error(SV_ERR_LIMIT, "context full (%d tokens) and --no-context-shift given", n_ctx);
        }
        int32_t keep = o->n_keep >= 0 ? o->n_keep : (r->n_past > 0 && r->tokens[0] == sova_token_bos(r->model));
        if (keep > r->n_past) keep = r->n_past;
        int32_t discard = (r->n_past - keep) / 2;
        if (discard <= 0) {
            return (sova_status)sv_error(SV_ERR_LIMIT, "a context of %d tokens cannot hold %d more", n_ctx, need);
        }
        sova_status st = sova_kv_seq_rm(r->ctx, 0, keep, keep + discard);
        if (st == SOVA_OK) st = sova_kv_seq_add(r->ctx, 0, keep + discard, r->n_past, -discard);
        if (st != SOVA_OK) return st;
        memmove(r->tokens + keep, r->tokens + keep + discard, (size_t)(r->n_past - keep - discard) * sizeof *r->tokens);
        r->n_past -= discard;
    }
    return SOVA_OK;
}

/* Decodes toks after what the cache holds; logits for the last one. */
static sova_status feed(const run_opts *o, run_state *r, const sova_token *toks, int32_t n) {
    int32_t nb = (int32_t)sova_ctx_n_batch(r->ctx), seq = 0;
    for (int32_t i0 = 0; i0 < n; i0 += nb) {
        int32_t k = n - i0 < nb ? n - i0 : nb;
        sova_status st = make_room(o, r, k);
        if (st != SOVA_OK) return st;
        sova_batch_clear(&r->batch);
        for (int32_t i = 0; i < k; i++)
            sova_batch_add(&r->batch, toks[i0 + i], r->n_past + i, &seq, 1, i0 + i == n - 1);
        st = sova_decode(r->ctx, &r->batch);
        if (st != SOVA_OK) return st;
        memcpy(r->tokens + r->n_past, toks + i0, (size_t)k * sizeof *toks);
        r->n_past += k;
    }
    return SOVA_OK;
}

static sova_status feed_prompt(const run_opts *o, run_state *r, const sova_token *toks, int32_t n) {
    double t0 = now_s();
    for (int32_t i = 0; i < n; i++) sova_sampler_accept(r->smp, toks[i]);
    sova_status st = feed(o, r, toks, n);
    r->t_prompt += now_s() - t0;
    r->n_prompt_tok += n;
    return st;
}

typedef struct {
    char *p;
    size_t n, cap;
} text_buf;

static void text_add(text_buf *b, const char *s, size_t n) {
    if (!b) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 256) + n;
        char *p = realloc(b->p, cap);
        if (!p) return;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

/* Samples until end of generation or n_predict tokens, streaming to stdout
 * (and into out when given). */
static sova_status generate(const run_opts *o, run_state *r, text_buf *out) {
    double t0 = now_s();
    sova_status st = SOVA_OK;
    const char *txt;
    size_t len;
    for (int32_t i = 0; o->n_predict < 0 || i < o->n_predict; i++) {
        sova_token t = sova_sampler_sample(r->smp, r->ctx, -1);
        if (t < 0) {
            st = (sova_status)t;
            break;
        }
        if (sova_token_is_eog(r->model, t)) break;
        r->n_gen_tok++;
        if (o->print_ids) {
            printf("%s%d", i ? " " : "", t);
        } else {
            st = sova_detok_push(r->detok, t, &txt, &len);
            if (st != SOVA_OK) break;
            fwrite(txt, 1, len, stdout);
            text_add(out, txt, len);
        }
        fflush(stdout);
        st = feed(o, r, &t, 1);
        if (st != SOVA_OK) break;
    }
    if (!o->print_ids) {
        sova_detok_flush(r->detok, &txt, &len);
        fwrite(txt, 1, len, stdout);
        text_add(out, txt, len);
    }
    printf("\n");
    fflush(stdout);
    r->t_gen += now_s() - t0;
    return st;
}

static sova_status tokenize(run_state *r, const char *text, sova_token **out, int32_t *n) {
    size_t len = strlen(text);
    int32_t cap = len + 16 > (size_t)INT32_MAX ? INT32_MAX : (int32_t)(len + 16);
    *out = malloc((size_t)cap * sizeof **out);
    if (!*out) return SOVA_ERR_NOMEM;
    return sova_tokenize(r->model, text, len, true, true, *out, cap, n);
}

sova_status run_prompt(const run_opts *o, run_state *r) {
    sova_token *toks = NULL;
    int32_t n = 0;
    sova_status st = SOVA_OK;
    if (o->prompt_ids) {
        n = o->n_prompt_ids;
        toks = malloc((size_t)(n ? n : 1) * sizeof *toks);
        if (!toks) return SOVA_ERR_NOMEM;
        if (n) memcpy(toks, o->prompt_ids, (size_t)n * sizeof *toks);
    } else {
        st = tokenize(r, o->prompt, &toks, &n);
    }
    if (st == SOVA_OK && n == 0) {
        fprintf(stderr, "sova run: the prompt is empty\n");
        st = SOVA_ERR_INVALID_ARG;
    }
    if (st == SOVA_OK) st = feed_prompt(o, r, toks, n);
    free(toks);
    if (st == SOVA_OK) st = generate(o, r, NULL);
    return st;
}

/* Renders the conversation, decodes what the cache lacks, answers. */
static sova_status chat_turn(const run_opts *o, run_state *r, sova_chat_message **msgs, size_t *n_msgs,
                             const char *user) {
    sova_chat_message *m = realloc(*msgs, (*n_msgs + 2) * sizeof *m);
    if (!m) return SOVA_ERR_NOMEM;
    *msgs = m;
    char *u = strdup(user);
    if (!u) return SOVA_ERR_NOMEM;
    m[(*n_msgs)++] = (sova_chat_message){"user", u};
    char *text = NULL;
    sova_status st = sova_chat_apply(r->model, o->chat_template, m, *n_msgs, true, &text);
    sova_token *toks = NULL;
    int32_t n = 0;
    if (st == SOVA_OK) st = tokenize(r, text, &toks, &n);
    free(text);
    if (st == SOVA_OK) {
        int32_t same = 0;
        while (same < r->n_past && same < n && r->tokens[same] == toks[same]) same++;
        if (same == n) same--; /* the last token must be decoded again for its logits */
        if (same < r->n_past) st = sova_kv_seq_rm(r->ctx, 0, same, -1);
        if (st == SOVA_OK) {
            r->n_past = same;
            st = feed_prompt(o, r, toks + same, n - same);
        }
    }
    free(toks);
    text_buf reply = {0};
    if (st == SOVA_OK) st = generate(o, r, &reply);
    if (st == SOVA_OK) {
        m[(*n_msgs)++] = (sova_chat_message){"assistant", reply.p ? reply.p : strdup("")};
        if (!m[*n_msgs - 1].content) st = SOVA_ERR_NOMEM;
    } else {
        free(reply.p);
    }
    return st;
}

sova_status run_chat(const run_opts *o, run_state *r) {
    sova_chat_message *msgs = NULL;
    size_t n_msgs = 0;
    sova_status st = SOVA_OK;
    if (o->system) {
        msgs = malloc(sizeof *msgs);
        char *s = strdup(o->system);
        if (!msgs || !s) {
            free(msgs);
            free(s);
            return SOVA_ERR_NOMEM;
        }
        msgs[n_msgs++] = (sova_chat_message){"system", s};
    }
    if (o->prompt) {
        st = chat_turn(o, r, &msgs, &n_msgs, o->prompt);
    } else {
        char line[8192];
        while (st == SOVA_OK) {
            fprintf(stderr, "> ");
            if (!fgets(line, sizeof line, stdin)) break;
            line[strcspn(line, "\n")] = '\0';
            if (!line[0]) continue;
            st = chat_turn(o, r, &msgs, &n_msgs, line);
        }
    }
    for (size_t i = 0; i < n_msgs; i++) free((char *)(uintptr_t)msgs[i].content);
    free(msgs);
    return st;
}

void run_print_stats(const run_state *r) {
    fprintf(stderr, "sova run: load %.3f s; prompt %ld tokens in %.3f s (%.2f tok/s); generation %ld tokens in %.3f s "
                    "(%.2f tok/s)\n",
            r->t_load, r->n_prompt_tok, r->t_prompt, r->t_prompt > 0 ? (double)r->n_prompt_tok / r->t_prompt : 0.0,
            r->n_gen_tok, r->t_gen, r->t_gen > 0 ? (double)r->n_gen_tok / r->t_gen : 0.0);
}
