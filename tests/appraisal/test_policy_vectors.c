/* Policies on real vectors' claims (../shared/vectors, via the real
 * verifier; skipped with a message when absent): each rule kind admits what
 * it should and denies what it should. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "cachet/clock.h"
#include "cachet/encoding.h"
#include "sample_fixture.h"

#define GENOA_MEASUREMENT                                                                       \
    "6a6519d757e68c2e939c9dbbbc1828498e8de35d2766dd05f1a2cca5059d0cf4ae62a36d75c837974dd50b315" \
    "506e73e"
#define GENOA_REPORT_DATA                                                                       \
    "7e7320889600c7ac133aea7b896c51f41026002982292a7369559796999c1bf929eef3ff23c46e858f0b1982f" \
    "9a92b17c51b578d958cde6b0c92978f150cf9b0"
#define ZERO32 "0000000000000000000000000000000000000000000000000000000000000000"
#define TDX_RTMR1                                                                               \
    "0084452c01668329d4bc06acdf58a7205c26743304509973949e5619bf81a6a7aea8c323c173019b3093d54e5" \
    "79e9378"
#define TDX_RTMR2                                                                               \
    "d833feef2cd945148aa38ead2c53e9b7f138190aaaebfc551dccd829fc207aa3ba80b70870d7330733642e01d" \
    "48c3132"
#define TDX_MRTD                                                                                \
    "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b25388" \
    "73118b7"
#define TDX_REPORT_DATA                                                                         \
    "9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9eca3efdbb481601c163cf5249" \
    "3d6e44aed55d51ec39b7e518fadb92c2b523f20"
#define NITRO_PCR0                                                                              \
    "5cb702954321826d7939d6da829a940d787fcf32357beb8eae1ddf33c28c17d36f3ac3ba6828fdf7edeed0288" \
    "9702da6"
#define NITRO_PCR1                                                                              \
    "0343b056cd8485ca7890ddd833476d78460aed2aa161548e4e26bedf321726696257d623e8805f3f605946b3d" \
    "8b0c6aa"

/* Verify a vector (evidence + endorsements relative to the vectors dir) at
 * time `at` with nonce_hex (may be NULL). */
static cachet_verify_result *verify_vector(const char *evidence, const char *const *endorse,
                                           const char *at, const char *nonce_hex)
{
    size_t len = 0;
    uint8_t *ev = tu_read_vector(evidence, &len);
    assert_non_null(ev);
    cachet_endorsements *e = cachet_endorsements_new();
    for (const char *const *p = endorse; p && *p; p++) {
        char *path = tu_vector_path(*p);
        assert_non_null(path);
        assert_int_equal(cachet_endorsements_add_path(e, path), CACHET_OK);
        free(path);
    }
    uint8_t nonce[64];
    size_t nonce_len = 0;
    if (nonce_hex)
        assert_int_equal(cachet_hex_decode(nonce_hex, nonce, sizeof nonce, &nonce_len), CACHET_OK);
    cachet_verify_request req = {.evidence = ev, .evidence_len = len, .endorsements = e,
                                 .nonce = nonce_hex ? nonce : NULL, .nonce_len = nonce_len};
    assert_int_equal(cachet_time_parse_rfc3339(at, &req.time), CACHET_OK);
    cachet_verify_result *r = NULL;
    assert_int_equal(cachet_evidence_verify(&req, &r), CACHET_OK);
    cachet_endorsements_free(e);
    free(ev);
    return r;
}

static cachet_verify_result *genoa(void)
{
    static const char *const e[] = {"snp/genoa_trustee_e2e/vcek.derived.der", NULL};
    cachet_verify_result *r = verify_vector("snp/genoa_trustee_e2e/report.derived.bin", e,
                                            "2025-06-01T00:00:00Z", GENOA_REPORT_DATA);
    assert_true(r->verified);
    return r;
}

/* admit / deny with a rule built from the given conditions. */
static void expect(const cachet_verify_result *r, bool admit, const char *failing,
                   const char *fmt_conditions, const char *tee, const char *status)
{
    cachet_policy *p = sfx_policy("{\"rules\":[{\"name\":\"r\",\"tee\":[\"%s\"],\"status\":%s,%s}]}",
                                  tee, status, fmt_conditions);
    cachet_appraisal *a = NULL;
    bool got = sfx_admits(p, r, &a);
    if (got != admit) {
        cachet_appraisal_print(a, stderr);
        fail_msg("expected %s for %s", admit ? "admit" : "deny", fmt_conditions);
    }
    if (failing) {
        const char *res = sfx_condition(a, "r", failing);
        if (!res || strcmp(res, "fail") != 0)
            fail_msg("condition %s: %s, expected fail", failing, res ? res : "absent");
    }
    cachet_appraisal_free(a);
    cachet_policy_free(p);
}

