/* libFuzzer: the base64 and data: URI parsers (no network, no files). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "vision/img_source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *out;
    size_t n;
    char mime[32];
    if (img_base64_decode((const char *)data, size, 1u << 20, &out, &n) == SV_OK) free(out);
    if (img_data_uri_decode((const char *)data, size, 1u << 20, &out, &n, mime, sizeof mime) == SV_OK) free(out);
    return 0;
}
