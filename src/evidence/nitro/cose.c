/* The COSE_Sign1 envelope of a Nitro attestation document (RFC 9052 §4.2,
 * attestation_process.md §3.1):
 *
 *   [? tag 18] [ protected: bstr .cbor {1: -35}, unprotected: {},
 *                payload: bstr (1..16384), signature: bstr (96: r || s) ]
 *
 * The protected header and payload are kept as the byte strings received;
 * the Sig_structure is built around those bytes, never around a
 * re-encoding of what was parsed from them (evidence-formats §0.2 rule 3). */
#include <stdlib.h>
#include <string.h>

#include <cbor.h>

#include "evidence/nitro/nitro.h"

#define EV_RC(code) CACHET_RC(CACHET_SUB_EVIDENCE, CACHET_E_##code)

#define COSE_TAG_SIGN1 18u
#define COSE_HDR_ALG 1u
#define COSE_ALG_ES384 (-35)

static const nitro_cbor_limits envelope_limits = {
    .max_depth = 3, /* tag, array, unprotected map */
    .max_entries = 8,
    .max_items = 64,
    .max_string = NITRO_PAYLOAD_MAX,
    .allow_indefinite_top_map = false,
    .allow_top_tag = true,
};

static const nitro_cbor_limits protected_limits = {
    .max_depth = 1,
    .max_entries = 8,
    .max_items = 17,
    .max_string = NITRO_PROTECTED_MAX,
    .allow_indefinite_top_map = false,
    .allow_top_tag = false,
};

/* The next item, which must be a definite byte string. */
static cachet_rc next_bytes(nitro_cbor_reader *r, const char *what, nitro_bytes *out)
{
    nitro_cbor_item it;
    cachet_rc rc = nitro_cbor_next(r, &it);
    if (rc != CACHET_OK)
        return rc;
    if (it.kind != NITRO_CBOR_BYTES || it.indefinite)
        return cachet_err(EV_RC(FORMAT), "COSE_Sign1 %s is not a byte string", what);
    out->p = it.data;
    out->len = it.len;
    return CACHET_OK;
}

/* Shape of the envelope (the CBOR itself is already known to be well formed). */
static cachet_rc parse_envelope(const uint8_t *buf, size_t len, nitro_doc *d)
{
    nitro_cbor_reader r;
    nitro_cbor_item it;
    nitro_cbor_reader_init(&r, buf, len);
    cachet_rc rc = nitro_cbor_next(&r, &it);
    if (rc != CACHET_OK)
        return rc;
    if (it.kind == NITRO_CBOR_TAG) {
        if (it.u != COSE_TAG_SIGN1)
            return cachet_err(EV_RC(FORMAT), "CBOR tag %llu is not COSE_Sign1 (18)",
                              (unsigned long long)it.u);
        d->tagged = true;
        if ((rc = nitro_cbor_next(&r, &it)) != CACHET_OK)
            return rc;
    }
    if (it.kind != NITRO_CBOR_ARRAY || it.indefinite || it.u != 4)
        return cachet_err(EV_RC(FORMAT), "COSE_Sign1 must be an array of 4 items");
    if ((rc = next_bytes(&r, "protected header", &d->protected_hdr)) != CACHET_OK)
        return rc;
    if (d->protected_hdr.len > NITRO_PROTECTED_MAX)
        return cachet_err(EV_RC(LIMIT), "protected header of %zu bytes", d->protected_hdr.len);
    if ((rc = nitro_cbor_next(&r, &it)) != CACHET_OK)
        return rc;
    if (it.kind != NITRO_CBOR_MAP)
        return cachet_err(EV_RC(FORMAT), "COSE_Sign1 unprotected header is not a map");
    if (it.u != 0)
        return cachet_err(EV_RC(FORMAT), "unprotected header has %llu parameters; Nitro "
                          "documents carry none", (unsigned long long)it.u);
    if ((rc = next_bytes(&r, "payload", &d->payload)) != CACHET_OK)
        return rc;
    if (d->payload.len < 1 || d->payload.len > NITRO_PAYLOAD_MAX)
        return cachet_err(EV_RC(LIMIT), "payload of %zu bytes (1..%u allowed)", d->payload.len,
                          NITRO_PAYLOAD_MAX);
    if ((rc = next_bytes(&r, "signature", &d->signature)) != CACHET_OK)
        return rc;
    if (d->signature.len != NITRO_SIG_LEN)
        return cachet_err(EV_RC(FORMAT), "signature of %zu bytes; ES384 r||s is %u",
                          d->signature.len, NITRO_SIG_LEN);
    if (r.off != len)
        return cachet_err(EV_RC(FORMAT), "bytes after the COSE_Sign1 array");
    return CACHET_OK;
}

