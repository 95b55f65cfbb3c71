/* AES-256-GCM (NIST SP 800-38D) with a context keyed once and reused per
 * message: only IV, AAD, data and tag change, so the key schedule and the
 * GHASH tables are computed once (the seal format streams GB/s through
 * here). */
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "cachet/secmem.h"
#include "crypto/crypto_int.h"

struct cachet_aead {
    EVP_CIPHER_CTX *enc;
    EVP_CIPHER_CTX *dec;
    /* Incremental messages: whether one is open, and its data so far (the
     * GCM limit holds over the whole message, not per update). */
    bool enc_open, dec_open;
    uint64_t enc_len, dec_len;
};

/* EVP update calls take int lengths: feed big buffers in pieces.  A multiple
 * of 16 keeps every piece but the last block-aligned. */
#define AEAD_PIECE ((size_t)1 << 30)

/* SP 800-38D §5.2.1.1: plaintext up to 2^39-256 bits per invocation. */
#define GCM_MAX_LEN (((uint64_t)1 << 36) - 32)

cachet_aead *cachet_aead_new(const uint8_t key[CACHET_AES256_KEY_LEN])
{
    const EVP_CIPHER *gcm = crypto_aes256gcm();
    if (!key) {
        crypto_err(INVALID_ARG, "aead_new: NULL key");
        return NULL;
    }
    if (!gcm) {
        crypto_ossl(CRYPTO, "aead_new: AES-256-GCM unavailable");
        return NULL;
    }
    cachet_aead *a = calloc(1, sizeof *a);
    if (!a) {
        crypto_err(NOMEM, "aead_new: out of memory");
        return NULL;
    }
    a->enc = EVP_CIPHER_CTX_new();
    a->dec = EVP_CIPHER_CTX_new();
    /* The default GCM IV length is 12 bytes, which is ours. */
    if (!a->enc || !a->dec || EVP_EncryptInit_ex(a->enc, gcm, NULL, key, NULL) != 1 ||
        EVP_DecryptInit_ex(a->dec, gcm, NULL, key, NULL) != 1 ||
        EVP_CIPHER_CTX_get_iv_length(a->enc) != CACHET_GCM_IV_LEN) {
        crypto_ossl(CRYPTO, "aead_new: AES-256-GCM init failed");
        cachet_aead_free(a);
        return NULL;
    }
    return a;
}

void cachet_aead_free(cachet_aead *a)
{
    if (!a)
        return;
    EVP_CIPHER_CTX_free(a->enc); /* cleanses the key schedule */
    EVP_CIPHER_CTX_free(a->dec);
    free(a);
}

/* Run AAD (out == NULL) or data through ctx in int-sized pieces. */
static int aead_update(EVP_CIPHER_CTX *ctx, uint8_t *out, const uint8_t *in, size_t len)
{
    while (len) {
        size_t n = len > AEAD_PIECE ? AEAD_PIECE : len;
        int outl = 0;
        if (EVP_CipherUpdate(ctx, out, &outl, in, (int)n) != 1)
            return 0;
        /* GCM is a stream mode: output equals input for data. */
        if (out && (size_t)outl != n)
            return 0;
        in += n;
        if (out)
            out += n;
        len -= n;
    }
    return 1;
}

static cachet_rc aead_args(cachet_aead *a, const uint8_t *iv, const void *aad, size_t aadlen,
                           const void *in, size_t len, const void *out, const uint8_t *tag,
                           const char *what)
{
    if (!a || !iv || !tag || (!aad && aadlen) || (len && (!in || !out)))
        return crypto_err(INVALID_ARG, "%s: NULL argument", what);
    if (len > GCM_MAX_LEN)
        return crypto_err(LIMIT, "%s: %zu bytes exceed the GCM message limit", what, len);
    return CACHET_OK;
}

