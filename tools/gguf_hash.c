/* `sova gguf hash`, `manifest` and `verify`. */
#include <stdio.h>
#include <string.h>

#include "base/status.h"
#include "commands.h"
#include "gguf/gguf.h"
#include "gguf/manifest.h"
#include "gguf_cmd.h"

/* Per-tensor and model lines come in this algorithm order, as
 * llama-gguf-hash prints them (xxh128 is ours, placed after xxh3). */
static const gguf_hash_algo k_order[] = {GGUF_HASH_XXH64, GGUF_HASH_XXH3, GGUF_HASH_XXH128, GGUF_HASH_SHA1,
                                         GGUF_HASH_SHA256};

static void hash_usage(FILE *f) {
    fprintf(f,
            "usage: sova gguf hash [OPTIONS] FILE\n\n"
            "Hashes every tensor's data and the whole model (all tensor data in tensor order,\n"
            "so metadata edits do not change it). Output matches llama.cpp's llama-gguf-hash:\n"
            "  ALGO      HEX  FILE:TENSOR     one line per tensor and algorithm\n"
            "  ALGO      HEX  FILE            one line per algorithm for the whole model\n\n"
            "options:\n"
            "  --xxh64        xxHash64 (the default when no algorithm is chosen)\n"
            "  --xxh3         XXH3 64-bit\n"
            "  --xxh128       XXH3 128-bit (not in llama-gguf-hash)\n"
            "  --sha1         SHA-1\n"
            "  --sha256       SHA-256\n"
            "  --all          xxh64, xxh3, sha1 and sha256\n"
            "  --uuid         UUIDv5 of the model data\n"
            "  --no-layer     only the whole-model lines\n"
            "  --no-model     only the per-tensor lines (not in llama-gguf-hash): skips the\n"
            "                 whole-model streams, which are sequential, so all threads hash tensors\n"
            "  -t N           threads (default: all cores)\n"
            "  -h, --help     this help\n");
}

static gguf_file *open_or_fail(const char *cmd, const char *path) {
    gguf_file *f = NULL;
    if (gguf_open(path, NULL, &f) != SV_OK) {
        fprintf(stderr, "sova gguf %s: %s\n", cmd, sv_errmsg());
        return NULL;
    }
    return f;
}

int gguf_cmd_hash(int argc, char **argv) {
    unsigned algos = 0;
    bool no_layer = false, no_model = false, uuid = false;
    int threads = 0;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            hash_usage(stdout);
            return 0;
        } else if (!strcmp(a, "--xxh64")) algos |= GGUF_HASH_BIT(GGUF_HASH_XXH64);
        else if (!strcmp(a, "--xxh3")) algos |= GGUF_HASH_BIT(GGUF_HASH_XXH3);
        else if (!strcmp(a, "--xxh128")) algos |= GGUF_HASH_BIT(GGUF_HASH_XXH128);
        else if (!strcmp(a, "--sha1")) algos |= GGUF_HASH_BIT(GGUF_HASH_SHA1);
        else if (!strcmp(a, "--sha256")) algos |= GGUF_HASH_BIT(GGUF_HASH_SHA256);
        else if (!strcmp(a, "--all"))
            algos |= GGUF_HASH_BIT(GGUF_HASH_XXH64) | GGUF_HASH_BIT(GGUF_HASH_XXH3) | GGUF_HASH_BIT(GGUF_HASH_SHA1) |
                     GGUF_HASH_BIT(GGUF_HASH_SHA256);
        else if (!strcmp(a, "--uuid")) uuid = true;
        else if (!strcmp(a, "--no-layer")) no_layer = true;
        else if (!strcmp(a, "--no-model")) no_model = true;
        else if (!strcmp(a, "-t")) {
            if (!gguf_cmd_threads(i + 1 < argc ? argv[++i] : NULL, &threads)) {
                fprintf(stderr, "sova gguf hash: -t needs a positive thread count\n");
                return 2;
            }
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "sova gguf hash: unknown option '%s'\n", a);
            hash_usage(stderr);
            return 2;
        } else if (!path) path = a;
        else {
            fprintf(stderr, "sova gguf hash: more than one FILE\n");
            return 2;
        }
    }
    if (!path) {
        hash_usage(stderr);
        return 2;
    }
    if (no_layer && no_model) {
        fprintf(stderr, "sova gguf hash: --no-layer and --no-model leave nothing to print\n");
        return 2;
    }
    if (!algos && !uuid) algos = GGUF_HASH_BIT(GGUF_HASH_XXH64);
    gguf_file *f = open_or_fail("hash", path);
    if (!f) return 1;
    gguf_hash_params p = {.tensor_algos = no_layer ? 0 : algos,
                          .model_algos = (no_model ? 0u : algos) | (uuid ? GGUF_HASH_BIT(GGUF_HASH_UUID) : 0u),
                          .n_threads = threads,
                          .progress = true};
    gguf_hashes *h;
    if (gguf_hash_file(f, &p, &h) != SV_OK) {
        gguf_free(f);
        return cmd_fail("gguf hash");
    }
    for (int64_t i = 0; i < gguf_tensor_count(f) && !no_layer; i++)
        for (size_t k = 0; k < sizeof k_order / sizeof *k_order; k++)
            if (algos & GGUF_HASH_BIT(k_order[k]))
                printf("%-8s  %s  %s:%s\n", gguf_hash_name(k_order[k]), h->tensor[i][k_order[k]], path,
                       gguf_tensor(f, i)->name);
    for (size_t k = 0; k < sizeof k_order / sizeof *k_order && !no_model; k++)
        if (algos & GGUF_HASH_BIT(k_order[k]))
            printf("%-8s  %s  %s\n", gguf_hash_name(k_order[k]), h->model[k_order[k]], path);
    if (uuid) printf("%-8s  %s  %s\n", "uuid", h->model[GGUF_HASH_UUID], path);
    gguf_hashes_free(h);
    gguf_free(f);
    return fflush(stdout) == 0 ? 0 : 1;
}

