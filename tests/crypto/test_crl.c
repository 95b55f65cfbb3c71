/* Hand-checked CRLs (evidence-formats §0.3): signature, issuer, the
 * thisUpdate <= t < nextUpdate window, lookups; generated and real Intel
 * SGX CRLs (vectors MANIFEST §2, collateral_50806f_gotdxguest_2023-06). */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "cachet/clock.h"
#include "cachet/crypto.h"
#include "testpki.h"

#define INTEL "tdx/collateral_50806f_gotdxguest_2023-06/"

static int64_t t3339(const char *s)
{
    int64_t t = 0;
    assert_int_equal(cachet_time_parse_rfc3339(s, &t), CACHET_OK);
    return t;
}

static void expect_code(cachet_rc rc, uint32_t code)
{
    if (cachet_rc_code(rc) != code)
        fail_msg("got %s (%s), want code %u", cachet_rc_str(rc), cachet_err_detail(), code);
}

static cachet_x509_crl *mint_crl(const testpki_cert *issuer, const testpki_crl_opts *o, bool pem)
{
    size_t n = 0;
    uint8_t *der = testpki_crl(issuer, o, &n);
    assert_non_null(der);
    cachet_x509_crl *c = NULL;
    if (pem) {
        char *text = testpki_crl_pem(der, n);
        assert_non_null(text);
        assert_int_equal(cachet_crl_parse((const uint8_t *)text, strlen(text), &c), CACHET_OK);
        free(text);
    } else {
        assert_int_equal(cachet_crl_parse(der, n, &c), CACHET_OK);
    }
    free(der);
    return c;
}

static void test_generated_crl(void **state)
{
    (void)state;
    int64_t now = cachet_clock_now(NULL);
    testpki_cert *ca = testpki_mint(&(testpki_cert_opts){.cn = "CRL CA", .ca = true}, NULL);
    testpki_cert *other = testpki_mint(&(testpki_cert_opts){.cn = "Other CA", .ca = true}, NULL);
    testpki_cert *a = testpki_mint(&(testpki_cert_opts){.cn = "a"}, ca);
    testpki_cert *b = testpki_mint(&(testpki_cert_opts){.cn = "b"}, ca);
    testpki_cert *c_other = testpki_mint(&(testpki_cert_opts){.cn = "c"}, other);
    cachet_x509 *xca = testpki_x509(ca), *xother = testpki_x509(other);
    cachet_x509 *xa = testpki_x509(a), *xb = testpki_x509(b), *xc = testpki_x509(c_other);

    const testpki_cert *rev[] = {a};
    cachet_x509_crl *crl = mint_crl(ca, &(testpki_crl_opts){.revoked = rev, .n_revoked = 1},
                                    true);
    assert_int_equal(cachet_crl_verify(crl, xca, now), CACHET_OK);
    assert_true(cachet_crl_issued_by(crl, xca));
    assert_false(cachet_crl_issued_by(crl, xother));
    assert_true(cachet_crl_is_revoked(crl, xa));
    assert_false(cachet_crl_is_revoked(crl, xb));
    /* Not this CRL's business: a certificate from another issuer. */
    assert_false(cachet_crl_is_revoked(crl, xc));
    /* Wrong issuer: name mismatch. */
    expect_code(cachet_crl_verify(crl, xother, now), CACHET_E_MISMATCH);
    /* The window: thisUpdate = now-1h, nextUpdate = now+7d. */
    expect_code(cachet_crl_verify(crl, xca, now - 7200), CACHET_E_EXPIRED);
    expect_code(cachet_crl_verify(crl, xca, now + 8 * 86400), CACHET_E_EXPIRED);
    cachet_crl_free(crl);

    /* Same-name impostor issuer: signature fails. */
    testpki_cert *twin = testpki_mint(&(testpki_cert_opts){.cn = "CRL CA", .ca = true}, NULL);
    cachet_x509 *xtwin = testpki_x509(twin);
    crl = mint_crl(twin, NULL, false);
    expect_code(cachet_crl_verify(crl, xca, now), CACHET_E_SIGNATURE);
    assert_false(cachet_crl_issued_by(crl, xca));
    cachet_crl_free(crl);

    crl = mint_crl(ca, &(testpki_crl_opts){.corrupt_signature = true}, false);
    expect_code(cachet_crl_verify(crl, xca, now), CACHET_E_SIGNATURE);
    cachet_crl_free(crl);

    crl = mint_crl(ca, &(testpki_crl_opts){.this_update = now - 60, .no_next_update = true},
                   false);
    expect_code(cachet_crl_verify(crl, xca, now), CACHET_E_FORMAT);
    cachet_crl_free(crl);

    crl = mint_crl(ca, &(testpki_crl_opts){.critical_unknown_ext = true}, false);
    expect_code(cachet_crl_verify(crl, xca, now), CACHET_E_UNSUPPORTED);
    cachet_crl_free(crl);

    /* An end-entity (keyUsage digitalSignature only) cannot sign CRLs. */
    crl = mint_crl(a, NULL, false);
    expect_code(cachet_crl_verify(crl, xa, now), CACHET_E_CHAIN);
    cachet_crl_free(crl);

    /* RSA-PSS signed CRLs (the AMD ARK signs its CRL that way). */
    testpki_cert *rsa = testpki_mint(&(testpki_cert_opts){.cn = "RSA CA", .ca = true,
                                                          .key = TESTPKI_KEY_RSA},
                                     NULL);
    cachet_x509 *xrsa = testpki_x509(rsa);
    crl = mint_crl(rsa, &(testpki_crl_opts){.sig_hash = CACHET_HASH_SHA384, .sign_pss = true},
                   false);
    assert_int_equal(cachet_crl_verify(crl, xrsa, now), CACHET_OK);
    cachet_crl_free(crl);

    /* Parse refusals. */
    cachet_x509_crl *bad = NULL;
    static const uint8_t junk[] = {0x30, 0x00};
    expect_code(cachet_crl_parse(junk, sizeof junk, &bad), CACHET_E_FORMAT);
    expect_code(cachet_crl_parse(NULL, 0, &bad), CACHET_E_INVALID_ARG);
    assert_null(bad);

    cachet_x509 *xs[] = {xca, xother, xa, xb, xc, xtwin, xrsa};
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++)
        cachet_x509_free(xs[i]);
    testpki_cert *ts[] = {ca, other, a, b, c_other, twin, rsa};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        testpki_free(ts[i]);
}

