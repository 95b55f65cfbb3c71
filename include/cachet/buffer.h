/* A growing heap buffer with a hard size limit, for bodies received from
 * the network (HTTP request and response bodies, streamed answers). */
#ifndef CACHET_BUFFER_H
#define CACHET_BUFFER_H
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#endif

typedef enum cachet_append_result {
    CACHET_APPEND_OK = 0,
    CACHET_APPEND_LIMIT,    /* *len + n would exceed max: nothing appended */
    CACHET_APPEND_NOMEM,    /* nothing appended */
} cachet_append_result;

/* Append n bytes to *buf (realloc'd; may start NULL) holding *len bytes,
 * keeping a NUL after the data, never growing past max data bytes. */
cachet_append_result cachet_buf_append(char **buf, size_t *len, const void *data, size_t n,
                                       size_t max);

#ifdef __cplusplus
}
#endif
#endif
