/* Bounded reader over untrusted bytes.
 *
 * Every read checks `n <= len - off` before touching memory; the first
 * failure is sticky, so a parser may read a run of fields and check once.
 * Slices point into the original buffer (no copies), so signatures can be
 * verified over the exact bytes received. */
#ifndef CACHET_READER_H
#define CACHET_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cachet/rc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cachet_reader {
    const uint8_t *buf;
    size_t len;
    size_t off;
    bool failed;
} cachet_reader;

void cachet_reader_init(cachet_reader *r, const void *buf, size_t len);

/* Each returns CACHET_OK, or CACHET_E_TRUNCATED (and leaves *out zero). */
cachet_rc cachet_read_u8(cachet_reader *r, uint8_t *out);
cachet_rc cachet_read_u16le(cachet_reader *r, uint16_t *out);
cachet_rc cachet_read_u32le(cachet_reader *r, uint32_t *out);
cachet_rc cachet_read_u64le(cachet_reader *r, uint64_t *out);
cachet_rc cachet_read_u16be(cachet_reader *r, uint16_t *out);
cachet_rc cachet_read_u32be(cachet_reader *r, uint32_t *out);
cachet_rc cachet_read_u64be(cachet_reader *r, uint64_t *out);
cachet_rc cachet_read_u24le(cachet_reader *r, uint32_t *out);

/* A pointer to the next n bytes (no copy), advancing past them. */
cachet_rc cachet_read_slice(cachet_reader *r, size_t n, const uint8_t **out);
/* Copy the next n bytes into dst. */
cachet_rc cachet_read_copy(cachet_reader *r, void *dst, size_t n);
cachet_rc cachet_read_skip(cachet_reader *r, size_t n);
/* A sub-reader over the next n bytes (for length-prefixed structures). */
cachet_rc cachet_read_sub(cachet_reader *r, size_t n, cachet_reader *sub);
/* Succeeds only when the next n bytes are all zero (reserved / MBZ fields). */
cachet_rc cachet_read_zeros(cachet_reader *r, size_t n);

size_t cachet_reader_remaining(const cachet_reader *r);
bool cachet_reader_done(const cachet_reader *r);
/* CACHET_OK if no read failed so far, else CACHET_E_TRUNCATED. */
cachet_rc cachet_reader_status(const cachet_reader *r);

/* Stateless helpers for fixed offsets whose bounds the caller has checked. */
static inline uint16_t cachet_le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t cachet_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t cachet_le64(const uint8_t *p)
{
    return (uint64_t)cachet_le32(p) | ((uint64_t)cachet_le32(p + 4) << 32);
}
static inline uint16_t cachet_be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t cachet_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}
static inline uint64_t cachet_be64(const uint8_t *p)
{
    return ((uint64_t)cachet_be32(p) << 32) | (uint64_t)cachet_be32(p + 4);
}
static inline void cachet_put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void cachet_put_le64(uint8_t *p, uint64_t v)
{
    cachet_put_le32(p, (uint32_t)v); cachet_put_le32(p + 4, (uint32_t)(v >> 32));
}
static inline void cachet_put_le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void cachet_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline void cachet_put_be64(uint8_t *p, uint64_t v)
{
    cachet_put_be32(p, (uint32_t)(v >> 32)); cachet_put_be32(p + 4, (uint32_t)v);
}

#ifdef __cplusplus
}
#endif
#endif
