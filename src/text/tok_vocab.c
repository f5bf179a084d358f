/* Vocabulary: token texts, types and scores, special ids, lookup by text,
 * decoded pieces; built from GGUF keys or from plain arrays. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/checked.h"
#include "base/hash.h"
#include "text/tok_impl.h"

/* ---- string map ---- */

static uint64_t str_hash(const char *s, size_t len) { return sv_xxh64(s, len, 0x746f6bu); }

static sv_status strmap_init(tok__strmap *m, size_t n) {
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    m->slots = calloc(cap, sizeof *m->slots);
    if (!m->slots) return sv_error(SV_ERR_NOMEM, "token map of %zu slots", cap);
    m->mask = cap - 1;
    return SV_OK;
}

/* Later duplicates replace earlier ones, as in llama.cpp's token_to_id. */
static void strmap_put(tok_vocab *v, tok_id id) {
    const char *s = tok__text(v, id);
    size_t len = v->text_len[id];
    size_t i = (size_t)str_hash(s, len) & v->by_text.mask;
    for (;;) {
        uint32_t e = v->by_text.slots[i];
        if (e == 0) break;
        tok_id o = (tok_id)(e - 1);
        if (v->text_len[o] == len && memcmp(tok__text(v, o), s, len) == 0) break;
        i = (i + 1) & v->by_text.mask;
    }
    v->by_text.slots[i] = (uint32_t)id + 1;
}

tok_id tok__find(const tok_vocab *v, const char *s, size_t len) {
    size_t i = (size_t)str_hash(s, len) & v->by_text.mask;
    for (;;) {
        uint32_t e = v->by_text.slots[i];
        if (e == 0) return TOK_NULL;
        tok_id o = (tok_id)(e - 1);
        if (v->text_len[o] == len && memcmp(tok__text(v, o), s, len) == 0) return o;
        i = (i + 1) & v->by_text.mask;
    }
}

/* ---- ids and pieces ---- */

static bool is_control_like(uint8_t t) { return t == TOK_TYPE_CONTROL || t == TOK_TYPE_UNKNOWN; }

/* Writes the decoded bytes of `id` to out (room for 2 * text_len + 4 bytes). */
static size_t make_piece(const tok_vocab *v, tok_id id, char *out) {
    const char *s = tok__text(v, id);
    size_t len = v->text_len[id];
    uint8_t t = v->types[id];
    if (t == TOK_TYPE_CONTROL || t == TOK_TYPE_UNKNOWN || t == TOK_TYPE_USER_DEFINED) {
        memcpy(out, s, len);
        return len;
    }
    if (t == TOK_TYPE_BYTE && v->model != TOK_MODEL_BPE && len == 6 && memcmp(s, "<0x", 3) == 0) {
        out[0] = (char)strtol((char[]){s[3], s[4], 0}, NULL, 16);
        return 1;
    }
    size_t n = 0;
    if (v->model == TOK_MODEL_BPE) {
        for (size_t i = 0; i < len;) {
            uint32_t cp;
            int k = tok__utf8_decode((const uint8_t *)s + i, len - i, &cp);
            int b = k ? tok__cp_to_byte(cp) : -1;
            if (b >= 0) {
                out[n++] = (char)b;
                i += (size_t)k;
            } else {
                /* Not a byte-level char: keep its bytes as they are. */
                size_t step = k ? (size_t)k : 1;
                memcpy(out + n, s + i, step);
                n += step;
                i += step;
            }
        }
        return n;
    }
    for (size_t i = 0; i < len;) {
        if (i + 3 <= len && memcmp(s + i, "\xE2\x96\x81", 3) == 0) {
            out[n++] = ' ';
            i += 3;
        } else {
            out[n++] = s[i++];
        }
    }
    return n;
}

static sv_status build_pieces(tok_vocab *v) {
    size_t total = 0;
    for (tok_id i = 0; i < v->n; i++) total += v->text_len[i] + 1;
    if (total > UINT32_MAX) return sv_error(SV_ERR_LIMIT, "token texts too large (%zu bytes)", total);
    v->piece_blob = malloc(total + 1);
    v->piece_off = malloc(((size_t)v->n + 1) * sizeof *v->piece_off);
    if (!v->piece_blob || !v->piece_off) return sv_error(SV_ERR_NOMEM, "token pieces");
    size_t at = 0;
    for (tok_id i = 0; i < v->n; i++) {
        v->piece_off[i] = (uint32_t)at;
        at += make_piece(v, i, v->piece_blob + at);
    }
    v->piece_off[v->n] = (uint32_t)at;
    return SV_OK;
}

