/* Primitives for TPM 2.0 credential protection (TPM 2.0 Part 1 §24, used by
 * the verifier side of TPM2_MakeCredential in src/evidence/tpm): HMAC with
 * any supported hash, RSAES-OAEP with a caller-chosen seed (so that a
 * verifier can recompute a credential it issued), AES-CFB, and the size of
 * an RSA modulus. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include "cachet/secmem.h"
#include "crypto/crypto_int.h"

cachet_rc cachet_hmac(cachet_hash_alg alg, const void *key, size_t keylen, const void *data,
                      size_t len, uint8_t *out)
{
    static const uint8_t empty[1];
    if (!out || (!key && keylen) || (!data && len))
        return crypto_err(INVALID_ARG, "hmac: NULL buffer");
    if (keylen > INT_MAX)
        return crypto_err(LIMIT, "hmac: key of %zu bytes is too long", keylen);
    const EVP_MD *md = crypto_md(alg);
    if (!md)
        return crypto_err(INVALID_ARG, "hmac: bad hash algorithm %d", (int)alg);
    unsigned int outlen = 0;
    if (!HMAC(md, keylen ? key : empty, (int)keylen, len ? data : empty, len, out, &outlen) ||
        outlen != cachet_hash_len(alg)) {
        cachet_wipe(out, cachet_hash_len(alg));
        return crypto_ossl(CRYPTO, "hmac: %s HMAC failed", crypto_md_name(alg));
    }
    return CACHET_OK;
}

size_t cachet_pkey_rsa_bytes(const cachet_pkey *k)
{
    if (!k || !k->pkey || !EVP_PKEY_is_a(k->pkey, "RSA"))
        return 0;
    int bits = EVP_PKEY_get_bits(k->pkey);
    return bits > 0 ? ((size_t)bits + 7) / 8 : 0;
}

/* MGF1 (RFC 8017 §B.2.1): mask of masklen bytes from seed, XORed into out. */
static cachet_rc mgf1_xor(const EVP_MD *md, size_t hlen, const uint8_t *seed, size_t seedlen,
                          uint8_t *out, size_t masklen)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return crypto_ossl(NOMEM, "oaep: EVP_MD_CTX_new failed");
    uint8_t block[EVP_MAX_MD_SIZE];
    cachet_rc rc = CACHET_OK;
    for (uint32_t counter = 0, done = 0; done < masklen; counter++) {
        uint8_t c[4] = { (uint8_t)(counter >> 24), (uint8_t)(counter >> 16),
                         (uint8_t)(counter >> 8), (uint8_t)counter };
        if (EVP_DigestInit_ex(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, seed, seedlen) != 1 ||
            EVP_DigestUpdate(ctx, c, sizeof c) != 1 || EVP_DigestFinal_ex(ctx, block, NULL) != 1) {
            rc = crypto_ossl(CRYPTO, "oaep: MGF1 digest failed");
            break;
        }
        size_t n = masklen - done < hlen ? masklen - done : hlen;
        for (size_t i = 0; i < n; i++)
            out[done + i] ^= block[i];
        done += (uint32_t)n;
    }
    cachet_wipe(block, sizeof block);
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* The raw RSA public operation on a modulus-sized block. */
static cachet_rc rsa_raw_public(const cachet_pkey *k, const uint8_t *em, size_t klen, uint8_t *out)
{
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
    cachet_rc rc = CACHET_OK;
    size_t outlen = klen;
    if (!pctx || EVP_PKEY_encrypt_init(pctx) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_NO_PADDING) != 1 ||
        EVP_PKEY_encrypt(pctx, out, &outlen, em, klen) != 1 || outlen != klen)
        rc = crypto_ossl(CRYPTO, "oaep: RSA public operation failed");
    EVP_PKEY_CTX_free(pctx);
    return rc;
}

