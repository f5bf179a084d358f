#include "gguf/gguf_writer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/checked.h"
#include "gguf/gguf_impl.h"

enum { MAX_TENSOR_NAME = 64, MAX_NEST = 8 };

typedef struct {
    const char *key;
    gguf_value value;
} wkv;

typedef struct {
    gguf_tensor_info info; /* name, type, n_dims, ne, size; offsets set when writing */
    const void *data;
    gguf_tensor_fill_fn fn;
    void *user;
} wtensor;

struct gguf_writer {
    sv_arena arena;
    uint32_t version;
    wkv *kv;
    int64_t n_kv, cap_kv;
    wtensor *t;
    int64_t n_t, cap_t;
};

struct gguf_sink {
    FILE *fp;
    uint64_t left;
};

static sv_status nomem(void) { return sv_error(SV_ERR_NOMEM, "out of memory"); }

sv_status gguf_writer_new(gguf_writer **out) {
    *out = calloc(1, sizeof **out);
    if (!*out) return nomem();
    sv_arena_init(&(*out)->arena, 64 * 1024);
    (*out)->version = 3;
    return SV_OK;
}

void gguf_writer_free(gguf_writer *w) {
    if (!w) return;
    sv_arena_free(&w->arena);
    free(w->kv);
    free(w->t);
    free(w);
}

sv_status gguf_writer_set_version(gguf_writer *w, uint32_t version) {
    if (version != 2 && version != 3) return sv_error(SV_ERR_INVALID_ARG, "GGUF version %u cannot be written", version);
    w->version = version;
    return SV_OK;
}

int64_t gguf_writer_kv_count(const gguf_writer *w) { return w->n_kv; }
int64_t gguf_writer_tensor_count(const gguf_writer *w) { return w->n_t; }

static int64_t find_key(const gguf_writer *w, const char *key) {
    for (int64_t i = 0; i < w->n_kv; i++)
        if (!strcmp(w->kv[i].key, key)) return i;
    return -1;
}

static int64_t find_tensor(const gguf_writer *w, const char *name) {
    for (int64_t i = 0; i < w->n_t; i++)
        if (!strcmp(w->t[i].info.name, name)) return i;
    return -1;
}

static bool grow(void **arr, int64_t *cap, int64_t need, size_t elem) {
    if (need <= *cap) return true;
    int64_t nc = *cap ? *cap * 2 : 16;
    while (nc < need) nc *= 2;
    void *p = realloc(*arr, (size_t)nc * elem);
    if (!p) return false;
    *arr = p;
    *cap = nc;
    return true;
}

/* Checks a value tree and deep-copies it into the arena. */
static sv_status copy_value(gguf_writer *w, const gguf_value *src, gguf_value *dst, int depth) {
    *dst = *src;
    if ((unsigned)src->type >= GGUF_VT_COUNT)
        return sv_error(SV_ERR_INVALID_ARG, "unknown value type %d", (int)src->type);
    if (src->type == GGUF_VT_STRING) {
        if (src->v.str.len > SIZE_MAX - 1 || (!src->v.str.ptr && src->v.str.len))
            return sv_error(SV_ERR_INVALID_ARG, "bad string value");
        char *s = sv_arena_strdup(&w->arena, src->v.str.ptr ? src->v.str.ptr : "", (size_t)src->v.str.len);
        if (!s) return nomem();
        dst->v.str.ptr = s;
        return SV_OK;
    }
    if (src->type != GGUF_VT_ARRAY) return SV_OK;
    gguf_value_type et = src->v.arr.type;
    uint64_t n = src->v.arr.n;
    if ((unsigned)et >= GGUF_VT_COUNT) return sv_error(SV_ERR_INVALID_ARG, "unknown array element type %d", (int)et);
    if (et == GGUF_VT_ARRAY && depth + 2 > MAX_NEST)
        return sv_error(SV_ERR_INVALID_ARG, "arrays nested deeper than %d levels", MAX_NEST);
    size_t esz = gguf_value_type_size(et), bytes;
    if (sv_mul_size((size_t)n, esz ? esz : sizeof(gguf_value), &bytes) || n > SIZE_MAX)
        return sv_error(SV_ERR_INVALID_ARG, "array of %llu elements is too large", (unsigned long long)n);
    void *mem = sv_arena_alloc(&w->arena, bytes ? bytes : 1);
    if (!mem) return nomem();
    if (esz) {
        if (bytes && !src->v.arr.data) return sv_error(SV_ERR_INVALID_ARG, "array without data");
        if (bytes) memcpy(mem, src->v.arr.data, bytes);
        dst->v.arr.data = mem;
        dst->v.arr.items = NULL;
        return SV_OK;
    }
    if (n && !src->v.arr.items) return sv_error(SV_ERR_INVALID_ARG, "array without items");
    gguf_value *items = mem;
    for (uint64_t i = 0; i < n; i++) {
        if (src->v.arr.items[i].type != et)
            return sv_error(SV_ERR_INVALID_ARG, "array item %llu is %s, not %s", (unsigned long long)i,
                            gguf_value_type_name(src->v.arr.items[i].type), gguf_value_type_name(et));
        sv_status st = copy_value(w, &src->v.arr.items[i], &items[i], depth + 1);
        if (st) return st;
    }
    dst->v.arr.items = items;
    dst->v.arr.data = NULL;
    return SV_OK;
}