cachet_rc cachet_aead_seal(cachet_aead *a, const uint8_t iv[CACHET_GCM_IV_LEN], const void *aad,
                           size_t aadlen, const void *in, size_t len, void *out,
                           uint8_t tag[CACHET_GCM_TAG_LEN])
{
    cachet_rc rc = aead_args(a, iv, aad, aadlen, in, len, out, tag, "aead_seal");
    if (rc != CACHET_OK)
        return rc;
    a->enc_open = false; /* abandons any incremental message */
    uint8_t fin[16]; /* GCM final emits nothing; a real buffer avoids NULL + 0 */
    int outl = 0;
    if (EVP_EncryptInit_ex(a->enc, NULL, NULL, NULL, iv) != 1 ||
        !aead_update(a->enc, NULL, aad, aadlen) || !aead_update(a->enc, out, in, len) ||
        EVP_EncryptFinal_ex(a->enc, fin, &outl) != 1 || outl != 0 ||
        EVP_CIPHER_CTX_ctrl(a->enc, EVP_CTRL_GCM_GET_TAG, CACHET_GCM_TAG_LEN, tag) != 1) {
        cachet_wipe(tag, CACHET_GCM_TAG_LEN);
        return crypto_ossl(CRYPTO, "aead_seal: AES-256-GCM encryption of %zu bytes failed", len);
    }
    return CACHET_OK;
}

cachet_rc cachet_aead_open(cachet_aead *a, const uint8_t iv[CACHET_GCM_IV_LEN], const void *aad,
                           size_t aadlen, const void *in, size_t len, void *out,
                           const uint8_t tag[CACHET_GCM_TAG_LEN])
{
    cachet_rc rc = aead_args(a, iv, aad, aadlen, in, len, out, tag, "aead_open");
    if (rc != CACHET_OK)
        return rc;
    a->dec_open = false; /* abandons any incremental message */
    uint8_t t[CACHET_GCM_TAG_LEN]; /* the ctrl wants a mutable buffer */
    memcpy(t, tag, sizeof t);
    uint8_t fin[16];
    int outl = 0;
    if (EVP_DecryptInit_ex(a->dec, NULL, NULL, NULL, iv) != 1 ||
        !aead_update(a->dec, NULL, aad, aadlen) || !aead_update(a->dec, out, in, len) ||
        EVP_CIPHER_CTX_ctrl(a->dec, EVP_CTRL_GCM_SET_TAG, CACHET_GCM_TAG_LEN, t) != 1) {
        if (len)
            cachet_wipe(out, len);
        return crypto_ossl(CRYPTO, "aead_open: AES-256-GCM decryption of %zu bytes failed", len);
    }
    /* Final compares the tag in constant time; on mismatch nothing of the
     * unauthenticated plaintext may leave. */
    if (EVP_DecryptFinal_ex(a->dec, fin, &outl) != 1 || outl != 0) {
        if (len)
            cachet_wipe(out, len);
        ERR_clear_error();
        return crypto_err(AUTH, "aead_open: GCM tag mismatch over %zu bytes (aad %zu bytes)",
                          len, aadlen);
    }
    return CACHET_OK;
}

/* ---- incremental messages ------------------------------------------------ */

static cachet_rc begin(EVP_CIPHER_CTX *ctx, bool *open, uint64_t *sofar, const uint8_t *iv,
                       const void *aad, size_t aadlen, const char *what)
{
    *open = false;
    if (!iv || (!aad && aadlen))
        return crypto_err(INVALID_ARG, "%s: NULL argument", what);
    if (EVP_CipherInit_ex(ctx, NULL, NULL, NULL, iv, -1) != 1 || !aead_update(ctx, NULL, aad, aadlen))
        return crypto_ossl(CRYPTO, "%s: AES-256-GCM setup failed", what);
    *open = true;
    *sofar = 0;
    return CACHET_OK;
}

