/* The attestation document inside the COSE payload (attestation_process.md
 * §2.2 CDDL, §3.2.2 syntactic validation):
 *
 *   { module_id: tstr (non-empty), digest: "SHA384", timestamp: uint (> 0),
 *     pcrs: { 1*32 (0..31) => bstr }, certificate: bstr (1..1024),
 *     cabundle: [ + bstr (1..1024) ], ? public_key: bstr (1..1024),
 *     ? user_data: bstr (0..512), ? nonce: bstr (0..512) }
 *
 * Real documents encode this map with indefinite length (0xBF ... 0xFF) and
 * write absent optional fields as null; both are accepted, nothing else
 * indefinite and no null for a mandatory field.  Unknown keys are refused. */
#include <string.h>

#include "evidence/nitro/nitro.h"

#define EV_RC(code) CACHET_RC(CACHET_SUB_EVIDENCE, CACHET_E_##code)

static const nitro_cbor_limits payload_limits = {
    .max_depth = NITRO_CBOR_MAX_DEPTH,
    .max_entries = NITRO_CBOR_MAX_ENTRIES,
    .max_items = NITRO_CBOR_MAX_ITEMS,
    .max_string = NITRO_CERT_MAX, /* the largest field (certificate, public_key) */
    .allow_indefinite_top_map = true,
    .allow_top_tag = false,
};

typedef enum field {
    F_MODULE_ID,
    F_DIGEST,
    F_TIMESTAMP,
    F_PCRS,
    F_CERTIFICATE,
    F_CABUNDLE,
    F_PUBLIC_KEY,
    F_USER_DATA,
    F_NONCE,
    F__COUNT
} field;

static const char *const field_names[F__COUNT] = {
    "module_id", "digest", "timestamp", "pcrs", "certificate",
    "cabundle", "public_key", "user_data", "nonce",
};

#define MANDATORY ((1u << F_MODULE_ID) | (1u << F_DIGEST) | (1u << F_TIMESTAMP) | \
                   (1u << F_PCRS) | (1u << F_CERTIFICATE) | (1u << F_CABUNDLE))

static int field_of(const nitro_cbor_item *k)
{
    for (int f = 0; f < F__COUNT; f++)
        if (strlen(field_names[f]) == k->len && memcmp(field_names[f], k->data, k->len) == 0)
            return f;
    return -1;
}

static cachet_rc want_bytes(const nitro_cbor_item *v, const char *name, size_t min, size_t max,
                            nitro_bytes *out)
{
    if (v->kind != NITRO_CBOR_BYTES)
        return cachet_err(EV_RC(FORMAT), "%s is not a byte string", name);
    if (v->len < min || v->len > max)
        return cachet_err(EV_RC(RANGE), "%s is %zu bytes (%zu..%zu allowed)", name, v->len, min,
                          max);
    out->p = v->data;
    out->len = v->len;
    return CACHET_OK;
}

/* pcrs: { 1*32 index (0..31) => bstr of 48 bytes (digest SHA384) }. */
static cachet_rc parse_pcrs(nitro_cbor_reader *r, const nitro_cbor_item *m, nitro_doc *d)
{
    if (m->kind != NITRO_CBOR_MAP || m->indefinite)
        return cachet_err(EV_RC(FORMAT), "pcrs is not a definite-length map");
    if (m->u < 1 || m->u > NITRO_PCR_COUNT)
        return cachet_err(EV_RC(RANGE), "pcrs has %llu entries (1..32 allowed)",
                          (unsigned long long)m->u);
    for (uint64_t i = 0; i < m->u; i++) {
        nitro_cbor_item k, v;
        cachet_rc rc;
        if ((rc = nitro_cbor_next(r, &k)) != CACHET_OK || (rc = nitro_cbor_next(r, &v)) != CACHET_OK)
            return rc;
        if (k.kind != NITRO_CBOR_UINT || k.u >= NITRO_PCR_COUNT)
            return cachet_err(EV_RC(RANGE), "PCR index is not an integer in 0..31");
        uint32_t bit = 1u << k.u;
        if (d->pcr_present & bit)
            return cachet_err(EV_RC(FORMAT), "PCR %llu appears twice", (unsigned long long)k.u);
        if (v.kind != NITRO_CBOR_BYTES)
            return cachet_err(EV_RC(FORMAT), "PCR %llu is not a byte string",
                              (unsigned long long)k.u);
        if (v.len != NITRO_PCR_LEN)
            return cachet_err(EV_RC(RANGE), "PCR %llu is %zu bytes; SHA384 PCRs are 48",
                              (unsigned long long)k.u, v.len);
        d->pcr[k.u] = (nitro_bytes){ v.data, v.len };
        d->pcr_present |= bit;
    }
    return CACHET_OK;
}

/* cabundle: [ 1*8 bstr (1..1024) ], root first. */
static cachet_rc parse_cabundle(nitro_cbor_reader *r, const nitro_cbor_item *a, nitro_doc *d)
{
    if (a->kind != NITRO_CBOR_ARRAY || a->indefinite)
        return cachet_err(EV_RC(FORMAT), "cabundle is not a definite-length array");
    if (a->u < 1 || a->u > NITRO_CABUNDLE_MAX)
        return cachet_err(EV_RC(RANGE), "cabundle has %llu certificates (1..%u accepted)",
                          (unsigned long long)a->u, NITRO_CABUNDLE_MAX);
    for (uint64_t i = 0; i < a->u; i++) {
        nitro_cbor_item v;
        cachet_rc rc = nitro_cbor_next(r, &v);
        if (rc != CACHET_OK)
            return rc;
        if ((rc = want_bytes(&v, "cabundle entry", 1, NITRO_CERT_MAX, &d->cabundle[i])) !=
            CACHET_OK)
            return rc;
    }
    d->n_cabundle = (size_t)a->u;
    return CACHET_OK;
}

