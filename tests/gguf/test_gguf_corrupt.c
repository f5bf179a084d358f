/* A regression corpus of broken GGUF images, generated here: each must fail
 * with the right status and a message naming the field and byte offset,
 * without crashing, leaking or hanging (the sanitizer build checks that). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gguf/gguf.h"

typedef struct {
    uint8_t *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *d, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        if (!b->p) exit(2);
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void u32(buf *b, uint32_t v) { put(b, &v, 4); }
static void u64(buf *b, uint64_t v) { put(b, &v, 8); }
static void str(buf *b, const char *s) {
    u64(b, strlen(s));
    put(b, s, strlen(s));
}
static void pad(buf *b, size_t a) {
    while (b->n % a) put(b, "", 1);
}

/* Where the fields of the base image are. */
typedef struct {
    size_t version, n_tensors, n_kv;
    size_t kv0_len, kv0_key, kv0_type;
    size_t align_type, align_val;
    size_t arr_type, arr_n, arr_item0;
    size_t nested;
    size_t a_offset;
    size_t b_name_len, b_name, b_ndims, b_dim1, b_type, b_offset;
    size_t data, end_b;
} layout;

/* A valid v3 image: 5 keys (string, alignment, string array, nested array of
 * `depth` levels, bool), tensors a (F32 [8]) and b (Q8_0 [32, 2]). */
static buf build(layout *L, int depth) {
    buf b = {0};
    put(&b, "GGUF", 4);
    L->version = b.n;
    u32(&b, 3);
    L->n_tensors = b.n;
    u64(&b, 2);
    L->n_kv = b.n;
    u64(&b, 5);
    L->kv0_len = b.n;
    L->kv0_key = b.n + 8;
    str(&b, "general.architecture");
    L->kv0_type = b.n;
    u32(&b, 8);
    str(&b, "llama");
    str(&b, "general.alignment");
    L->align_type = b.n;
    u32(&b, 4);
    L->align_val = b.n;
    u32(&b, 32);
    str(&b, "arr");
    u32(&b, 9);
    L->arr_type = b.n;
    u32(&b, 8);
    L->arr_n = b.n;
    u64(&b, 2);
    L->arr_item0 = b.n;
    str(&b, "a");
    str(&b, "bc");
    str(&b, "nested");
    u32(&b, 9);
    L->nested = b.n;
    for (int d = 0; d < depth; d++) {
        u32(&b, 9);
        u64(&b, 1);
    }
    u32(&b, 0);
    u64(&b, 1);
    put(&b, "\x07", 1);
    str(&b, "flag");
    u32(&b, 7);
    put(&b, "\x01", 1);

    str(&b, "a");
    u32(&b, 1);
    u64(&b, 8);
    u32(&b, 0);
    L->a_offset = b.n;
    u64(&b, 0);
    L->b_name_len = b.n;
    L->b_name = b.n + 8;
    str(&b, "b");
    L->b_ndims = b.n;
    u32(&b, 2);
    u64(&b, 32);
    L->b_dim1 = b.n;
    u64(&b, 2);
    L->b_type = b.n;
    u32(&b, 8);
    L->b_offset = b.n;
    u64(&b, 32);
    pad(&b, 32);
    L->data = b.n;
    for (int i = 0; i < 32 + 68; i++) put(&b, (uint8_t[]){(uint8_t)i}, 1);
    L->end_b = b.n;
    pad(&b, 32);
    return b;
}

static void set32(buf *b, size_t at, uint32_t v) { memcpy(b->p + at, &v, 4); }
static void set64(buf *b, size_t at, uint64_t v) { memcpy(b->p + at, &v, 8); }

/* Opens the image; expects `want` and every substring of `msg` (\n separated). */
static void expect(const buf *b, size_t n, sv_status want, const char *msg, int line) {
    gguf_file *f = NULL;
    sv_status st = gguf_open_memory(b->p, n, "bad.gguf", &f);
    gguf_free(f);
    const char *m = sv_errmsg();
    bool ok = st == want && (want == SV_OK || f == NULL);
    if (ok && msg) {
        char tmp[512];
        snprintf(tmp, sizeof tmp, "%s", msg);
        for (char *s = strtok(tmp, "\n"); s; s = strtok(NULL, "\n")) ok = ok && strstr(m, s) != NULL;
    }
    if (ok) t_passed++;
    else t_fail_at(__FILE__, line, "status %s, message \"%s\"; expected %s with \"%s\"", sv_status_name(st), m,
                   sv_status_name(want), msg ? msg : "");
}

#define EXPECT(b, st, msg) expect(&(b), (b).n, st, msg, __LINE__)

