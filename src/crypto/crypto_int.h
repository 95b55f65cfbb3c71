/* Internal to src/crypto: the wrapper structs, error helpers and cached
 * algorithm handles shared by the files of this module.  Nothing outside
 * src/crypto includes this (it is the only place OpenSSL types appear). */
#ifndef CACHET_CRYPTO_INT_H
#define CACHET_CRYPTO_INT_H

#include <stdatomic.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cachet/crypto.h"

#define CRYPTO_RC(code) CACHET_RC(CACHET_SUB_CRYPTO, CACHET_E_##code)

/* cachet_err() for this subsystem. */
#define crypto_err(code, ...) cachet_err(CRYPTO_RC(code), __VA_ARGS__)

/* Like crypto_err(), but appends the newest OpenSSL error reason and clears
 * OpenSSL's per-thread error queue, so a later failure does not report a
 * stale reason. */
cachet_rc crypto_ossl_err(cachet_rc rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define crypto_ossl(code, ...) crypto_ossl_err(CRYPTO_RC(code), __VA_ARGS__)

/* Algorithm objects fetched once per process (an implicit fetch on every
 * EVP_*Init costs a provider lookup; the seal path cannot afford that).
 * NULL if the provider lacks the algorithm or alg is out of range. */
const EVP_MD *crypto_md(cachet_hash_alg alg);
const char *crypto_md_name(cachet_hash_alg alg);
const EVP_CIPHER *crypto_aes256gcm(void);
EVP_KDF *crypto_hkdf(void);

struct cachet_pkey {
    EVP_PKEY *pkey;
};

/* Wraps an X509 and keeps the exact DER it was parsed from, so that
 * fingerprints and cachet_x509_der() are over the bytes received. */
struct cachet_x509 {
    X509 *x;
    uint8_t *der;
    size_t der_len;
    atomic_uint refs;
};

struct cachet_x509_crl {
    X509_CRL *crl;
};

/* Wrap an X509 (takes ownership of x; its DER is re-encoded from the
 * cached encoding, which for parsed certificates is the received bytes). */
cachet_rc crypto_x509_wrap(X509 *x, cachet_x509 **out);
cachet_rc crypto_pkey_wrap(EVP_PKEY *pkey, cachet_pkey **out);
/* Keys cachet uses at all: EC P-256/384/521, RSA 2048..8192 bits. */
cachet_rc crypto_pkey_acceptable(EVP_PKEY *pkey, const char *what);

/* A parameters-only EC key for the named group ("prime256v1", "secp384r1",
 * "secp521r1"), built once per process and shared read-only; NULL for any
 * other group or when it could not be built. */
EVP_PKEY *crypto_ec_template(const char *group);

/* PEM is detected by the "-----BEGIN" prefix after optional whitespace. */
int crypto_looks_pem(const uint8_t *buf, size_t len);

/* ASN1_TIME → seconds since the epoch (UTC). */
cachet_rc crypto_asn1_time(const ASN1_TIME *t, int64_t *out);

#endif
