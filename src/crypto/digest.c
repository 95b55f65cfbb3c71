/* SHA-2 digests (FIPS 180-4) and HMAC-SHA256 (RFC 2104). */
#include <limits.h>
#include <stdlib.h>

#include <openssl/hmac.h>

#include "cachet/secmem.h"
#include "crypto/crypto_int.h"

struct cachet_hash_ctx {
    EVP_MD_CTX *ctx;
    cachet_hash_alg alg;
    bool done; /* final was called: further use is a state error */
};

size_t cachet_hash_len(cachet_hash_alg alg)
{
    switch (alg) {
    case CACHET_HASH_SHA256: return CACHET_SHA256_LEN;
    case CACHET_HASH_SHA384: return CACHET_SHA384_LEN;
    case CACHET_HASH_SHA512: return CACHET_SHA512_LEN;
    }
    return 0;
}

cachet_rc cachet_hash(cachet_hash_alg alg, const void *data, size_t len, uint8_t *out)
{
    const EVP_MD *md = crypto_md(alg);
    if (!md || !out || (!data && len))
        return crypto_err(INVALID_ARG, "hash: bad algorithm %d or NULL buffer", (int)alg);
    unsigned int outlen = 0;
    if (EVP_Digest(len ? data : "", len, out, &outlen, md, NULL) != 1 ||
        outlen != cachet_hash_len(alg))
        return crypto_ossl(CRYPTO, "hash: EVP_Digest %s failed", crypto_md_name(alg));
    return CACHET_OK;
}

cachet_rc cachet_sha256(const void *data, size_t len, uint8_t out[CACHET_SHA256_LEN])
{
    return cachet_hash(CACHET_HASH_SHA256, data, len, out);
}

cachet_rc cachet_sha384(const void *data, size_t len, uint8_t out[CACHET_SHA384_LEN])
{
    return cachet_hash(CACHET_HASH_SHA384, data, len, out);
}

cachet_rc cachet_sha512(const void *data, size_t len, uint8_t out[CACHET_SHA512_LEN])
{
    return cachet_hash(CACHET_HASH_SHA512, data, len, out);
}

cachet_hash_ctx *cachet_hash_new(cachet_hash_alg alg)
{
    const EVP_MD *md = crypto_md(alg);
    if (!md) {
        crypto_err(INVALID_ARG, "hash_new: bad algorithm %d", (int)alg);
        return NULL;
    }
    cachet_hash_ctx *h = calloc(1, sizeof *h);
    if (!h) {
        crypto_err(NOMEM, "hash_new: out of memory");
        return NULL;
    }
    h->alg = alg;
    h->ctx = EVP_MD_CTX_new();
    if (!h->ctx || EVP_DigestInit_ex(h->ctx, md, NULL) != 1) {
        crypto_ossl(CRYPTO, "hash_new: EVP_DigestInit_ex %s failed", crypto_md_name(alg));
        cachet_hash_free(h);
        return NULL;
    }
    return h;
}

cachet_rc cachet_hash_update(cachet_hash_ctx *h, const void *data, size_t len)
{
    if (!h || (!data && len))
        return crypto_err(INVALID_ARG, "hash_update: NULL context or buffer");
    if (h->done)
        return crypto_err(STATE, "hash_update: after final");
    if (len && EVP_DigestUpdate(h->ctx, data, len) != 1)
        return crypto_ossl(CRYPTO, "hash_update: EVP_DigestUpdate failed");
    return CACHET_OK;
}

cachet_rc cachet_hash_final(cachet_hash_ctx *h, uint8_t *out)
{
    if (!h || !out)
        return crypto_err(INVALID_ARG, "hash_final: NULL context or output");
    if (h->done)
        return crypto_err(STATE, "hash_final: called twice");
    h->done = true;
    unsigned int outlen = 0;
    if (EVP_DigestFinal_ex(h->ctx, out, &outlen) != 1 || outlen != cachet_hash_len(h->alg))
        return crypto_ossl(CRYPTO, "hash_final: EVP_DigestFinal_ex failed");
    return CACHET_OK;
}

void cachet_hash_free(cachet_hash_ctx *h)
{
    if (!h)
        return;
    EVP_MD_CTX_free(h->ctx);
    free(h);
}

cachet_rc cachet_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                             uint8_t out[CACHET_SHA256_LEN])
{
    static const uint8_t empty[1];
    if (!out || (!key && keylen) || (!data && len))
        return crypto_err(INVALID_ARG, "hmac_sha256: NULL buffer");
    if (keylen > INT_MAX)
        return crypto_err(LIMIT, "hmac_sha256: key of %zu bytes is too long", keylen);
    const EVP_MD *md = crypto_md(CACHET_HASH_SHA256);
    if (!md)
        return crypto_ossl(CRYPTO, "hmac_sha256: SHA256 unavailable");
    unsigned int outlen = 0;
    /* An empty key is legal in HMAC; OpenSSL wants a non-NULL pointer. */
    if (!HMAC(md, keylen ? key : empty, (int)keylen, len ? data : empty, len, out, &outlen) ||
        outlen != CACHET_SHA256_LEN) {
        cachet_wipe(out, CACHET_SHA256_LEN);
        return crypto_ossl(CRYPTO, "hmac_sha256: HMAC failed");
    }
    return CACHET_OK;
}