static void t_base_is_valid(void) {
    layout L;
    buf b = build(&L, 2);
    gguf_file *f = NULL;
    CHECK(gguf_open_memory(b.p, b.n, "ok", &f) == SV_OK);
    if (f) {
        CHECK_EQ_I64(gguf_tensor_count(f), 2);
        CHECK_EQ_I64(gguf_tensor(f, 1)->size, 68);
        CHECK_EQ_I64(gguf_tensor(f, 1)->file_offset, L.data + 32);
        const gguf_value *n = gguf_get(f, "nested");
        CHECK(n && n->v.arr.type == GGUF_VT_ARRAY && n->v.arr.items[0].v.arr.items[0].v.arr.type == GGUF_VT_UINT8);
        gguf_free(f);
    }
    free(b.p);
}

static void t_header_fields(void) {
    layout L;
    buf b = build(&L, 2);
    char msg[256];
    buf c = {0};
    put(&c, b.p, b.n);

    memcpy(c.p, "GGML", 4);
    EXPECT(c, SV_ERR_FORMAT, "header.magic at byte 0: bad magic 'GGML'");
    memcpy(c.p, "GGUF", 4);
    set32(&c, L.version, 1);
    EXPECT(c, SV_ERR_UNSUPPORTED, "header.version at byte 4: GGUF v1");
    set32(&c, L.version, 4);
    EXPECT(c, SV_ERR_FORMAT, "header.version at byte 4: unknown version 4");
    set32(&c, L.version, 0x03000000);
    EXPECT(c, SV_ERR_FORMAT, "byte-swapped");
    set32(&c, L.version, 2); /* v2 has the same layout */
    EXPECT(c, SV_OK, NULL);
    set32(&c, L.version, 3);

    set64(&c, L.n_tensors, (uint64_t)1 << 62);
    EXPECT(c, SV_ERR_FORMAT, "header.tensor_count at byte 8\ncannot fit");
    set64(&c, L.n_tensors, (uint64_t)1 << 63);
    EXPECT(c, SV_ERR_FORMAT, "header.tensor_count at byte 8: tensor count 9223372036854775808 is negative");
    set64(&c, L.n_tensors, 3); /* one more tensor than present: runs into the padding/data */
    EXPECT(c, SV_ERR_FORMAT, "header.tensor[2]");
    set64(&c, L.n_tensors, 2);
    set64(&c, L.n_kv, UINT64_MAX / 2);
    EXPECT(c, SV_ERR_FORMAT, "header.kv_count at byte 16\nkeys cannot fit");
    set64(&c, L.n_kv, 5);

    set64(&c, L.kv0_len, UINT64_MAX - 3);
    snprintf(msg, sizeof msg, "header.kv[0].key at byte %zu: string length", L.kv0_len);
    EXPECT(c, SV_ERR_FORMAT, msg);
    set64(&c, L.kv0_len, 0);
    snprintf(msg, sizeof msg, "header.kv[0].key at byte %zu: empty key", L.kv0_len);
    EXPECT(c, SV_ERR_FORMAT, msg);
    set64(&c, L.kv0_len, 20);
    c.p[L.kv0_key + 3] = 0xC0; /* overlong lead byte */
    EXPECT(c, SV_ERR_FORMAT, "header.kv[0].key\nnot valid UTF-8");
    c.p[L.kv0_key + 3] = 0;
    EXPECT(c, SV_ERR_FORMAT, "header.kv[0].key\nnot valid UTF-8");
    c.p[L.kv0_key + 3] = 'e';
    set32(&c, L.kv0_type, 13);
    snprintf(msg, sizeof msg, "header.kv[0] 'general.architecture'.type at byte %zu: unknown value type 13", L.kv0_type);
    EXPECT(c, SV_ERR_FORMAT, msg);
    set32(&c, L.kv0_type, 8);

    memcpy(c.p + L.kv0_key, "general.alignment\0\0\0", 20); /* same length: "general.architectur" would differ */
    set64(&c, L.kv0_len, 17);
    EXPECT(c, SV_ERR_FORMAT, "header.kv[0]");
    memcpy(c.p, b.p, b.n);

    set32(&c, L.align_val, 0);
    snprintf(msg, sizeof msg, "'general.alignment'.value at byte %zu: alignment 0 is not a power of two", L.align_val);
    EXPECT(c, SV_ERR_FORMAT, msg);
    set32(&c, L.align_val, 3);
    EXPECT(c, SV_ERR_FORMAT, "alignment 3 is not a power of two");
    set32(&c, L.align_val, 64); /* valid, but tensor b's offset 32 is now misaligned */
    EXPECT(c, SV_ERR_FORMAT, "header.tensor[1] 'b'.offset\nnot a multiple of the alignment 64");
    set32(&c, L.align_val, 16);
    EXPECT(c, SV_OK, NULL);
    set32(&c, L.align_val, 32);
    set32(&c, L.align_type, 5);
    EXPECT(c, SV_ERR_FORMAT, "general.alignment must be UINT32, not INT32");
    set32(&c, L.align_type, 4);

    set32(&c, L.arr_type, 77);
    snprintf(msg, sizeof msg, "header.kv[2] 'arr'.value at byte %zu: unknown array element type 77", L.arr_type);
    EXPECT(c, SV_ERR_FORMAT, msg);
    set32(&c, L.arr_type, 8);
    set64(&c, L.arr_n, (uint64_t)1 << 61);
    EXPECT(c, SV_ERR_FORMAT, "'arr'.value\ncannot fit");
    set64(&c, L.arr_n, 2);
    set64(&c, L.arr_item0, 1000000);
    snprintf(msg, sizeof msg, "header.kv[2] 'arr'.value[0] at byte %zu: string length 1000000", L.arr_item0);
    EXPECT(c, SV_ERR_FORMAT, msg);
    set64(&c, L.arr_item0, 1);
    set32(&c, L.arr_type, 0); /* UINT8 x 2: consumes 2 bytes; the rest misparses */
    EXPECT(c, SV_ERR_FORMAT, "header.kv[");
    set32(&c, L.arr_type, 12);
    set64(&c, L.arr_n, UINT64_MAX / 4);
    EXPECT(c, SV_ERR_FORMAT, "array of 4611686018427387903 FLOAT64 elements exceeds");
    set64(&c, L.arr_n, UINT64_MAX);
    EXPECT(c, SV_ERR_FORMAT, "FLOAT64 elements exceeds");
    free(c.p);
    free(b.p);
}

