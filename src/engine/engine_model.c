/* sova_model: loading, properties, vocabulary and chat templates. */
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "text/chat.h"

sova_model_params sova_model_default_params(void) {
    return (sova_model_params){.n_threads = 0, .use_mmap = true};
}

sova_status sova_model_load(const char *path, const sova_model_params *params, sova_model **out) {
    if (!out) return (sova_status)sv_error(SV_ERR_INVALID_ARG, "sova_model_load: out is NULL");
    *out = NULL;
    if (!path) return (sova_status)sv_error(SV_ERR_INVALID_ARG, "sova_model_load: path is NULL");
    sova_model_params p = params ? *params : sova_model_default_params();
    sova_model *sm = calloc(1, sizeof *sm);
    if (!sm) return (sova_status)sv_error(SV_ERR_NOMEM, "out of memory for the model");
    model_load_params lp = {.use_mmap = p.use_mmap};
    sv_status st = model_load(path, &lp, &sm->m);
    if (st == SV_OK) {
        st = tok_vocab_load(sm->m->gguf, &sm->vocab);
        if (st != SV_OK) sv_error_prefix(st, "loading the vocabulary of %s: ", path);
    }
    if (st == SV_OK && tok_vocab_n_tokens(sm->vocab) < sm->m->hp.n_vocab)
        st = sv_error(SV_ERR_FORMAT, "%s: the vocabulary has %d tokens, the embeddings %d rows", path,
                      tok_vocab_n_tokens(sm->vocab), sm->m->hp.n_vocab);
    if (st != SV_OK) {
        sova_model_free(sm);
        return (sova_status)st;
    }
    *out = sm;
    return SOVA_OK;
}

void sova_model_free(sova_model *m) {
    if (!m) return;
    tok_vocab_free(m->vocab);
    model_free(m->m);
    free(m);
}

const char *sova_model_arch(const sova_model *m) { return model_arch_name(m->m->hp.arch); }
int32_t sova_model_n_vocab(const sova_model *m) { return m->m->hp.n_vocab; }
int32_t sova_model_n_ctx_train(const sova_model *m) { return m->m->hp.n_ctx_train; }
int32_t sova_model_n_embd(const sova_model *m) { return m->m->hp.n_embd; }
int32_t sova_model_n_layer(const sova_model *m) { return m->m->hp.n_layer; }
uint64_t sova_model_n_params(const sova_model *m) { return (uint64_t)m->m->n_params; }
uint64_t sova_model_weight_bytes(const sova_model *m) { return m->m->weight_bytes; }

sova_token sova_token_bos(const sova_model *m) { return tok_bos(m->vocab); }
sova_token sova_token_eos(const sova_model *m) { return tok_eos(m->vocab); }
bool sova_token_is_eog(const sova_model *m, sova_token t) { return tok_is_eog(m->vocab, t); }

sova_status sova_tokenize(const sova_model *m, const char *text, size_t len, bool add_special, bool parse_special,
                          sova_token *out, int32_t cap, int32_t *n_tokens) {
    if (!text || !n_tokens || cap < 0 || (cap > 0 && !out))
        return (sova_status)sv_error(SV_ERR_INVALID_ARG, "sova_tokenize: bad arguments");
    tok_ids ids = {0};
    unsigned flags = (add_special ? TOK_ADD_SPECIAL : 0u) | (parse_special ? TOK_PARSE_SPECIAL : 0u);
    sv_status st = tok_encode(m->vocab, text, len, flags, &ids);
    if (st == SV_OK && ids.n > INT32_MAX) st = sv_error(SV_ERR_LIMIT, "text gives too many tokens");
    if (st == SV_OK) {
        *n_tokens = (int32_t)ids.n;
        if (ids.n > (size_t)cap) st = sv_error(SV_ERR_LIMIT, "text gives %zu tokens, room for %d", ids.n, cap);
        else if (ids.n) memcpy(out, ids.ids, ids.n * sizeof *out);
    }
    tok_ids_free(&ids);
    return (sova_status)st;
}

size_t sova_token_to_piece(const sova_model *m, sova_token t, bool special, char *buf, size_t cap) {
    return tok_token_to_piece(m->vocab, t, special ? TOK_DECODE_SPECIAL : 0u, buf, cap);
}

sova_status sova_detokenize(const sova_model *m, const sova_token *tokens, size_t n, bool special, char **text) {
    if (!text || (n && !tokens)) return (sova_status)sv_error(SV_ERR_INVALID_ARG, "sova_detokenize: bad arguments");
    return (sova_status)tok_decode(m->vocab, tokens, n, special ? TOK_DECODE_SPECIAL : 0u, text, NULL);
}

struct sova_detok {
    tok_detok_stream s;
};

sova_status sova_detok_new(const sova_model *m, bool special, sova_detok **out) {
    *out = calloc(1, sizeof **out);
    if (!*out) return (sova_status)sv_error(SV_ERR_NOMEM, "out of memory");
    tok_detok_stream_init(&(*out)->s, m->vocab, special ? TOK_DECODE_SPECIAL : 0u);
    return SOVA_OK;
}

sova_status sova_detok_push(sova_detok *d, sova_token t, const char **text, size_t *len) {
    return (sova_status)tok_detok_stream_push(&d->s, t, text, len);
}

void sova_detok_flush(sova_detok *d, const char **text, size_t *len) { tok_detok_stream_flush(&d->s, text, len); }

void sova_detok_free(sova_detok *d) {
    if (!d) return;
    tok_detok_stream_free(&d->s);
    free(d);
}

sova_status sova_chat_apply(const sova_model *m, const char *tmpl, const sova_chat_message *msgs, size_t n,
                            bool add_generation_prompt, char **text) {
    if (!text || (n && !msgs)) return (sova_status)sv_error(SV_ERR_INVALID_ARG, "sova_chat_apply: bad arguments");
    chat_template t;
    sv_status st;
    if (tmpl) {
        st = chat_template_by_name(tmpl, &t);
    } else {
        const char *jinja = gguf_get_str(m->m->gguf, "tokenizer.chat_template");
        if (!jinja)
            return (sova_status)sv_error(SV_ERR_UNSUPPORTED,
                                         "the model has no tokenizer.chat_template: name one (e.g. gemma, chatml)");
        st = chat_template_detect(jinja, &t);
    }
    if (st != SV_OK) return (sova_status)st;
    chat_params cp = chat_default_params();
    cp.add_generation_prompt = add_generation_prompt;
    tok_id eos = tok_eos(m->vocab);
    cp.eos_token = eos >= 0 ? tok_token_text(m->vocab, eos) : NULL;
    chat_message *cm = malloc((n ? n : 1) * sizeof *cm);
    if (!cm) return (sova_status)sv_error(SV_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) cm[i] = (chat_message){msgs[i].role, msgs[i].content};
    st = chat_apply(&t, cm, n, &cp, text, NULL);
    free(cm);
    return (sova_status)st;
}
