/* Bounded CBOR for Nitro documents, on libcbor's streaming decoder.
 *
 * libcbor's cbor_stream_decode() decodes one data item head at a time (a
 * definite string with its contents) and reports it through callbacks; it
 * checks every length against the bytes it was given.  On top of that this
 * file keeps its own explicit stack, so nesting depth, entry counts, string
 * sizes, duplicate map keys and indefinite-length items are all decided here
 * before any field is interpreted (RFC 8949 §3, §5.4-§5.6). */
#include <string.h>

#include <cbor.h>

#include "evidence/nitro/nitro.h"

#define EV_RC(code) CACHET_RC(CACHET_SUB_EVIDENCE, CACHET_E_##code)

/* ---- one head ------------------------------------------------------------- */

typedef struct head_ctx {
    nitro_cbor_item *it;
    bool seen;
} head_ctx;

static void set(void *ctx, nitro_cbor_kind kind, uint64_t u)
{
    head_ctx *h = ctx;
    h->it->kind = kind;
    h->it->u = u;
    h->seen = true;
}

static void on_uint8(void *c, uint8_t v) { set(c, NITRO_CBOR_UINT, v); }
static void on_uint16(void *c, uint16_t v) { set(c, NITRO_CBOR_UINT, v); }
static void on_uint32(void *c, uint32_t v) { set(c, NITRO_CBOR_UINT, v); }
static void on_uint64(void *c, uint64_t v) { set(c, NITRO_CBOR_UINT, v); }
static void on_negint8(void *c, uint8_t v) { set(c, NITRO_CBOR_NEGINT, v); }
static void on_negint16(void *c, uint16_t v) { set(c, NITRO_CBOR_NEGINT, v); }
static void on_negint32(void *c, uint32_t v) { set(c, NITRO_CBOR_NEGINT, v); }
static void on_negint64(void *c, uint64_t v) { set(c, NITRO_CBOR_NEGINT, v); }

static void on_bytes(void *c, cbor_data data, size_t len)
{
    head_ctx *h = c;
    set(c, NITRO_CBOR_BYTES, 0);
    h->it->data = data;
    h->it->len = len;
}

static void on_text(void *c, cbor_data data, size_t len)
{
    head_ctx *h = c;
    set(c, NITRO_CBOR_TEXT, 0);
    h->it->data = data;
    h->it->len = len;
}

static void on_indef(void *c, nitro_cbor_kind kind)
{
    head_ctx *h = c;
    set(c, kind, 0);
    h->it->indefinite = true;
}

static void on_bytes_indef(void *c) { on_indef(c, NITRO_CBOR_BYTES); }
static void on_text_indef(void *c) { on_indef(c, NITRO_CBOR_TEXT); }
static void on_array_indef(void *c) { on_indef(c, NITRO_CBOR_ARRAY); }
static void on_map_indef(void *c) { on_indef(c, NITRO_CBOR_MAP); }
static void on_array(void *c, size_t n) { set(c, NITRO_CBOR_ARRAY, n); }
static void on_map(void *c, size_t n) { set(c, NITRO_CBOR_MAP, n); }
static void on_tag(void *c, uint64_t v) { set(c, NITRO_CBOR_TAG, v); }
static void on_float(void *c, float v)
{
    (void)v;
    set(c, NITRO_CBOR_FLOAT, 0);
}
static void on_double(void *c, double v)
{
    (void)v;
    set(c, NITRO_CBOR_FLOAT, 0);
}
static void on_undef(void *c) { set(c, NITRO_CBOR_UNDEFINED, 0); }
static void on_null(void *c) { set(c, NITRO_CBOR_NULL, 0); }
static void on_bool(void *c, bool v) { set(c, NITRO_CBOR_BOOL, v ? 1 : 0); }
static void on_break(void *c) { set(c, NITRO_CBOR_BREAK, 0); }

/* libcbor calls every member unconditionally, so all are set.  Its member
 * names pair up as: byte_string = definite, byte_string_start = indefinite. */
static const struct cbor_callbacks head_callbacks = {
    .uint8 = on_uint8,
    .uint16 = on_uint16,
    .uint32 = on_uint32,
    .uint64 = on_uint64,
    .negint8 = on_negint8,
    .negint16 = on_negint16,
    .negint32 = on_negint32,
    .negint64 = on_negint64,
    .byte_string_start = on_bytes_indef,
    .byte_string = on_bytes,
    .string = on_text,
    .string_start = on_text_indef,
    .indef_array_start = on_array_indef,
    .array_start = on_array,
    .indef_map_start = on_map_indef,
    .map_start = on_map,
    .tag = on_tag,
    .float2 = on_float,
    .float4 = on_float,
    .float8 = on_double,
    .undefined = on_undef,
    .null = on_null,
    .boolean = on_bool,
    .indef_break = on_break,
};