static int cmp_special(const void *a, const void *b, void *ctx) {
    const tok_vocab *v = ctx;
    tok_id x = *(const tok_id *)a, y = *(const tok_id *)b;
    if (v->text_len[x] != v->text_len[y]) return v->text_len[x] > v->text_len[y] ? -1 : 1;
    return x < y ? -1 : x > y;
}

static sv_status build_specials(tok_vocab *v) {
    v->special = malloc(((size_t)v->n + 1) * sizeof *v->special);
    if (!v->special) return sv_error(SV_ERR_NOMEM, "special token list");
    for (tok_id i = 0; i < v->n; i++) {
        uint8_t t = v->types[i];
        if (t == TOK_TYPE_CONTROL || t == TOK_TYPE_USER_DEFINED || t == TOK_TYPE_UNKNOWN) {
            if (v->text_len[i] == 0) continue;
            v->special[v->n_special++] = i;
            v->special_first[(uint8_t)tok__text(v, i)[0]] = true;
        }
    }
    qsort_r(v->special, v->n_special, sizeof *v->special, cmp_special, v);
    return SV_OK;
}

static const char *const eog_texts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>",
};

static sv_status build_eog(tok_vocab *v) {
    size_t n_texts = sizeof eog_texts / sizeof eog_texts[0];
    v->eog = malloc((n_texts + 2) * sizeof *v->eog);
    if (!v->eog) return sv_error(SV_ERR_NOMEM, "end-of-generation ids");
    if (v->eos != TOK_NULL) v->eog[v->n_eog++] = v->eos;
    for (size_t i = 0; i < n_texts; i++) {
        tok_id id = tok__find(v, eog_texts[i], strlen(eog_texts[i]));
        if (id == TOK_NULL) continue;
        if (v->eot == TOK_NULL && i < 4) v->eot = id;
        bool dup = false;
        for (int k = 0; k < v->n_eog; k++) dup |= v->eog[k] == id;
        if (!dup) v->eog[v->n_eog++] = id;
    }
    if (v->eot != TOK_NULL) {
        bool dup = false;
        for (int k = 0; k < v->n_eog; k++) dup |= v->eog[k] == v->eot;
        if (!dup) v->eog[v->n_eog++] = v->eot;
    }
    return SV_OK;
}

tok_vocab_desc tok_vocab_desc_init(void) {
    tok_vocab_desc d;
    memset(&d, 0, sizeof d);
    d.bos = d.eos = d.eot = d.unk = d.sep = d.pad = TOK_NULL;
    d.add_bos = d.add_eos = d.add_space_prefix = -1;
    return d;
}

static tok_id valid_id(tok_id id, int32_t n) { return id >= 0 && id < n ? id : TOK_NULL; }

static sv_status set_model_defaults(tok_vocab *v, const tok_vocab_desc *d) {
    const char *m = d->model ? d->model : "";
    const char *pre = d->pre && d->pre[0] ? d->pre : "default";
    bool add_bos = false, add_eos = false, space = false;
    if (!strcmp(m, "gpt2")) {
        v->model = TOK_MODEL_BPE;
        if (!tok__pretok_known(pre))
            return sv_error(SV_ERR_UNSUPPORTED, "unknown pre-tokenizer '%s'", pre);
        if (!strcmp(pre, "llama3") || !strcmp(pre, "llama-v3") || !strcmp(pre, "llama-bpe") ||
            !strcmp(pre, "falcon3")) {
            v->ignore_merges = true;
            add_bos = true;
        }
        v->nfc = !strcmp(pre, "qwen2");
    } else if (!strcmp(m, "llama")) {
        v->model = TOK_MODEL_SPM;
        add_bos = true;
        space = true;
    } else if (!strcmp(m, "bert")) {
        v->model = TOK_MODEL_WPM;
        add_bos = true;
    } else {
        return sv_error(SV_ERR_UNSUPPORTED, "unsupported tokenizer model '%s'", m);
    }
    v->pre = strdup(pre);
    if (!v->pre) return sv_error(SV_ERR_NOMEM, "pre-tokenizer name");
    v->add_bos = d->add_bos >= 0 ? d->add_bos != 0 : add_bos;
    v->add_eos = d->add_eos >= 0 ? d->add_eos != 0 : add_eos;
    v->add_space_prefix = d->add_space_prefix >= 0 ? d->add_space_prefix != 0 : space;

    int32_t n = v->n;
    v->bos = valid_id(d->bos, n);
    v->eos = valid_id(d->eos, n);
    v->eot = valid_id(d->eot, n);
    v->unk = valid_id(d->unk, n);
    v->sep = valid_id(d->sep, n);
    v->pad = valid_id(d->pad, n);
    /* The ids llama.cpp assumes when a file leaves them out. */
    if (v->model == TOK_MODEL_SPM) {
        if (v->bos == TOK_NULL && d->bos == TOK_NULL) v->bos = valid_id(1, n);
        if (v->eos == TOK_NULL && d->eos == TOK_NULL) v->eos = valid_id(2, n);
        if (v->unk == TOK_NULL && d->unk == TOK_NULL) v->unk = valid_id(0, n);
    } else if (v->model == TOK_MODEL_WPM) {
        if (v->bos == TOK_NULL && d->bos == TOK_NULL) v->bos = valid_id(101, n);
        if (v->sep == TOK_NULL && d->sep == TOK_NULL) v->sep = valid_id(102, n);
        if (v->unk == TOK_NULL && d->unk == TOK_NULL) v->unk = valid_id(100, n);
    }
    return SV_OK;
}

