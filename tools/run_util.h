/* Pieces of `sova run`: options, model/context set-up, the generation loop
 * with context shifting, and the chat loop. */
#ifndef SOVA_TOOLS_RUN_UTIL_H
#define SOVA_TOOLS_RUN_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "sova.h"

typedef struct {
    const char *model;
    char *prompt;           /* owned (from -p or -f) or NULL */
    sova_token *prompt_ids; /* owned, from --prompt-ids, or NULL */
    int32_t n_prompt_ids;
    int32_t n_predict;
    int32_t n_keep;         /* -1: default */
    bool context_shift;
    sova_ctx_params cp;
    sova_sampler_params sp;
    bool chat;
    const char *chat_template;
    const char *system;
    bool print_ids;
    bool stats;
} run_opts;

typedef struct {
    sova_model *model;
    sova_ctx *ctx;
    sova_sampler *smp;
    sova_batch batch;
    sova_detok *detok;
    sova_token *tokens;     /* what the cache holds, in order ([n_ctx]) */
    int32_t n_past;
    double t_load;
    double t_prompt, t_gen;
    long n_prompt_tok, n_gen_tok;
} run_state;

/* 0 on success; prints the problem to stderr otherwise. */
int run_parse_args(int argc, char **argv, run_opts *o);
void run_free_opts(run_opts *o);

sova_status run_open(const run_opts *o, run_state *r);
void run_close(run_state *r);

/* Plain completion of the prompt. */
sova_status run_prompt(const run_opts *o, run_state *r);
/* Chat: one turn with -p, else turns read from stdin until EOF. */
sova_status run_chat(const run_opts *o, run_state *r);

void run_print_stats(const run_state *r);

#endif
