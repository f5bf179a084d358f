#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "commands.h"
#include "gguf/gguf.h"
#include "text/chat.h"
#include "text/tok.h"

const char cmd_tokenize_summary[] = "tokenize text (or a chat) with a model's vocabulary";

static void usage(FILE *f) {
    fprintf(f,
            "usage: sova tokenize -m MODEL [options] TEXT\n"
            "       sova tokenize -m MODEL [options] -f FILE\n"
            "       sova tokenize -m MODEL --chat MESSAGES.json [--chat-template NAME] [--prompt]\n"
            "       sova tokenize -m MODEL --decode 'ID ID ...'\n\n"
            "Tokenizes with the tokenizer.ggml.* vocabulary of a GGUF file.\n\n"
            "options:\n"
            "  -m, --model FILE       GGUF file holding the vocabulary\n"
            "  -f, --file FILE        read the text from FILE\n"
            "  --ids                  print the ids on one line (default)\n"
            "  --pieces               print one token per line: id and its text\n"
            "  --no-bos               do not add BOS/EOS as the vocabulary asks\n"
            "  --parse-special        match special-token text such as <|im_start|>\n"
            "  --chat FILE            JSON messages [{\"role\":..,\"content\":..}] rendered with the\n"
            "                         model's chat template (special tokens parsed)\n"
            "  --chat-template NAME   chatml, qwen2, qwen2.5, qwen3, llama3, gemma, mistral\n"
            "  --chat-template-file F recognise the template family from the Jinja text in F\n"
            "  --no-generation-prompt do not open the assistant's turn\n"
            "  --prompt               print the rendered chat prompt instead of ids\n"
            "  --decode               TEXT is a list of ids: print their text\n");
}

static char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        sv_error(SV_ERR_IO, "cannot open %s", path);
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    for (size_t k; b && (k = fread(b + n, 1, cap - n - 1, f)) > 0;) {
        n += k;
        if (cap - n < 2) {
            char *p = realloc(b, cap * 2);
            if (!p) {
                free(b);
                b = NULL;
                break;
            }
            b = p;
            cap *= 2;
        }
    }
    bool err = ferror(f);
    fclose(f);
    if (!b || err) {
        free(b);
        sv_error(b ? SV_ERR_IO : SV_ERR_NOMEM, "reading %s", path);
        return NULL;
    }
    b[n] = 0;
    *len = n;
    return b;
}

static void print_piece(const tok_vocab *v, tok_id id) {
    char buf[256];
    size_t n = tok_token_to_piece(v, id, TOK_DECODE_SPECIAL, buf, sizeof buf);
    printf("%6d '", id);
    for (size_t i = 0; i < n && i < sizeof buf; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c == '\n') printf("\\n");
        else if (c == '\t') printf("\\t");
        else if (c == '\r') printf("\\r");
        else if (c == '\'' || c == '\\') printf("\\%c", c);
        else if (c < 0x20 || c == 0x7F) printf("\\x%02x", c);
        else putchar(c);
    }
    printf("'\n");
}

static int decode_ids(const tok_vocab *v, const char *text) {
    tok_ids ids = {0};
    for (const char *p = text;;) {
        char *q;
        long x = strtol(p, &q, 10);
        if (q == p) break;
        if (x < 0 || x >= tok_vocab_n_tokens(v)) {
            tok_ids_free(&ids);
            sv_error(SV_ERR_INVALID_ARG, "token id %ld out of range (vocabulary of %d)", x, tok_vocab_n_tokens(v));
            return cmd_fail("tokenize");
        }
        if (tok_ids_push(&ids, (tok_id)x)) return cmd_fail("tokenize");
        p = q;
        while (*p == ',' || *p == ' ' || *p == '\n' || *p == '[' || *p == ']') p++;
    }
    char *out = NULL;
    size_t len = 0;
    sv_status st = tok_decode(v, ids.ids, ids.n, TOK_DECODE_SPECIAL | TOK_DECODE_STRIP_PREFIX, &out, &len);
    tok_ids_free(&ids);
    if (st) return cmd_fail("tokenize");
    fwrite(out, 1, len, stdout);
    putchar('\n');
    free(out);
    return 0;
}