static void set_byte_tokens(tok_vocab *v) {
    for (int b = 0; b < 256; b++) {
        char buf[8];
        tok_id id = TOK_NULL;
        if (v->model == TOK_MODEL_BPE) {
            int k = tok__utf8_encode(tok__byte_to_cp((uint8_t)b), buf);
            id = tok__find(v, buf, (size_t)k);
        } else {
            static const char hex[] = "0123456789ABCDEF";
            char t[6] = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>'};
            id = tok__find(v, t, 6);
            if (id == TOK_NULL && b < 0x80) {
                buf[0] = (char)b;
                id = tok__find(v, buf, 1);
            }
        }
        v->byte_tok[b] = id;
    }
}

sv_status tok_vocab_build(const tok_vocab_desc *d, tok_vocab **out) {
    *out = NULL;
    if (d->n_tokens == 0 || !d->tokens) return sv_error(SV_ERR_FORMAT, "vocabulary has no tokens");
    if (d->n_tokens >= (size_t)INT32_MAX) return sv_error(SV_ERR_LIMIT, "vocabulary of %zu tokens", d->n_tokens);
    tok_vocab *v = calloc(1, sizeof *v);
    if (!v) return sv_error(SV_ERR_NOMEM, "vocabulary");
    v->n = (int32_t)d->n_tokens;
    sv_status st = set_model_defaults(v, d);
    if (st) goto fail;

    size_t n = d->n_tokens, total = 0;
    for (size_t i = 0; i < n; i++) {
        if (!d->tokens[i]) {
            st = sv_error(SV_ERR_FORMAT, "token %zu has no text", i);
            goto fail;
        }
        size_t len = strlen(d->tokens[i]);
        /* Empty texts get a placeholder so that lookups stay unambiguous. */
        if (sv_add_size(total, (len ? len : 24) + 1, &total)) break;
    }
    if (total > UINT32_MAX) {
        st = sv_error(SV_ERR_LIMIT, "token texts too large");
        goto fail;
    }
    v->text_blob = malloc(total);
    v->text_off = malloc(n * sizeof *v->text_off);
    v->text_len = malloc(n * sizeof *v->text_len);
    v->scores = malloc(n * sizeof *v->scores);
    v->types = malloc(n);
    if (!v->text_blob || !v->text_off || !v->text_len || !v->scores || !v->types) {
        st = sv_error(SV_ERR_NOMEM, "vocabulary of %zu tokens", n);
        goto fail;
    }
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(d->tokens[i]);
        char *dst = v->text_blob + at;
        if (len) memcpy(dst, d->tokens[i], len + 1);
        else len = (size_t)snprintf(dst, 24, "[EMPTY_%zu]", i);
        v->text_off[i] = (uint32_t)at;
        v->text_len[i] = (uint32_t)len;
        if (len > v->max_token_len) v->max_token_len = len;
        at += len + 1;
        v->scores[i] = d->scores ? d->scores[i] : 0.0f;
        int32_t t = d->types ? d->types[i] : TOK_TYPE_NORMAL;
        v->types[i] = (uint8_t)(t >= TOK_TYPE_UNDEFINED && t <= TOK_TYPE_BYTE ? t : TOK_TYPE_UNDEFINED);
    }
    if ((st = strmap_init(&v->by_text, n))) goto fail;
    for (size_t i = 0; i < n; i++) strmap_put(v, (tok_id)i);
    set_byte_tokens(v);
    if ((st = build_eog(v))) goto fail;
    /* The end-of-turn tokens must behave as control tokens even when a
     * converter typed them otherwise (llama.cpp does the same). */
    for (int k = 0; k < v->n_eog; k++)
        if (v->types[v->eog[k]] == TOK_TYPE_NORMAL && v->text_len[v->eog[k]] > 1 &&
            tok__text(v, v->eog[k])[0] == '<')
            v->types[v->eog[k]] = TOK_TYPE_CONTROL;
    if ((st = build_specials(v))) goto fail;
    if ((st = build_pieces(v))) goto fail;
    if (v->model == TOK_MODEL_BPE && (st = tok__bpe_init(v, d->n_merges, d->merges))) goto fail;
    *out = v;
    return SV_OK;
