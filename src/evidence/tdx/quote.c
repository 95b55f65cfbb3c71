/* DCAP quote parsing: v3 (SGX), v4 and v5 (TDX, and SGX bodies in v4/v5).
 *
 * Layouts (evidence-formats §2.1-2.4):
 *   header 48 | [v5: body type u16, body size u32] | body | sig_data_len u32 |
 *   signature data | trailing padding (not interpreted)
 * Signature data v4/v5: sig 64 | attestation key 64 | cert type u16 (6) |
 *   size u32 | QE report 384 | QE report sig 64 | auth len u16 | auth |
 *   cert type u16 (5) | size u32 | PEM chain
 * Signature data v3: sig 64 | attestation key 64 | QE report 384 |
 *   QE report sig 64 | auth len u16 | auth | cert type u16 (5) | size u32 | PEM
 *
 * Every length is bounded by what is left, and every nested structure must
 * be consumed exactly.  Nothing is copied: the fields point into the buffer
 * so that the signatures are checked over the received bytes. */
#include <string.h>

#include "cachet/reader.h"
#include "evidence/tdx/tdx.h"

const uint8_t tdx_intel_qe_vendor_id[16] = {
    0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
    0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07,
};

const char *tdx_body_type_str(tdx_body_type t)
{
    switch (t) {
    case TDX_BODY_SGX: return "SGX enclave report";
    case TDX_BODY_TD10: return "TD report 1.0";
    case TDX_BODY_TD15: return "TD report 1.5";
    }
    return "unknown body";
}

const char *tdx_quote_spec(const tdx_quote *q)
{
    if (q && q->version == 3)
        return TDX_SPEC_QUOTE_V3;
    if (q && q->version == 5)
        return TDX_SPEC_QUOTE_V5;
    return TDX_SPEC_QUOTE_V4;
}

void tdx_enclave_report_parse(const uint8_t *p, tdx_enclave_report *r)
{
    memset(r, 0, sizeof *r);
    r->raw = p;
    r->cpusvn = p;
    r->miscselect_raw = p + 16;
    r->miscselect = cachet_le32(p + 16);
    r->isvextprodid = p + 32;
    r->attributes = p + 48;
    r->attr_flags = cachet_le64(p + 48);
    r->attr_xfrm = cachet_le64(p + 56);
    r->mrenclave = p + 64;
    r->mrsigner = p + 128;
    r->configid = p + 192;
    r->isvprodid = cachet_le16(p + 256);
    r->isvsvn = cachet_le16(p + 258);
    r->configsvn = cachet_le16(p + 260);
    r->isvfamilyid = p + 304;
    r->reportdata = p + 320;
}

static void td_report_parse(const uint8_t *p, tdx_body_type type, tdx_td_report *t)
{
    memset(t, 0, sizeof *t);
    t->tee_tcb_svn = p;
    t->mrseam = p + 16;
    t->mrsignerseam = p + 64;
    t->seam_attributes = p + 112;
    t->td_attributes_raw = p + 120;
    t->td_attributes = cachet_le64(p + 120);
    t->xfam = cachet_le64(p + 128);
    t->mrtd = p + 136;
    t->mrconfigid = p + 184;
    t->mrowner = p + 232;
    t->mrownerconfig = p + 280;
    for (int i = 0; i < 4; i++)
        t->rtmr[i] = p + 328 + 48 * i;
    t->reportdata = p + 520;
    if (type == TDX_BODY_TD15) {
        t->tee_tcb_svn2 = p + 584;
        t->mrservicetd = p + 600;
    }
}

static cachet_rc short_of(const char *what, size_t need, size_t have)
{
    return cachet_err(TDX_RC(TRUNCATED), "quote: %s needs %zu bytes, %zu left", what, need, have);
}

