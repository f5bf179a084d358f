/* Rendering messages in each template family, mirroring the Jinja of the
 * models' own templates (whitespace handling included). */
#include <stdlib.h>
#include <string.h>

#include "text/chat.h"

typedef struct {
    char *s;
    size_t n, cap;
    bool oom;
} sbuf;

static void put(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}

static void puts_(sbuf *b, const char *s) { put(b, s, strlen(s)); }

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

/* Jinja's trim (Python str.strip()) when `trim`, else the text unchanged. */
static void put_content(sbuf *b, const char *s, bool trim) {
    size_t n = strlen(s);
    if (trim) {
        while (n && is_ws(*s)) s++, n--;
        while (n && is_ws(s[n - 1])) n--;
    }
    put(b, s, n);
}

/* Python's str.strip(chars) variants for one character. */
static void span_strip(const char **s, size_t *n, char c, bool left, bool right) {
    while (left && *n && **s == c) (*s)++, (*n)--;
    while (right && *n && (*s)[*n - 1] == c) (*n)--;
}

static const char *find_n(const char *s, size_t n, const char *needle) {
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (!memcmp(s + i, needle, k)) return s + i;
    return NULL;
}

static const char *find_last_n(const char *s, size_t n, const char *needle) {
    const char *last = NULL;
    for (const char *p = find_n(s, n, needle); p; p = find_n(p + 1, n - (size_t)(p + 1 - s), needle)) last = p;
    return last;
}

static bool role_is(const chat_message *m, const char *r) { return !strcmp(m->role, r); }

static void render_chatml(sbuf *b, const chat_template *t, const chat_message *m, size_t n, const chat_params *p) {
    if (t->default_system && (n == 0 || !role_is(&m[0], "system"))) {
        puts_(b, "<|im_start|>system\n");
        puts_(b, t->default_system);
        puts_(b, "<|im_end|>\n");
    }
    for (size_t i = 0; i < n; i++) {
        puts_(b, "<|im_start|>");
        puts_(b, m[i].role);
        puts_(b, "\n");
        puts_(b, m[i].content);
        puts_(b, "<|im_end|>\n");
    }
    if (p->add_generation_prompt) puts_(b, "<|im_start|>assistant\n");
}

static bool is_tool_response(const char *c) {
    size_t n = strlen(c);
    static const char a[] = "<tool_response>", z[] = "</tool_response>";
    return n >= sizeof a - 1 + sizeof z - 1 && !strncmp(c, a, sizeof a - 1) && !strcmp(c + n - (sizeof z - 1), z);
}

/* Qwen 3: assistant turns after the last user query keep their reasoning in
 * a <think> block; earlier ones lose it. */
static void render_qwen3(sbuf *b, const chat_message *m, size_t n, const chat_params *p) {
    size_t last_query = n ? n - 1 : 0;
    for (size_t i = n; i-- > 0;)
        if (role_is(&m[i], "user") && !is_tool_response(m[i].content)) {
            last_query = i;
            break;
        }
    for (size_t i = 0; i < n; i++) {
        const char *c = m[i].content;
        size_t cn = strlen(c);
        if (role_is(&m[i], "assistant")) {
            const char *r = "";
            size_t rn = 0;
            const char *end = find_n(c, cn, "</think>");
            if (end) {
                r = c;
                rn = (size_t)(end - c);
                span_strip(&r, &rn, '\n', false, true);
                const char *open = find_last_n(r, rn, "<think>");
                if (open) rn -= (size_t)(open + 7 - r), r = open + 7;
                span_strip(&r, &rn, '\n', true, false);
                const char *last = find_last_n(c, cn, "</think>") + 8;
                cn -= (size_t)(last - c);
                c = last;
                span_strip(&c, &cn, '\n', true, false);
            }
            puts_(b, "<|im_start|>assistant\n");
            if (i > last_query && (i + 1 == n || rn > 0)) {
                span_strip(&r, &rn, '\n', true, true);
                puts_(b, "<think>\n");
                put(b, r, rn);
                puts_(b, "\n</think>\n\n");
                span_strip(&c, &cn, '\n', true, false);
            }
            put(b, c, cn);
            puts_(b, "<|im_end|>\n");
        } else {
            puts_(b, "<|im_start|>");
            puts_(b, m[i].role);
            puts_(b, "\n");
            put(b, c, cn);
            puts_(b, "<|im_end|>\n");
        }
    }
    if (p->add_generation_prompt) {
        puts_(b, "<|im_start|>assistant\n");
        if (!p->enable_thinking) puts_(b, "<think>\n\n</think>\n\n");
    }
}

