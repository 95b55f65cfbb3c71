/* Cryptography.  src/crypto/ is the only code that calls OpenSSL; everything
 * else goes through this header, so that the rules (pinned roots, injected
 * time, exact-bytes verification) live in one place. */
#ifndef CACHET_CRYPTO_H
#define CACHET_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cachet/rc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- digests ---------------------------------------------------------- */

typedef enum cachet_hash_alg {
    CACHET_HASH_SHA256,
    CACHET_HASH_SHA384,
    CACHET_HASH_SHA512,
} cachet_hash_alg;

#define CACHET_SHA256_LEN 32
#define CACHET_SHA384_LEN 48
#define CACHET_SHA512_LEN 64
#define CACHET_HASH_MAX_LEN 64

size_t cachet_hash_len(cachet_hash_alg alg);
cachet_rc cachet_hash(cachet_hash_alg alg, const void *data, size_t len, uint8_t *out);
cachet_rc cachet_sha256(const void *data, size_t len, uint8_t out[CACHET_SHA256_LEN]);
cachet_rc cachet_sha384(const void *data, size_t len, uint8_t out[CACHET_SHA384_LEN]);
cachet_rc cachet_sha512(const void *data, size_t len, uint8_t out[CACHET_SHA512_LEN]);

/* Incremental digest. */
typedef struct cachet_hash_ctx cachet_hash_ctx;
cachet_hash_ctx *cachet_hash_new(cachet_hash_alg alg);
cachet_rc cachet_hash_update(cachet_hash_ctx *h, const void *data, size_t len);
cachet_rc cachet_hash_final(cachet_hash_ctx *h, uint8_t *out); /* resets nothing; free after */
void cachet_hash_free(cachet_hash_ctx *h);

cachet_rc cachet_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                             uint8_t out[CACHET_SHA256_LEN]);

/* ---- randomness and key derivation ------------------------------------ */

cachet_rc cachet_random(void *buf, size_t len);

/* RFC 5869 HKDF with SHA-256 (extract then expand). */
cachet_rc cachet_hkdf_sha256(const void *salt, size_t saltlen, const void *ikm, size_t ikmlen,
                             const void *info, size_t infolen, uint8_t *out, size_t outlen);

/* ---- AES-256-GCM ------------------------------------------------------ */

#define CACHET_AES256_KEY_LEN 32
#define CACHET_GCM_IV_LEN 12
#define CACHET_GCM_TAG_LEN 16

/* A keyed context, reusable across many messages (one per thread). */
typedef struct cachet_aead cachet_aead;
cachet_aead *cachet_aead_new(const uint8_t key[CACHET_AES256_KEY_LEN]);
void cachet_aead_free(cachet_aead *a);
/* out may equal in (in-place).  tag receives 16 bytes. */
cachet_rc cachet_aead_seal(cachet_aead *a, const uint8_t iv[CACHET_GCM_IV_LEN], const void *aad,
                           size_t aadlen, const void *in, size_t len, void *out,
                           uint8_t tag[CACHET_GCM_TAG_LEN]);
/* Returns CACHET_E_AUTH (crypto subsystem) on tag mismatch; out is then
 * wiped so that no unauthenticated plaintext escapes. */
cachet_rc cachet_aead_open(cachet_aead *a, const uint8_t iv[CACHET_GCM_IV_LEN], const void *aad,
                           size_t aadlen, const void *in, size_t len, void *out,
                           const uint8_t tag[CACHET_GCM_TAG_LEN]);

/* ---- public keys and signatures --------------------------------------- */

typedef struct cachet_pkey cachet_pkey; /* wraps EVP_PKEY */

typedef enum cachet_curve {
    CACHET_CURVE_P256,
    CACHET_CURVE_P384,
    CACHET_CURVE_P521,
} cachet_curve;

