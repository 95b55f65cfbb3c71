/* Chain verification: real AMD SNP chains at their pinned times (vectors
 * MANIFEST §1), and generated PKIs for what no vector shows (revocation,
 * CRL expiry, partial chains, strict mode, CA constraints). */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/x509_vfy.h>

#include "cachet/clock.h"
#include "cachet/crypto.h"
#include "testpki.h"

static int64_t t3339(const char *s)
{
    int64_t t = 0;
    assert_int_equal(cachet_time_parse_rfc3339(s, &t), CACHET_OK);
    return t;
}

static cachet_x509 *vec_cert(const char *rel)
{
    size_t len = 0;
    uint8_t *buf = tu_read_vector(rel, &len);
    assert_non_null(buf);
    cachet_x509 *c = NULL;
    assert_int_equal(cachet_x509_parse(buf, len, &c), CACHET_OK);
    free(buf);
    return c;
}

/* An AMD cert_chain file: [0] = ASK/ASVK, [1] = ARK. */
static cachet_x509 **vec_roots(const char *rel)
{
    size_t len = 0, n = 0;
    uint8_t *buf = tu_read_vector(rel, &len);
    assert_non_null(buf);
    cachet_x509 **certs = NULL;
    assert_int_equal(cachet_x509_parse_all(buf, len, &certs, &n), CACHET_OK);
    assert_int_equal(n, 2);
    free(buf);
    return certs;
}

/* Verify leaf through one intermediate to one pinned root. */
static cachet_rc verify3(cachet_x509 *leaf, cachet_x509 *inter, cachet_x509 *root, int64_t t,
                         unsigned flags, cachet_chain_result *res)
{
    cachet_chain_params p = {
        .leaf = leaf,
        .intermediates = inter ? &inter : NULL,
        .n_intermediates = inter ? 1 : 0,
        .roots = &root,
        .n_roots = 1,
        .time = t,
        .flags = flags,
    };
    return cachet_x509_verify_chain(&p, res);
}

static void expect_code(cachet_rc rc, uint32_t code)
{
    if (cachet_rc_code(rc) != code)
        fail_msg("got %s (%s), want code %u", cachet_rc_str(rc), cachet_err_detail(), code);
    assert_int_equal(cachet_rc_subsys(rc), CACHET_SUB_CRYPTO);
}

