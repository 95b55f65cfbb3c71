/* NSM API messages (aws-nitro-enclaves-nsm-api src/api): CBOR written with
 * libcbor's encoders, responses read with the bounded reader of the Nitro
 * evidence family. */
#include <string.h>

#include <cbor.h>

#include "attester/nitro/nsm.h"
#include "evidence/nitro/nitro.h"

#define AT_RC(code) CACHET_RC(CACHET_SUB_ATTESTER, CACHET_E_##code)

typedef struct out_buf {
    uint8_t *p;
    size_t cap, n;
    bool full;
} out_buf;

static void put_head(out_buf *o, size_t (*enc)(size_t, unsigned char *, size_t), size_t v)
{
    if (o->full)
        return;
    size_t w = enc(v, o->p + o->n, o->cap - o->n);
    if (w == 0)
        o->full = true;
    o->n += w;
}

static void put_raw(out_buf *o, const void *p, size_t len)
{
    if (o->full || len > o->cap - o->n) {
        o->full = true;
        return;
    }
    if (len)
        memcpy(o->p + o->n, p, len);
    o->n += len;
}

static void put_text(out_buf *o, const char *s)
{
    put_head(o, cbor_encode_string_start, strlen(s));
    put_raw(o, s, strlen(s));
}

/* A bstr, or null when the caller gave nothing. */
static void put_opt_bytes(out_buf *o, const uint8_t *p, size_t len)
{
    if (!p) {
        if (o->full || o->n >= o->cap || cbor_encode_null(o->p + o->n, o->cap - o->n) != 1)
            o->full = true;
        else
            o->n++;
        return;
    }
    put_head(o, cbor_encode_bytestring_start, len);
    put_raw(o, p, len);
}

cachet_rc nsm_encode_attestation(const cachet_attest_request *req, uint8_t *buf, size_t cap,
                                 size_t *len)
{
    if (!req || !buf || !len)
        return cachet_err(AT_RC(INVALID_ARG), "nsm: NULL argument");
    *len = 0;
    /* The limits a verifier enforces (attestation_process.md §3.2.2.2):
     * asking for more only yields a document nobody accepts. */
    if (req->nonce && req->nonce_len > NITRO_NONCE_MAX)
        return cachet_err(AT_RC(INVALID_ARG), "nsm: nonce of %zu bytes (at most %u)",
                          req->nonce_len, NITRO_NONCE_MAX);
    if (req->user_data && req->user_data_len > NITRO_USER_DATA_MAX)
        return cachet_err(AT_RC(INVALID_ARG), "nsm: user_data of %zu bytes (at most %u)",
                          req->user_data_len, NITRO_USER_DATA_MAX);
    if (req->public_key && (req->public_key_len < 1 || req->public_key_len > NITRO_PUBLIC_KEY_MAX))
        return cachet_err(AT_RC(INVALID_ARG), "nsm: public_key of %zu bytes (1..%u)",
                          req->public_key_len, NITRO_PUBLIC_KEY_MAX);
    out_buf o = { .p = buf, .cap = cap };
    put_head(&o, cbor_encode_map_start, 1);
    put_text(&o, "Attestation");
    put_head(&o, cbor_encode_map_start, 3);
    put_text(&o, "user_data");
    put_opt_bytes(&o, req->user_data, req->user_data_len);
    put_text(&o, "nonce");
    put_opt_bytes(&o, req->nonce, req->nonce_len);
    put_text(&o, "public_key");
    put_opt_bytes(&o, req->public_key, req->public_key_len);
    if (o.full || o.n > NSM_REQUEST_MAX_SIZE)
        return cachet_err(AT_RC(LIMIT), "nsm: request does not fit");
    *len = o.n;
    return CACHET_OK;
}

static bool text_is(const nitro_cbor_item *it, const char *s)
{
    return it->kind == NITRO_CBOR_TEXT && it->len == strlen(s) && memcmp(it->data, s, it->len) == 0;
}

static const nitro_cbor_limits response_limits = {
    .max_depth = 2,
    .max_entries = 4,
    .max_items = 16,
    .max_string = NSM_RESPONSE_MAX_SIZE,
    .allow_indefinite_top_map = false,
    .allow_top_tag = false,
};

cachet_rc nsm_decode_attestation(const uint8_t *buf, size_t len, const uint8_t **doc,
                                 size_t *doc_len)
{
    if (!buf || !doc || !doc_len)
        return cachet_err(AT_RC(INVALID_ARG), "nsm: NULL argument");
    *doc = NULL;
    *doc_len = 0;
    if (len == 0 || len > NSM_RESPONSE_MAX_SIZE)
        return cachet_err(AT_RC(FORMAT), "nsm: response of %zu bytes", len);
    if (nitro_cbor_check(buf, len, &response_limits) != CACHET_OK)
        return cachet_err(AT_RC(FORMAT), "nsm: malformed response: %s", cachet_err_detail());
    nitro_cbor_reader r;
    nitro_cbor_item m, k, v;
    nitro_cbor_reader_init(&r, buf, len);
    if (nitro_cbor_next(&r, &m) != CACHET_OK || m.kind != NITRO_CBOR_MAP || m.u != 1 ||
        nitro_cbor_next(&r, &k) != CACHET_OK || nitro_cbor_next(&r, &v) != CACHET_OK)
        return cachet_err(AT_RC(FORMAT), "nsm: response is not a one-entry map");
    if (text_is(&k, "Error")) {
        if (v.kind == NITRO_CBOR_TEXT)
            return cachet_err(AT_RC(IO), "nsm: the module answered Error(%.*s)",
                              (int)(v.len > 64 ? 64 : v.len), (const char *)v.data);
        return cachet_err(AT_RC(IO), "nsm: the module answered an error");
    }
    if (!text_is(&k, "Attestation"))
        return cachet_err(AT_RC(FORMAT), "nsm: unexpected response %.*s",
                          (int)(k.kind == NITRO_CBOR_TEXT && k.len < 64 ? k.len : 0),
                          k.kind == NITRO_CBOR_TEXT ? (const char *)k.data : "");
    if (v.kind != NITRO_CBOR_MAP || v.u != 1)
        return cachet_err(AT_RC(FORMAT), "nsm: Attestation response is not {document}");
    nitro_cbor_item dk, dv;
    if (nitro_cbor_next(&r, &dk) != CACHET_OK || nitro_cbor_next(&r, &dv) != CACHET_OK ||
        !text_is(&dk, "document") || dv.kind != NITRO_CBOR_BYTES || dv.len == 0)
        return cachet_err(AT_RC(FORMAT), "nsm: Attestation response has no document");
    *doc = dv.data;
    *doc_len = dv.len;
    return CACHET_OK;
}