static sv_status check_key(const char *key) {
    if (!key || !key[0] || !gguf__utf8_valid(key, strlen(key)))
        return sv_error(SV_ERR_INVALID_ARG, "key '%s' is empty or not UTF-8", key ? key : "(null)");
    return SV_OK;
}

/* Stores a value without copying (it must outlive the writer). */
static sv_status put_value(gguf_writer *w, const char *key, const gguf_value *v, bool copy_key) {
    int64_t i = find_key(w, key);
    if (i < 0) {
        if (!grow((void **)&w->kv, &w->cap_kv, w->n_kv + 1, sizeof *w->kv)) return nomem();
        const char *k = copy_key ? sv_arena_strdup(&w->arena, key, strlen(key)) : key;
        if (!k) return nomem();
        i = w->n_kv++;
        w->kv[i].key = k;
    }
    w->kv[i].value = *v;
    return SV_OK;
}

sv_status gguf_writer_set_value(gguf_writer *w, const char *key, const gguf_value *v) {
    sv_status st = check_key(key);
    if (st) return st;
    gguf_value copy;
    if ((st = copy_value(w, v, &copy, 0))) return sv_error_prefix(st, "key '%s': ", key);
    return put_value(w, key, &copy, true);
}

static sv_status set_scalar(gguf_writer *w, const char *key, gguf_value_type t, uint64_t u, int64_t i, double f) {
    gguf_value v = {.type = t};
    if (t == GGUF_VT_FLOAT32 || t == GGUF_VT_FLOAT64) v.v.f64 = f;
    else if (t == GGUF_VT_INT8 || t == GGUF_VT_INT16 || t == GGUF_VT_INT32 || t == GGUF_VT_INT64) v.v.i64 = i;
    else v.v.u64 = u;
    return gguf_writer_set_value(w, key, &v);
}

sv_status gguf_writer_set_u8(gguf_writer *w, const char *key, uint8_t v) { return set_scalar(w, key, GGUF_VT_UINT8, v, 0, 0); }
sv_status gguf_writer_set_i8(gguf_writer *w, const char *key, int8_t v) { return set_scalar(w, key, GGUF_VT_INT8, 0, v, 0); }
sv_status gguf_writer_set_u16(gguf_writer *w, const char *key, uint16_t v) { return set_scalar(w, key, GGUF_VT_UINT16, v, 0, 0); }
sv_status gguf_writer_set_i16(gguf_writer *w, const char *key, int16_t v) { return set_scalar(w, key, GGUF_VT_INT16, 0, v, 0); }
sv_status gguf_writer_set_u32(gguf_writer *w, const char *key, uint32_t v) { return set_scalar(w, key, GGUF_VT_UINT32, v, 0, 0); }
sv_status gguf_writer_set_i32(gguf_writer *w, const char *key, int32_t v) { return set_scalar(w, key, GGUF_VT_INT32, 0, v, 0); }
sv_status gguf_writer_set_u64(gguf_writer *w, const char *key, uint64_t v) { return set_scalar(w, key, GGUF_VT_UINT64, v, 0, 0); }
sv_status gguf_writer_set_i64(gguf_writer *w, const char *key, int64_t v) { return set_scalar(w, key, GGUF_VT_INT64, 0, v, 0); }
sv_status gguf_writer_set_f32(gguf_writer *w, const char *key, float v) { return set_scalar(w, key, GGUF_VT_FLOAT32, 0, 0, v); }
sv_status gguf_writer_set_f64(gguf_writer *w, const char *key, double v) { return set_scalar(w, key, GGUF_VT_FLOAT64, 0, 0, v); }
sv_status gguf_writer_set_bool(gguf_writer *w, const char *key, bool v) { return set_scalar(w, key, GGUF_VT_BOOL, v, 0, 0); }