cachet_rc cachet_rsa_oaep_encrypt(const cachet_pkey *k, cachet_hash_alg alg, const void *label,
                                  size_t label_len, const void *msg, size_t msglen,
                                  const uint8_t *seed, uint8_t *out, size_t cap, size_t *outlen)
{
    if (!k || !out || !outlen || (!label && label_len) || (!msg && msglen))
        return crypto_err(INVALID_ARG, "oaep: NULL argument");
    *outlen = 0;
    const EVP_MD *md = crypto_md(alg);
    size_t klen = cachet_pkey_rsa_bytes(k), hlen = cachet_hash_len(alg);
    if (!md || !hlen)
        return crypto_err(INVALID_ARG, "oaep: bad hash algorithm %d", (int)alg);
    if (!klen)
        return crypto_err(INVALID_ARG, "oaep: not an RSA key");
    /* RFC 8017 §7.1.1 step 1b. */
    if (klen < 2 * hlen + 2 || msglen > klen - 2 * hlen - 2)
        return crypto_err(RANGE, "oaep: %zu-byte message too long for a %zu-byte modulus",
                          msglen, klen);
    if (cap < klen)
        return crypto_err(LIMIT, "oaep: output buffer of %zu bytes, need %zu", cap, klen);

    uint8_t *em = calloc(1, klen);
    if (!em)
        return crypto_err(NOMEM, "oaep: out of memory");
    uint8_t *mseed = em + 1, *db = em + 1 + hlen;
    size_t dblen = klen - hlen - 1;
    cachet_rc rc = cachet_hash(alg, label_len ? label : "", label_len, db); /* lHash */
    if (rc != CACHET_OK)
        goto out;
    db[dblen - msglen - 1] = 0x01; /* PS (zeros) || 0x01 || M */
    if (msglen)
        memcpy(db + dblen - msglen, msg, msglen);
    if (seed)
        memcpy(mseed, seed, hlen);
    else if ((rc = cachet_random(mseed, hlen)) != CACHET_OK)
        goto out;
    uint8_t seed_copy[EVP_MAX_MD_SIZE];
    memcpy(seed_copy, mseed, hlen);
    rc = mgf1_xor(md, hlen, seed_copy, hlen, db, dblen); /* maskedDB */
    cachet_wipe(seed_copy, sizeof seed_copy);
    if (rc == CACHET_OK)
        rc = mgf1_xor(md, hlen, db, dblen, mseed, hlen); /* maskedSeed */
    if (rc == CACHET_OK)
        rc = rsa_raw_public(k, em, klen, out);
    if (rc == CACHET_OK)
        *outlen = klen;
out:
    cachet_wipe(em, klen);
    free(em);
    return rc;
}

static cachet_rc aes_cfb(int enc, const uint8_t *key, size_t keylen, const uint8_t iv[16],
                         const void *in, size_t len, void *out)
{
    const char *name = keylen == 16 ? "AES-128-CFB" : keylen == 24 ? "AES-192-CFB"
                     : keylen == 32 ? "AES-256-CFB" : NULL;
    if (!key || !iv || (!in && len) || (!out && len))
        return crypto_err(INVALID_ARG, "aes_cfb: NULL argument");
    if (!name)
        return crypto_err(INVALID_ARG, "aes_cfb: %zu-byte key", keylen);
    if (len > INT_MAX)
        return crypto_err(LIMIT, "aes_cfb: %zu bytes", len);
    if (!len)
        return CACHET_OK;
    EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, name, NULL);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    cachet_rc rc = CACHET_OK;
    int n1 = 0, n2 = 0;
    if (!c || !ctx || EVP_CipherInit_ex2(ctx, c, key, iv, enc, NULL) != 1 ||
        EVP_CipherUpdate(ctx, out, &n1, in, (int)len) != 1 ||
        EVP_CipherFinal_ex(ctx, (uint8_t *)out + n1, &n2) != 1 || (size_t)(n1 + n2) != len)
        rc = crypto_ossl(CRYPTO, "aes_cfb: %s failed", name);
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(c);
    return rc;
}

cachet_rc cachet_aes_cfb_encrypt(const uint8_t *key, size_t keylen, const uint8_t iv[16],
                                 const void *in, size_t len, void *out)
{
    return aes_cfb(1, key, keylen, iv, in, len, out);
}

cachet_rc cachet_aes_cfb_decrypt(const uint8_t *key, size_t keylen, const uint8_t iv[16],
                                 const void *in, size_t len, void *out)
{
    return aes_cfb(0, key, keylen, iv, in, len, out);
}
