/* Signature verification: ECDSA (raw r||s in either byte order, or DER),
 * RSASSA-PSS and RSASSA-PKCS1-v1_5 (RFC 8017 §8).  Anything but a clean
 * "verifies" is a failure. */
#include <limits.h>
#include <stdlib.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "crypto/crypto_int.h"
#include "crypto/ec_int.h"
#include "crypto/sig_int.h"

cachet_rc crypto_ec_key_curve(const cachet_pkey *k, const crypto_curve_info **ci, const char *what)
{
    char group[64];
    if (!k || !k->pkey || !EVP_PKEY_is_a(k->pkey, "EC"))
        return crypto_err(INVALID_ARG, "%s: not an EC key", what);
    if (EVP_PKEY_get_utf8_string_param(k->pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       NULL) != 1 ||
        !(*ci = crypto_curve_by_name(group)))
        return crypto_ossl(UNSUPPORTED, "%s: EC key on an unsupported curve", what);
    return CACHET_OK;
}

cachet_rc crypto_rs_to_der(const uint8_t *rs, size_t comp_len, cachet_endian order,
                           uint8_t **der, int *derlen)
{
    BIGNUM *r, *s;
    if (order == CACHET_LITTLE_ENDIAN) {
        r = BN_lebin2bn(rs, (int)comp_len, NULL);
        s = BN_lebin2bn(rs + comp_len, (int)comp_len, NULL);
    } else {
        r = BN_bin2bn(rs, (int)comp_len, NULL);
        s = BN_bin2bn(rs + comp_len, (int)comp_len, NULL);
    }
    ECDSA_SIG *sig = ECDSA_SIG_new();
    if (!r || !s || !sig || ECDSA_SIG_set0(sig, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(sig);
        return crypto_ossl(NOMEM, "ecdsa: building the signature failed");
    }
    *der = NULL;
    *derlen = i2d_ECDSA_SIG(sig, der); /* sig owns r, s */
    ECDSA_SIG_free(sig);
    if (*derlen <= 0)
        return crypto_ossl(CRYPTO, "ecdsa: DER encoding of r||s failed");
    return CACHET_OK;
}

/* One digest-verify with optional RSA padding settings. */
static cachet_rc verify_one(const cachet_pkey *k, cachet_hash_alg alg, int rsa_pad, int saltlen,
                            const void *msg, size_t msglen, const uint8_t *sig, size_t siglen,
                            const char *what)
{
    const EVP_MD *md = crypto_md(alg);
    if (!md)
        return crypto_err(INVALID_ARG, "%s: bad hash algorithm %d", what, (int)alg);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    cachet_rc rc = CACHET_OK;
    if (!ctx || EVP_DigestVerifyInit(ctx, &pctx, md, NULL, k->pkey) != 1) {
        rc = crypto_ossl(CRYPTO, "%s: init with %s failed", what, crypto_md_name(alg));
        goto out;
    }
    if (rsa_pad == RSA_PKCS1_PSS_PADDING &&
        (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1 ||
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, saltlen) != 1)) {
        rc = crypto_ossl(CRYPTO, "%s: PSS parameters rejected", what);
        goto out;
    }
    if (rsa_pad == RSA_PKCS1_PADDING && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
        rc = crypto_ossl(CRYPTO, "%s: PKCS#1 padding rejected", what);
        goto out;
    }
    /* 1 = verifies; 0 = wrong signature; < 0 = malformed: all but 1 fail. */
    if (EVP_DigestVerify(ctx, sig, siglen, msglen ? msg : (const void *)"", msglen) != 1) {
        ERR_clear_error();
        rc = crypto_err(SIGNATURE, "%s: %s signature does not verify (%zu-byte message)", what,
                        crypto_md_name(alg), msglen);
    }
out:
    EVP_MD_CTX_free(ctx); /* frees pctx too */
    return rc;
}

static cachet_rc msg_args(const cachet_pkey *k, const void *msg, size_t msglen, const void *sig,
                          size_t siglen, const char *what)
{
    if (!k || !k->pkey || (!msg && msglen) || !sig || !siglen)
        return crypto_err(INVALID_ARG, "%s: NULL key, message or signature", what);
    if (siglen > INT_MAX / 2)
        return crypto_err(LIMIT, "%s: %zu-byte signature", what, siglen);
    return CACHET_OK;
}