/* SubjectPublicKeyInfo, DER or PEM (detected). */
cachet_rc cachet_pkey_parse_public(const uint8_t *buf, size_t len, cachet_pkey **out);
/* An uncompressed EC point given as raw X||Y (2*field bytes, big-endian). */
cachet_rc cachet_pkey_from_ec_point(cachet_curve curve, const uint8_t *xy, size_t len,
                                    cachet_pkey **out);
/* RSA public key from big-endian modulus and exponent. */
cachet_rc cachet_pkey_from_rsa(const uint8_t *n, size_t nlen, const uint8_t *e, size_t elen,
                               cachet_pkey **out);
void cachet_pkey_free(cachet_pkey *k);
/* Key facts for profile checks. */
bool cachet_pkey_is_ec(const cachet_pkey *k, cachet_curve curve);
bool cachet_pkey_is_rsa(const cachet_pkey *k);
/* DER SubjectPublicKeyInfo (malloc'd). */
cachet_rc cachet_pkey_spki_der(const cachet_pkey *k, uint8_t **der, size_t *len);

typedef enum cachet_endian { CACHET_BIG_ENDIAN, CACHET_LITTLE_ENDIAN } cachet_endian;

/* ECDSA over msg (hashed here with alg) with a raw r||s signature of
 * 2*comp_len bytes, each component comp_len bytes in the given byte order
 * (AMD SNP: 72-byte little-endian components; TDX/NVIDIA: big-endian).
 * CACHET_E_SIGNATURE when it does not verify. */
cachet_rc cachet_ecdsa_verify_raw(const cachet_pkey *k, cachet_hash_alg alg, const void *msg,
                                  size_t msglen, const uint8_t *rs, size_t comp_len,
                                  cachet_endian order);
/* ECDSA with a DER-encoded Ecdsa-Sig-Value. */
cachet_rc cachet_ecdsa_verify_der(const cachet_pkey *k, cachet_hash_alg alg, const void *msg,
                                  size_t msglen, const uint8_t *der, size_t derlen);
/* RSASSA-PSS (MGF1 with the same hash); saltlen -1 means "digest length". */
cachet_rc cachet_rsa_pss_verify(const cachet_pkey *k, cachet_hash_alg alg, int saltlen,
                                const void *msg, size_t msglen, const uint8_t *sig,
                                size_t siglen);
/* RSASSA-PKCS1-v1_5. */
cachet_rc cachet_rsa_pkcs1_verify(const cachet_pkey *k, cachet_hash_alg alg, const void *msg,
                                  size_t msglen, const uint8_t *sig, size_t siglen);

/* Private keys (for test generators, token issuers, TLS): EC P-256/P-384. */
cachet_rc cachet_pkey_generate_ec(cachet_curve curve, cachet_pkey **out);
cachet_rc cachet_pkey_parse_private(const uint8_t *buf, size_t len, cachet_pkey **out);
cachet_rc cachet_pkey_private_pem(const cachet_pkey *k, char **pem); /* malloc'd */
/* ECDSA signing: raw r||s (comp_len each, order as given) or DER. */
cachet_rc cachet_ecdsa_sign_raw(const cachet_pkey *k, cachet_hash_alg alg, const void *msg,
                                size_t msglen, uint8_t *rs, size_t comp_len, cachet_endian order);
cachet_rc cachet_ecdsa_sign_der(const cachet_pkey *k, cachet_hash_alg alg, const void *msg,
                                size_t msglen, uint8_t **der, size_t *derlen);

/* ---- X.509 ------------------------------------------------------------ */

typedef struct cachet_x509 cachet_x509;         /* wraps X509 */
typedef struct cachet_x509_crl cachet_x509_crl; /* wraps X509_CRL */

/* One certificate, DER or PEM (detected). */
cachet_rc cachet_x509_parse(const uint8_t *buf, size_t len, cachet_x509 **out);
/* Every certificate in a PEM bundle (or a single DER); *out is a malloc'd
 * array of *n handles. Fails if none is found or any block is bad. */
