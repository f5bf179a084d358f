/* The traits table and the one-time choice of kernels for this CPU. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/checked.h"
#include "base/log.h"
#include "tensor/quant_impl.h"

#define TRAITS(NAME, BS, BB, Q, T, VDT)                                            \
    { .name = NAME, .block_size = BS, .block_bytes = BB, .is_quantized = Q,       \
      .to_float = tensor__to_float_##T, .from_float = tensor__from_float_##T,      \
      .from_float_act = tensor__from_float_##T,                                   \
      .vec_dot_type = VDT, .vec_dot = tensor__vec_dot_##T }

static const tensor_type_traits generic_traits[GGUF_TYPE_COUNT] = {
    [GGUF_TYPE_F32] = TRAITS("F32", 1, 4, false, f32, GGUF_TYPE_F32),
    [GGUF_TYPE_F16] = TRAITS("F16", 1, 2, false, f16, GGUF_TYPE_F32),
    [GGUF_TYPE_BF16] = TRAITS("BF16", 1, 2, false, bf16, GGUF_TYPE_F32),
    [GGUF_TYPE_Q4_0] = TRAITS("Q4_0", QK4_0, sizeof(block_q4_0), true, q4_0, GGUF_TYPE_Q8_0),
    [GGUF_TYPE_Q4_1] = TRAITS("Q4_1", QK4_1, sizeof(block_q4_1), true, q4_1, GGUF_TYPE_Q8_1),
    [GGUF_TYPE_Q5_0] = TRAITS("Q5_0", QK5_0, sizeof(block_q5_0), true, q5_0, GGUF_TYPE_Q8_0),
    [GGUF_TYPE_Q5_1] = TRAITS("Q5_1", QK5_1, sizeof(block_q5_1), true, q5_1, GGUF_TYPE_Q8_1),
    [GGUF_TYPE_Q8_0] = TRAITS("Q8_0", QK8_0, sizeof(block_q8_0), true, q8_0, GGUF_TYPE_Q8_0),
    [GGUF_TYPE_Q2_K] = TRAITS("Q2_K", QK_K, sizeof(block_q2_K), true, q2_K, GGUF_TYPE_Q8_K),
    [GGUF_TYPE_Q3_K] = TRAITS("Q3_K", QK_K, sizeof(block_q3_K), true, q3_K, GGUF_TYPE_Q8_K),
    [GGUF_TYPE_Q4_K] = TRAITS("Q4_K", QK_K, sizeof(block_q4_K), true, q4_K, GGUF_TYPE_Q8_K),
    [GGUF_TYPE_Q5_K] = TRAITS("Q5_K", QK_K, sizeof(block_q5_K), true, q5_K, GGUF_TYPE_Q8_K),
    [GGUF_TYPE_Q6_K] = TRAITS("Q6_K", QK_K, sizeof(block_q6_K), true, q6_K, GGUF_TYPE_Q8_K),
    [GGUF_TYPE_Q8_1] = {.name = "Q8_1", .block_size = QK8_1, .block_bytes = sizeof(block_q8_1),
                        .is_quantized = true, .to_float = tensor__to_float_q8_1,
                        .from_float = tensor__from_float_q8_1, .from_float_act = tensor__from_float_q8_1,
                        .vec_dot_type = GGUF_TYPE_Q8_1},
    [GGUF_TYPE_Q8_K] = {.name = "Q8_K", .block_size = QK_K, .block_bytes = sizeof(block_q8_K),
                        .is_quantized = true, .to_float = tensor__to_float_q8_K,
                        .from_float = tensor__from_float_q8_K, .from_float_act = tensor__from_float_q8_K,
                        .vec_dot_type = GGUF_TYPE_Q8_K},
    [GGUF_TYPE_IQ4_NL] = {.name = "IQ4_NL", .block_size = QK4_NL, .block_bytes = sizeof(block_iq4_nl),
                          .is_quantized = true, .to_float = tensor__to_float_iq4_nl,
                          .vec_dot_type = GGUF_TYPE_Q8_0, .vec_dot = tensor__vec_dot_iq4_nl},
    [GGUF_TYPE_IQ4_XS] = {.name = "IQ4_XS", .block_size = QK_K, .block_bytes = sizeof(block_iq4_xs),
                          .is_quantized = true, .to_float = tensor__to_float_iq4_xs,
                          .vec_dot_type = GGUF_TYPE_Q8_K, .vec_dot = tensor__vec_dot_iq4_xs},
};

static tensor_type_traits cpu_traits[TENSOR_CPU_COUNT][GGUF_TYPE_COUNT];
static bool cpu_available[TENSOR_CPU_COUNT];
static tensor_cpu active_cpu;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

#ifdef TENSOR_HAVE_X86
#include <cpuid.h>

/* CPUID, not __builtin_cpu_supports: clang's builtin does not know "f16c".
 * The OS must also save the YMM registers (OSXSAVE + XCR0 bits 1 and 2). */
