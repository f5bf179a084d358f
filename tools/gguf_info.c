/* `sova gguf info`: what a GGUF file holds, for people (text) or programs (--json). */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "base/status.h"
#include "commands.h"
#include "gguf/gguf.h"
#include "gguf_cmd.h"

static void info_usage(FILE *f) {
    fprintf(f, "usage: sova gguf info FILE [--tensors] [--json]\n\n"
               "Prints the architecture, its hyperparameters (every scalar {arch}.* key), tensor counts\n"
               "by type, total parameters and bytes, vocabulary size and tokenizer model, and whether a\n"
               "chat template is present.\n"
               "  --tensors   also list every tensor: name, type, shape, file offset, bytes\n"
               "  --json      one JSON object instead of text\n");
}

/* A scalar value as JSON (NULL for strings and arrays). */
static json_t *scalar_json(const gguf_value *v) {
    switch (v->type) {
    case GGUF_VT_INT8: case GGUF_VT_INT16: case GGUF_VT_INT32: case GGUF_VT_INT64: return json_integer(v->v.i64);
    case GGUF_VT_FLOAT32: case GGUF_VT_FLOAT64: return json_real(v->v.f64);
    case GGUF_VT_BOOL: return json_boolean(v->v.u64 != 0);
    case GGUF_VT_UINT8: case GGUF_VT_UINT16: case GGUF_VT_UINT32: case GGUF_VT_UINT64:
        return v->v.u64 <= INT64_MAX ? json_integer((json_int_t)v->v.u64) : json_real((double)v->v.u64);
    default: return NULL;
    }
}

static void print_scalar(const gguf_value *v) {
    switch (v->type) {
    case GGUF_VT_INT8: case GGUF_VT_INT16: case GGUF_VT_INT32: case GGUF_VT_INT64: printf("%lld", (long long)v->v.i64); break;
    case GGUF_VT_FLOAT32: printf("%g", (double)(float)v->v.f64); break;
    case GGUF_VT_FLOAT64: printf("%.17g", v->v.f64); break;
    case GGUF_VT_BOOL: printf("%s", v->v.u64 ? "true" : "false"); break;
    default: printf("%llu", (unsigned long long)v->v.u64); break;
    }
}

static void print_shape(const gguf_tensor_info *t, char *buf, size_t n) {
    size_t at = 0;
    buf[0] = 0;
    for (int d = 0; d < t->n_dims && at < n; d++) {
        int k = snprintf(buf + at, n - at, d ? " x %lld" : "%lld", (long long)t->ne[d]);
        if (k > 0) at += (size_t)k;
    }
    if (!t->n_dims) snprintf(buf, n, "scalar");
}

static void human_bytes(uint64_t b, char *buf, size_t n) {
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double x = (double)b;
    int u = 0;
    while (x >= 1024 && u < 4) x /= 1024, u++;
    snprintf(buf, n, u ? "%.2f %s" : "%.0f %s", x, units[u]);
}

