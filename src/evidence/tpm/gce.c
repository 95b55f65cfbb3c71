/* go-tpm-tools' `attest.Attestation` protobuf, as Google Compute Engine
 * vTPMs produce it (proto/attest.proto, proto/tpm.proto): a small bounded
 * reader for the protobuf wire format (varints and length-delimited fields
 * only), strict about what it uses: a singular field that repeats, a known
 * field with the wrong wire type, or a length past the end is an error;
 * fields cachet does not use (instance info, canonical event log, TEE
 * attestation) are skipped. */
#include <string.h>

#include "evidence/tpm/tpm.h"

#define EV_RC(code) CACHET_RC(CACHET_SUB_EVIDENCE, CACHET_E_##code)

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

typedef struct pb {
    const uint8_t *p;
    size_t len, off;
} pb;

static cachet_rc pb_varint(pb *r, uint64_t *out)
{
    uint64_t v = 0;
    *out = 0; /* defined on every path */
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (r->off >= r->len)
            return cachet_err(EV_RC(TRUNCATED), "protobuf: varint past the end");
        uint8_t b = r->p[r->off++];
        if (shift == 63 && (b & 0x7e))
            return cachet_err(EV_RC(FORMAT), "protobuf: varint over 64 bits");
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return CACHET_OK;
        }
    }
    return cachet_err(EV_RC(FORMAT), "protobuf: varint longer than 10 bytes");
}

/* One field: number, wire type, and for LEN its bytes. */
typedef struct pb_field {
    uint32_t num;
    unsigned wt;
    uint64_t value;        /* VARINT */
    const uint8_t *data;   /* LEN */
    size_t len;
} pb_field;

static cachet_rc pb_next(pb *r, pb_field *f)
{
    uint64_t key;
    cachet_rc rc = pb_varint(r, &key);
    if (rc != CACHET_OK)
        return rc;
    if ((key >> 3) == 0 || (key >> 3) > 0x1fffffff)
        return cachet_err(EV_RC(FORMAT), "protobuf: field number %llu",
                          (unsigned long long)(key >> 3));
    memset(f, 0, sizeof *f);
    f->num = (uint32_t)(key >> 3);
    f->wt = (unsigned)(key & 7);
    switch (f->wt) {
    case WT_VARINT:
        return pb_varint(r, &f->value);
    case WT_I64:
    case WT_I32: {
        size_t n = f->wt == WT_I64 ? 8 : 4;
        if (n > r->len - r->off)
            return cachet_err(EV_RC(TRUNCATED), "protobuf: fixed field past the end");
        r->off += n;
        return CACHET_OK;
    }
    case WT_LEN: {
        uint64_t n;
        if ((rc = pb_varint(r, &n)) != CACHET_OK)
            return rc;
        if (n > r->len - r->off)
            return cachet_err(EV_RC(TRUNCATED), "protobuf: field %u claims %llu bytes, %zu left",
                              f->num, (unsigned long long)n, r->len - r->off);
        f->data = r->p + r->off;
        f->len = (size_t)n;
        r->off += (size_t)n;
        return CACHET_OK;
    }
    default:
        return cachet_err(EV_RC(FORMAT), "protobuf: wire type %u (groups are not accepted)",
                          f->wt);
    }
}

static cachet_rc want_len(const pb_field *f, const char *what)
{
    if (f->wt != WT_LEN)
        return cachet_err(EV_RC(FORMAT), "protobuf: %s has wire type %u, not bytes", what, f->wt);
    return CACHET_OK;
}

static cachet_rc once(bool *seen, const char *what)
{
    if (*seen)
        return cachet_err(EV_RC(FORMAT), "protobuf: %s appears twice", what);
    *seen = true;
    return CACHET_OK;
}

