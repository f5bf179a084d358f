/* Opening GGUF files (single or split sets), name lookup and the accessors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "base/checked.h"
#include "base/log.h"
#include "gguf/gguf_impl.h"

gguf_open_params gguf_default_open_params(void) { return (gguf_open_params){.map_data = true, .allow_splits = true}; }

/* ---- name index ---- */

sv_status gguf__index_build(gguf__index *ix, int64_t n, const char *(*name_at)(const void *, int64_t),
                            const void *ctx, int64_t *dup_a, int64_t *dup_b) {
    uint64_t cap = 16;
    while (cap < (uint64_t)n * 2) cap *= 2;
    ix->slots = malloc((size_t)cap * sizeof *ix->slots);
    if (!ix->slots) return SV_ERR_NOMEM;
    memset(ix->slots, 0xff, (size_t)cap * sizeof *ix->slots);
    ix->mask = cap - 1;
    for (int64_t i = 0; i < n; i++) {
        const char *name = name_at(ctx, i);
        uint64_t h = XXH3_64bits(name, strlen(name)) & ix->mask;
        while (ix->slots[h] >= 0) {
            if (!strcmp(name_at(ctx, ix->slots[h]), name)) {
                *dup_a = ix->slots[h];
                *dup_b = i;
                return SV_ERR_FORMAT;
            }
            h = (h + 1) & ix->mask;
        }
        ix->slots[h] = i;
    }
    return SV_OK;
}

int64_t gguf__index_find(const gguf__index *ix, const char *name, const char *(*name_at)(const void *, int64_t),
                         const void *ctx) {
    if (!ix->slots || !name) return -1;
    uint64_t h = XXH3_64bits(name, strlen(name)) & ix->mask;
    while (ix->slots[h] >= 0) {
        if (!strcmp(name_at(ctx, ix->slots[h]), name)) return ix->slots[h];
        h = (h + 1) & ix->mask;
    }
    return -1;
}

void gguf__index_free(gguf__index *ix) {
    free(ix->slots);
    ix->slots = NULL;
}

static const char *kv_name_at(const void *ctx, int64_t i) { return ((const gguf__kv *)ctx)[i].key; }
static const char *tensor_name_at(const void *ctx, int64_t i) { return ((const gguf_tensor_info *)ctx)[i].name; }

/* ---- opening ---- */

void gguf_free(gguf_file *f) {
    if (!f) return;
    if (f->n_parts) {
        for (int i = 0; i < f->n_parts; i++) gguf_free(f->parts[i]);
        free(f->parts);
    } else {
        gguf__index_free(&f->kv_index);
    }
    gguf__index_free(&f->tensor_index);
    sv_file_unmap(&f->map);
    sv_arena_free(&f->arena);
    free(f);
}

sv_status gguf_open_memory(const void *data, size_t size, const char *name, gguf_file **out) {
    *out = NULL;
    if (!data && size) return sv_error(SV_ERR_INVALID_ARG, "gguf_open_memory: NULL data");
    return gguf__parse(data, size, name ? name : "<memory>", out);
}

static sv_status open_one(const char *path, bool map_data, gguf_file **out) {
    *out = NULL;
    sv_mapping m;
    sv_status st = sv_file_map(path, &m);
    if (st) return st;
    gguf_file *f;
    if ((st = gguf__parse(m.data, m.size, path, &f))) {
        sv_file_unmap(&m);
        return st;
    }
    f->map = m;
    if (!map_data) {
        sv_file_unmap(&f->map);
        f->bytes = NULL;
        for (int64_t i = 0; i < f->n_tensors; i++) f->tensors[i].data = NULL;
    }
    *out = f;
    return SV_OK;
}

enum { SPLIT_SUFFIX_LEN = 20 }; /* "-00001-of-00003.gguf" */

static bool digits5(const char *s, int *v) {
    *v = 0;
    for (int i = 0; i < 5; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        *v = *v * 10 + (s[i] - '0');
    }
    return true;
}

