/* JSON manifests (docs/gguf-manifest.md) and verification against them or
 * against llama-gguf-hash's text output. */
#include "gguf/manifest.h"

#include <ctype.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"

enum { MANIFEST_VERSION = 1, MAX_MANIFEST_BYTES = 1 << 30 };

static const char k_format[] = "sova-gguf-manifest";

static const char *base_name(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static sv_status json_fail(void) { return sv_error(SV_ERR_NOMEM, "out of memory building the manifest"); }

sv_status gguf_manifest_write(const gguf_file *f, const char *display_name, const gguf_hash_params *p, FILE *out) {
    gguf_hash_params hp = *p;
    hp.tensor_algos = GGUF_HASH_BIT(GGUF_HASH_XXH64) | GGUF_HASH_BIT(GGUF_HASH_SHA256);
    hp.model_algos = hp.tensor_algos;
    gguf_hashes *h;
    sv_status st = gguf_hash_file(f, &hp, &h);
    if (st) return st;
    json_t *root = json_object(), *splits = json_array(), *tensors = json_array(), *model = json_object();
    if (!root || !splits || !tensors || !model) {
        json_decref(root), json_decref(splits), json_decref(tensors), json_decref(model);
        gguf_hashes_free(h);
        return json_fail();
    }
    uint64_t total = 0;
    char hex[GGUF_HASH_HEX], meta0[GGUF_HASH_HEX] = "";
    for (int s = 0; s < gguf_split_count(f) && !st; s++) {
        if ((st = gguf_metadata_sha256(f, s, hex))) break;
        if (s == 0) memcpy(meta0, hex, sizeof hex);
        total += gguf_split_file_size(f, s);
        json_array_append_new(splits, json_pack("{s:s, s:I, s:I, s:s}", "file", base_name(gguf_split_path(f, s)),
                                                "size", (json_int_t)gguf_split_file_size(f, s), "data_offset",
                                                (json_int_t)gguf_split_data_offset(f, s), "metadata_sha256", hex));
    }
    json_object_set_new(model, "xxh64", json_string(h->model[GGUF_HASH_XXH64]));
    json_object_set_new(model, "sha256", json_string(h->model[GGUF_HASH_SHA256]));
    for (int64_t i = 0; i < gguf_tensor_count(f) && !st; i++) {
        const gguf_tensor_info *t = gguf_tensor(f, i);
        json_t *shape = json_array();
        for (int d = 0; d < t->n_dims; d++) json_array_append_new(shape, json_integer(t->ne[d]));
        json_t *o = json_pack("{s:s, s:s, s:o, s:i, s:I, s:I, s:I, s:s, s:s}", "name", t->name, "type",
                              gguf_type_name(t->type), "shape", shape, "split", t->split, "offset",
                              (json_int_t)t->offset, "file_offset", (json_int_t)t->file_offset, "bytes",
                              (json_int_t)t->size, "xxh64", h->tensor[i][GGUF_HASH_XXH64], "sha256",
                              h->tensor[i][GGUF_HASH_SHA256]);
        if (!o || json_array_append_new(tensors, o)) st = json_fail();
    }
    if (!st && json_object_set_new(root, "format", json_string(k_format)) == 0 &&
        json_object_set_new(root, "format_version", json_integer(MANIFEST_VERSION)) == 0 &&
        json_object_set_new(root, "file", json_string(display_name)) == 0 &&
        json_object_set_new(root, "file_size", json_integer((json_int_t)total)) == 0 &&
        json_object_set_new(root, "gguf_version", json_integer(gguf_version(f))) == 0 &&
        json_object_set_new(root, "alignment", json_integer(gguf_alignment(f))) == 0 &&
        json_object_set_new(root, "metadata_sha256", json_string(meta0)) == 0 &&
        json_object_set_new(root, "tensor_count", json_integer(gguf_tensor_count(f))) == 0 &&
        json_object_set(root, "splits", splits) == 0 && json_object_set(root, "model", model) == 0 &&
        json_object_set(root, "tensors", tensors) == 0) {
        if (json_dumpf(root, out, JSON_INDENT(1) | JSON_PRESERVE_ORDER) != 0 || fputc('\n', out) == EOF)
            st = sv_error(SV_ERR_IO, "cannot write the manifest");
    } else if (!st) {
        st = json_fail();
    }
    json_decref(splits);
    json_decref(model);
    json_decref(tensors);
    json_decref(root);
    gguf_hashes_free(h);
    return st;
}

/* ---- verification ---- */

typedef struct {
    char algo[16];
    char hex[GGUF_HASH_HEX];
    char *name;
} text_line;

typedef struct {
    FILE *report;
    int problems;
} verdict;

static void problem(verdict *v, const char *fmt, ...) SV_PRINTF(2, 3);

static void problem(verdict *v, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfprintf(v->report, fmt, ap);
    va_end(ap);
    fputc('\n', v->report);
    v->problems++;
}

static sv_status verify_json(const gguf_file *f, json_t *root, const char *path, const gguf_hash_params *p,
                             verdict *v) {
    json_t *tensors = json_object_get(root, "tensors");
    if (!json_is_array(tensors)) return sv_error(SV_ERR_FORMAT, "%s: no \"tensors\" array", path);
    gguf_hash_params hp = *p;
    hp.tensor_algos = GGUF_HASH_BIT(GGUF_HASH_XXH64) | GGUF_HASH_BIT(GGUF_HASH_SHA256);
    hp.model_algos = 0;
    gguf_hashes *h;
    sv_status st = gguf_hash_file(f, &hp, &h);
    if (st) return st;
    int64_t nt = gguf_tensor_count(f);
    char *seen = calloc(nt ? (size_t)nt : 1, 1);
    if (!seen) {
        gguf_hashes_free(h);
        return sv_error(SV_ERR_NOMEM, "out of memory");
    }
    size_t k;
    json_t *e;
    json_array_foreach(tensors, k, e) {
        const char *name = json_string_value(json_object_get(e, "name"));
        if (!name) {
            st = sv_error(SV_ERR_FORMAT, "%s: tensors[%zu] has no name", path, k);
            break;
        }
        const gguf_tensor_info *t = gguf_find_tensor(f, name);
        if (!t) {
            problem(v, "missing   %s", name);
            continue;
        }
        int64_t i = t - gguf_tensor(f, 0);
        seen[i] = 1;
        const char *type = json_string_value(json_object_get(e, "type"));
        if (type && strcmp(type, gguf_type_name(t->type)) != 0)
            problem(v, "differs   %s: type %s, manifest has %s", name, gguf_type_name(t->type), type);
        json_t *shape = json_object_get(e, "shape");
        bool same_shape = json_is_array(shape) && json_array_size(shape) == (size_t)t->n_dims;
        for (int d = 0; same_shape && d < t->n_dims; d++)
            same_shape = json_integer_value(json_array_get(shape, (size_t)d)) == t->ne[d];
        if (shape && !same_shape) problem(v, "differs   %s: shape", name);
        static const gguf_hash_algo algos[] = {GGUF_HASH_XXH64, GGUF_HASH_SHA256};
        for (int a = 0; a < 2; a++) {
            const char *want = json_string_value(json_object_get(e, gguf_hash_name(algos[a])));
            if (want && strcmp(want, h->tensor[i][algos[a]]) != 0)
                problem(v, "differs   %s: %s %s, manifest has %s", name, gguf_hash_name(algos[a]),
                        h->tensor[i][algos[a]], want);
        }
    }
    for (int64_t i = 0; i < nt && !st; i++)
        if (!seen[i]) problem(v, "extra     %s", gguf_tensor(f, i)->name);
    free(seen);
    gguf_hashes_free(h);
    return st;
}

/* Reads "ALGO HEX NAME" lines (whitespace separated, as llama-gguf-hash
 * prints them and reads them back); other lines are ignored. */
static sv_status parse_text(char *text, text_line **lines, size_t *n) {
    size_t cap = 0;
    *lines = NULL;
    *n = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char algo[16], hex[GGUF_HASH_HEX + 1];
        int name_at = 0;
        if (sscanf(line, "%15s %65s %n", algo, hex, &name_at) != 2 || !name_at || gguf_hash_from_name(algo) < 0)
            continue;
        char *name = line + name_at, *end = name;
        while (*end && !isspace((unsigned char)*end)) end++;
        *end = 0;
        if (!*name || strlen(hex) >= GGUF_HASH_HEX) continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 256;
            text_line *nl = realloc(*lines, cap * sizeof *nl);
            if (!nl) return sv_error(SV_ERR_NOMEM, "out of memory");
            *lines = nl;
        }
        text_line *l = &(*lines)[(*n)++];
        snprintf(l->algo, sizeof l->algo, "%s", algo);
        snprintf(l->hex, sizeof l->hex, "%s", hex);
        l->name = name;
    }
    return SV_OK;
}

