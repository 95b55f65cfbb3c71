/* AK enrollment: the registrar's side of mechanism 1 (docs/evidence/tpm.md
 * "Enrolling an AK"): prove with the EK certificate and a credential
 * activation that the AK lives in a genuine TPM, then certify it under the
 * owner's AK CA.  Every refusal is CACHET_E_POLICY naming its check. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attester/tpm/tpm_int.h"
#include "cachet/encoding.h"
#include "cachet/secmem.h"

#define ENROLL_SECRET_LEN 32

static cachet_rc refuse(const char *check, const char *what, const char *detail)
{
    char d[384]; /* detail may be cachet_err_detail() itself: copy it first */
    snprintf(d, sizeof d, "%s", detail ? detail : "");
    return cachet_err(AT_RC(POLICY), "AK enrollment refused: %s: %s%s%s", check, what,
                      d[0] ? ": " : "", d);
}

static bool same_spki(const cachet_pkey *a, const cachet_pkey *b)
{
    uint8_t *da = NULL, *db = NULL;
    size_t la = 0, lb = 0;
    bool eq = cachet_pkey_spki_der(a, &da, &la) == CACHET_OK &&
              cachet_pkey_spki_der(b, &db, &lb) == CACHET_OK && la == lb &&
              memcmp(da, db, la) == 0;
    free(da);
    free(db);
    return eq;
}

/* ek.cert.chain / ek.cert.key / ek.cert.profile */
static cachet_rc check_ek(cachet_tpm *t, const cachet_tpm_enroll_params *p)
{
    uint8_t *der = NULL;
    size_t der_len = 0;
    cachet_x509 *ek_cert = NULL;
    cachet_pkey *cert_key = NULL, *ek_key = NULL;
    TPMT_PUBLIC ek;
    cachet_chain_result res = {0};
    cachet_rc rc = cachet_tpm_ek_cert(t, &der, &der_len);
    if (rc != CACHET_OK) {
        rc = refuse("ek.cert", "the TPM has no readable RSA EK certificate (NV 0x01C00002)",
                    cachet_err_detail());
        goto out;
    }
    if (cachet_x509_parse(der, der_len, &ek_cert) != CACHET_OK) {
        rc = refuse("ek.cert", "the EK certificate does not parse", cachet_err_detail());
        goto out;
    }
    cachet_chain_params cp = {
        .leaf = ek_cert,
        .intermediates = p->ek_intermediates,
        .n_intermediates = p->n_ek_intermediates,
        .roots = p->ek_anchors,
        .n_roots = p->n_ek_anchors,
        .time = p->time,
        .flags = CACHET_CHAIN_DEFAULT,
    };
    if (cachet_x509_verify_chain(&cp, &res) != CACHET_OK) {
        rc = refuse("ek.cert.chain", "the EK certificate does not chain to the EK CA (--ek-ca)",
                    res.error_str[0] ? res.error_str : cachet_err_detail());
        goto out;
    }
    if (tpm_public_parse(t->ek_public.p, t->ek_public.len, &ek) != CACHET_OK ||
        tpm_public_pkey(&ek, &ek_key) != CACHET_OK ||
        cachet_x509_public_key(ek_cert, &cert_key) != CACHET_OK || !same_spki(ek_key, cert_key)) {
        rc = refuse("ek.cert.key", "the EK certificate certifies another key than the TPM's EK",
                    NULL);
        goto out;
    }
    const uint8_t *eku = NULL;
    size_t eku_len = 0;
    if (cachet_x509_extension(ek_cert, "2.5.29.37", &eku, &eku_len) != CACHET_OK ||
        !tpm_eku_has_ek(eku, eku_len)) {
        rc = refuse("ek.cert.profile", "the EK certificate's extendedKeyUsage does not name "
                    "tcg-kp-EKCertificate (2.23.133.8.1)", NULL);
        goto out;
    }
out:
    cachet_chain_result_clear(&res);
    cachet_pkey_free(cert_key);
    cachet_pkey_free(ek_key);
    cachet_x509_free(ek_cert);
    free(der);
    return rc;
}

/* ak.attributes: a restricted signing key that never leaves this TPM. */
static cachet_rc check_ak(const TPMT_PUBLIC *ak)
{
    TPMA_OBJECT need = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                       TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_RESTRICTED |
                       TPMA_OBJECT_SIGN_ENCRYPT;
    if ((ak->objectAttributes & need) != need || (ak->objectAttributes & TPMA_OBJECT_DECRYPT))
        return refuse("ak.attributes", "the AK is not a restricted, fixedTPM signing key", NULL);
    return CACHET_OK;
}

