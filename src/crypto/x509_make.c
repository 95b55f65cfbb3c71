/* Certificates cachet makes: self-issued ones (cachet serve's TLS
 * certificate, docs/serve.md §4: an EC key signs its own certificate, with
 * caller-given extensions carried verbatim, e.g. the RA-TLS evidence
 * extension 2.23.133.5.4.9) and ones a CA key issues (TPM AK certificates,
 * cachet tpm-enroll; a CA certificate for tests and demos). */
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
        rc = crypto_ossl(INVALID_ARG, "x509: extension %s", e->oid);
    else if (!(ext = X509_EXTENSION_create_by_OBJ(NULL, obj, e->critical ? 1 : 0, os)) ||
             !X509_add_ext(x, ext, -1))
        rc = crypto_ossl(CRYPTO, "x509: cannot add extension %s", e->oid);
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(obj);
    return rc;
}

static cachet_rc add_v3(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    cachet_rc rc = CACHET_OK;
    if (!ext || !X509_add_ext(x, ext, -1))
        rc = crypto_ossl(CRYPTO, "x509: cannot add %s", OBJ_nid2sn(nid));
    X509_EXTENSION_free(ext);
    return rc;
}

/* What one certificate gets: the common builder of self-issued TLS
 * certificates and issued ones. */
typedef struct cert_spec {
    EVP_PKEY *subject;           /* the key certified */
    const char *cn;
    EVP_PKEY *signer;            /* the key that signs */
    X509 *issuer;                /* NULL: self-issued */
    int64_t not_before, not_after;
    const char *basic, *key_usage, *eku; /* OpenSSL v3 conf values; eku may be NULL */
    bool akid;                   /* authorityKeyIdentifier from the issuer */
    const cachet_x509_ext *exts;
    size_t n_exts;
} cert_spec;

