/* The verifier-side TPM functions of include/cachet/tpm.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/tpm.h"
#include "evidence/tpm/tpm.h"

#define EV_RC(code) CACHET_RC(CACHET_SUB_EVIDENCE, CACHET_E_##code)

/* TPM2B_PUBLIC → parsed TPMT_PUBLIC and its Name. */
static cachet_rc load_public(const uint8_t *pub, size_t len, TPMT_PUBLIC *out,
                             uint8_t name[TPM_MAX_NAME], size_t *name_len)
{
    const uint8_t *t;
    size_t tl;
    cachet_rc rc = tpm_public2b_contents(pub, len, &t, &tl);
    if (rc == CACHET_OK)
        rc = tpm_public_parse(t, tl, out);
    if (rc == CACHET_OK && name)
        rc = tpm_public_name(out, t, tl, name, name_len);
    return rc;
}

/* Prefix the current error detail (copied first: cachet_err writes the
 * buffer cachet_err_detail() returns). */
static cachet_rc prefixed(cachet_rc rc, const char *what)
{
    char d[256];
    snprintf(d, sizeof d, "%s", cachet_err_detail());
    return cachet_err(rc, "tpm: %s: %s", what, d);
}

static void hand_out(tpm_blob *b, uint8_t **p, size_t *len)
{
    *p = b->p;
    *len = b->len;
    b->p = NULL;
    b->len = 0;
}

static cachet_rc outputs_ok(uint8_t **blob, size_t *blob_len, uint8_t **secret, size_t *secret_len)
{
    if (!blob || !blob_len || !secret || !secret_len)
        return cachet_err(EV_RC(INVALID_ARG), "tpm: NULL output");
    *blob = *secret = NULL;
    *blob_len = *secret_len = 0;
    return CACHET_OK;
}

cachet_rc cachet_tpm_credential_challenge(const uint8_t *ek_public, size_t ek_len,
                                          const uint8_t *ak_public, size_t ak_len,
                                          const uint8_t *nonce, size_t nonce_len,
                                          uint8_t **credential_blob, size_t *blob_len,
                                          uint8_t **encrypted_secret, size_t *secret_len)
{
    cachet_rc rc = outputs_ok(credential_blob, blob_len, encrypted_secret, secret_len);
    if (rc != CACHET_OK)
        return rc;
    if (!nonce || nonce_len < CACHET_TPM_NONCE_MIN || nonce_len > CACHET_TPM_NONCE_MAX)
        return cachet_err(EV_RC(RANGE), "tpm: a challenge nonce is %d..%d bytes, not %zu",
                          CACHET_TPM_NONCE_MIN, CACHET_TPM_NONCE_MAX, nonce_len);
    TPMT_PUBLIC ek, ak;
    uint8_t name[TPM_MAX_NAME];
    size_t name_len = 0;
    if ((rc = load_public(ek_public, ek_len, &ek, NULL, NULL)) != CACHET_OK)
        return prefixed(rc, "EK public area");
    if ((rc = load_public(ak_public, ak_len, &ak, name, &name_len)) != CACHET_OK)
        return prefixed(rc, "AK public area");
    tpm_blob b = { 0 }, s = { 0 };
    rc = tpm_make_credential(&ek, name, name_len, nonce, nonce_len, nonce, nonce_len, &b, &s);
    if (rc != CACHET_OK)
        return rc;
    hand_out(&b, credential_blob, blob_len);
    hand_out(&s, encrypted_secret, secret_len);
    return CACHET_OK;
}

cachet_rc cachet_tpm_make_credential(const uint8_t *ek_public, size_t ek_len,
                                     const uint8_t *ak_name, size_t ak_name_len,
                                     const uint8_t *credential, size_t cred_len,
                                     uint8_t **credential_blob, size_t *blob_len,
                                     uint8_t **encrypted_secret, size_t *secret_len)
{
    cachet_rc rc = outputs_ok(credential_blob, blob_len, encrypted_secret, secret_len);
    if (rc != CACHET_OK)
        return rc;
    TPMT_PUBLIC ek;
    if ((rc = load_public(ek_public, ek_len, &ek, NULL, NULL)) != CACHET_OK)
        return prefixed(rc, "EK public area");
    tpm_blob b = { 0 }, s = { 0 };
    rc = tpm_make_credential(&ek, ak_name, ak_name_len, credential, cred_len, NULL, 0, &b, &s);
    if (rc != CACHET_OK)
        return rc;
    hand_out(&b, credential_blob, blob_len);
    hand_out(&s, encrypted_secret, secret_len);
    return CACHET_OK;
}

cachet_rc cachet_tpm_public_name(const uint8_t *pub, size_t len, uint8_t *name, size_t cap,
                                 size_t *name_len)
{
    if (!name || !name_len)
        return cachet_err(EV_RC(INVALID_ARG), "tpm: NULL output");
    TPMT_PUBLIC p;
    uint8_t n[TPM_MAX_NAME];
    size_t nl = 0;
    cachet_rc rc = load_public(pub, len, &p, n, &nl);
    if (rc != CACHET_OK)
        return rc;
    if (nl > cap)
        return cachet_err(EV_RC(LIMIT), "tpm: a %zu-byte Name, %zu-byte buffer", nl, cap);
    memcpy(name, n, nl);
    *name_len = nl;
    return CACHET_OK;
}