void nitro_cbor_reader_init(nitro_cbor_reader *r, const uint8_t *buf, size_t len)
{
    r->buf = buf;
    r->len = buf ? len : 0;
    r->off = 0;
}

cachet_rc nitro_cbor_next(nitro_cbor_reader *r, nitro_cbor_item *it)
{
    memset(it, 0, sizeof *it);
    it->start = r->off;
    if (r->off >= r->len)
        return cachet_err(EV_RC(TRUNCATED), "CBOR ends at offset %zu before the next item",
                          r->off);
    /* A tag whose number sits in the initial byte (RFC 8949 §3.4, 0xC0-0xD7):
     * libcbor 0.8's streaming decoder refuses numbers 6..20 (0xC6-0xD4) as
     * "unassigned", and COSE_Sign1's tag 18 (0xD2) is among them. */
    uint8_t ib = r->buf[r->off];
    if (ib >= 0xC0 && ib <= 0xD7) {
        it->kind = NITRO_CBOR_TAG;
        it->u = (uint64_t)(ib - 0xC0);
        r->off++;
        return CACHET_OK;
    }
    head_ctx h = { .it = it };
    struct cbor_decoder_result res =
        cbor_stream_decode(r->buf + r->off, r->len - r->off, &head_callbacks, &h);
    if (res.status == CBOR_DECODER_NEDATA)
        return cachet_err(EV_RC(TRUNCATED), "CBOR item at offset %zu needs %zu bytes, %zu left",
                          r->off, res.required, r->len - r->off);
    if (res.status != CBOR_DECODER_FINISHED || !h.seen || res.read == 0 ||
        res.read > r->len - r->off)
        return cachet_err(EV_RC(FORMAT), "malformed or reserved CBOR encoding 0x%02x at offset %zu",
                          r->buf[r->off], r->off);
    r->off += res.read;
    return CACHET_OK;
}

/* ---- well-formedness walk -------------------------------------------------- */

/* RFC 3629 §4: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t extra;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            extra = 1, cp = c & 0x1Fu, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            extra = 2, cp = c & 0x0Fu, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            extra = 3, cp = c & 0x07u, min = 0x10000;
        } else {
            return false;
        }
        if (extra > n - i - 1)
            return false;
        for (size_t k = 1; k <= extra; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += extra + 1;
    }
    return true;
}

typedef struct key_ref {
    nitro_cbor_kind kind;
    uint64_t u;
    const uint8_t *data;
    size_t len;
} key_ref;

typedef struct frame {
    nitro_cbor_kind kind; /* ARRAY, MAP or TAG */
    bool indefinite;
    uint64_t need;        /* children a definite container holds (maps: 2 per pair) */
    uint64_t seen;        /* children completed so far */
    size_t n_keys;
    key_ref keys[NITRO_CBOR_MAX_ENTRIES];
} frame;

