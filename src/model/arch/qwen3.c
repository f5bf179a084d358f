/* Qwen 3 (dense): the Llama block with RMSNorm on each query and key head
 * (QK-norm) before rope, NEOX rope, no projection biases. */
#include "model/arch/arch.h"

static sv_status load(model *m) { return model_load_common(m, false, true, false); }

const model_arch_def model_arch_qwen3 = {"qwen3", load, model_arch_build_prenorm};
