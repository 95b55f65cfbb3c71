/* The NVML GPU attester at its interface.  There is no NVIDIA GPU or driver
 * on the build machine: a fake libnvidia-ml (fake_nvml.c, built next to
 * this test) is loaded through the same dlopen path and serves real vector
 * reports and chains; the evidence it yields is verified with the real,
 * built-in NVIDIA roots.  Without the fake, the real library is absent and
 * the attester must say "no NVIDIA driver". */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#include "cachet/attester.h"
#include "cachet/clock.h"
#include "cachet/encoding.h"
#include "cachet/evidence.h"
#include "ev_assert.h"

#define N931 "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb"

static char *fake, *fake_old, *dir, *log_path;

static int setup(void **state)
{
    (void)state;
    const char *b = getenv("CACHET_BUILD_DIR");
    if (!b)
        return -1;
    fake = tu_asprintf("%s/tests/evidence/libfake_nvml.so", b);
    fake_old = tu_asprintf("%s/tests/evidence/libfake_nvml_old.so", b);
    dir = tu_mkdtemp();
    log_path = tu_asprintf("%s/nvml.log", dir);
    setenv("FAKE_NVML_LOG", log_path, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(dir);
    free(dir);
    free(fake);
    free(fake_old);
    free(log_path);
    return 0;
}

/* GPU i serves a vector (relative to the vectors dir). */
static void serve(unsigned i, const char *report_rel, const char *chain_rel)
{
    char *r = tu_vector_path(report_rel), *c = tu_vector_path(chain_rel);
    if (!r || !c) {
        free(r);
        free(c);
        print_message("# SKIP vectors %s not found\n", report_rel);
        skip();
    }
    char key[32];
    snprintf(key, sizeof key, "FAKE_NVML_REPORT%u", i);
    setenv(key, r, 1);
    snprintf(key, sizeof key, "FAKE_NVML_CHAIN%u", i);
    setenv(key, c, 1);
    free(r);
    free(c);
}

static void reset(const char *mode, unsigned gpus)
{
    setenv("FAKE_NVML_MODE", mode, 1);
    char n[8];
    snprintf(n, sizeof n, "%u", gpus);
    setenv("FAKE_NVML_GPUS", n, 1);
    setenv("FAKE_NVML_DRIVER", "550.90.07", 1);
    setenv("FAKE_NVML_VBIOS", "96.00.9F.00.01", 1);
    unlink(log_path);
}

static char *log_text(void)
{
    size_t len = 0;
    FILE *f = fopen(log_path, "rb");
    if (!f)
        return strdup("");
    fclose(f);
    uint8_t *b = tu_read_file(log_path, &len);
    char *s = malloc(len + 1);
    memcpy(s, b, len);
    s[len] = 0;
    free(b);
    return s;
}

static cachet_verify_result *verify(const uint8_t *ev, size_t len, const char *nonce_hex)
{
    uint8_t nonce[32];
    size_t nl = 0;
    assert_int_equal(cachet_hex_decode(nonce_hex, nonce, sizeof nonce, &nl), CACHET_OK);
    int64_t t;
    assert_int_equal(cachet_time_parse_rfc3339("2026-11-29T00:00:00Z", &t), CACHET_OK);
    cachet_verify_request req = { .evidence = ev, .evidence_len = len, .time = t,
                                  .nonce = nonce, .nonce_len = nl };
    cachet_verify_result *r = NULL;
    assert_int_equal(cachet_evidence_verify(&req, &r), CACHET_OK);
    return r;
}

static void nonce_of(const char *hex, uint8_t out[32])
{
    size_t n = 0;
    assert_int_equal(cachet_hex_decode(hex, out, 32, &n), CACHET_OK);
    assert_int_equal(n, 32);
}

/* ---- no driver ----------------------------------------------------------------------- */

static void test_no_driver(void **state)
{
    (void)state;
    cachet_nvgpu_session *s = NULL;
    cachet_rc rc = cachet_nvgpu_open("/nonexistent/libnvidia-ml.so.1", &s);
    assert_int_equal(cachet_rc_code(rc), CACHET_E_NOT_FOUND);
    assert_null(s);
    assert_non_null(strstr(cachet_err_detail(), "no NVIDIA driver"));
    cachet_attester *a = NULL;
    assert_int_equal(cachet_rc_code(cachet_attester_nvgpu_new("/nonexistent/libnvidia-ml.so.1", &a)),
                     CACHET_E_NOT_FOUND);
    assert_null(a);
    /* The default library: absent on this machine (no GPU here); if a
     * driver is installed the open may succeed, and must not crash either way. */
    rc = cachet_nvgpu_open(NULL, &s);
    if (rc == CACHET_OK) {
        print_message("# libnvidia-ml.so.1 is installed here\n");
        cachet_nvgpu_close(s);
    } else {
        print_message("# default NVML: %s\n", cachet_err_detail());
        assert_true(cachet_rc_code(rc) == CACHET_E_NOT_FOUND ||
                    cachet_rc_code(rc) == CACHET_E_IO);
    }
    /* A driver without the CC API. */
    rc = cachet_nvgpu_open(fake_old, &s);
    assert_int_equal(cachet_rc_code(rc), CACHET_E_UNSUPPORTED);
    assert_non_null(strstr(cachet_err_detail(), "nvmlSystemGetConfComputeState"));
    /* nvmlInit failing (driver not loaded). */
    reset("noinit", 1);
    rc = cachet_nvgpu_open(fake, &s);
    assert_int_equal(cachet_rc_code(rc), CACHET_E_IO);
    assert_non_null(strstr(cachet_err_detail(), "Driver Not Loaded"));
}

/* ---- collect, verify, ready ---------------------------------------------------------------- */

static void test_collect_verify_ready(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    reset("on", 1);
    serve(0, "nvgpu/h100_550.90.07_nvtrust_2025/attestation_report.hex",
          "nvgpu/h100_550.90.07_nvtrust_2025/device_cert_chain.pem");
    cachet_nvgpu_session *s = NULL;
    assert_int_equal(cachet_nvgpu_open(fake, &s), CACHET_OK);
    cachet_nvgpu_state st;
    assert_int_equal(cachet_nvgpu_cc_state(s, &st), CACHET_OK);
    assert_true(st.cc_feature);
    assert_false(st.devtools);
    assert_false(st.ready);
    assert_int_equal(st.gpu_count, 1);
    assert_string_equal(st.driver_version, "550.90.07");

    /* A result before any collection is refused. */
    uint8_t nonce[32];
    nonce_of(N931, nonce);
    uint8_t *ev = NULL;
    size_t len = 0;
    assert_int_equal(cachet_nvgpu_collect(s, nonce, &ev, &len), CACHET_OK);
    char *log = log_text();
    assert_non_null(strstr(log, "nonce " N931)); /* the caller's nonce reached NVML */
    free(log);

    cachet_verify_result *r = verify(ev, len, N931);
    assert_string_equal(r->tee, "nvgpu");
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    ev_assert_no_failures(r);
    ev_assert_pass(r, "nvgpu.cc.mode");
    ev_assert_pass(r, "nvgpu.driver.reported");
    ev_assert_pass(r, "nvgpu.vbios.reported");
    ev_assert_pass(r, "nvgpu.arch");
    assert_non_null(strstr(ev_claim_str(r, "uuid"), "GPU-fake-0000"));

    /* A warning (no OCSP offline) passes only a policy that accepts it. */
    assert_int_equal(cachet_rc_code(cachet_nvgpu_set_ready(s, r, false)), CACHET_E_POLICY);
    log = log_text();
    assert_null(strstr(log, "ready"));
    free(log);
    assert_int_equal(cachet_nvgpu_set_ready(s, r, true), CACHET_OK);
    log = log_text();
    assert_non_null(strstr(log, "ready 1"));
    free(log);
    assert_int_equal(cachet_nvgpu_cc_state(s, &st), CACHET_OK);
    assert_true(st.ready);
    cachet_verify_result_free(r);
    free(ev);

    /* Another nonce: the (replayed) report no longer matches, and the
     * result of the earlier collection no longer applies either. */
    reset("on", 1);
    uint8_t other[32];
    memset(other, 0x42, sizeof other);
    assert_int_equal(cachet_nvgpu_collect(s, other, &ev, &len), CACHET_OK);
    char other_hex[65];
    cachet_hex_encode(other, 32, other_hex);
    r = verify(ev, len, other_hex);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    ev_assert_fail(r, "nvgpu.report.nonce");
    ev_assert_fail(r, "nvgpu.evidence.nonce");
    assert_int_equal(cachet_rc_code(cachet_nvgpu_set_ready(s, r, true)), CACHET_E_POLICY);
    cachet_verify_result_free(r);
    /* Verified without the nonce: freshness not checked, so not good enough. */
    cachet_verify_request req = { .evidence = ev, .evidence_len = len,
                                  .time = (int64_t)1800000000 };
    assert_int_equal(cachet_evidence_verify(&req, &r), CACHET_OK);
    assert_int_equal(cachet_rc_code(cachet_nvgpu_set_ready(s, r, true)), CACHET_E_POLICY);
    cachet_verify_result_free(r);
    log = log_text();
    assert_null(strstr(log, "ready"));
    free(log);
    free(ev);
    cachet_nvgpu_close(s);
}

static void test_devtools_never_ready(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    reset("devtools", 1);
    serve(0, "nvgpu/h100_550.90.07_nvtrust_2025/attestation_report.hex",
          "nvgpu/h100_550.90.07_nvtrust_2025/device_cert_chain.pem");
    cachet_nvgpu_session *s = NULL;
    assert_int_equal(cachet_nvgpu_open(fake, &s), CACHET_OK);
    uint8_t nonce[32];
    nonce_of(N931, nonce);
    uint8_t *ev = NULL;
    size_t len = 0;
    assert_int_equal(cachet_nvgpu_collect(s, nonce, &ev, &len), CACHET_OK);
    cachet_verify_result *r = verify(ev, len, N931);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    ev_assert_only_failures(r, "nvgpu.cc.mode");
    assert_true(json_is_true(json_object_get(r->claims, "debug")));
    assert_int_equal(cachet_rc_code(cachet_nvgpu_set_ready(s, r, true)), CACHET_E_POLICY);
    cachet_verify_result_free(r);
    char *log = log_text();
    assert_null(strstr(log, "ready"));
    free(log);
    free(ev);
    cachet_nvgpu_close(s);

    /* CC off: nothing to collect. */
    reset("off", 1);
    assert_int_equal(cachet_nvgpu_open(fake, &s), CACHET_OK);
    assert_int_equal(cachet_rc_code(cachet_nvgpu_collect(s, nonce, &ev, &len)), CACHET_E_STATE);
    assert_null(ev);
    cachet_nvgpu_close(s);
}

static void test_two_gpus(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    reset("on", 2);
    /* Two real H100 reports made with the same nonce. */
    serve(0, "nvgpu/h100_550.90.07_nvtrust_2025/attestation_report.hex",
          "nvgpu/h100_550.90.07_nvtrust_2025/device_cert_chain.pem");
    serve(1, "nvgpu/h100_570.124.03_nvsdk_expired_rim/attestation_report.hex",
          "nvgpu/h100_570.124.03_nvsdk_expired_rim/device_cert_chain.pem");
    unsetenv("FAKE_NVML_DRIVER"); /* the two run different drivers: not reported */
    unsetenv("FAKE_NVML_VBIOS");
    cachet_nvgpu_session *s = NULL;
    assert_int_equal(cachet_nvgpu_open(fake, &s), CACHET_OK);
    uint8_t nonce[32];
    nonce_of(N931, nonce);
    uint8_t *ev = NULL;
    size_t len = 0;
    assert_int_equal(cachet_nvgpu_collect(s, nonce, &ev, &len), CACHET_OK);
    cachet_verify_result *r = verify(ev, len, N931);
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    ev_assert_no_failures(r);
    ev_assert_pass(r, "nvgpu.gpu0.report.signature");
    ev_assert_pass(r, "nvgpu.gpu1.report.signature");
    ev_assert_pass(r, "nvgpu.gpus.distinct");
    assert_int_equal(json_integer_value(json_object_get(r->claims, "gpu_count")), 2);
    assert_int_equal(cachet_nvgpu_set_ready(s, r, true), CACHET_OK);
    cachet_verify_result_free(r);
    free(ev);
    cachet_nvgpu_close(s);
}

static void test_nvml_failures(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    serve(0, "nvgpu/h100_550.90.07_nvtrust_2025/attestation_report.hex",
          "nvgpu/h100_550.90.07_nvtrust_2025/device_cert_chain.pem");
    uint8_t nonce[32] = { 0 };
    const char *modes[] = { "reportfail", "oversize", "badchain" };
    for (size_t i = 0; i < 3; i++) {
        reset(modes[i], 1);
        cachet_nvgpu_session *s = NULL;
        assert_int_equal(cachet_nvgpu_open(fake, &s), CACHET_OK);
        uint8_t *ev = (uint8_t *)"x";
        size_t len = 7;
        assert_int_equal(cachet_rc_code(cachet_nvgpu_collect(s, nonce, &ev, &len)), CACHET_E_IO);
        assert_null(ev);
        assert_int_equal(len, 0);
        cachet_nvgpu_close(s);
    }
    reset("on", 0);
    cachet_nvgpu_session *s = NULL;
    assert_int_equal(cachet_nvgpu_open(fake, &s), CACHET_OK);
    uint8_t *ev = NULL;
    size_t len = 0;
    assert_int_equal(cachet_rc_code(cachet_nvgpu_collect(s, nonce, &ev, &len)),
                     CACHET_E_NOT_FOUND);
    cachet_nvgpu_close(s);
}

/* ---- the generic attester interface -------------------------------------------------------- */

static void test_generic_interface(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    reset("on", 1);
    serve(0, "nvgpu/h100_550.90.07_nvtrust_2025/attestation_report.hex",
          "nvgpu/h100_550.90.07_nvtrust_2025/device_cert_chain.pem");
    cachet_attester *a = NULL;
    assert_int_equal(cachet_attester_nvgpu_new(fake, &a), CACHET_OK);
    assert_string_equal(cachet_attester_tee(a), "nvgpu");
    uint8_t nonce[32];
    nonce_of(N931, nonce);
    uint8_t *ev = NULL;
    size_t len = 0;
    cachet_attest_request short_nonce = { .nonce = nonce, .nonce_len = 16 };
    assert_int_equal(cachet_rc_code(cachet_attester_collect(a, &short_nonce, &ev, &len)),
                     CACHET_E_INVALID_ARG);
    cachet_attest_request none = { 0 };
    assert_int_equal(cachet_rc_code(cachet_attester_collect(a, &none, &ev, &len)),
                     CACHET_E_INVALID_ARG);
    const uint8_t ud[4] = { 1, 2, 3, 4 };
    cachet_attest_request with_ud = { .nonce = nonce, .nonce_len = 32, .user_data = ud,
                                      .user_data_len = 4 };
    assert_int_equal(cachet_rc_code(cachet_attester_collect(a, &with_ud, &ev, &len)),
                     CACHET_E_INVALID_ARG);
    cachet_attest_request ok = { .nonce = nonce, .nonce_len = 32 };
    assert_int_equal(cachet_attester_collect(a, &ok, &ev, &len), CACHET_OK);
    cachet_verify_result *r = verify(ev, len, N931);
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    cachet_verify_result_free(r);
    free(ev);
    cachet_attester_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_driver),
        cmocka_unit_test(test_collect_verify_ready),
        cmocka_unit_test(test_devtools_never_ready),
        cmocka_unit_test(test_two_gpus),
        cmocka_unit_test(test_nvml_failures),
        cmocka_unit_test(test_generic_interface),
    };
    return cmocka_run_group_tests_name("nvgpu_attester", tests, setup, teardown);
}
