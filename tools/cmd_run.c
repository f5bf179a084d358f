/* sova run: text generation from a prompt or an interactive chat, streamed to
 * stdout, with load time and speeds on stderr. Uses only the public API. */
#include <stdio.h>

#include "commands.h"
#include "run_util.h"
#include "sova.h"

const char cmd_run_summary[] = "generate text with a model (prompt or interactive chat)";

static void usage(FILE *f) {
    fprintf(f,
            "usage: sova run -m MODEL [-p TEXT | -f FILE | --prompt-ids 'ID ...'] [options]\n"
            "       sova run -m MODEL --chat [-p FIRST_MESSAGE] [options]\n\n"
            "Generates text after the prompt and streams it to stdout; load time and\n"
            "prompt/generation speeds go to stderr.\n\n"
            "options:\n"
            "  -m, --model FILE       GGUF model\n"
            "  -p, --prompt TEXT      prompt text (special tokens such as <|im_start|> are parsed)\n"
            "  -f, --file FILE        read the prompt from FILE\n"
            "  --prompt-ids 'ID ...'  the prompt as token ids\n"
            "  -n, --n-predict N      tokens to generate (default 128; -1: until end of text)\n"
            "  -c, --ctx-size N       context size in tokens (default 4096, 0: the model's)\n"
            "  -b, --batch-size N     tokens per decode call (default 2048)\n"
            "  -ub, --ubatch-size N   tokens per compute step (default 512)\n"
            "  -t, --threads N        threads (default: all cores)\n"
            "  --temp T               temperature (default 0.8; 0: greedy)\n"
            "  --top-k N              (default 40; 0: off)\n"
            "  --top-p P              (default 0.95; 1: off)\n"
            "  --min-p P              (default 0.05; 0: off)\n"
            "  --repeat-penalty R     (default 1: off)\n"
            "  --repeat-last-n N      tokens the penalty looks at (default 64)\n"
            "  --seed N               random seed (default: from the clock)\n"
            "  --keep N               tokens kept at a context shift (default: the prompt's first)\n"
            "  --no-context-shift     stop with an error when the context is full\n"
            "  --cache-type-k T, --cache-type-v T   f16 (default), f32 or q8_0\n"
            "  --chat                 chat with the model's template (interactive without -p)\n"
            "  --chat-template NAME   chatml, qwen2.5, qwen3, llama3, gemma, mistral\n"
            "  -sys, --system TEXT    system message for --chat\n"
            "  --ids                  print generated token ids instead of text\n"
            "  --no-stats             do not print timings\n");
}

int cmd_run_main(int argc, char **argv) {
    if (cmd_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    run_opts o;
    if (run_parse_args(argc, argv, &o) != 0) {
        usage(stderr);
        return 2;
    }
    run_state r;
    if (run_open(&o, &r) != SOVA_OK) {
        run_close(&r);
        run_free_opts(&o);
        return cmd_fail("run");
    }
    sova_status st = o.chat ? run_chat(&o, &r) : run_prompt(&o, &r);
    int code = 0;
    if (st != SOVA_OK) code = cmd_fail("run");
    if (o.stats) run_print_stats(&r);
    run_close(&r);
    run_free_opts(&o);
    return code;
}
