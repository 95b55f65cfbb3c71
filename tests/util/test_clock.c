/* RFC 3339 parsing/formatting and the injectable clock. */
#include "testutil.h"

#include "cachet/clock.h"

static void test_parse_known_times(void **state)
{
    (void)state;
    int64_t t;
    assert_int_equal(cachet_time_parse_rfc3339("1970-01-01T00:00:00Z", &t), CACHET_OK);
    assert_int_equal(t, 0);
    assert_int_equal(cachet_time_parse_rfc3339("2022-09-24T01:00:00Z", &t), CACHET_OK);
    assert_int_equal(t, 1663981200);
    assert_int_equal(cachet_time_parse_rfc3339("2025-12-25T13:15:37.578Z", &t), CACHET_OK);
    assert_int_equal(t, 1766668537);
    assert_int_equal(cachet_time_parse_rfc3339("2025-12-25T15:15:37+02:00", &t), CACHET_OK);
    assert_int_equal(t, 1766668537);
    assert_int_equal(cachet_time_parse_rfc3339("2024-02-29T00:00:00Z", &t), CACHET_OK);
    assert_int_equal(cachet_time_parse_rfc3339("9999-12-31T23:59:59Z", &t), CACHET_OK);
    assert_int_equal(t, 253402300799LL);
}

static void test_parse_rejects(void **state)
{
    (void)state;
    int64_t t;
    const char *bad[] = {"2023-02-29T00:00:00Z", "2022-13-01T00:00:00Z", "2022-09-24 01:00",
                         "2022-09-24T01:00:00", "2022-09-24T01:00:00Zjunk", "2022-09-24T24:00:00Z",
                         "20x2-09-24T01:00:00Z", "", "2022-09-24T01:00:00.Z"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(cachet_rc_code(cachet_time_parse_rfc3339(bad[i], &t)), CACHET_E_FORMAT);
    assert_int_not_equal(cachet_time_parse_rfc3339(NULL, &t), CACHET_OK);
}

static void test_format_round_trip(void **state)
{
    (void)state;
    char buf[21];
    const int64_t times[] = {0, 951782400 /* 2000-02-29 */, 1663981200, 253402300799LL, 4102444800LL};
    for (size_t i = 0; i < 5; i++) {
        int64_t back;
        cachet_time_format_rfc3339(times[i], buf);
        assert_int_equal(cachet_time_parse_rfc3339(buf, &back), CACHET_OK);
        assert_int_equal(back, times[i]);
    }
    cachet_time_format_rfc3339(1663981200, buf);
    assert_string_equal(buf, "2022-09-24T01:00:00Z");
}

static void test_clocks(void **state)
{
    (void)state;
    cachet_clock c = cachet_clock_fixed(42);
    assert_int_equal(cachet_clock_now(&c), 42);
    int64_t now = cachet_clock_now(NULL);
    assert_true(now > 1700000000); /* after 2023: the system clock is real */
    assert_int_equal(cachet_clock_now(cachet_clock_system()) / 1000, now / 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_known_times),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_format_round_trip),
        cmocka_unit_test(test_clocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
