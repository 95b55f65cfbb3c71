/* The TPM attester's products: the quote bundle (docs/evidence/tpm.md),
 * with or without the credential-activation record, and the generic
 * attester interface over it. */
#include <stdlib.h>
#include <string.h>

#include "attester/attester_int.h"
#include "attester/tpm/tpm_int.h"
#include "cachet/runtime_data.h"

static cachet_rc make_bundle(cachet_tpm *t, const uint8_t *nonce, size_t nonce_len,
                             const uint8_t *blob, size_t blob_len, const uint8_t *secret,
                             size_t secret_len, char **bundle, size_t *len)
{
    if (!t || !bundle || !len)
        return cachet_err(AT_RC(INVALID_ARG), "tpm: NULL argument");
    *bundle = NULL;
    *len = 0;
    tpm_evidence e;
    memset(&e, 0, sizeof e);
    e.n_quotes = 1;
    cachet_rc rc = tpm_do_quote(t, nonce, nonce_len, &e.quotes[0], &e.pcrs);
    if (rc == CACHET_OK)
        rc = tpm_blob_set(&e.ak_public, t->ak_public.p, t->ak_public.len);
    if (rc == CACHET_OK)
        rc = tpm_blob_set(&e.ek_public, t->ek_public.p, t->ek_public.len);
    if (rc == CACHET_OK && t->log.len)
        rc = tpm_blob_set(&e.event_log, t->log.buf, t->log.len);
    if (rc == CACHET_OK && t->ak_cert.len)
        rc = tpm_blob_set(&e.ak_cert, t->ak_cert.p, t->ak_cert.len);
    for (size_t i = 0; rc == CACHET_OK && i < t->n_ak_chain; i++) {
        rc = tpm_blob_set(&e.ak_chain[i], t->ak_chain[i].p, t->ak_chain[i].len);
        e.n_ak_chain = i + 1;
    }
    if (rc == CACHET_OK) {
        uint8_t *der = NULL;
        size_t der_len = 0;
        cachet_rc crc = cachet_tpm_ek_cert(t, &der, &der_len);
        if (crc == CACHET_OK) {
            e.ek_cert.p = der;
            e.ek_cert.len = der_len;
        } else if (blob) {
            rc = crc; /* an activation record is useless without the EK certificate */
        }
    }
    if (rc == CACHET_OK && blob) {
        rc = tpm_blob_set(&e.cred_blob, blob, blob_len);
        if (rc == CACHET_OK)
            rc = tpm_blob_set(&e.enc_secret, secret, secret_len);
    }
    char *text = NULL;
    if (rc == CACHET_OK)
        rc = tpm_bundle_write(&e, &text);
    tpm_evidence_free(&e);
    if (rc != CACHET_OK)
        return rc;
    *bundle = text;
    *len = strlen(text);
    return CACHET_OK;
}

cachet_rc cachet_tpm_quote(cachet_tpm *t, const uint8_t *nonce, size_t nonce_len, char **bundle,
                           size_t *len)
{
    return make_bundle(t, nonce, nonce_len, NULL, 0, NULL, 0, bundle, len);
}

cachet_rc cachet_tpm_quote_activated(cachet_tpm *t, const uint8_t *blob, size_t blob_len,
                                     const uint8_t *secret, size_t secret_len, char **bundle,
                                     size_t *len)
{
    uint8_t nonce[64];
    size_t n = 0;
    cachet_rc rc = cachet_tpm_activate(t, blob, blob_len, secret, secret_len, nonce, sizeof nonce,
                                       &n);
    if (rc == CACHET_OK)
        rc = make_bundle(t, nonce, n, blob, blob_len, secret, secret_len, bundle, len);
    memset(nonce, 0, sizeof nonce);
    return rc;
}

/* ---- the generic attester interface ------------------------------------------------ */

static cachet_rc tpm_collect(void *impl, const cachet_attest_request *req, uint8_t **evidence,
                             size_t *len)
{
    if (req->user_data_len || req->public_key_len)
        return cachet_err(AT_RC(INVALID_ARG), "tpm: a quote carries one value (extraData): "
                          "fold user_data and public_key into the nonce");
    char *bundle = NULL;
    cachet_rc rc = cachet_tpm_quote(impl, req->nonce, req->nonce_len, &bundle, len);
    *evidence = (uint8_t *)bundle;
    return rc;
}

/* The binding rule for TPM (docs/attester.md §2): extraData is the 48-byte
 * SHA-384 digest, the first 48 bytes of the report data; the zero padding
 * the 64-byte families carry must be zero here too (nothing is dropped). */
static cachet_rc tpm_collect_bound(void *impl, const uint8_t report_data[64],
                                   const char *runtime_data, size_t runtime_len,
                                   uint8_t **evidence, size_t *len)
{
    (void)runtime_data; /* the verifier gets it beside the evidence */
    (void)runtime_len;
    size_t n = cachet_runtime_data_binding_len("tpm");
    for (size_t i = n; i < CACHET_REPORT_DATA_LEN; i++)
        if (report_data[i])
            return cachet_err(AT_RC(INVALID_ARG), "tpm: report data byte %zu is not zero: a "
                              "quote's extraData carries the first %zu bytes only", i, n);
    char *bundle = NULL;
    cachet_rc rc = cachet_tpm_quote(impl, report_data, n, &bundle, len);
    *evidence = (uint8_t *)bundle;
    return rc;
}

static void tpm_close_impl(void *impl) { cachet_tpm_close(impl); }

static const cachet_attester_ops tpm_attester_ops = {
    .tee = "tpm",
    .collect = tpm_collect,
    .close = tpm_close_impl,
    .collect_bound = tpm_collect_bound,
};

cachet_tpm *cachet_attester_tpm_handle(const cachet_attester *a)
{
    return cachet_attester_impl(a, &tpm_attester_ops);
}

cachet_rc cachet_attester_tpm_new(const cachet_tpm_opts *opts, cachet_attester **out)
{
    if (!out)
        return cachet_err(AT_RC(INVALID_ARG), "tpm: NULL output");
    *out = NULL;
    cachet_tpm *t = NULL;
    cachet_rc rc = cachet_tpm_open(opts, &t);
    if (rc != CACHET_OK)
        return rc;
    return cachet_attester_wrap(&tpm_attester_ops, t, out);
}
