/* X.509 parsing and facts on real AMD certificates (vectors MANIFEST §1,
 * root pins from evidence-formats §0.4), extension lookup with duplicate
 * refusal, and the strict DER value readers. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "cachet/clock.h"
#include "cachet/crypto.h"
#include "tc_hex.h"
#include "testpki.h"

#define VCEK_OID(x) "1.3.6.1.4.1.3704.1." x

static cachet_x509 *load_one(const char *rel)
{
    size_t len = 0;
    uint8_t *buf = tu_read_vector(rel, &len);
    assert_non_null(buf);
    cachet_x509 *c = NULL;
    cachet_rc rc = cachet_x509_parse(buf, len, &c);
    if (rc != CACHET_OK)
        fail_msg("%s: %s", rel, cachet_err_detail());
    free(buf);
    return c;
}

static cachet_x509 **load_bundle(const char *rel, size_t *n)
{
    size_t len = 0;
    uint8_t *buf = tu_read_vector(rel, &len);
    assert_non_null(buf);
    cachet_x509 **certs = NULL;
    assert_int_equal(cachet_x509_parse_all(buf, len, &certs, n), CACHET_OK);
    free(buf);
    return certs;
}

static uint64_t ext_uint(const cachet_x509 *c, const char *oid)
{
    const uint8_t *v;
    size_t n;
    uint64_t out = 0;
    assert_int_equal(cachet_x509_extension(c, oid, &v, &n), CACHET_OK);
    assert_int_equal(cachet_der_read_uint(v, n, &out), CACHET_OK);
    return out;
}

static int64_t t3339(const char *s)
{
    int64_t t = 0;
    assert_int_equal(cachet_time_parse_rfc3339(s, &t), CACHET_OK);
    return t;
}

/* snp/milan_gsg_2022/vcek.der: MANIFEST §1 says TCB bl 2, tee 0, snp 5,
 * ucode 68, productName Milan-B0, serial 0, hwID = chip_id. */
static void test_real_vcek_facts(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    cachet_x509 *c = load_one("snp/milan_gsg_2022/vcek.der");
    char cn[64];
    assert_int_equal(cachet_x509_subject_cn(c, cn, sizeof cn), CACHET_OK);
    assert_string_equal(cn, "SEV-VCEK");
    assert_int_equal(cachet_x509_issuer_cn(c, cn, sizeof cn), CACHET_OK);
    assert_string_equal(cn, "SEV-Milan");
    assert_int_equal(cachet_rc_code(cachet_x509_subject_cn(c, cn, 8)), CACHET_E_LIMIT);
    char *subj = cachet_x509_subject_str(c);
    assert_non_null(subj);
    assert_non_null(strstr(subj, "CN=SEV-VCEK"));
    free(subj);

    int64_t nb, na;
    assert_int_equal(cachet_x509_validity(c, &nb, &na), CACHET_OK);
    assert_int_equal(nb, t3339("2022-09-24T00:55:28Z"));
    assert_int_equal(na, t3339("2029-09-24T00:55:28Z"));

    uint8_t serial[20];
    size_t sl = 0;
    assert_int_equal(cachet_x509_serial(c, serial, sizeof serial, &sl), CACHET_OK);
    assert_int_equal(sl, 1);
    assert_int_equal(serial[0], 0);
    assert_false(cachet_x509_is_ca(c));

    assert_int_equal(ext_uint(c, VCEK_OID("3.1")), 2);  /* blSPL */
    assert_int_equal(ext_uint(c, VCEK_OID("3.2")), 0);  /* teeSPL */
    assert_int_equal(ext_uint(c, VCEK_OID("3.3")), 5);  /* snpSPL */
    assert_int_equal(ext_uint(c, VCEK_OID("3.8")), 68); /* ucodeSPL */
    const uint8_t *v;
    size_t n;
    assert_int_equal(cachet_x509_extension(c, VCEK_OID("2"), &v, &n), CACHET_OK);
    assert_int_equal(cachet_der_read_string(v, n, cn, sizeof cn), CACHET_OK);
    assert_string_equal(cn, "Milan-B0");
    /* Milan hwID is the legacy raw 64-byte form (no OCTET STRING wrapper). */
    assert_int_equal(cachet_x509_extension(c, VCEK_OID("4"), &v, &n), CACHET_OK);
    tc_assert_hex(v, n,
                  "3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e5378618"
                  "4ca39e359669a2b76a1936776b564ea464cdce40c05f63c9b610c5068b006b5d");
    assert_int_equal(cachet_rc_code(cachet_x509_extension(c, VCEK_OID("3.9"), &v, &n)),
                     CACHET_E_NOT_FOUND);
    assert_int_equal(cachet_rc_code(cachet_x509_extension(c, "commonName", &v, &n)),
                     CACHET_E_INVALID_ARG);

    cachet_pkey *k = NULL;
    assert_int_equal(cachet_x509_public_key(c, &k), CACHET_OK);
    assert_true(cachet_pkey_is_ec(k, CACHET_CURVE_P384));
    cachet_pkey_free(k);

    /* A second owner keeps the certificate alive after the first lets go. */
    cachet_x509 *r = cachet_x509_ref(c);
    cachet_x509_free(c);
    assert_int_equal(cachet_x509_subject_cn(r, cn, sizeof cn), CACHET_OK);
    cachet_x509_free(r);
}

