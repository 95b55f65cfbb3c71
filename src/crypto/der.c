/* Strict DER readers for extension values (X.690 §8.3, §8.7, §10.1): one
 * TLV spanning the whole input, definite minimal lengths, exact tags. */
#include <string.h>

#include "crypto/crypto_int.h"

#define TAG_INTEGER 0x02
#define TAG_OCTET_STRING 0x04
#define TAG_UTF8_STRING 0x0c
#define TAG_PRINTABLE_STRING 0x13
#define TAG_IA5_STRING 0x16

/* Well-formed UTF-8 (RFC 3629 §4): shortest forms, no surrogates, <= U+10FFFF. */
static bool utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t b = s[i];
        size_t extra;
        uint32_t cp;
        if (b < 0x80) {
            i++;
            continue;
        } else if (b >= 0xc2 && b <= 0xdf) {
            extra = 1, cp = b & 0x1f;
        } else if (b >= 0xe0 && b <= 0xef) {
            extra = 2, cp = b & 0x0f;
        } else if (b >= 0xf0 && b <= 0xf4) {
            extra = 3, cp = b & 0x07;
        } else {
            return false;
        }
        if (extra > n - i - 1)
            return false;
        for (size_t k = 1; k <= extra; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if ((extra == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (extra == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return false;
        i += extra + 1;
    }
    return true;
}

/* Split der into tag and content; the TLV must use all len bytes. */
static cachet_rc der_tlv(const uint8_t *der, size_t len, uint8_t *tag, const uint8_t **content,
                         size_t *clen, const char *what)
{
    /* Outputs are defined on every path, so no caller reads garbage. */
    *tag = 0;
    *content = NULL;
    *clen = 0;
    if (!der || len < 2)
        return crypto_err(TRUNCATED, "%s: %zu bytes is no TLV", what, der ? len : 0);
    *tag = der[0];
    if ((der[0] & 0x1f) == 0x1f)
        return crypto_err(FORMAT, "%s: multi-byte tags are not used here", what);
    size_t off = 2, n = der[1];
    if (n == 0x80)
        return crypto_err(FORMAT, "%s: indefinite length is not DER", what);
    if (n > 0x80) {
        size_t nb = n & 0x7f;
        if (nb > sizeof(size_t) || nb > len - 2)
            return crypto_err(TRUNCATED, "%s: %zu length bytes", what, nb);
        if (der[2] == 0)
            return crypto_err(FORMAT, "%s: length has leading zero (not DER)", what);
        n = 0;
        for (size_t i = 0; i < nb; i++)
            n = n << 8 | der[2 + i];
        if (n < 0x80)
            return crypto_err(FORMAT, "%s: long form for a short length (not DER)", what);
        off += nb;
    }
    if (n > len - off)
        return crypto_err(TRUNCATED, "%s: length %zu exceeds the %zu bytes left", what, n,
                          len - off);
    if (n != len - off)
        return crypto_err(FORMAT, "%s: %zu trailing bytes", what, len - off - n);
    *content = der + off;
    *clen = n;
    return CACHET_OK;
}

cachet_rc cachet_der_read_uint(const uint8_t *der, size_t len, uint64_t *out)
{
    const char *what = "der_read_uint";
    uint8_t tag;
    const uint8_t *c;
    size_t n;
    if (!out)
        return crypto_err(INVALID_ARG, "%s: NULL output", what);
    *out = 0;
    cachet_rc rc = der_tlv(der, len, &tag, &c, &n, what);
    if (rc != CACHET_OK)
        return rc;
    if (tag != TAG_INTEGER)
        return crypto_err(FORMAT, "%s: tag 0x%02x is not INTEGER", what, tag);
    if (n == 0)
        return crypto_err(FORMAT, "%s: empty INTEGER", what);
    if (c[0] & 0x80)
        return crypto_err(RANGE, "%s: negative INTEGER", what);
    if (n > 1 && c[0] == 0 && !(c[1] & 0x80))
        return crypto_err(FORMAT, "%s: INTEGER has a redundant leading zero", what);
    if (c[0] == 0) {
        c++;
        n--;
    }
    if (n > 8)
        return crypto_err(RANGE, "%s: INTEGER of %zu bytes exceeds 64 bits", what, n);
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | c[i];
    *out = v;
    return CACHET_OK;
}

cachet_rc cachet_der_read_octets(const uint8_t *der, size_t len, const uint8_t **out,
                                 size_t *outlen)
{
    const char *what = "der_read_octets";
    uint8_t tag;
    if (!out || !outlen)
        return crypto_err(INVALID_ARG, "%s: NULL output", what);
    *out = NULL;
    *outlen = 0;
    const uint8_t *c;
    size_t n;
    cachet_rc rc = der_tlv(der, len, &tag, &c, &n, what);
    if (rc != CACHET_OK)
        return rc;
    if (tag != TAG_OCTET_STRING) /* constructed 0x24 is BER only */
        return crypto_err(FORMAT, "%s: tag 0x%02x is not OCTET STRING", what, tag);
    *out = c;
    *outlen = n;
    return CACHET_OK;
}

cachet_rc cachet_der_read_string(const uint8_t *der, size_t len, char *buf, size_t cap)
{
    const char *what = "der_read_string";
    uint8_t tag;
    const uint8_t *c;
    size_t n;
    if (!buf || !cap)
        return crypto_err(INVALID_ARG, "%s: no buffer", what);
    buf[0] = '\0';
    cachet_rc rc = der_tlv(der, len, &tag, &c, &n, what);
    if (rc != CACHET_OK)
        return rc;
    if (tag != TAG_IA5_STRING && tag != TAG_UTF8_STRING && tag != TAG_PRINTABLE_STRING)
        return crypto_err(FORMAT, "%s: tag 0x%02x is not a string type", what, tag);
    for (size_t i = 0; i < n; i++) {
        /* No NUL (it would truncate what a C caller compares); IA5 and
         * PrintableString are 7-bit. */
        if (c[i] == 0 || (tag != TAG_UTF8_STRING && c[i] > 0x7f))
            return crypto_err(FORMAT, "%s: byte 0x%02x at %zu not allowed", what, c[i], i);
    }
    if (tag == TAG_UTF8_STRING && !utf8_valid(c, n))
        return crypto_err(FORMAT, "%s: UTF8String is not valid UTF-8", what);
    if (n >= cap)
        return crypto_err(LIMIT, "%s: %zu-byte string does not fit %zu", what, n, cap);
    memcpy(buf, c, n);
    buf[n] = '\0';
    return CACHET_OK;
}