sv_status gguf_writer_set_str(gguf_writer *w, const char *key, const char *s) {
    if (!s) return sv_error(SV_ERR_INVALID_ARG, "key '%s': NULL string", key ? key : "(null)");
    gguf_value v = {.type = GGUF_VT_STRING};
    v.v.str.ptr = s;
    v.v.str.len = strlen(s);
    return gguf_writer_set_value(w, key, &v);
}

sv_status gguf_writer_set_arr(gguf_writer *w, const char *key, gguf_value_type elem_type, const void *data,
                              uint64_t n) {
    if (!gguf_value_type_size(elem_type))
        return sv_error(SV_ERR_INVALID_ARG, "key '%s': gguf_writer_set_arr takes scalar elements, not %s", key,
                        gguf_value_type_name(elem_type));
    gguf_value v = {.type = GGUF_VT_ARRAY};
    v.v.arr.type = elem_type;
    v.v.arr.n = n;
    v.v.arr.data = data;
    return gguf_writer_set_value(w, key, &v);
}

sv_status gguf_writer_set_arr_str(gguf_writer *w, const char *key, const char *const *strs, uint64_t n) {
    sv_status st = check_key(key);
    if (st) return st;
    size_t bytes;
    if (n > SIZE_MAX || sv_mul_size((size_t)n, sizeof(gguf_value), &bytes))
        return sv_error(SV_ERR_INVALID_ARG, "key '%s': too many strings", key);
    gguf_value *items = sv_arena_alloc(&w->arena, bytes ? bytes : 1);
    if (!items) return nomem();
    for (uint64_t i = 0; i < n; i++) {
        if (!strs[i]) return sv_error(SV_ERR_INVALID_ARG, "key '%s': string %llu is NULL", key, (unsigned long long)i);
        size_t len = strlen(strs[i]);
        char *s = sv_arena_strdup(&w->arena, strs[i], len);
        if (!s) return nomem();
        items[i].type = GGUF_VT_STRING;
        items[i].v.str.ptr = s;
        items[i].v.str.len = len;
    }
    gguf_value v = {.type = GGUF_VT_ARRAY};
    v.v.arr.type = GGUF_VT_STRING;
    v.v.arr.n = n;
    v.v.arr.items = items;
    return put_value(w, key, &v, true);
}

bool gguf_writer_remove_key(gguf_writer *w, const char *key) {
    int64_t i = find_key(w, key);
    if (i < 0) return false;
    memmove(&w->kv[i], &w->kv[i + 1], (size_t)(w->n_kv - i - 1) * sizeof *w->kv);
    w->n_kv--;
    return true;
}

/* ---- tensors ---- */