cachet_rc cachet_ecdsa_verify_raw(const cachet_pkey *k, cachet_hash_alg alg, const void *msg,
                                  size_t msglen, const uint8_t *rs, size_t comp_len,
                                  cachet_endian order)
{
    const char *what = "ecdsa_verify_raw";
    cachet_rc rc = msg_args(k, msg, msglen, rs, comp_len, what);
    const crypto_curve_info *ci = NULL;
    if (rc == CACHET_OK)
        rc = crypto_ec_key_curve(k, &ci, what);
    if (rc != CACHET_OK)
        return rc;
    if (order != CACHET_BIG_ENDIAN && order != CACHET_LITTLE_ENDIAN)
        return crypto_err(INVALID_ARG, "%s: bad byte order %d", what, (int)order);
    /* Components narrower than the curve cannot be ours; wider ones must be
     * zero padding (SNP), which the integer conversion absorbs. */
    if (comp_len < ci->field_len || comp_len > CRYPTO_EC_MAX_COMP)
        return crypto_err(FORMAT, "%s: %zu-byte components for %s (want %zu..%d)", what,
                          comp_len, ci->group, ci->field_len, CRYPTO_EC_MAX_COMP);
    uint8_t *der = NULL;
    int derlen = 0;
    rc = crypto_rs_to_der(rs, comp_len, order, &der, &derlen);
    if (rc != CACHET_OK)
        return rc;
    rc = verify_one(k, alg, 0, 0, msg, msglen, der, (size_t)derlen, what);
    OPENSSL_free(der);
    return rc;
}

cachet_rc cachet_ecdsa_verify_der(const cachet_pkey *k, cachet_hash_alg alg, const void *msg,
                                  size_t msglen, const uint8_t *der, size_t derlen)
{
    const char *what = "ecdsa_verify_der";
    cachet_rc rc = msg_args(k, msg, msglen, der, derlen, what);
    const crypto_curve_info *ci = NULL;
    if (rc == CACHET_OK)
        rc = crypto_ec_key_curve(k, &ci, what);
    if (rc != CACHET_OK)
        return rc;
    /* OpenSSL re-encodes and compares, so BER variants and trailing bytes
     * are rejected as a bad signature. */
    return verify_one(k, alg, 0, 0, msg, msglen, der, derlen, what);
}

static cachet_rc rsa_key(const cachet_pkey *k, const char *what)
{
    if (!cachet_pkey_is_rsa(k))
        return crypto_err(INVALID_ARG, "%s: not an RSA key", what);
    return CACHET_OK;
}

cachet_rc cachet_rsa_pss_verify(const cachet_pkey *k, cachet_hash_alg alg, int saltlen,
                                const void *msg, size_t msglen, const uint8_t *sig,
                                size_t siglen)
{
    const char *what = "rsa_pss_verify";
    cachet_rc rc = msg_args(k, msg, msglen, sig, siglen, what);
    if (rc == CACHET_OK)
        rc = rsa_key(k, what);
    if (rc != CACHET_OK)
        return rc;
    /* Only an exact salt length: "auto" would accept any, which a verifier
     * pinning a profile must not. */
    if (saltlen < -1 || saltlen > 1024)
        return crypto_err(INVALID_ARG, "%s: salt length %d", what, saltlen);
    return verify_one(k, alg, RSA_PKCS1_PSS_PADDING,
                      saltlen == -1 ? RSA_PSS_SALTLEN_DIGEST : saltlen, msg, msglen, sig, siglen,
                      what);
}

cachet_rc cachet_rsa_pkcs1_verify(const cachet_pkey *k, cachet_hash_alg alg, const void *msg,
                                  size_t msglen, const uint8_t *sig, size_t siglen)
{
    const char *what = "rsa_pkcs1_verify";
    cachet_rc rc = msg_args(k, msg, msglen, sig, siglen, what);
    if (rc == CACHET_OK)
        rc = rsa_key(k, what);
    if (rc != CACHET_OK)
        return rc;
    return verify_one(k, alg, RSA_PKCS1_PADDING, 0, msg, msglen, sig, siglen, what);
}