/* Recognises NAME-0000k-of-0000N.gguf; *prefix_len is strlen(NAME). */
static bool split_name(const char *path, size_t *prefix_len, int *no, int *count) {
    size_t n = strlen(path);
    if (n <= SPLIT_SUFFIX_LEN) return false;
    const char *s = path + n - SPLIT_SUFFIX_LEN;
    if (s[0] != '-' || memcmp(s + 6, "-of-", 4) != 0 || strcmp(s + 15, ".gguf") != 0) return false;
    if (!digits5(s + 1, no) || !digits5(s + 10, count)) return false;
    *prefix_len = n - SPLIT_SUFFIX_LEN;
    return *no >= 1 && *count >= 1 && *no <= *count;
}

static bool get_uint_key(const gguf_file *f, const char *key, uint64_t *v) {
    const gguf_value *val = gguf_get(f, key);
    if (!val) return false;
    switch (val->type) {
    case GGUF_VT_UINT8: case GGUF_VT_UINT16: case GGUF_VT_UINT32: case GGUF_VT_UINT64: *v = val->v.u64; return true;
    case GGUF_VT_INT8: case GGUF_VT_INT16: case GGUF_VT_INT32: case GGUF_VT_INT64:
        if (val->v.i64 < 0) return false;
        *v = (uint64_t)val->v.i64;
        return true;
    default: return false;
    }
}

static sv_status open_split_set(gguf_file *first, const char *path, size_t prefix_len, int count,
                                const gguf_open_params *p, gguf_file **out) {
    gguf_file *set = calloc(1, sizeof *set);
    gguf_file **parts = calloc((size_t)count, sizeof *parts);
    char *buf = malloc(prefix_len + SPLIT_SUFFIX_LEN + 32);
    sv_status st = SV_OK;
    if (!set || !parts || !buf) {
        free(set);
        free(parts);
        free(buf);
        gguf_free(first);
        return sv_error(SV_ERR_NOMEM, "out of memory");
    }
    sv_arena_init(&set->arena, 4096);
    set->map.fd = -1;
    set->parts = parts;
    set->n_parts = count;
    memcpy(buf, path, prefix_len);
    int64_t total = 0;
    for (int k = 0; k < count && !st; k++) {
        snprintf(buf + prefix_len, SPLIT_SUFFIX_LEN + 32, "-%05d-of-%05d.gguf", k + 1, count);
        if (first && !strcmp(buf, first->path)) {
            parts[k] = first;
            first = NULL;
        } else if ((st = open_one(buf, p->map_data, &parts[k]))) {
            break;
        }
        uint64_t no = 0, cnt = 0;
        if (!get_uint_key(parts[k], "split.count", &cnt) || cnt != (uint64_t)count)
            st = sv_error(SV_ERR_FORMAT, "%s: split.count is missing or not %d", buf, count);
        else if (!get_uint_key(parts[k], "split.no", &no) || no != (uint64_t)k)
            st = sv_error(SV_ERR_FORMAT, "%s: split.no is missing or not %d", buf, k);
        else total += parts[k]->n_tensors;
    }
    gguf_free(first);
    free(buf);
    if (st) {
        gguf_free(set);
        return st;
    }
    uint64_t expect;
    if (get_uint_key(parts[0], "split.tensors.count", &expect) && expect != (uint64_t)total) {
        gguf_free(set);
        return sv_error(SV_ERR_FORMAT, "%s: split.tensors.count is %llu but the %d files hold %lld tensors",
                        parts[0]->path, (unsigned long long)expect, count, (long long)total);
    }
    set->path = parts[0]->path;
    set->bytes = parts[0]->bytes;
    set->size = parts[0]->size;
    set->data_offset = parts[0]->data_offset;
    set->version = parts[0]->version;
    set->alignment = parts[0]->alignment;
    set->kv = parts[0]->kv;
    set->n_kv = parts[0]->n_kv;
    set->kv_index = parts[0]->kv_index;
    set->tensors = sv_arena_alloc(&set->arena, total ? (size_t)total * sizeof *set->tensors : 1);
    if (!set->tensors) {
        gguf_free(set);
        return sv_error(SV_ERR_NOMEM, "out of memory");
    }
    for (int k = 0; k < count; k++)
        for (int64_t i = 0; i < parts[k]->n_tensors; i++) {
            set->tensors[set->n_tensors] = parts[k]->tensors[i];
            set->tensors[set->n_tensors++].split = k;
        }
    int64_t a, b;
    st = gguf__index_build(&set->tensor_index, set->n_tensors, tensor_name_at, set->tensors, &a, &b);
    if (st == SV_ERR_FORMAT) {
        st = sv_error(SV_ERR_FORMAT, "%s: tensor '%s' appears in split %d and split %d",
                      parts[set->tensors[b].split]->path, set->tensors[b].name, set->tensors[a].split + 1,
                      set->tensors[b].split + 1);
    } else if (st) {
        st = sv_error(SV_ERR_NOMEM, "out of memory");
    }
    if (st) {
        gguf_free(set);
        return st;
    }
    *out = set;
    return SV_OK;
}