static cachet_rc parse_header(cachet_reader *r, tdx_quote *q)
{
    if (cachet_reader_remaining(r) < TDX_HEADER_LEN)
        return short_of("the header", TDX_HEADER_LEN, cachet_reader_remaining(r));
    cachet_read_u16le(r, &q->version);
    cachet_read_u16le(r, &q->att_key_type);
    cachet_read_u32le(r, &q->tee_type);
    cachet_read_u16le(r, &q->hdr_qe_svn);
    cachet_read_u16le(r, &q->hdr_pce_svn);
    cachet_read_slice(r, 16, &q->qe_vendor_id);
    cachet_read_slice(r, 20, &q->user_data);
    if (q->version < 3 || q->version > 5)
        return cachet_err(TDX_RC(UNSUPPORTED), "quote: version %u (supported: 3, 4, 5)",
                          q->version);
    if (q->att_key_type != TDX_ATT_KEY_ECDSA_P256)
        return cachet_err(TDX_RC(UNSUPPORTED),
                          "quote: attestation key type %u (only 2, ECDSA-256-with-P-256, is "
                          "supported)", q->att_key_type);
    /* In v3 bytes 4..7 are reserved (zero): such quotes are SGX quotes. */
    if (q->tee_type != TDX_TEE_TYPE_SGX && (q->version == 3 || q->tee_type != TDX_TEE_TYPE_TDX))
        return cachet_err(TDX_RC(UNSUPPORTED), "quote: tee_type 0x%08x (0 = SGX, 0x81 = TDX)%s",
                          q->tee_type, q->version == 3 ? " in a v3 (SGX-only) quote" : "");
    if (memcmp(q->qe_vendor_id, tdx_intel_qe_vendor_id, 16) != 0)
        return cachet_err(TDX_RC(UNSUPPORTED),
                          "quote: QE vendor ID is not Intel's (939a7233f79c4ca9940a0db3957f0607)");
    return CACHET_OK;
}

static cachet_rc parse_body(cachet_reader *r, tdx_quote *q)
{
    bool tdx = q->tee_type == TDX_TEE_TYPE_TDX;
    if (q->version == 5) {
        uint16_t type = 0;
        uint32_t size = 0;
        if (cachet_reader_remaining(r) < 6)
            return short_of("the v5 body descriptor", 6, cachet_reader_remaining(r));
        cachet_read_u16le(r, &type);
        cachet_read_u32le(r, &size);
        uint32_t want = type == TDX_BODY_SGX ? TDX_ENCLAVE_REPORT_LEN
                        : type == TDX_BODY_TD10 ? TDX_TD10_LEN
                        : type == TDX_BODY_TD15 ? TDX_TD15_LEN : 0;
        if (!want)
            return cachet_err(TDX_RC(UNSUPPORTED),
                              "quote: v5 body type %u (1 SGX, 2 TD 1.0, 3 TD 1.5)", type);
        if (size != want)
            return cachet_err(TDX_RC(FORMAT), "quote: v5 body type %u declares %u bytes, its "
                              "layout has %u", type, size, want);
        if ((type == TDX_BODY_SGX) == tdx)
            return cachet_err(TDX_RC(FORMAT), "quote: body type %u does not fit tee_type 0x%x",
                              type, q->tee_type);
        q->body_type = (tdx_body_type)type;
        q->body_len = size;
    } else {
        q->body_type = tdx ? TDX_BODY_TD10 : TDX_BODY_SGX;
        q->body_len = tdx ? TDX_TD10_LEN : TDX_ENCLAVE_REPORT_LEN;
    }
    if (cachet_reader_remaining(r) < q->body_len)
        return short_of("the body", q->body_len, cachet_reader_remaining(r));
    cachet_read_slice(r, q->body_len, &q->body);
    q->signed_len = r->off;
    if (q->body_type == TDX_BODY_SGX)
        tdx_enclave_report_parse(q->body, &q->enclave);
    else
        td_report_parse(q->body, q->body_type, &q->td);
    return CACHET_OK;
}

/* QE report 384 | signature 64 | auth len u16 | auth | cert type u16 |
 * size u32 | PCK chain: the tail common to v3 and the type-6 data. */
static cachet_rc parse_qe_part(cachet_reader *r, tdx_quote *q, const char *where)
{
    if (cachet_reader_remaining(r) < TDX_ENCLAVE_REPORT_LEN + 64 + 2)
        return short_of(where, TDX_ENCLAVE_REPORT_LEN + 64 + 2, cachet_reader_remaining(r));
    cachet_read_slice(r, TDX_ENCLAVE_REPORT_LEN, &q->qe_report_raw);
    tdx_enclave_report_parse(q->qe_report_raw, &q->qe_report);
    cachet_read_slice(r, 64, &q->qe_report_sig);
    cachet_read_u16le(r, &q->qe_auth_len);
    if (q->qe_auth_len > TDX_QE_AUTH_MAX)
        return cachet_err(TDX_RC(LIMIT), "quote: QE authentication data of %u bytes (at most %u)",
                          q->qe_auth_len, TDX_QE_AUTH_MAX);
    if (cachet_reader_remaining(r) < (size_t)q->qe_auth_len + 6)
        return short_of("the QE authentication data and certification header",
                     (size_t)q->qe_auth_len + 6, cachet_reader_remaining(r));
    cachet_read_slice(r, q->qe_auth_len, &q->qe_auth);
    uint32_t size = 0;
    cachet_read_u16le(r, &q->pck_cert_type);
    cachet_read_u32le(r, &size);
    if (q->pck_cert_type != TDX_CERT_PCK_CHAIN)
        return cachet_err(TDX_RC(UNSUPPORTED),
                          "quote: certification data type %u inside %s (only 5, the PCK "
                          "certificate chain, is supported; type 4 needs the chain from PCS)",
                          q->pck_cert_type, where);
    if (size != cachet_reader_remaining(r))
        return cachet_err(size > cachet_reader_remaining(r) ? TDX_RC(TRUNCATED) : TDX_RC(FORMAT),
                          "quote: PCK chain declares %u bytes, %zu remain in %s", size,
                          cachet_reader_remaining(r), where);
    if (size == 0)
        return cachet_err(TDX_RC(FORMAT), "quote: empty PCK certificate chain");
    cachet_read_slice(r, size, &q->pck_chain);
    q->pck_chain_len = size;
    /* The chain is PEM text; a single terminating NUL is tolerated (§2.4). */
    if (q->pck_chain[size - 1] == 0)
        q->pck_chain_len--;
    if (q->pck_chain_len && memchr(q->pck_chain, 0, q->pck_chain_len))
        return cachet_err(TDX_RC(FORMAT), "quote: NUL byte inside the PEM PCK chain");
    return cachet_reader_status(r);
}