/* The protected header: exactly {1: -35}.  Other parameters (crit, content
 * type, ...) are refused rather than ignored: cachet does not know what
 * they would ask of it. */
static cachet_rc parse_protected(nitro_doc *d)
{
    const nitro_bytes *p = &d->protected_hdr;
    if (p->len == 0)
        return cachet_err(EV_RC(FORMAT), "empty protected header: no algorithm");
    cachet_rc rc = nitro_cbor_check(p->p, p->len, &protected_limits);
    if (rc != CACHET_OK)
        return rc;
    nitro_cbor_reader r;
    nitro_cbor_item it;
    nitro_cbor_reader_init(&r, p->p, p->len);
    if ((rc = nitro_cbor_next(&r, &it)) != CACHET_OK)
        return rc;
    if (it.kind != NITRO_CBOR_MAP)
        return cachet_err(EV_RC(FORMAT), "protected header is not a map");
    bool have_alg = false;
    for (uint64_t i = 0; i < it.u; i++) {
        nitro_cbor_item k, v;
        if ((rc = nitro_cbor_next(&r, &k)) != CACHET_OK ||
            (rc = nitro_cbor_next(&r, &v)) != CACHET_OK)
            return rc;
        if (k.kind != NITRO_CBOR_UINT || k.u != COSE_HDR_ALG)
            return cachet_err(EV_RC(UNSUPPORTED), "protected header parameter other than alg");
        if (v.kind == NITRO_CBOR_NEGINT && v.u <= (uint64_t)INT64_MAX)
            d->alg = -1 - (int64_t)v.u;
        else if (v.kind == NITRO_CBOR_UINT && v.u <= (uint64_t)INT64_MAX)
            d->alg = (int64_t)v.u;
        else
            return cachet_err(EV_RC(FORMAT), "alg is not an integer");
        have_alg = true;
    }
    if (!have_alg)
        return cachet_err(EV_RC(FORMAT), "protected header has no alg");
    if (d->alg != COSE_ALG_ES384)
        return cachet_err(EV_RC(UNSUPPORTED), "alg %lld is not ES384 (-35)", (long long)d->alg);
    return CACHET_OK;
}

cachet_rc nitro_doc_parse(const uint8_t *buf, size_t len, nitro_doc *out,
                          nitro_parse_stage *stage)
{
    nitro_parse_stage dummy;
    if (!stage)
        stage = &dummy;
    *stage = NITRO_PARSE_ENVELOPE_CBOR;
    if (!out)
        return cachet_err(EV_RC(INVALID_ARG), "nitro: no output");
    memset(out, 0, sizeof *out);
    if (!buf || len == 0)
        return cachet_err(EV_RC(TRUNCATED), "empty document");
    if (len > NITRO_DOC_MAX)
        return cachet_err(EV_RC(LIMIT), "document of %zu bytes (limit %u)", len, NITRO_DOC_MAX);
    cachet_rc rc = nitro_cbor_check(buf, len, &envelope_limits);
    if (rc != CACHET_OK)
        return rc;
    *stage = NITRO_PARSE_COSE;
    if ((rc = parse_envelope(buf, len, out)) != CACHET_OK)
        return rc;
    *stage = NITRO_PARSE_ALG;
    if ((rc = parse_protected(out)) != CACHET_OK)
        return rc;
    rc = nitro_payload_parse(out, stage);
    if (rc == CACHET_OK)
        *stage = NITRO_PARSE_OK;
    return rc;
}

