/* Public keys: SPKI parsing, raw EC points (TDX attestation keys), RSA from
 * modulus/exponent (TPM), key facts for profile checks. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "crypto/crypto_int.h"
#include "crypto/ec_int.h"

cachet_rc crypto_pkey_wrap(EVP_PKEY *pkey, cachet_pkey **out)
{
    cachet_pkey *k = calloc(1, sizeof *k);
    if (!k) {
        EVP_PKEY_free(pkey);
        return crypto_err(NOMEM, "pkey: out of memory");
    }
    k->pkey = pkey;
    *out = k;
    return CACHET_OK;
}

void cachet_pkey_free(cachet_pkey *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey); /* cleanses private material */
    free(k);
}

/* Keys we accept at all: EC on our curves, RSA of a sane size.  A key from
 * untrusted bytes that fails this never reaches a verify call. */
cachet_rc crypto_pkey_acceptable(EVP_PKEY *pkey, const char *what)
{
    if (EVP_PKEY_is_a(pkey, "EC")) {
        char group[64];
        if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                           sizeof group, NULL) != 1 ||
            crypto_curve_by_name(group) == NULL)
            return crypto_ossl(UNSUPPORTED, "%s: EC key on an unsupported curve", what);
        return CACHET_OK;
    }
    if (EVP_PKEY_is_a(pkey, "RSA") || EVP_PKEY_is_a(pkey, "RSA-PSS")) {
        int bits = EVP_PKEY_get_bits(pkey);
        if (bits < CRYPTO_RSA_MIN_BITS || bits > CRYPTO_RSA_MAX_BITS)
            return crypto_err(UNSUPPORTED, "%s: RSA modulus of %d bits not in %d..%d", what,
                              bits, CRYPTO_RSA_MIN_BITS, CRYPTO_RSA_MAX_BITS);
        return CACHET_OK;
    }
    return crypto_err(UNSUPPORTED, "%s: key type %s not supported", what,
                      EVP_PKEY_get0_type_name(pkey) ? EVP_PKEY_get0_type_name(pkey) : "?");
}

cachet_rc cachet_pkey_parse_public(const uint8_t *buf, size_t len, cachet_pkey **out)
{
    if (!buf || !len || !out || len > CRYPTO_MAX_OBJECT)
        return crypto_err(INVALID_ARG, "pkey_parse_public: empty, NULL or %zu-byte input", len);
    *out = NULL;
    EVP_PKEY *pkey = NULL;
    if (crypto_looks_pem(buf, len)) {
        BIO *bio = BIO_new_mem_buf(buf, (int)len);
        if (!bio)
            return crypto_ossl(NOMEM, "pkey_parse_public: BIO_new_mem_buf failed");
        pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
        BIO_free(bio);
        if (!pkey)
            return crypto_ossl(FORMAT, "pkey_parse_public: no PUBLIC KEY in PEM input");
    } else {
        const uint8_t *p = buf;
        pkey = d2i_PUBKEY(NULL, &p, (long)len);
        if (!pkey)
            return crypto_ossl(FORMAT, "pkey_parse_public: DER SubjectPublicKeyInfo invalid");
        if ((size_t)(p - buf) != len) {
            EVP_PKEY_free(pkey);
            return crypto_err(FORMAT, "pkey_parse_public: %zu trailing bytes after SPKI",
                              len - (size_t)(p - buf));
        }
    }
    cachet_rc rc = crypto_pkey_acceptable(pkey, "pkey_parse_public");
    if (rc != CACHET_OK) {
        EVP_PKEY_free(pkey);
        return rc;
    }
    return crypto_pkey_wrap(pkey, out);
}

/* Import from OSSL_PARAMs built by the caller; checks the public part. */
static cachet_rc pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld, const char *what,
                               cachet_pkey **out)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *pkey = NULL;
    cachet_rc rc = CACHET_OK;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1 || !pkey) {
        rc = crypto_ossl(FORMAT, "%s: key import rejected", what);
        goto out;
    }
    EVP_PKEY_CTX_free(ctx);
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    /* On-curve / sane-modulus check; import alone does not run all of it.
     * EC: every curve we accept (P-256/384/521) has cofactor 1, so a point
     * that is on the curve and not at infinity (the quick check, SP 800-56A
     * partial validation) is already in the prime-order group; the full
     * check's n*Q = O scalar multiplication adds nothing for them. */
    if (!ctx || (strcmp(type, "EC") == 0 ? EVP_PKEY_public_check_quick(ctx)
                                          : EVP_PKEY_public_check(ctx)) != 1) {
        rc = crypto_ossl(FORMAT, "%s: public key check failed", what);
        goto out;
    }
    rc = crypto_pkey_acceptable(pkey, what);
    if (rc == CACHET_OK) {
        rc = crypto_pkey_wrap(pkey, out);
        pkey = NULL;
    }
