/* `cachet verify` on NVIDIA GPU evidence through the real binary: the
 * --json object of verify-contract.md, recognition by content, the
 * nvidia alias, exit statuses, and the human report. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include <jansson.h>

#define V(rel) "nvgpu/" rel
#define N545 "4cff7f5380ead8fad8ec2c531c110aca4302a88f603792801a8ca29ee151af2e"
#define N590 "e97b23a1718095a0e9e35edca810768c70a6a5a389b705e753b197912bc11576"

static char *dir;

static int setup(void **state)
{
    (void)state;
    dir = tu_mkdtemp();
    return dir ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(dir);
    free(dir);
    return 0;
}

/* "'<vectors>/a' '<vectors>/b' ..." for the relative paths given (skips the
 * test when one is absent). */
static char *paths(const char *const *rels)
{
    char *s = strdup("");
    for (size_t i = 0; rels[i]; i++) {
        char *p = tu_vector_path(rels[i]);
        if (!p) {
            free(s);
            print_message("# SKIP vector %s not found\n", rels[i]);
            skip();
            return NULL; /* not reached: skip() leaves the test */
        }
        char *t = tu_asprintf("%s '%s'", s, p);
        free(s);
        free(p);
        s = t;
    }
    return s;
}

static int run_json(const char *args, const char *files, json_t **out)
{
    char *o = NULL;
    int st = tu_run_cachet(&o, NULL, "verify %s --json %s", args, files);
    json_error_t err;
    *out = json_loads(o, JSON_REJECT_DUPLICATES, &err);
    free(o);
    return st;
}

static const char *check_result(const json_t *j, const char *id)
{
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(j, "checks"), i, c)
        if (strcmp(json_string_value(json_object_get(c, "id")), id) == 0) {
            assert_non_null(json_string_value(json_object_get(c, "spec")));
            return json_string_value(json_object_get(c, "result"));
        }
    fail_msg("no check %s", id);
    return NULL;
}

static const char *claim(const json_t *j, const char *key)
{
    return json_string_value(json_object_get(json_object_get(j, "claims"), key));
}

static void test_cli_fullrim(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    const char *rels[] = { V("h100_545.00_nvtrust_2023_fullrim/attestation_report.hex"),
                           V("h100_545.00_nvtrust_2023_fullrim/device_cert_chain.pem"),
                           V("h100_545.00_nvtrust_2023_fullrim/driver_rim_545.00_test_no_gpu.swidtag"),
                           V("h100_545.00_nvtrust_2023_fullrim/vbios_rim_1010_0200_882_96005E0001_test_no_gpu.swidtag"),
                           NULL };
    char *files = paths(rels);
    json_t *j = NULL;
    int st = run_json("--at 2024-01-15T00:00:00Z --nonce " N545, files, &j);
    assert_int_equal(st, 0);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "tee")), "nvgpu");
    assert_string_equal(json_string_value(json_object_get(j, "status")), "warning");
    assert_true(json_is_true(json_object_get(j, "verified")));
    assert_int_equal(json_array_size(json_object_get(j, "errors")), 0);
    assert_string_equal(check_result(j, "nvgpu.report.signature"), "pass");
    assert_string_equal(check_result(j, "nvgpu.rim.driver.signature"), "pass");
    assert_string_equal(check_result(j, "nvgpu.measurements"), "pass");
    assert_string_equal(check_result(j, "nvgpu.cert_chain.ocsp"), "n/a");
    assert_string_equal(claim(j, "measres"), "success");
    assert_string_equal(claim(j, "freshness"), "nonce-matched");
    assert_int_equal(strlen(claim(j, "measurement")), 96);
    assert_true(json_is_false(json_object_get(json_object_get(j, "claims"), "debug")));
    json_decref(j);

    /* The human report names the checks, the spec, the claims and the status. */
    char *t = NULL;
    st = tu_run_cachet(&t, NULL, "verify --at 2024-01-15T00:00:00Z --nonce %s %s 2>&1", N545,
                       files);
    assert_int_equal(st, 0);
    assert_non_null(strstr(t, "nvgpu.report.signature"));
    assert_non_null(strstr(t, "DSP0274"));
    assert_non_null(strstr(t, "measres"));
    assert_non_null(strstr(t, "status: warning"));
    free(t);
    free(files);
}

