/* Private EC keys and ECDSA signing, for test generators, token issuers and
 * TLS.  Private key text leaves only through cachet_pkey_private_pem(). */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/pem.h>

#include "cachet/secmem.h"
#include "crypto/crypto_int.h"
#include "crypto/sig_int.h"

cachet_rc cachet_pkey_generate_ec(cachet_curve curve, cachet_pkey **out)
{
    const crypto_curve_info *ci = crypto_curve(curve);
    if (!ci || !out)
        return crypto_err(INVALID_ARG, "pkey_generate_ec: bad curve %d or NULL", (int)curve);
    *out = NULL;
    /* From the curve's shared parameters key when there is one: the group is
     * copied instead of rebuilt from its name (with its Montgomery context)
     * for every ephemeral key. */
    EVP_PKEY *pkey = NULL, *tmpl = crypto_ec_template(ci->group);
    EVP_PKEY_CTX *ctx = tmpl ? EVP_PKEY_CTX_new_from_pkey(NULL, tmpl, NULL) : NULL;
    if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, &pkey) != 1) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    if (!pkey)
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", ci->group);
    if (!pkey)
        return crypto_ossl(CRYPTO, "pkey_generate_ec: %s key generation failed", ci->group);
    return crypto_pkey_wrap(pkey, out);
}

static bool has_private(EVP_PKEY *pkey)
{
    BIGNUM *d = NULL;
    /* EC and RSA both name their private scalar/exponent; fetching it is the
     * provider-neutral way to ask "is this a private key". */
    bool ok = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d) == 1 ||
              EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_D, &d) == 1;
    BN_clear_free(d);
    return ok;
}

cachet_rc cachet_pkey_parse_private(const uint8_t *buf, size_t len, cachet_pkey **out)
{
    if (!buf || !len || !out || len > CRYPTO_MAX_OBJECT)
        return crypto_err(INVALID_ARG, "pkey_parse_private: empty, NULL or %zu-byte input", len);
    *out = NULL;
    EVP_PKEY *pkey = NULL;
    if (crypto_looks_pem(buf, len)) {
        BIO *bio = BIO_new_mem_buf(buf, (int)len);
        if (!bio)
            return crypto_ossl(NOMEM, "pkey_parse_private: BIO_new_mem_buf failed");
        /* No passphrase callback: encrypted keys are refused, never prompted. */
        pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"");
        BIO_free(bio);
    } else {
        const uint8_t *p = buf;
        pkey = d2i_AutoPrivateKey(NULL, &p, (long)len);
        if (pkey && (size_t)(p - buf) != len) {
            EVP_PKEY_free(pkey);
            return crypto_err(FORMAT, "pkey_parse_private: trailing bytes after the key");
        }
    }
    if (!pkey)
        return crypto_ossl(FORMAT, "pkey_parse_private: no usable private key");
    if (!has_private(pkey)) {
        EVP_PKEY_free(pkey);
        return crypto_err(FORMAT, "pkey_parse_private: key has no private part");
    }
    return crypto_pkey_wrap(pkey, out);
}

cachet_rc cachet_pkey_private_pem(const cachet_pkey *k, char **pem)
{
    if (!k || !k->pkey || !pem)
        return crypto_err(INVALID_ARG, "pkey_private_pem: NULL argument");
    *pem = NULL;
    /* A secure-memory BIO is cleansed when freed. */
    BIO *bio = BIO_new(BIO_s_secmem());
    if (!bio)
        return crypto_ossl(NOMEM, "pkey_private_pem: BIO allocation failed");
    cachet_rc rc = CACHET_OK;
    char *data = NULL;
    if (PEM_write_bio_PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL) != 1) {
        rc = crypto_ossl(CRYPTO, "pkey_private_pem: no private key to write");
        goto out;
    }
    long n = BIO_get_mem_data(bio, &data);
    if (n <= 0 || !(*pem = malloc((size_t)n + 1))) {
        rc = crypto_err(NOMEM, "pkey_private_pem: out of memory");
        goto out;
    }
    memcpy(*pem, data, (size_t)n);
    (*pem)[n] = '\0';
out:
    BIO_free(bio);
    return rc;
}

