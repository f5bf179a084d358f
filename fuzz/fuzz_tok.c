/* Tokenizer fuzz target: any bytes -> encode (BPE, SPM, WordPiece vocabularies
 * built in memory, all flag combinations) -> decode and stream-decode. The
 * first input byte picks the vocabulary and flags. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text/tok.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { N_BPE = 256 + 6, N_SPM = 3 + 256 + 8, N_WPM = 8 };
static tok_vocab *vocabs[3];

static char *dup_cp(uint32_t cp) {
    char *s = calloc(1, 5);
    if (cp < 0x80) s[0] = (char)cp;
    else { s[0] = (char)(0xC0 | (cp >> 6)); s[1] = (char)(0x80 | (cp & 0x3F)); }
    return s;
}

/* GPT-2 byte-level chars: printable bytes map to themselves, others to U+0100.. */
static uint32_t byte_cp(int b) {
    if ((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE)) return (uint32_t)b;
    return b <= 0x20 ? 0x100u + (uint32_t)b : b <= 0xA0 ? 0x100u + 33u + (uint32_t)(b - 0x7F) : 0x100u + 67u;
}

static void build(void) {
    static char *bt[N_BPE];
    static int32_t btypes[N_BPE];
    for (int b = 0; b < 256; b++) bt[b] = dup_cp(byte_cp(b)), btypes[b] = TOK_TYPE_NORMAL;
    const char *extra[] = {"\xC4\xA0t", "he", "\xC4\xA0the", "<|im_start|>", "<|im_end|>", "[X]"};
    for (int i = 0; i < 6; i++) bt[256 + i] = strdup(extra[i]), btypes[256 + i] = i < 3 ? 1 : i < 5 ? 3 : 4;
    const char *merges[] = {"\xC4\xA0 t", "h e", "\xC4\xA0t he"};
    tok_vocab_desc d = tok_vocab_desc_init();
    d.model = "gpt2";
    d.pre = "qwen2";
    d.n_tokens = N_BPE;
    d.tokens = (const char *const *)bt;
    d.types = btypes;
    d.n_merges = 3;
    d.merges = merges;
    d.bos = 259;
    d.eos = 260;
    d.add_bos = 1;
    if (tok_vocab_build(&d, &vocabs[0])) abort();

    static char *st[N_SPM];
    static float ss[N_SPM];
    static int32_t stypes[N_SPM];
    const char *sp[] = {"<unk>", "<s>", "</s>"};
    for (int i = 0; i < 3; i++) st[i] = strdup(sp[i]), stypes[i] = i ? 3 : 2;
    for (int b = 0; b < 256; b++) {
        st[3 + b] = malloc(7);
        snprintf(st[3 + b], 7, "<0x%02X>", b);
        stypes[3 + b] = TOK_TYPE_BYTE;
    }
    const char *pieces[] = {"\xE2\x96\x81", "a", "b", "ab", "\u2581ab", "\xC3\xA9", "<start>", "\xE2\x96\x81\xE2\x96\x81"};
    for (int i = 0; i < 8; i++) {
        st[259 + i] = strdup(pieces[i]);
        ss[259 + i] = -(float)i;
        stypes[259 + i] = i == 6 ? 4 : 1;
    }
    d = tok_vocab_desc_init();
    d.model = "llama";
    d.n_tokens = N_SPM;
    d.tokens = (const char *const *)st;
    d.scores = ss;
    d.types = stypes;
    if (tok_vocab_build(&d, &vocabs[1])) abort();

    const char *wt[N_WPM] = {"[UNK]", "[CLS]", "[SEP]", "\xE2\x96\x81hello", "\xE2\x96\x81h", "ello", "\xE2\x96\x81,", "\xE2\x96\x81\xE4\xB8\x96"};
    d = tok_vocab_desc_init();
    d.model = "bert";
    d.n_tokens = N_WPM;
    d.tokens = wt;
    d.unk = 0;
    d.bos = 1;
    d.sep = 2;
    if (tok_vocab_build(&d, &vocabs[2])) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!vocabs[0]) build();
    if (size == 0) return 0;
    const tok_vocab *v = vocabs[data[0] % 3];
    unsigned flags = (unsigned)(data[0] >> 2) & 3u;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    tok_ids ids = {0};
    if (tok_encode(v, text, len, flags, &ids) == SV_OK) {
        for (size_t i = 0; i < ids.n; i++)
            if (ids.ids[i] < 0 || ids.ids[i] >= tok_vocab_n_tokens(v)) abort();
        char *out = NULL;
        size_t olen;
        if (tok_decode(v, ids.ids, ids.n, TOK_DECODE_SPECIAL | TOK_DECODE_STRIP_PREFIX, &out, &olen) == SV_OK) {
            free(out);
        }
        tok_detok_stream s;
        tok_detok_stream_init(&s, v, TOK_DECODE_SPECIAL);
        for (size_t i = 0; i < ids.n; i++) {
            const char *t;
            size_t n;
            if (tok_detok_stream_push(&s, ids.ids[i], &t, &n)) break;
        }
        const char *t;
        size_t n;
        tok_detok_stream_flush(&s, &t, &n);
        tok_detok_stream_free(&s);
    }
    tok_ids_free(&ids);
    return 0;
}