/* RFC 9052 §4.4: Sig_structure = [ "Signature1", body_protected (the bstr
 * received), external_aad = h'', payload (the bstr received) ]. */
cachet_rc nitro_sig_structure(const nitro_doc *d, uint8_t **out, size_t *outlen)
{
    static const char context[] = "Signature1";
    const size_t ctx_len = sizeof context - 1;
    if (!d || !out || !outlen)
        return cachet_err(EV_RC(INVALID_ARG), "nitro: bad Sig_structure arguments");
    *out = NULL;
    *outlen = 0;
    if (d->protected_hdr.len > NITRO_PROTECTED_MAX || d->payload.len > NITRO_PAYLOAD_MAX)
        return cachet_err(EV_RC(LIMIT), "nitro: Sig_structure inputs too large");
    /* Each head is at most 9 bytes. */
    size_t cap = 4 * 9 + 1 + ctx_len + d->protected_hdr.len + d->payload.len;
    uint8_t *b = malloc(cap);
    if (!b)
        return cachet_err(EV_RC(NOMEM), "nitro: out of memory");
    size_t n = 0, w;
    if ((w = cbor_encode_array_start(4, b + n, cap - n)) == 0)
        goto overflow;
    n += w;
    if ((w = cbor_encode_string_start(ctx_len, b + n, cap - n)) == 0 || ctx_len > cap - n - w)
        goto overflow;
    n += w;
    memcpy(b + n, context, ctx_len);
    n += ctx_len;
    if ((w = cbor_encode_bytestring_start(d->protected_hdr.len, b + n, cap - n)) == 0 ||
        d->protected_hdr.len > cap - n - w)
        goto overflow;
    n += w;
    if (d->protected_hdr.len)
        memcpy(b + n, d->protected_hdr.p, d->protected_hdr.len);
    n += d->protected_hdr.len;
    if ((w = cbor_encode_bytestring_start(0, b + n, cap - n)) == 0)
        goto overflow;
    n += w;
    if ((w = cbor_encode_bytestring_start(d->payload.len, b + n, cap - n)) == 0 ||
        d->payload.len > cap - n - w)
        goto overflow;
    n += w;
    memcpy(b + n, d->payload.p, d->payload.len);
    n += d->payload.len;
    *out = b;
    *outlen = n;
    return CACHET_OK;
overflow:
    free(b);
    return cachet_err(EV_RC(LIMIT), "nitro: Sig_structure does not fit");
}

const char *nitro_parse_stage_check(nitro_parse_stage s)
{
    switch (s) {
    case NITRO_PARSE_OK: return "nitro.payload.fields";
    case NITRO_PARSE_ENVELOPE_CBOR: return "nitro.cbor.envelope";
    case NITRO_PARSE_COSE: return "nitro.cose.structure";
    case NITRO_PARSE_ALG: return "nitro.cose.alg";
    case NITRO_PARSE_PAYLOAD_CBOR: return "nitro.cbor.payload";
    case NITRO_PARSE_FIELDS: return "nitro.payload.fields";
    }
    return "nitro.cbor.envelope";
}

const char *nitro_parse_stage_spec(nitro_parse_stage s)
{
    switch (s) {
    case NITRO_PARSE_ENVELOPE_CBOR:
    case NITRO_PARSE_PAYLOAD_CBOR: return NITRO_SPEC_CBOR;
    case NITRO_PARSE_COSE: return NITRO_SPEC_COSE;
    case NITRO_PARSE_ALG: return NITRO_SPEC_ALG;
    case NITRO_PARSE_OK:
    case NITRO_PARSE_FIELDS: return NITRO_SPEC_PAYLOAD;
    }
    return NITRO_SPEC_CBOR;
}