/* DER ECDSA signature over msg (hashed with alg); OPENSSL_free the result. */
static cachet_rc sign_der(const cachet_pkey *k, cachet_hash_alg alg, const void *msg,
                          size_t msglen, uint8_t **der, size_t *derlen, const char *what)
{
    const crypto_curve_info *ci = NULL;
    cachet_rc rc = crypto_ec_key_curve(k, &ci, what);
    if (rc != CACHET_OK)
        return rc;
    const EVP_MD *md = crypto_md(alg);
    if (!md || (!msg && msglen))
        return crypto_err(INVALID_ARG, "%s: bad hash %d or NULL message", what, (int)alg);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t n = 0;
    uint8_t *buf = NULL;
    const void *m = msglen ? msg : (const void *)"";
    if (!ctx || EVP_DigestSignInit(ctx, NULL, md, NULL, k->pkey) != 1 ||
        EVP_DigestSign(ctx, NULL, &n, m, msglen) != 1 || !(buf = OPENSSL_malloc(n)) ||
        EVP_DigestSign(ctx, buf, &n, m, msglen) != 1) {
        OPENSSL_free(buf);
        EVP_MD_CTX_free(ctx);
        return crypto_ossl(CRYPTO, "%s: signing failed (is it a private key?)", what);
    }
    EVP_MD_CTX_free(ctx);
    *der = buf;
    *derlen = n;
    return CACHET_OK;
}

cachet_rc cachet_ecdsa_sign_der(const cachet_pkey *k, cachet_hash_alg alg, const void *msg,
                                size_t msglen, uint8_t **der, size_t *derlen)
{
    if (!der || !derlen)
        return crypto_err(INVALID_ARG, "ecdsa_sign_der: NULL output");
    *der = NULL;
    *derlen = 0;
    uint8_t *sig = NULL;
    size_t n = 0;
    cachet_rc rc = sign_der(k, alg, msg, msglen, &sig, &n, "ecdsa_sign_der");
    if (rc != CACHET_OK)
        return rc;
    /* Hand back plain malloc memory, which callers free(). */
    *der = malloc(n);
    if (!*der) {
        OPENSSL_free(sig);
        return crypto_err(NOMEM, "ecdsa_sign_der: out of memory");
    }
    memcpy(*der, sig, n);
    *derlen = n;
    OPENSSL_free(sig);
    return CACHET_OK;
}

cachet_rc cachet_ecdsa_sign_raw(const cachet_pkey *k, cachet_hash_alg alg, const void *msg,
                                size_t msglen, uint8_t *rs, size_t comp_len, cachet_endian order)
{
    const char *what = "ecdsa_sign_raw";
    const crypto_curve_info *ci = NULL;
    cachet_rc rc = crypto_ec_key_curve(k, &ci, what);
    if (rc != CACHET_OK)
        return rc;
    if (!rs || comp_len < ci->field_len || comp_len > CRYPTO_EC_MAX_COMP ||
        (order != CACHET_BIG_ENDIAN && order != CACHET_LITTLE_ENDIAN))
        return crypto_err(INVALID_ARG, "%s: %zu-byte components for %s (want %zu..%d)", what,
                          comp_len, ci->group, ci->field_len, CRYPTO_EC_MAX_COMP);
    uint8_t *der = NULL;
    size_t derlen = 0;
    rc = sign_der(k, alg, msg, msglen, &der, &derlen, what);
    if (rc != CACHET_OK)
        return rc;
    const uint8_t *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
    OPENSSL_free(der);
    if (!sig)
        return crypto_ossl(CRYPTO, "%s: own signature did not decode", what);
    const BIGNUM *r = ECDSA_SIG_get0_r(sig), *s = ECDSA_SIG_get0_s(sig);
    int ok = order == CACHET_LITTLE_ENDIAN
                 ? BN_bn2lebinpad(r, rs, (int)comp_len) == (int)comp_len &&
                       BN_bn2lebinpad(s, rs + comp_len, (int)comp_len) == (int)comp_len
                 : BN_bn2binpad(r, rs, (int)comp_len) == (int)comp_len &&
                       BN_bn2binpad(s, rs + comp_len, (int)comp_len) == (int)comp_len;
    ECDSA_SIG_free(sig);
    if (!ok) {
        cachet_wipe(rs, 2 * comp_len);
        return crypto_ossl(CRYPTO, "%s: r or s does not fit %zu bytes", what, comp_len);
    }
    return CACHET_OK;
}