#define AW "[\"affirming\",\"warning\"]"

static void test_snp_reference_values(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    cachet_verify_result *r = genoa();
    expect(r, true, NULL, "\"measurement\":[\"" GENOA_MEASUREMENT "\"]", "snp", AW);
    expect(r, false, "measurement", "\"measurement\":[\"00ff\"]", "snp", AW);
    expect(r, true, NULL, "\"host_data\":[\"" ZERO32 "\"]", "snp", AW);
    expect(r, false, "host_data", "\"host_data\":[\"" ZERO32 "01\"]", "snp", AW);
    expect(r, true, NULL, "\"claims\":{\"vmpl\":[0],\"product\":[\"Genoa\"]},"
                          "\"measurement\":[\"" GENOA_MEASUREMENT "\"]", "snp", AW);
    expect(r, false, "claims.product", "\"claims\":{\"product\":[\"Milan\"]}", "snp", AW);
    /* the vector verifies with status warning (no AMD CRL given): not admitted by default */
    expect(r, false, "status", "\"measurement\":[\"" GENOA_MEASUREMENT "\"]", "snp",
           "[\"affirming\"]");
    /* another family's rule does not admit it */
    expect(r, false, "tee", "\"measurement\":[\"" GENOA_MEASUREMENT "\"]", "tdx", AW);
    cachet_verify_result_free(r);
}

static void test_snp_min_tcb_and_flags(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    cachet_verify_result *r = genoa(); /* reported TCB: bl 10, tee 0, snp 23, ucode 25 */
    const char *m = "\"measurement\":[\"" GENOA_MEASUREMENT "\"],";
    char *c = tu_asprintf("%s\"min_tcb\":{\"bootloader\":10,\"tee\":0,\"snp\":23,\"microcode\":25}", m);
    expect(r, true, NULL, c, "snp", AW);
    free(c);
    c = tu_asprintf("%s\"min_tcb\":{\"snp\":24}", m);
    expect(r, false, "min_tcb.snp", c, "snp", AW);
    free(c);
    c = tu_asprintf("%s\"min_tcb\":{\"microcode\":26}", m);
    expect(r, false, "min_tcb.microcode", c, "snp", AW);
    free(c);
    c = tu_asprintf("%s\"min_svn\":{\"guest_svn\":0}", m);
    expect(r, true, NULL, c, "snp", AW);
    free(c);
    c = tu_asprintf("%s\"tcb_status\":[\"UpToDate\"]", m);
    expect(r, true, NULL, c, "snp", AW);
    free(c);
    c = tu_asprintf("%s\"flags_off\":[\"policy.migrate_ma\",\"policy.debug\"]", m);
    expect(r, true, NULL, c, "snp", AW);
    free(c);
    c = tu_asprintf("%s\"flags_off\":[\"policy.smt_allowed\"]", m); /* SMT is allowed here */
    expect(r, false, "flags_off.policy.smt_allowed", c, "snp", AW);
    free(c);
    cachet_verify_result_free(r);
}

static void test_snp_out_of_date_and_debug(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    static const char *const dstack[] = {"snp/milan_dstack_2026/vcek.pem", NULL};
    cachet_verify_result *r =
        verify_vector("snp/milan_dstack_2026/report.derived.bin", dstack, "2026-07-01T00:00:00Z",
                      NULL);
    const char *ref = "\"freshness\":\"optional\",\"host_data\":[\"783f0057820acb99249af56cc3b0"
                      "7b4e8d80f65183167cba9cf437bb680f742f\"],";
    char *c = tu_asprintf("%s\"tcb_status\":[\"UpToDate\"]", ref);
    expect(r, false, "tcb_status", c, "snp", AW); /* reported TCB lags: OutOfDate */
    free(c);
    c = tu_asprintf("%s\"tcb_status\":[\"UpToDate\",\"OutOfDate\"],\"min_tcb\":{\"snp\":23}", ref);
    expect(r, true, NULL, c, "snp", AW);
    free(c);
    c = tu_asprintf("%s\"min_tcb\":{\"snp\":24}", ref);
    expect(r, false, "min_tcb.snp", c, "snp", AW);
    free(c);
    cachet_verify_result_free(r);

    /* debug policy: authentic, but never admitted */
    static const char *const gsg[] = {"snp/milan_gsg_2022/vcek.der", NULL};
    r = verify_vector("snp/milan_gsg_2022/report.bin", gsg, "2022-09-24T01:00:00Z", "0102030405");
    assert_true(r->verified);
    expect(r, false, "debug",
           "\"measurement\":[\"b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b"
           "6bdf8a9ece31a5a608eb0cf2e4872b01\"]",
           "snp", AW);
    cachet_verify_result_free(r);
}