static sv_status make_info(gguf_writer *w, const char *name, gguf_type type, int n_dims, const int64_t *ne,
                           gguf_tensor_info *ti, bool copy_name) {
    size_t len = name ? strlen(name) : 0;
    if (!len || len >= MAX_TENSOR_NAME || !gguf__utf8_valid(name, len))
        return sv_error(SV_ERR_INVALID_ARG, "tensor name '%s' must be 1 to %d bytes of UTF-8", name ? name : "(null)",
                        MAX_TENSOR_NAME - 1);
    if (!gguf_type_valid((uint32_t)type)) return sv_error(SV_ERR_INVALID_ARG, "tensor '%s': unknown type %d", name, (int)type);
    if (n_dims < 0 || n_dims > GGUF_MAX_DIMS || (n_dims && !ne))
        return sv_error(SV_ERR_INVALID_ARG, "tensor '%s': %d dimensions", name, n_dims);
    memset(ti, 0, sizeof *ti);
    int64_t n = 1;
    for (int j = 0; j < GGUF_MAX_DIMS; j++) {
        ti->ne[j] = j < n_dims ? ne[j] : 1;
        if (ti->ne[j] < 0 || sv_mul_i64(n, ti->ne[j], &n))
            return sv_error(SV_ERR_INVALID_ARG, "tensor '%s': bad dimension %d (%lld)", name, j, (long long)ti->ne[j]);
    }
    int64_t bs = gguf_type_block_size(type);
    if (ti->ne[0] % bs)
        return sv_error(SV_ERR_INVALID_ARG, "tensor '%s': %lld is not a multiple of the %s block size %lld", name,
                        (long long)ti->ne[0], gguf_type_name(type), (long long)bs);
    if (sv_mul_u64((uint64_t)(n / bs), gguf_type_block_bytes(type), &ti->size))
        return sv_error(SV_ERR_INVALID_ARG, "tensor '%s': byte size overflows", name);
    ti->name = copy_name ? sv_arena_strdup(&w->arena, name, len) : name;
    if (!ti->name) return nomem();
    ti->type = type;
    ti->n_dims = n_dims;
    return SV_OK;
}

static sv_status add_tensor(gguf_writer *w, const char *name, gguf_type type, int n_dims, const int64_t *ne,
                            const void *data, gguf_tensor_fill_fn fn, void *user, bool replace) {
    int64_t i = name ? find_tensor(w, name) : -1;
    if (replace && i < 0) return sv_error(SV_ERR_INVALID_ARG, "no tensor '%s' to replace", name ? name : "(null)");
    if (!replace && i >= 0) return sv_error(SV_ERR_INVALID_ARG, "duplicate tensor name '%s'", name);
    wtensor t = {.data = data, .fn = fn, .user = user};
    sv_status st = make_info(w, name, type, n_dims, ne, &t.info, true);
    if (st) return st;
    if (!data && !fn && t.info.size) return sv_error(SV_ERR_INVALID_ARG, "tensor '%s': no data", name);
    if (!replace) {
        if (!grow((void **)&w->t, &w->cap_t, w->n_t + 1, sizeof *w->t)) return nomem();
        i = w->n_t++;
    }
    w->t[i] = t;
    return SV_OK;
}

sv_status gguf_writer_add_tensor(gguf_writer *w, const char *name, gguf_type type, int n_dims, const int64_t *ne,
                                 const void *data) {
    return add_tensor(w, name, type, n_dims, ne, data, NULL, NULL, false);
}

sv_status gguf_writer_add_tensor_fn(gguf_writer *w, const char *name, gguf_type type, int n_dims,
                                    const int64_t *ne, gguf_tensor_fill_fn fn, void *user) {
    if (!fn) return sv_error(SV_ERR_INVALID_ARG, "tensor '%s': NULL fill function", name ? name : "(null)");
    return add_tensor(w, name, type, n_dims, ne, NULL, fn, user, false);
}

sv_status gguf_writer_replace_tensor(gguf_writer *w, const char *name, gguf_type type, int n_dims,
                                     const int64_t *ne, const void *data) {
    return add_tensor(w, name, type, n_dims, ne, data, NULL, NULL, true);
}

sv_status gguf_writer_replace_tensor_fn(gguf_writer *w, const char *name, gguf_type type, int n_dims,
                                        const int64_t *ne, gguf_tensor_fill_fn fn, void *user) {
    if (!fn) return sv_error(SV_ERR_INVALID_ARG, "tensor '%s': NULL fill function", name ? name : "(null)");
    return add_tensor(w, name, type, n_dims, ne, NULL, fn, user, true);
}

bool gguf_writer_remove_tensor(gguf_writer *w, const char *name) {
    int64_t i = find_tensor(w, name);
    if (i < 0) return false;
    memmove(&w->t[i], &w->t[i + 1], (size_t)(w->n_t - i - 1) * sizeof *w->t);
    w->n_t--;
    return true;
}