/* map<uint32, bytes> entry: 1 key, 2 value. */
static cachet_rc read_map_entry(const pb_field *f, uint16_t alg, tpm_pcrs *pcrs)
{
    pb r = { f->data, f->len, 0 };
    bool has_k = false, has_v = false;
    uint64_t key = 0;
    const uint8_t *val = NULL;
    size_t vlen = 0;
    while (r.off < r.len) {
        pb_field g;
        cachet_rc rc = pb_next(&r, &g);
        if (rc != CACHET_OK)
            return rc;
        if (g.num == 1) {
            if (g.wt != WT_VARINT)
                return cachet_err(EV_RC(FORMAT), "protobuf: PCR index is not a varint");
            if ((rc = once(&has_k, "PCR index")) != CACHET_OK)
                return rc;
            key = g.value;
        } else if (g.num == 2) {
            if ((rc = want_len(&g, "PCR value")) != CACHET_OK || (rc = once(&has_v, "PCR value")))
                return rc;
            val = g.data;
            vlen = g.len;
        }
    }
    if (!has_v)
        return cachet_err(EV_RC(FORMAT), "protobuf: PCR map entry without a value");
    if (key >= TPM_PCR_COUNT)
        return cachet_err(EV_RC(FORMAT), "protobuf: PCR index %llu", (unsigned long long)key);
    return tpm_pcrs_set(pcrs, alg, (unsigned)key, val, vlen);
}

/* PCRs: 1 hash (TPM_ALG_ID values), 2 map<uint32, bytes>. */
static cachet_rc read_pcrs(const pb_field *f, tpm_pcrs *pcrs)
{
    pb r = { f->data, f->len, 0 };
    bool has_hash = false;
    uint64_t hash = 0;
    /* The hash may follow the entries in the wire order: read it first. */
    while (r.off < r.len) {
        pb_field g;
        cachet_rc rc = pb_next(&r, &g);
        if (rc != CACHET_OK)
            return rc;
        if (g.num == 1) {
            if (g.wt != WT_VARINT)
                return cachet_err(EV_RC(FORMAT), "protobuf: PCRs.hash is not a varint");
            if ((rc = once(&has_hash, "PCRs.hash")) != CACHET_OK)
                return rc;
            hash = g.value;
        }
    }
    if (!has_hash || hash > 0xffff || !tpm_alg_digest_len((uint16_t)hash))
        return cachet_err(EV_RC(UNSUPPORTED), "protobuf: PCR bank 0x%llx is not supported",
                          (unsigned long long)hash);
    r.off = 0;
    size_t entries = 0;
    while (r.off < r.len) {
        pb_field g;
        cachet_rc rc = pb_next(&r, &g);
        if (rc != CACHET_OK)
            return rc;
        if (g.num != 2)
            continue;
        if ((rc = want_len(&g, "PCRs.pcrs")) != CACHET_OK ||
            (rc = read_map_entry(&g, (uint16_t)hash, pcrs)) != CACHET_OK)
            return rc;
        entries++;
    }
    if (!entries)
        return cachet_err(EV_RC(FORMAT), "protobuf: a PCRs message with no values");
    return CACHET_OK;
}

/* Quote: 1 quote (TPMS_ATTEST), 2 raw_sig (TPMT_SIGNATURE), 3 pcrs. */
static cachet_rc read_quote(const pb_field *f, tpm_evidence *e)
{
    if (e->n_quotes >= TPM_MAX_QUOTES)
        return cachet_err(EV_RC(LIMIT), "protobuf: more than %u quotes", TPM_MAX_QUOTES);
    tpm_quote_raw *q = &e->quotes[e->n_quotes++];
    pb r = { f->data, f->len, 0 };
    bool s1 = false, s2 = false, s3 = false;
    while (r.off < r.len) {
        pb_field g;
        cachet_rc rc = pb_next(&r, &g);
        if (rc != CACHET_OK)
            return rc;
        switch (g.num) {
        case 1:
            if ((rc = want_len(&g, "Quote.quote")) || (rc = once(&s1, "Quote.quote")) ||
                (rc = tpm_blob_set(&q->attest, g.data, g.len)))
                return rc;
            break;
        case 2:
            if ((rc = want_len(&g, "Quote.raw_sig")) || (rc = once(&s2, "Quote.raw_sig")) ||
                (rc = tpm_blob_set(&q->sig, g.data, g.len)))
                return rc;
            break;
        case 3:
            if ((rc = want_len(&g, "Quote.pcrs")) || (rc = once(&s3, "Quote.pcrs")) ||
                (rc = read_pcrs(&g, &e->pcrs)))
                return rc;
            break;
        default:
            break;
        }
    }
    if (!s1 || !s2 || !s3)
        return cachet_err(EV_RC(FORMAT), "protobuf: a Quote without quote, raw_sig or pcrs");
    return CACHET_OK;
}