sv_status gguf_open(const char *path, const gguf_open_params *params, gguf_file **out) {
    *out = NULL;
    gguf_open_params p = params ? *params : gguf_default_open_params();
    gguf_file *f;
    sv_status st = open_one(path, p.map_data, &f);
    if (st) return st;
    uint64_t count = 0;
    if (!p.allow_splits || !get_uint_key(f, "split.count", &count) || count <= 1) {
        *out = f;
        return SV_OK;
    }
    size_t prefix_len;
    int no, n;
    if (!split_name(path, &prefix_len, &no, &n) || (uint64_t)n != count) {
        SV_LOGW("%s: split.count is %llu but the name is not NAME-%05d-of-%05llu.gguf; opening this file alone",
                path, (unsigned long long)count, 1, (unsigned long long)count);
        *out = f;
        return SV_OK;
    }
    return open_split_set(f, path, prefix_len, n, &p, out);
}

/* ---- accessors ---- */

static const gguf_file *part_of(const gguf_file *f, int i) {
    if (f->n_parts) return i >= 0 && i < f->n_parts ? f->parts[i] : NULL;
    return i == 0 ? f : NULL;
}

uint32_t gguf_version(const gguf_file *f) { return f->version; }
uint32_t gguf_alignment(const gguf_file *f) { return f->alignment; }
int gguf_split_count(const gguf_file *f) { return f->n_parts ? f->n_parts : 1; }

uint64_t gguf_split_file_size(const gguf_file *f, int i) {
    const gguf_file *p = part_of(f, i);
    return p ? p->size : 0;
}

uint64_t gguf_split_data_offset(const gguf_file *f, int i) {
    const gguf_file *p = part_of(f, i);
    return p ? p->data_offset : 0;
}

const char *gguf_split_path(const gguf_file *f, int i) {
    const gguf_file *p = part_of(f, i);
    return p ? p->path : NULL;
}

int64_t gguf_kv_count(const gguf_file *f) { return f->n_kv; }
const char *gguf_kv_key(const gguf_file *f, int64_t i) { return i >= 0 && i < f->n_kv ? f->kv[i].key : NULL; }
const gguf_value *gguf_kv_value(const gguf_file *f, int64_t i) {
    return i >= 0 && i < f->n_kv ? &f->kv[i].value : NULL;
}

int64_t gguf_find_key(const gguf_file *f, const char *key) {
    return gguf__index_find(&f->kv_index, key, kv_name_at, f->kv);
}

const gguf_value *gguf_get(const gguf_file *f, const char *key) { return gguf_kv_value(f, gguf_find_key(f, key)); }

