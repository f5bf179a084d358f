/* Pre-tokenizers of byte-level BPE vocabularies: the split regexes per
 * tokenizer.ggml.pre name (the patterns of the original tokenizer.json files,
 * as llama.cpp lists them), run by PCRE2 with JIT and Unicode properties. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "text/tok_impl.h"

/* Llama 3 / Qwen 2 style: contractions, letters with one leading non-letter,
 * digits, punctuation runs, newlines, other whitespace. */
#define RE_LLAMA3                                                                                        \
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}" \
    "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RE_QWEN2                                                                                      \
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}" \
    "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RE_GPT2 "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)"

typedef struct {
    const char *names; /* '|'-separated, each also terminated by '|' */
    const char *re[6];
} pretok_def;

static const pretok_def defs[] = {
    {"llama3|llama-v3|llama-bpe|falcon3|smaug-bpe|dbrx|chatglm-bpe|", {RE_LLAMA3}},
    {"qwen2|stablelm2|megrez|", {RE_QWEN2}},
    {"gpt-2|phi-2|jina-es|jina-de|gigachat|jina-v1-en|jina-v2-es|jina-v2-de|jina-v2-code|roberta-bpe|mpt|olmo|jais|",
     {RE_GPT2}},
    {"starcoder|refact|command-r|smollm|codeshell|exaone|minerva-7b|", {"\\p{N}", RE_GPT2}},
    {"falcon|", {"[\\p{P}\\$\\+<=>\\^~\\|`]+", RE_GPT2, "[0-9][0-9][0-9]"}},
    /* deepseek-llm's letter class is the expansion of the cased letters
     * (Lu, Ll, Lt); CJK ranges are written as code points. */
    {"deepseek-llm|",
     {"[\\r\\n]", "\\s?[\\p{Lu}\\p{Ll}\\p{Lt}]+",
      "\\s?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+", "\\s+$",
      "[\\x{4E00}-\\x{9FA5}\\x{0800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+", "\\p{N}+"}},
    {"deepseek-coder|",
     {"[\\r\\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", "[\\x{4E00}-\\x{9FA5}\\x{0800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+",
      "\\p{N}"}},
    {"deepseek-v3|",
     {"\\p{N}{1,3}", "[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+",
      "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+"
      "| ?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}},
    {"poro-chat|bloom|gpt3-finnish|",
     {" ?[^(\\s|.,!?\\x{2026}\\x{3002}\\x{FF0C}\\x{3001}\\x{0964}\\x{06D4}\\x{060C})]+"}},
    {"viking|", {" ?[^(\\s|.,!?\\x{2026}\\x{3002}\\x{FF0C}\\x{3001}\\x{0964}\\x{06D4}\\x{060C})]+", "\\p{N}"}},
    {"tekken|",
     {"[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+"
      "|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*|\\p{N}"
      "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}},
    /* gpt-neox and unknown-but-"default" files: llama.cpp's default list. */
    {"default|gpt-neox|", {"[\\p{P}\\$\\+<=>\\^~\\|]+", RE_GPT2, "\\p{N}+", "[0-9][0-9][0-9]"}},
};

struct tok__pretok {
    int n;
    pcre2_code *re[6];
};

static const pretok_def *find_def(const char *pre) {
    size_t len = strlen(pre);
    for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) {
        for (const char *p = defs[i].names; *p;) {
            const char *bar = strchr(p, '|');
            if ((size_t)(bar - p) == len && memcmp(p, pre, len) == 0) return &defs[i];
            p = bar + 1;
        }
    }
    return NULL;
}

bool tok__pretok_known(const char *pre) { return find_def(pre) != NULL; }

sv_status tok__pretok_new(const char *pre, tok__pretok **out) {
    *out = NULL;
    const pretok_def *d = find_def(pre);
    if (!d) return sv_error(SV_ERR_UNSUPPORTED, "unknown pre-tokenizer '%s'", pre);
    tok__pretok *p = calloc(1, sizeof *p);
    if (!p) return sv_error(SV_ERR_NOMEM, "pre-tokenizer");
    for (int i = 0; i < 6 && d->re[i]; i++) {
        int err;
        PCRE2_SIZE erroff;
        /* MATCH_INVALID_UTF: input may hold any bytes; invalid ones never
         * match and so end up in the gaps between matches. */
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)d->re[i], PCRE2_ZERO_TERMINATED,
                                       PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &err, &erroff, NULL);
        if (!re) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(err, msg, sizeof msg);
            tok__pretok_free(p);
            return sv_error(SV_ERR_UNSUPPORTED, "pre-tokenizer '%s' regex %d: %s at %zu", pre, i, (char *)msg,
                            (size_t)erroff);
        }
        /* JIT is a speed-up only; the interpreter gives the same matches. */
        (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
        p->re[p->n++] = re;
    }
    *out = p;
    return SV_OK;
}

void tok__pretok_free(tok__pretok *p) {
    if (!p) return;
    for (int i = 0; i < p->n; i++) pcre2_code_free(p->re[i]);
    free(p);
}

typedef struct {
    size_t off, len;
} span;

typedef struct {
    span *a;
    size_t n, cap;
} spans;

static sv_status spans_push(spans *s, size_t off, size_t len) {
    if (len == 0) return SV_OK;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        span *a = realloc(s->a, cap * sizeof *a);
        if (!a) return sv_error(SV_ERR_NOMEM, "pre-tokenizer pieces");
        s->a = a;
        s->cap = cap;
    }
    s->a[s->n++] = (span){off, len};
    return SV_OK;
}