sv_status gguf_writer_from_file(const gguf_file *src, gguf_writer **out) {
    sv_status st = gguf_writer_new(out);
    if (st) return st;
    gguf_writer *w = *out;
    w->version = gguf_version(src);
    bool merged = gguf_split_count(src) > 1;
    for (int64_t i = 0; i < gguf_kv_count(src) && !st; i++) {
        const char *key = gguf_kv_key(src, i);
        if (merged && !strncmp(key, "split.", 6)) continue;
        st = put_value(w, key, gguf_kv_value(src, i), false);
    }
    for (int64_t i = 0; i < gguf_tensor_count(src) && !st; i++) {
        const gguf_tensor_info *t = gguf_tensor(src, i);
        if (!t->data && t->size) {
            st = sv_error(SV_ERR_INVALID_ARG, "%s: tensor data is not mapped (open with map_data)", gguf_split_path(src, 0));
            break;
        }
        if (!grow((void **)&w->t, &w->cap_t, w->n_t + 1, sizeof *w->t)) {
            st = nomem();
            break;
        }
        wtensor *wt = &w->t[w->n_t++];
        memset(wt, 0, sizeof *wt);
        wt->info = *t;
        wt->data = t->data;
    }
    if (st) {
        gguf_writer_free(w);
        *out = NULL;
    }
    return st;
}

/* ---- serialisation ---- */

typedef struct {
    FILE *fp;
    uint64_t pos;
    bool failed;
} out_stream;

static void put(out_stream *o, const void *p, size_t n) {
    if (o->failed || !n) return;
    if (fwrite(p, 1, n, o->fp) != n) o->failed = true;
    o->pos += n;
}

static void put_uint(out_stream *o, uint64_t v, int n) {
    uint8_t b[8];
    for (int i = 0; i < n; i++) b[i] = (uint8_t)(v >> (8 * i));
    put(o, b, (size_t)n);
}

static void put_str(out_stream *o, const char *s, uint64_t len) {
    put_uint(o, len, 8);
    put(o, s, (size_t)len);
}

static void pad(out_stream *o, uint32_t align) {
    static const uint8_t zeros[256];
    while (o->pos % align) {
        size_t n = align - (size_t)(o->pos % align);
        put(o, zeros, n < sizeof zeros ? n : sizeof zeros);
    }
}

static void put_body(out_stream *o, const gguf_value *v) {
    switch (v->type) {
    case GGUF_VT_STRING: put_str(o, v->v.str.ptr, v->v.str.len); break;
    case GGUF_VT_ARRAY: {
        put_uint(o, (uint32_t)v->v.arr.type, 4);
        put_uint(o, v->v.arr.n, 8);
        size_t esz = gguf_value_type_size(v->v.arr.type);
        if (esz) put(o, v->v.arr.data, (size_t)v->v.arr.n * esz);
        else
            for (uint64_t i = 0; i < v->v.arr.n; i++) put_body(o, &v->v.arr.items[i]);
        break;
    }
    case GGUF_VT_FLOAT32: {
        float f = (float)v->v.f64;
        uint32_t bits;
        memcpy(&bits, &f, sizeof bits);
        put_uint(o, bits, 4);
        break;
    }
    case GGUF_VT_FLOAT64: {
        uint64_t bits;
        memcpy(&bits, &v->v.f64, sizeof bits);
        put_uint(o, bits, 8);
        break;
    }
    case GGUF_VT_INT8: case GGUF_VT_INT16: case GGUF_VT_INT32: case GGUF_VT_INT64:
        put_uint(o, (uint64_t)v->v.i64, (int)gguf_value_type_size(v->type));
        break;
    default: put_uint(o, v->v.u64, (int)gguf_value_type_size(v->type)); break;
    }
}

sv_status gguf_sink_write(gguf_sink *sink, const void *data, size_t size) {
    if (size > sink->left)
        return sv_error(SV_ERR_INVALID_ARG, "fill callback wrote %llu bytes more than the tensor holds",
                        (unsigned long long)(size - sink->left));
    if (size && fwrite(data, 1, size, sink->fp) != size) return sv_error(SV_ERR_IO, "write failed: %s", strerror(errno));
    sink->left -= size;
    return SV_OK;
}