fail:
    tok_vocab_free(v);
    return st;
}

void tok_vocab_free(tok_vocab *v) {
    if (!v) return;
    tok__bpe_free(v);
    free(v->pre);
    free(v->text_blob);
    free(v->text_off);
    free(v->text_len);
    free(v->scores);
    free(v->types);
    free(v->by_text.slots);
    free(v->eog);
    free(v->special);
    free(v->piece_blob);
    free(v->piece_off);
    free(v);
}

/* ---- loading from GGUF ---- */

static sv_status get_id(const gguf_file *f, const char *key, tok_id *out) {
    *out = TOK_NULL;
    if (!gguf_get(f, key)) return SV_OK;
    uint32_t id;
    if (!gguf_get_u32(f, key, &id)) return sv_error(SV_ERR_FORMAT, "%s is not an unsigned integer", key);
    *out = id > (uint32_t)INT32_MAX ? TOK_NULL : (tok_id)id;
    return SV_OK;
}

static sv_status get_flag(const gguf_file *f, const char *key, int *out) {
    *out = -1;
    if (!gguf_get(f, key)) return SV_OK;
    bool b;
    if (!gguf_get_bool(f, key, &b)) return sv_error(SV_ERR_FORMAT, "%s is not a bool", key);
    *out = b;
    return SV_OK;
}

/* String array items as C strings (GGUF strings are NUL-terminated copies;
 * an embedded NUL would silently shorten a token, so it is refused). */
static sv_status get_strings(const gguf_file *f, const char *key, bool required, const char ***out, size_t *n) {
    *out = NULL;
    *n = 0;
    gguf_value_type et;
    uint64_t cnt;
    const gguf_value *a = gguf_get_arr(f, key, &et, &cnt);
    if (!a) {
        if (required || gguf_get(f, key)) return sv_error(SV_ERR_FORMAT, "%s: missing or not an array", key);
        return SV_OK;
    }
    if (et != GGUF_VT_STRING) return sv_error(SV_ERR_FORMAT, "%s: array of %s, not strings", key, gguf_value_type_name(et));
    if (cnt >= (uint64_t)INT32_MAX) return sv_error(SV_ERR_LIMIT, "%s: %llu items", key, (unsigned long long)cnt);
    const char **s = malloc((size_t)(cnt ? cnt : 1) * sizeof *s);
    if (!s) return sv_error(SV_ERR_NOMEM, "%s", key);
    for (uint64_t i = 0; i < cnt; i++) {
        const gguf_value *it = &a->v.arr.items[i];
        if (strlen(it->v.str.ptr) != it->v.str.len) {
            free(s);
            return sv_error(SV_ERR_FORMAT, "%s[%llu] holds a NUL byte", key, (unsigned long long)i);
        }
        s[i] = it->v.str.ptr;
    }
    *out = s;
    *n = (size_t)cnt;
    return SV_OK;
}

