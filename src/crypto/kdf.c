/* Randomness and RFC 5869 HKDF-SHA256. */
#include <limits.h>

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "cachet/secmem.h"
#include "crypto/crypto_int.h"

cachet_rc cachet_random(void *buf, size_t len)
{
    if (!buf && len)
        return crypto_err(INVALID_ARG, "random: NULL buffer");
    uint8_t *p = buf;
    /* RAND_bytes takes an int length. */
    while (len) {
        size_t n = len > (1u << 30) ? (1u << 30) : len;
        if (RAND_bytes(p, (int)n) != 1) {
            cachet_wipe(buf, (size_t)(p - (uint8_t *)buf) + len);
            return crypto_ossl(CRYPTO, "random: RAND_bytes failed");
        }
        p += n;
        len -= n;
    }
    return CACHET_OK;
}

cachet_rc cachet_hkdf_sha256(const void *salt, size_t saltlen, const void *ikm, size_t ikmlen,
                             const void *info, size_t infolen, uint8_t *out, size_t outlen)
{
    if (!out || (!salt && saltlen) || (!ikm && ikmlen) || (!info && infolen))
        return crypto_err(INVALID_ARG, "hkdf: NULL buffer");
    /* RFC 5869 §2.3: L <= 255*HashLen. */
    if (outlen == 0 || outlen > 255u * CACHET_SHA256_LEN)
        return crypto_err(RANGE, "hkdf: output length %zu not in 1..%u", outlen,
                          255u * CACHET_SHA256_LEN);
    EVP_KDF *kdf = crypto_hkdf();
    if (!kdf)
        return crypto_ossl(CRYPTO, "hkdf: HKDF unavailable");
    EVP_KDF_CTX *kctx = EVP_KDF_CTX_new(kdf);
    if (!kctx)
        return crypto_ossl(NOMEM, "hkdf: EVP_KDF_CTX_new failed");

    static uint8_t empty[1];
    OSSL_PARAM params[5];
    size_t n = 0;
    params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                                    ikmlen ? (void *)ikm : empty, ikmlen);
    /* Absent salt = HashLen zeros (RFC 5869 §2.2), which is what OpenSSL
     * does when the parameter is not given. */
    if (saltlen)
        params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, saltlen);
    if (infolen)
        params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, infolen);
    params[n] = OSSL_PARAM_construct_end();

    cachet_rc rc = CACHET_OK;
    if (EVP_KDF_derive(kctx, out, outlen, params) != 1) {
        cachet_wipe(out, outlen);
        rc = crypto_ossl(CRYPTO, "hkdf: derive of %zu bytes failed (info %zu bytes)", outlen,
                         infolen);
    }
    EVP_KDF_CTX_free(kctx); /* frees (and cleanses) its copy of the key */
    return rc;
}
