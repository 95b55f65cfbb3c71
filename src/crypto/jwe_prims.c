/* Primitives for JWE (RFC 7516/7518) as the key broker uses them:
 * ECDH shared secrets, the Concat KDF of RFC 7518 §4.6.2, AES-256 Key Wrap
 * (RFC 3394) and EC private keys from raw scalars (test vectors). */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "cachet/secmem.h"
#include "crypto/crypto_int.h"

cachet_rc cachet_ecdh_derive(const cachet_pkey *priv, const cachet_pkey *peer, uint8_t *out,
                             size_t cap, size_t *len)
{
    if (!priv || !peer || !out || !len)
        return crypto_err(INVALID_ARG, "ecdh: missing argument");
    /* The peer must be a valid point of the private key's group.  For EC,
     * EVP_PKEY_derive_set_peer's own validation is the full public-key check
     * (an n*Q scalar multiplication, as dear as the ECDH itself); on the
     * cofactor-1 curves cachet accepts (see pkey.c), on the curve and not at
     * infinity (the quick check) already means in the prime-order group, so
     * that is checked here and set_peer does not repeat the full check.
     * set_peer still refuses a point of another group (the provider matches
     * the two keys' groups). */
    bool ec = EVP_PKEY_is_a(peer->pkey, "EC");
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv->pkey, NULL);
    EVP_PKEY_CTX *pctx = ec ? EVP_PKEY_CTX_new_from_pkey(NULL, peer->pkey, NULL) : NULL;
    size_t n = 0;
    cachet_rc rc = CACHET_OK;
    if (ec && (!pctx || EVP_PKEY_public_check_quick(pctx) != 1)) {
        rc = crypto_ossl(CRYPTO, "ecdh: the peer's public key is not a valid point");
    } else if (!ctx || EVP_PKEY_derive_init(ctx) <= 0 ||
               EVP_PKEY_derive_set_peer_ex(ctx, peer->pkey, ec ? 0 : 1) <= 0 ||
               EVP_PKEY_derive(ctx, NULL, &n) <= 0) {
        rc = crypto_ossl(CRYPTO, "ecdh: cannot derive");
    } else if (n > cap) {
        rc = crypto_err(LIMIT, "ecdh: %zu-byte secret exceeds %zu", n, cap);
    } else if (EVP_PKEY_derive(ctx, out, &n) <= 0) {
        rc = crypto_ossl(CRYPTO, "ecdh: derive failed");
    } else {
        *len = n;
    }
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_CTX_free(pctx);
    return rc;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

cachet_rc cachet_concat_kdf_sha256(const uint8_t *z, size_t zlen, const char *alg_id,
                                   uint8_t out[32])
{
    if (!z || !alg_id || !out || zlen == 0 || zlen > 132)
        return crypto_err(INVALID_ARG, "concat kdf: bad argument");
    size_t alen = strlen(alg_id);
    if (alen > 64)
        return crypto_err(LIMIT, "concat kdf: algorithm id too long");
    /* round 1 || Z || len(alg) alg || len(apu)=0 || len(apv)=0 || keydatalen bits */
    uint8_t buf[4 + 132 + 4 + 64 + 4 + 4 + 4];
    size_t o = 0;
    put_be32(buf + o, 1);
    o += 4;
    memcpy(buf + o, z, zlen);
    o += zlen;
    put_be32(buf + o, (uint32_t)alen);
    o += 4;
    memcpy(buf + o, alg_id, alen);
    o += alen;
    put_be32(buf + o, 0);
    o += 4;
    put_be32(buf + o, 0);
    o += 4;
    put_be32(buf + o, 256);
    o += 4;
    cachet_rc rc = cachet_sha256(buf, o, out);
    cachet_wipe(buf, sizeof buf);
    return rc;
}

