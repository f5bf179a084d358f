/* Qwen 2 / 2.5: the Llama block with biases on the q, k and v projections
 * and NEOX rope. */
#include "model/arch/arch.h"

static sv_status load(model *m) { return model_load_common(m, true, false, false); }

const model_arch_def model_arch_qwen2 = {"qwen2", load, model_arch_build_prenorm};
