/* Public keys and signatures: ECDSA raw r||s in both byte orders against
 * DER, EC points from raw X||Y, RSA-PSS / PKCS#1 (generated keys and the
 * real AMD ARK→ASK signature), private key round trips, refusals. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "cachet/crypto.h"
#include "tc_hex.h"
#include "testpki.h"

static const char msg[] = "attestation report bytes";

static void roundtrip_curve(cachet_curve curve, cachet_hash_alg h, size_t field)
{
    cachet_pkey *k = NULL;
    assert_int_equal(cachet_pkey_generate_ec(curve, &k), CACHET_OK);
    assert_true(cachet_pkey_is_ec(k, curve));
    assert_false(cachet_pkey_is_rsa(k));

    /* Public half through SPKI DER, as a verifier would receive it. */
    uint8_t *spki = NULL;
    size_t spki_len = 0;
    cachet_pkey *pub = NULL;
    assert_int_equal(cachet_pkey_spki_der(k, &spki, &spki_len), CACHET_OK);
    assert_int_equal(cachet_pkey_parse_public(spki, spki_len, &pub), CACHET_OK);
    assert_true(cachet_pkey_is_ec(pub, curve));

    /* Raw in both byte orders, at exact width and AMD's 72-byte padding. */
    const size_t widths[] = {field, 72};
    const cachet_endian orders[] = {CACHET_BIG_ENDIAN, CACHET_LITTLE_ENDIAN};
    for (size_t w = 0; w < 2; w++) {
        for (size_t o = 0; o < 2; o++) {
            size_t cl = widths[w];
            uint8_t rs[144];
            assert_int_equal(cachet_ecdsa_sign_raw(k, h, msg, sizeof msg, rs, cl, orders[o]),
                             CACHET_OK);
            assert_int_equal(cachet_ecdsa_verify_raw(pub, h, msg, sizeof msg, rs, cl, orders[o]),
                             CACHET_OK);
            /* The other byte order reads different integers. */
            assert_int_equal(
                cachet_rc_code(cachet_ecdsa_verify_raw(pub, h, msg, sizeof msg, rs, cl,
                                                       orders[1 - o])),
                CACHET_E_SIGNATURE);
            /* A flipped message bit or signature bit fails. */
            char m2[sizeof msg];
            memcpy(m2, msg, sizeof msg);
            m2[3] ^= 1;
            assert_int_equal(cachet_rc_code(cachet_ecdsa_verify_raw(pub, h, m2, sizeof m2, rs,
                                                                    cl, orders[o])),
                             CACHET_E_SIGNATURE);
            rs[orders[o] == CACHET_BIG_ENDIAN ? cl - 1 : 0] ^= 1;
            assert_int_equal(cachet_rc_code(cachet_ecdsa_verify_raw(pub, h, msg, sizeof msg, rs,
                                                                    cl, orders[o])),
                             CACHET_E_SIGNATURE);
        }
    }
    /* Components narrower than the field are refused before any math. */
    uint8_t rs[144] = {0};
    assert_int_equal(cachet_rc_code(cachet_ecdsa_verify_raw(pub, h, msg, sizeof msg, rs,
                                                            field - 1, CACHET_BIG_ENDIAN)),
                     CACHET_E_FORMAT);

    /* DER signatures verify; DER and raw describe the same (r, s). */
    uint8_t *der = NULL;
    size_t derlen = 0;
    assert_int_equal(cachet_ecdsa_sign_der(k, h, msg, sizeof msg, &der, &derlen), CACHET_OK);
    assert_int_equal(cachet_ecdsa_verify_der(pub, h, msg, sizeof msg, der, derlen), CACHET_OK);
    /* Wrong hash, trailing garbage and truncation all fail. */
    cachet_hash_alg other = h == CACHET_HASH_SHA256 ? CACHET_HASH_SHA384 : CACHET_HASH_SHA256;
    assert_int_equal(cachet_rc_code(cachet_ecdsa_verify_der(pub, other, msg, sizeof msg, der,
                                                            derlen)),
                     CACHET_E_SIGNATURE);
    uint8_t *longer = malloc(derlen + 1);
    memcpy(longer, der, derlen);
    longer[derlen] = 0;
    assert_int_equal(cachet_rc_code(cachet_ecdsa_verify_der(pub, h, msg, sizeof msg, longer,
                                                            derlen + 1)),
                     CACHET_E_SIGNATURE);
    assert_int_equal(cachet_rc_code(cachet_ecdsa_verify_der(pub, h, msg, sizeof msg, der,
                                                            derlen - 1)),
                     CACHET_E_SIGNATURE);
    free(longer);
    free(der);

    /* Private key PEM round trip signs verifiably. */
    char *pem = NULL;
    cachet_pkey *k2 = NULL;
    assert_int_equal(cachet_pkey_private_pem(k, &pem), CACHET_OK);
    assert_non_null(strstr(pem, "PRIVATE KEY"));
    assert_int_equal(cachet_pkey_parse_private((const uint8_t *)pem, strlen(pem), &k2), CACHET_OK);
    uint8_t rs2[144];
    assert_int_equal(cachet_ecdsa_sign_raw(k2, h, "x", 1, rs2, field, CACHET_BIG_ENDIAN),
                     CACHET_OK);
    assert_int_equal(cachet_ecdsa_verify_raw(pub, h, "x", 1, rs2, field, CACHET_BIG_ENDIAN),
                     CACHET_OK);
    /* A public key cannot sign, and is not a private key. */
    assert_int_not_equal(cachet_ecdsa_sign_raw(pub, h, "x", 1, rs2, field, CACHET_BIG_ENDIAN),
                         CACHET_OK);
    cachet_pkey *none = NULL;
    assert_int_not_equal(cachet_pkey_parse_private(spki, spki_len, &none), CACHET_OK);
    assert_null(none);
    free(pem);
    free(spki);
    cachet_pkey_free(k2);
    cachet_pkey_free(pub);
    cachet_pkey_free(k);
}