sv_status tok_vocab_load(const gguf_file *f, tok_vocab **out) {
    *out = NULL;
    tok_vocab_desc d = tok_vocab_desc_init();
    d.model = gguf_get_str(f, "tokenizer.ggml.model");
    if (!d.model) return sv_error(SV_ERR_FORMAT, "tokenizer.ggml.model: missing or not a string");
    d.pre = gguf_get_str(f, "tokenizer.ggml.pre");
    const char **tokens = NULL, **merges = NULL;
    float *scores = NULL;
    int32_t *types = NULL;
    sv_status st = get_strings(f, "tokenizer.ggml.tokens", true, &tokens, &d.n_tokens);
    if (st) goto done;
    d.tokens = tokens;
    if ((st = get_strings(f, "tokenizer.ggml.merges", false, &merges, &d.n_merges))) goto done;
    d.merges = merges;

    gguf_value_type et;
    uint64_t cnt;
    const gguf_value *a = gguf_get_arr(f, "tokenizer.ggml.scores", &et, &cnt);
    if (a) {
        if (et != GGUF_VT_FLOAT32 || cnt != d.n_tokens) {
            st = sv_error(SV_ERR_FORMAT, "tokenizer.ggml.scores: %llu items of %s for %zu tokens",
                          (unsigned long long)cnt, gguf_value_type_name(et), d.n_tokens);
            goto done;
        }
        scores = malloc(d.n_tokens * sizeof *scores);
        if (!scores) { st = sv_error(SV_ERR_NOMEM, "scores"); goto done; }
        memcpy(scores, a->v.arr.data, d.n_tokens * sizeof *scores);
        d.scores = scores;
    }
    a = gguf_get_arr(f, "tokenizer.ggml.token_type", &et, &cnt);
    if (a) {
        if ((et != GGUF_VT_INT32 && et != GGUF_VT_UINT32) || cnt != d.n_tokens) {
            st = sv_error(SV_ERR_FORMAT, "tokenizer.ggml.token_type: %llu items of %s for %zu tokens",
                          (unsigned long long)cnt, gguf_value_type_name(et), d.n_tokens);
            goto done;
        }
        types = malloc(d.n_tokens * sizeof *types);
        if (!types) { st = sv_error(SV_ERR_NOMEM, "token types"); goto done; }
        memcpy(types, a->v.arr.data, d.n_tokens * sizeof *types);
        d.types = types;
    }
    if ((st = get_id(f, "tokenizer.ggml.bos_token_id", &d.bos)) ||
        (st = get_id(f, "tokenizer.ggml.eos_token_id", &d.eos)) ||
        (st = get_id(f, "tokenizer.ggml.eot_token_id", &d.eot)) ||
        (st = get_id(f, "tokenizer.ggml.unknown_token_id", &d.unk)) ||
        (st = get_id(f, "tokenizer.ggml.seperator_token_id", &d.sep)) ||
        (st = get_id(f, "tokenizer.ggml.padding_token_id", &d.pad)) ||
        (st = get_flag(f, "tokenizer.ggml.add_bos_token", &d.add_bos)) ||
        (st = get_flag(f, "tokenizer.ggml.add_eos_token", &d.add_eos)) ||
        (st = get_flag(f, "tokenizer.ggml.add_space_prefix", &d.add_space_prefix)))
        goto done;
    st = tok_vocab_build(&d, out);
done:
    free(tokens);
    free(merges);
    free(scores);
    free(types);
    return st ? sv_error_prefix(st, "tokenizer: ") : SV_OK;
}

/* ---- accessors ---- */

tok_model tok_vocab_model(const tok_vocab *v) { return v->model; }
const char *tok_vocab_pre(const tok_vocab *v) { return v->pre; }
int32_t tok_vocab_n_tokens(const tok_vocab *v) { return v->n; }
tok_id tok_bos(const tok_vocab *v) { return v->bos; }
tok_id tok_eos(const tok_vocab *v) { return v->eos; }
tok_id tok_eot(const tok_vocab *v) { return v->eot; }
tok_id tok_unk(const tok_vocab *v) { return v->unk; }
tok_id tok_sep(const tok_vocab *v) { return v->sep; }
tok_id tok_pad(const tok_vocab *v) { return v->pad; }
bool tok_add_bos(const tok_vocab *v) { return v->add_bos && v->bos != TOK_NULL; }
bool tok_add_eos(const tok_vocab *v) { return v->add_eos && v->eos != TOK_NULL; }

bool tok_is_eog(const tok_vocab *v, tok_id id) {
    if (id == TOK_NULL) return false;
    for (int k = 0; k < v->n_eog; k++)
        if (v->eog[k] == id) return true;
    return false;
}

const char *tok_token_text(const tok_vocab *v, tok_id id) {
    return id >= 0 && id < v->n ? tok__text(v, id) : NULL;
}

tok_type tok_token_type(const tok_vocab *v, tok_id id) {
    return id >= 0 && id < v->n ? (tok_type)v->types[id] : TOK_TYPE_UNDEFINED;
}

float tok_token_score(const tok_vocab *v, tok_id id) { return id >= 0 && id < v->n ? v->scores[id] : 0.0f; }

tok_id tok_find(const tok_vocab *v, const char *text, size_t len) { return tok__find(v, text, len); }

size_t tok_token_to_piece(const tok_vocab *v, tok_id id, unsigned flags, char *buf, size_t cap) {
    if (id < 0 || id >= v->n) return 0;
    if (!(flags & TOK_DECODE_SPECIAL) && is_control_like(v->types[id])) return 0;
    size_t len = v->piece_off[id + 1] - v->piece_off[id];
    if (buf && cap) memcpy(buf, v->piece_blob + v->piece_off[id], len < cap ? len : cap);
    return len;
}