/* The model name M of the text form: the name of a line that prefixes
 * another line's name as "M:". NULL when there are only model lines. */
static const char *model_name(const text_line *l, size_t n) {
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(l[i].name);
        for (size_t j = 0; j < n; j++)
            if (!strncmp(l[j].name, l[i].name, len) && l[j].name[len] == ':') return l[i].name;
    }
    return NULL;
}

static sv_status verify_text(const gguf_file *f, char *text, const char *path, const gguf_hash_params *p,
                             verdict *v) {
    text_line *lines;
    size_t n;
    sv_status st = parse_text(text, &lines, &n);
    if (st) return st;
    if (n == 0) {
        free(lines);
        return sv_error(SV_ERR_FORMAT, "%s: neither a JSON manifest nor llama-gguf-hash lines", path);
    }
    const char *model = model_name(lines, n);
    size_t mlen = model ? strlen(model) : 0;
    gguf_hash_params hp = *p;
    hp.tensor_algos = hp.model_algos = 0;
    for (size_t i = 0; i < n; i++) {
        int a = gguf_hash_from_name(lines[i].algo);
        bool tensor_line = model && !strncmp(lines[i].name, model, mlen) && lines[i].name[mlen] == ':';
        if (tensor_line && a != GGUF_HASH_UUID) hp.tensor_algos |= GGUF_HASH_BIT(a);
        else if (!tensor_line) hp.model_algos |= GGUF_HASH_BIT(a);
    }
    gguf_hashes *h;
    if ((st = gguf_hash_file(f, &hp, &h))) {
        free(lines);
        return st;
    }
    int64_t nt = gguf_tensor_count(f);
    char *seen = calloc(nt ? (size_t)nt : 1, 1);
    for (size_t i = 0; i < n && seen; i++) {
        int a = gguf_hash_from_name(lines[i].algo);
        bool tensor_line = model && !strncmp(lines[i].name, model, mlen) && lines[i].name[mlen] == ':';
        if (!tensor_line) {
            if (strcmp(h->model[a], lines[i].hex) != 0)
                problem(v, "differs   (model): %s %s, manifest has %s", lines[i].algo, h->model[a], lines[i].hex);
            continue;
        }
        const char *name = lines[i].name + mlen + 1;
        const gguf_tensor_info *t = a == GGUF_HASH_UUID ? NULL : gguf_find_tensor(f, name);
        if (!t) {
            problem(v, "missing   %s", name);
            continue;
        }
        int64_t ti = t - gguf_tensor(f, 0);
        seen[ti] = 1;
        if (strcmp(h->tensor[ti][a], lines[i].hex) != 0)
            problem(v, "differs   %s: %s %s, manifest has %s", name, lines[i].algo, h->tensor[ti][a], lines[i].hex);
    }
    if (!seen) st = sv_error(SV_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; i < nt && seen && model; i++)
        if (!seen[i]) problem(v, "extra     %s", gguf_tensor(f, i)->name);
    free(seen);
    free(lines);
    gguf_hashes_free(h);
    return st;
}

sv_status gguf_manifest_verify(const gguf_file *f, const char *manifest_path, const gguf_hash_params *p,
                               FILE *report, int *n_problems) {
    *n_problems = 0;
    uint8_t *text;
    size_t size;
    sv_status st = sv_file_read_all(manifest_path, MAX_MANIFEST_BYTES, &text, &size);
    if (st) return st;
    verdict v = {.report = report};
    size_t i = 0;
    while (i < size && isspace(text[i])) i++;
    if (i < size && text[i] == '{') {
        json_error_t err;
        json_t *root = json_loadb((const char *)text, size, 0, &err);
        if (!root) {
            st = sv_error(SV_ERR_FORMAT, "%s:%d: %s", manifest_path, err.line, err.text);
        } else {
            const char *fmt = json_string_value(json_object_get(root, "format"));
            if (!fmt || strcmp(fmt, k_format) != 0)
                st = sv_error(SV_ERR_FORMAT, "%s: not a %s file", manifest_path, k_format);
            else st = verify_json(f, root, manifest_path, p, &v);
            json_decref(root);
        }
    } else {
        st = verify_text(f, (char *)text, manifest_path, p, &v);
    }
    free(text);
    *n_problems = v.problems;
    return st;
}
