/* testpki: see testpki.h.  Test-only code: it may call OpenSSL directly. */
#include "testpki.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

struct testpki_cert {
    X509 *x;
    EVP_PKEY *key;
    uint8_t *der;
    size_t der_len;
};

static void *fail(const char *what)
{
    fprintf(stderr, "testpki: %s failed\n", what);
    ERR_print_errors_fp(stderr);
    return NULL;
}

static const EVP_MD *md_of(cachet_hash_alg h)
{
    switch (h) {
    case CACHET_HASH_SHA384: return EVP_sha384();
    case CACHET_HASH_SHA512: return EVP_sha512();
    default: return EVP_sha256();
    }
}

static EVP_PKEY *new_key(const testpki_cert_opts *o)
{
    switch (o->key) {
    case TESTPKI_KEY_P384: return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    case TESTPKI_KEY_RSA:
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)(o->rsa_bits ? o->rsa_bits : 2048));
    default: return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    }
}

/* A signing context for issuer's key with the requested hash and padding. */
static EVP_MD_CTX *sign_ctx(EVP_PKEY *key, cachet_hash_alg h, bool pss)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *p = NULL;
    if (!m || EVP_DigestSignInit(m, &p, md_of(h), NULL, key) != 1)
        goto bad;
    if (pss && (EVP_PKEY_CTX_set_rsa_padding(p, RSA_PKCS1_PSS_PADDING) != 1 ||
                EVP_PKEY_CTX_set_rsa_pss_saltlen(p, RSA_PSS_SALTLEN_DIGEST) != 1 ||
                EVP_PKEY_CTX_set_rsa_mgf1_md(p, md_of(h)) != 1))
        goto bad;
    return m;
bad:
    EVP_MD_CTX_free(m);
    return fail("signing context");
}

static int add_conf_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    int ok = e && X509_add_ext(x, e, -1) == 1;
    X509_EXTENSION_free(e);
    return ok;
}

static int add_raw_ext(X509 *x, const testpki_ext *t)
{
    ASN1_OBJECT *obj = OBJ_txt2obj(t->oid, 1);
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    X509_EXTENSION *e = NULL;
    int ok = obj && os && ASN1_OCTET_STRING_set(os, t->value, (int)t->len) == 1 &&
             (e = X509_EXTENSION_create_by_OBJ(NULL, obj, t->critical, os)) &&
             X509_add_ext(x, e, -1) == 1;
    X509_EXTENSION_free(e);
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(obj);
    return ok;
}

static int set_serial(X509 *x, const testpki_cert_opts *o)
{
    uint8_t rnd[8];
    const uint8_t *s = o->serial;
    size_t n = o->serial_len;
    if (!s) {
        if (RAND_bytes(rnd, sizeof rnd) != 1)
            return 0;
        rnd[0] = (uint8_t)((rnd[0] & 0x7f) | 0x01); /* positive, 8 bytes */
        s = rnd;
        n = sizeof rnd;
    }
    BIGNUM *bn = BN_bin2bn(s, (int)n, NULL);
    ASN1_INTEGER *ai = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
    int ok = ai && X509_set_serialNumber(x, ai) == 1;
    ASN1_INTEGER_free(ai);
    BN_free(bn);
    return ok;
}

static int set_name(X509 *x, const testpki_cert_opts *o)
{
    X509_NAME *name = X509_get_subject_name(x);
    const char *cn = o->cn ? o->cn : "cachet test";
    if (o->org && X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                             (const unsigned char *)o->org, -1, -1, 0) != 1)
        return 0;
    return X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
                                      -1, 0) == 1;
}