static cachet_rc parse(const uint8_t *buf, size_t len, tpm_evidence *e)
{
    pb r = { buf, len, 0 };
    bool s1 = false, s3 = false, s6 = false;
    while (r.off < r.len) {
        pb_field f;
        cachet_rc rc = pb_next(&r, &f);
        if (rc != CACHET_OK)
            return rc;
        switch (f.num) {
        case 1: /* ak_pub: TPMT_PUBLIC */
            if ((rc = want_len(&f, "ak_pub")) || (rc = once(&s1, "ak_pub")) ||
                (rc = tpm_blob_set(&e->ak_public, f.data, f.len)))
                return rc;
            break;
        case 2:
            if ((rc = want_len(&f, "quotes")) || (rc = read_quote(&f, e)))
                return rc;
            break;
        case 3:
            if ((rc = want_len(&f, "event_log")) || (rc = once(&s3, "event_log")))
                return rc;
            if (f.len && (rc = tpm_blob_set(&e->event_log, f.data, f.len)))
                return rc;
            break;
        case 6:
            if ((rc = want_len(&f, "ak_cert")) || (rc = once(&s6, "ak_cert")))
                return rc;
            if (f.len && (rc = tpm_blob_set(&e->ak_cert, f.data, f.len)))
                return rc;
            break;
        case 7:
            if ((rc = want_len(&f, "intermediate_certs")))
                return rc;
            if (e->n_ak_chain >= TPM_MAX_CHAIN)
                return cachet_err(EV_RC(LIMIT), "protobuf: more than %u intermediates",
                                  TPM_MAX_CHAIN);
            if ((rc = tpm_blob_set(&e->ak_chain[e->n_ak_chain], f.data, f.len)))
                return rc;
            e->n_ak_chain++;
            break;
        default: /* 4 instance_info, 5 canonical_event_log, 8/9 TEE attestation */
            break;
        }
    }
    if (!s1 || e->ak_public.len == 0)
        return cachet_err(EV_RC(FORMAT), "protobuf: no ak_pub");
    if (e->n_quotes == 0)
        return cachet_err(EV_RC(FORMAT), "protobuf: no quotes");
    return CACHET_OK;
}

cachet_rc tpm_gce_parse(const uint8_t *buf, size_t len, tpm_evidence *out)
{
    memset(out, 0, sizeof *out);
    out->format = "go-tpm-tools Attestation protobuf";
    if (!buf || !len)
        return cachet_err(EV_RC(TRUNCATED), "empty protobuf");
    cachet_rc rc = parse(buf, len, out);
    if (rc != CACHET_OK) {
        const char *fmt = out->format;
        tpm_evidence_free(out);
        out->format = fmt;
    }
    return rc;
}

bool tpm_gce_looks(const uint8_t *buf, size_t len)
{
    /* Field 1 (bytes) first, holding a TPMT_PUBLIC of type RSA or ECC, then a
     * well-formed walk of the top level with at least one field 2. */
    if (!buf || len < 8 || buf[0] != 0x0a)
        return false;
    pb r = { buf, len, 0 };
    pb_field f;
    if (pb_next(&r, &f) != CACHET_OK || f.num != 1 || f.wt != WT_LEN || f.len < 4)
        return false;
    uint16_t type = (uint16_t)(f.data[0] << 8 | f.data[1]);
    if (type != TPM2_ALG_RSA && type != TPM2_ALG_ECC)
        return false;
    bool quotes = false;
    for (unsigned n = 0; r.off < r.len && n < 64; n++) {
        if (pb_next(&r, &f) != CACHET_OK)
            return false;
        quotes |= f.num == 2 && f.wt == WT_LEN;
    }
    return quotes && r.off == r.len;
}
