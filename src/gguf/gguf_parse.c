/* Parsing and validation of one GGUF image. Every read is bounds-checked
 * against the image size and every size derived from the file is computed
 * with overflow checks; errors name the field and its byte offset. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/checked.h"
#include "gguf/gguf_impl.h"

enum {
    MAX_NEST = 8,         /* nested array depth accepted in metadata */
    MAX_TENSOR_NAME = 64, /* ggml's GGML_MAX_NAME, terminator included */
    MIN_TENSOR_INFO = 24, /* name length + n_dims + type + offset */
    MAX_PATH_DEPTH = MAX_NEST + 1,
};

/* Where the parser is, kept as numbers so that the field path is only
 * formatted when an error is reported. */
typedef struct {
    const uint8_t *p;
    uint64_t size;
    uint64_t pos;
    const char *name;
    const char *section; /* "header", "kv", "tensor", "data" */
    int64_t item;        /* kv or tensor index, -1 when none */
    const char *item_name;
    const char *field; /* "key", "type", "value", "name", "dims", ... */
    int depth;         /* array index path below `field` */
    uint64_t idx[MAX_PATH_DEPTH];
    sv_arena *arena;
} cursor;

static sv_status fail_at(const cursor *c, uint64_t at, const char *fmt, ...) SV_PRINTF(3, 4);

static sv_status fail_at(const cursor *c, uint64_t at, const char *fmt, ...) {
    char where[512];
    size_t n = 0;
    int w = snprintf(where, sizeof where, "header");
    n = w > 0 ? (size_t)w : 0;
#define APPEND(...)                                                              \
    do {                                                                         \
        if (n < sizeof where) {                                                  \
            int k_ = snprintf(where + n, sizeof where - n, __VA_ARGS__);         \
            if (k_ > 0) n += (size_t)k_;                                         \
        }                                                                        \
    } while (0)
    if (c->section && strcmp(c->section, "header") != 0) {
        if (c->item >= 0) APPEND(".%s[%lld]", c->section, (long long)c->item);
        else APPEND(".%s", c->section);
    }
    if (c->item_name) APPEND(" '%.80s'", c->item_name);
    if (c->field) APPEND(".%s", c->field);
    for (int i = 0; i < c->depth; i++) APPEND("[%llu]", (unsigned long long)c->idx[i]);
#undef APPEND
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sv_error(SV_ERR_FORMAT, "%s: %s at byte %llu: %s", c->name, where, (unsigned long long)at, msg);
}

static sv_status need(const cursor *c, uint64_t n) {
    if (c->size - c->pos < n)
        return fail_at(c, c->pos, "truncated: needs %llu bytes, file has %llu left", (unsigned long long)n,
                       (unsigned long long)(c->size - c->pos));
    return SV_OK;
}

static uint64_t get_le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static sv_status rd_u32(cursor *c, uint32_t *v) {
    sv_status st = need(c, 4);
    if (st) return st;
    *v = (uint32_t)get_le(c->p + c->pos, 4);
    c->pos += 4;
    return SV_OK;
}

static sv_status rd_u64(cursor *c, uint64_t *v) {
    sv_status st = need(c, 8);
    if (st) return st;
    *v = get_le(c->p + c->pos, 8);
    c->pos += 8;
    return SV_OK;
}

static sv_status nomem(const cursor *c) { return sv_error(SV_ERR_NOMEM, "%s: out of memory while parsing", c->name); }