static int add_standard_exts(X509 *x, X509 *issuer_x, const testpki_cert_opts *o)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer_x ? issuer_x : x, x, NULL, NULL, 0);
    char bc[64];
    if (o->ca) {
        if (o->has_path_len)
            snprintf(bc, sizeof bc, "critical,CA:TRUE,pathlen:%d", o->path_len);
        else
            snprintf(bc, sizeof bc, "critical,CA:TRUE");
        if (!add_conf_ext(x, &ctx, NID_basic_constraints, bc))
            return 0;
    }
    if (!o->no_key_usage &&
        !add_conf_ext(x, &ctx, NID_key_usage,
                      o->ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature"))
        return 0;
    if (!o->no_skid && !add_conf_ext(x, &ctx, NID_subject_key_identifier, "hash"))
        return 0;
    /* A self-signed root's AKID names its own SKID; keyid (not :always)
     * quietly omits it when the issuer has no SKID. */
    if (!o->no_akid && !add_conf_ext(x, &ctx, NID_authority_key_identifier, "keyid"))
        return 0;
    for (size_t i = 0; i < o->n_exts; i++)
        if (!add_raw_ext(x, &o->exts[i]))
            return 0;
    return 1;
}

/* Encode x (flipping a signature bit on request) and reparse, so the
 * stored X509 and DER are exactly what a verifier receives. */
static int finish(testpki_cert *c, bool corrupt)
{
    uint8_t *der = NULL;
    int n = i2d_X509(c->x, &der);
    if (n <= 0)
        return 0;
    if (corrupt)
        der[n - 1] ^= 0x01; /* the signature BIT STRING is last */
    const uint8_t *p = der;
    X509 *x = d2i_X509(NULL, &p, n);
    c->der = malloc((size_t)n);
    if (!x || !c->der) {
        X509_free(x);
        OPENSSL_free(der);
        return 0;
    }
    memcpy(c->der, der, (size_t)n);
    c->der_len = (size_t)n;
    OPENSSL_free(der);
    X509_free(c->x);
    c->x = x;
    return 1;
}

testpki_cert *testpki_mint(const testpki_cert_opts *opts, const testpki_cert *issuer)
{
    static const testpki_cert_opts defaults;
    const testpki_cert_opts *o = opts ? opts : &defaults;
    testpki_cert *c = calloc(1, sizeof *c);
    if (!c)
        return fail("calloc");
    if (o->reuse_key) {
        c->key = o->reuse_key->key;
        EVP_PKEY_up_ref(c->key);
    } else {
        c->key = new_key(o);
    }
    c->x = X509_new();
    int64_t now = (int64_t)time(NULL);
    int64_t nb = o->not_before, na = o->not_after;
    if (!nb && !na) {
        nb = now - 3600;
        na = now + 30 * 86400;
    }
    EVP_PKEY *signer = issuer ? issuer->key : c->key;
    EVP_MD_CTX *m = NULL;
    if (!c->key || !c->x || X509_set_version(c->x, 2) != 1 || !set_serial(c->x, o) ||
        !set_name(c->x, o) ||
        X509_set_issuer_name(c->x, X509_get_subject_name(issuer ? issuer->x : c->x)) != 1 ||
        !ASN1_TIME_set(X509_getm_notBefore(c->x), (time_t)nb) ||
        !ASN1_TIME_set(X509_getm_notAfter(c->x), (time_t)na) ||
        X509_set_pubkey(c->x, c->key) != 1 ||
        !add_standard_exts(c->x, issuer ? issuer->x : NULL, o) ||
        !(m = sign_ctx(signer, o->sig_hash, o->sign_pss)) || X509_sign_ctx(c->x, m) <= 0 ||
        !finish(c, o->corrupt_signature)) {
        EVP_MD_CTX_free(m);
        testpki_free(c);
        return fail("certificate mint");
    }
    EVP_MD_CTX_free(m);
    return c;
}

void testpki_free(testpki_cert *c)
{
    if (!c)
        return;
    X509_free(c->x);
    EVP_PKEY_free(c->key);
    free(c->der);
    free(c);
}

const uint8_t *testpki_der(const testpki_cert *c, size_t *len)
{
    *len = c->der_len;
    return c->der;
}

/* Drain a memory BIO into a malloc'd NUL-terminated string. */
static char *bio_string(BIO *bio)
{
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s) {
        memcpy(s, data, (size_t)n);
        s[n] = '\0';
    }
    BIO_free(bio);
    return s;
}

char *testpki_bundle_pem(const testpki_cert *const *certs, size_t n)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio)
        return fail("BIO_new");
    for (size_t i = 0; i < n; i++)
        if (PEM_write_bio_X509(bio, certs[i]->x) != 1) {
            BIO_free(bio);
            return fail("PEM_write_bio_X509");
        }
    return bio_string(bio);
}

char *testpki_pem(const testpki_cert *c)
{
    return testpki_bundle_pem(&c, 1);
}

cachet_x509 *testpki_x509(const testpki_cert *c)
{
    cachet_x509 *x = NULL;
    if (cachet_x509_parse(c->der, c->der_len, &x) != CACHET_OK) {
        fprintf(stderr, "testpki: cachet_x509_parse: %s\n", cachet_err_detail());
        return NULL;
    }
    return x;
}

char *testpki_key_pem(const testpki_cert *c)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio || PEM_write_bio_PrivateKey(bio, c->key, NULL, NULL, 0, NULL, NULL) != 1) {
        BIO_free(bio);
        return fail("PEM_write_bio_PrivateKey");
    }
    return bio_string(bio);
}

cachet_pkey *testpki_key(const testpki_cert *c)
{
    char *pem = testpki_key_pem(c);
    cachet_pkey *k = NULL;
    if (!pem || cachet_pkey_parse_private((const uint8_t *)pem, strlen(pem), &k) != CACHET_OK) {
        fprintf(stderr, "testpki: cachet_pkey_parse_private: %s\n", cachet_err_detail());
        k = NULL;
    }
    free(pem);
    return k;
}

