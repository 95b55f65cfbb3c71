/* Self-issued certificates (cachet serve's TLS certificate, docs/serve.md
 * §4): an EC key signs its own certificate, with caller-given extensions
 * carried verbatim (e.g. the RA-TLS evidence extension 2.23.133.5.4.9). */
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "crypto/crypto_int.h"

static cachet_rc add_ext(X509 *x, const cachet_x509_ext *e)
{
    ASN1_OBJECT *obj = OBJ_txt2obj(e->oid, 1);
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    X509_EXTENSION *ext = NULL;
    cachet_rc rc = CACHET_OK;
    if (!obj || !os || e->len > (size_t)INT32_MAX ||
        !ASN1_OCTET_STRING_set(os, e->value, (int)e->len))
        rc = crypto_ossl(INVALID_ARG, "x509_self_signed: extension %s", e->oid);
    else if (!(ext = X509_EXTENSION_create_by_OBJ(NULL, obj, e->critical ? 1 : 0, os)) ||
             !X509_add_ext(x, ext, -1))
        rc = crypto_ossl(CRYPTO, "x509_self_signed: cannot add extension %s", e->oid);
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(obj);
    return rc;
}

static cachet_rc add_v3(X509 *x, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    cachet_rc rc = CACHET_OK;
    if (!ext || !X509_add_ext(x, ext, -1))
        rc = crypto_ossl(CRYPTO, "x509_self_signed: cannot add %s", OBJ_nid2sn(nid));
    X509_EXTENSION_free(ext);
    return rc;
}

cachet_rc cachet_x509_self_signed(const cachet_pkey *key, const char *cn, int64_t not_before,
                                  int64_t not_after, const cachet_x509_ext *exts, size_t n_exts,
                                  char **pem, cachet_x509 **cert)
{
    if (!key || !key->pkey || !cn || !pem || not_after <= not_before)
        return crypto_err(INVALID_ARG, "x509_self_signed: bad argument");
    *pem = NULL;
    if (cert)
        *cert = NULL;
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    cachet_rc rc = CACHET_OK;
    uint8_t serial[16];
    BIGNUM *bn = NULL;
    BIO *bio = NULL;
    if (!x || !name) {
        rc = crypto_err(NOMEM, "x509_self_signed: out of memory");
        goto out;
    }
    if ((rc = cachet_random(serial, sizeof serial)) != CACHET_OK)
        goto out;
    serial[0] &= 0x7f; /* positive, at most 20 octets */
    serial[0] |= 0x40;
    bn = BN_bin2bn(serial, sizeof serial, NULL);
    if (!bn || !X509_set_version(x, 2) || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                    0) ||
        !X509_set_subject_name(x, name) || !X509_set_issuer_name(x, name) ||
        !ASN1_TIME_set(X509_getm_notBefore(x), (time_t)not_before) ||
        !ASN1_TIME_set(X509_getm_notAfter(x), (time_t)not_after) ||
        !X509_set_pubkey(x, key->pkey)) {
        rc = crypto_ossl(CRYPTO, "x509_self_signed: cannot fill the certificate");
        goto out;
    }
    if ((rc = add_v3(x, NID_basic_constraints, "critical,CA:FALSE")) != CACHET_OK ||
        (rc = add_v3(x, NID_key_usage, "critical,digitalSignature")) != CACHET_OK ||
        (rc = add_v3(x, NID_ext_key_usage, "serverAuth")) != CACHET_OK ||
        (rc = add_v3(x, NID_subject_key_identifier, "hash")) != CACHET_OK)
        goto out;
    for (size_t i = 0; i < n_exts; i++)
        if ((rc = add_ext(x, &exts[i])) != CACHET_OK)
            goto out;
    if (X509_sign(x, key->pkey, EVP_sha256()) <= 0) {
        rc = crypto_ossl(CRYPTO, "x509_self_signed: signing failed");
        goto out;
    }
    bio = BIO_new(BIO_s_mem());
    char *data = NULL;
    long len;
    if (!bio || !PEM_write_bio_X509(bio, x) || (len = BIO_get_mem_data(bio, &data)) <= 0) {
        rc = crypto_ossl(CRYPTO, "x509_self_signed: PEM encoding failed");
        goto out;
    }
    *pem = malloc((size_t)len + 1);
    if (!*pem) {
        rc = crypto_err(NOMEM, "x509_self_signed: out of memory");
        goto out;
    }
    memcpy(*pem, data, (size_t)len);
    (*pem)[len] = 0;
    if (cert) {
        rc = cachet_x509_parse((const uint8_t *)*pem, (size_t)len, cert);
        if (rc != CACHET_OK) {
            free(*pem);
            *pem = NULL;
        }
    }
out:
    BIO_free(bio);
    BN_free(bn);
    X509_NAME_free(name);
    X509_free(x);
    return rc;
}