static bool key_equal(const key_ref *a, const nitro_cbor_item *b)
{
    if (a->kind != b->kind)
        return false;
    if (a->kind == NITRO_CBOR_UINT || a->kind == NITRO_CBOR_NEGINT)
        return a->u == b->u;
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static const char *kind_name(nitro_cbor_kind k)
{
    switch (k) {
    case NITRO_CBOR_UINT: return "unsigned integer";
    case NITRO_CBOR_NEGINT: return "negative integer";
    case NITRO_CBOR_BYTES: return "byte string";
    case NITRO_CBOR_TEXT: return "text string";
    case NITRO_CBOR_ARRAY: return "array";
    case NITRO_CBOR_MAP: return "map";
    case NITRO_CBOR_TAG: return "tag";
    case NITRO_CBOR_BOOL: return "boolean";
    case NITRO_CBOR_NULL: return "null";
    case NITRO_CBOR_UNDEFINED: return "undefined";
    case NITRO_CBOR_FLOAT: return "float";
    case NITRO_CBOR_BREAK: return "break";
    }
    return "item";
}

/* A map key: an integer or a definite string, unequal to the map's others. */
static cachet_rc check_key(frame *f, const nitro_cbor_item *it, size_t max_entries)
{
    if (it->kind != NITRO_CBOR_UINT && it->kind != NITRO_CBOR_NEGINT &&
        it->kind != NITRO_CBOR_TEXT && it->kind != NITRO_CBOR_BYTES)
        return cachet_err(EV_RC(FORMAT), "map key at offset %zu is a %s (only integers and "
                          "strings are accepted)", it->start, kind_name(it->kind));
    for (size_t i = 0; i < f->n_keys; i++)
        if (key_equal(&f->keys[i], it))
            return cachet_err(EV_RC(FORMAT), "duplicate map key at offset %zu", it->start);
    if (f->n_keys >= max_entries)
        return cachet_err(EV_RC(LIMIT), "map has more than %zu keys at offset %zu", max_entries,
                          it->start);
    f->keys[f->n_keys++] = (key_ref){ it->kind, it->u, it->data, it->len };
    return CACHET_OK;
}

cachet_rc nitro_cbor_check(const uint8_t *buf, size_t len, const nitro_cbor_limits *lim)
{
    frame stack[NITRO_CBOR_MAX_DEPTH];
    size_t depth = 0, items = 0;
    if (!buf || !lim || lim->max_depth > NITRO_CBOR_MAX_DEPTH ||
        lim->max_entries > NITRO_CBOR_MAX_ENTRIES)
        return cachet_err(EV_RC(INVALID_ARG), "CBOR check: bad arguments");
    nitro_cbor_reader r;
    nitro_cbor_reader_init(&r, buf, len);

    for (;;) {
        nitro_cbor_item it;
        cachet_rc rc = nitro_cbor_next(&r, &it);
        if (rc != CACHET_OK)
            return rc;
        if (++items > lim->max_items)
            return cachet_err(EV_RC(LIMIT), "more than %zu CBOR items", lim->max_items);

        frame *top = depth ? &stack[depth - 1] : NULL;
        bool complete = true;
        if (it.kind == NITRO_CBOR_BREAK) {
            if (!top || !top->indefinite)
                return cachet_err(EV_RC(FORMAT), "unexpected break at offset %zu", it.start);
            if (top->kind == NITRO_CBOR_MAP && top->seen % 2)
                return cachet_err(EV_RC(FORMAT), "map key without a value before offset %zu",
                                  it.start);
            depth--; /* the indefinite container is complete */
        } else {
            if (top && top->kind == NITRO_CBOR_MAP && top->seen % 2 == 0) {
                rc = check_key(top, &it, lim->max_entries);
                if (rc != CACHET_OK)
                    return rc;
            }
            switch (it.kind) {
            case NITRO_CBOR_BYTES:
            case NITRO_CBOR_TEXT:
                if (it.indefinite)
                    return cachet_err(EV_RC(FORMAT), "indefinite-length %s at offset %zu",
                                      kind_name(it.kind), it.start);
                if (it.len > lim->max_string)
                    return cachet_err(EV_RC(LIMIT), "%s of %zu bytes at offset %zu (limit %zu)",
                                      kind_name(it.kind), it.len, it.start, lim->max_string);
                if (it.kind == NITRO_CBOR_TEXT && !utf8_valid(it.data, it.len))
                    return cachet_err(EV_RC(FORMAT), "text string at offset %zu is not UTF-8",
                                      it.start);
                break;
            case NITRO_CBOR_ARRAY:
            case NITRO_CBOR_MAP:
            case NITRO_CBOR_TAG: {
                if (depth >= lim->max_depth)
                    return cachet_err(EV_RC(LIMIT), "CBOR nested deeper than %zu at offset %zu",
                                      lim->max_depth, it.start);
                if (it.kind == NITRO_CBOR_TAG) {
                    if (!lim->allow_top_tag || items != 1)
                        return cachet_err(EV_RC(FORMAT), "tag %llu at offset %zu not allowed",
                                          (unsigned long long)it.u, it.start);
                } else if (it.indefinite) {
                    if (!(lim->allow_indefinite_top_map && it.kind == NITRO_CBOR_MAP &&
                          depth == 0))
                        return cachet_err(EV_RC(FORMAT), "indefinite-length %s at offset %zu",
                                          kind_name(it.kind), it.start);
                } else if (it.u > lim->max_entries) {
                    return cachet_err(EV_RC(LIMIT), "%s of %llu entries at offset %zu (limit %zu)",
                                      kind_name(it.kind), (unsigned long long)it.u, it.start,
                                      lim->max_entries);
                }
                frame *f = &stack[depth++];
                f->kind = it.kind;
                f->indefinite = it.indefinite;
                f->need = it.kind == NITRO_CBOR_TAG ? 1 : it.kind == NITRO_CBOR_MAP ? 2 * it.u : it.u;
                f->seen = 0;
                f->n_keys = 0;
                if (f->indefinite || f->need > 0)
                    complete = false;
                else
                    depth--; /* an empty definite container */
                break;
            }
            case NITRO_CBOR_UINT:
            case NITRO_CBOR_NEGINT:
            case NITRO_CBOR_BOOL:
            case NITRO_CBOR_NULL:
                break;
            case NITRO_CBOR_UNDEFINED:
            case NITRO_CBOR_FLOAT:
            case NITRO_CBOR_BREAK:
                return cachet_err(EV_RC(FORMAT), "%s at offset %zu not allowed",
                                  kind_name(it.kind), it.start);
            }
        }
        /* Completing an item completes its parents whose last child it was. */
        while (complete) {
            if (depth == 0) {
                if (r.off != len)
                    return cachet_err(EV_RC(FORMAT), "%zu trailing bytes after the CBOR item",
                                      len - r.off);
                return CACHET_OK;
            }
            frame *f = &stack[depth - 1];
            f->seen++;
            if (!f->indefinite && f->seen == f->need)
                depth--;
            else
                complete = false;
        }
    }
}
