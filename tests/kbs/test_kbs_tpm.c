/* The key broker end to end with a real (software) TPM: TPM A's AK is
 * enrolled under the owner's AK CA, which is the broker's only certificate
 * trust anchor; the workload attests with the TPM attester (quote extraData
 * = the 48-byte runtime-data digest) and fetches a secret.  Released under a
 * policy naming tee tpm and pinning the PCR the workload measured; refused
 * under a policy pinning another PCR value; refused for TPM B, whose AK has
 * no certificate from the CA (none at all, or one from another CA).
 * Skipped with a message when swtpm is absent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "cachet/clock.h"
#include "cachet/encoding.h"
#include "cachet/kbs_client.h"
#include "cachet/secmem.h"
#include "kbs_fixture.h"
#include "tpm_world.h"

#define PCR 16
#define EVENT "cachet test workload v1"

static tpm_world W;
static char pcr_hex[65]; /* PCR 16 of TPM A after the measurement */

static int group_setup(void **state)
{
    (void)state;
    tpm_world_setup(&W, 2);
    if (W.skip)
        return 0;
    if (tpm_world_enroll(&W, 0, CACHET_TPM_AK_RSA) != CACHET_OK) {
        print_message("# enroll: %s\n", cachet_err_detail());
        W.skip = "enrollment failed";
        return 0;
    }
    /* measure the "workload" into PCR 16 of TPM A: PCR = H(0^32 || H(event)) */
    cachet_tpm *t = NULL;
    uint8_t buf[64] = {0}, pcr[32];
    if (cachet_tpm_open(&(cachet_tpm_opts){.tcti = W.tpm[0].tcti}, &t) != CACHET_OK ||
        cachet_tpm_extend(t, PCR, EVENT, strlen(EVENT)) != CACHET_OK ||
        cachet_sha256(EVENT, strlen(EVENT), buf + 32) != CACHET_OK ||
        cachet_sha256(buf, sizeof buf, pcr) != CACHET_OK)
        W.skip = "measuring into TPM A failed";
    cachet_tpm_close(t);
    cachet_hex_encode(pcr, sizeof pcr, pcr_hex);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    tpm_world_teardown(&W);
    return 0;
}

#define RPOLICY                                                                             \
    "{\"version\":1,\"grants\":[{\"resources\":[\"default/model-key/*\"],"                  \
    "\"rules\":[\"tpm\"],\"status\":[\"affirming\",\"warning\"]}]}"

/* A broker whose attestation policy is one rule "tpm" with cond (JSON
 * members), the AK CA as trust anchor. */
static void start_broker(kbs_fix *f, const char *cond)
{
    kbs_fix_setup(f, true);
    char *pol = tu_asprintf("{\"id\":\"tpm-test\",\"rules\":[{\"name\":\"tpm\",\"tee\":[\"tpm\"],"
                            "\"status\":[\"affirming\",\"warning\"],%s}]}",
                            cond);
    cachet_kbs_store *s = NULL;
    assert_int_equal(cachet_kbs_store_open(f->db, f->kek, &s), CACHET_OK);
    assert_int_equal(cachet_kbs_store_set_policy(s, "attestation", pol), CACHET_OK);
    assert_int_equal(cachet_kbs_store_set_policy(s, "resource", RPOLICY), CACHET_OK);
    cachet_kbs_store_close(s);
    free(pol);
    kbs_fix_now = cachet_clock_now(NULL); /* certificates are checked at the broker's time */
    f->anchors = &W.akca;
    f->n_anchors = 1;
    kbs_fix_start(f, 0);
}

/* Attest with a TPM attester and ask for the model key: the rc of the step
 * that stopped (attest or get-resource), or CACHET_OK with the secret checked. */
static cachet_rc fetch(kbs_fix *f, const cachet_tpm_opts *o)
{
    cachet_attester *a = NULL;
    cachet_rc rc = cachet_attester_tpm_new(o, &a);
    if (rc != CACHET_OK)
        fail_msg("tpm attester: %s", cachet_err_detail());
    cachet_kbs_client *c = NULL;
    assert_int_equal(cachet_kbs_client_new(f->url, NULL, &c), CACHET_OK);
    uint8_t *secret = NULL;
    size_t len = 0;
    rc = cachet_kbs_client_attest(c, a);
    if (rc == CACHET_OK)
        rc = cachet_kbs_client_get_resource(c, "default/model-key/llama", &secret, &len);
    if (rc == CACHET_OK) {
        assert_int_equal(len, 32);
        assert_memory_equal(secret, "llama-model-key-0123456789abcdef", 32);
        cachet_secure_free(secret);
    }
    cachet_kbs_client_free(c);
    cachet_attester_free(a);
    return rc;
}