cachet_rc cachet_x509_parse_all(const uint8_t *buf, size_t len, cachet_x509 ***out, size_t *n);
void cachet_x509_free(cachet_x509 *c);
void cachet_x509_free_all(cachet_x509 **certs, size_t n);
cachet_x509 *cachet_x509_ref(cachet_x509 *c); /* another owner of the same cert */

cachet_rc cachet_x509_public_key(const cachet_x509 *c, cachet_pkey **out);
/* Subject / issuer common name into buf (NUL-terminated, truncation is an error). */
cachet_rc cachet_x509_subject_cn(const cachet_x509 *c, char *buf, size_t cap);
cachet_rc cachet_x509_issuer_cn(const cachet_x509 *c, char *buf, size_t cap);
/* One-line RFC 2253 subject, malloc'd. */
char *cachet_x509_subject_str(const cachet_x509 *c);
cachet_rc cachet_x509_validity(const cachet_x509 *c, int64_t *not_before, int64_t *not_after);
/* SHA-256 of the DER certificate / of its DER SubjectPublicKeyInfo. */
cachet_rc cachet_x509_fingerprint(const cachet_x509 *c, uint8_t out[CACHET_SHA256_LEN]);
cachet_rc cachet_x509_spki_fingerprint(const cachet_x509 *c, uint8_t out[CACHET_SHA256_LEN]);
cachet_rc cachet_x509_der(const cachet_x509 *c, const uint8_t **der, size_t *len);
/* Serial number as big-endian magnitude (up to cap bytes). */
cachet_rc cachet_x509_serial(const cachet_x509 *c, uint8_t *out, size_t cap, size_t *len);
bool cachet_x509_is_ca(const cachet_x509 *c);

/* Extension by dotted OID: *value points into the certificate (valid while
 * it lives) at the extnValue OCTET STRING's contents (the DER of the value).
 * CACHET_E_NOT_FOUND if absent, CACHET_E_FORMAT if present more than once. */
cachet_rc cachet_x509_extension(const cachet_x509 *c, const char *oid, const uint8_t **value,
                                size_t *len);
/* DER helpers for extension values: INTEGER (non-negative, fits u64),
 * OCTET STRING, IA5String/UTF8String (into a NUL-terminated buffer). */
cachet_rc cachet_der_read_uint(const uint8_t *der, size_t len, uint64_t *out);
cachet_rc cachet_der_read_octets(const uint8_t *der, size_t len, const uint8_t **out,
                                 size_t *outlen);
cachet_rc cachet_der_read_string(const uint8_t *der, size_t len, char *buf, size_t cap);

/* CRLs, DER or PEM. */
cachet_rc cachet_crl_parse(const uint8_t *buf, size_t len, cachet_x509_crl **out);
void cachet_crl_free(cachet_x509_crl *crl);
/* Verify a CRL by hand against its issuer at time t: signature, issuer name,
 * thisUpdate <= t < nextUpdate.  Then cachet_crl_is_revoked() answers for a
 * certificate it covers. */
cachet_rc cachet_crl_verify(const cachet_x509_crl *crl, const cachet_x509 *issuer, int64_t t);
bool cachet_crl_is_revoked(const cachet_x509_crl *crl, const cachet_x509 *cert);
bool cachet_crl_issued_by(const cachet_x509_crl *crl, const cachet_x509 *issuer);

/* Chain verification against pinned roots.
 *
 * Only `roots` are trusted; `intermediates` are untrusted helpers for path
 * building (a root that arrives there never becomes an anchor).  No partial
 * chains.  Every validity check uses `time`.  With crls given, every
 * non-anchor certificate must be covered by a valid CRL (CRL_CHECK_ALL)
 * unless CACHET_CHAIN_CRL_LEAF_ONLY is set.  On success the built path is
 * returned (leaf first, root last) when `path` is non-NULL. */
