/* RFC 8785 JSON Canonicalization Scheme for the JSON runtime data holds.
 *
 * §3.2.1: no whitespace.  §3.2.2.2: strings escape only '"', '\\' and the
 * control characters below U+0020 (\b \t \n \f \r by name, the rest as
 * \u00xx with lower-case hex); everything else is written as its UTF-8.
 * §3.2.2.3: numbers as ECMAScript prints them — for integers up to 2^53 that
 * is plain decimal; anything else is refused here.  §3.2.3: object members
 * sorted by their names' UTF-16 code units. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/runtime_data.h"

#define RD_RC(code) CACHET_RC(CACHET_SUB_EVIDENCE, CACHET_E_##code)
#define JCS_MAX_SAFE_INTEGER 9007199254740992LL /* 2^53 */

typedef struct jcs_buf {
    char *p;
    size_t len, cap;
    cachet_rc rc; /* sticky */
} jcs_buf;

static void put(jcs_buf *b, const char *s, size_t n)
{
    if (b->rc != CACHET_OK)
        return;
    if (n > CACHET_RUNTIME_DATA_MAX || b->len > CACHET_RUNTIME_DATA_MAX - n) {
        b->rc = cachet_err(RD_RC(LIMIT), "jcs: output exceeds %zu bytes",
                           (size_t)CACHET_RUNTIME_DATA_MAX);
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->rc = cachet_err(RD_RC(NOMEM), "jcs: out of memory");
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void put_str(jcs_buf *b, const char *s) { put(b, s, strlen(s)); }

static void put_string(jcs_buf *b, const char *s, size_t n)
{
    put(b, "\"", 1);
    size_t start = 0; /* first byte not yet written */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char hex[7];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\t': esc = "\\t"; break;
        case '\n': esc = "\\n"; break;
        case '\f': esc = "\\f"; break;
        case '\r': esc = "\\r"; break;
        default:
            if (c < 0x20) {
                snprintf(hex, sizeof hex, "\\u%04x", c);
                esc = hex;
            }
        }
        if (!esc)
            continue;
        put(b, s + start, i - start);
        put_str(b, esc);
        start = i + 1;
    }
    put(b, s + start, n - start);
    put(b, "\"", 1);
}

/* Next UTF-16 code unit of a UTF-8 string (jansson strings are valid UTF-8);
 * *pending holds the low surrogate of a supplementary character. */
static unsigned next_unit(const unsigned char **p, const unsigned char *end, unsigned *pending)
{
    if (*pending) {
        unsigned u = *pending;
        *pending = 0;
        return u;
    }
    const unsigned char *s = *p;
    unsigned cp;
    size_t n;
    if (s[0] < 0x80) {
        cp = s[0];
        n = 1;
    } else if ((s[0] & 0xe0) == 0xc0 && end - s >= 2) {
        cp = ((unsigned)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
        n = 2;
    } else if ((s[0] & 0xf0) == 0xe0 && end - s >= 3) {
        cp = ((unsigned)(s[0] & 0x0f) << 12) | ((unsigned)(s[1] & 0x3f) << 6) | (s[2] & 0x3f);
        n = 3;
    } else if ((s[0] & 0xf8) == 0xf0 && end - s >= 4) {
        cp = ((unsigned)(s[0] & 0x07) << 18) | ((unsigned)(s[1] & 0x3f) << 12) |
             ((unsigned)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
        n = 4;
    } else {
        cp = s[0]; /* not reached for valid UTF-8; order by the byte */
        n = 1;
    }
    *p = s + n;
    if (cp >= 0x10000) {
        cp -= 0x10000;
        *pending = 0xdc00 | (cp & 0x3ff);
        return 0xd800 | (cp >> 10);
    }
    return cp;
}

/* RFC 8785 §3.2.3: compare member names as arrays of UTF-16 code units. */
static int utf16_cmp(const char *a, const char *b)
{
    const unsigned char *pa = (const unsigned char *)a, *pb = (const unsigned char *)b;
    const unsigned char *ea = pa + strlen(a), *eb = pb + strlen(b);
    unsigned qa = 0, qb = 0;
    while ((pa < ea || qa) && (pb < eb || qb)) {
        unsigned ua = next_unit(&pa, ea, &qa), ub = next_unit(&pb, eb, &qb);
        if (ua != ub)
            return ua < ub ? -1 : 1;
    }
    bool a_left = pa < ea || qa, b_left = pb < eb || qb;
    return a_left == b_left ? 0 : (a_left ? 1 : -1);
}

static int key_cmp(const void *x, const void *y)
{
    return utf16_cmp(*(const char *const *)x, *(const char *const *)y);
}

static void put_value(jcs_buf *b, const json_t *j, int depth);

static void put_object(jcs_buf *b, const json_t *j, int depth)
{
    size_t n = json_object_size(j);
    const char **keys = n ? calloc(n, sizeof *keys) : NULL;
    if (n && !keys) {
        if (b->rc == CACHET_OK)
            b->rc = cachet_err(RD_RC(NOMEM), "jcs: out of memory");
        return;
    }
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)j, k, v)
        if (i < n)
            keys[i++] = k;
    qsort(keys, i, sizeof *keys, key_cmp);
    put(b, "{", 1);
    for (size_t m = 0; m < i; m++) {
        if (m)
            put(b, ",", 1);
        put_string(b, keys[m], strlen(keys[m]));
        put(b, ":", 1);
        put_value(b, json_object_get(j, keys[m]), depth + 1);
    }
    put(b, "}", 1);
    free(keys);
}

