/* testpki: a small test-side PKI minter.
 *
 * Mints root CAs, intermediates and leaves (EC P-256/P-384 or RSA, with
 * chosen names, validity, serials, CA flags, custom extensions, RSASSA-PSS
 * signatures, broken signatures) and CRLs that revoke chosen certificates.
 * Tests use it to build negative cases that no real vector provides:
 * revoked, expired, wrong issuer, bad signature, missing AKID, duplicate
 * extensions, and AMD/Intel-shaped look-alike chains.
 *
 * It calls OpenSSL directly (tests may), but everything it hands back is
 * bytes or cachet handles, so tests need no OpenSSL types.  Every function
 * returns NULL on failure after printing the reason to stderr; tests
 * assert_non_null() the result.
 *
 *     testpki_cert *root = testpki_mint(&(testpki_cert_opts){.cn = "Root", .ca = true}, NULL);
 *     testpki_cert *ica  = testpki_mint(&(testpki_cert_opts){.cn = "ICA", .ca = true}, root);
 *     testpki_cert *leaf = testpki_mint(&(testpki_cert_opts){.cn = "Leaf",
 *                                        .key = TESTPKI_KEY_P384}, ica);
 *     size_t n;
 *     uint8_t *crl = testpki_crl(ica, &(testpki_crl_opts){.revoked = &leaf, .n_revoked = 1}, &n);
 */
#ifndef CACHET_TESTS_TESTPKI_H
#define CACHET_TESTS_TESTPKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cachet/crypto.h"

typedef struct testpki_cert testpki_cert; /* a certificate plus its private key */

typedef enum testpki_key_type {
    TESTPKI_KEY_P256 = 0, /* default */
    TESTPKI_KEY_P384,
    TESTPKI_KEY_RSA, /* rsa_bits, default 2048 */
} testpki_key_type;

/* A custom extension.  value is the extnValue *contents*, i.e. normally the
 * DER of the value (02 01 05 for INTEGER 5); raw bytes are allowed too, to
 * mimic AMD's legacy hwID encoding. */
typedef struct testpki_ext {
    const char *oid; /* dotted, e.g. "1.3.6.1.4.1.3704.1.3.1" */
    bool critical;
    const uint8_t *value;
    size_t len;
} testpki_ext;

typedef struct testpki_cert_opts {
    const char *cn;  /* subject commonName; NULL = "cachet test" */
    const char *org; /* optional organizationName */
    testpki_key_type key;
    int rsa_bits;                  /* TESTPKI_KEY_RSA only; 0 = 2048 */
    int64_t not_before, not_after; /* Unix seconds; both 0 = now-1h .. now+30 days */
    const uint8_t *serial;         /* big-endian magnitude; NULL = 8 random bytes */
    size_t serial_len;             /* with serial: {0x00}, 1 gives serial 0 (AMD VCEK) */
    bool ca;                       /* basicConstraints cA=TRUE (critical), keyCertSign|cRLSign */
    bool has_path_len;             /* with ca: set pathLenConstraint = path_len */
    int path_len;
    bool no_akid;                  /* omit authorityKeyIdentifier (AMD VCEK/VLEK shape) */
    bool no_skid;                  /* omit subjectKeyIdentifier */
    bool no_key_usage;             /* omit keyUsage */
    cachet_hash_alg sig_hash;      /* issuer's signature hash; default SHA-256 */
    bool sign_pss;                 /* RSA issuer: RSASSA-PSS, MGF1 same hash, salt = hash length */
    const testpki_ext *exts;       /* added in order (so duplicates are possible) */
    size_t n_exts;
    bool corrupt_signature;        /* flip one bit of the signature value */
    const testpki_cert *reuse_key; /* use this cert's key pair instead of a new one */
} testpki_cert_opts;

/* Mint a certificate signed by issuer's key, or self-signed when issuer is
 * NULL.  opts may be NULL (all defaults). */
testpki_cert *testpki_mint(const testpki_cert_opts *opts, const testpki_cert *issuer);
void testpki_free(testpki_cert *c);

/* The certificate DER (valid while c lives). */
const uint8_t *testpki_der(const testpki_cert *c, size_t *len);
/* PEM text of one certificate, or of several concatenated (a bundle). malloc'd. */
char *testpki_pem(const testpki_cert *c);
char *testpki_bundle_pem(const testpki_cert *const *certs, size_t n);
/* A cachet handle for the certificate (free with cachet_x509_free). */
cachet_x509 *testpki_x509(const testpki_cert *c);
/* The private key as a cachet handle (free with cachet_pkey_free), e.g. to
 * sign a synthetic SNP report with cachet_ecdsa_sign_raw(). */
cachet_pkey *testpki_key(const testpki_cert *c);
/* PKCS#8 PEM of the private key; malloc'd. */
char *testpki_key_pem(const testpki_cert *c);

typedef struct testpki_crl_opts {
    int64_t this_update, next_update; /* Unix seconds; both 0 = now-1h .. now+7 days */
    bool no_next_update;              /* omit nextUpdate (RFC 5280 violation) */
    const testpki_cert *const *revoked; /* certificates whose serials are listed */
    size_t n_revoked;
    int64_t revocation_date;          /* 0 = this_update */
    cachet_hash_alg sig_hash;         /* default SHA-256 */
    bool sign_pss;                    /* RSA issuer: RSASSA-PSS as for certificates */
    bool critical_unknown_ext;        /* add a critical private extension */
    bool corrupt_signature;
} testpki_crl_opts;

/* A DER CRL signed by issuer (malloc'd; *len set).  opts may be NULL. */
uint8_t *testpki_crl(const testpki_cert *issuer, const testpki_crl_opts *opts, size_t *len);
/* The same as PEM text (malloc'd). */
char *testpki_crl_pem(const uint8_t *der, size_t len);

#endif
