/* Preprocessor parameters from an mmproj GGUF's clip.* keys. The projector
 * type picks the model family; image size, patch size, mean and std come
 * from the file when present. Keys the converter does not write (resample
 * filter, Qwen's min/max pixels, merge and temporal patch sizes) keep the HF
 * processor defaults. */
#include <string.h>

#include "gguf/gguf.h"
#include "vision/img_preproc.h"

static bool get_vec3(const gguf_file *f, const char *key, float out[3]) {
    gguf_value_type t;
    uint64_t n;
    const gguf_value *v = gguf_get_arr(f, key, &t, &n);
    if (!v || n != 3 || t != GGUF_VT_FLOAT32) return false;
    memcpy(out, v->v.arr.data, 3 * sizeof(float));
    return true;
}

sv_status img_prep_params_from_gguf(const gguf_file *f, img_prep_params *out) {
    const char *proj = gguf_get_str(f, "clip.projector_type");
    if (!proj) return sv_error(SV_ERR_FORMAT, "mmproj: missing clip.projector_type");
    if (!strcmp(proj, "gemma3")) {
        *out = img_prep_default_params(IMG_PREP_GEMMA3);
    } else if (!strcmp(proj, "qwen2.5vl_merger") || !strcmp(proj, "qwen2vl_merger") || !strcmp(proj, "qwen3vl_merger")) {
        *out = img_prep_default_params(IMG_PREP_QWEN2VL);
    } else {
        return sv_error(SV_ERR_UNSUPPORTED, "mmproj: no image preprocessor for projector type '%s'", proj);
    }
    uint32_t u;
    if (out->kind == IMG_PREP_GEMMA3 && gguf_get_u32(f, "clip.vision.image_size", &u)) {
        if (u == 0 || u > 16384) return sv_error(SV_ERR_FORMAT, "mmproj: clip.vision.image_size %u out of range", u);
        out->image_size = (int)u;
    }
    if (out->kind == IMG_PREP_QWEN2VL && gguf_get_u32(f, "clip.vision.patch_size", &u)) {
        if (u == 0 || u > 1024) return sv_error(SV_ERR_FORMAT, "mmproj: clip.vision.patch_size %u out of range", u);
        out->patch_size = (int)u;
    }
    if (out->kind == IMG_PREP_QWEN2VL && gguf_get_u32(f, "clip.vision.spatial_merge_size", &u)) {
        if (u == 0 || u > 16) return sv_error(SV_ERR_FORMAT, "mmproj: clip.vision.spatial_merge_size %u out of range", u);
        out->merge_size = (int)u;
    }
    float v[3];
    if (gguf_get(f, "clip.vision.image_mean")) {
        if (!get_vec3(f, "clip.vision.image_mean", v)) return sv_error(SV_ERR_FORMAT, "mmproj: clip.vision.image_mean is not 3 floats");
        memcpy(out->mean, v, sizeof v);
    }
    if (gguf_get(f, "clip.vision.image_std")) {
        if (!get_vec3(f, "clip.vision.image_std", v)) return sv_error(SV_ERR_FORMAT, "mmproj: clip.vision.image_std is not 3 floats");
        for (int c = 0; c < 3; c++)
            if (!(v[c] > 0.0f)) return sv_error(SV_ERR_FORMAT, "mmproj: clip.vision.image_std[%d] = %g is not positive", c, v[c]);
        memcpy(out->std, v, sizeof v);
    }
    return SV_OK;
}

sv_status img_prep_params_from_mmproj(const char *path, img_prep_params *out) {
    gguf_open_params op = gguf_default_open_params();
    op.map_data = false;
    gguf_file *f;
    sv_status st = gguf_open(path, &op, &f);
    if (st) return sv_error_prefix(st, "mmproj %s: ", path);
    st = img_prep_params_from_gguf(f, out);
    gguf_free(f);
    return st;
}