int gguf_cmd_manifest(int argc, char **argv) {
    const char *path = NULL, *out_path = NULL;
    int threads = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: sova gguf manifest FILE [-o OUT] [-t N]\n\n"
                   "Writes a JSON manifest (docs/gguf-manifest.md): file size, metadata hash, and for\n"
                   "every tensor its name, type, shape, offset, bytes, xxh64 and sha256; to OUT or stdout.\n");
            return 0;
        } else if (!strcmp(argv[i], "-o") && i + 1 < argc) out_path = argv[++i];
        else if (!strcmp(argv[i], "-t")) {
            if (!gguf_cmd_threads(i + 1 < argc ? argv[++i] : NULL, &threads)) {
                fprintf(stderr, "sova gguf manifest: -t needs a positive thread count\n");
                return 2;
            }
        } else if (argv[i][0] != '-' && !path) path = argv[i];
        else {
            fprintf(stderr, "sova gguf manifest: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "usage: sova gguf manifest FILE [-o OUT] [-t N]\n");
        return 2;
    }
    gguf_file *f = open_or_fail("manifest", path);
    if (!f) return 1;
    FILE *out = out_path ? fopen(out_path, "w") : stdout;
    if (!out) {
        perror(out_path);
        gguf_free(f);
        return 1;
    }
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    gguf_hash_params p = {.n_threads = threads, .progress = true};
    sv_status st = gguf_manifest_write(f, name, &p, out);
    int closed = out_path ? fclose(out) : fflush(out);
    gguf_free(f);
    if (st) return cmd_fail("gguf manifest");
    if (closed != 0) {
        fprintf(stderr, "sova gguf manifest: write failed\n");
        return 1;
    }
    return 0;
}

int gguf_cmd_verify(int argc, char **argv) {
    const char *path = NULL, *manifest = NULL;
    int threads = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: sova gguf verify FILE MANIFEST [-t N]\n\n"
                   "Compares FILE's tensors with MANIFEST: a JSON manifest from 'sova gguf manifest', or\n"
                   "the text that 'llama-gguf-hash' (or 'sova gguf hash') prints. Names every tensor that\n"
                   "differs, is missing from FILE, or is not in MANIFEST. Exit 0 when all match, 1 otherwise.\n");
            return 0;
        } else if (!strcmp(argv[i], "-t")) {
            if (!gguf_cmd_threads(i + 1 < argc ? argv[++i] : NULL, &threads)) {
                fprintf(stderr, "sova gguf verify: -t needs a positive thread count\n");
                return 2;
            }
        } else if (argv[i][0] != '-' && !path) path = argv[i];
        else if (argv[i][0] != '-' && !manifest) manifest = argv[i];
        else {
            fprintf(stderr, "sova gguf verify: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!path || !manifest) {
        fprintf(stderr, "usage: sova gguf verify FILE MANIFEST [-t N]\n");
        return 2;
    }
    gguf_file *f = open_or_fail("verify", path);
    if (!f) return 1;
    gguf_hash_params p = {.n_threads = threads, .progress = true};
    int problems = 0;
    sv_status st = gguf_manifest_verify(f, manifest, &p, stdout, &problems);
    int64_t nt = gguf_tensor_count(f);
    gguf_free(f);
    if (st) return cmd_fail("gguf verify");
    if (problems) {
        printf("FAILED: %d difference%s between %s and %s\n", problems, problems == 1 ? "" : "s", path, manifest);
        return 1;
    }
    printf("OK: %lld tensors of %s match %s\n", (long long)nt, path, manifest);
    return 0;
}