static void test_tdx_rtmrs(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    static const char *const e[] = {"tdx/b0c06f_v4_dcapqvl_2025-06/collateral.json", NULL};
    cachet_verify_result *r = verify_vector("tdx/b0c06f_v4_dcapqvl_2025-06/quote.bin", e,
                                            "2025-07-19T10:00:00Z", TDX_REPORT_DATA);
    assert_true(r->verified);
    assert_int_equal(r->status, CACHET_EV_AFFIRMING);
    /* default status (affirming) admits it */
    expect(r, true, NULL,
           "\"measurement\":[\"" TDX_MRTD "\"],\"rtmr\":{\"1\":[\"" TDX_RTMR1 "\"],\"2\":[\"00\",\""
           TDX_RTMR2 "\"]},\"tcb_status\":[\"UpToDate\"],\"flags_off\":[\"td_attributes_flags."
           "migratable\"],\"claims\":{\"xfam\":[\"0x00000000000602e7\"]}",
           "tdx", "[\"affirming\"]");
    expect(r, false, "rtmr.2", "\"rtmr\":{\"1\":[\"" TDX_RTMR1 "\"],\"2\":[\"" TDX_RTMR1 "\"]}",
           "tdx", "[\"affirming\"]");
    expect(r, false, "rtmr.3", "\"rtmr\":{\"3\":[\"" TDX_RTMR1 "\"]}", "tdx", "[\"affirming\"]");
    cachet_verify_result_free(r);

    static const char *const dbg[] = {"tdx/collateral_50806f_gotdxguest_2023-06", NULL};
    r = verify_vector("tdx/50806f_v4_trustee_quote4_DEBUG_TD/quote.bin", dbg,
                      "2023-07-01T01:00:00Z", NULL);
    expect(r, false, "debug", "\"any_workload\":true,\"freshness\":\"optional\"", "tdx", AW);
    cachet_verify_result_free(r);
}

static cachet_verify_result *h100(void)
{
    static const char *const e[] = {"nvgpu/h100_550.90.07_nvtrust_2025/device_cert_chain.pem", NULL};
    return verify_vector("nvgpu/h100_550.90.07_nvtrust_2025/attestation_report.hex", e,
                         "2025-06-01T00:00:00Z",
                         "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb");
}

static void test_gpu_versions(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    cachet_verify_result *r = h100();
    assert_true(r->verified);
    expect(r, true, NULL,
           "\"driver_version\":[\"550.90.07\"],\"vbios_version\":[\"96.00.9F.00.01\"],"
           "\"cc_mode\":[\"on\",\"not-reported\"]",
           "nvidia", AW);
    /* a raw SPDM report does not say the GPU is in CC mode: denied unless relaxed */
    expect(r, false, "gpu0.cc_mode", "\"driver_version\":[\"550.90.07\"]", "nvgpu", AW);
    expect(r, false, "gpu0.driver_version",
           "\"driver_version\":[\"575.57.08\"],\"cc_mode\":[\"not-reported\"]", "nvgpu", AW);
    expect(r, false, "gpu0.vbios_version",
           "\"vbios_version\":[\"96.00.00.00.00\"],\"cc_mode\":[\"not-reported\"]", "nvgpu", AW);
    cachet_verify_result_free(r);
}