out:
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return rc;
}

/* Parameters-only EC keys, one per curve, built once: a point is imported
 * by copying the (shared, read-only) group into a fresh key and setting the
 * encoded point, which skips rebuilding the group from its name on every
 * import (EVP_PKEY_fromdata), the larger part of a JWK -> key conversion. */
static EVP_PKEY *ec_templates[3];
static const char *const ec_template_groups[3] = {"prime256v1", "secp384r1", "secp521r1"};
static pthread_once_t ec_templates_once = PTHREAD_ONCE_INIT;

static void ec_templates_init(void)
{
    for (size_t i = 0; i < 3; i++) {
        OSSL_PARAM params[2] = {
            OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                             (char *)ec_template_groups[i], 0),
            OSSL_PARAM_construct_end()};
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
            EVP_PKEY_fromdata(ctx, &ec_templates[i], EVP_PKEY_KEY_PARAMETERS, params) != 1)
            ec_templates[i] = NULL; /* that curve takes the general path */
        EVP_PKEY_CTX_free(ctx);
    }
}

EVP_PKEY *crypto_ec_template(const char *group)
{
    pthread_once(&ec_templates_once, ec_templates_init);
    for (size_t i = 0; i < 3; i++)
        if (strcmp(group, ec_template_groups[i]) == 0)
            return ec_templates[i];
    return NULL;
}

/* Imported public points, most recent per slot: the same tee key arrives
 * several times per KBS flow (the runtime-data check in /attest, twice,
 * the EAR's key attestation, the JWE of the release) and a conversion
 * costs more than a signature check's bookkeeping.  An entry is a key that
 * already passed the import checks below, matched on its exact curve and
 * coordinates, and handed out as a new reference (EVP_PKEY is safe to use
 * from several threads once built; nothing here modifies a public key). */
#define EC_CACHE_SLOTS 64
typedef struct ec_cache_entry {
    EVP_PKEY *pkey;
    int curve;
    size_t len;
    uint8_t xy[2 * CRYPTO_EC_MAX_FIELD];
} ec_cache_entry;
static ec_cache_entry ec_cache[EC_CACHE_SLOTS];
static pthread_mutex_t ec_cache_mu = PTHREAD_MUTEX_INITIALIZER;

static size_t ec_cache_slot(int curve, const uint8_t *xy, size_t len)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)curve; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ xy[i]) * 1099511628211ULL;
    return (size_t)(h % EC_CACHE_SLOTS);
}

static EVP_PKEY *ec_cache_get(int curve, const uint8_t *xy, size_t len)
{
    size_t i = ec_cache_slot(curve, xy, len);
    EVP_PKEY *k = NULL;
    pthread_mutex_lock(&ec_cache_mu);
    ec_cache_entry *e = &ec_cache[i];
    if (e->pkey && e->curve == curve && e->len == len && memcmp(e->xy, xy, len) == 0 &&
        EVP_PKEY_up_ref(e->pkey) == 1)
        k = e->pkey;
    pthread_mutex_unlock(&ec_cache_mu);
    return k;
}

static void ec_cache_put(int curve, const uint8_t *xy, size_t len, EVP_PKEY *pkey)
{
    if (len > sizeof ec_cache[0].xy || EVP_PKEY_up_ref(pkey) != 1)
        return;
    size_t i = ec_cache_slot(curve, xy, len);
    pthread_mutex_lock(&ec_cache_mu);
    ec_cache_entry *e = &ec_cache[i];
    EVP_PKEY *old = e->pkey;
    e->pkey = pkey;
    e->curve = curve;
    e->len = len;
    memcpy(e->xy, xy, len);
    pthread_mutex_unlock(&ec_cache_mu);
    EVP_PKEY_free(old);
}

