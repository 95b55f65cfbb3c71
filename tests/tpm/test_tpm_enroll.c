/* AK enrollment on real software TPMs (cachet_tpm_enroll_ak, cachet
 * tpm-enroll): two swtpms with EK certificates from swtpm's local CA and an
 * owner's AK CA.  Enrollment succeeds for a TPM whose EK chains to the CA
 * and the certificate certifies exactly the AK; an EK CA that is not the
 * TPM's is refused naming the check; the attester carries the AK
 * certificate and its quotes (extraData = the 48-byte binding digest)
 * verify against the AK CA alone; an AK certificate from the other TPM is
 * refused at open.  Skipped with a message when swtpm is absent. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#include "cachet/clock.h"
#include "cachet/encoding.h"
#include "cachet/fileio.h"
#include "cachet/runtime_data.h"
#include "evidence/tpm/tpm.h"
#include "tpm_assert.h"
#include "tpm_world.h"

static tpm_world W;

static int group_setup(void **state)
{
    (void)state;
    tpm_world_setup(&W, 2);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    tpm_world_teardown(&W);
    return 0;
}

/* The AK of TPM i as a key, from its TPM2B_PUBLIC. */
static cachet_pkey *ak_key(int i, cachet_tpm_ak_type type)
{
    cachet_tpm *t = NULL;
    assert_int_equal(cachet_tpm_open(&(cachet_tpm_opts){.tcti = W.tpm[i].tcti, .ak_type = type},
                                     &t),
                     CACHET_OK);
    uint8_t *pub = NULL;
    size_t len = 0;
    const uint8_t *tpmt = NULL;
    size_t tl = 0;
    TPMT_PUBLIC p;
    cachet_pkey *k = NULL;
    assert_int_equal(cachet_tpm_ak_public(t, &pub, &len), CACHET_OK);
    assert_int_equal(tpm_public2b_contents(pub, len, &tpmt, &tl), CACHET_OK);
    assert_int_equal(tpm_public_parse(tpmt, tl, &p), CACHET_OK);
    assert_int_equal(tpm_public_pkey(&p, &k), CACHET_OK);
    free(pub);
    cachet_tpm_close(t);
    return k;
}

static cachet_x509 *read_cert(const char *path)
{
    size_t n = 0;
    uint8_t *pem = NULL;
    cachet_x509 *c = NULL;
    assert_int_equal(cachet_file_read(path, 1 << 20, &pem, &n), CACHET_OK);
    assert_int_equal(cachet_x509_parse(pem, n, &c), CACHET_OK);
    free(pem);
    return c;
}

static void assert_same_key(const cachet_x509 *c, const cachet_pkey *k)
{
    cachet_pkey *ck = NULL;
    uint8_t *a = NULL, *b = NULL;
    size_t al = 0, bl = 0;
    assert_int_equal(cachet_x509_public_key(c, &ck), CACHET_OK);
    assert_int_equal(cachet_pkey_spki_der(ck, &a, &al), CACHET_OK);
    assert_int_equal(cachet_pkey_spki_der(k, &b, &bl), CACHET_OK);
    assert_int_equal(al, bl);
    assert_memory_equal(a, b, al);
    free(a);
    free(b);
    cachet_pkey_free(ck);
}

static void test_enroll_rsa(void **state)
{
    (void)state;
    TPM_WORLD_REQUIRE(&W);
    cachet_rc rc = tpm_world_enroll(&W, 0, CACHET_TPM_AK_RSA);
    if (rc != CACHET_OK)
        fail_msg("enroll: %s", cachet_err_detail());
    cachet_x509 *c = read_cert(W.ak_cert_path[0]);
    cachet_pkey *k = ak_key(0, CACHET_TPM_AK_RSA);
    assert_same_key(c, k); /* the issued certificate's key is the AK */
    /* and it chains to the AK CA */
    cachet_chain_params cp = {.leaf = c, .roots = &W.akca, .n_roots = 1,
                              .time = cachet_clock_now(NULL)};
    assert_int_equal(cachet_x509_verify_chain(&cp, NULL), CACHET_OK);
    cachet_pkey_free(k);
    cachet_x509_free(c);
}

static void test_enroll_refused_wrong_ek_ca(void **state)
{
    (void)state;
    TPM_WORLD_REQUIRE(&W);
    cachet_tpm *t = NULL;
    assert_int_equal(cachet_tpm_open(&(cachet_tpm_opts){.tcti = W.tpm[1].tcti}, &t), CACHET_OK);
    /* the AK CA is not the TPM manufacturer's CA */
    cachet_tpm_enroll_params p = {.ek_anchors = &W.akca, .n_ek_anchors = 1,
                                  .ek_intermediates = &W.ek_issuer, .n_ek_intermediates = 1,
                                  .ca_cert = W.akca, .ca_key = W.akca_key,
                                  .time = cachet_clock_now(NULL)};
    char *pem = (char *)"x";
    cachet_rc rc = cachet_tpm_enroll_ak(t, &p, &pem, NULL);
    assert_int_equal(cachet_rc_code(rc), CACHET_E_POLICY);
    assert_null(pem);
    assert_non_null(strstr(cachet_err_detail(), "ek.cert.chain"));
    /* the root alone, without the issuing CA, builds no path either */
    p.ek_anchors = &W.ek_root;
    p.n_ek_intermediates = 0;
    rc = cachet_tpm_enroll_ak(t, &p, &pem, NULL);
    assert_int_equal(cachet_rc_code(rc), CACHET_E_POLICY);
    assert_non_null(strstr(cachet_err_detail(), "ek.cert.chain"));
    cachet_tpm_close(t);
}

