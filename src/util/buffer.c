/* Bounded growing buffers (include/cachet/buffer.h). */
#include <stdlib.h>
#include <string.h>

#include "cachet/buffer.h"

cachet_append_result cachet_buf_append(char **buf, size_t *len, const void *data, size_t n,
                                       size_t max)
{
    if (*len > max || n > max - *len)
        return CACHET_APPEND_LIMIT;
    char *nb = realloc(*buf, *len + n + 1);
    if (!nb)
        return CACHET_APPEND_NOMEM;
    *buf = nb;
    if (n)
        memcpy(nb + *len, data, n);
    *len += n;
    nb[*len] = 0;
    return CACHET_APPEND_OK;
}