static void t_nesting_and_duplicates(void) {
    layout L;
    buf b = build(&L, 7); /* 8 levels of arrays: the limit */
    EXPECT(b, SV_OK, NULL);
    free(b.p);
    b = build(&L, 8);
    EXPECT(b, SV_ERR_FORMAT, "header.kv[3] 'nested'.value[0][0][0][0][0][0][0] at byte\nnested deeper than 8");
    free(b.p);
    b = build(&L, 0);
    memcpy(b.p + L.kv0_key, "flag", 4);
    set64(&b, L.kv0_len, 4); /* kv[0] key "flag" followed by garbage */
    EXPECT(b, SV_ERR_FORMAT, NULL);
    free(b.p);

    /* A duplicate key built properly. */
    buf d = {0};
    put(&d, "GGUF", 4);
    u32(&d, 3);
    u64(&d, 0);
    u64(&d, 2);
    str(&d, "k");
    u32(&d, 4);
    u32(&d, 1);
    size_t at = d.n;
    str(&d, "k");
    u32(&d, 0);
    put(&d, "\x02", 1);
    char msg[128];
    snprintf(msg, sizeof msg, "header.kv[1].key at byte %zu: duplicate key 'k' (first at kv[0])", at);
    EXPECT(d, SV_ERR_FORMAT, msg);
    free(d.p);
}

