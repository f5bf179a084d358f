#include "backend/backend.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/checked.h"

const char *backend_name(backend *b) {
    return b->i.name(b);
}

void backend_free(backend *b) {
    if (b) b->i.free(b);
}

backend_buffer_type *backend_get_buffer_type(backend *b) {
    return b->i.buffer_type(b);
}

bool backend_supports_op(backend *b, const tensor *node) {
    return b->i.supports_op(b, node);
}

bool backend_supports_buffer_type(backend *b, backend_buffer_type *bt) {
    if (bt == backend_get_buffer_type(b)) return true;
    return b->i.supports_buffer_type ? b->i.supports_buffer_type(b, bt) : false;
}

sv_status backend_compute(backend *b, tensor *const *nodes, int n_nodes) {
    return b->i.compute(b, nodes, n_nodes);
}

sv_status backend_synchronize(backend *b) {
    return b->i.synchronize ? b->i.synchronize(b) : SV_OK;
}

sv_status backend_event_new(backend *b, backend_event **out) {
    *out = NULL;
    if (!b->i.event_new) return sv_error(SV_ERR_UNSUPPORTED, "backend %s has no events", backend_name(b));
    return b->i.event_new(b, out);
}

void backend_event_free(backend *b, backend_event *e) {
    if (e && b->i.event_free) b->i.event_free(e);
}

sv_status backend_event_record(backend *b, backend_event *e) {
    return b->i.event_record ? b->i.event_record(b, e) : backend_synchronize(b);
}

sv_status backend_event_wait(backend *b, backend_event *e) {
    return b->i.event_wait ? b->i.event_wait(b, e) : SV_OK;
}

sv_status backend_event_sync(backend *b, backend_event *e) {
    return b->i.event_sync ? b->i.event_sync(e) : backend_synchronize(b);
}

const char *backend_buft_name(backend_buffer_type *bt) {
    return bt->i.name(bt);
}

size_t backend_buft_alignment(backend_buffer_type *bt) {
    return bt->i.alignment(bt);
}

size_t backend_buft_max_size(backend_buffer_type *bt) {
    return bt->i.max_size ? bt->i.max_size(bt) : SIZE_MAX;
}

bool backend_buft_is_host(backend_buffer_type *bt) {
    return bt->i.is_host ? bt->i.is_host(bt) : false;
}

sv_status backend_buffer_alloc(backend_buffer_type *bt, size_t size, backend_buffer **out) {
    *out = NULL;
    if (size > backend_buft_max_size(bt))
        return sv_error(SV_ERR_LIMIT, "%s: buffer of %zu bytes exceeds the device limit", backend_buft_name(bt),
                        size);
    return bt->i.alloc(bt, size, out);
}

void backend_buffer_free(backend_buffer *b) {
    if (!b) return;
    if (b->i.free) b->i.free(b);
}

void *backend_buffer_base(backend_buffer *b) {
    return b->i.base(b);
}

size_t backend_buffer_size(const backend_buffer *b) {
    return b->size;
}

sv_status backend_buffer_clear(backend_buffer *b, uint8_t value) {
    if (b->i.clear) return b->i.clear(b, value);
    if (backend_buft_is_host(b->type)) {
        memset(backend_buffer_base(b), value, b->size);
        return SV_OK;
    }
    return sv_error(SV_ERR_UNSUPPORTED, "buffer of %s cannot be cleared", backend_buft_name(b->type));
}

sv_status backend_tensor_place(tensor *t, backend_buffer *buf, size_t offset) {
    size_t end;
    if (sv_add_size(offset, tensor_nbytes(t), &end) || end > buf->size)
        return sv_error(SV_ERR_LIMIT, "tensor '%s' (%zu bytes at %zu) does not fit its buffer of %zu bytes",
                        t->name, tensor_nbytes(t), offset, buf->size);
    t->data = (char *)backend_buffer_base(buf) + offset;
    t->buffer = buf;
    return SV_OK;
}

sv_status backend_alloc_tensors(backend_buffer_type *bt, tensor *const *ts, int n, backend_buffer **out) {
    *out = NULL;
    uint64_t align = backend_buft_alignment(bt), total = 0;
    for (int i = 0; i < n; i++)
        if (sv_align_up_u64(total, align, &total) || sv_add_u64(total, tensor_nbytes(ts[i]), &total) ||
            total > SIZE_MAX)
            return sv_error(SV_ERR_LIMIT, "tensors too large for one buffer");
    backend_buffer *buf;
    sv_status st = backend_buffer_alloc(bt, (size_t)total, &buf);
    if (st != SV_OK) return st;
    uint64_t off = 0;
    for (int i = 0; i < n; i++) {
        sv_align_up_u64(off, align, &off);
        st = backend_tensor_place(ts[i], buf, (size_t)off);
        if (st != SV_OK) {
            backend_buffer_free(buf);
            return st;
        }
        off += tensor_nbytes(ts[i]);
    }
    *out = buf;
    return SV_OK;
}

static sv_status check_range(const tensor *t, size_t offset, size_t size, const char *what) {
    size_t end;
    if (!t->buffer || !t->data)
        return sv_error(SV_ERR_INVALID_ARG, "%s of tensor '%s' without memory", what, t->name);
    if (sv_add_size(offset, size, &end) || end > tensor_nbytes(t))
        return sv_error(SV_ERR_INVALID_ARG, "%s of %zu bytes at %zu is outside tensor '%s' (%zu bytes)", what,
                        size, offset, t->name, tensor_nbytes(t));
    return SV_OK;
}

sv_status backend_tensor_set(tensor *t, const void *src, size_t offset, size_t size) {
    sv_status st = check_range(t, offset, size, "set");
    if (st != SV_OK || size == 0) return st;
    return t->buffer->i.set(t->buffer, t, src, offset, size);
}

sv_status backend_tensor_get(const tensor *t, void *dst, size_t offset, size_t size) {
    sv_status st = check_range(t, offset, size, "get");
    if (st != SV_OK || size == 0) return st;
    return t->buffer->i.get(t->buffer, t, dst, offset, size);
}

sv_status backend_tensor_copy(const tensor *src, tensor *dst) {
    size_t n = tensor_nbytes(src);
    if (src->type != dst->type || n != tensor_nbytes(dst))
        return sv_error(SV_ERR_INVALID_ARG, "copy of '%s' into '%s': layouts differ", src->name, dst->name);
    if (n == 0) return SV_OK;
    if (backend_buft_is_host(src->buffer->type)) return backend_tensor_set(dst, src->data, 0, n);
    if (backend_buft_is_host(dst->buffer->type)) return backend_tensor_get(src, dst->data, 0, n);
    if (dst->buffer->i.copy_in && dst->buffer->i.copy_in(dst->buffer, src, dst)) return SV_OK;
    void *tmp = malloc(n);
    if (!tmp) return sv_error(SV_ERR_NOMEM, "out of memory staging a copy of %zu bytes", n);
    sv_status st = backend_tensor_get(src, tmp, 0, n);
    if (st == SV_OK) st = backend_tensor_set(dst, tmp, 0, n);
    free(tmp);
    return st;
}

sv_status backend_tensor_copy_async(backend *from, backend *to, const tensor *src, tensor *dst) {
    if (to->i.copy_async) return to->i.copy_async(from, to, src, dst);
    sv_status st = backend_synchronize(from);
    if (st == SV_OK) st = backend_synchronize(to);
    return st == SV_OK ? backend_tensor_copy(src, dst) : st;
}
