/* Ed25519 (RFC 8032) keys and signatures: the key broker's admin JWTs
 * ("EdDSA", as Trustee's admin tooling signs them). */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "cachet/secmem.h"
#include "crypto/crypto_int.h"

static cachet_rc wrap_ed(EVP_PKEY *pk, const char *what, cachet_pkey **out)
{
    if (!pk)
        return crypto_ossl(FORMAT, "%s: not a PEM or DER key", what);
    if (!EVP_PKEY_is_a(pk, "ED25519")) {
        EVP_PKEY_free(pk);
        return crypto_err(UNSUPPORTED, "%s: not an Ed25519 key", what);
    }
    return crypto_pkey_wrap(pk, out);
}

cachet_rc cachet_ed25519_parse_public(const uint8_t *buf, size_t len, cachet_pkey **out)
{
    if (!buf || !out || len == 0 || len > 65536)
        return crypto_err(INVALID_ARG, "ed25519: bad argument");
    EVP_PKEY *pk = NULL;
    if (crypto_looks_pem(buf, len)) {
        BIO *b = BIO_new_mem_buf(buf, (int)len);
        pk = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
    } else {
        const uint8_t *p = buf;
        pk = d2i_PUBKEY(NULL, &p, (long)len);
        if (pk && p != buf + len) {
            EVP_PKEY_free(pk);
            return crypto_err(FORMAT, "ed25519: trailing bytes after the key");
        }
    }
    return wrap_ed(pk, "ed25519 public key", out);
}

cachet_rc cachet_ed25519_parse_private(const uint8_t *buf, size_t len, cachet_pkey **out)
{
    if (!buf || !out || len == 0 || len > 65536)
        return crypto_err(INVALID_ARG, "ed25519: bad argument");
    BIO *b = BIO_new_mem_buf(buf, (int)len);
    EVP_PKEY *pk = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return wrap_ed(pk, "ed25519 private key", out);
}

cachet_rc cachet_ed25519_generate(cachet_pkey **out)
{
    if (!out)
        return crypto_err(INVALID_ARG, "ed25519: no output");
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (!pk)
        return crypto_ossl(CRYPTO, "ed25519: key generation failed");
    return crypto_pkey_wrap(pk, out);
}

cachet_rc cachet_ed25519_sign(const cachet_pkey *k, const void *msg, size_t len, uint8_t sig[64])
{
    if (!k || !k->pkey || (!msg && len) || !sig || !EVP_PKEY_is_a(k->pkey, "ED25519"))
        return crypto_err(INVALID_ARG, "ed25519 sign: bad argument");
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    size_t sl = 64;
    cachet_rc rc = CACHET_OK;
    if (!c || EVP_DigestSignInit_ex(c, NULL, NULL, NULL, NULL, k->pkey, NULL) != 1 ||
        EVP_DigestSign(c, sig, &sl, msg, len) != 1 || sl != 64)
        rc = crypto_ossl(CRYPTO, "ed25519 sign failed");
    EVP_MD_CTX_free(c);
    return rc;
}

cachet_rc cachet_ed25519_verify(const cachet_pkey *k, const void *msg, size_t len,
                                const uint8_t *sig, size_t siglen)
{
    if (!k || !k->pkey || (!msg && len) || !sig || !EVP_PKEY_is_a(k->pkey, "ED25519"))
        return crypto_err(INVALID_ARG, "ed25519 verify: bad argument");
    if (siglen != 64)
        return crypto_err(SIGNATURE, "ed25519: signature of %zu bytes, not 64", siglen);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    cachet_rc rc = CACHET_OK;
    if (!c || EVP_DigestVerifyInit_ex(c, NULL, NULL, NULL, NULL, k->pkey, NULL) != 1)
        rc = crypto_ossl(CRYPTO, "ed25519 verify: init failed");
    else if (EVP_DigestVerify(c, sig, siglen, msg, len) != 1)
        rc = crypto_ossl(SIGNATURE, "ed25519: signature does not verify");
    EVP_MD_CTX_free(c);
    return rc;
}

cachet_rc cachet_ed25519_pem(const cachet_pkey *k, bool private_key, char **pem)
{
    if (!k || !k->pkey || !pem)
        return crypto_err(INVALID_ARG, "ed25519 pem: bad argument");
    *pem = NULL;
    BIO *b = BIO_new(BIO_s_mem());
    int ok = b && (private_key ? PEM_write_bio_PrivateKey(b, k->pkey, NULL, NULL, 0, NULL, NULL)
                               : PEM_write_bio_PUBKEY(b, k->pkey));
    char *data = NULL;
    long n = ok ? BIO_get_mem_data(b, &data) : 0;
    cachet_rc rc = CACHET_OK;
    if (!ok || n <= 0 || !(*pem = malloc((size_t)n + 1))) {
        rc = crypto_ossl(CRYPTO, "ed25519 pem: cannot encode");
    } else {
        memcpy(*pem, data, (size_t)n);
        (*pem)[n] = 0;
    }
    if (data && n > 0)
        cachet_wipe(data, (size_t)n);
    BIO_free(b);
    return rc;
}
