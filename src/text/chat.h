/* Chat templates: the prompt formats of the common model families, chosen
 * by recognising the Jinja text a GGUF carries in tokenizer.chat_template
 * (or by name), and rendered natively to the same string HF's
 * apply_chat_template makes. There is no general Jinja interpreter.
 *
 * BOS: HF templates start with {{ bos_token }}. Pass the BOS text in
 * chat_params.bos_token to get HF's exact string (then tokenize with
 * TOK_PARSE_SPECIAL and without TOK_ADD_SPECIAL), or NULL to leave it out
 * (then tokenize with TOK_ADD_SPECIAL, as llama.cpp does). */
#ifndef CHAT_H
#define CHAT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/status.h"

typedef enum {
    CHAT_TMPL_CHATML,  /* <|im_start|>role\n...<|im_end|>\n (Qwen 2 / 2.5, many others) */
    CHAT_TMPL_QWEN3,   /* ChatML with Qwen 3's <think> handling of assistant turns */
    CHAT_TMPL_LLAMA3,  /* <|start_header_id|>role<|end_header_id|>\n\n...<|eot_id|> */
    CHAT_TMPL_GEMMA,   /* <start_of_turn>user\n...<end_of_turn>\n, "model" role, system folded into user */
    CHAT_TMPL_MISTRAL, /* [INST] ...[/INST] answer</s> (Mistral v0.3 style) */
    CHAT_TMPL_COUNT
} chat_tmpl_kind;

typedef struct {
    chat_tmpl_kind kind;
    bool trim;                  /* contents are stripped of surrounding whitespace (Jinja "| trim") */
    const char *default_system; /* system turn added when the messages have none (static), or NULL */
    bool always_gen_prompt;     /* the template opens the assistant turn unconditionally (Llama 3's original) */
} chat_template;

typedef struct {
    const char *role;    /* "system", "user", "assistant" */
    const char *content;
} chat_message;

typedef struct {
    bool add_generation_prompt; /* end with the opening of the assistant's turn */
    bool enable_thinking;       /* Qwen 3: false adds an empty <think></think> block */
    const char *bos_token;      /* text of BOS, or NULL (see above) */
    const char *eos_token;      /* text of EOS (Mistral closes assistant turns with it), or NULL */
} chat_params;

chat_params chat_default_params(void); /* generation prompt on, thinking on, no BOS/EOS text */

/* Recognises the family of a Jinja template text. SV_ERR_UNSUPPORTED when
 * none matches (the message quotes the start of the template). */
sv_status chat_template_detect(const char *jinja, chat_template *out);
/* By name: "chatml", "qwen2.5" (chatml + Qwen's default system), "qwen3",
 * "llama3", "gemma", "mistral". SV_ERR_INVALID_ARG for other names. */
sv_status chat_template_by_name(const char *name, chat_template *out);
const char *chat_template_name(chat_tmpl_kind kind);

/* Renders messages. OUT: *text (malloc'd, NUL-terminated, free()), *len (may
 * be NULL). SV_ERR_INVALID_ARG for a message without role or content, or a
 * conversation the family cannot express (Gemma and Mistral need user and
 * assistant turns to alternate). */
sv_status chat_apply(const chat_template *t, const chat_message *msgs, size_t n, const chat_params *p, char **text,
                     size_t *len);

/* Messages parsed from JSON (owning their strings). */
typedef struct {
    chat_message *msgs;
    size_t n;
    char *storage;
} chat_messages;

/* Parses [{"role": ..., "content": ...}, ...] or {"messages": [...]}. A
 * content that is not a string is refused (SV_ERR_FORMAT). OUT: *out
 * (release with chat_messages_free). */
sv_status chat_messages_from_json(const char *json, size_t len, chat_messages *out);
void chat_messages_free(chat_messages *m);

#endif