/* Splits one piece by `re` into matches and the gaps between them. Each
 * piece is matched on its own, so lookaheads do not see past its end. */
static sv_status split_one(pcre2_code *re, pcre2_match_data *md, const char *text, span in, spans *outp) {
    const PCRE2_SPTR subj = (PCRE2_SPTR)(text + in.off);
    size_t pos = 0, gap = 0;
    sv_status st = SV_OK;
    while (pos < in.len) {
        int rc = pcre2_match(re, subj, in.len, pos, 0, md, NULL);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) return sv_error(SV_ERR_INVALID_ARG, "pre-tokenizer regex failed (%d)", rc);
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t ms = ov[0], me = ov[1];
        if (me <= ms) {
            /* An empty match: step past one character and search again. */
            pos = ms + (size_t)tok__utf8_len(subj[ms]);
            continue;
        }
        if ((st = spans_push(outp, in.off + gap, ms - gap))) return st;
        if ((st = spans_push(outp, in.off + ms, me - ms))) return st;
        gap = pos = me;
    }
    return spans_push(outp, in.off + gap, in.len - gap);
}

sv_status tok__pretok_split(const tok__pretok *p, const char *text, size_t len, tok__piece_fn fn, void *ctx) {
    spans a = {0}, b = {0};
    sv_status st = spans_push(&a, 0, len);
    pcre2_match_data *md = NULL;
    if (st) goto done;
    for (int r = 0; r < p->n; r++) {
        if (!md && !(md = pcre2_match_data_create_from_pattern(p->re[r], NULL))) {
            st = sv_error(SV_ERR_NOMEM, "regex match data");
            goto done;
        }
        b.n = 0;
        for (size_t i = 0; i < a.n; i++)
            if ((st = split_one(p->re[r], md, text, a.a[i], &b))) goto done;
        spans t = a;
        a = b;
        b = t;
        pcre2_match_data_free(md);
        md = NULL;
    }
    for (size_t i = 0; i < a.n; i++)
        if ((st = fn(ctx, text + a.a[i].off, a.a[i].len))) goto done;
done:
    pcre2_match_data_free(md);
    free(a.a);
    free(b.a);
    return st;
}