int gguf_cmd_info(int argc, char **argv) {
    bool tensors = false, as_json = false;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            info_usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--tensors")) tensors = true;
        else if (!strcmp(argv[i], "--json")) as_json = true;
        else if (argv[i][0] != '-' && !path) path = argv[i];
        else {
            fprintf(stderr, "sova gguf info: unexpected argument '%s'\n", argv[i]);
            info_usage(stderr);
            return 2;
        }
    }
    if (!path) {
        info_usage(stderr);
        return 2;
    }
    gguf_open_params op = gguf_default_open_params();
    op.map_data = false;
    gguf_file *f = NULL;
    if (gguf_open(path, &op, &f) != SV_OK) return cmd_fail("gguf info");

    const char *arch = gguf_get_str(f, "general.architecture");
    const char *name = gguf_get_str(f, "general.name");
    size_t alen = arch ? strlen(arch) : 0;
    int64_t nt = gguf_tensor_count(f);
    int64_t by_type[GGUF_TYPE_COUNT] = {0};
    uint64_t params = 0, bytes = 0, file_bytes = 0;
    for (int64_t i = 0; i < nt; i++) {
        const gguf_tensor_info *t = gguf_tensor(f, i);
        by_type[t->type]++;
        params += (uint64_t)(t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]);
        bytes += t->size;
    }
    for (int s = 0; s < gguf_split_count(f); s++) file_bytes += gguf_split_file_size(f, s);
    gguf_value_type et;
    uint64_t n_vocab = 0;
    bool have_vocab = gguf_get_arr(f, "tokenizer.ggml.tokens", &et, &n_vocab) != NULL;
    const char *tok_model = gguf_get_str(f, "tokenizer.ggml.model");
    const char *tok_pre = gguf_get_str(f, "tokenizer.ggml.pre");
    const char *chat = gguf_get_str(f, "tokenizer.chat_template");

    if (as_json) {
        json_t *o = json_object(), *hp = json_object(), *types = json_object();
        json_object_set_new(o, "file", json_string(path));
        json_object_set_new(o, "splits", json_integer(gguf_split_count(f)));
        json_object_set_new(o, "file_size", json_integer((json_int_t)file_bytes));
        json_object_set_new(o, "gguf_version", json_integer(gguf_version(f)));
        json_object_set_new(o, "alignment", json_integer(gguf_alignment(f)));
        json_object_set_new(o, "architecture", arch ? json_string(arch) : json_null());
        json_object_set_new(o, "name", name ? json_string(name) : json_null());
        for (int64_t i = 0; i < gguf_kv_count(f) && arch; i++) {
            const char *k = gguf_kv_key(f, i);
            json_t *v = strncmp(k, arch, alen) == 0 && k[alen] == '.' ? scalar_json(gguf_kv_value(f, i)) : NULL;
            if (v) json_object_set_new(hp, k + alen + 1, v);
        }
        json_object_set_new(o, "hyperparameters", hp);
        json_object_set_new(o, "tensor_count", json_integer(nt));
        for (int t = 0; t < GGUF_TYPE_COUNT; t++)
            if (by_type[t]) json_object_set_new(types, gguf_type_name((gguf_type)t), json_integer(by_type[t]));
        json_object_set_new(o, "tensor_types", types);
        json_object_set_new(o, "parameters", json_integer((json_int_t)params));
        json_object_set_new(o, "tensor_bytes", json_integer((json_int_t)bytes));
        json_object_set_new(o, "vocab_size", have_vocab ? json_integer((json_int_t)n_vocab) : json_null());
        json_object_set_new(o, "tokenizer_model", tok_model ? json_string(tok_model) : json_null());
        json_object_set_new(o, "tokenizer_pre", tok_pre ? json_string(tok_pre) : json_null());
        json_object_set_new(o, "chat_template", json_boolean(chat != NULL));
        if (tensors) {
            json_t *arr = json_array();
            for (int64_t i = 0; i < nt; i++) {
                const gguf_tensor_info *t = gguf_tensor(f, i);
                json_t *shape = json_array();
                for (int d = 0; d < t->n_dims; d++) json_array_append_new(shape, json_integer(t->ne[d]));
                json_array_append_new(arr, json_pack("{s:s, s:s, s:o, s:i, s:I, s:I}", "name", t->name, "type",
                                                     gguf_type_name(t->type), "shape", shape, "split", t->split,
                                                     "offset", (json_int_t)t->file_offset, "bytes",
                                                     (json_int_t)t->size));
            }
            json_object_set_new(o, "tensors", arr);
        }
        int rc = json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        putchar('\n');
        json_decref(o);
        gguf_free(f);
        return rc == 0 ? 0 : 1;
    }

    char buf[64];
    printf("file:            %s", path);
    if (gguf_split_count(f) > 1) printf(" (%d split files)", gguf_split_count(f));
    human_bytes(file_bytes, buf, sizeof buf);
    printf("\nsize:            %llu bytes (%s)\n", (unsigned long long)file_bytes, buf);
    printf("gguf version:    %u, alignment %u\n", gguf_version(f), gguf_alignment(f));
    printf("architecture:    %s\n", arch ? arch : "(none)");
    if (name) printf("name:            %s\n", name);
    if (arch) {
        printf("hyperparameters:\n");
        for (int64_t i = 0; i < gguf_kv_count(f); i++) {
            const char *k = gguf_kv_key(f, i);
            const gguf_value *v = gguf_kv_value(f, i);
            if (strncmp(k, arch, alen) != 0 || k[alen] != '.' || v->type == GGUF_VT_STRING || v->type == GGUF_VT_ARRAY)
                continue;
            printf("  %-40s ", k + alen + 1);
            print_scalar(v);
            putchar('\n');
        }
    }
    printf("tensors:         %lld", (long long)nt);
    const char *sep = " (";
    for (int t = 0; t < GGUF_TYPE_COUNT; t++)
        if (by_type[t]) {
            printf("%s%s: %lld", sep, gguf_type_name((gguf_type)t), (long long)by_type[t]);
            sep = ", ";
        }
    printf("%s\n", nt ? ")" : "");
    printf("parameters:      %llu\n", (unsigned long long)params);
    human_bytes(bytes, buf, sizeof buf);
    printf("tensor bytes:    %llu (%s)\n", (unsigned long long)bytes, buf);
    if (have_vocab)
        printf("vocabulary:      %llu tokens, model %s%s%s%s\n", (unsigned long long)n_vocab,
               tok_model ? tok_model : "?", tok_pre ? " (pre " : "", tok_pre ? tok_pre : "", tok_pre ? ")" : "");
    else printf("vocabulary:      none\n");
    printf("chat template:   %s\n", chat ? "yes" : "no");
    if (tensors) {
        printf("\n%5s  %-40s %-8s %-24s %12s %12s\n", "#", "name", "type", "shape", "offset", "bytes");
        for (int64_t i = 0; i < nt; i++) {
            const gguf_tensor_info *t = gguf_tensor(f, i);
            char shape[96];
            print_shape(t, shape, sizeof shape);
            printf("%5lld  %-40s %-8s %-24s %12llu %12llu\n", (long long)i, t->name, gguf_type_name(t->type), shape,
                   (unsigned long long)t->file_offset, (unsigned long long)t->size);
        }
    }
    gguf_free(f);
    return fflush(stdout) == 0 ? 0 : 1;
}
