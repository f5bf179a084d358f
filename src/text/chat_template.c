/* Recognising chat template families from their Jinja text, and by name. */
#include <string.h>

#include "text/chat.h"

static const char *const names[CHAT_TMPL_COUNT] = {"chatml", "qwen3", "llama3", "gemma", "mistral"};

_Static_assert(sizeof names / sizeof names[0] == CHAT_TMPL_COUNT, "one name per template kind");

/* The default system prompts of Qwen 2 and Qwen 2.5 instruct templates. */
static const char qwen25_system[] = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";
static const char qwen2_system[] = "You are a helpful assistant.";

const char *chat_template_name(chat_tmpl_kind kind) {
    return kind >= 0 && kind < CHAT_TMPL_COUNT ? names[kind] : "?";
}

chat_params chat_default_params(void) {
    return (chat_params){.add_generation_prompt = true, .enable_thinking = true};
}

/* A ChatML template that writes a fixed system turn when the conversation
 * has none carries it as literal text right after "<|im_start|>system\n". */
static const char *chatml_default_system(const char *jinja) {
    static const char open[] = "<|im_start|>system";
    for (const char *p = strstr(jinja, open); p; p = strstr(p + 1, open)) {
        /* The newline is either a real one or a Jinja escape. */
        const char *lit = p + sizeof open - 1;
        if (lit[0] == '\\' && lit[1] == 'n') lit += 2;
        else if (lit[0] == '\n') lit++;
        else continue;
        if (!strncmp(lit, qwen25_system, sizeof qwen25_system - 1)) return qwen25_system;
        if (!strncmp(lit, qwen2_system, sizeof qwen2_system - 1)) return qwen2_system;
    }
    return NULL;
}

sv_status chat_template_detect(const char *jinja, chat_template *out) {
    memset(out, 0, sizeof *out);
    if (strstr(jinja, "<|im_start|>")) {
        if (strstr(jinja, "<think>")) {
            out->kind = CHAT_TMPL_QWEN3;
        } else {
            out->kind = CHAT_TMPL_CHATML;
            out->default_system = chatml_default_system(jinja);
        }
    } else if (strstr(jinja, "<|start_header_id|>")) {
        out->kind = CHAT_TMPL_LLAMA3;
        out->trim = strstr(jinja, "| trim") || strstr(jinja, "|trim");
    } else if (strstr(jinja, "<start_of_turn>")) {
        out->kind = CHAT_TMPL_GEMMA;
        out->trim = true;
    } else if (strstr(jinja, "[INST]")) {
        out->kind = CHAT_TMPL_MISTRAL;
    } else {
        return sv_error(SV_ERR_UNSUPPORTED, "unrecognised chat template \"%.60s...\" (try --chat-template NAME)",
                        jinja);
    }
    out->always_gen_prompt = !strstr(jinja, "add_generation_prompt");
    return SV_OK;
}

sv_status chat_template_by_name(const char *name, chat_template *out) {
    memset(out, 0, sizeof *out);
    if (!strcmp(name, "qwen2.5") || !strcmp(name, "qwen2")) {
        out->kind = CHAT_TMPL_CHATML;
        out->default_system = !strcmp(name, "qwen2") ? qwen2_system : qwen25_system;
        return SV_OK;
    }
    for (int k = 0; k < CHAT_TMPL_COUNT; k++) {
        if (strcmp(name, names[k])) continue;
        out->kind = (chat_tmpl_kind)k;
        out->trim = k == CHAT_TMPL_LLAMA3 || k == CHAT_TMPL_GEMMA;
        return SV_OK;
    }
    return sv_error(SV_ERR_INVALID_ARG,
                    "unknown chat template '%s' (known: chatml, qwen2, qwen2.5, qwen3, llama3, gemma, mistral)", name);
}