/* Turin VCEK hwID is 8 bytes; the trustee fake uses the newer OCTET STRING
 * wrapping: both encodings must be readable. */
static void test_real_hwid_encodings(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    const uint8_t *v, *o;
    size_t n, on;
    cachet_x509 *t = load_one("snp/turin_vcek_only_virtee/vcek.der");
    assert_int_equal(cachet_x509_extension(t, VCEK_OID("4"), &v, &n), CACHET_OK);
    tc_assert_hex(v, n, "1e550a8ee5cf9f4d");
    assert_int_equal(ext_uint(t, VCEK_OID("3.8")), 9);
    cachet_x509_free(t);

    cachet_x509 *w = load_one("snp/invalid/vcek_badsig_fakehwid_octetstring.der");
    assert_int_equal(cachet_x509_extension(w, VCEK_OID("4"), &v, &n), CACHET_OK);
    assert_int_equal(cachet_der_read_octets(v, n, &o, &on), CACHET_OK);
    assert_int_equal(on, 64);
    assert_int_equal(o[0], 0x00);
    assert_int_equal(o[63], 0x3f);
    cachet_x509_free(w);
}

/* Cert and SPKI SHA-256 pins from evidence-formats §0.4. */
static void test_real_root_pins(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    static const struct {
        const char *file, *cn, *cert, *spki;
    } pins[] = {
        {"snp/amd_roots/ask_ark_milan_vcek.pem", "ARK-Milan",
         "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd",
         "9f056bee44377e29308cb5ffa895bdfb62d18881fa6bed8d6f075b0204089cb9"},
        {"snp/amd_roots/ask_ark_genoa_vcek.pem", "ARK-Genoa",
         "4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1",
         "429a69c9422aa258ee4d8db5fcda9c6470ef15f8cd5a9cebd6cbc7d90b863831"},
        {"snp/amd_roots/ask_ark_turin_vcek.pem", "ARK-Turin",
         "1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a",
         "4f125410563a2ab9a50356f9243f6fe0b6f73de98603f53f90339c70e9d7ad08"},
    };
    for (size_t i = 0; i < sizeof pins / sizeof pins[0]; i++) {
        size_t n = 0;
        cachet_x509 **certs = load_bundle(pins[i].file, &n);
        assert_int_equal(n, 2);
        char cn[64];
        assert_int_equal(cachet_x509_subject_cn(certs[1], cn, sizeof cn), CACHET_OK);
        assert_string_equal(cn, pins[i].cn);
        uint8_t fp[32];
        assert_int_equal(cachet_x509_fingerprint(certs[1], fp), CACHET_OK);
        tc_assert_hex(fp, 32, pins[i].cert);
        assert_int_equal(cachet_x509_spki_fingerprint(certs[1], fp), CACHET_OK);
        tc_assert_hex(fp, 32, pins[i].spki);
        assert_true(cachet_x509_is_ca(certs[0]));
        assert_true(cachet_x509_is_ca(certs[1]));
        cachet_pkey *k = NULL;
        assert_int_equal(cachet_x509_public_key(certs[1], &k), CACHET_OK);
        assert_true(cachet_pkey_is_rsa(k));
        cachet_pkey_free(k);
        cachet_x509_free_all(certs, n);
    }
}

