/* The AK certificate a TPM attester carries in its bundles (ak_cert,
 * ak_chain; docs/evidence/tpm.md, mechanism 1): loaded once at open and
 * refused unless it certifies this TPM's AK. */
#include <stdlib.h>
#include <string.h>

#include "attester/tpm/tpm_int.h"
#include "cachet/fileio.h"

void tpm_free_ak_cert(cachet_tpm *t)
{
    tpm_blob_free(&t->ak_cert);
    for (size_t i = 0; i < t->n_ak_chain; i++)
        tpm_blob_free(&t->ak_chain[i]);
    t->n_ak_chain = 0;
}

/* DER SubjectPublicKeyInfo of a certificate's key equals that of key. */
static bool cert_has_key(const cachet_x509 *c, const cachet_pkey *key)
{
    cachet_pkey *ck = NULL;
    uint8_t *a = NULL, *b = NULL;
    size_t al = 0, bl = 0;
    bool eq = cachet_x509_public_key(c, &ck) == CACHET_OK &&
              cachet_pkey_spki_der(ck, &a, &al) == CACHET_OK &&
              cachet_pkey_spki_der(key, &b, &bl) == CACHET_OK && al == bl &&
              memcmp(a, b, al) == 0;
    free(a);
    free(b);
    cachet_pkey_free(ck);
    return eq;
}

cachet_rc tpm_load_ak_cert(cachet_tpm *t, const char *path)
{
    uint8_t *pem = NULL;
    size_t len = 0;
    cachet_x509 **certs = NULL;
    size_t n = 0;
    cachet_pkey *ak = NULL;
    TPMT_PUBLIC pub;
    cachet_rc rc = cachet_file_read(path, 1u << 20, &pem, &len);
    if (rc != CACHET_OK) {
        rc = cachet_err(AT_RC(IO), "tpm: cannot read the AK certificate %s", path);
        goto out;
    }
    if (cachet_x509_parse_all(pem, len, &certs, &n) != CACHET_OK || n == 0) {
        rc = cachet_err(AT_RC(FORMAT), "tpm: AK certificate %s: no PEM certificate", path);
        goto out;
    }
    if (n > 1 + TPM_MAX_CHAIN) {
        rc = cachet_err(AT_RC(LIMIT), "tpm: AK certificate %s: %zu certificates (at most %u)",
                        path, n, 1 + TPM_MAX_CHAIN);
        goto out;
    }
    if (tpm_public_parse(t->ak_public.p, t->ak_public.len, &pub) != CACHET_OK ||
        tpm_public_pkey(&pub, &ak) != CACHET_OK) {
        rc = cachet_err(AT_RC(STATE), "tpm: the AK public area is unusable");
        goto out;
    }
    if (!cert_has_key(certs[0], ak)) {
        rc = cachet_err(AT_RC(POLICY), "tpm: AK certificate %s certifies another key than this "
                        "TPM's AK (enrolled on another TPM, or for the other AK type?)", path);
        goto out;
    }
    for (size_t i = 0; i < n && rc == CACHET_OK; i++) {
        const uint8_t *der = NULL;
        size_t dl = 0;
        tpm_blob *dst = i == 0 ? &t->ak_cert : &t->ak_chain[t->n_ak_chain++];
        if ((rc = cachet_x509_der(certs[i], &der, &dl)) == CACHET_OK)
            rc = tpm_blob_set(dst, der, dl);
    }
out:
    if (rc != CACHET_OK)
        tpm_free_ak_cert(t);
    cachet_pkey_free(ak);
    cachet_x509_free_all(certs, n);
    free(pem);
    return rc;
}
