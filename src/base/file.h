/* Read-only file mapping and whole-file reads. */
#ifndef SV_FILE_H
#define SV_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "base/status.h"

typedef struct {
    const uint8_t *data; /* mapped bytes; NULL for an empty file */
    size_t size;
    int fd;
} sv_mapping;

/* Maps `path` read-only. OUT: *m (release with sv_file_unmap). */
sv_status sv_file_map(const char *path, sv_mapping *m);
void sv_file_unmap(sv_mapping *m);

/* Reads a whole file into a malloc'd buffer (NUL-terminated for text use, the
 * terminator not counted in *size). Refuses files larger than max_size. */
sv_status sv_file_read_all(const char *path, size_t max_size, uint8_t **data, size_t *size);

/* Writes all bytes; on failure leaves no partial file at `path` (writes a
 * temporary sibling and renames). */
sv_status sv_file_write_all(const char *path, const void *data, size_t size);

#endif