static cachet_rc kw_run(int enc, const uint8_t kek[32], const uint8_t *in, size_t len,
                        uint8_t *out, size_t *outlen)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    EVP_CIPHER *ciph = EVP_CIPHER_fetch(NULL, "AES-256-WRAP", NULL);
    int n1 = 0, n2 = 0;
    cachet_rc rc = CACHET_OK;
    if (!c || !ciph || EVP_CipherInit_ex2(c, ciph, kek, NULL, enc, NULL) != 1) {
        rc = crypto_ossl(CRYPTO, "aes key wrap: init failed");
    } else if (EVP_CipherUpdate(c, out, &n1, in, (int)len) != 1 ||
               EVP_CipherFinal_ex(c, out + n1, &n2) != 1) {
        rc = enc ? crypto_ossl(CRYPTO, "aes key wrap failed")
                 : crypto_ossl(AUTH, "aes key unwrap: integrity check failed");
    } else {
        *outlen = (size_t)n1 + (size_t)n2;
    }
    EVP_CIPHER_free(ciph);
    EVP_CIPHER_CTX_free(c);
    return rc;
}

cachet_rc cachet_aes256_kw_wrap(const uint8_t kek[32], const uint8_t *in, size_t len,
                                uint8_t *out, size_t cap, size_t *outlen)
{
    if (!kek || !in || !out || !outlen || len < 16 || len % 8 != 0 || len > 4096)
        return crypto_err(INVALID_ARG, "aes key wrap: key data must be 16..4096 bytes, 8-aligned");
    if (cap < len + 8)
        return crypto_err(LIMIT, "aes key wrap: output too small");
    return kw_run(1, kek, in, len, out, outlen);
}

cachet_rc cachet_aes256_kw_unwrap(const uint8_t kek[32], const uint8_t *in, size_t len,
                                  uint8_t *out, size_t cap, size_t *outlen)
{
    if (!kek || !in || !out || !outlen || len < 24 || len % 8 != 0 || len > 4104)
        return crypto_err(FORMAT, "aes key unwrap: wrapped key must be 24..4104 bytes, 8-aligned");
    if (cap < len)
        return crypto_err(LIMIT, "aes key unwrap: output too small");
    cachet_rc rc = kw_run(0, kek, in, len, out, outlen);
    if (rc != CACHET_OK)
        cachet_wipe(out, cap);
    return rc;
}

static const char *curve_group(cachet_curve curve, size_t *field)
{
    switch (curve) {
    case CACHET_CURVE_P256:
        *field = 32;
        return "P-256";
    case CACHET_CURVE_P384:
        *field = 48;
        return "P-384";
    case CACHET_CURVE_P521:
        *field = 66;
        return "P-521";
    }
    return NULL;
}

cachet_rc cachet_pkey_from_ec_private(cachet_curve curve, const uint8_t *d, size_t dlen,
                                      const uint8_t *xy, size_t xylen, cachet_pkey **out)
{
    size_t field = 0;
    const char *group = curve_group(curve, &field);
    if (!group || !d || !xy || !out || dlen != field || xylen != 2 * field)
        return crypto_err(INVALID_ARG, "ec private key: scalar or point of the wrong size");
    uint8_t pub[1 + 2 * 66];
    pub[0] = 0x04;
    memcpy(pub + 1, xy, xylen);
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    BIGNUM *bn = BN_bin2bn(d, (int)dlen, NULL);
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pk = NULL;
    cachet_rc rc = CACHET_OK;
    if (!b || !bn ||
        !OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
        !OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_PRIV_KEY, bn) ||
        !OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pub, 1 + xylen) ||
        !(params = OSSL_PARAM_BLD_to_param(b)) ||
        !(ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_KEYPAIR, params) <= 0) {
        rc = crypto_ossl(FORMAT, "ec private key: cannot import");
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(b);
    BN_clear_free(bn);
    if (rc == CACHET_OK)
        rc = crypto_pkey_wrap(pk, out);
    return rc;
}