static int crl_add_revoked(X509_CRL *crl, const testpki_cert *cert, const ASN1_TIME *when)
{
    X509_REVOKED *r = X509_REVOKED_new();
    if (!r || X509_REVOKED_set_serialNumber(r, (ASN1_INTEGER *)X509_get0_serialNumber(cert->x)) != 1 ||
        X509_REVOKED_set_revocationDate(r, (ASN1_TIME *)when) != 1 ||
        X509_CRL_add0_revoked(crl, r) != 1) {
        X509_REVOKED_free(r);
        return 0;
    }
    return 1;
}

static int crl_add_exts(X509_CRL *crl, const testpki_cert *issuer, const testpki_crl_opts *o)
{
    ASN1_INTEGER *num = ASN1_INTEGER_new();
    int ok = num && ASN1_INTEGER_set(num, 1) == 1 &&
             X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) == 1;
    ASN1_INTEGER_free(num);
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer->x, NULL, NULL, crl, 0);
    X509_EXTENSION *e = ok ? X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier,
                                                 "keyid") : NULL;
    ok = e && X509_CRL_add_ext(crl, e, -1) == 1;
    X509_EXTENSION_free(e);
    if (ok && o->critical_unknown_ext) {
        static const uint8_t null_der[] = {0x05, 0x00};
        ASN1_OBJECT *obj = OBJ_txt2obj("1.3.6.1.4.1.55555.1", 1);
        ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
        X509_EXTENSION *u = NULL;
        ok = obj && os && ASN1_OCTET_STRING_set(os, null_der, 2) == 1 &&
             (u = X509_EXTENSION_create_by_OBJ(NULL, obj, 1, os)) &&
             X509_CRL_add_ext(crl, u, -1) == 1;
        X509_EXTENSION_free(u);
        ASN1_OCTET_STRING_free(os);
        ASN1_OBJECT_free(obj);
    }
    return ok;
}

uint8_t *testpki_crl(const testpki_cert *issuer, const testpki_crl_opts *opts, size_t *len)
{
    static const testpki_crl_opts defaults;
    const testpki_crl_opts *o = opts ? opts : &defaults;
    int64_t now = (int64_t)time(NULL);
    int64_t tu = o->this_update, nu = o->next_update;
    if (!tu && !nu) {
        tu = now - 3600;
        nu = now + 7 * 86400;
    }
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *t_this = ASN1_TIME_set(NULL, (time_t)tu);
    ASN1_TIME *t_next = ASN1_TIME_set(NULL, (time_t)nu);
    ASN1_TIME *t_rev = ASN1_TIME_set(NULL, (time_t)(o->revocation_date ? o->revocation_date : tu));
    EVP_MD_CTX *m = NULL;
    uint8_t *der = NULL, *out = NULL;
    int n = 0, ok = crl && t_this && t_next && t_rev && X509_CRL_set_version(crl, 1) == 1 &&
                    X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer->x)) == 1 &&
                    X509_CRL_set1_lastUpdate(crl, t_this) == 1 &&
                    (o->no_next_update || X509_CRL_set1_nextUpdate(crl, t_next) == 1);
    for (size_t i = 0; ok && i < o->n_revoked; i++)
        ok = crl_add_revoked(crl, o->revoked[i], t_rev);
    ok = ok && X509_CRL_sort(crl) == 1 && crl_add_exts(crl, issuer, o) &&
         (m = sign_ctx(issuer->key, o->sig_hash, o->sign_pss)) && X509_CRL_sign_ctx(crl, m) > 0 &&
         (n = i2d_X509_CRL(crl, &der)) > 0 && (out = malloc((size_t)n));
    if (ok) {
        memcpy(out, der, (size_t)n);
        if (o->corrupt_signature)
            out[n - 1] ^= 0x01;
        *len = (size_t)n;
    }
    OPENSSL_free(der);
    EVP_MD_CTX_free(m);
    ASN1_TIME_free(t_this);
    ASN1_TIME_free(t_next);
    ASN1_TIME_free(t_rev);
    X509_CRL_free(crl);
    return ok ? out : fail("CRL mint");
}

char *testpki_crl_pem(const uint8_t *der, size_t len)
{
    const uint8_t *p = der;
    X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);
    BIO *bio = BIO_new(BIO_s_mem());
    if (!crl || !bio || PEM_write_bio_X509_CRL(bio, crl) != 1) {
        X509_CRL_free(crl);
        BIO_free(bio);
        return fail("CRL PEM");
    }
    X509_CRL_free(crl);
    return bio_string(bio);
}