static void test_composite_cpu_gpu(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    cachet_verify_result *cpu = genoa();
    cachet_verify_result *gpus = verify_vector(
        "nvgpu/h100_590.12_nvsdk_serialized/multi_gpu_hopper_4x_590.12.json", NULL,
        "2025-06-01T00:00:00Z", NULL);
    const cachet_verify_result *devs[] = {gpus};
#define COMPOSITE_FMT "{\"rules\":[{\"name\":\"r\",\"tee\":[\"snp\"],\"status\":" AW "," \
                      "\"measurement\":[\"" GENOA_MEASUREMENT "\"],\"gpu\":{\"count\":%d," \
                      "\"status\":" AW ",\"freshness\":\"optional\",\"driver_version\":" \
                      "[\"%s\"],\"cc_mode\":[\"on\",\"not-reported\"]}}]}"
    struct {
        int count;
        const char *driver;
        bool bound;
        bool admit;
        const char *failing;
    } cases[] = {
        {4, "590.12", true, true, NULL},
        {5, "590.12", true, false, "gpu.count"},
        {4, "590.12", false, false, "gpu.bound"},
        {1, "550.90.07", true, false, "gpu3.driver_version"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cachet_policy *p = sfx_policy(COMPOSITE_FMT, cases[i].count, cases[i].driver);
        cachet_appraisal_input in = {.primary = cpu, .devices = devs, .n_devices = 1,
                                     .devices_bound = cases[i].bound};
        cachet_appraisal *a = NULL;
        assert_int_equal(cachet_policy_appraise(p, &in, &a), CACHET_OK);
        if (cachet_appraisal_admitted(a) != cases[i].admit) {
            cachet_appraisal_print(a, stderr);
            fail_msg("case %zu", i);
        }
        if (cases[i].failing)
            assert_string_equal(sfx_condition(a, "r", cases[i].failing), "fail");
        cachet_appraisal_free(a);
        cachet_policy_free(p);
    }
    cachet_verify_result_free(gpus);
    cachet_verify_result_free(cpu);
}

static void test_pcrs(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    cachet_verify_result *r = verify_vector("nitro/nsm_prod_2025-12-25/attestation_doc.cose", NULL,
                                            "2025-12-25T13:15:37Z", NULL);
    assert_true(r->verified);
    const char *fresh = "\"freshness\":\"optional\",";
    char *c = tu_asprintf("%s\"pcr\":{\"0\":[\"" NITRO_PCR0 "\"],\"1\":[\"" NITRO_PCR1 "\"]}", fresh);
    expect(r, true, NULL, c, "nitro", "[\"affirming\"]");
    free(c);
    c = tu_asprintf("%s\"pcr\":{\"1\":[\"" NITRO_PCR0 "\"]}", fresh);
    expect(r, false, "pcr.1", c, "nitro", "[\"affirming\"]");
    free(c);
    c = tu_asprintf("%s\"pcr\":{\"9\":[\"" NITRO_PCR0 "\"]}", fresh); /* not in the document */
    expect(r, false, "pcr.9", c, "nitro", "[\"affirming\"]");
    free(c);
    cachet_verify_result_free(r);

    /* TPM: the pcrNN claims of the preferred bank, and pcrs.<bank>.pcrNN by bank */
    r = verify_vector("tpm/gce_vtpm_cos85_nonce9009/attestation.pb", NULL, "2025-01-01T00:00:00Z",
                      "9009");
    const json_t *pcr0 = json_object_get(r->claims, "pcr00");
    if (json_is_string(pcr0)) {
        c = tu_asprintf("\"pcr\":{\"0\":[\"%s\"]}", json_string_value(pcr0));
        cachet_policy *p = sfx_policy("{\"rules\":[{\"name\":\"r\",\"tee\":[\"tpm\"],%s}]}", c);
        cachet_appraisal *a = NULL;
        sfx_admits(p, r, &a);
        assert_string_equal(sfx_condition(a, "r", "pcr.0"), "pass");
        cachet_appraisal_free(a);
        cachet_policy_free(p);
        free(c);
    }
    cachet_policy *p = sfx_policy("{\"rules\":[{\"name\":\"r\",\"tee\":[\"tpm\"],\"pcr_bank\":"
                                  "\"sha1\",\"pcr\":{\"0\":[\"c032c3b51dbb6f96b047421512fd4b4dfde"
                                  "496f3\"]}}]}");
    cachet_appraisal *a = NULL;
    sfx_admits(p, r, &a);
    const char *res = sfx_condition(a, "r", "pcr.0");
    assert_non_null(res);
    /* the SHA-1 bank is reported only once the quote vouches for it */
    if (json_object_get(json_object_get(r->claims, "pcrs"), "sha1"))
        assert_string_equal(res, "pass");
    cachet_appraisal_free(a);
    cachet_policy_free(p);
    cachet_verify_result_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snp_reference_values),
        cmocka_unit_test(test_snp_min_tcb_and_flags),
        cmocka_unit_test(test_snp_out_of_date_and_debug),
        cmocka_unit_test(test_tdx_rtmrs),
        cmocka_unit_test(test_gpu_versions),
        cmocka_unit_test(test_composite_cpu_gpu),
        cmocka_unit_test(test_pcrs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
