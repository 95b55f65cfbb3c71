/* CRLs checked by hand (evidence-formats §0.3): OpenSSL's CRL_CHECK wants a
 * CRL from each certificate's own issuer, but AMD publishes only the ARK's
 * CRL covering the ASK/ASVK, so callers verify the CRL here and look the
 * serial up themselves. */
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "crypto/crypto_int.h"
#include "crypto/ec_int.h"

cachet_rc cachet_crl_parse(const uint8_t *buf, size_t len, cachet_x509_crl **out)
{
    if (!buf || !len || !out)
        return crypto_err(INVALID_ARG, "crl_parse: empty or NULL input");
    if (len > CRYPTO_MAX_OBJECT)
        return crypto_err(LIMIT, "crl_parse: %zu bytes exceed %zu", len, CRYPTO_MAX_OBJECT);
    *out = NULL;
    X509_CRL *crl = NULL;
    if (crypto_looks_pem(buf, len)) {
        BIO *bio = BIO_new_mem_buf(buf, (int)len);
        if (!bio)
            return crypto_ossl(NOMEM, "crl_parse: BIO_new_mem_buf failed");
        crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
        BIO_free(bio);
        if (!crl)
            return crypto_ossl(FORMAT, "crl_parse: no valid X509 CRL block in PEM input");
    } else {
        const uint8_t *p = buf;
        crl = d2i_X509_CRL(NULL, &p, (long)len);
        if (!crl)
            return crypto_ossl(FORMAT, "crl_parse: DER CRL invalid (%zu bytes)", len);
        if ((size_t)(p - buf) != len) {
            X509_CRL_free(crl);
            return crypto_err(FORMAT, "crl_parse: %zu trailing bytes after the CRL",
                              len - (size_t)(p - buf));
        }
    }
    cachet_x509_crl *c = calloc(1, sizeof *c);
    if (!c) {
        X509_CRL_free(crl);
        return crypto_err(NOMEM, "crl_parse: out of memory");
    }
    c->crl = crl;
    *out = c;
    return CACHET_OK;
}

void cachet_crl_free(cachet_x509_crl *crl)
{
    if (!crl)
        return;
    X509_CRL_free(crl->crl);
    free(crl);
}

/* Name match plus signature: a CRL "issued by" a certificate is one its key
 * signed, not merely one that names it. */
static cachet_rc crl_issuer_check(const cachet_x509_crl *crl, const cachet_x509 *issuer)
{
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl->crl), X509_get_subject_name(issuer->x)) != 0)
        return crypto_err(MISMATCH, "crl: issuer name differs from the certificate's subject");
    /* RFC 5280 §4.2.1.3: when keyUsage is present, cRLSign must be set. */
    if ((X509_get_extension_flags(issuer->x) & EXFLAG_KUSAGE) &&
        !(X509_get_key_usage(issuer->x) & KU_CRL_SIGN))
        return crypto_err(CHAIN, "crl: issuer keyUsage lacks cRLSign");
    EVP_PKEY *pk = X509_get0_pubkey(issuer->x);
    if (!pk)
        return crypto_ossl(UNSUPPORTED, "crl: issuer key not usable");
    if (X509_CRL_verify(crl->crl, pk) != 1)
        return crypto_ossl(SIGNATURE, "crl: signature does not verify with the issuer key");
    return CACHET_OK;
}

cachet_rc cachet_crl_verify(const cachet_x509_crl *crl, const cachet_x509 *issuer, int64_t t)
{
    if (!crl || !issuer)
        return crypto_err(INVALID_ARG, "crl_verify: NULL argument");
    cachet_rc rc = crl_issuer_check(crl, issuer);
    if (rc != CACHET_OK)
        return rc;
    /* A CRL with an unhandled critical extension (delta CRL indicator,
     * scoped issuing distribution point...) may not mean what a plain
     * lookup assumes (RFC 5280 §5.2): refuse it. */
    if (X509_CRL_get_ext_by_critical(crl->crl, 1, -1) >= 0) {
        int n = X509_CRL_get_ext_count(crl->crl);
        for (int i = 0; i < n; i++) {
            X509_EXTENSION *e = X509_CRL_get_ext(crl->crl, i);
            int nid = OBJ_obj2nid(X509_EXTENSION_get_object(e));
            if (X509_EXTENSION_get_critical(e) && nid != NID_crl_number &&
                nid != NID_authority_key_identifier)
                return crypto_err(UNSUPPORTED, "crl_verify: critical extension %s not handled",
                                  nid != NID_undef ? OBJ_nid2sn(nid) : "(unknown)");
        }
    }
    int64_t this_update = 0, next_update = 0;
    const ASN1_TIME *nu = X509_CRL_get0_nextUpdate(crl->crl);
    if (!nu)
        return crypto_err(FORMAT, "crl_verify: no nextUpdate (RFC 5280 §5.1.2.5 requires it)");
    if ((rc = crypto_asn1_time(X509_CRL_get0_lastUpdate(crl->crl), &this_update)) != CACHET_OK ||
        (rc = crypto_asn1_time(nu, &next_update)) != CACHET_OK)
        return rc;
    if (t < this_update)
        return crypto_err(EXPIRED, "crl_verify: thisUpdate %lld is after time %lld",
                          (long long)this_update, (long long)t);
    if (t >= next_update)
        return crypto_err(EXPIRED, "crl_verify: nextUpdate %lld is not after time %lld",
                          (long long)next_update, (long long)t);
    return CACHET_OK;
}

bool cachet_crl_issued_by(const cachet_x509_crl *crl, const cachet_x509 *issuer)
{
    if (!crl || !issuer)
        return false;
    bool ok = crl_issuer_check(crl, issuer) == CACHET_OK;
    ERR_clear_error();
    return ok;
}

bool cachet_crl_is_revoked(const cachet_x509_crl *crl, const cachet_x509 *cert)
{
    if (!crl || !cert)
        return false;
    /* Only a CRL from the certificate's issuer speaks about its serial. */
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl->crl), X509_get_issuer_name(cert->x)) != 0)
        return false;
    X509_REVOKED *rev = NULL;
    /* 1 = listed; 2 = listed as removeFromCRL (delta CRLs only): not revoked. */
    int r = X509_CRL_get0_by_serial(crl->crl, &rev,
                                    (ASN1_INTEGER *)X509_get0_serialNumber(cert->x));
    return r == 1;
}
