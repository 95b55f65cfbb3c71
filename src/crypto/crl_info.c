/* CRL facts for callers that pick CRLs before verifying them (Intel DCAP
 * collateral): the issuer name alone, and the thisUpdate/nextUpdate window. */
#include <openssl/x509.h>

#include "crypto/crypto_int.h"

bool cachet_crl_names_issuer(const cachet_x509_crl *crl, const cachet_x509 *issuer)
{
    if (!crl || !issuer)
        return false;
    return X509_NAME_cmp(X509_CRL_get_issuer(crl->crl), X509_get_subject_name(issuer->x)) == 0;
}

cachet_rc cachet_crl_validity(const cachet_x509_crl *crl, int64_t *this_update,
                              int64_t *next_update)
{
    if (!crl || !this_update || !next_update)
        return crypto_err(INVALID_ARG, "crl_validity: NULL argument");
    const ASN1_TIME *nu = X509_CRL_get0_nextUpdate(crl->crl);
    if (!nu)
        return crypto_err(FORMAT, "crl_validity: no nextUpdate");
    cachet_rc rc = crypto_asn1_time(X509_CRL_get0_lastUpdate(crl->crl), this_update);
    if (rc == CACHET_OK)
        rc = crypto_asn1_time(nu, next_update);
    return rc;
}