/* A failed update closes the message: its tag can no longer be trusted. */
static cachet_rc update(EVP_CIPHER_CTX *ctx, bool *open, uint64_t *sofar, const void *in,
                        size_t len, void *out, const char *what)
{
    if (!*open)
        return crypto_err(STATE, "%s: no message begun", what);
    if (len && (!in || !out)) {
        *open = false;
        return crypto_err(INVALID_ARG, "%s: NULL argument", what);
    }
    if (len > GCM_MAX_LEN - *sofar) {
        *open = false;
        return crypto_err(LIMIT, "%s: %llu bytes exceed the GCM message limit", what,
                          (unsigned long long)*sofar + len);
    }
    if (!aead_update(ctx, out, in, len)) {
        *open = false;
        return crypto_ossl(CRYPTO, "%s: AES-256-GCM over %zu bytes failed", what, len);
    }
    *sofar += len;
    return CACHET_OK;
}

cachet_rc cachet_aead_seal_begin(cachet_aead *a, const uint8_t iv[CACHET_GCM_IV_LEN],
                                 const void *aad, size_t aadlen)
{
    if (!a)
        return crypto_err(INVALID_ARG, "aead_seal_begin: NULL context");
    return begin(a->enc, &a->enc_open, &a->enc_len, iv, aad, aadlen, "aead_seal_begin");
}

cachet_rc cachet_aead_seal_update(cachet_aead *a, const void *in, size_t len, void *out)
{
    if (!a)
        return crypto_err(INVALID_ARG, "aead_seal_update: NULL context");
    return update(a->enc, &a->enc_open, &a->enc_len, in, len, out, "aead_seal_update");
}

cachet_rc cachet_aead_seal_finish(cachet_aead *a, uint8_t tag[CACHET_GCM_TAG_LEN])
{
    if (!a || !tag)
        return crypto_err(INVALID_ARG, "aead_seal_finish: NULL argument");
    if (!a->enc_open)
        return crypto_err(STATE, "aead_seal_finish: no message begun");
    a->enc_open = false;
    uint8_t fin[16];
    int outl = 0;
    if (EVP_EncryptFinal_ex(a->enc, fin, &outl) != 1 || outl != 0 ||
        EVP_CIPHER_CTX_ctrl(a->enc, EVP_CTRL_GCM_GET_TAG, CACHET_GCM_TAG_LEN, tag) != 1) {
        cachet_wipe(tag, CACHET_GCM_TAG_LEN);
        return crypto_ossl(CRYPTO, "aead_seal_finish: AES-256-GCM failed");
    }
    return CACHET_OK;
}

cachet_rc cachet_aead_open_begin(cachet_aead *a, const uint8_t iv[CACHET_GCM_IV_LEN],
                                 const void *aad, size_t aadlen)
{
    if (!a)
        return crypto_err(INVALID_ARG, "aead_open_begin: NULL context");
    return begin(a->dec, &a->dec_open, &a->dec_len, iv, aad, aadlen, "aead_open_begin");
}

cachet_rc cachet_aead_open_update(cachet_aead *a, const void *in, size_t len, void *out)
{
    if (!a)
        return crypto_err(INVALID_ARG, "aead_open_update: NULL context");
    return update(a->dec, &a->dec_open, &a->dec_len, in, len, out, "aead_open_update");
}

cachet_rc cachet_aead_open_finish(cachet_aead *a, const uint8_t tag[CACHET_GCM_TAG_LEN])
{
    if (!a || !tag)
        return crypto_err(INVALID_ARG, "aead_open_finish: NULL argument");
    if (!a->dec_open)
        return crypto_err(STATE, "aead_open_finish: no message begun");
    a->dec_open = false;
    uint8_t t[CACHET_GCM_TAG_LEN], fin[16];
    memcpy(t, tag, sizeof t);
    int outl = 0;
    if (EVP_CIPHER_CTX_ctrl(a->dec, EVP_CTRL_GCM_SET_TAG, CACHET_GCM_TAG_LEN, t) != 1)
        return crypto_ossl(CRYPTO, "aead_open_finish: AES-256-GCM failed");
    /* Constant-time tag comparison inside Final. */
    if (EVP_DecryptFinal_ex(a->dec, fin, &outl) != 1 || outl != 0) {
        ERR_clear_error();
        return crypto_err(AUTH, "aead_open_finish: GCM tag mismatch over %llu bytes",
                          (unsigned long long)a->dec_len);
    }
    return CACHET_OK;
}