/* ak.activation: MakeCredential of a random secret to the EK for the AK's
 * Name; only this TPM, holding the EK with that AK loaded, can release it. */
static cachet_rc activate(cachet_tpm *t, const uint8_t *ak_name, size_t ak_name_len)
{
    uint8_t secret[ENROLL_SECRET_LEN], got[64];
    size_t got_len = 0;
    uint8_t *ek2b = NULL, *blob = NULL, *enc = NULL;
    size_t ek2b_len = 0, blob_len = 0, enc_len = 0;
    cachet_rc rc = cachet_random(secret, sizeof secret);
    if (rc == CACHET_OK)
        rc = cachet_tpm_ek_public(t, &ek2b, &ek2b_len);
    if (rc == CACHET_OK)
        rc = cachet_tpm_make_credential(ek2b, ek2b_len, ak_name, ak_name_len, secret,
                                        sizeof secret, &blob, &blob_len, &enc, &enc_len);
    if (rc != CACHET_OK) {
        rc = refuse("ak.activation", "the credential cannot be made", cachet_err_detail());
        goto out;
    }
    if (cachet_tpm_activate(t, blob, blob_len, enc, enc_len, got, sizeof got, &got_len) !=
        CACHET_OK) {
        rc = refuse("ak.activation", "TPM2_ActivateCredential refused the credential",
                    cachet_err_detail());
        goto out;
    }
    if (got_len != sizeof secret || cachet_memeq_ct(got, secret, sizeof secret) != 0)
        rc = refuse("ak.activation", "the TPM released another secret than the one made for "
                    "this EK and AK Name", NULL);
out:
    cachet_wipe(secret, sizeof secret);
    cachet_wipe(got, sizeof got);
    free(ek2b);
    free(blob);
    free(enc);
    return rc;
}

cachet_rc cachet_tpm_enroll_ak(cachet_tpm *t, const cachet_tpm_enroll_params *p, char **pem,
                               cachet_x509 **cert)
{
    if (!t || !p || !pem || !p->ca_cert || !p->ca_key || !p->n_ek_anchors || !p->ek_anchors)
        return cachet_err(AT_RC(INVALID_ARG), "AK enrollment: the TPM, an EK CA and the AK CA "
                                              "(certificate and key) are required");
    *pem = NULL;
    if (cert)
        *cert = NULL;
    TPMT_PUBLIC ak;
    cachet_pkey *ak_key = NULL;
    uint8_t name[TPM_MAX_NAME];
    size_t name_len = 0;
    cachet_rc rc = check_ek(t, p);
    if (rc != CACHET_OK)
        return rc;
    if (tpm_public_parse(t->ak_public.p, t->ak_public.len, &ak) != CACHET_OK ||
        tpm_public_pkey(&ak, &ak_key) != CACHET_OK ||
        tpm_public_name(&ak, t->ak_public.p, t->ak_public.len, name, &name_len) != CACHET_OK) {
        rc = refuse("ak.public", "the AK public area is unusable", cachet_err_detail());
        goto out;
    }
    if ((rc = check_ak(&ak)) != CACHET_OK || (rc = activate(t, name, name_len)) != CACHET_OK)
        goto out;
    char hex[2 * TPM_MAX_NAME + 1], cn[64];
    cachet_hex_encode(name + 2, name_len - 2, hex); /* past the nameAlg */
    snprintf(cn, sizeof cn, "cachet-ak %.16s", hex);
    cachet_x509_issue_params ip = {
        .subject_key = ak_key,
        .subject_cn = cn,
        .issuer_key = p->ca_key,
        .issuer_cert = p->ca_cert,
        .not_before = p->time - 60,
        .not_after = p->time + (int64_t)(p->days ? p->days : 365) * 86400,
        .ext_key_usage = "2.23.133.8.3", /* tcg-kp-AIKCertificate */
    };
    if ((rc = cachet_x509_issue(&ip, pem, cert)) != CACHET_OK) {
        char d[384];
        snprintf(d, sizeof d, "%s", cachet_err_detail());
        rc = cachet_err(AT_RC(CRYPTO), "AK enrollment: issuing the certificate: %s", d);
    }
out:
    cachet_pkey_free(ak_key);
    return rc;
}