static void test_released_pcr_policy(void **state)
{
    (void)state;
    TPM_WORLD_REQUIRE(&W);
    kbs_fix f;
    char *cond = tu_asprintf("\"pcr\":{\"%d\":[\"%s\"]}", PCR, pcr_hex);
    start_broker(&f, cond);
    cachet_tpm_opts o = {.tcti = W.tpm[0].tcti, .ak_cert_path = W.ak_cert_path[0]};
    cachet_rc rc = fetch(&f, &o);
    if (rc != CACHET_OK)
        print_message("# refused: %s\n", cachet_err_detail());
    assert_int_equal(rc, CACHET_OK);
    kbs_fix_teardown(&f);
    free(cond);
}

static void test_released_any_workload(void **state)
{
    (void)state;
    TPM_WORLD_REQUIRE(&W);
    kbs_fix f;
    start_broker(&f, "\"any_workload\":true");
    cachet_tpm_opts o = {.tcti = W.tpm[0].tcti, .ak_cert_path = W.ak_cert_path[0]};
    assert_int_equal(fetch(&f, &o), CACHET_OK);
    kbs_fix_teardown(&f);
}

static void test_refused_other_pcr(void **state)
{
    (void)state;
    TPM_WORLD_REQUIRE(&W);
    kbs_fix f;
    char *cond = tu_asprintf("\"pcr\":{\"%d\":[\"%064d\"]}", PCR, 0);
    start_broker(&f, cond);
    cachet_tpm_opts o = {.tcti = W.tpm[0].tcti, .ak_cert_path = W.ak_cert_path[0]};
    cachet_rc rc = fetch(&f, &o);
    assert_int_not_equal(rc, CACHET_OK);
    assert_non_null(strstr(cachet_err_detail(), "admits no rule"));
    kbs_fix_teardown(&f);
    free(cond);
}

/* TPM B's AK has no certificate from the CA: without any, its quotes carry
 * no AK trust; with one from another CA, it does not chain. */
static void test_refused_unenrolled_tpm(void **state)
{
    (void)state;
    TPM_WORLD_REQUIRE(&W);
    kbs_fix f;
    start_broker(&f, "\"any_workload\":true");
    cachet_tpm_opts o = {.tcti = W.tpm[1].tcti};
    cachet_rc rc = fetch(&f, &o);
    assert_int_not_equal(rc, CACHET_OK);
    assert_non_null(strstr(cachet_err_detail(), "not verified"));

    /* a rogue CA certifies TPM B's AK (through a real activation) */
    cachet_pkey *rk = NULL;
    cachet_x509 *rca = NULL;
    char *pem = NULL;
    int64_t now = cachet_clock_now(NULL);
    assert_int_equal(cachet_pkey_generate_ec(CACHET_CURVE_P256, &rk), CACHET_OK);
    cachet_x509_issue_params ip = {.subject_key = rk, .subject_cn = "rogue AK CA",
                                   .issuer_key = rk, .not_before = now - 60,
                                   .not_after = now + 3600, .ca = true};
    assert_int_equal(cachet_x509_issue(&ip, &pem, &rca), CACHET_OK);
    free(pem);
    cachet_tpm *t = NULL;
    assert_int_equal(cachet_tpm_open(&(cachet_tpm_opts){.tcti = W.tpm[1].tcti}, &t), CACHET_OK);
    cachet_tpm_enroll_params ep = {.ek_anchors = &W.ek_root, .n_ek_anchors = 1,
                                   .ek_intermediates = &W.ek_issuer, .n_ek_intermediates = 1,
                                   .ca_cert = rca, .ca_key = rk, .time = now};
    assert_int_equal(cachet_tpm_enroll_ak(t, &ep, &pem, NULL), CACHET_OK);
    cachet_tpm_close(t);
    char *path = tu_asprintf("%s/rogue-ak.pem", W.dir);
    tu_write_file(path, pem, strlen(pem));
    o.ak_cert_path = path;
    rc = fetch(&f, &o);
    assert_int_not_equal(rc, CACHET_OK);
    assert_non_null(strstr(cachet_err_detail(), "not verified"));
    free(path);
    free(pem);
    cachet_x509_free(rca);
    cachet_pkey_free(rk);
    kbs_fix_teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_released_pcr_policy),
        cmocka_unit_test(test_released_any_workload),
        cmocka_unit_test(test_refused_other_pcr),
        cmocka_unit_test(test_refused_unenrolled_tpm),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