static void test_ecdsa_p256(void **state)
{
    (void)state;
    roundtrip_curve(CACHET_CURVE_P256, CACHET_HASH_SHA256, 32);
}

static void test_ecdsa_p384(void **state)
{
    (void)state;
    roundtrip_curve(CACHET_CURVE_P384, CACHET_HASH_SHA384, 48);
}

/* Raw X||Y import equals the key's own point; off-curve points fail. */
static void test_ec_point(void **state)
{
    (void)state;
    cachet_pkey *k = NULL, *pub = NULL;
    assert_int_equal(cachet_pkey_generate_ec(CACHET_CURVE_P256, &k), CACHET_OK);
    uint8_t *spki = NULL;
    size_t n = 0;
    assert_int_equal(cachet_pkey_spki_der(k, &spki, &n), CACHET_OK);
    /* A P-256 SPKI ends in the 65-byte uncompressed point 04||X||Y. */
    assert_true(n > 65);
    assert_int_equal(spki[n - 65], 0x04);
    const uint8_t *xy = spki + n - 64;
    assert_int_equal(cachet_pkey_from_ec_point(CACHET_CURVE_P256, xy, 64, &pub), CACHET_OK);
    assert_true(cachet_pkey_is_ec(pub, CACHET_CURVE_P256));
    assert_false(cachet_pkey_is_ec(pub, CACHET_CURVE_P384));
    uint8_t rs[64];
    assert_int_equal(cachet_ecdsa_sign_raw(k, CACHET_HASH_SHA256, msg, sizeof msg, rs, 32,
                                           CACHET_BIG_ENDIAN),
                     CACHET_OK);
    assert_int_equal(cachet_ecdsa_verify_raw(pub, CACHET_HASH_SHA256, msg, sizeof msg, rs, 32,
                                             CACHET_BIG_ENDIAN),
                     CACHET_OK);
    cachet_pkey_free(pub);
    pub = NULL;

    uint8_t bad[64];
    memcpy(bad, xy, 64);
    bad[63] ^= 1; /* y no longer matches x */
    assert_int_equal(cachet_rc_code(cachet_pkey_from_ec_point(CACHET_CURVE_P256, bad, 64, &pub)),
                     CACHET_E_FORMAT);
    assert_null(pub);
    memset(bad, 0, sizeof bad); /* (0,0) is not on the curve */
    assert_int_equal(cachet_rc_code(cachet_pkey_from_ec_point(CACHET_CURVE_P256, bad, 64, &pub)),
                     CACHET_E_FORMAT);
    assert_int_equal(cachet_rc_code(cachet_pkey_from_ec_point(CACHET_CURVE_P256, xy, 63, &pub)),
                     CACHET_E_FORMAT);
    assert_int_equal(cachet_rc_code(cachet_pkey_from_ec_point(CACHET_CURVE_P384, xy, 64, &pub)),
                     CACHET_E_FORMAT);
    free(spki);
    cachet_pkey_free(k);
}