enum cachet_chain_flags {
    CACHET_CHAIN_DEFAULT = 0,
    CACHET_CHAIN_STRICT = 1 << 0,          /* X509_V_FLAG_X509_STRICT */
    CACHET_CHAIN_CRL_LEAF_ONLY = 1 << 1,   /* CRL_CHECK instead of CRL_CHECK_ALL */
    CACHET_CHAIN_ALLOW_NO_AKID = 1 << 2,   /* with STRICT: tolerate a missing AKID (AMD VCEK) */
    CACHET_CHAIN_IGNORE_CRITICAL = 1 << 3, /* unknown critical extensions (vendor profiles) */
};

typedef struct cachet_chain_params {
    const cachet_x509 *leaf;
    cachet_x509 *const *intermediates;
    size_t n_intermediates;
    cachet_x509 *const *roots;
    size_t n_roots;
    cachet_x509_crl *const *crls;
    size_t n_crls;
    int64_t time;
    unsigned flags;
} cachet_chain_params;

typedef struct cachet_chain_result {
    cachet_x509 **path; /* leaf ... root; free with cachet_x509_free_all */
    size_t depth;
    int error;          /* X509_V_ERR_* on failure, 0 on success */
    int error_depth;
    char error_str[160];
} cachet_chain_result;

/* CACHET_E_CHAIN / CACHET_E_EXPIRED / CACHET_E_REVOKED with the OpenSSL
 * reason in `res` and in cachet_err_detail(). res may be NULL. */
cachet_rc cachet_x509_verify_chain(const cachet_chain_params *p, cachet_chain_result *res);
void cachet_chain_result_clear(cachet_chain_result *res);

/* ---- keyUsage (src/crypto/x509_keyusage.c) ----------------------------- */

/* RFC 5280 §4.2.1.3 bit numbers. */
#define CACHET_KU_DIGITAL_SIGNATURE (1u << 0)
#define CACHET_KU_NON_REPUDIATION (1u << 1)
#define CACHET_KU_KEY_ENCIPHERMENT (1u << 2)
#define CACHET_KU_DATA_ENCIPHERMENT (1u << 3)
#define CACHET_KU_KEY_AGREEMENT (1u << 4)
#define CACHET_KU_KEY_CERT_SIGN (1u << 5)
#define CACHET_KU_CRL_SIGN (1u << 6)
#define CACHET_KU_ENCIPHER_ONLY (1u << 7)
#define CACHET_KU_DECIPHER_ONLY (1u << 8)
/* The keyUsage bits; *present is false (and *bits 0) when the certificate
 * has no keyUsage extension.  CACHET_E_FORMAT when its extensions are
 * malformed. */
cachet_rc cachet_x509_key_usage(const cachet_x509 *c, uint32_t *bits, bool *present);

/* ---- CRL facts (src/crypto/crl_info.c) ---------------------------------- */

/* True when the CRL's issuer name is the certificate's subject (no
 * signature check: use it to pick candidates, then cachet_crl_verify()). */
bool cachet_crl_names_issuer(const cachet_x509_crl *crl, const cachet_x509 *issuer);
/* thisUpdate and nextUpdate (CACHET_E_FORMAT when nextUpdate is absent). */
cachet_rc cachet_crl_validity(const cachet_x509_crl *crl, int64_t *this_update,
                              int64_t *next_update);

/* ---- TPM credential protection (src/crypto/tpmcred.c) ------------------- */

/* HMAC with alg; out receives cachet_hash_len(alg) bytes. */
cachet_rc cachet_hmac(cachet_hash_alg alg, const void *key, size_t keylen, const void *data,
                      size_t len, uint8_t *out);
/* Modulus size of an RSA key in bytes; 0 when k is not RSA. */
size_t cachet_pkey_rsa_bytes(const cachet_pkey *k);
/* RSAES-OAEP (RFC 8017 §7.1.1) with MGF1 over alg.  label is hashed as
 * given (a TPM label such as "IDENTITY" includes its NUL).  seed: hash-length
 * bytes that make the encryption deterministic (a verifier recomputing a
 * credential it issued), or NULL for a random one.  out must hold the
 * modulus size; *outlen receives it. */
