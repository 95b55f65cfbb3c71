/* The check log records every check and serializes it per verify-contract.md. */
#include <string.h>

#include "testutil.h"

#include "cachet/checklog.h"

static void test_records_and_finds(void **state)
{
    (void)state;
    cachet_checklog *log = cachet_checklog_new();
    assert_non_null(log);
    assert_false(cachet_checklog_failed(log));
    assert_int_equal(cachet_checklog_add(log, "x.parse", "spec §1", CACHET_CHECK_PASS, NULL), CACHET_OK);
    assert_int_equal(cachet_checklog_add(log, "x.crl", "spec §2", CACHET_CHECK_NA, "no CRL given (%d)", 0),
                     CACHET_OK);
    assert_false(cachet_checklog_failed(log));
    assert_int_equal(cachet_checklog_compare(log, "x.nonce", "spec §3", "00ff", "00fe"), CACHET_CHECK_FAIL);
    assert_int_equal(cachet_checklog_compare(log, "x.meas", "spec §4", "ab", "ab"), CACHET_CHECK_PASS);
    assert_int_equal(cachet_checklog_compare(log, "x.null", NULL, NULL, "ab"), CACHET_CHECK_FAIL);
    assert_int_equal(cachet_checklog_count(log), 5);
    assert_true(cachet_checklog_failed(log));
    const cachet_check *f = cachet_checklog_first_failure(log);
    assert_string_equal(f->id, "x.nonce");
    assert_string_equal(f->expected, "00ff");
    assert_string_equal(cachet_checklog_find(log, "x.crl")->detail, "no CRL given (0)");
    assert_null(cachet_checklog_find(log, "nope"));
    assert_null(cachet_checklog_get(log, 5));
    cachet_checklog_free(log);
}

static void test_json_shape(void **state)
{
    (void)state;
    cachet_checklog *log = cachet_checklog_new();
    cachet_checklog_add(log, "a", "S", CACHET_CHECK_PASS, "ok");
    cachet_checklog_compare(log, "b", "T", "1", "2");
    cachet_checklog_add(log, "c", NULL, CACHET_CHECK_NA, NULL);
    json_t *j = cachet_checklog_to_json(log);
    assert_int_equal(json_array_size(j), 3);
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s, "[{\"detail\":\"ok\",\"id\":\"a\",\"result\":\"pass\",\"spec\":\"S\"},"
                           "{\"actual\":\"2\",\"expected\":\"1\",\"id\":\"b\",\"result\":\"fail\",\"spec\":\"T\"},"
                           "{\"id\":\"c\",\"result\":\"n/a\",\"spec\":\"\"}]");
    free(s);
    json_decref(j);
    cachet_checklog_free(log);
}

static void test_many_checks_grow(void **state)
{
    (void)state;
    cachet_checklog *log = cachet_checklog_new();
    char id[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(id, sizeof id, "c%d", i);
        assert_int_equal(cachet_checklog_add(log, id, "s", CACHET_CHECK_PASS, NULL), CACHET_OK);
    }
    assert_string_equal(cachet_checklog_get(log, 999)->id, "c999");
    cachet_checklog_free(log);
    cachet_checklog_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_records_and_finds),
        cmocka_unit_test(test_json_shape),
        cmocka_unit_test(test_many_checks_grow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