static void test_parse_forms(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    size_t len = 0;
    uint8_t *der = tu_read_vector("snp/milan_gsg_2022/vcek.der", &len);
    uint8_t *bundle = NULL;
    size_t blen = 0;
    cachet_x509 *c = NULL, **all = NULL;
    size_t n = 0;
    /* Exact DER is kept (fingerprints are over received bytes). */
    assert_int_equal(cachet_x509_parse(der, len, &c), CACHET_OK);
    const uint8_t *kept;
    size_t kl;
    assert_int_equal(cachet_x509_der(c, &kept, &kl), CACHET_OK);
    assert_int_equal(kl, len);
    assert_memory_equal(kept, der, len);
    cachet_x509_free(c);
    /* A single DER through parse_all. */
    assert_int_equal(cachet_x509_parse_all(der, len, &all, &n), CACHET_OK);
    assert_int_equal(n, 1);
    cachet_x509_free_all(all, n);
    /* Truncated, trailing byte, garbage: refused. */
    assert_int_equal(cachet_rc_code(cachet_x509_parse(der, len - 1, &c)), CACHET_E_FORMAT);
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, der, len);
    longer[len] = 0;
    assert_int_equal(cachet_rc_code(cachet_x509_parse(longer, len + 1, &c)), CACHET_E_FORMAT);
    assert_null(c);
    free(longer);
    /* A bundle is not "one certificate". */
    bundle = tu_read_vector("snp/amd_roots/ask_ark_milan_vcek.pem", &blen);
    assert_int_equal(cachet_rc_code(cachet_x509_parse(bundle, blen, &c)), CACHET_E_FORMAT);
    /* A damaged PEM block fails the whole bundle. */
    char *s = malloc(blen + 1);
    memcpy(s, bundle, blen);
    s[blen] = '\0';
    char *body = strstr(s + 40, "-----BEGIN CERTIFICATE-----");
    assert_non_null(body);
    body[40] = body[40] == 'A' ? 'B' : 'A'; /* changes DER bytes inside the 2nd cert */
    body[41] = '!';                         /* and is not base64 */
    assert_int_not_equal(cachet_x509_parse_all((uint8_t *)s, blen, &all, &n), CACHET_OK);
    free(s);
    /* PEM with no certificate. */
    const char *none = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
    assert_int_equal(cachet_rc_code(cachet_x509_parse_all((const uint8_t *)none, strlen(none),
                                                          &all, &n)),
                     CACHET_E_NOT_FOUND);
    /* A single PEM certificate (dstack VCEK). */
    cachet_x509 *p = load_one("snp/milan_dstack_2026/vcek.pem");
    assert_int_equal(ext_uint(p, VCEK_OID("3.3")), 23);
    cachet_x509_free(p);
    free(bundle);
    free(der);
}

/* Duplicated extensions are refused; the first-match API would hide one. */
static void test_duplicate_extension(void **state)
{
    (void)state;
    static const uint8_t five[] = {0x02, 0x01, 0x05}, six[] = {0x02, 0x01, 0x06};
    const testpki_ext exts[] = {
        {.oid = VCEK_OID("3.3"), .value = five, .len = 3},
        {.oid = VCEK_OID("3.3"), .value = six, .len = 3},
        {.oid = VCEK_OID("3.1"), .value = five, .len = 3},
    };
    testpki_cert *t = testpki_mint(&(testpki_cert_opts){.cn = "dup", .exts = exts, .n_exts = 3},
                                   NULL);
    assert_non_null(t);
    cachet_x509 *c = testpki_x509(t);
    const uint8_t *v;
    size_t n;
    assert_int_equal(cachet_rc_code(cachet_x509_extension(c, VCEK_OID("3.3"), &v, &n)),
                     CACHET_E_FORMAT);
    assert_null(v);
    assert_int_equal(ext_uint(c, VCEK_OID("3.1")), 5);
    cachet_x509_free(c);
    testpki_free(t);
}

static void test_key_usage(void **state)
{
    (void)state;
    testpki_cert *ca = testpki_mint(&(testpki_cert_opts){.cn = "ku CA", .ca = true}, NULL);
    testpki_cert *leaf = testpki_mint(&(testpki_cert_opts){.cn = "ku leaf"}, ca);
    testpki_cert *bare = testpki_mint(&(testpki_cert_opts){.cn = "no ku", .no_key_usage = true},
                                      ca);
    cachet_x509 *xca = testpki_x509(ca), *xl = testpki_x509(leaf), *xb = testpki_x509(bare);
    uint32_t bits = 99;
    bool present = false;
    assert_int_equal(cachet_x509_key_usage(xca, &bits, &present), CACHET_OK);
    assert_true(present);
    assert_int_equal(bits, CACHET_KU_KEY_CERT_SIGN | CACHET_KU_CRL_SIGN);
    assert_int_equal(cachet_x509_key_usage(xl, &bits, &present), CACHET_OK);
    assert_int_equal(bits, CACHET_KU_DIGITAL_SIGNATURE);
    assert_int_equal(cachet_x509_key_usage(xb, &bits, &present), CACHET_OK);
    assert_false(present);
    assert_int_equal(bits, 0);
    assert_true(cachet_x509_is_ca(xca));
    assert_false(cachet_x509_is_ca(xl));
    cachet_x509_free(xca);
    cachet_x509_free(xl);
    cachet_x509_free(xb);
    testpki_free(bare);
    testpki_free(leaf);
    testpki_free(ca);
}