/* Renders the chat in `json` with the model's template (or `name`). */
static char *render_chat(const gguf_file *g, const tok_vocab *v, const char *json, size_t jlen, const char *name,
                         const char *tmpl_file, bool gen_prompt, size_t *len) {
    chat_template t;
    sv_status st;
    if (name) {
        st = chat_template_by_name(name, &t);
    } else if (tmpl_file) {
        size_t n;
        char *jinja = read_all(tmpl_file, &n);
        if (!jinja) return NULL;
        st = chat_template_detect(jinja, &t);
        free(jinja);
    } else {
        const char *jinja = gguf_get_str(g, "tokenizer.chat_template");
        st = jinja ? chat_template_detect(jinja, &t)
                   : sv_error(SV_ERR_UNSUPPORTED, "the model has no tokenizer.chat_template (use --chat-template)");
    }
    if (st) return NULL;
    chat_messages msgs;
    if (chat_messages_from_json(json, jlen, &msgs)) return NULL;
    chat_params p = chat_default_params();
    p.add_generation_prompt = gen_prompt;
    p.bos_token = tok_add_bos(v) ? tok_token_text(v, tok_bos(v)) : NULL;
    p.eos_token = tok_token_text(v, tok_eos(v));
    char *out = NULL;
    st = chat_apply(&t, msgs.msgs, msgs.n, &p, &out, len);
    chat_messages_free(&msgs);
    return st ? NULL : out;
}

int cmd_tokenize_main(int argc, char **argv) {
    if (cmd_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    const char *model = NULL, *file = NULL, *text = NULL, *chat = NULL, *tmpl = NULL, *tmpl_file = NULL;
    bool pieces = false, add_special = true, parse_special = false, gen_prompt = true, show_prompt = false,
         decode = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_val = i + 1 < argc;
        if ((!strcmp(a, "-m") || !strcmp(a, "--model")) && has_val) model = argv[++i];
        else if ((!strcmp(a, "-f") || !strcmp(a, "--file")) && has_val) file = argv[++i];
        else if (!strcmp(a, "--chat") && has_val) chat = argv[++i];
        else if (!strcmp(a, "--chat-template") && has_val) tmpl = argv[++i];
        else if (!strcmp(a, "--chat-template-file") && has_val) tmpl_file = argv[++i];
        else if (!strcmp(a, "--ids")) pieces = false;
        else if (!strcmp(a, "--pieces")) pieces = true;
        else if (!strcmp(a, "--no-bos")) add_special = false;
        else if (!strcmp(a, "--parse-special")) parse_special = true;
        else if (!strcmp(a, "--no-generation-prompt")) gen_prompt = false;
        else if (!strcmp(a, "--prompt")) show_prompt = true;
        else if (!strcmp(a, "--decode")) decode = true;
        else if (a[0] == '-' && a[1] != 0) {
            fprintf(stderr, "sova tokenize: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return 2;
        } else if (!text) text = a;
        else {
            fprintf(stderr, "sova tokenize: more than one TEXT argument\n");
            return 2;
        }
    }
    if (!model || (!text && !file && !chat) || (text && file) || (chat && (text || file))) {
        usage(stderr);
        return 2;
    }
    gguf_open_params gp = gguf_default_open_params();
    gp.map_data = false;
    gguf_file *g = NULL;
    tok_vocab *v = NULL;
    char *buf = NULL;
    int rc = 1;
    if (gguf_open(model, &gp, &g) || tok_vocab_load(g, &v)) goto fail;
    if (decode) {
        rc = file ? 2 : decode_ids(v, text ? text : "");
        goto done;
    }
    size_t len = 0;
    if (chat) {
        size_t jlen;
        char *json = read_all(chat, &jlen);
        if (!json) goto fail;
        buf = render_chat(g, v, json, jlen, tmpl, tmpl_file, gen_prompt, &len);
        free(json);
        if (!buf) goto fail;
        if (show_prompt) {
            fwrite(buf, 1, len, stdout);
            rc = 0;
            goto done;
        }
        /* The rendered prompt carries BOS and the turn markers as text. */
        add_special = false;
        parse_special = true;
    } else if (file) {
        if (!(buf = read_all(file, &len))) goto fail;
    } else {
        len = strlen(text);
    }
    tok_ids ids = {0};
    unsigned flags = (add_special ? TOK_ADD_SPECIAL : 0u) | (parse_special ? TOK_PARSE_SPECIAL : 0u);
    if (tok_encode(v, buf ? buf : text, len, flags, &ids)) goto fail;
    for (size_t i = 0; i < ids.n; i++) {
        if (pieces) print_piece(v, ids.ids[i]);
        else printf(i ? " %d" : "%d", ids.ids[i]);
    }
    if (!pieces) putchar('\n');
    tok_ids_free(&ids);
    rc = 0;
    goto done;
fail:
    rc = cmd_fail("tokenize");
done:
    free(buf);
    tok_vocab_free(v);
    gguf_free(g);
    return rc;
}