static cachet_rc parse_value(nitro_cbor_reader *r, field f, const nitro_cbor_item *v,
                             nitro_doc *d)
{
    const char *name = field_names[f];
    if (v->kind == NITRO_CBOR_NULL) {
        if ((1u << f) & MANDATORY)
            return cachet_err(EV_RC(FORMAT), "%s is null", name);
        return CACHET_OK; /* an optional field written as null: absent */
    }
    switch (f) {
    case F_MODULE_ID:
        if (v->kind != NITRO_CBOR_TEXT)
            return cachet_err(EV_RC(FORMAT), "module_id is not a text string");
        if (v->len < 1 || v->len > NITRO_MODULE_ID_MAX)
            return cachet_err(EV_RC(RANGE), "module_id is %zu bytes (1..%u allowed)", v->len,
                              NITRO_MODULE_ID_MAX);
        d->module_id = (nitro_bytes){ v->data, v->len };
        return CACHET_OK;
    case F_DIGEST:
        if (v->kind != NITRO_CBOR_TEXT)
            return cachet_err(EV_RC(FORMAT), "digest is not a text string");
        d->digest = (nitro_bytes){ v->data, v->len };
        if (v->len != 6 || memcmp(v->data, "SHA384", 6) != 0)
            return cachet_err(EV_RC(UNSUPPORTED), "digest is not \"SHA384\"");
        return CACHET_OK;
    case F_TIMESTAMP:
        if (v->kind != NITRO_CBOR_UINT)
            return cachet_err(EV_RC(FORMAT), "timestamp is not an unsigned integer");
        if (v->u == 0 || v->u > (uint64_t)INT64_MAX)
            return cachet_err(EV_RC(RANGE), "timestamp %llu out of range",
                              (unsigned long long)v->u);
        d->timestamp = v->u;
        return CACHET_OK;
    case F_PCRS:
        return parse_pcrs(r, v, d);
    case F_CERTIFICATE:
        return want_bytes(v, name, 1, NITRO_CERT_MAX, &d->certificate);
    case F_CABUNDLE:
        return parse_cabundle(r, v, d);
    case F_PUBLIC_KEY:
        d->has_public_key = true;
        return want_bytes(v, name, 1, NITRO_PUBLIC_KEY_MAX, &d->public_key);
    case F_USER_DATA:
        d->has_user_data = true;
        return want_bytes(v, name, 0, NITRO_USER_DATA_MAX, &d->user_data);
    case F_NONCE:
        d->has_nonce = true;
        return want_bytes(v, name, 0, NITRO_NONCE_MAX, &d->nonce);
    case F__COUNT:
        break;
    }
    return cachet_err(EV_RC(FORMAT), "unknown field");
}

static cachet_rc parse_fields(nitro_doc *d)
{
    nitro_cbor_reader r;
    nitro_cbor_item m;
    nitro_cbor_reader_init(&r, d->payload.p, d->payload.len);
    cachet_rc rc = nitro_cbor_next(&r, &m);
    if (rc != CACHET_OK)
        return rc;
    if (m.kind != NITRO_CBOR_MAP)
        return cachet_err(EV_RC(FORMAT), "the payload is not a map");
    unsigned seen = 0;
    for (uint64_t i = 0; m.indefinite || i < m.u; i++) {
        nitro_cbor_item k, v;
        if ((rc = nitro_cbor_next(&r, &k)) != CACHET_OK)
            return rc;
        if (k.kind == NITRO_CBOR_BREAK && m.indefinite)
            break;
        if (k.kind != NITRO_CBOR_TEXT)
            return cachet_err(EV_RC(FORMAT), "payload key is not a text string");
        int f = field_of(&k);
        if (f < 0)
            return cachet_err(EV_RC(FORMAT), "unknown payload field \"%.*s\"",
                              (int)(k.len > 32 ? 32 : k.len), (const char *)k.data);
        if (seen & (1u << f))
            return cachet_err(EV_RC(FORMAT), "field %s appears twice", field_names[f]);
        seen |= 1u << f;
        if ((rc = nitro_cbor_next(&r, &v)) != CACHET_OK)
            return rc;
        if ((rc = parse_value(&r, (field)f, &v, d)) != CACHET_OK)
            return rc;
    }
    if (r.off != d->payload.len)
        return cachet_err(EV_RC(FORMAT), "bytes after the payload map");
    for (int f = 0; f < F__COUNT; f++)
        if (((1u << f) & MANDATORY) && !(seen & (1u << f)))
            return cachet_err(EV_RC(NOT_FOUND), "mandatory field %s is missing", field_names[f]);
    /* cachet's own rule: the launch measurement (PCR0) and the debug test
     * (PCR0-2) need these three. */
    if ((d->pcr_present & 7u) != 7u)
        return cachet_err(EV_RC(NOT_FOUND), "PCR0, PCR1 and PCR2 must all be present");
    return CACHET_OK;
}

cachet_rc nitro_payload_parse(nitro_doc *d, nitro_parse_stage *stage)
{
    *stage = NITRO_PARSE_PAYLOAD_CBOR;
    cachet_rc rc = nitro_cbor_check(d->payload.p, d->payload.len, &payload_limits);
    if (rc != CACHET_OK)
        return rc;
    *stage = NITRO_PARSE_FIELDS;
    return parse_fields(d);
}