/* Splits an integer value into sign and magnitude so range checks cannot overflow. */
static bool int_value(const gguf_value *v, bool *neg, uint64_t *mag) {
    if (!v) return false;
    switch (v->type) {
    case GGUF_VT_UINT8: case GGUF_VT_UINT16: case GGUF_VT_UINT32: case GGUF_VT_UINT64:
        *neg = false;
        *mag = v->v.u64;
        return true;
    case GGUF_VT_INT8: case GGUF_VT_INT16: case GGUF_VT_INT32: case GGUF_VT_INT64:
        *neg = v->v.i64 < 0;
        *mag = *neg ? (uint64_t)0 - (uint64_t)v->v.i64 : (uint64_t)v->v.i64;
        return true;
    default: return false;
    }
}

bool gguf_get_u32(const gguf_file *f, const char *key, uint32_t *out) {
    bool neg;
    uint64_t m;
    if (!int_value(gguf_get(f, key), &neg, &m) || neg || m > UINT32_MAX) return false;
    *out = (uint32_t)m;
    return true;
}

bool gguf_get_i32(const gguf_file *f, const char *key, int32_t *out) {
    bool neg;
    uint64_t m;
    if (!int_value(gguf_get(f, key), &neg, &m) || m > (neg ? (uint64_t)INT32_MAX + 1 : (uint64_t)INT32_MAX)) return false;
    *out = neg ? (int32_t)(-(int64_t)m) : (int32_t)m;
    return true;
}

bool gguf_get_u64(const gguf_file *f, const char *key, uint64_t *out) {
    bool neg;
    uint64_t m;
    if (!int_value(gguf_get(f, key), &neg, &m) || neg) return false;
    *out = m;
    return true;
}

bool gguf_get_f32(const gguf_file *f, const char *key, float *out) {
    const gguf_value *v = gguf_get(f, key);
    if (!v || (v->type != GGUF_VT_FLOAT32 && v->type != GGUF_VT_FLOAT64)) return false;
    *out = (float)v->v.f64;
    return true;
}

bool gguf_get_bool(const gguf_file *f, const char *key, bool *out) {
    const gguf_value *v = gguf_get(f, key);
    if (!v || v->type != GGUF_VT_BOOL) return false;
    *out = v->v.u64 != 0;
    return true;
}

const char *gguf_get_str(const gguf_file *f, const char *key) {
    const gguf_value *v = gguf_get(f, key);
    return v && v->type == GGUF_VT_STRING ? v->v.str.ptr : NULL;
}

const gguf_value *gguf_get_arr(const gguf_file *f, const char *key, gguf_value_type *elem_type, uint64_t *n) {
    const gguf_value *v = gguf_get(f, key);
    if (!v || v->type != GGUF_VT_ARRAY) return NULL;
    if (elem_type) *elem_type = v->v.arr.type;
    if (n) *n = v->v.arr.n;
    return v;
}

int64_t gguf_tensor_count(const gguf_file *f) { return f->n_tensors; }

const gguf_tensor_info *gguf_tensor(const gguf_file *f, int64_t i) {
    return i >= 0 && i < f->n_tensors ? &f->tensors[i] : NULL;
}

const gguf_tensor_info *gguf_find_tensor(const gguf_file *f, const char *name) {
    return gguf_tensor(f, gguf__index_find(&f->tensor_index, name, tensor_name_at, f->tensors));
}

static const size_t k_vt_size[GGUF_VT_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
static const char *const k_vt_name[GGUF_VT_COUNT] = {"UINT8", "INT8",  "UINT16", "INT16",  "UINT32",
                                                     "INT32", "FLOAT32", "BOOL", "STRING", "ARRAY",
                                                     "UINT64", "INT64", "FLOAT64"};

size_t gguf_value_type_size(gguf_value_type t) { return (unsigned)t < GGUF_VT_COUNT ? k_vt_size[t] : 0; }
const char *gguf_value_type_name(gguf_value_type t) { return (unsigned)t < GGUF_VT_COUNT ? k_vt_name[t] : "?"; }
