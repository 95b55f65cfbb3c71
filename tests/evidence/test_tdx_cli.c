/* `cachet verify` on TDX and SGX quotes through the real binary: the --json
 * object, exit codes, recognition by content, directories of collateral. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include <jansson.h>

static char *workdir;

static int setup(void **state)
{
    (void)state;
    workdir = tu_mkdtemp();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(workdir);
    free(workdir);
    return 0;
}

/* Run `cachet verify --json ARGS`; rel paths are under the vectors dir. */
static json_t *cli(const char *args, int *rc)
{
    char *out = NULL;
    *rc = tu_run_cachet_in(tu_vectors_dir(), &out, NULL, "verify --json %s", args);
    json_error_t err;
    json_t *j = json_loads(out, 0, &err);
    if (!j)
        fail_msg("not one JSON object: %s (%.200s)", err.text, out);
    free(out);
    return j;
}

static const char *check_result(const json_t *j, const char *id)
{
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(j, "checks"), i, c) {
        if (strcmp(json_string_value(json_object_get(c, "id")), id) == 0)
            return json_string_value(json_object_get(c, "result"));
    }
    return "(absent)";
}

static const char *str(const json_t *j, const char *key) { return json_string_value(json_object_get(j, key)); }

static void test_affirming(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    int rc;
    json_t *j = cli("--at 2025-07-19T10:00:34Z tdx/b0c06f_v4_dcapqvl_2025-06/quote.bin "
                    "tdx/b0c06f_v4_dcapqvl_2025-06/collateral.json", &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(str(j, "tee"), "tdx");
    assert_string_equal(str(j, "status"), "affirming");
    assert_true(json_is_true(json_object_get(j, "verified")));
    json_t *claims = json_object_get(j, "claims");
    assert_string_equal(str(claims, "tcb_status"), "UpToDate");
    assert_string_equal(str(claims, "measurement"), str(claims, "mrtd"));
    assert_false(json_is_true(json_object_get(claims, "debug")));
    assert_string_equal(check_result(j, "tdx.quote.signature"), "pass");
    assert_string_equal(check_result(j, "tdx.tcb_info.signature"), "pass");
    assert_int_equal(json_array_size(json_object_get(j, "errors")), 0);
    json_decref(j);
}

static void test_debug_td_exit_1(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    int rc;
    json_t *j = cli("--tee tdx --at 2023-07-01T01:00:00Z tdx/50806f_v4_trustee_quote4_DEBUG_TD/quote.bin "
                    "tdx/collateral_50806f_gotdxguest_2023-06", &rc);
    assert_int_equal(rc, 1);
    assert_string_equal(str(j, "status"), "contraindicated");
    assert_true(json_is_true(json_object_get(j, "verified")));
    assert_true(json_is_true(json_object_get(json_object_get(j, "claims"), "debug")));
    assert_string_equal(check_result(j, "tdx.td.debug"), "fail");
    json_decref(j);
}

static void test_warning_and_sgx(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    int rc;
    json_t *j = cli("--at 2026-02-01T00:00:00Z tdx/00a06d_v4_trustee_quote6_outofdate/quote.bin "
                    "tdx/collateral_tinfoil_2026-01", &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(str(j, "status"), "warning");
    assert_string_equal(str(json_object_get(j, "claims"), "tcb_status"), "OutOfDate");
    json_decref(j);

    j = cli("--at 2025-07-19T10:01:17Z other/sgx_00a067110000_dcapqvl_2025-06/quote.bin "
            "other/sgx_00a067110000_dcapqvl_2025-06/collateral.json", &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(str(j, "tee"), "sgx");
    assert_string_equal(str(j, "status"), "warning");
    json_t *claims = json_object_get(j, "claims");
    assert_string_equal(str(claims, "tcb_status"), "ConfigurationAndSWHardeningNeeded");
    assert_int_equal(json_array_size(json_object_get(claims, "advisory_ids")), 2);
    json_decref(j);

    /* No collateral at all: authentic, never affirming. */
    j = cli("--at 2025-01-01T00:00:00Z tdx/00806f05_v4_gotdxguest_cos113_nocollateral/cos-113-tdx-quote.dat",
            &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(str(j, "status"), "warning");
    assert_true(json_is_true(json_object_get(j, "verified")));
    assert_string_equal(str(json_object_get(j, "claims"), "tcb_status"), "unknown");
    json_decref(j);
}

static void test_nonce_and_wrong_family(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    int rc;
    json_t *j = cli("--at 2025-07-19T10:00:34Z --nonce "
                    "9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9eca3efdbb481601c163cf52493d6e44aed55d51ec39b7e518fadb92c2b523f20 "
                    "tdx/b0c06f_v4_dcapqvl_2025-06/quote.bin tdx/b0c06f_v4_dcapqvl_2025-06/collateral.json",
                    &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(str(json_object_get(j, "claims"), "freshness"), "nonce-matched");
    json_decref(j);

    j = cli("--at 2025-07-19T10:00:34Z --nonce 00 tdx/b0c06f_v4_dcapqvl_2025-06/quote.bin "
            "tdx/b0c06f_v4_dcapqvl_2025-06/collateral.json", &rc);
    assert_int_equal(rc, 1);
    assert_string_equal(check_result(j, "tdx.report_data.nonce"), "fail");
    json_decref(j);

    j = cli("--tee sgx --at 2025-07-19T10:00:34Z tdx/b0c06f_v4_dcapqvl_2025-06/quote.bin", &rc);
    assert_int_equal(rc, 1);
    assert_string_equal(check_result(j, "sgx.quote.tee_type"), "fail");
    json_decref(j);
}

static void test_truncated_file(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    size_t len;
    uint8_t *q = tu_read_vector("tdx/b0c06f_v4_dcapqvl_2025-06/quote.bin", &len);
    assert_non_null(q);
    char *path = tu_asprintf("%s/short.bin", workdir);
    tu_write_file(path, q, 2000);
    char *args = tu_asprintf("--tee tdx '%s'", path);
    int rc;
    json_t *j = cli(args, &rc);
    assert_int_equal(rc, 1);
    assert_string_equal(check_result(j, "tdx.quote.format"), "fail");
    assert_false(json_is_true(json_object_get(j, "verified")));
    json_decref(j);
    free(args);
    free(path);
    free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_affirming),
        cmocka_unit_test(test_debug_td_exit_1),
        cmocka_unit_test(test_warning_and_sgx),
        cmocka_unit_test(test_nonce_and_wrong_family),
        cmocka_unit_test(test_truncated_file),
    };
    return cmocka_run_group_tests_name("tdx_cli", tests, setup, teardown);
}
