/* Chat messages from JSON: an array of {"role": ..., "content": ...}, or an
 * object holding such an array under "messages" (an OpenAI request body). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "text/chat.h"

sv_status chat_messages_from_json(const char *json, size_t len, chat_messages *out) {
    memset(out, 0, sizeof *out);
    json_error_t err;
    json_t *root = json_loadb(json, len, 0, &err);
    if (!root) return sv_error(SV_ERR_FORMAT, "chat messages: JSON error at line %d: %s", err.line, err.text);
    json_t *arr = json_is_object(root) ? json_object_get(root, "messages") : root;
    sv_status st = SV_OK;
    if (!json_is_array(arr)) {
        st = sv_error(SV_ERR_FORMAT, "chat messages: expected an array of {role, content}");
        goto done;
    }
    size_t n = json_array_size(arr), bytes = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *m = json_array_get(arr, i);
        json_t *r = json_object_get(m, "role"), *c = json_object_get(m, "content");
        if (!json_is_string(r) || !json_is_string(c)) {
            st = sv_error(SV_ERR_FORMAT, "chat messages: item %zu needs string \"role\" and \"content\"", i);
            goto done;
        }
        bytes += json_string_length(r) + json_string_length(c) + 2;
    }
    out->msgs = malloc((n ? n : 1) * sizeof *out->msgs);
    out->storage = malloc(bytes ? bytes : 1);
    if (!out->msgs || !out->storage) {
        st = sv_error(SV_ERR_NOMEM, "chat messages");
        goto done;
    }
    char *at = out->storage;
    for (size_t i = 0; i < n; i++) {
        json_t *m = json_array_get(arr, i);
        const char *r = json_string_value(json_object_get(m, "role"));
        const char *c = json_string_value(json_object_get(m, "content"));
        size_t rl = strlen(r) + 1, cl = strlen(c) + 1;
        out->msgs[i].role = memcpy(at, r, rl);
        at += rl;
        out->msgs[i].content = memcpy(at, c, cl);
        at += cl;
    }
    out->n = n;
done:
    json_decref(root);
    if (st) chat_messages_free(out);
    return st;
}

void chat_messages_free(chat_messages *m) {
    free(m->msgs);
    free(m->storage);
    memset(m, 0, sizeof *m);
}