static void test_cli_mismatch_exit_1(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    const char *rels[] = {
        V("h100_545.00_nvtrust_2023_fullrim/attestation_report.hex"),
        V("h100_545.00_nvtrust_2023_fullrim/device_cert_chain.pem"),
        V("h100_545.00_nvtrust_2023_fullrim/vbios_rim_1010_0200_882_96005E0001_PROD_MISMATCH_for_this_report.swidtag"),
        NULL };
    char *files = paths(rels);
    json_t *j = NULL;
    int st = run_json("--tee nvidia --at 2024-01-15T00:00:00Z", files, &j);
    assert_int_equal(st, 1);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "contraindicated");
    assert_true(json_is_true(json_object_get(j, "verified")));
    assert_string_equal(check_result(j, "nvgpu.measurement.index9"), "fail");
    json_t *m = json_object_get(json_object_get(j, "claims"), "mismatched_indices");
    assert_int_equal(json_array_size(m), 4);
    json_decref(j);
    free(files);
}

static void test_cli_multi_gpu(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    const char *rels[] = { V("h100_590.12_nvsdk_serialized/multi_gpu_hopper_4x_590.12.json"), NULL };
    char *files = paths(rels);
    json_t *j = NULL;
    int st = run_json("--nonce " N590, files, &j);
    assert_int_equal(st, 0);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "warning");
    assert_string_equal(check_result(j, "nvgpu.gpu3.report.signature"), "pass");
    assert_int_equal(json_object_size(json_object_get(json_object_get(j, "claims"), "gpus")), 4);
    json_decref(j);
    /* Wrong nonce: every GPU fails freshness, exit 1. */
    st = run_json("--nonce 00", files, &j);
    assert_int_equal(st, 1);
    assert_string_equal(check_result(j, "nvgpu.gpu0.report.nonce"), "fail");
    json_decref(j);
    free(files);
}

static void test_cli_invalid(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    const char *rels[] = { V("invalid/h100_report_INVALID_SIGNATURE.hex"),
                           V("h100_570.124.03_nvsdk_expired_rim/device_cert_chain.pem"), NULL };
    char *files = paths(rels);
    json_t *j = NULL;
    int st = run_json("--tee nvgpu", files, &j);
    assert_int_equal(st, 1);
    assert_true(json_is_false(json_object_get(j, "verified")));
    assert_string_equal(check_result(j, "nvgpu.report.signature"), "fail");
    json_decref(j);
    free(files);

    /* A truncated copy: contraindicated, not a crash, not a usage error. */
    char *src = tu_vector_path(V("h100_550.90.07_nvtrust_2025/attestation_report.hex"));
    char *cut = tu_asprintf("%s/cut.hex", dir);
    assert_int_equal(tu_system("head -c 3000 '%s' > '%s'", src, cut), 0);
    char *cut_files = tu_asprintf("'%s'", cut);
    st = run_json("--tee nvgpu", cut_files, &j);
    assert_int_equal(st, 1);
    assert_true(json_is_false(json_object_get(j, "verified")));
    assert_string_equal(check_result(j, "nvgpu.report.measurements"), "fail");
    json_decref(j);
    free(cut_files);
    free(cut);
    free(src);

    /* Unreadable evidence: usage error. */
    st = tu_system("'%s' verify --tee nvgpu --json /nonexistent/report.hex >/dev/null 2>&1",
                   tu_cachet_exe());
    assert_int_equal(st, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_fullrim),
        cmocka_unit_test(test_cli_mismatch_exit_1),
        cmocka_unit_test(test_cli_multi_gpu),
        cmocka_unit_test(test_cli_invalid),
    };
    return cmocka_run_group_tests_name("nvgpu_cli", tests, setup, teardown);
}
