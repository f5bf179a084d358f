#include "gguf/gguf_types.h"

#include <strings.h>

typedef struct {
    const char *name;
    int64_t block_size; /* 0 marks an unused id */
    size_t block_bytes;
} type_traits;

/* Block geometry as ggml defines it (ggml-common.h); the sizes are part of the
 * file format because tensor byte sizes are derived from them. */
static const type_traits k_types[GGUF_TYPE_COUNT] = {
    [GGUF_TYPE_F32] = {"F32", 1, 4},
    [GGUF_TYPE_F16] = {"F16", 1, 2},
    [GGUF_TYPE_Q4_0] = {"Q4_0", 32, 18},
    [GGUF_TYPE_Q4_1] = {"Q4_1", 32, 20},
    [GGUF_TYPE_Q5_0] = {"Q5_0", 32, 22},
    [GGUF_TYPE_Q5_1] = {"Q5_1", 32, 24},
    [GGUF_TYPE_Q8_0] = {"Q8_0", 32, 34},
    [GGUF_TYPE_Q8_1] = {"Q8_1", 32, 36},
    [GGUF_TYPE_Q2_K] = {"Q2_K", 256, 84},
    [GGUF_TYPE_Q3_K] = {"Q3_K", 256, 110},
    [GGUF_TYPE_Q4_K] = {"Q4_K", 256, 144},
    [GGUF_TYPE_Q5_K] = {"Q5_K", 256, 176},
    [GGUF_TYPE_Q6_K] = {"Q6_K", 256, 210},
    [GGUF_TYPE_Q8_K] = {"Q8_K", 256, 292},
    [GGUF_TYPE_IQ2_XXS] = {"IQ2_XXS", 256, 66},
    [GGUF_TYPE_IQ2_XS] = {"IQ2_XS", 256, 74},
    [GGUF_TYPE_IQ3_XXS] = {"IQ3_XXS", 256, 98},
    [GGUF_TYPE_IQ1_S] = {"IQ1_S", 256, 50},
    [GGUF_TYPE_IQ4_NL] = {"IQ4_NL", 32, 18},
    [GGUF_TYPE_IQ3_S] = {"IQ3_S", 256, 110},
    [GGUF_TYPE_IQ2_S] = {"IQ2_S", 256, 82},
    [GGUF_TYPE_IQ4_XS] = {"IQ4_XS", 256, 136},
    [GGUF_TYPE_I8] = {"I8", 1, 1},
    [GGUF_TYPE_I16] = {"I16", 1, 2},
    [GGUF_TYPE_I32] = {"I32", 1, 4},
    [GGUF_TYPE_I64] = {"I64", 1, 8},
    [GGUF_TYPE_F64] = {"F64", 1, 8},
    [GGUF_TYPE_IQ1_M] = {"IQ1_M", 256, 56},
    [GGUF_TYPE_BF16] = {"BF16", 1, 2},
    [GGUF_TYPE_TQ1_0] = {"TQ1_0", 256, 54},
    [GGUF_TYPE_TQ2_0] = {"TQ2_0", 256, 66},
    [GGUF_TYPE_MXFP4] = {"MXFP4", 32, 17},
};

bool gguf_type_valid(uint32_t id) { return id < GGUF_TYPE_COUNT && k_types[id].block_size > 0; }

const char *gguf_type_name(gguf_type t) { return gguf_type_valid((uint32_t)t) ? k_types[t].name : "?"; }

int64_t gguf_type_block_size(gguf_type t) { return gguf_type_valid((uint32_t)t) ? k_types[t].block_size : 0; }

size_t gguf_type_block_bytes(gguf_type t) { return gguf_type_valid((uint32_t)t) ? k_types[t].block_bytes : 0; }

int gguf_type_from_name(const char *name) {
    for (int i = 0; i < GGUF_TYPE_COUNT; i++)
        if (k_types[i].block_size > 0 && !strcasecmp(name, k_types[i].name)) return i;
    return -1;
}