static sv_status write_stream(gguf_writer *w, FILE *fp) {
    uint32_t align = GGUF_DEFAULT_ALIGNMENT;
    int64_t ai = find_key(w, "general.alignment");
    if (ai >= 0) {
        const gguf_value *v = &w->kv[ai].value;
        if (v->type != GGUF_VT_UINT32 || v->v.u64 == 0 || (v->v.u64 & (v->v.u64 - 1)))
            return sv_error(SV_ERR_INVALID_ARG, "general.alignment must be a UINT32 power of two");
        align = (uint32_t)v->v.u64;
    }
    out_stream o = {.fp = fp};
    put(&o, "GGUF", 4);
    put_uint(&o, w->version, 4);
    put_uint(&o, (uint64_t)w->n_t, 8);
    put_uint(&o, (uint64_t)w->n_kv, 8);
    for (int64_t i = 0; i < w->n_kv; i++) {
        put_str(&o, w->kv[i].key, strlen(w->kv[i].key));
        put_uint(&o, (uint32_t)w->kv[i].value.type, 4);
        put_body(&o, &w->kv[i].value);
    }
    uint64_t off = 0;
    for (int64_t i = 0; i < w->n_t; i++) {
        gguf_tensor_info *t = &w->t[i].info;
        put_str(&o, t->name, strlen(t->name));
        put_uint(&o, (uint32_t)t->n_dims, 4);
        for (int j = 0; j < t->n_dims; j++) put_uint(&o, (uint64_t)t->ne[j], 8);
        put_uint(&o, (uint32_t)t->type, 4);
        put_uint(&o, off, 8);
        t->offset = off;
        if (sv_add_u64(off, t->size, &off) || sv_align_up_u64(off, align, &off))
            return sv_error(SV_ERR_INVALID_ARG, "data section size overflows");
    }
    if (w->n_t > 0) pad(&o, align);
    for (int64_t i = 0; i < w->n_t && !o.failed; i++) {
        wtensor *t = &w->t[i];
        if (t->fn) {
            gguf_sink sink = {.fp = fp, .left = t->info.size};
            sv_status st = t->fn(t->user, &t->info, &sink);
            if (st) return sv_error_prefix(st, "tensor '%s': ", t->info.name);
            if (sink.left)
                return sv_error(SV_ERR_INVALID_ARG, "tensor '%s': fill callback wrote %llu of %llu bytes", t->info.name,
                                (unsigned long long)(t->info.size - sink.left), (unsigned long long)t->info.size);
            o.pos += t->info.size;
        } else {
            put(&o, t->data, (size_t)t->info.size);
        }
        pad(&o, align);
    }
    if (o.failed) return sv_error(SV_ERR_IO, "write failed: %s", strerror(errno));
    return SV_OK;
}

sv_status gguf_writer_write(gguf_writer *w, const char *path) {
    size_t len = strlen(path);
    char *tmp = malloc(len + 32);
    if (!tmp) return nomem();
    snprintf(tmp, len + 32, "%s.tmp%d", path, (int)getpid());
    FILE *fp = fopen(tmp, "wb");
    if (!fp) {
        sv_status st = sv_error(SV_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
        free(tmp);
        return st;
    }
    sv_status st = write_stream(w, fp);
    if (fclose(fp) != 0 && !st) st = sv_error(SV_ERR_IO, "%s: write failed: %s", tmp, strerror(errno));
    if (!st && rename(tmp, path) != 0) st = sv_error(SV_ERR_IO, "%s: cannot rename: %s", path, strerror(errno));
    if (st) {
        unlink(tmp);
        sv_error_prefix(st, "%s: ", path);
    }
    free(tmp);
    return st;
}

sv_status gguf_writer_write_mem(gguf_writer *w, uint8_t **data, size_t *size) {
    char *buf = NULL;
    size_t n = 0;
    *data = NULL;
    *size = 0;
    FILE *fp = open_memstream(&buf, &n);
    if (!fp) return nomem();
    sv_status st = write_stream(w, fp);
    if (fclose(fp) != 0 && !st) st = nomem();
    if (st) {
        free(buf);
        return st;
    }
    *data = (uint8_t *)buf;
    *size = n;
    return SV_OK;
}