bool gguf__utf8_valid(const char *str, uint64_t n) {
    const unsigned char *s = (const unsigned char *)str;
    uint64_t i = 0;
    while (i < n) {
        unsigned char b = s[i];
        if (b == 0) return false;
        if (b < 0x80) {
            i++;
            continue;
        }
        int len;
        uint32_t cp;
        if (b >= 0xC2 && b <= 0xDF) len = 2, cp = b & 0x1Fu;
        else if (b >= 0xE0 && b <= 0xEF) len = 3, cp = b & 0x0Fu;
        else if (b >= 0xF0 && b <= 0xF4) len = 4, cp = b & 0x07u;
        else return false;
        if (n - i < (uint64_t)len) return false;
        for (int k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (s[i + k] & 0x3Fu);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += (uint64_t)len;
    }
    return true;
}

/* Reads a length-prefixed string into the arena (NUL-terminated copy). */
static sv_status rd_str(cursor *c, const char **out, uint64_t *len_out) {
    uint64_t start = c->pos, len;
    sv_status st = rd_u64(c, &len);
    if (st) return st;
    if (len > c->size - c->pos) {
        return fail_at(c, start, "string length %llu exceeds the %llu bytes left in the file",
                       (unsigned long long)len, (unsigned long long)(c->size - c->pos));
    }
    char *s = sv_arena_strdup(c->arena, (const char *)c->p + c->pos, (size_t)len);
    if (!s) return nomem(c);
    c->pos += len;
    *out = s;
    *len_out = len;
    return SV_OK;
}

static sv_status rd_scalar(cursor *c, gguf_value_type t, gguf_value *v) {
    size_t sz = gguf_value_type_size(t);
    sv_status st = need(c, sz);
    if (st) return st;
    uint64_t raw = get_le(c->p + c->pos, (int)sz);
    c->pos += sz;
    v->type = t;
    switch (t) {
    case GGUF_VT_INT8: v->v.i64 = (int8_t)raw; break;
    case GGUF_VT_INT16: v->v.i64 = (int16_t)raw; break;
    case GGUF_VT_INT32: v->v.i64 = (int32_t)raw; break;
    case GGUF_VT_INT64: v->v.i64 = (int64_t)raw; break;
    case GGUF_VT_FLOAT32: {
        uint32_t bits = (uint32_t)raw;
        float f;
        memcpy(&f, &bits, sizeof f);
        v->v.f64 = f;
        break;
    }
    case GGUF_VT_FLOAT64: memcpy(&v->v.f64, &raw, sizeof raw); break;
    default: v->v.u64 = raw; break; /* unsigned and bool keep their raw value */
    }
    return SV_OK;
}

static sv_status rd_value(cursor *c, gguf_value_type t, gguf_value *v);

/* Reads the element type, count and elements of an array value. */
static sv_status rd_array(cursor *c, gguf_value *v) {
    uint64_t at = c->pos;
    uint32_t et;
    sv_status st = rd_u32(c, &et);
    if (st) return st;
    if (et >= GGUF_VT_COUNT) return fail_at(c, at, "unknown array element type %u", et);
    if (et == GGUF_VT_ARRAY && c->depth + 2 > MAX_NEST)
        return fail_at(c, at, "arrays nested deeper than %d levels", MAX_NEST);
    at = c->pos;
    uint64_t n;
    if ((st = rd_u64(c, &n))) return st;
    v->type = GGUF_VT_ARRAY;
    v->v.arr.type = (gguf_value_type)et;
    v->v.arr.n = n;
    uint64_t left = c->size - c->pos;
    size_t esz = gguf_value_type_size((gguf_value_type)et);
    if (esz) {
        uint64_t bytes;
        if (sv_mul_u64(n, esz, &bytes) || bytes > left)
            return fail_at(c, at, "array of %llu %s elements exceeds the %llu bytes left in the file",
                           (unsigned long long)n, gguf_value_type_name((gguf_value_type)et),
                           (unsigned long long)left);
        void *d = sv_arena_alloc(c->arena, bytes ? (size_t)bytes : 1);
        if (!d) return nomem(c);
        /* Little-endian file on a little-endian host: the bytes are the values. */
        memcpy(d, c->p + c->pos, (size_t)bytes);
        c->pos += bytes;
        v->v.arr.data = d;
        return SV_OK;
    }
    /* Each string needs its 8-byte length, each nested array 12 bytes. */
    uint64_t min_item = et == GGUF_VT_STRING ? 8 : 12;
    if (n > left / min_item)
        return fail_at(c, at, "array of %llu %s elements cannot fit in the %llu bytes left in the file",
                       (unsigned long long)n, gguf_value_type_name((gguf_value_type)et), (unsigned long long)left);
    size_t bytes;
    if (sv_mul_size((size_t)n, sizeof(gguf_value), &bytes)) return nomem(c);
    gguf_value *items = sv_arena_alloc(c->arena, bytes ? bytes : 1);
    if (!items) return nomem(c);
    c->depth++;
    for (uint64_t i = 0; i < n; i++) {
        c->idx[c->depth - 1] = i;
        if ((st = rd_value(c, (gguf_value_type)et, &items[i]))) return st;
    }
    c->depth--;
    v->v.arr.items = items;
    return SV_OK;
}

static sv_status rd_value(cursor *c, gguf_value_type t, gguf_value *v) {
    if (t == GGUF_VT_STRING) {
        v->type = t;
        return rd_str(c, &v->v.str.ptr, &v->v.str.len);
    }
    if (t == GGUF_VT_ARRAY) return rd_array(c, v);
    return rd_scalar(c, t, v);
}

static const char *kv_name_at(const void *ctx, int64_t i) { return ((const gguf__kv *)ctx)[i].key; }
static const char *tensor_name_at(const void *ctx, int64_t i) { return ((const gguf_tensor_info *)ctx)[i].name; }

static sv_status parse_header(cursor *c, gguf_file *f, uint64_t *n_tensors, uint64_t *n_kv) {
    c->section = "header";
    c->field = "magic";
    sv_status st = need(c, 4);
    if (st) return st;
    if (memcmp(c->p, "GGUF", 4) != 0) {
        char shown[5];
        for (int i = 0; i < 4; i++) shown[i] = c->p[i] >= 0x20 && c->p[i] < 0x7f ? (char)c->p[i] : '?';
        shown[4] = 0;
        return fail_at(c, 0, "bad magic '%s', expected 'GGUF'", shown);
    }
    c->pos = 4;
    c->field = "version";
    if ((st = rd_u32(c, &f->version))) return st;
    if (f->version == 1) return sv_error(SV_ERR_UNSUPPORTED, "%s: header.version at byte 4: GGUF v1 is not supported", c->name);
    if (f->version != 2 && f->version != 3) {
        if ((f->version & 0xFFFFu) == 0)
            return fail_at(c, 4, "version %u looks byte-swapped: big-endian GGUF is not supported", f->version);
        return fail_at(c, 4, "unknown version %u (2 and 3 are supported)", f->version);
    }
    c->field = "tensor_count";
    uint64_t at = c->pos;
    if ((st = rd_u64(c, n_tensors))) return st;
    if (*n_tensors > INT64_MAX) return fail_at(c, at, "tensor count %llu is negative", (unsigned long long)*n_tensors);
    c->field = "kv_count";
    at = c->pos;
    if ((st = rd_u64(c, n_kv))) return st;
    if (*n_kv > INT64_MAX) return fail_at(c, at, "key count %llu is negative", (unsigned long long)*n_kv);
    /* Each key/value needs at least a key length and a type: 12 bytes. */
    if (*n_kv > (c->size - c->pos) / 12)
        return fail_at(c, at, "%llu keys cannot fit in the %llu bytes left in the file", (unsigned long long)*n_kv,
                       (unsigned long long)(c->size - c->pos));
    return SV_OK;
}

static sv_status parse_kvs(cursor *c, gguf_file *f, uint64_t n_kv) {
    f->kv = sv_arena_alloc(&f->arena, n_kv ? (size_t)n_kv * sizeof *f->kv : 1);
    if (!f->kv) return nomem(c);
    c->section = "kv";
    sv_status st;
    for (uint64_t i = 0; i < n_kv; i++) {
        gguf__kv *kv = &f->kv[i];
        c->item = (int64_t)i;
        c->item_name = NULL;
        c->field = "key";
        kv->key_offset = c->pos;
        uint64_t klen;
        if ((st = rd_str(c, &kv->key, &klen))) return st;
        if (klen == 0) return fail_at(c, kv->key_offset, "empty key");
        if (!gguf__utf8_valid(kv->key, klen)) return fail_at(c, kv->key_offset, "key is not valid UTF-8 text");
        c->item_name = kv->key;
        c->field = "type";
        kv->value_offset = c->pos;
        uint32_t t;
        if ((st = rd_u32(c, &t))) return st;
        if (t >= GGUF_VT_COUNT) return fail_at(c, kv->value_offset, "unknown value type %u", t);
        c->field = "value";
        if ((st = rd_value(c, (gguf_value_type)t, &kv->value))) return st;
        f->n_kv = (int64_t)i + 1;
    }
    c->item = -1;
    c->item_name = NULL;
    int64_t a, b;
    st = gguf__index_build(&f->kv_index, f->n_kv, kv_name_at, f->kv, &a, &b);
    if (st == SV_ERR_FORMAT) {
        c->section = "kv";
        c->item = b;
        c->field = "key";
        return fail_at(c, f->kv[b].key_offset, "duplicate key '%s' (first at kv[%lld])", f->kv[b].key, (long long)a);
    }
    if (st) return nomem(c);

    f->alignment = GGUF_DEFAULT_ALIGNMENT;
    int64_t ai = gguf__index_find(&f->kv_index, "general.alignment", kv_name_at, f->kv);
    if (ai >= 0) {
        const gguf__kv *kv = &f->kv[ai];
        c->section = "kv";
        c->item = ai;
        c->item_name = kv->key;
        c->field = "value";
        if (kv->value.type != GGUF_VT_UINT32)
            return fail_at(c, kv->value_offset, "general.alignment must be UINT32, not %s",
                           gguf_value_type_name(kv->value.type));
        uint64_t al = kv->value.v.u64;
        if (al == 0 || (al & (al - 1)) != 0)
            return fail_at(c, kv->value_offset + 4, "alignment %llu is not a power of two", (unsigned long long)al);
        f->alignment = (uint32_t)al;
    }
    c->item = -1;
    c->item_name = NULL;
    return SV_OK;
}

/* Reads one tensor info; `offset_pos` receives where its offset field is. */
static sv_status parse_tensor_info(cursor *c, gguf_file *f, gguf_tensor_info *ti, uint64_t *name_pos,
                                   uint64_t *offset_pos) {
    sv_status st;
    c->field = "name";
    uint64_t at = c->pos, len = 0;
    *name_pos = at;
    if ((st = rd_str(c, &ti->name, &len))) return st;
    if (len == 0) return fail_at(c, at, "empty tensor name");
    if (len >= MAX_TENSOR_NAME)
        return fail_at(c, at, "tensor name of %llu bytes is too long (at most %d)", (unsigned long long)len,
                       MAX_TENSOR_NAME - 1);
    if (!gguf__utf8_valid(ti->name, len)) return fail_at(c, at, "tensor name is not valid UTF-8 text");
    c->item_name = ti->name;

    c->field = "n_dims";
    at = c->pos;
    uint32_t nd;
    if ((st = rd_u32(c, &nd))) return st;
    if (nd > GGUF_MAX_DIMS) return fail_at(c, at, "%u dimensions (at most %d)", nd, GGUF_MAX_DIMS);
    ti->n_dims = (int)nd;
    c->field = "dims";
    c->depth = 1;
    int64_t nelem = 1;
    for (int j = 0; j < GGUF_MAX_DIMS; j++) {
        ti->ne[j] = 1;
        if (j >= (int)nd) continue;
        c->idx[0] = (uint64_t)j;
        at = c->pos;
        uint64_t d;
        if ((st = rd_u64(c, &d))) return st;
        if (d > INT64_MAX) return fail_at(c, at, "negative dimension %lld", (long long)(int64_t)d);
        ti->ne[j] = (int64_t)d;
        if (sv_mul_i64(nelem, ti->ne[j], &nelem))
            return fail_at(c, at, "element count overflows with dimension %lld", (long long)ti->ne[j]);
    }
    c->depth = 0;

    c->field = "type";
    at = c->pos;
    uint32_t type;
    if ((st = rd_u32(c, &type))) return st;
    if (!gguf_type_valid(type)) return fail_at(c, at, "unknown tensor type %u", type);
    ti->type = (gguf_type)type;
    int64_t bs = gguf_type_block_size(ti->type);
    if (ti->ne[0] % bs != 0)
        return fail_at(c, at, "%s rows of %lld elements are not a multiple of the block size %lld",
                       gguf_type_name(ti->type), (long long)ti->ne[0], (long long)bs);
    if (sv_mul_u64((uint64_t)(nelem / bs), gguf_type_block_bytes(ti->type), &ti->size))
        return fail_at(c, at, "tensor byte size overflows");

    c->field = "offset";
    *offset_pos = c->pos;
    if ((st = rd_u64(c, &ti->offset))) return st;
    if (ti->offset % f->alignment != 0)
        return fail_at(c, *offset_pos, "offset %llu is not a multiple of the alignment %u",
                       (unsigned long long)ti->offset, f->alignment);
    return SV_OK;
}

typedef struct {
    const gguf_tensor_info *t;
    int64_t i;
} by_offset;

static int cmp_offset(const void *a, const void *b) {
    const by_offset *x = a, *y = b;
    if (x->t->file_offset != y->t->file_offset) return x->t->file_offset < y->t->file_offset ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static sv_status check_layout(cursor *c, gguf_file *f, const uint64_t *offset_pos) {
    c->section = "tensor";
    c->field = "offset";
    for (int64_t i = 0; i < f->n_tensors; i++) {
        gguf_tensor_info *ti = &f->tensors[i];
        c->item = i;
        c->item_name = ti->name;
        uint64_t end;
        if (sv_add_u64(f->data_offset, ti->offset, &ti->file_offset) || sv_add_u64(ti->file_offset, ti->size, &end) ||
            end > f->size)
            return fail_at(c, offset_pos[i], "data at offset %llu + %llu bytes lies outside the %llu-byte file",
                           (unsigned long long)ti->offset, (unsigned long long)ti->size,
                           (unsigned long long)(f->size > f->data_offset ? f->size - f->data_offset : 0));
        ti->data = f->bytes + ti->file_offset;
    }
    if (f->n_tensors < 2) return SV_OK;
    by_offset *order = malloc((size_t)f->n_tensors * sizeof *order);
    if (!order) return nomem(c);
    for (int64_t i = 0; i < f->n_tensors; i++) order[i] = (by_offset){&f->tensors[i], i};
    qsort(order, (size_t)f->n_tensors, sizeof *order, cmp_offset);
    sv_status st = SV_OK;
    uint64_t end = 0;
    int64_t owner = -1;
    for (int64_t k = 0; k < f->n_tensors; k++) {
        const gguf_tensor_info *t = order[k].t;
        if (t->size == 0) continue;
        if (owner >= 0 && t->file_offset < end) {
            c->item = order[k].i;
            c->item_name = t->name;
            st = fail_at(c, offset_pos[order[k].i], "data overlaps tensor[%lld] '%s'", (long long)owner,
                         f->tensors[owner].name);
            break;
        }
        end = t->file_offset + t->size;
        owner = order[k].i;
    }
    free(order);
    return st;
}

static sv_status parse_tensors(cursor *c, gguf_file *f, uint64_t n_tensors) {
    c->section = "tensor";
    uint64_t left = c->size - c->pos;
    if (n_tensors > left / MIN_TENSOR_INFO) {
        c->section = "header";
        c->field = "tensor_count";
        return fail_at(c, 8, "%llu tensors cannot fit in the %llu bytes left after the metadata",
                       (unsigned long long)n_tensors, (unsigned long long)left);
    }
    f->tensors = sv_arena_alloc(&f->arena, n_tensors ? (size_t)n_tensors * sizeof *f->tensors : 1);
    /* Field positions, for messages: name_pos[i] and offset_pos[i]. */
    uint64_t *name_pos = malloc(n_tensors ? 2 * (size_t)n_tensors * sizeof *name_pos : 1);
    if (!f->tensors || !name_pos) {
        free(name_pos);
        return nomem(c);
    }
    uint64_t *offset_pos = name_pos + n_tensors;
    sv_status st = SV_OK;
    for (uint64_t i = 0; i < n_tensors && !st; i++) {
        c->item = (int64_t)i;
        c->item_name = NULL;
        st = parse_tensor_info(c, f, &f->tensors[i], &name_pos[i], &offset_pos[i]);
        if (!st) f->n_tensors = (int64_t)i + 1;
    }
    if (!st) {
        int64_t a, b;
        st = gguf__index_build(&f->tensor_index, f->n_tensors, tensor_name_at, f->tensors, &a, &b);
        if (st == SV_ERR_FORMAT) {
            c->item = b;
            c->item_name = NULL;
            c->field = "name";
            st = fail_at(c, name_pos[b], "duplicate tensor name '%s' (first at tensor[%lld])", f->tensors[b].name,
                         (long long)a);
        } else if (st) {
            st = nomem(c);
        }
    }
    if (!st) {
        c->item = -1;
        c->item_name = NULL;
        c->section = "data";
        c->field = NULL;
        if (sv_align_up_u64(c->pos, f->alignment, &f->data_offset))
            st = fail_at(c, c->pos, "data section offset overflows");
        else if (f->n_tensors > 0 && f->data_offset > f->size)
            st = fail_at(c, c->pos, "padding to the %u-byte aligned data section is truncated", f->alignment);
    }
    if (!st) st = check_layout(c, f, offset_pos);
    free(name_pos);
    return st;
}

sv_status gguf__parse(const uint8_t *bytes, uint64_t size, const char *name, gguf_file **out) {
    *out = NULL;
    gguf_file *f = calloc(1, sizeof *f);
    if (!f) return sv_error(SV_ERR_NOMEM, "out of memory");
    sv_arena_init(&f->arena, 256 * 1024);
    f->map.fd = -1;
    f->bytes = bytes;
    f->size = size;
    f->path = sv_arena_strdup(&f->arena, name, strlen(name));
    cursor c = {.p = bytes, .size = size, .name = name, .item = -1, .arena = &f->arena};
    uint64_t n_tensors = 0, n_kv = 0;
    sv_status st = f->path ? SV_OK : sv_error(SV_ERR_NOMEM, "out of memory");
    if (!st) st = parse_header(&c, f, &n_tensors, &n_kv);
    if (!st) st = parse_kvs(&c, f, n_kv);
    if (!st) st = parse_tensors(&c, f, n_tensors);
    if (st) {
        gguf_free(f);
        return st;
    }
    *out = f;
    return SV_OK;
}