/* RSA signing for the test only (cachet itself never signs with RSA). */
static uint8_t *rsa_sign(EVP_PKEY *key, const EVP_MD *md, int pss, int salt, size_t *siglen)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *p = NULL;
    assert_int_equal(EVP_DigestSignInit(m, &p, md, NULL, key), 1);
    if (pss) {
        assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(p, RSA_PKCS1_PSS_PADDING), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(p, salt), 1);
    }
    assert_int_equal(EVP_DigestSign(m, NULL, siglen, (const uint8_t *)msg, sizeof msg), 1);
    uint8_t *sig = malloc(*siglen);
    assert_int_equal(EVP_DigestSign(m, sig, siglen, (const uint8_t *)msg, sizeof msg), 1);
    EVP_MD_CTX_free(m);
    return sig;
}

static void test_rsa(void **state)
{
    (void)state;
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    assert_non_null(key);
    /* Import through n/e, as a TPM key arrives. */
    BIGNUM *n = NULL, *e = NULL;
    assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n), 1);
    assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e), 1);
    uint8_t nb[256], eb[8];
    int nl = BN_bn2bin(n, nb), el = BN_bn2bin(e, eb);
    cachet_pkey *pub = NULL;
    assert_int_equal(cachet_pkey_from_rsa(nb, (size_t)nl, eb, (size_t)el, &pub), CACHET_OK);
    assert_true(cachet_pkey_is_rsa(pub));
    assert_false(cachet_pkey_is_ec(pub, CACHET_CURVE_P256));

    size_t sl = 0;
    uint8_t *pss = rsa_sign(key, EVP_sha384(), 1, 48, &sl);
    assert_int_equal(cachet_rsa_pss_verify(pub, CACHET_HASH_SHA384, 48, msg, sizeof msg, pss, sl),
                     CACHET_OK);
    assert_int_equal(cachet_rsa_pss_verify(pub, CACHET_HASH_SHA384, -1, msg, sizeof msg, pss, sl),
                     CACHET_OK); /* -1 = digest length = 48 */
    /* Wrong salt length, wrong hash, PKCS#1 reading, flipped bit: all fail. */
    assert_int_equal(cachet_rc_code(cachet_rsa_pss_verify(pub, CACHET_HASH_SHA384, 32, msg,
                                                          sizeof msg, pss, sl)),
                     CACHET_E_SIGNATURE);
    assert_int_equal(cachet_rc_code(cachet_rsa_pss_verify(pub, CACHET_HASH_SHA256, 48, msg,
                                                          sizeof msg, pss, sl)),
                     CACHET_E_SIGNATURE);
    assert_int_equal(cachet_rc_code(cachet_rsa_pkcs1_verify(pub, CACHET_HASH_SHA384, msg,
                                                            sizeof msg, pss, sl)),
                     CACHET_E_SIGNATURE);
    pss[10] ^= 1;
    assert_int_equal(cachet_rc_code(cachet_rsa_pss_verify(pub, CACHET_HASH_SHA384, 48, msg,
                                                          sizeof msg, pss, sl)),
                     CACHET_E_SIGNATURE);
    assert_int_equal(cachet_rc_code(cachet_rsa_pss_verify(pub, CACHET_HASH_SHA384, -2, msg,
                                                          sizeof msg, pss, sl)),
                     CACHET_E_INVALID_ARG); /* "auto" salt is not offered */

    uint8_t *p1 = rsa_sign(key, EVP_sha256(), 0, 0, &sl);
    assert_int_equal(cachet_rsa_pkcs1_verify(pub, CACHET_HASH_SHA256, msg, sizeof msg, p1, sl),
                     CACHET_OK);
    assert_int_equal(cachet_rc_code(cachet_rsa_pkcs1_verify(pub, CACHET_HASH_SHA256, msg,
                                                            sizeof msg - 1, p1, sl)),
                     CACHET_E_SIGNATURE);
    /* An RSA key is not an ECDSA key. */
    assert_int_equal(cachet_rc_code(cachet_ecdsa_verify_der(pub, CACHET_HASH_SHA256, msg,
                                                            sizeof msg, p1, sl)),
                     CACHET_E_INVALID_ARG);
    free(pss);
    free(p1);

    /* Refused moduli/exponents: even exponent, exponent 1, short modulus. */
    uint8_t two = 2, one = 1;
    cachet_pkey *bad = NULL;
    assert_int_not_equal(cachet_pkey_from_rsa(nb, (size_t)nl, &two, 1, &bad), CACHET_OK);
    assert_int_not_equal(cachet_pkey_from_rsa(nb, (size_t)nl, &one, 1, &bad), CACHET_OK);
    assert_null(bad);
    EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    BIGNUM *sn = NULL;
    assert_int_equal(EVP_PKEY_get_bn_param(small, OSSL_PKEY_PARAM_RSA_N, &sn), 1);
    int snl = BN_bn2bin(sn, nb);
    assert_int_equal(cachet_rc_code(cachet_pkey_from_rsa(nb, (size_t)snl, eb, (size_t)el, &bad)),
                     CACHET_E_UNSUPPORTED);
    assert_null(bad);
    BN_free(sn);
    EVP_PKEY_free(small);
    BN_free(n);
    BN_free(e);
    cachet_pkey_free(pub);
    EVP_PKEY_free(key);
}