static void test_real_milan_vcek(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    cachet_x509 *vcek = vec_cert("snp/milan_gsg_2022/vcek.der");
    cachet_x509 **m = vec_roots("snp/amd_roots/ask_ark_milan_vcek.pem");
    int64_t t = t3339("2022-09-24T01:00:00Z");
    cachet_chain_result res;

    /* go-sev-guest TestVerifyVcekCert: a chain of length 3. */
    assert_int_equal(verify3(vcek, m[0], m[1], t, 0, &res), CACHET_OK);
    assert_int_equal(res.depth, 3);
    assert_ptr_equal(res.path[0], vcek);
    assert_ptr_equal(res.path[1], m[0]);
    assert_ptr_equal(res.path[2], m[1]);
    assert_int_equal(res.error, 0);
    cachet_chain_result_clear(&res);
    assert_null(res.path);

    /* Strict mode trips on the VCEK's missing AKID (error 85) unless told. */
    expect_code(verify3(vcek, m[0], m[1], t, CACHET_CHAIN_STRICT, &res), CACHET_E_CHAIN);
    assert_int_equal(res.error, X509_V_ERR_MISSING_AUTHORITY_KEY_IDENTIFIER);
    assert_int_equal(res.error_depth, 0);
    assert_non_null(strstr(cachet_err_detail(), "depth 0"));
    assert_int_equal(verify3(vcek, m[0], m[1], t,
                             CACHET_CHAIN_STRICT | CACHET_CHAIN_ALLOW_NO_AKID, NULL),
                     CACHET_OK);

    /* Before notBefore and after notAfter: expired. */
    expect_code(verify3(vcek, m[0], m[1], t3339("2022-09-24T00:55:27Z"), 0, &res),
                CACHET_E_EXPIRED);
    assert_int_equal(res.error, X509_V_ERR_CERT_NOT_YET_VALID);
    assert_null(res.path);
    expect_code(verify3(vcek, m[0], m[1], t3339("2029-09-24T00:55:29Z"), 0, &res),
                CACHET_E_EXPIRED);
    assert_int_equal(res.error, X509_V_ERR_CERT_HAS_EXPIRED);

    /* No intermediate: no path. */
    expect_code(verify3(vcek, NULL, m[1], t, 0, &res), CACHET_E_CHAIN);

    /* The ASK is a valid leaf of a 2-chain too. */
    assert_int_equal(verify3(m[0], NULL, m[1], t, 0, NULL), CACHET_OK);

    /* Genoa anchors do not accept a Milan VCEK. */
    cachet_x509 **g = vec_roots("snp/amd_roots/ask_ark_genoa_vcek.pem");
    expect_code(verify3(vcek, g[0], g[1], t, 0, &res), CACHET_E_CHAIN);

    /* A root that arrives among the intermediates never becomes an anchor:
     * pass the Milan ARK as untrusted and pin the Genoa ARK. */
    cachet_x509 *inters[] = {m[0], m[1]};
    cachet_chain_params p = {.leaf = vcek, .intermediates = inters, .n_intermediates = 2,
                             .roots = &g[1], .n_roots = 1, .time = t};
    expect_code(cachet_x509_verify_chain(&p, &res), CACHET_E_CHAIN);
    assert_int_equal(res.error, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN);
    /* ...and with both ARKs pinned it verifies to the Milan one. */
    cachet_x509 *both[] = {g[1], m[1]};
    p.roots = both;
    p.n_roots = 2;
    assert_int_equal(cachet_x509_verify_chain(&p, &res), CACHET_OK);
    assert_ptr_equal(res.path[res.depth - 1], m[1]);
    cachet_chain_result_clear(&res);

    /* Pinning the ASK (an intermediate) is no partial-chain shortcut. */
    expect_code(verify3(vcek, NULL, m[0], t, 0, &res), CACHET_E_CHAIN);
    /* Nor is pinning the leaf itself. */
    expect_code(verify3(vcek, NULL, vcek, t, 0, &res), CACHET_E_CHAIN);

    cachet_x509_free_all(g, 2);
    cachet_x509_free_all(m, 2);
    cachet_x509_free(vcek);
}

static void test_real_invalid_vceks(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    cachet_x509 **m = vec_roots("snp/amd_roots/ask_ark_milan_vcek.pem");
    static const char *bad[] = {"snp/invalid/vcek_badsig_fakehwid_legacy.der",
                                "snp/invalid/vcek_badsig_fakehwid_octetstring.der"};
    for (size_t i = 0; i < 2; i++) {
        cachet_x509 *v = vec_cert(bad[i]);
        int64_t nb, na;
        assert_int_equal(cachet_x509_validity(v, &nb, &na), CACHET_OK);
        cachet_chain_result res;
        expect_code(verify3(v, m[0], m[1], nb + 60, 0, &res), CACHET_E_CHAIN);
        assert_int_equal(res.error, X509_V_ERR_CERT_SIGNATURE_FAILURE);
        assert_int_equal(res.error_depth, 0);
        cachet_x509_free(v);
    }
    cachet_x509_free_all(m, 2);
}

/* Every real VCEK/VLEK in the vectors verifies at its MANIFEST time, and
 * the VLEK fails against the VCEK ASK. */
