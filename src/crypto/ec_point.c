/* Public-key export for JWKs and key files: the raw EC point of a key and
 * its public half as PEM.  Used by token issuers (JWKS, RFC 7518 §6.2.1)
 * and by the runtime-data binding (the workload's "tee-pubkey" JWK). */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "crypto/crypto_int.h"
#include "crypto/ec_int.h"
#include "crypto/sig_int.h"

cachet_rc cachet_pkey_ec_point(const cachet_pkey *k, cachet_curve *curve, uint8_t *xy, size_t cap,
                               size_t *len)
{
    if (!k || !k->pkey || !curve || !xy || !len)
        return crypto_err(INVALID_ARG, "pkey_ec_point: NULL argument");
    *len = 0;
    const crypto_curve_info *ci = NULL;
    cachet_rc rc = crypto_ec_key_curve(k, &ci, "pkey_ec_point");
    if (rc != CACHET_OK)
        return rc;
    if (cap < 2 * ci->field_len)
        return crypto_err(LIMIT, "pkey_ec_point: need %zu bytes, have %zu", 2 * ci->field_len,
                          cap);
    /* Fast path: the encoded point in one parameter fetch, when it is the
     * uncompressed form 0x04 || X || Y (the default for keys cachet builds). */
    uint8_t enc[1 + 2 * CRYPTO_EC_MAX_FIELD];
    size_t el = 0;
    if (EVP_PKEY_get_octet_string_param(k->pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, enc,
                                        sizeof enc, &el) == 1 &&
        el == 1 + 2 * ci->field_len && enc[0] == 0x04) {
        memcpy(xy, enc + 1, 2 * ci->field_len);
        *len = 2 * ci->field_len;
        *curve = ci->curve;
        return CACHET_OK;
    }
    ERR_clear_error();
    /* The affine coordinates as numbers, padded to the field size: this
     * does not depend on the point format the key was parsed from and does
     * not touch the key (which may be shared between threads). */
    BIGNUM *x = NULL, *y = NULL;
    if (EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) != 1 ||
        EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1 ||
        BN_bn2binpad(x, xy, (int)ci->field_len) != (int)ci->field_len ||
        BN_bn2binpad(y, xy + ci->field_len, (int)ci->field_len) != (int)ci->field_len) {
        BN_free(x);
        BN_free(y);
        memset(xy, 0, 2 * ci->field_len);
        return crypto_ossl(CRYPTO, "pkey_ec_point: the key has no readable %s public point",
                           ci->group);
    }
    BN_free(x);
    BN_free(y);
    *len = 2 * ci->field_len;
    *curve = ci->curve;
    return CACHET_OK;
}

cachet_rc cachet_pkey_public_pem(const cachet_pkey *k, char **pem)
{
    if (!k || !k->pkey || !pem)
        return crypto_err(INVALID_ARG, "pkey_public_pem: NULL argument");
    *pem = NULL;
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio)
        return crypto_ossl(NOMEM, "pkey_public_pem: BIO allocation failed");
    cachet_rc rc = CACHET_OK;
    char *data = NULL;
    if (PEM_write_bio_PUBKEY(bio, k->pkey) != 1) {
        rc = crypto_ossl(CRYPTO, "pkey_public_pem: PEM_write_bio_PUBKEY failed");
        goto out;
    }
    long n = BIO_get_mem_data(bio, &data);
    if (n <= 0 || !(*pem = malloc((size_t)n + 1))) {
        rc = crypto_err(NOMEM, "pkey_public_pem: out of memory");
        goto out;
    }
    memcpy(*pem, data, (size_t)n);
    (*pem)[n] = '\0';
out:
    BIO_free(bio);
    return rc;
}
