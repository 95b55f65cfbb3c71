/* Exact bytes of Intel's signed JSON (evidence-formats §2.6, pitfall 4).
 *
 * A PCS body is {"tcbInfo":{...},"signature":"<hex>"} (or "enclaveIdentity");
 * the signature covers the bytes of the inner object *as served*.  This file
 * finds those bytes with a small scanner that understands just enough JSON
 * to skip values (strings with escapes, nesting, scalars) — the document was
 * already parsed strictly by the endorsement loader, so the scanner's job is
 * only to locate, never to interpret.  It also decodes the URL-encoded PEM
 * chains that PCS returns in its issuer-chain headers. */
#include <stdlib.h>
#include <string.h>

#include "evidence/tdx/tdx.h"

#define JSON_MAX_DEPTH 64

typedef struct scan {
    const char *p, *end;
} scan;

static void skip_ws(scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* At a '"': step past the string.  *escaped tells whether it used escapes. */
static bool skip_string(scan *s, const char **body, size_t *blen, bool *escaped)
{
    if (s->p >= s->end || *s->p != '"')
        return false;
    s->p++;
    const char *start = s->p;
    bool esc = false;
    while (s->p < s->end) {
        unsigned char c = (unsigned char)*s->p;
        if (c == '"') {
            if (body)
                *body = start;
            if (blen)
                *blen = (size_t)(s->p - start);
            if (escaped)
                *escaped = esc;
            s->p++;
            return true;
        }
        if (c < 0x20)
            return false;
        if (c == '\\') {
            esc = true;
            if (s->end - s->p < 2)
                return false;
            char e = s->p[1];
            if (e == 'u') {
                if (s->end - s->p < 6 || !is_hex(s->p[2]) || !is_hex(s->p[3]) ||
                    !is_hex(s->p[4]) || !is_hex(s->p[5]))
                    return false;
                s->p += 6;
                continue;
            }
            if (!strchr("\"\\/bfnrt", e) || e == '\0')
                return false;
            s->p += 2;
            continue;
        }
        s->p++;
    }
    return false;
}

static bool skip_literal(scan *s, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
        return false;
    s->p += n;
    return true;
}

static bool skip_number(scan *s)
{
    const char *start = s->p;
    while (s->p < s->end && (strchr("+-.eE", *s->p) || (*s->p >= '0' && *s->p <= '9')) &&
           *s->p != '\0')
        s->p++;
    return s->p > start;
}

static bool skip_value(scan *s, int depth);

static bool skip_container(scan *s, int depth, char close, bool object)
{
    if (depth > JSON_MAX_DEPTH)
        return false;
    s->p++; /* the opening bracket */
    skip_ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        return true;
    }
    for (;;) {
        if (object) {
            if (!skip_string(s, NULL, NULL, NULL))
                return false;
            skip_ws(s);
            if (s->p >= s->end || *s->p != ':')
                return false;
            s->p++;
            skip_ws(s);
        }
        if (!skip_value(s, depth + 1))
            return false;
        skip_ws(s);
        if (s->p >= s->end)
            return false;
        if (*s->p == ',') {
            s->p++;
            skip_ws(s);
            continue;
        }
        if (*s->p == close) {
            s->p++;
            return true;
        }
        return false;
    }
}

static bool skip_value(scan *s, int depth)
{
    if (s->p >= s->end)
        return false;
    switch (*s->p) {
    case '{': return skip_container(s, depth, '}', true);
    case '[': return skip_container(s, depth, ']', false);
    case '"': return skip_string(s, NULL, NULL, NULL);
    case 't': return skip_literal(s, "true");
    case 'f': return skip_literal(s, "false");
    case 'n': return skip_literal(s, "null");
    default: return skip_number(s);
    }
}

cachet_rc tdx_json_member_span(const char *text, size_t len, const char *key, const char **val,
                               size_t *vlen)
{
    if (!text || !key || !val || !vlen)
        return cachet_err(TDX_RC(INVALID_ARG), "json: missing argument");
    scan s = { text, text + len };
    size_t klen = strlen(key);
    const char *found = NULL;
    size_t found_len = 0;
    /* A UTF-8 byte-order mark is allowed before the document. */
    if (len >= 3 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB &&
        (unsigned char)text[2] == 0xBF)
        s.p += 3;
    skip_ws(&s);
    if (s.p >= s.end || *s.p != '{')
        return cachet_err(TDX_RC(FORMAT), "json: not an object");
    s.p++;
    skip_ws(&s);
    if (s.p < s.end && *s.p == '}') {
        s.p++;
    } else {
        for (;;) {
            const char *name;
            size_t nlen;
            bool escaped;
            if (!skip_string(&s, &name, &nlen, &escaped))
                return cachet_err(TDX_RC(FORMAT), "json: bad member name");
            if (escaped)
                return cachet_err(TDX_RC(FORMAT),
                                  "json: a member name uses escapes (not accepted in collateral)");
            skip_ws(&s);
            if (s.p >= s.end || *s.p != ':')
                return cachet_err(TDX_RC(FORMAT), "json: ':' expected");
            s.p++;
            skip_ws(&s);
            const char *vstart = s.p;
            if (!skip_value(&s, 1))
                return cachet_err(TDX_RC(FORMAT), "json: bad value");
            if (nlen == klen && memcmp(name, key, klen) == 0) {
                if (found)
                    return cachet_err(TDX_RC(FORMAT), "json: member \"%s\" repeated", key);
                found = vstart;
                found_len = (size_t)(s.p - vstart);
            }
            skip_ws(&s);
            if (s.p < s.end && *s.p == ',') {
                s.p++;
                skip_ws(&s);
                continue;
            }
            if (s.p < s.end && *s.p == '}') {
                s.p++;
                break;
            }
            return cachet_err(TDX_RC(FORMAT), "json: ',' or '}' expected");
        }
    }
    skip_ws(&s);
    if (s.p != s.end)
        return cachet_err(TDX_RC(FORMAT), "json: trailing bytes after the document");
    if (!found)
        return cachet_err(TDX_RC(NOT_FOUND), "json: no member \"%s\"", key);
    *val = found;
    *vlen = found_len;
    return CACHET_OK;
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

cachet_rc tdx_url_decode(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    uint8_t *buf = malloc(len + 1);
    if (!buf)
        return cachet_err(TDX_RC(NOMEM), "url-decode: out of memory");
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = in[i];
        if (c == '%') {
            int hi = i + 2 < len ? hexval(in[i + 1]) : -1;
            int lo = i + 2 < len ? hexval(in[i + 2]) : -1;
            if (i + 2 >= len || hi < 0 || lo < 0) {
                free(buf);
                return cachet_err(TDX_RC(FORMAT), "url-decode: bad escape at byte %zu", i);
            }
            buf[k++] = (uint8_t)(hi << 4 | lo);
            i += 2;
        } else if (c == '\n' || c == '\r') {
            continue; /* a saved header may end with a line break */
        } else if (c < 0x21 || c > 0x7e) {
            free(buf);
            return cachet_err(TDX_RC(FORMAT), "url-decode: byte 0x%02x at %zu", c, i);
        } else {
            buf[k++] = c;
        }
    }
    buf[k] = 0;
    *out = buf;
    *outlen = k;
    return CACHET_OK;
}
