/* Certificates: parsing (DER/PEM, bundles), ownership, exact DER and
 * fingerprints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "crypto/crypto_int.h"
#include "crypto/ec_int.h"

/* Bundles larger than this are not certificate chains. */
#define X509_MAX_BUNDLE 64

cachet_rc crypto_x509_wrap(X509 *x, cachet_x509 **out)
{
    cachet_x509 *c = calloc(1, sizeof *c);
    int n = i2d_X509(x, NULL);
    if (!c || n <= 0 || !(c->der = malloc((size_t)n))) {
        free(c);
        X509_free(x);
        return crypto_ossl(NOMEM, "x509: cannot keep the certificate's DER");
    }
    uint8_t *p = c->der;
    if (i2d_X509(x, &p) != n) {
        free(c->der);
        free(c);
        X509_free(x);
        return crypto_ossl(CRYPTO, "x509: i2d_X509 failed");
    }
    c->x = x;
    c->der_len = (size_t)n;
    atomic_init(&c->refs, 1);
    *out = c;
    return CACHET_OK;
}

/* One DER certificate, which must span the whole buffer. */
static cachet_rc parse_der(const uint8_t *buf, size_t len, cachet_x509 **out)
{
    const uint8_t *p = buf;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (!x)
        return crypto_ossl(FORMAT, "x509: DER certificate invalid (%zu bytes)", len);
    if ((size_t)(p - buf) != len) {
        X509_free(x);
        return crypto_err(FORMAT, "x509: %zu trailing bytes after the DER certificate",
                          len - (size_t)(p - buf));
    }
    cachet_rc rc = crypto_x509_wrap(x, out);
    /* The kept DER must be the received bytes: fingerprints depend on it. */
    if (rc == CACHET_OK && ((*out)->der_len != len || memcmp((*out)->der, buf, len) != 0)) {
        cachet_x509_free(*out);
        *out = NULL;
        return crypto_err(FORMAT, "x509: certificate is not DER (re-encoding differs)");
    }
    return rc;
}

/* Next CERTIFICATE block from bio: CACHET_OK with *out, CACHET_OK with
 * *out == NULL at the clean end, or an error for a bad block. */
static cachet_rc pem_next(BIO *bio, cachet_x509 **out)
{
    *out = NULL;
    ERR_clear_error();
    X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    if (!x) {
        unsigned long e = ERR_peek_last_error();
        if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
            ERR_clear_error();
            return CACHET_OK;
        }
        return crypto_ossl(FORMAT, "x509: bad PEM certificate block");
    }
    /* Reparse the DER so PEM and DER input get the same exactness checks. */
    uint8_t *der = NULL;
    int n = i2d_X509(x, &der);
    X509_free(x);
    if (n <= 0)
        return crypto_ossl(FORMAT, "x509: PEM certificate does not re-encode");
    cachet_rc rc = parse_der(der, (size_t)n, out);
    OPENSSL_free(der);
    return rc;
}

static cachet_rc parse_args(const uint8_t *buf, size_t len, const void *out, const char *what)
{
    if (!buf || !len || !out)
        return crypto_err(INVALID_ARG, "%s: empty or NULL input", what);
    if (len > CRYPTO_MAX_OBJECT)
        return crypto_err(LIMIT, "%s: %zu bytes exceed %zu", what, len, CRYPTO_MAX_OBJECT);
    return CACHET_OK;
}

cachet_rc cachet_x509_parse(const uint8_t *buf, size_t len, cachet_x509 **out)
{
    cachet_rc rc = parse_args(buf, len, out, "x509_parse");
    if (rc != CACHET_OK)
        return rc;
    *out = NULL;
    if (!crypto_looks_pem(buf, len))
        return parse_der(buf, len, out);
    BIO *bio = BIO_new_mem_buf(buf, (int)len);
    if (!bio)
        return crypto_ossl(NOMEM, "x509_parse: BIO_new_mem_buf failed");
    cachet_x509 *c = NULL, *extra = NULL;
    rc = pem_next(bio, &c);
    if (rc == CACHET_OK && !c)
        rc = crypto_err(NOT_FOUND, "x509_parse: no CERTIFICATE block in PEM input");
    /* "One certificate" means one: a bundle here is a caller mistake that
     * would silently drop the rest. */
    if (rc == CACHET_OK && (rc = pem_next(bio, &extra)) == CACHET_OK && extra)
        rc = crypto_err(FORMAT, "x509_parse: more than one certificate (use x509_parse_all)");
    BIO_free(bio);
    cachet_x509_free(extra);
    if (rc != CACHET_OK) {
        cachet_x509_free(c);
        return rc;
    }
    *out = c;
    return CACHET_OK;
}