cachet_rc cachet_rsa_oaep_encrypt(const cachet_pkey *k, cachet_hash_alg alg, const void *label,
                                  size_t label_len, const void *msg, size_t msglen,
                                  const uint8_t *seed, uint8_t *out, size_t cap, size_t *outlen);
/* AES in CFB mode with 128-bit feedback (the TPM's CFB), key of 16, 24 or
 * 32 bytes; out may equal in. */
cachet_rc cachet_aes_cfb_encrypt(const uint8_t *key, size_t keylen, const uint8_t iv[16],
                                 const void *in, size_t len, void *out);
cachet_rc cachet_aes_cfb_decrypt(const uint8_t *key, size_t keylen, const uint8_t iv[16],
                                 const void *in, size_t len, void *out);


/* ---- OCSP responses (src/crypto/ocsp.c) --------------------------------- */

/* A parsed, successful id-pkix-ocsp-basic OCSPResponse (RFC 6960 §4.2.1). */
typedef struct cachet_ocsp cachet_ocsp;

typedef enum cachet_ocsp_status {
    CACHET_OCSP_GOOD,
    CACHET_OCSP_REVOKED, /* includes certificateHold (reason 6) */
    CACHET_OCSP_UNKNOWN,
} cachet_ocsp_status;

/* DER only.  CACHET_E_FORMAT when it is not an OCSPResponse, trailing bytes;
 * CACHET_E_UNSUPPORTED when responseStatus is not successful or the type is
 * not basic (the detail names the status). */
cachet_rc cachet_ocsp_parse(const uint8_t *der, size_t len, cachet_ocsp **out);
void cachet_ocsp_free(cachet_ocsp *o);
/* Whether the response has a SingleResponse for cert issued by issuer
 * (CertID with SHA-1, SHA-256, SHA-384 or SHA-512). */
bool cachet_ocsp_covers(const cachet_ocsp *o, const cachet_x509 *cert, const cachet_x509 *issuer);

typedef struct cachet_ocsp_params {
    const cachet_x509 *cert;
    const cachet_x509 *issuer;
    cachet_x509 *const *roots;         /* pinned: the responder's path must end here */
    size_t n_roots;
    cachet_x509 *const *intermediates; /* untrusted helpers for the responder's path */
    size_t n_intermediates;
    int64_t time;                      /* every validity check */
    int64_t max_age;                   /* seconds after thisUpdate when nextUpdate is absent; 0: refuse */
} cachet_ocsp_params;

typedef struct cachet_ocsp_result {
    cachet_ocsp_status status;
    int reason;          /* CRLReason of a revoked entry, -1 when absent */
    int64_t revoked_at;  /* revoked only */
    int64_t this_update, next_update, produced_at; /* next_update 0 when absent */
} cachet_ocsp_result;

/* Verify the response for cert: signed by the issuer or by a responder the
 * issuer delegated to (id-kp-OCSPSigning), the responder's path valid at
 * time and ending at a root; the entry's window contains time.  CACHET_OK
 * with res->status set (good, revoked, unknown: the caller decides); else
 * CACHET_E_NOT_FOUND (no entry for cert), _SIGNATURE (signature, responder
 * path or authorisation), _EXPIRED (window), _FORMAT. */
cachet_rc cachet_ocsp_check(const cachet_ocsp *o, const cachet_ocsp_params *p,
                            cachet_ocsp_result *res);
const char *cachet_ocsp_status_str(cachet_ocsp_status s); /* "good" | "revoked" | "unknown" */

/* ---- public-key export (src/crypto/ec_point.c) -------------------------- */

/* The public point of an EC key (public or private) as raw X||Y, each
 * coordinate big-endian and field-sized (JWK "x"/"y", RFC 7518 §6.2.1);
 * *curve receives its curve.  CACHET_E_LIMIT when cap is too small. */
cachet_rc cachet_pkey_ec_point(const cachet_pkey *k, cachet_curve *curve, uint8_t *xy, size_t cap,
                               size_t *len);