/* The same checks as pkey_fromdata: public-key check, then acceptable. */
static cachet_rc ec_point_import_fast(EVP_PKEY *tmpl, const uint8_t *point, size_t len,
                                      cachet_pkey **out)
{
    EVP_PKEY *pkey = EVP_PKEY_new();
    EVP_PKEY_CTX *ctx = NULL;
    cachet_rc rc = CACHET_OK;
    if (!pkey || EVP_PKEY_copy_parameters(pkey, tmpl) != 1 ||
        EVP_PKEY_set1_encoded_public_key(pkey, point, len) != 1) {
        rc = crypto_ossl(FORMAT, "pkey_from_ec_point: key import rejected");
        goto out;
    }
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    /* Cofactor-1 curves: on the curve and not at infinity is enough (see
     * pkey_fromdata). */
    if (!ctx || EVP_PKEY_public_check_quick(ctx) != 1) {
        rc = crypto_ossl(FORMAT, "pkey_from_ec_point: public key check failed");
        goto out;
    }
    rc = crypto_pkey_acceptable(pkey, "pkey_from_ec_point");
    if (rc == CACHET_OK) {
        rc = crypto_pkey_wrap(pkey, out);
        pkey = NULL;
    }
out:
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

cachet_rc cachet_pkey_from_ec_point(cachet_curve curve, const uint8_t *xy, size_t len,
                                    cachet_pkey **out)
{
    const crypto_curve_info *ci = crypto_curve(curve);
    if (!ci || !xy || !out)
        return crypto_err(INVALID_ARG, "pkey_from_ec_point: bad curve %d or NULL", (int)curve);
    *out = NULL;
    if (len != 2 * ci->field_len)
        return crypto_err(FORMAT, "pkey_from_ec_point: %s point is %zu bytes, want %zu",
                          ci->group, len, 2 * ci->field_len);
    /* SEC 1 §2.3.3 uncompressed form: 0x04 || X || Y. */
    uint8_t point[1 + 2 * CRYPTO_EC_MAX_FIELD];
    point[0] = 0x04;
    memcpy(point + 1, xy, len);
    EVP_PKEY *tmpl = crypto_ec_template(ci->group);
    if (tmpl) {
        EVP_PKEY *hit = ec_cache_get((int)curve, xy, len);
        if (hit)
            return crypto_pkey_wrap(hit, out);
        cachet_rc rc = ec_point_import_fast(tmpl, point, len + 1, out);
        if (rc == CACHET_OK)
            ec_cache_put((int)curve, xy, len, (*out)->pkey);
        return rc;
    }
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, ci->group, 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, len + 1) != 1) {
        OSSL_PARAM_BLD_free(bld);
        return crypto_ossl(NOMEM, "pkey_from_ec_point: parameter build failed");
    }
    cachet_rc rc = pkey_fromdata("EC", bld, "pkey_from_ec_point", out);
    OSSL_PARAM_BLD_free(bld);
    return rc;
}

cachet_rc cachet_pkey_from_rsa(const uint8_t *n, size_t nlen, const uint8_t *e, size_t elen,
                               cachet_pkey **out)
{
    if (!n || !e || !out || !nlen || !elen)
        return crypto_err(INVALID_ARG, "pkey_from_rsa: empty modulus or exponent");
    *out = NULL;
    if (nlen > CRYPTO_RSA_MAX_BITS / 8 + 1 || elen > 8)
        return crypto_err(LIMIT, "pkey_from_rsa: modulus %zu / exponent %zu bytes too long",
                          nlen, elen);
    BIGNUM *bn = BN_bin2bn(n, (int)nlen, NULL), *be = BN_bin2bn(e, (int)elen, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    cachet_rc rc;
    if (!bn || !be || !bld) {
        rc = crypto_ossl(NOMEM, "pkey_from_rsa: allocation failed");
        goto out;
    }
    /* An even or tiny exponent is never legitimate (RFC 8017 §3.1). */
    if (!BN_is_odd(be) || BN_is_one(be) || !BN_is_odd(bn)) {
        rc = crypto_err(FORMAT, "pkey_from_rsa: even modulus or exponent, or exponent 1");
        goto out;
    }
    if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) != 1) {
        rc = crypto_ossl(NOMEM, "pkey_from_rsa: parameter build failed");
        goto out;
    }
    rc = pkey_fromdata("RSA", bld, "pkey_from_rsa", out);