static void render_llama3(sbuf *b, const chat_template *t, const chat_message *m, size_t n, const chat_params *p) {
    if (p->bos_token) puts_(b, p->bos_token);
    for (size_t i = 0; i < n; i++) {
        puts_(b, "<|start_header_id|>");
        puts_(b, m[i].role);
        puts_(b, "<|end_header_id|>\n\n");
        put_content(b, m[i].content, t->trim);
        puts_(b, "<|eot_id|>");
    }
    if (p->add_generation_prompt) puts_(b, "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

/* After an optional leading system turn, turns must go user, assistant, user... */
static sv_status check_alternation(const chat_message *m, size_t n, size_t from, const char *family) {
    for (size_t i = from; i < n; i++) {
        bool want_user = (i - from) % 2 == 0;
        if (role_is(&m[i], "user") != want_user || (!want_user && !role_is(&m[i], "assistant")))
            return sv_error(SV_ERR_INVALID_ARG, "%s chat: roles must alternate user/assistant (message %zu is '%s')",
                            family, i, m[i].role);
    }
    return SV_OK;
}

static sv_status render_gemma(sbuf *b, const chat_message *m, size_t n, const chat_params *p) {
    size_t from = n && role_is(&m[0], "system") ? 1 : 0;
    sv_status st = check_alternation(m, n, from, "Gemma");
    if (st) return st;
    if (p->bos_token) puts_(b, p->bos_token);
    for (size_t i = from; i < n; i++) {
        puts_(b, "<start_of_turn>");
        puts_(b, role_is(&m[i], "assistant") ? "model" : m[i].role);
        puts_(b, "\n");
        if (i == from && from == 1) {
            puts_(b, m[0].content);
            puts_(b, "\n\n");
        }
        put_content(b, m[i].content, true);
        puts_(b, "<end_of_turn>\n");
    }
    if (p->add_generation_prompt) puts_(b, "<start_of_turn>model\n");
    return SV_OK;
}

/* Mistral v0.3: the system prompt goes in front of the last user turn. */
static sv_status render_mistral(sbuf *b, const chat_message *m, size_t n, const chat_params *p) {
    size_t from = n && role_is(&m[0], "system") ? 1 : 0;
    sv_status st = check_alternation(m, n, from, "Mistral");
    if (st) return st;
    if (p->bos_token) puts_(b, p->bos_token);
    for (size_t i = from; i < n; i++) {
        if (role_is(&m[i], "user")) {
            puts_(b, "[INST] ");
            if (from && i + 1 == n) {
                puts_(b, m[0].content);
                puts_(b, "\n\n");
            }
            puts_(b, m[i].content);
            puts_(b, "[/INST]");
        } else {
            puts_(b, " ");
            put_content(b, m[i].content, true);
            if (p->eos_token) puts_(b, p->eos_token);
        }
    }
    return SV_OK;
}

sv_status chat_apply(const chat_template *t, const chat_message *msgs, size_t n, const chat_params *p, char **text,
                     size_t *len) {
    *text = NULL;
    for (size_t i = 0; i < n; i++)
        if (!msgs[i].role || !msgs[i].content)
            return sv_error(SV_ERR_INVALID_ARG, "chat message %zu has no %s", i, msgs[i].role ? "content" : "role");
    chat_params pp = *p;
    pp.add_generation_prompt |= t->always_gen_prompt;
    p = &pp;
    sbuf b = {0};
    sv_status st = SV_OK;
    puts_(&b, "");
    switch (t->kind) {
    case CHAT_TMPL_CHATML: render_chatml(&b, t, msgs, n, p); break;
    case CHAT_TMPL_QWEN3: render_qwen3(&b, msgs, n, p); break;
    case CHAT_TMPL_LLAMA3: render_llama3(&b, t, msgs, n, p); break;
    case CHAT_TMPL_GEMMA: st = render_gemma(&b, msgs, n, p); break;
    case CHAT_TMPL_MISTRAL: st = render_mistral(&b, msgs, n, p); break;
    default: st = sv_error(SV_ERR_INVALID_ARG, "chat template kind %d", (int)t->kind);
    }
    if (!st && b.oom) st = sv_error(SV_ERR_NOMEM, "chat prompt");
    if (st) {
        free(b.s);
        return st;
    }
    *text = b.s;
    if (len) *len = b.n;
    return SV_OK;
}