/* The public half of a key as a PEM SubjectPublicKeyInfo (malloc'd). */
cachet_rc cachet_pkey_public_pem(const cachet_pkey *k, char **pem);

/* ---- JWE primitives (src/crypto/jwe_prims.c) ------------------------------ */

/* ECDH (EC keys on one curve): the shared x-coordinate Z into out. */
cachet_rc cachet_ecdh_derive(const cachet_pkey *priv, const cachet_pkey *peer, uint8_t *out,
                             size_t cap, size_t *len);
/* RFC 7518 §4.6.2 Concat KDF with SHA-256 for a 256-bit key: AlgorithmID
 * alg_id, empty PartyUInfo and PartyVInfo. */
cachet_rc cachet_concat_kdf_sha256(const uint8_t *z, size_t zlen, const char *alg_id,
                                   uint8_t out[32]);
/* RFC 3394 AES-256 Key Wrap: out receives len+8 bytes; unwrap len-8 bytes
 * (CACHET_E_AUTH when the integrity check fails; out is then wiped). */
cachet_rc cachet_aes256_kw_wrap(const uint8_t kek[32], const uint8_t *in, size_t len,
                                uint8_t *out, size_t cap, size_t *outlen);
cachet_rc cachet_aes256_kw_unwrap(const uint8_t kek[32], const uint8_t *in, size_t len,
                                  uint8_t *out, size_t cap, size_t *outlen);
/* An EC key pair from its raw private scalar d (field-sized) and public X||Y. */
cachet_rc cachet_pkey_from_ec_private(cachet_curve curve, const uint8_t *d, size_t dlen,
                                      const uint8_t *xy, size_t xylen, cachet_pkey **out);

/* ---- AES-256-GCM in pieces (src/crypto/aead.c) ---------------------------- */

/* One message fed in pieces, for data streamed through a small buffer: begin
 * (IV and all the AAD), any number of updates (each writes exactly len bytes
 * to out; out may equal in), then finish.  The result equals the one-shot
 * call over the concatenated pieces.  A failed update ends the message; a new
 * begin, seal or open (same direction) abandons an unfinished one.
 *
 * open_finish returns CACHET_E_AUTH on tag mismatch.  Until it returns
 * CACHET_OK, everything the open updates wrote is UNAUTHENTICATED: the caller
 * must keep it where nobody else can use it and wipe it (or discard the file
 * it went to) on any failure.  Unlike cachet_aead_open, nothing is wiped
 * here, since the output is no longer in this call's hands. */
cachet_rc cachet_aead_seal_begin(cachet_aead *a, const uint8_t iv[CACHET_GCM_IV_LEN],
                                 const void *aad, size_t aadlen);
cachet_rc cachet_aead_seal_update(cachet_aead *a, const void *in, size_t len, void *out);
cachet_rc cachet_aead_seal_finish(cachet_aead *a, uint8_t tag[CACHET_GCM_TAG_LEN]);
cachet_rc cachet_aead_open_begin(cachet_aead *a, const uint8_t iv[CACHET_GCM_IV_LEN],
                                 const void *aad, size_t aadlen);
cachet_rc cachet_aead_open_update(cachet_aead *a, const void *in, size_t len, void *out);
cachet_rc cachet_aead_open_finish(cachet_aead *a, const uint8_t tag[CACHET_GCM_TAG_LEN]);

/* ---- Ed25519 (src/crypto/ed25519.c) ---------------------------------------- */

/* Public (SubjectPublicKeyInfo, PEM or DER) and private (PEM) Ed25519 keys;
 * any other key type is CACHET_E_UNSUPPORTED. */
cachet_rc cachet_ed25519_parse_public(const uint8_t *buf, size_t len, cachet_pkey **out);
cachet_rc cachet_ed25519_parse_private(const uint8_t *buf, size_t len, cachet_pkey **out);
cachet_rc cachet_ed25519_generate(cachet_pkey **out);
cachet_rc cachet_ed25519_sign(const cachet_pkey *k, const void *msg, size_t len, uint8_t sig[64]);
/* CACHET_E_SIGNATURE when it does not verify. */
cachet_rc cachet_ed25519_verify(const cachet_pkey *k, const void *msg, size_t len,
                                const uint8_t *sig, size_t siglen);
