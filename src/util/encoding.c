/* Hex and base64/base64url (RFC 4648). Strict decoders: no whitespace, no
 * characters outside the alphabet, no non-zero padding bits. */
#include <stdlib.h>
#include <string.h>

#include "cachet/encoding.h"

#define FORMAT_ERR CACHET_RC(CACHET_SUB_UTIL, CACHET_E_FORMAT)

static const char hexdig[] = "0123456789abcdef";

void cachet_hex_encode(const uint8_t *in, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hexdig[in[i] >> 4];
        out[2 * i + 1] = hexdig[in[i] & 15];
    }
    out[2 * len] = '\0';
}

char *cachet_hex_string(const uint8_t *in, size_t len)
{
    if (len > (SIZE_MAX - 1) / 2)
        return NULL;
    char *s = malloc(2 * len + 1);
    if (s)
        cachet_hex_encode(in, len, s);
    return s;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

cachet_rc cachet_hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *outlen)
{
    if (outlen)
        *outlen = 0;
    if (!hex)
        return cachet_err(CACHET_RC(CACHET_SUB_UTIL, CACHET_E_INVALID_ARG), "no hex input");
    if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
        hex += 2;
    size_t n = strlen(hex);
    if (n % 2)
        return cachet_err(FORMAT_ERR, "hex string has odd length %zu", n);
    if (n / 2 > cap)
        return cachet_err(CACHET_RC(CACHET_SUB_UTIL, CACHET_E_LIMIT),
                          "hex value is %zu bytes, at most %zu allowed", n / 2, cap);
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return cachet_err(FORMAT_ERR, "not a hex digit at position %zu", hi < 0 ? 2 * i : 2 * i + 1);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    if (outlen)
        *outlen = n / 2;
    return CACHET_OK;
}

static const char b64std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t cachet_base64_encoded_len(size_t len) { return (len + 2) / 3 * 4; }

/* Encode; pad selects '=' padding (standard) or none (url). */
static void b64_encode(const char *alpha, int pad, const uint8_t *in, size_t len, char *out)
{
    size_t o = 0, i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = alpha[v >> 18];
        out[o++] = alpha[(v >> 12) & 63];
        out[o++] = alpha[(v >> 6) & 63];
        out[o++] = alpha[v & 63];
    }
    size_t rest = len - i;
    if (rest) {
        uint32_t v = (uint32_t)in[i] << 16 | (rest == 2 ? (uint32_t)in[i + 1] << 8 : 0);
        out[o++] = alpha[v >> 18];
        out[o++] = alpha[(v >> 12) & 63];
        if (rest == 2)
            out[o++] = alpha[(v >> 6) & 63];
        else if (pad)
            out[o++] = '=';
        if (pad)
            out[o++] = '=';
    }
    out[o] = '\0';
}

void cachet_base64_encode(const uint8_t *in, size_t len, char *out) { b64_encode(b64std, 1, in, len, out); }
void cachet_base64url_encode(const uint8_t *in, size_t len, char *out) { b64_encode(b64url, 0, in, len, out); }

static char *b64_string(const char *alpha, int pad, const uint8_t *in, size_t len)
{
    if (len > SIZE_MAX / 2)
        return NULL;
    char *s = malloc(cachet_base64_encoded_len(len) + 1);
    if (s)
        b64_encode(alpha, pad, in, len, s);
    return s;
}

char *cachet_base64_string(const uint8_t *in, size_t len) { return b64_string(b64std, 1, in, len); }
char *cachet_base64url_string(const uint8_t *in, size_t len) { return b64_string(b64url, 0, in, len); }

static int b64val(const char *alpha, char c)
{
    const char *p = c ? memchr(alpha, c, 64) : NULL;
    return p ? (int)(p - alpha) : -1;
}

static cachet_rc b64_decode(const char *alpha, int pad_required, const char *in, size_t inlen,
                            uint8_t **out, size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    size_t n = inlen;
    /* Strip up to two '=' (required for standard base64 when len%4 != 0). */
    size_t pads = 0;
    while (n > 0 && in[n - 1] == '=' && pads < 2) {
        n--;
        pads++;
    }
    if (pad_required && (n + pads) % 4 != 0)
        return cachet_err(FORMAT_ERR, "base64 length %zu is not a multiple of 4", inlen);
    if (pads && (n + pads) % 4 != 0)
        return cachet_err(FORMAT_ERR, "base64 padding is wrong");
    if (n % 4 == 1)
        return cachet_err(FORMAT_ERR, "base64 length %zu is impossible", inlen);
    size_t cap = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
    uint8_t *buf = malloc(cap ? cap : 1);
    if (!buf)
        return CACHET_RC(CACHET_SUB_UTIL, CACHET_E_NOMEM);
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64val(alpha, in[i]);
        if (v < 0) {
            free(buf);
            return cachet_err(FORMAT_ERR, "invalid base64 character at position %zu", i);
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (uint8_t)(acc >> bits);
        }
    }
    if (bits && (acc & ((1u << bits) - 1))) { /* non-canonical: stray low bits */
        free(buf);
        return cachet_err(FORMAT_ERR, "base64 has non-zero padding bits");
    }
    *out = buf;
    *outlen = o;
    return CACHET_OK;
}

cachet_rc cachet_base64_decode(const char *in, size_t inlen, uint8_t **out, size_t *outlen)
{
    return b64_decode(b64std, 1, in, inlen, out, outlen);
}

cachet_rc cachet_base64url_decode(const char *in, size_t inlen, uint8_t **out, size_t *outlen)
{
    return b64_decode(b64url, 0, in, inlen, out, outlen);
}
