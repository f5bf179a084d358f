/* Shared by the architecture files. */
#ifndef MODEL_ARCH_ARCH_H
#define MODEL_ARCH_ARCH_H

#include "model/model.h"

/* Pre-norm decoder (Llama, Qwen 2, Qwen 3): x += attn(norm(x)); x += ffn(norm(x)),
 * SwiGLU FFN; the optional biases and QK norms are those the model loaded. */
tensor *model_arch_build_prenorm(model_ubatch_graph *u);

#endif