out:
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    return rc;
}

bool cachet_pkey_is_ec(const cachet_pkey *k, cachet_curve curve)
{
    const crypto_curve_info *ci = crypto_curve(curve);
    if (!k || !k->pkey || !ci || !EVP_PKEY_is_a(k->pkey, "EC"))
        return false;
    char group[64];
    if (EVP_PKEY_get_utf8_string_param(k->pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       NULL) != 1)
        return false;
    return crypto_curve_by_name(group) == ci;
}

bool cachet_pkey_is_rsa(const cachet_pkey *k)
{
    return k && k->pkey && (EVP_PKEY_is_a(k->pkey, "RSA") || EVP_PKEY_is_a(k->pkey, "RSA-PSS"));
}

/* SubjectPublicKeyInfo of an EC key on a named curve is a fixed prefix
 * (id-ecPublicKey, the curve OID, the BIT STRING header) followed by the
 * uncompressed point, byte for byte what i2d_PUBKEY writes; building it
 * directly skips OpenSSL 3's encoder lookup, which dominated a key id. */
#define CRYPTO_RC_NOFAST ((cachet_rc)0xfffffff0u) /* "use the general path" */
static const struct {
    const char *group;
    size_t field_len;
    size_t plen;
    uint8_t prefix[32];
} ec_spki_prefix[] = {
    {"prime256v1", 32, 26, {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
                            0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01,
                            0x07, 0x03, 0x42, 0x00}},
    {"secp384r1", 48, 23, {0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
                           0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00}},
    {"secp521r1", 66, 25, {0x30, 0x81, 0x9b, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce,
                           0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23, 0x03,
                           0x81, 0x86, 0x00}},
};

static cachet_rc ec_spki_fast(EVP_PKEY *pkey, uint8_t **der, size_t *len)
{
    char group[64];
    uint8_t point[1 + 2 * CRYPTO_EC_MAX_FIELD];
    size_t plen = 0;
    if (!EVP_PKEY_is_a(pkey, "EC") ||
        EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       NULL) != 1)
        return CRYPTO_RC_NOFAST;
    for (size_t i = 0; i < sizeof ec_spki_prefix / sizeof ec_spki_prefix[0]; i++) {
        if (strcmp(group, ec_spki_prefix[i].group) != 0)
            continue;
        if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
                                            sizeof point, &plen) != 1 ||
            plen != 1 + 2 * ec_spki_prefix[i].field_len || point[0] != 0x04)
            return CRYPTO_RC_NOFAST;
        size_t n = ec_spki_prefix[i].plen + plen;
        uint8_t *buf = malloc(n);
        if (!buf)
            return crypto_err(NOMEM, "pkey_spki_der: out of memory");
        memcpy(buf, ec_spki_prefix[i].prefix, ec_spki_prefix[i].plen);
        memcpy(buf + ec_spki_prefix[i].plen, point, plen);
        *der = buf;
        *len = n;
        return CACHET_OK;
    }
    return CRYPTO_RC_NOFAST;
}

cachet_rc cachet_pkey_spki_der(const cachet_pkey *k, uint8_t **der, size_t *len)
{
    if (!k || !k->pkey || !der || !len)
        return crypto_err(INVALID_ARG, "pkey_spki_der: NULL argument");
    *der = NULL;
    *len = 0;
    cachet_rc frc = ec_spki_fast(k->pkey, der, len);
    if (frc != CRYPTO_RC_NOFAST)
        return frc;
    int n = i2d_PUBKEY(k->pkey, NULL);
    if (n <= 0)
        return crypto_ossl(CRYPTO, "pkey_spki_der: i2d_PUBKEY failed");
    uint8_t *buf = malloc((size_t)n), *p = buf;
    if (!buf)
        return crypto_err(NOMEM, "pkey_spki_der: out of memory");
    if (i2d_PUBKEY(k->pkey, &p) != n) {
        free(buf);
        return crypto_ossl(CRYPTO, "pkey_spki_der: i2d_PUBKEY failed");
    }
    *der = buf;
    *len = (size_t)n;
    return CACHET_OK;
}