static cachet_rc parse_signature_data(cachet_reader *r, tdx_quote *q)
{
    if (cachet_reader_remaining(r) < 4)
        return short_of("signature_data_len", 4, cachet_reader_remaining(r));
    cachet_read_u32le(r, &q->sig_data_len);
    if (q->sig_data_len > cachet_reader_remaining(r))
        return cachet_err(TDX_RC(TRUNCATED),
                          "quote: signature data declares %u bytes, %zu remain", q->sig_data_len,
                          cachet_reader_remaining(r));
    cachet_reader sd;
    cachet_read_sub(r, q->sig_data_len, &sd);
    q->trailing = cachet_reader_remaining(r);

    if (cachet_reader_remaining(&sd) < 128)
        return short_of("the quote signature and attestation key", 128, cachet_reader_remaining(&sd));
    cachet_read_slice(&sd, 64, &q->signature);
    cachet_read_slice(&sd, 64, &q->attest_key);
    q->certified = q->attest_key;
    q->certified_len = 64 + cachet_reader_remaining(&sd);

    if (q->version == 3) {
        q->outer_cert_type = TDX_CERT_PCK_CHAIN;
        return parse_qe_part(&sd, q, "the v3 signature data");
    }
    uint32_t size = 0;
    if (cachet_reader_remaining(&sd) < 6)
        return short_of("the certification data header", 6, cachet_reader_remaining(&sd));
    cachet_read_u16le(&sd, &q->outer_cert_type);
    cachet_read_u32le(&sd, &size);
    if (q->outer_cert_type != TDX_CERT_QE_REPORT)
        return cachet_err(TDX_RC(UNSUPPORTED),
                          "quote: certification data type %u (v4/v5 quotes carry 6, QE report "
                          "certification data)", q->outer_cert_type);
    if (size != cachet_reader_remaining(&sd))
        return cachet_err(size > cachet_reader_remaining(&sd) ? TDX_RC(TRUNCATED) : TDX_RC(FORMAT),
                          "quote: certification data declares %u bytes, %zu remain", size,
                          cachet_reader_remaining(&sd));
    cachet_reader qe;
    cachet_read_sub(&sd, size, &qe);
    return parse_qe_part(&qe, q, "the QE report certification data");
}

cachet_rc tdx_quote_parse(const uint8_t *buf, size_t len, tdx_quote *q)
{
    if (!q)
        return cachet_err(TDX_RC(INVALID_ARG), "quote: no output");
    memset(q, 0, sizeof *q);
    if (!buf || !len)
        return cachet_err(TDX_RC(TRUNCATED), "quote: empty input");
    if (len > TDX_QUOTE_MAX)
        return cachet_err(TDX_RC(LIMIT), "quote: %zu bytes (at most %zu)", len, TDX_QUOTE_MAX);
    q->bytes = buf;
    q->len = len;
    cachet_reader r;
    cachet_reader_init(&r, buf, len);
    cachet_rc rc = parse_header(&r, q);
    if (rc == CACHET_OK)
        rc = parse_body(&r, q);
    if (rc == CACHET_OK)
        rc = parse_signature_data(&r, q);
    if (rc == CACHET_OK && cachet_reader_status(&r) != CACHET_OK)
        rc = cachet_err(TDX_RC(TRUNCATED), "quote: truncated");
    return rc;
}