/* Minimal DER walk for the test: the TLV at *p, advancing past it. */
static const uint8_t *tlv(const uint8_t **p, const uint8_t *end, size_t *total, size_t *hdr)
{
    const uint8_t *start = *p;
    assert_true(end - start >= 2);
    size_t n = start[1], h = 2;
    if (n & 0x80) {
        size_t nb = n & 0x7f;
        n = 0;
        for (size_t i = 0; i < nb; i++)
            n = n << 8 | start[2 + i];
        h += nb;
    }
    assert_true((size_t)(end - start) >= h + n);
    *total = h + n;
    *hdr = h;
    *p = start + h + n;
    return start;
}

/* The real ASK is signed by the ARK with RSASSA-PSS/SHA-384, salt 48 (AMD
 * 57230 §2.2): verify that signature over tbsCertificate directly. */
static void test_rsa_pss_real_amd(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    size_t len = 0;
    uint8_t *pem = tu_read_vector("snp/amd_roots/ask_ark_milan_vcek.pem", &len);
    assert_non_null(pem);
    cachet_x509 **certs = NULL;
    size_t n = 0;
    assert_int_equal(cachet_x509_parse_all(pem, len, &certs, &n), CACHET_OK);
    assert_int_equal(n, 2);
    const uint8_t *der;
    size_t dl, tot, hdr;
    assert_int_equal(cachet_x509_der(certs[0], &der, &dl), CACHET_OK);
    const uint8_t *p = der, *end = der + dl;
    tlv(&p, end, &tot, &hdr); /* outer SEQUENCE */
    p = der + hdr;
    size_t tbs_len;
    const uint8_t *tbs = tlv(&p, end, &tbs_len, &hdr);
    tlv(&p, end, &tot, &hdr); /* signatureAlgorithm */
    const uint8_t *bits = tlv(&p, end, &tot, &hdr);
    const uint8_t *sig = bits + hdr + 1; /* skip the unused-bits byte */
    size_t siglen = tot - hdr - 1;
    assert_int_equal(siglen, 512);

    cachet_pkey *ark = NULL;
    assert_int_equal(cachet_x509_public_key(certs[1], &ark), CACHET_OK);
    assert_true(cachet_pkey_is_rsa(ark));
    assert_int_equal(cachet_rsa_pss_verify(ark, CACHET_HASH_SHA384, 48, tbs, tbs_len, sig, siglen),
                     CACHET_OK);
    assert_int_equal(cachet_rc_code(cachet_rsa_pss_verify(ark, CACHET_HASH_SHA384, 48, tbs,
                                                          tbs_len - 1, sig, siglen)),
                     CACHET_E_SIGNATURE);
    /* The ASK's own key did not sign it. */
    cachet_pkey *ask = NULL;
    assert_int_equal(cachet_x509_public_key(certs[0], &ask), CACHET_OK);
    assert_int_equal(cachet_rc_code(cachet_rsa_pss_verify(ask, CACHET_HASH_SHA384, 48, tbs,
                                                          tbs_len, sig, siglen)),
                     CACHET_E_SIGNATURE);
    cachet_pkey_free(ask);
    cachet_pkey_free(ark);
    cachet_x509_free_all(certs, n);
    free(pem);
}