static void test_der_uint(void **state)
{
    (void)state;
    static const struct {
        const char *hex;
        uint32_t code;
        uint64_t value;
    } cases[] = {
        {"020100", 0, 0},
        {"02017f", 0, 127},
        {"02020080", 0, 128},
        {"0209" "00ffffffffffffffff", 0, UINT64_MAX},
        {"02020001", CACHET_E_FORMAT, 0},           /* redundant leading zero */
        {"020180", CACHET_E_RANGE, 0},              /* negative */
        {"0209" "010000000000000000", CACHET_E_RANGE, 0}, /* 2^64 */
        {"0200", CACHET_E_FORMAT, 0},               /* empty */
        {"02010500", CACHET_E_FORMAT, 0},           /* trailing byte */
        {"020205", CACHET_E_TRUNCATED, 0},          /* short */
        {"02810105", CACHET_E_FORMAT, 0},           /* long form for a short length */
        {"028005", CACHET_E_FORMAT, 0},             /* indefinite */
        {"040105", CACHET_E_FORMAT, 0},             /* OCTET STRING, not INTEGER */
        {"02", CACHET_E_TRUNCATED, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n;
        uint8_t *b = tc_unhex(cases[i].hex, &n);
        uint64_t v = 99;
        cachet_rc rc = cachet_der_read_uint(b, n, &v);
        if (cachet_rc_code(rc) != cases[i].code)
            fail_msg("%s: got %u want %u", cases[i].hex, cachet_rc_code(rc), cases[i].code);
        if (!cases[i].code)
            assert_int_equal(v, cases[i].value);
        else
            assert_int_equal(v, 0);
        free(b);
    }
}

static void test_der_octets_strings(void **state)
{
    (void)state;
    size_t n, on;
    const uint8_t *o;
    uint8_t *b = tc_unhex("0403010203", &n);
    assert_int_equal(cachet_der_read_octets(b, n, &o, &on), CACHET_OK);
    assert_int_equal(on, 3);
    assert_int_equal(o[2], 3);
    assert_int_equal(cachet_rc_code(cachet_der_read_octets(b, n - 1, &o, &on)),
                     CACHET_E_TRUNCATED);
    free(b);
    /* Long-form length: 200 octets. */
    uint8_t big[203] = {0x04, 0x81, 200};
    assert_int_equal(cachet_der_read_octets(big, sizeof big, &o, &on), CACHET_OK);
    assert_int_equal(on, 200);

    char s[16];
    b = tc_unhex("16054d696c616e", &n); /* IA5String "Milan" */
    assert_int_equal(cachet_der_read_string(b, n, s, sizeof s), CACHET_OK);
    assert_string_equal(s, "Milan");
    assert_int_equal(cachet_rc_code(cachet_der_read_string(b, n, s, 5)), CACHET_E_LIMIT);
    free(b);
    b = tc_unhex("0c03c3a96c", &n); /* UTF8String "él" */
    assert_int_equal(cachet_der_read_string(b, n, s, sizeof s), CACHET_OK);
    assert_string_equal(s, "\xc3\xa9l");
    free(b);
    static const char *bad[] = {
        "0c02c328",   /* broken UTF-8 continuation */
        "0c02c0af",   /* overlong */
        "0c03eda080", /* surrogate */
        "1602c3a9",   /* 8-bit in IA5 */
        "1603610062", /* embedded NUL */
        "0403616263", /* not a string type */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        b = tc_unhex(bad[i], &n);
        assert_int_equal(cachet_rc_code(cachet_der_read_string(b, n, s, sizeof s)),
                         CACHET_E_FORMAT);
        free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_vcek_facts),   cmocka_unit_test(test_real_hwid_encodings),
        cmocka_unit_test(test_real_root_pins),    cmocka_unit_test(test_parse_forms),
        cmocka_unit_test(test_duplicate_extension), cmocka_unit_test(test_key_usage),
        cmocka_unit_test(test_der_uint),
        cmocka_unit_test(test_der_octets_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
