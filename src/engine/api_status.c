#include <assert.h>

#include "base/status.h"
#include "sova.h"

static_assert(SOVA_ERR_IO == (int)SV_ERR_IO && SOVA_ERR_TIMEOUT == (int)SV_ERR_TIMEOUT,
              "public and internal status codes must agree");
static_assert(SV_STATUS_COUNT == 11, "every internal status needs a public value");

const char *sova_errmsg(void) { return sv_errmsg(); }

const char *sova_status_name(sova_status st) { return sv_status_name((sv_status)st); }

const char *sova_version(void) { return SOVA_VERSION_STRING; }