static void t_tensor_fields(void) {
    layout L;
    buf b = build(&L, 1);
    buf c = {0};
    put(&c, b.p, b.n);
    char msg[256];

    c.p[L.b_name] = 'a';
    snprintf(msg, sizeof msg, "header.tensor[1].name at byte %zu: duplicate tensor name 'a' (first at tensor[0])",
             L.b_name_len);
    EXPECT(c, SV_ERR_FORMAT, msg);
    c.p[L.b_name] = 0xff;
    EXPECT(c, SV_ERR_FORMAT, "header.tensor[1].name\nnot valid UTF-8");
    c.p[L.b_name] = 'b';
    set64(&c, L.b_name_len, 0);
    EXPECT(c, SV_ERR_FORMAT, "header.tensor[1].name\nempty tensor name");
    set64(&c, L.b_name_len, 64);
    EXPECT(c, SV_ERR_FORMAT, "header.tensor[1].name\ntoo long");
    set64(&c, L.b_name_len, 1);

    set32(&c, L.b_ndims, 5);
    snprintf(msg, sizeof msg, "header.tensor[1] 'b'.n_dims at byte %zu: 5 dimensions (at most 4)", L.b_ndims);
    EXPECT(c, SV_ERR_FORMAT, msg);
    set32(&c, L.b_ndims, 2);
    set64(&c, L.b_dim1, (uint64_t)-5);
    snprintf(msg, sizeof msg, "header.tensor[1] 'b'.dims[1] at byte %zu: negative dimension -5", L.b_dim1);
    EXPECT(c, SV_ERR_FORMAT, msg);
    set64(&c, L.b_dim1, (uint64_t)1 << 60);
    snprintf(msg, sizeof msg, "header.tensor[1] 'b'.dims[1] at byte %zu: element count overflows", L.b_dim1);
    EXPECT(c, SV_ERR_FORMAT, msg);
    set64(&c, L.b_dim1, (uint64_t)1 << 50); /* fits in int64 elements, data far beyond the file */
    EXPECT(c, SV_ERR_FORMAT, "header.tensor[1] 'b'.offset\noutside");
    set64(&c, L.b_dim1, 0); /* zero elements: empty tensor, valid */
    EXPECT(c, SV_OK, NULL);
    set64(&c, L.b_dim1, 2);

    static const uint32_t bad_types[] = {4, 5, 31, 32, 33, 36, 37, 38, 40, 1000, 0xFFFFFFFFu};
    for (size_t i = 0; i < sizeof bad_types / sizeof *bad_types; i++) {
        set32(&c, L.b_type, bad_types[i]);
        snprintf(msg, sizeof msg, "header.tensor[1] 'b'.type at byte %zu: unknown tensor type %u", L.b_type,
                 bad_types[i]);
        EXPECT(c, SV_ERR_FORMAT, msg);
    }
    set32(&c, L.b_type, 12); /* Q4_K: 32 elements per row is not a multiple of 256 */
    EXPECT(c, SV_ERR_FORMAT, "not a multiple of the block size 256");
    set32(&c, L.b_type, 0); /* F32 [32, 2] = 256 bytes: beyond the file */
    EXPECT(c, SV_ERR_FORMAT, "header.tensor[1] 'b'.offset\noutside");
    set32(&c, L.b_type, 8);

    set64(&c, L.b_offset, 4);
    snprintf(msg, sizeof msg, "header.tensor[1] 'b'.offset at byte %zu: offset 4 is not a multiple of the alignment 32",
             L.b_offset);
    EXPECT(c, SV_ERR_FORMAT, msg);
    set64(&c, L.b_offset, 0);
    EXPECT(c, SV_ERR_FORMAT, "header.tensor[1] 'b'.offset\noverlaps tensor[0] 'a'");
    set64(&c, L.b_offset, 1u << 20);
    EXPECT(c, SV_ERR_FORMAT, "outside the");
    set64(&c, L.b_offset, UINT64_MAX - 31); /* aligned, and data_offset + offset overflows */
    EXPECT(c, SV_ERR_FORMAT, "outside the");
    set64(&c, L.b_offset, 32);
    set64(&c, L.a_offset, 64); /* a moves into b */
    EXPECT(c, SV_ERR_FORMAT, "overlaps");
    set64(&c, L.a_offset, 128); /* a after b: not ggml's order, but a valid layout */
    set64(&c, L.b_offset, 0);
    c.n = L.data + 160;
    EXPECT(c, SV_OK, NULL);
    free(c.p);
    free(b.p);
}

/* Cut anywhere before the end of the last tensor's data: an error. From
 * there on (only the final padding missing) the file is complete. */
static void t_truncated_everywhere(void) {
    layout L;
    buf b = build(&L, 3);
    for (size_t n = 0; n < b.n; n++) {
        gguf_file *f = NULL;
        sv_status st = gguf_open_memory(b.p, n, "cut.gguf", &f);
        if (n < L.end_b) {
            CHECK_MSG(st == SV_ERR_FORMAT && f == NULL && strstr(sv_errmsg(), " at byte "), "cut at %zu: %s", n,
                      sv_errmsg());
        } else {
            CHECK_MSG(st == SV_OK, "cut at %zu: %s", n, sv_errmsg());
        }
        gguf_free(f);
    }
    free(b.p);
}

/* A real model cut at every byte of its header (and a few in the data). */
static void t_truncated_fixture(void) {
    size_t n;
    uint8_t *img = t_read_file(t_fixture("models/llama/llama-Q4_K_M.gguf"), &n);
    gguf_file *f = NULL;
    CHECK(gguf_open_memory(img, n, "full", &f) == SV_OK);
    if (!f) {
        free(img);
        return;
    }
    size_t header = (size_t)gguf_split_data_offset(f, 0);
    gguf_free(f);
    int bad = 0;
    for (size_t cut = 0; cut < header + 4096; cut += cut < header ? 1 : 97) {
        /* A fresh copy of exactly `cut` bytes so ASan sees any overread. */
        uint8_t *part = malloc(cut ? cut : 1);
        memcpy(part, img, cut);
        sv_status st = gguf_open_memory(part, cut, "cut", &f);
        if (st != SV_ERR_FORMAT || f != NULL || !strstr(sv_errmsg(), " at byte ")) bad++;
        gguf_free(f);
        free(part);
    }
    CHECK_EQ_I64(bad, 0);
    CHECK(header > 10000);
    free(img);
}

int main(void) {
    RUN_TEST(t_base_is_valid);
    RUN_TEST(t_header_fields);
    RUN_TEST(t_nesting_and_duplicates);
    RUN_TEST(t_tensor_fields);
    RUN_TEST(t_truncated_everywhere);
    RUN_TEST(t_truncated_fixture);
    return test_main_end();
}