static void test_real_other_chains(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    static const struct {
        const char *leaf, *roots, *time;
    } ok[] = {
        {"snp/milan_vlek_aws_trustee/vlek.der", "snp/amd_roots/asvk_ark_milan_vlek.pem",
         "2025-06-01T00:00:00Z"},
        {"snp/genoa_trustee_e2e/vcek.derived.der", "snp/amd_roots/ask_ark_genoa_vcek.pem",
         "2025-06-01T00:00:00Z"},
        {"snp/milan_dstack_2026/vcek.pem", "snp/amd_roots/ask_ark_milan_vcek.pem",
         "2026-07-01T00:00:00Z"},
        {"snp/turin_oak_2025/vcek.derived.der", "snp/amd_roots/ask_ark_turin_vcek.pem",
         "2025-10-01T08:00:00Z"},
        {"snp/genoa_v5_oak_2025/vcek.derived.der", "snp/amd_roots/ask_ark_genoa_vcek.pem",
         "2025-10-01T08:00:00Z"},
        {"snp/milan_oak_oc_release_2025/vcek.derived.der",
         "snp/amd_roots/ask_ark_milan_vcek.pem", "2025-10-01T08:00:00Z"},
        {"snp/turin_vcek_only_virtee/vcek.der", "snp/amd_roots/ask_ark_turin_vcek.pem",
         "2025-01-01T00:00:00Z"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        cachet_x509 *leaf = vec_cert(ok[i].leaf);
        cachet_x509 **r = vec_roots(ok[i].roots);
        cachet_rc rc = verify3(leaf, r[0], r[1], t3339(ok[i].time),
                               CACHET_CHAIN_STRICT | CACHET_CHAIN_ALLOW_NO_AKID, NULL);
        if (rc != CACHET_OK)
            fail_msg("%s: %s", ok[i].leaf, cachet_err_detail());
        cachet_x509_free_all(r, 2);
        cachet_x509_free(leaf);
    }
    cachet_x509 *vlek = vec_cert("snp/milan_vlek_aws_trustee/vlek.der");
    cachet_x509 **vcek_roots = vec_roots("snp/amd_roots/ask_ark_milan_vcek.pem");
    expect_code(verify3(vlek, vcek_roots[0], vcek_roots[1], t3339("2025-06-01T00:00:00Z"), 0,
                        NULL),
                CACHET_E_CHAIN);
    /* The VLEK's one-year window. */
    cachet_x509 **asvk = vec_roots("snp/amd_roots/asvk_ark_milan_vlek.pem");
    expect_code(verify3(vlek, asvk[0], asvk[1], t3339("2025-12-11T00:00:00Z"), 0, NULL),
                CACHET_E_EXPIRED);
    cachet_x509_free_all(asvk, 2);
    cachet_x509_free_all(vcek_roots, 2);
    cachet_x509_free(vlek);
}

/* A generated 3-level PKI: root → ica → leaf, with handles. */
typedef struct pki {
    testpki_cert *root, *ica, *leaf;
    cachet_x509 *xroot, *xica, *xleaf;
} pki;

static void pki_make(pki *k, const testpki_cert_opts *leaf_opts)
{
    k->root = testpki_mint(&(testpki_cert_opts){.cn = "Test Root", .ca = true,
                                                .key = TESTPKI_KEY_P384,
                                                .sig_hash = CACHET_HASH_SHA384},
                           NULL);
    k->ica = testpki_mint(&(testpki_cert_opts){.cn = "Test ICA", .ca = true,
                                               .sig_hash = CACHET_HASH_SHA384},
                          k->root);
    static const testpki_cert_opts dflt = {.cn = "Test Leaf"};
    k->leaf = testpki_mint(leaf_opts ? leaf_opts : &dflt, k->ica);
    assert_non_null(k->root);
    assert_non_null(k->ica);
    assert_non_null(k->leaf);
    k->xroot = testpki_x509(k->root);
    k->xica = testpki_x509(k->ica);
    k->xleaf = testpki_x509(k->leaf);
}

static void pki_free(pki *k)
{
    cachet_x509_free(k->xroot);
    cachet_x509_free(k->xica);
    cachet_x509_free(k->xleaf);
    testpki_free(k->leaf);
    testpki_free(k->ica);
    testpki_free(k->root);
}

static cachet_x509_crl *crl_of(const testpki_cert *issuer, const testpki_crl_opts *o)
{
    size_t n = 0;
    uint8_t *der = testpki_crl(issuer, o, &n);
    assert_non_null(der);
    cachet_x509_crl *c = NULL;
    assert_int_equal(cachet_crl_parse(der, n, &c), CACHET_OK);
    free(der);
    return c;
}

static cachet_rc verify_crls(pki *k, cachet_x509_crl **crls, size_t n, unsigned flags,
                             cachet_chain_result *res)
{
    cachet_chain_params p = {.leaf = k->xleaf, .intermediates = &k->xica, .n_intermediates = 1,
                             .roots = &k->xroot, .n_roots = 1, .crls = crls, .n_crls = n,
                             .time = cachet_clock_now(NULL), .flags = flags};
    return cachet_x509_verify_chain(&p, res);
}

static void test_generated_revocation(void **state)
{
    (void)state;
    pki k;
    pki_make(&k, NULL);
    cachet_chain_result res;
    int64_t now = cachet_clock_now(NULL);

    cachet_x509_crl *root_crl = crl_of(k.root, NULL);
    cachet_x509_crl *ica_crl = crl_of(k.ica, NULL);
    cachet_x509_crl *both[] = {root_crl, ica_crl};
    /* CRL_CHECK_ALL with a good CRL for every non-anchor: verifies. */
    assert_int_equal(verify_crls(&k, both, 2, 0, &res), CACHET_OK);
    assert_int_equal(res.depth, 3);
    cachet_chain_result_clear(&res);
    /* Missing the CRL for the intermediate: refused (fail closed)... */
    expect_code(verify_crls(&k, &ica_crl, 1, 0, &res), CACHET_E_CHAIN);
    assert_int_equal(res.error, X509_V_ERR_UNABLE_TO_GET_CRL);
    assert_int_equal(res.error_depth, 1);
    /* ...unless only the leaf is to be checked. */
    assert_int_equal(verify_crls(&k, &ica_crl, 1, CACHET_CHAIN_CRL_LEAF_ONLY, NULL), CACHET_OK);
    /* Only an issuer-of-issuer CRL (AMD's situation, §0.3): leaf has none. */
    expect_code(verify_crls(&k, &root_crl, 1, 0, &res), CACHET_E_CHAIN);
    assert_int_equal(res.error, X509_V_ERR_UNABLE_TO_GET_CRL);
    assert_int_equal(res.error_depth, 0);

    /* Leaf revoked by the ICA. */
    const testpki_cert *leafs[] = {k.leaf};
    cachet_x509_crl *rev_leaf = crl_of(k.ica, &(testpki_crl_opts){.revoked = leafs,
                                                                  .n_revoked = 1});
    cachet_x509_crl *s1[] = {root_crl, rev_leaf};
    expect_code(verify_crls(&k, s1, 2, 0, &res), CACHET_E_REVOKED);
    assert_int_equal(res.error, X509_V_ERR_CERT_REVOKED);
    assert_int_equal(res.error_depth, 0);
    assert_non_null(strstr(cachet_err_detail(), "revoked"));

    /* ICA revoked by the root. */
    const testpki_cert *icas[] = {k.ica};
    cachet_x509_crl *rev_ica = crl_of(k.root, &(testpki_crl_opts){.revoked = icas,
                                                                  .n_revoked = 1});
    cachet_x509_crl *s2[] = {rev_ica, ica_crl};
    expect_code(verify_crls(&k, s2, 2, 0, &res), CACHET_E_REVOKED);
    assert_int_equal(res.error_depth, 1);

    /* Stale CRL: nextUpdate passed. */
    cachet_x509_crl *stale = crl_of(k.ica, &(testpki_crl_opts){.this_update = now - 7200,
                                                               .next_update = now - 60});
    cachet_x509_crl *s3[] = {root_crl, stale};
    expect_code(verify_crls(&k, s3, 2, 0, &res), CACHET_E_EXPIRED);
    assert_int_equal(res.error, X509_V_ERR_CRL_HAS_EXPIRED);

    /* CRL with a broken signature. */
    cachet_x509_crl *forged = crl_of(k.ica, &(testpki_crl_opts){.corrupt_signature = true});
    cachet_x509_crl *s4[] = {root_crl, forged};
    expect_code(verify_crls(&k, s4, 2, 0, &res), CACHET_E_CHAIN);
    assert_int_equal(res.error, X509_V_ERR_CRL_SIGNATURE_FAILURE);

    cachet_x509_crl *all[] = {root_crl, ica_crl, rev_leaf, rev_ica, stale, forged};
    for (size_t i = 0; i < 6; i++)
        cachet_crl_free(all[i]);
    pki_free(&k);
}

static void test_generated_profiles(void **state)
{
    (void)state;
    cachet_chain_result res;
    int64_t now = cachet_clock_now(NULL);

    /* AMD-shaped: RSA-PSS signing CAs, serial-0 P-384 leaf without AKID. */
    static const uint8_t zero = 0;
    testpki_cert *ark = testpki_mint(&(testpki_cert_opts){.cn = "ARK-Test", .ca = true,
                                                          .key = TESTPKI_KEY_RSA,
                                                          .sig_hash = CACHET_HASH_SHA384,
                                                          .sign_pss = true},
                                     NULL);
    testpki_cert *ask = testpki_mint(&(testpki_cert_opts){.cn = "SEV-Test", .ca = true,
                                                          .key = TESTPKI_KEY_RSA,
                                                          .sig_hash = CACHET_HASH_SHA384,
                                                          .sign_pss = true},
                                     ark);
    testpki_cert *vcek = testpki_mint(&(testpki_cert_opts){.cn = "SEV-VCEK",
                                                           .key = TESTPKI_KEY_P384,
                                                           .serial = &zero, .serial_len = 1,
                                                           .no_akid = true,
                                                           .sig_hash = CACHET_HASH_SHA384,
                                                           .sign_pss = true},
                                      ask);
    assert_non_null(vcek);
    cachet_x509 *xa = testpki_x509(ark), *xs = testpki_x509(ask), *xv = testpki_x509(vcek);
    assert_int_equal(verify3(xv, xs, xa, now, CACHET_CHAIN_STRICT | CACHET_CHAIN_ALLOW_NO_AKID,
                             NULL),
                     CACHET_OK);
    expect_code(verify3(xv, xs, xa, now, CACHET_CHAIN_STRICT, &res), CACHET_E_CHAIN);
    assert_int_equal(res.error, X509_V_ERR_MISSING_AUTHORITY_KEY_IDENTIFIER);

    /* ALLOW_NO_AKID covers the leaf only: an intermediate without AKID fails. */
    testpki_cert *ask2 = testpki_mint(&(testpki_cert_opts){.cn = "SEV-Test", .ca = true,
                                                           .no_akid = true,
                                                           .reuse_key = ask},
                                      ark);
    cachet_x509 *xs2 = testpki_x509(ask2);
    expect_code(verify3(xv, xs2, xa, now, CACHET_CHAIN_STRICT | CACHET_CHAIN_ALLOW_NO_AKID,
                        &res),
                CACHET_E_CHAIN);
    assert_int_equal(res.error, X509_V_ERR_MISSING_AUTHORITY_KEY_IDENTIFIER);
    assert_int_equal(res.error_depth, 1);
    /* Without STRICT it verifies. */
    assert_int_equal(verify3(xv, xs2, xa, now, 0, NULL), CACHET_OK);

    /* A leaf whose signature is broken. */
    testpki_cert *badsig = testpki_mint(&(testpki_cert_opts){.cn = "bad",
                                                             .corrupt_signature = true,
                                                             .sign_pss = true},
                                        ask);
    cachet_x509 *xb = testpki_x509(badsig);
    expect_code(verify3(xb, xs, xa, now, 0, &res), CACHET_E_CHAIN);
    assert_int_equal(res.error, X509_V_ERR_CERT_SIGNATURE_FAILURE);

    /* An impostor root with the same name and a different key. */
    testpki_cert *fake = testpki_mint(&(testpki_cert_opts){.cn = "ARK-Test", .ca = true}, NULL);
    cachet_x509 *xf = testpki_x509(fake);
    expect_code(verify3(xv, xs, xf, now, 0, &res), CACHET_E_CHAIN);

    /* A non-CA "intermediate" cannot issue. */
    testpki_cert *nonca = testpki_mint(&(testpki_cert_opts){.cn = "not a CA"}, ark);
    testpki_cert *under = testpki_mint(&(testpki_cert_opts){.cn = "under"}, nonca);
    cachet_x509 *xn = testpki_x509(nonca), *xu = testpki_x509(under);
    expect_code(verify3(xu, xn, xa, now, 0, &res), CACHET_E_CHAIN);
    assert_int_equal(res.error, X509_V_ERR_INVALID_CA);

    /* pathLen 0 at the root forbids an intermediate. */
    testpki_cert *r0 = testpki_mint(&(testpki_cert_opts){.cn = "R0", .ca = true,
                                                         .has_path_len = true, .path_len = 0},
                                    NULL);
    testpki_cert *i0 = testpki_mint(&(testpki_cert_opts){.cn = "I0", .ca = true}, r0);
    testpki_cert *l0 = testpki_mint(&(testpki_cert_opts){.cn = "L0"}, i0);
    cachet_x509 *xr0 = testpki_x509(r0), *xi0 = testpki_x509(i0), *xl0 = testpki_x509(l0);
    expect_code(verify3(xl0, xi0, xr0, now, 0, &res), CACHET_E_CHAIN);
    assert_int_equal(res.error, X509_V_ERR_PATH_LENGTH_EXCEEDED);

    /* An expired intermediate expires the chain. */
    testpki_cert *old = testpki_mint(&(testpki_cert_opts){.cn = "SEV-Test", .ca = true,
                                                          .not_before = now - 20 * 86400,
                                                          .not_after = now - 86400,
                                                          .reuse_key = ask},
                                     ark);
    cachet_x509 *xo = testpki_x509(old);
    expect_code(verify3(xv, xo, xa, now, 0, &res), CACHET_E_EXPIRED);
    assert_int_equal(res.error_depth, 1);

    /* Bad parameters fail closed. */
    cachet_chain_params p = {.leaf = xv, .time = now};
    expect_code(cachet_x509_verify_chain(&p, &res), CACHET_E_INVALID_ARG);
    assert_int_not_equal(res.error, 0);
    p.roots = &xa;
    p.n_roots = 1;
    p.flags = 1u << 20;
    expect_code(cachet_x509_verify_chain(&p, NULL), CACHET_E_INVALID_ARG);

    cachet_x509 *xs_all[] = {xa, xs, xv, xs2, xb, xf, xn, xu, xr0, xi0, xl0, xo};
    for (size_t i = 0; i < sizeof xs_all / sizeof xs_all[0]; i++)
        cachet_x509_free(xs_all[i]);
    testpki_cert *ts[] = {ark, ask, vcek, ask2, badsig, fake, nonca, under, r0, i0, l0, old};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        testpki_free(ts[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_milan_vcek),
        cmocka_unit_test(test_real_invalid_vceks),
        cmocka_unit_test(test_real_other_chains),
        cmocka_unit_test(test_generated_revocation),
        cmocka_unit_test(test_generated_profiles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