static bool cpu_has_avx2_fma_f16c(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
    bool fma = c & (1u << 12), osxsave = c & (1u << 27), f16c = c & (1u << 29), avx = c & (1u << 28);
    if (!(fma && osxsave && f16c && avx)) return false;
    unsigned xlo, xhi;
    __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
    if ((xlo & 6u) != 6u) return false;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    return b & (1u << 5);
}

/* F, BW, VL and VNNI (CPUID 7.0 EBX bits 16, 30, 31; ECX bit 11), and the OS
 * saving opmask and ZMM state too (XCR0 bits 5-7 besides 1-2). VNNI is
 * required so one kernel set serves: CPUs with AVX-512 but without it
 * (Skylake-SP) keep the AVX2 set. */
static bool cpu_has_avx512_vnni(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return false;
    unsigned xlo, xhi;
    __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
    if ((xlo & 0xe6u) != 0xe6u) return false;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    const unsigned need_b = (1u << 16) | (1u << 30) | (1u << 31);
    return (b & need_b) == need_b && (c & (1u << 11));
}

static void use_avx512(tensor_type_traits *t) {
    t[GGUF_TYPE_F32].vec_dot = tensor__vec_dot_f32_avx512;
    t[GGUF_TYPE_F16].vec_dot = tensor__vec_dot_f16_avx512;
    t[GGUF_TYPE_BF16].vec_dot = tensor__vec_dot_bf16_avx512;
    t[GGUF_TYPE_Q8_0].vec_dot = tensor__vec_dot_q8_0_avx512;
    t[GGUF_TYPE_Q4_K].vec_dot = tensor__vec_dot_q4_K_avx512;
    t[GGUF_TYPE_Q6_K].vec_dot = tensor__vec_dot_q6_K_avx512;
}

static void use_avx2(tensor_type_traits *t) {
    t[GGUF_TYPE_F32].vec_dot = tensor__vec_dot_f32_avx2;
    t[GGUF_TYPE_F16].to_float = tensor__to_float_f16_avx2;
    t[GGUF_TYPE_F16].from_float = tensor__from_float_f16_avx2;
    t[GGUF_TYPE_F16].vec_dot = tensor__vec_dot_f16_avx2;
    t[GGUF_TYPE_BF16].to_float = tensor__to_float_bf16_avx2;
    t[GGUF_TYPE_BF16].vec_dot = tensor__vec_dot_bf16_avx2;
    t[GGUF_TYPE_Q4_0].vec_dot = tensor__vec_dot_q4_0_avx2;
    t[GGUF_TYPE_Q4_0].to_float = tensor__to_float_q4_0_avx2;
    t[GGUF_TYPE_Q4_1].vec_dot = tensor__vec_dot_q4_1_avx2;
    t[GGUF_TYPE_Q5_0].vec_dot = tensor__vec_dot_q5_0_avx2;
    t[GGUF_TYPE_Q5_1].vec_dot = tensor__vec_dot_q5_1_avx2;
    t[GGUF_TYPE_Q8_0].vec_dot = tensor__vec_dot_q8_0_avx2;
    t[GGUF_TYPE_Q8_0].to_float = tensor__to_float_q8_0_avx2;
    t[GGUF_TYPE_Q8_0].from_float = tensor__from_float_q8_0_avx2;
    t[GGUF_TYPE_Q8_0].from_float_act = tensor__quantize_act_q8_0_avx2;
    t[GGUF_TYPE_Q8_1].from_float = tensor__from_float_q8_1_avx2;
    t[GGUF_TYPE_Q8_1].from_float_act = tensor__quantize_act_q8_1_avx2;
    t[GGUF_TYPE_IQ4_NL].vec_dot = tensor__vec_dot_iq4_nl_avx2;
    t[GGUF_TYPE_Q2_K].vec_dot = tensor__vec_dot_q2_K_avx2;
    t[GGUF_TYPE_Q3_K].vec_dot = tensor__vec_dot_q3_K_avx2;
    t[GGUF_TYPE_Q4_K].vec_dot = tensor__vec_dot_q4_K_avx2;
    t[GGUF_TYPE_Q4_K].to_float = tensor__to_float_q4_K_avx2;
    t[GGUF_TYPE_Q5_K].vec_dot = tensor__vec_dot_q5_K_avx2;
    t[GGUF_TYPE_Q6_K].vec_dot = tensor__vec_dot_q6_K_avx2;
    t[GGUF_TYPE_IQ4_XS].vec_dot = tensor__vec_dot_iq4_xs_avx2;
    t[GGUF_TYPE_Q8_K].from_float = tensor__from_float_q8_K_avx2;
    t[GGUF_TYPE_Q8_K].from_float_act = tensor__from_float_q8_K_avx2;
    t[GGUF_TYPE_Q4_1].to_float = tensor__to_float_q4_1_avx2;
    t[GGUF_TYPE_Q5_0].to_float = tensor__to_float_q5_0_avx2;
    t[GGUF_TYPE_Q5_1].to_float = tensor__to_float_q5_1_avx2;
    t[GGUF_TYPE_IQ4_NL].to_float = tensor__to_float_iq4_nl_avx2;
    t[GGUF_TYPE_IQ4_XS].to_float = tensor__to_float_iq4_xs_avx2;
    t[GGUF_TYPE_Q2_K].to_float = tensor__to_float_q2_K_avx2;
    t[GGUF_TYPE_Q3_K].to_float = tensor__to_float_q3_K_avx2;
    t[GGUF_TYPE_Q5_K].to_float = tensor__to_float_q5_K_avx2;
    t[GGUF_TYPE_Q6_K].to_float = tensor__to_float_q6_K_avx2;
}
#endif

