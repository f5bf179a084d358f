/* `sova gguf`: inspect, hash and verify GGUF files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf_cmd.h"
#include "gguf_synth.h"

const char cmd_gguf_summary[] = "inspect, hash, verify and synthesize GGUF files (info, hash, manifest, verify, synth)";

static void usage(FILE *f) {
    fprintf(f,
            "usage: sova gguf COMMAND [ARGS...]\n\n"
            "commands:\n"
            "  info FILE [--tensors] [--json]       architecture, hyperparameters, tensors, vocabulary\n"
            "  hash [OPTIONS] FILE                  per-tensor and whole-model hashes (llama-gguf-hash format)\n"
            "  manifest FILE [-o OUT] [-t N]        JSON manifest with per-tensor xxh64 and sha256\n"
            "  verify FILE MANIFEST [-t N]          compare with a manifest (JSON or llama-gguf-hash text)\n"
            "  synth --like NAME --vocab V --type T -o OUT   random-weight copy of a real model's layout\n"
            "\n'sova gguf COMMAND --help' describes one command.\n");
}

int gguf_cmd_threads(const char *s, int *n) {
    char *end;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || *end || v < 1 || v > 1024) return 0;
    *n = (int)v;
    return 1;
}

int cmd_gguf_main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "info")) return gguf_cmd_info(argc - 1, argv + 1);
    if (!strcmp(sub, "hash")) return gguf_cmd_hash(argc - 1, argv + 1);
    if (!strcmp(sub, "manifest")) return gguf_cmd_manifest(argc - 1, argv + 1);
    if (!strcmp(sub, "verify")) return gguf_cmd_verify(argc - 1, argv + 1);
    if (!strcmp(sub, "synth")) return gguf_cmd_synth(argc - 1, argv + 1);
    fprintf(stderr, "sova gguf: unknown command '%s'\n", sub);
    usage(stderr);
    return 2;
}