static void put_value(jcs_buf *b, const json_t *j, int depth)
{
    if (b->rc != CACHET_OK)
        return;
    if (depth > CACHET_JCS_MAX_DEPTH) {
        b->rc = cachet_err(RD_RC(LIMIT), "jcs: nesting deeper than %d", CACHET_JCS_MAX_DEPTH);
        return;
    }
    char num[32];
    switch (json_typeof(j)) {
    case JSON_OBJECT: put_object(b, j, depth); break;
    case JSON_ARRAY:
        put(b, "[", 1);
        for (size_t i = 0; i < json_array_size(j); i++) {
            if (i)
                put(b, ",", 1);
            put_value(b, json_array_get(j, i), depth + 1);
        }
        put(b, "]", 1);
        break;
    case JSON_STRING: put_string(b, json_string_value(j), json_string_length(j)); break;
    case JSON_INTEGER: {
        json_int_t v = json_integer_value(j);
        if (v > JCS_MAX_SAFE_INTEGER || v < -JCS_MAX_SAFE_INTEGER) {
            b->rc = cachet_err(RD_RC(UNSUPPORTED), "jcs: integer %lld is beyond 2^53",
                               (long long)v);
            return;
        }
        snprintf(num, sizeof num, "%lld", (long long)v);
        put_str(b, num);
        break;
    }
    case JSON_REAL:
        b->rc = cachet_err(RD_RC(UNSUPPORTED), "jcs: non-integer numbers are not canonicalized");
        break;
    case JSON_TRUE: put_str(b, "true"); break;
    case JSON_FALSE: put_str(b, "false"); break;
    case JSON_NULL: put_str(b, "null"); break;
    default: b->rc = cachet_err(RD_RC(FORMAT), "jcs: unknown JSON type"); break;
    }
}

cachet_rc cachet_jcs_dump(const json_t *j, char **out, size_t *len)
{
    if (!j || !out)
        return cachet_err(RD_RC(INVALID_ARG), "jcs: NULL argument");
    *out = NULL;
    if (len)
        *len = 0;
    jcs_buf b = {0};
    put_value(&b, j, 0);
    put(&b, "", 0);
    if (b.rc == CACHET_OK && !b.p)
        b.rc = cachet_err(RD_RC(NOMEM), "jcs: out of memory");
    if (b.rc != CACHET_OK) {
        free(b.p);
        return b.rc;
    }
    *out = b.p;
    if (len)
        *len = b.len;
    return CACHET_OK;
}