#ifdef TENSOR_HAVE_NEON
static void use_neon(tensor_type_traits *t) {
    t[GGUF_TYPE_F32].vec_dot = tensor__vec_dot_f32_neon;
    t[GGUF_TYPE_F16].to_float = tensor__to_float_f16_neon;
    t[GGUF_TYPE_F16].vec_dot = tensor__vec_dot_f16_neon;
    t[GGUF_TYPE_Q4_0].vec_dot = tensor__vec_dot_q4_0_neon;
    t[GGUF_TYPE_BF16].vec_dot = tensor__vec_dot_bf16_neon;
    t[GGUF_TYPE_Q4_1].vec_dot = tensor__vec_dot_q4_1_neon;
    t[GGUF_TYPE_Q5_0].vec_dot = tensor__vec_dot_q5_0_neon;
    t[GGUF_TYPE_Q5_1].vec_dot = tensor__vec_dot_q5_1_neon;
    t[GGUF_TYPE_IQ4_NL].vec_dot = tensor__vec_dot_iq4_nl_neon;
    t[GGUF_TYPE_Q2_K].vec_dot = tensor__vec_dot_q2_K_neon;
    t[GGUF_TYPE_Q3_K].vec_dot = tensor__vec_dot_q3_K_neon;
    t[GGUF_TYPE_Q5_K].vec_dot = tensor__vec_dot_q5_K_neon;
    t[GGUF_TYPE_IQ4_XS].vec_dot = tensor__vec_dot_iq4_xs_neon;
    t[GGUF_TYPE_Q8_0].vec_dot = tensor__vec_dot_q8_0_neon;
    t[GGUF_TYPE_Q8_0].from_float = tensor__from_float_q8_0_neon;
    t[GGUF_TYPE_Q8_0].from_float_act = tensor__from_float_q8_0_neon;
    t[GGUF_TYPE_Q8_1].from_float = tensor__from_float_q8_1_neon;
    t[GGUF_TYPE_Q8_1].from_float_act = tensor__from_float_q8_1_neon;
    t[GGUF_TYPE_Q4_K].vec_dot = tensor__vec_dot_q4_K_neon;
    t[GGUF_TYPE_Q6_K].vec_dot = tensor__vec_dot_q6_K_neon;
    t[GGUF_TYPE_Q8_K].from_float = tensor__from_float_q8_K_neon;
    t[GGUF_TYPE_Q8_K].from_float_act = tensor__from_float_q8_K_neon;
    t[GGUF_TYPE_Q4_0].to_float = tensor__to_float_q4_0_neon;
    t[GGUF_TYPE_Q8_0].to_float = tensor__to_float_q8_0_neon;
    t[GGUF_TYPE_Q4_K].to_float = tensor__to_float_q4_K_neon;
    t[GGUF_TYPE_Q6_K].to_float = tensor__to_float_q6_K_neon;
}
#endif