static cachet_x509_crl *vec_crl(const char *rel)
{
    size_t len = 0;
    uint8_t *buf = tu_read_vector(rel, &len);
    assert_non_null(buf);
    cachet_x509_crl *c = NULL;
    assert_int_equal(cachet_crl_parse(buf, len, &c), CACHET_OK);
    free(buf);
    return c;
}

/* The PCK chain sits as PEM inside the quote's certification data. */
static cachet_x509 **quote_pck_chain(const char *rel, size_t *n)
{
    size_t len = 0;
    uint8_t *q = tu_read_vector(rel, &len);
    assert_non_null(q);
    static const char begin[] = "-----BEGIN CERTIFICATE-----", end[] = "-----END CERTIFICATE-----";
    uint8_t *s = memmem(q, len, begin, sizeof begin - 1), *last = NULL, *p = s;
    assert_non_null(s);
    while ((p = memmem(p, len - (size_t)(p - q), end, sizeof end - 1)) != NULL) {
        last = p;
        p += sizeof end - 1;
    }
    assert_non_null(last);
    cachet_x509 **certs = NULL;
    assert_int_equal(cachet_x509_parse_all(s, (size_t)(last + sizeof end - 1 - s), &certs, n),
                     CACHET_OK);
    free(q);
    return certs;
}

static void test_real_intel_crls(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    size_t len = 0, n = 0;
    uint8_t *pem = tu_read_vector(INTEL "pck_crl_issuer_chain.pem", &len);
    assert_non_null(pem);
    cachet_x509 **chain = NULL; /* [0] Platform CA, [1] Root CA */
    assert_int_equal(cachet_x509_parse_all(pem, len, &chain, &n), CACHET_OK);
    free(pem);
    assert_int_equal(n, 2);
    char cn[64];
    assert_int_equal(cachet_x509_subject_cn(chain[1], cn, sizeof cn), CACHET_OK);
    assert_string_equal(cn, "Intel SGX Root CA");

    cachet_x509_crl *root_crl = vec_crl(INTEL "root_ca_crl.der");
    cachet_x509_crl *pck_crl = vec_crl(INTEL "pck_crl_platform.der");
    int64_t t = t3339("2023-07-01T01:00:00Z");
    assert_int_equal(cachet_crl_verify(root_crl, chain[1], t), CACHET_OK);
    assert_int_equal(cachet_crl_verify(pck_crl, chain[0], t), CACHET_OK);
    assert_true(cachet_crl_issued_by(pck_crl, chain[0]));
    assert_false(cachet_crl_issued_by(pck_crl, chain[1]));
    expect_code(cachet_crl_verify(pck_crl, chain[1], t), CACHET_E_MISMATCH);
    /* PCK CRL window 2023-06-08T07:27:52Z..2023-07-08T07:27:52Z. */
    assert_int_equal(cachet_crl_verify(pck_crl, chain[0], t3339("2023-06-08T07:27:52Z")),
                     CACHET_OK);
    expect_code(cachet_crl_verify(pck_crl, chain[0], t3339("2023-06-08T07:27:51Z")),
                CACHET_E_EXPIRED);
    expect_code(cachet_crl_verify(pck_crl, chain[0], t3339("2023-07-08T07:27:52Z")),
                CACHET_E_EXPIRED);
    assert_false(cachet_crl_is_revoked(root_crl, chain[0]));

    /* The quote's PCK chain: leaf → Platform CA → Root, every CRL checked. */
    size_t qn = 0;
    cachet_x509 **q = quote_pck_chain("tdx/50806f_v4_trustee_quote4_DEBUG_TD/quote.bin", &qn);
    assert_int_equal(qn, 3);
    assert_false(cachet_crl_is_revoked(pck_crl, q[0]));
    cachet_x509_crl *crls[] = {root_crl, pck_crl};
    cachet_chain_params p = {.leaf = q[0], .intermediates = &q[1], .n_intermediates = 1,
                             .roots = &chain[1], .n_roots = 1, .crls = crls, .n_crls = 2,
                             .time = t, .flags = CACHET_CHAIN_STRICT};
    cachet_chain_result res;
    cachet_rc rc = cachet_x509_verify_chain(&p, &res);
    if (rc != CACHET_OK)
        fail_msg("%s", cachet_err_detail());
    assert_int_equal(res.depth, 3);
    cachet_chain_result_clear(&res);
    /* After the PCK CRL's nextUpdate the same chain is stale. */
    p.time = t3339("2023-07-09T00:00:00Z");
    expect_code(cachet_x509_verify_chain(&p, &res), CACHET_E_EXPIRED);
    /* Without the Platform CA's CRL: fail closed. */
    p.time = t;
    p.n_crls = 1;
    expect_code(cachet_x509_verify_chain(&p, &res), CACHET_E_CHAIN);

    cachet_x509_free_all(q, qn);
    cachet_crl_free(root_crl);
    cachet_crl_free(pck_crl);
    cachet_x509_free_all(chain, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generated_crl),
        cmocka_unit_test(test_real_intel_crls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