static void test_parse_public_refusals(void **state)
{
    (void)state;
    cachet_pkey *k = NULL;
    static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};
    assert_int_equal(cachet_rc_code(cachet_pkey_parse_public(junk, sizeof junk, &k)),
                     CACHET_E_FORMAT);
    assert_int_equal(cachet_rc_code(cachet_pkey_parse_public(NULL, 0, &k)), CACHET_E_INVALID_ARG);
    const char *pem = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
    assert_int_equal(cachet_rc_code(cachet_pkey_parse_public((const uint8_t *)pem, strlen(pem), &k)),
                     CACHET_E_FORMAT);
    assert_null(k);
    /* An unsupported curve (secp256k1) is refused at parse time. */
    EVP_PKEY *k1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
    assert_non_null(k1);
    uint8_t *spki = NULL;
    int n = i2d_PUBKEY(k1, &spki);
    assert_true(n > 0);
    assert_int_equal(cachet_rc_code(cachet_pkey_parse_public(spki, (size_t)n, &k)),
                     CACHET_E_UNSUPPORTED);
    OPENSSL_free(spki);
    EVP_PKEY_free(k1);
    /* PEM public key works, including a P-384 key from testpki. */
    testpki_cert *c = testpki_mint(&(testpki_cert_opts){.key = TESTPKI_KEY_P384}, NULL);
    assert_non_null(c);
    cachet_x509 *x = testpki_x509(c);
    cachet_pkey *pub = NULL;
    assert_int_equal(cachet_x509_public_key(x, &pub), CACHET_OK);
    assert_true(cachet_pkey_is_ec(pub, CACHET_CURVE_P384));
    cachet_pkey_free(pub);
    cachet_x509_free(x);
    testpki_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ecdsa_p256),
        cmocka_unit_test(test_ecdsa_p384),
        cmocka_unit_test(test_ec_point),
        cmocka_unit_test(test_rsa),
        cmocka_unit_test(test_rsa_pss_real_amd),
        cmocka_unit_test(test_parse_public_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