float tensor__f16_table[65536];

static void init_traits(void) {
    for (uint32_t h = 0; h < 65536; h++) tensor__f16_table[h] = tensor_f16_to_f32((uint16_t)h);
    memcpy(cpu_traits[TENSOR_CPU_GENERIC], generic_traits, sizeof generic_traits);
    cpu_available[TENSOR_CPU_GENERIC] = true;
    active_cpu = TENSOR_CPU_GENERIC;
#ifdef TENSOR_HAVE_X86
    if (cpu_has_avx2_fma_f16c()) {
        memcpy(cpu_traits[TENSOR_CPU_AVX2], generic_traits, sizeof generic_traits);
        use_avx2(cpu_traits[TENSOR_CPU_AVX2]);
        cpu_available[TENSOR_CPU_AVX2] = true;
        active_cpu = TENSOR_CPU_AVX2;
        if (cpu_has_avx512_vnni()) {
            memcpy(cpu_traits[TENSOR_CPU_AVX512], cpu_traits[TENSOR_CPU_AVX2], sizeof generic_traits);
            use_avx512(cpu_traits[TENSOR_CPU_AVX512]);
            cpu_available[TENSOR_CPU_AVX512] = true;
            active_cpu = TENSOR_CPU_AVX512;
        }
    }
#endif
#ifdef TENSOR_HAVE_NEON
    /* NEON is mandatory on aarch64: no run-time check needed. */
    memcpy(cpu_traits[TENSOR_CPU_NEON], generic_traits, sizeof generic_traits);
    use_neon(cpu_traits[TENSOR_CPU_NEON]);
    cpu_available[TENSOR_CPU_NEON] = true;
    active_cpu = TENSOR_CPU_NEON;
#endif
    const char *env = getenv("SOVA_CPU");
    if (env && strcmp(env, "generic") == 0) active_cpu = TENSOR_CPU_GENERIC;
    else if (env && strcmp(env, "avx2") == 0) {
        if (active_cpu == TENSOR_CPU_AVX512) active_cpu = TENSOR_CPU_AVX2;
    } else if (env && *env)
        SV_LOGW("SOVA_CPU=%s not understood (only \"generic\" and \"avx2\" are); using %s", env,
                tensor_cpu_name(active_cpu));
}

const tensor_type_traits *tensor_type_get_cpu(tensor_type t, tensor_cpu cpu) {
    if ((unsigned)t >= GGUF_TYPE_COUNT || (unsigned)cpu >= TENSOR_CPU_COUNT) return NULL;
    pthread_once(&init_once, init_traits);
    if (!cpu_available[cpu]) return NULL;
    const tensor_type_traits *tr = &cpu_traits[cpu][t];
    return tr->name ? tr : NULL;
}

const tensor_type_traits *tensor_type_get(tensor_type t) {
    pthread_once(&init_once, init_traits);
    return tensor_type_get_cpu(t, active_cpu);
}

tensor_cpu tensor_cpu_active(void) {
    pthread_once(&init_once, init_traits);
    return active_cpu;
}

const char *tensor_cpu_name(tensor_cpu cpu) {
    switch (cpu) {
    case TENSOR_CPU_GENERIC: return "generic";
    case TENSOR_CPU_AVX2: return "avx2";
    case TENSOR_CPU_AVX512: return "avx512";
    case TENSOR_CPU_NEON: return "neon";
    default: return "?";
    }
}

sv_status tensor_type_check(tensor_type t, const char *what) {
    const tensor_type_traits *tr = tensor_type_get(t);
    if (tr && tr->vec_dot && tr->to_float) return SV_OK;
    if (!gguf_type_valid((uint32_t)t))
        return sv_error(SV_ERR_UNSUPPORTED, "tensor '%s': unknown type id %u", what ? what : "?",
                        (unsigned)t);
    return sv_error(SV_ERR_UNSUPPORTED, "tensor '%s': type %s (id %u) is not supported by sova",
                    what ? what : "?", gguf_type_name(t), (unsigned)t);
}

size_t tensor_row_bytes(tensor_type t, int64_t n) {
    if (!gguf_type_valid((uint32_t)t) || n < 0) return 0;
    int64_t bs = gguf_type_block_size(t);
    if (bs <= 0 || n % bs != 0) return 0;
    size_t bytes;
    if (sv_mul_size((size_t)(n / bs), gguf_type_block_bytes(t), &bytes)) return 0;
    return bytes;
}