/* ECC AK: enroll, then the attester's bound quote verifies with the AK CA
 * as the only trust anchor and the 48-byte digest as the nonce. */
static void test_enrolled_quote_verifies(void **state)
{
    (void)state;
    TPM_WORLD_REQUIRE(&W);
    if (tpm_world_enroll(&W, 1, CACHET_TPM_AK_ECC) != CACHET_OK)
        fail_msg("enroll: %s", cachet_err_detail());
    cachet_attester *a = NULL;
    cachet_tpm_opts o = {.tcti = W.tpm[1].tcti, .ak_type = CACHET_TPM_AK_ECC,
                         .ak_cert_path = W.ak_cert_path[1]};
    assert_int_equal(cachet_attester_tpm_new(&o, &a), CACHET_OK);
    assert_non_null(cachet_attester_tpm_handle(a));
    uint8_t rd[64] = {0};
    assert_int_equal(cachet_random(rd, 48), CACHET_OK);
    uint8_t *ev = NULL;
    size_t len = 0;
    assert_int_equal(cachet_attester_collect_bound(a, rd, NULL, 0, &ev, &len), CACHET_OK);
    assert_int_equal(cachet_runtime_data_binding_len("tpm"), 48);
    assert_int_equal(cachet_runtime_data_binding_len("vtpm"), 48);
    assert_int_equal(cachet_runtime_data_binding_len("snp"), 64);
    cachet_verify_result *r =
        tt_verify("tpm", ev, len, rd, 48, &W.akca, 1, NULL, cachet_clock_now(NULL));
    ev_assert_no_failures(r);
    assert_true(r->verified);
    ev_assert_pass(r, "tpm.ak.cert.key");
    ev_assert_pass(r, "tpm.ak.cert.chain");
    ev_assert_pass(r, "tpm.quote.nonce");
    assert_string_equal(json_string_value(tt_claim(r, "ak_trust", NULL, NULL)), "certificate");
    cachet_verify_result_free(r);
    /* all 64 bytes as the nonce: the quote carries 48, a freshness failure */
    r = tt_verify("tpm", ev, len, rd, 64, &W.akca, 1, NULL, cachet_clock_now(NULL));
    ev_assert_fail(r, "tpm.quote.nonce");
    cachet_verify_result_free(r);
    /* the EK root is no anchor for the AK certificate */
    r = tt_verify("tpm", ev, len, rd, 48, &W.ek_root, 1, NULL, cachet_clock_now(NULL));
    assert_false(r->verified);
    ev_assert_fail(r, "tpm.ak.cert.chain");
    cachet_verify_result_free(r);
    free(ev);
    /* report data with a non-zero tail cannot be carried: refused, not cut */
    rd[60] = 1;
    assert_int_equal(cachet_rc_code(cachet_attester_collect_bound(a, rd, NULL, 0, &ev, &len)),
                     CACHET_E_INVALID_ARG);
    cachet_attester_free(a);
}

static void test_foreign_ak_cert_refused(void **state)
{
    (void)state;
    TPM_WORLD_REQUIRE(&W);
    if (!W.ak_cert_path[0] && tpm_world_enroll(&W, 0, CACHET_TPM_AK_RSA) != CACHET_OK)
        fail_msg("enroll: %s", cachet_err_detail());
    cachet_attester *a = NULL;
    /* TPM 0's AK certificate on TPM 1 */
    cachet_tpm_opts o = {.tcti = W.tpm[1].tcti, .ak_cert_path = W.ak_cert_path[0]};
    cachet_rc rc = cachet_attester_tpm_new(&o, &a);
    assert_int_equal(cachet_rc_code(rc), CACHET_E_POLICY);
    assert_null(a);
    assert_non_null(strstr(cachet_err_detail(), "another key"));
}

static void test_cli(void **state)
{
    (void)state;
    TPM_WORLD_REQUIRE(&W);
    char *out = NULL, *err = NULL;
    char *cert = tu_asprintf("%s/cli-ak.pem", W.dir);
    int rc = tu_run_cachet(&out, &err,
                           "tpm-enroll --tpm-tcti %s --ek-ca %s --ek-chain %s --ca-key %s "
                           "--ca-cert %s --out %s",
                           W.tpm[0].tcti, W.ek_root_path, W.ek_issuer_path, W.akca_key_path,
                           W.akca_path, cert);
    if (rc != 0)
        print_message("# %s\n", err);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "enrolled"));
    cachet_x509 *c = read_cert(cert);
    cachet_pkey *k = ak_key(0, CACHET_TPM_AK_RSA);
    assert_same_key(c, k);
    cachet_pkey_free(k);
    cachet_x509_free(c);
    free(out);
    free(err);
    char *bad = tu_asprintf("%s/cli-bad.pem", W.dir);
    rc = tu_run_cachet(&out, &err,
                       "tpm-enroll --tpm-tcti %s --ek-ca %s --ca-key %s --ca-cert %s --out %s",
                       W.tpm[0].tcti, W.akca_path, W.akca_key_path, W.akca_path, bad);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(err, "ek.cert.chain"));
    assert_int_not_equal(access(bad, F_OK), 0); /* nothing written */
    free(out);
    free(err);
    rc = tu_run_cachet(&out, &err, "tpm-enroll --tpm-tcti %s --out %s", W.tpm[0].tcti, bad);
    assert_int_equal(rc, 2);
    free(out);
    free(err);
    free(bad);
    free(cert);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enroll_rsa),
        cmocka_unit_test(test_enroll_refused_wrong_ek_ca),
        cmocka_unit_test(test_enrolled_quote_verifies),
        cmocka_unit_test(test_foreign_ak_cert_refused),
        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