static cachet_rc build(const cert_spec *sp, char **pem, cachet_x509 **cert)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    cachet_rc rc = CACHET_OK;
    uint8_t serial[16];
    BIGNUM *bn = NULL;
    BIO *bio = NULL;
    if (!x || !name) {
        rc = crypto_err(NOMEM, "x509: out of memory");
        goto out;
    }
    if ((rc = cachet_random(serial, sizeof serial)) != CACHET_OK)
        goto out;
    serial[0] &= 0x7f; /* positive, at most 20 octets */
    serial[0] |= 0x40;
    bn = BN_bin2bn(serial, sizeof serial, NULL);
    if (!bn || !X509_set_version(x, 2) || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)sp->cn, -1,
                                    -1, 0) ||
        !X509_set_subject_name(x, name) ||
        !X509_set_issuer_name(x, sp->issuer ? X509_get_subject_name(sp->issuer) : name) ||
        !ASN1_TIME_set(X509_getm_notBefore(x), (time_t)sp->not_before) ||
        !ASN1_TIME_set(X509_getm_notAfter(x), (time_t)sp->not_after) ||
        !X509_set_pubkey(x, sp->subject)) {
        rc = crypto_ossl(CRYPTO, "x509: cannot fill the certificate");
        goto out;
    }
    X509 *iss = sp->issuer ? sp->issuer : x;
    if ((rc = add_v3(x, iss, NID_basic_constraints, sp->basic)) != CACHET_OK ||
        (rc = add_v3(x, iss, NID_key_usage, sp->key_usage)) != CACHET_OK ||
        (sp->eku && (rc = add_v3(x, iss, NID_ext_key_usage, sp->eku)) != CACHET_OK) ||
        (rc = add_v3(x, iss, NID_subject_key_identifier, "hash")) != CACHET_OK ||
        (sp->akid && (rc = add_v3(x, iss, NID_authority_key_identifier, "keyid:always")) !=
                         CACHET_OK))
        goto out;
    for (size_t i = 0; i < sp->n_exts; i++)
        if ((rc = add_ext(x, &sp->exts[i])) != CACHET_OK)
            goto out;
    int id = EVP_PKEY_get_base_id(sp->signer);
    const EVP_MD *md = id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448 ? NULL : EVP_sha256();
    if (X509_sign(x, sp->signer, md) <= 0) {
        rc = crypto_ossl(CRYPTO, "x509: signing failed");
        goto out;
    }
    bio = BIO_new(BIO_s_mem());
    char *data = NULL;
    long len;
    if (!bio || !PEM_write_bio_X509(bio, x) || (len = BIO_get_mem_data(bio, &data)) <= 0) {
        rc = crypto_ossl(CRYPTO, "x509: PEM encoding failed");
        goto out;
    }
    *pem = malloc((size_t)len + 1);
    if (!*pem) {
        rc = crypto_err(NOMEM, "x509: out of memory");
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

cachet_rc cachet_x509_self_signed(const cachet_pkey *key, const char *cn, int64_t not_before,
                                  int64_t not_after, const cachet_x509_ext *exts, size_t n_exts,
                                  char **pem, cachet_x509 **cert)
{
    if (!key || !key->pkey || !cn || !pem || not_after <= not_before)
        return crypto_err(INVALID_ARG, "x509_self_signed: bad argument");
    *pem = NULL;
    if (cert)
        *cert = NULL;
    cert_spec sp = {.subject = key->pkey, .cn = cn, .signer = key->pkey,
                    .not_before = not_before, .not_after = not_after,
                    .basic = "critical,CA:FALSE", .key_usage = "critical,digitalSignature",
                    .eku = "serverAuth", .exts = exts, .n_exts = n_exts};
    return build(&sp, pem, cert);
}

cachet_rc cachet_x509_issue(const cachet_x509_issue_params *p, char **pem, cachet_x509 **cert)
{
    if (!p || !pem || !p->subject_key || !p->subject_key->pkey || !p->subject_cn ||
        !p->issuer_key || !p->issuer_key->pkey || p->not_after <= p->not_before)
        return crypto_err(INVALID_ARG, "x509_issue: bad argument");
    *pem = NULL;
    if (cert)
        *cert = NULL;
    int64_t not_before = p->not_before, not_after = p->not_after;
    if (p->issuer_cert) {
        X509 *ix = p->issuer_cert->x;
        /* the issuer's key must be the one given, and it must be a CA that may sign
         * certificates */
        if (X509_check_private_key(ix, p->issuer_key->pkey) != 1)
            return crypto_ossl(MISMATCH, "x509_issue: the issuer key is not the issuer "
                                         "certificate's key");
        uint32_t ku = 0;
        bool ku_present = false;
        if (!cachet_x509_is_ca(p->issuer_cert) ||
            cachet_x509_key_usage(p->issuer_cert, &ku, &ku_present) != CACHET_OK ||
            (ku_present && !(ku & CACHET_KU_KEY_CERT_SIGN)))
            return crypto_err(POLICY, "x509_issue: the issuer certificate is not a CA allowed "
                                      "to sign certificates (basicConstraints CA:TRUE, "
                                      "keyUsage keyCertSign)");
        int64_t inb = 0, ina = 0;
        if (cachet_x509_validity(p->issuer_cert, &inb, &ina) != CACHET_OK)
            return crypto_err(FORMAT, "x509_issue: the issuer certificate's validity");
        /* never reach outside the issuer's validity */
        if (not_before < inb)
            not_before = inb;
        if (not_after > ina)
            not_after = ina;
        if (not_before >= not_after)
            return crypto_err(EXPIRED, "x509_issue: the issuer certificate is not valid in the "
                                       "new certificate's validity period");
    } else if (EVP_PKEY_eq(p->subject_key->pkey, p->issuer_key->pkey) != 1) {
        return crypto_err(INVALID_ARG, "x509_issue: a self-issued certificate is signed by its "
                                       "own key");
    }
    cert_spec sp = {.subject = p->subject_key->pkey, .cn = p->subject_cn,
                    .signer = p->issuer_key->pkey,
                    .issuer = p->issuer_cert ? p->issuer_cert->x : NULL,
                    .not_before = not_before, .not_after = not_after,
                    .basic = p->ca ? "critical,CA:TRUE" : "critical,CA:FALSE",
                    .key_usage = p->ca ? "critical,keyCertSign,cRLSign"
                                       : "critical,digitalSignature",
                    .eku = p->ext_key_usage, .akid = p->issuer_cert != NULL,
                    .exts = p->exts, .n_exts = p->n_exts};
    return build(&sp, pem, cert);
}
