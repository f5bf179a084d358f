/* The process-wide list of backend kinds; the only global state of the
 * backend layer, guarded by a mutex and filled once with the built-in CPU. */
#include <pthread.h>
#include <strings.h>

#include "backend/backend.h"
#include "backend/cpu/cpu.h"

enum { MAX_REGS = 16 };

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t reg_once = PTHREAD_ONCE_INIT;
static backend_reg *regs[MAX_REGS];
static int n_regs;

static sv_status add_locked(backend_reg *reg) {
    if (reg->version != BACKEND_API_VERSION)
        return sv_error(SV_ERR_UNSUPPORTED, "backend %s was built for API version %u, not %u", reg->name,
                        (unsigned)reg->version, (unsigned)BACKEND_API_VERSION);
    for (int i = 0; i < n_regs; i++)
        if (strcasecmp(regs[i]->name, reg->name) == 0)
            return sv_error(SV_ERR_INVALID_ARG, "backend %s is already registered", reg->name);
    if (n_regs == MAX_REGS) return sv_error(SV_ERR_LIMIT, "too many backend kinds");
    regs[n_regs++] = reg;
    return SV_OK;
}

static void init_builtin(void) {
    pthread_mutex_lock(&reg_mu);
    add_locked(backend_cpu_reg());
    pthread_mutex_unlock(&reg_mu);
}

sv_status backend_register(backend_reg *reg) {
    pthread_once(&reg_once, init_builtin);
    pthread_mutex_lock(&reg_mu);
    sv_status st = add_locked(reg);
    pthread_mutex_unlock(&reg_mu);
    return st;
}

int backend_reg_count(void) {
    pthread_once(&reg_once, init_builtin);
    pthread_mutex_lock(&reg_mu);
    int n = n_regs;
    pthread_mutex_unlock(&reg_mu);
    return n;
}

backend_reg *backend_reg_get(int i) {
    pthread_once(&reg_once, init_builtin);
    pthread_mutex_lock(&reg_mu);
    backend_reg *r = i >= 0 && i < n_regs ? regs[i] : NULL;
    pthread_mutex_unlock(&reg_mu);
    return r;
}

int backend_dev_count(void) {
    int n = 0, nr = backend_reg_count();
    for (int i = 0; i < nr; i++) {
        backend_reg *r = backend_reg_get(i);
        n += r->device_count(r);
    }
    return n;
}

backend_device *backend_dev_get(int i) {
    int nr = backend_reg_count();
    for (int k = 0; k < nr && i >= 0; k++) {
        backend_reg *r = backend_reg_get(k);
        int n = r->device_count(r);
        if (i < n) return r->device(r, i);
        i -= n;
    }
    return NULL;
}

backend_device *backend_dev_by_name(const char *name) {
    int n = backend_dev_count();
    for (int i = 0; i < n; i++) {
        backend_device *d = backend_dev_get(i);
        backend_dev_props p;
        backend_dev_props_get(d, &p);
        if (strcasecmp(p.name, name) == 0) return d;
    }
    return NULL;
}

void backend_dev_props_get(backend_device *d, backend_dev_props *out) {
    *out = (backend_dev_props){0};
    d->i.props(d, out);
}

sv_status backend_dev_init(backend_device *d, const char *params, backend **out) {
    *out = NULL;
    return d->i.init(d, params, out);
}