/* PEM of the private (PKCS#8) or public half (malloc'd). */
cachet_rc cachet_ed25519_pem(const cachet_pkey *k, bool private_key, char **pem);

/* ---- OCSP requests (src/crypto/ocsp_req.c) --------------------------------- */

/* A DER OCSPRequest (RFC 6960 §4.1) for one certificate: CertID with SHA-1
 * over the issuer's name and key (as responders index), and an id-pkix-
 * ocsp-nonce extension when nonce_len > 0 (at most 32 bytes).  *der is
 * malloc'd (caller frees). */
cachet_rc cachet_ocsp_request(const cachet_x509 *cert, const cachet_x509 *issuer,
                              const uint8_t *nonce, size_t nonce_len, uint8_t **der,
                              size_t *len);
/* The first http(s) OCSP responder URL of the certificate's Authority
 * Information Access extension, NUL-terminated in buf.  CACHET_E_NOT_FOUND
 * when there is none, CACHET_E_LIMIT when it does not fit cap. */
cachet_rc cachet_x509_ocsp_url(const cachet_x509 *cert, char *buf, size_t cap);

/* ---- self-issued certificates (src/crypto/x509_make.c) -------------------- */

/* One extension carried verbatim: value is the DER placed in extnValue's
 * OCTET STRING (for 2.23.133.5.4.9, the CBOR-tagged evidence). */
typedef struct cachet_x509_ext {
    const char *oid;          /* dotted form, "2.23.133.5.4.9" */
    bool critical;
    const uint8_t *value;
    size_t len;
} cachet_x509_ext;

/* A v3 certificate for key, signed by key itself (ECDSA with SHA-256):
 * subject = issuer = CN=cn, a random positive 128-bit serial, validity
 * [not_before, not_after] (Unix seconds), basicConstraints CA:FALSE,
 * keyUsage digitalSignature, extKeyUsage serverAuth, a subject key
 * identifier, then exts in order.  *pem: the PEM (malloc'd); cert (may be
 * NULL): the same certificate parsed. */
cachet_rc cachet_x509_self_signed(const cachet_pkey *key, const char *cn, int64_t not_before,
                                  int64_t not_after, const cachet_x509_ext *exts, size_t n_exts,
                                  char **pem, cachet_x509 **cert);

/* A v3 certificate for subject_key signed by issuer_key: issuer name from
 * issuer_cert (whose key must be issuer_key, a CA with keyCertSign when it
 * has keyUsage; the validity is clipped to the issuer's, and must not end
 * up empty)
 * or, with issuer_cert NULL, self-issued (subject_key must be issuer_key).
 * Subject CN=subject_cn, a random positive 128-bit serial; ca: basicConstraints
 * CA:TRUE and keyUsage keyCertSign, cRLSign, else CA:FALSE and
 * digitalSignature (both critical); extKeyUsage ext_key_usage (OpenSSL
 * config text, e.g. "2.23.133.8.3") when set; subject and (when issued)
 * authority key identifiers; then exts.  SHA-256 signatures (RSA PKCS#1 v1.5
 * or ECDSA).  *pem malloc'd; cert (may be NULL) the same parsed. */
typedef struct cachet_x509_issue_params {
    const cachet_pkey *subject_key;
    const char *subject_cn;
    const cachet_pkey *issuer_key;
    const cachet_x509 *issuer_cert;
    int64_t not_before, not_after;
    bool ca;
    const char *ext_key_usage;
    const cachet_x509_ext *exts;
    size_t n_exts;
} cachet_x509_issue_params;

cachet_rc cachet_x509_issue(const cachet_x509_issue_params *p, char **pem, cachet_x509 **cert);

#ifdef __cplusplus
}
#endif
#endif