cachet_rc cachet_x509_parse_all(const uint8_t *buf, size_t len, cachet_x509 ***out, size_t *n)
{
    cachet_rc rc = parse_args(buf, len, out, "x509_parse_all");
    if (rc != CACHET_OK || !n)
        return rc != CACHET_OK ? rc : crypto_err(INVALID_ARG, "x509_parse_all: NULL count");
    *out = NULL;
    *n = 0;
    cachet_x509 **certs = calloc(X509_MAX_BUNDLE, sizeof *certs);
    if (!certs)
        return crypto_err(NOMEM, "x509_parse_all: out of memory");
    size_t count = 0;
    if (!crypto_looks_pem(buf, len)) {
        rc = parse_der(buf, len, &certs[0]);
        count = rc == CACHET_OK;
    } else {
        BIO *bio = BIO_new_mem_buf(buf, (int)len);
        if (!bio)
            rc = crypto_ossl(NOMEM, "x509_parse_all: BIO_new_mem_buf failed");
        while (rc == CACHET_OK) {
            cachet_x509 *c = NULL;
            rc = pem_next(bio, &c);
            if (rc != CACHET_OK || !c)
                break;
            if (count == X509_MAX_BUNDLE) {
                cachet_x509_free(c);
                rc = crypto_err(LIMIT, "x509_parse_all: more than %d certificates",
                                X509_MAX_BUNDLE);
                break;
            }
            certs[count++] = c;
        }
        BIO_free(bio);
        if (rc != CACHET_OK) {
            char why[256]; /* the detail buffer cannot be both source and target */
            snprintf(why, sizeof why, "%s", cachet_err_detail());
            rc = cachet_err(rc, "x509_parse_all: certificate %zu: %s", count + 1, why);
        }
    }
    if (rc == CACHET_OK && count == 0)
        rc = crypto_err(NOT_FOUND, "x509_parse_all: no certificate found");
    if (rc != CACHET_OK) {
        cachet_x509_free_all(certs, count);
        return rc;
    }
    *out = certs;
    *n = count;
    return CACHET_OK;
}

void cachet_x509_free(cachet_x509 *c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    X509_free(c->x);
    free(c->der);
    free(c);
}

void cachet_x509_free_all(cachet_x509 **certs, size_t n)
{
    if (!certs)
        return;
    for (size_t i = 0; i < n; i++)
        cachet_x509_free(certs[i]);
    free(certs);
}

cachet_x509 *cachet_x509_ref(cachet_x509 *c)
{
    if (c)
        atomic_fetch_add(&c->refs, 1);
    return c;
}

cachet_rc cachet_x509_der(const cachet_x509 *c, const uint8_t **der, size_t *len)
{
    if (!c || !der || !len)
        return crypto_err(INVALID_ARG, "x509_der: NULL argument");
    *der = c->der;
    *len = c->der_len;
    return CACHET_OK;
}

cachet_rc cachet_x509_fingerprint(const cachet_x509 *c, uint8_t out[CACHET_SHA256_LEN])
{
    if (!c || !out)
        return crypto_err(INVALID_ARG, "x509_fingerprint: NULL argument");
    return cachet_sha256(c->der, c->der_len, out);
}

cachet_rc cachet_x509_spki_fingerprint(const cachet_x509 *c, uint8_t out[CACHET_SHA256_LEN])
{
    if (!c || !out)
        return crypto_err(INVALID_ARG, "x509_spki_fingerprint: NULL argument");
    uint8_t *spki = NULL;
    int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(c->x), &spki);
    if (n <= 0)
        return crypto_ossl(CRYPTO, "x509_spki_fingerprint: SPKI does not encode");
    cachet_rc rc = cachet_sha256(spki, (size_t)n, out);
    OPENSSL_free(spki);
    return rc;
}

cachet_rc cachet_x509_public_key(const cachet_x509 *c, cachet_pkey **out)
{
    if (!c || !out)
        return crypto_err(INVALID_ARG, "x509_public_key: NULL argument");
    *out = NULL;
    EVP_PKEY *pkey = X509_get_pubkey(c->x);
    if (!pkey)
        return crypto_ossl(UNSUPPORTED, "x509_public_key: key not usable");
    cachet_rc rc = crypto_pkey_acceptable(pkey, "x509_public_key");
    if (rc != CACHET_OK) {
        EVP_PKEY_free(pkey);
        return rc;
    }
    return crypto_pkey_wrap(pkey, out);
}
