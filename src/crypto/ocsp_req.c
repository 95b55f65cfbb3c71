/* OCSP requests (RFC 6960 §4.1) for fetching revocation data, and the
 * responder URL of a certificate's Authority Information Access extension
 * (RFC 5280 §4.2.2.1).  The CertID uses SHA-1, which responders (NVIDIA's
 * among them) index by; it only names the certificate, nothing is trusted
 * through it: responses are checked by ocsp.c. */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "crypto/crypto_int.h"

#define OCSP_REQ_MAX_NONCE 32

cachet_rc cachet_ocsp_request(const cachet_x509 *cert, const cachet_x509 *issuer,
                              const uint8_t *nonce, size_t nonce_len, uint8_t **der,
                              size_t *len)
{
    if (!cert || !issuer || !der || !len || (nonce_len && !nonce) ||
        nonce_len > OCSP_REQ_MAX_NONCE)
        return crypto_err(INVALID_ARG, "ocsp_request: bad arguments");
    *der = NULL;
    *len = 0;
    cachet_rc rc = CACHET_OK;
    OCSP_REQUEST *req = OCSP_REQUEST_new();
    OCSP_CERTID *id = req ? OCSP_cert_to_id(EVP_sha1(), cert->x, issuer->x) : NULL;
    if (!req || !id) {
        rc = crypto_ossl(FORMAT, "ocsp_request: cannot build the CertID");
        goto out;
    }
    if (!OCSP_request_add0_id(req, id)) {
        rc = crypto_ossl(NOMEM, "ocsp_request: cannot add the CertID");
        goto out;
    }
    id = NULL; /* owned by req */
    if (nonce_len &&
        !OCSP_request_add1_nonce(req, (unsigned char *)(uintptr_t)nonce, (int)nonce_len)) {
        rc = crypto_ossl(NOMEM, "ocsp_request: cannot add the nonce");
        goto out;
    }
    unsigned char *p = NULL;
    int n = i2d_OCSP_REQUEST(req, &p);
    if (n <= 0) {
        rc = crypto_ossl(FORMAT, "ocsp_request: cannot encode");
        goto out;
    }
    *der = malloc((size_t)n);
    if (!*der) {
        OPENSSL_free(p);
        rc = crypto_err(NOMEM, "ocsp_request: out of memory");
        goto out;
    }
    memcpy(*der, p, (size_t)n);
    *len = (size_t)n;
    OPENSSL_free(p);
out:
    OCSP_CERTID_free(id);
    OCSP_REQUEST_free(req);
    return rc;
}

cachet_rc cachet_x509_ocsp_url(const cachet_x509 *cert, char *buf, size_t cap)
{
    if (!cert || !buf || !cap)
        return crypto_err(INVALID_ARG, "x509_ocsp_url: bad arguments");
    buf[0] = 0;
    STACK_OF(OPENSSL_STRING) *urls = X509_get1_ocsp(cert->x);
    cachet_rc rc = crypto_err(NOT_FOUND, "x509_ocsp_url: no OCSP responder in AIA");
    for (int i = 0; urls && i < sk_OPENSSL_STRING_num(urls); i++) {
        const char *u = sk_OPENSSL_STRING_value(urls, i);
        if (!u || strncmp(u, "http", 4) != 0)
            continue;
        if (strlen(u) >= cap) {
            rc = crypto_err(LIMIT, "x509_ocsp_url: URL over %zu bytes", cap);
            continue;
        }
        memcpy(buf, u, strlen(u) + 1);
        rc = CACHET_OK;
        break;
    }
    X509_email_free(urls);
    ERR_clear_error();
    return rc;
}
