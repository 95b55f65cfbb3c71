/* Bounded reader: no read ever passes the end, and the first failure sticks. */
#include <string.h>

#include "cachet/reader.h"

#define TRUNC CACHET_RC(CACHET_SUB_UTIL, CACHET_E_TRUNCATED)

void cachet_reader_init(cachet_reader *r, const void *buf, size_t len)
{
    r->buf = buf;
    r->len = buf ? len : 0;
    r->off = 0;
    r->failed = false;
}

/* Reserve n bytes: on success returns their start and advances. */
static const uint8_t *take(cachet_reader *r, size_t n)
{
    if (r->failed || n > r->len - r->off) {
        r->failed = true;
        return NULL;
    }
    const uint8_t *p = r->buf + r->off;
    r->off += n;
    return p;
}

#define DEFINE_READ(name, type, n, conv)                                                    \
    cachet_rc name(cachet_reader *r, type *out)                                             \
    {                                                                                       \
        const uint8_t *p = take(r, n);                                                      \
        *out = p ? (type)conv(p) : 0;                                                       \
        return p ? CACHET_OK : TRUNC;                                                       \
    }

#define U8(p) (p)[0]
DEFINE_READ(cachet_read_u8, uint8_t, 1, U8)
DEFINE_READ(cachet_read_u16le, uint16_t, 2, cachet_le16)
DEFINE_READ(cachet_read_u32le, uint32_t, 4, cachet_le32)
DEFINE_READ(cachet_read_u64le, uint64_t, 8, cachet_le64)
DEFINE_READ(cachet_read_u16be, uint16_t, 2, cachet_be16)
DEFINE_READ(cachet_read_u32be, uint32_t, 4, cachet_be32)
DEFINE_READ(cachet_read_u64be, uint64_t, 8, cachet_be64)
#define LE24(p) ((uint32_t)(p)[0] | ((uint32_t)(p)[1] << 8) | ((uint32_t)(p)[2] << 16))
DEFINE_READ(cachet_read_u24le, uint32_t, 3, LE24)

cachet_rc cachet_read_slice(cachet_reader *r, size_t n, const uint8_t **out)
{
    *out = take(r, n);
    return *out ? CACHET_OK : TRUNC;
}

cachet_rc cachet_read_copy(cachet_reader *r, void *dst, size_t n)
{
    const uint8_t *p = take(r, n);
    if (!p) {
        memset(dst, 0, n);
        return TRUNC;
    }
    memcpy(dst, p, n);
    return CACHET_OK;
}

cachet_rc cachet_read_skip(cachet_reader *r, size_t n)
{
    return take(r, n) ? CACHET_OK : TRUNC;
}

cachet_rc cachet_read_sub(cachet_reader *r, size_t n, cachet_reader *sub)
{
    const uint8_t *p = take(r, n);
    cachet_reader_init(sub, p, p ? n : 0);
    sub->failed = !p;
    return p ? CACHET_OK : TRUNC;
}

cachet_rc cachet_read_zeros(cachet_reader *r, size_t n)
{
    const uint8_t *p = take(r, n);
    if (!p)
        return TRUNC;
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc ? CACHET_RC(CACHET_SUB_UTIL, CACHET_E_FORMAT) : CACHET_OK;
}

size_t cachet_reader_remaining(const cachet_reader *r)
{
    return r->failed ? 0 : r->len - r->off;
}

bool cachet_reader_done(const cachet_reader *r)
{
    return !r->failed && r->off == r->len;
}

cachet_rc cachet_reader_status(const cachet_reader *r)
{
    return r->failed ? TRUNC : CACHET_OK;
}
