/* The policy language's parser: what is valid, and that every mistake is an
 * error naming the JSON path (docs/policy.md §2). */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "cachet/appraisal.h"

#define M "\"measurement\": [\"00ff\"]"

static cachet_rc parse(const char *text, cachet_policy **p)
{
    return cachet_policy_parse(text, strlen(text), p);
}

/* The text must be refused, with `path` in the error detail. */
static void refused(const char *text, const char *path)
{
    cachet_policy *p = NULL;
    cachet_rc rc = parse(text, &p);
    if (rc == CACHET_OK)
        fail_msg("accepted: %s", text);
    assert_null(p);
    assert_int_equal(cachet_rc_subsys(rc), CACHET_SUB_APPRAISAL);
    if (!strstr(cachet_err_detail(), path))
        fail_msg("detail \"%s\" does not name \"%s\"", cachet_err_detail(), path);
}

static void accepted(const char *text, size_t rules)
{
    cachet_policy *p = NULL;
    if (parse(text, &p) != CACHET_OK)
        fail_msg("refused (%s): %s", cachet_err_detail(), text);
    assert_int_equal(cachet_policy_rule_count(p), rules);
    cachet_policy_free(p);
}

static void test_empty_policies_are_valid(void **state)
{
    (void)state;
    accepted("{}", 0);
    accepted("{\"version\": 1, \"rules\": []}", 0);
    accepted("{\"id\": \"prod\", \"description\": \"nothing yet\"}", 0);
    cachet_policy *p = NULL;
    assert_int_equal(parse("{\"id\": \"prod\"}", &p), CACHET_OK);
    assert_string_equal(cachet_policy_id(p), "prod");
    cachet_policy_free(p);
    assert_int_equal(parse("{}", &p), CACHET_OK);
    assert_string_equal(cachet_policy_id(p), "default");
    cachet_policy_free(p);
}

static void test_full_rule(void **state)
{
    (void)state;
    accepted("{\"version\":1,\"id\":\"all\",\"rules\":[{"
             "\"name\":\"everything\",\"description\":\"every key once\","
             "\"tee\":[\"snp\",\"tdx\",\"nvidia\",\"az-snp-vtpm\"],"
             "\"status\":[\"affirming\",\"warning\"],\"freshness\":\"optional\","
             "\"measurement\":[\"00FF\",\"abcd\"],\"host_data\":[\"01\"],"
             "\"rtmr\":{\"0\":[\"aa\"],\"3\":[]},\"pcr\":{\"0\":[\"bb\"],\"23\":[\"cc\"]},"
             "\"pcr_bank\":\"sha256\",\"min_tcb\":{\"bootloader\":3,\"tee\":0,\"snp\":8,"
             "\"microcode\":115,\"fmc\":0},\"min_svn\":{\"guest_svn\":1,\"qe.isvsvn\":2},"
             "\"tcb_status\":[\"UpToDate\"],\"flags_off\":[\"policy.migrate_ma\",\"debug\"],"
             "\"claims\":{\"vmpl\":[0],\"policy.smt_allowed\":[false],\"product\":[\"Genoa\"]},"
             "\"driver_version\":[\"550.90.07\"],\"vbios_version\":[\"96.00.9F.00.01\"],"
             "\"cc_mode\":[\"on\",\"not-reported\"],"
             "\"gpu\":{\"count\":2,\"status\":[\"warning\"],\"freshness\":\"required\","
             "\"measurement\":[\"ab\"],\"driver_version\":[\"1\"],\"vbios_version\":[\"2\"],"
             "\"cc_mode\":[\"on\"],\"flags_off\":[\"debug\"],\"claims\":{\"arch\":[\"HOPPER\"]},"
             "\"min_svn\":{\"x\":1}}}]}",
             1);
    accepted("{\"rules\":[{\"name\":\"a\",\"tee\":[\"sample\"],\"any_workload\":true},"
             "{\"name\":\"b\",\"tee\":[\"snp\"]," M "}]}",
             2);
}

static void test_unknown_keys_everywhere(void **state)
{
    (void)state;
    refused("{\"rulez\": []}", "rulez");
    refused("{\"rules\":[{\"name\":\"a\",\"tee\":[\"snp\"],\"measurment\":[\"00\"]}]}",
            "rules[0].measurment");
    refused("{\"rules\":[{\"name\":\"a\",\"tee\":[\"snp\"]," M ",\"gpu\":{\"cnt\":1}}]}",
            "rules[0].gpu.cnt");
    refused("{\"rules\":[{\"name\":\"a\",\"tee\":[\"snp\"]," M ",\"min_tcb\":{\"ucode\":1}}]}",
            "rules[0].min_tcb.ucode");
    refused("{\"rules\":[{\"name\":\"a\",\"tee\":[\"tdx\"],\"rtmr\":{\"4\":[\"00\"]}}]}",
            "rules[0].rtmr.4");
    refused("{\"rules\":[{\"name\":\"a\",\"tee\":[\"tpm\"],\"pcr\":{\"24\":[\"00\"]}}]}",
            "rules[0].pcr.24");
    refused("{\"rules\":[{\"name\":\"a\",\"tee\":[\"tpm\"],\"pcr\":{\"07\":[\"00\"]}}]}",
            "rules[0].pcr.07");
}

static void test_values_are_checked(void **state)
{
    (void)state;
    refused("{\"rules\":[{\"name\":\"a\",\"tee\":[\"snp\"],\"measurement\":[\"0g\"]}]}",
            "rules[0].measurement");
    refused("{\"rules\":[{\"name\":\"a\",\"tee\":[\"snp\"],\"measurement\":[\"abc\"]}]}",
            "rules[0].measurement");
    refused("{\"rules\":[{\"name\":\"a\",\"tee\":[\"snp\"],\"measurement\":\"00ff\"}]}",
            "rules[0].measurement");
    refused("{\"rules\":[{\"name\":\"a\",\"tee\":[\"snp\"]," M ",\"status\":[\"contraindicated\"]}]}",
            "rules[0].status");
    refused("{\"rules\":[{\"name\":\"a\",\"tee\":[\"snp\"]," M ",\"status\":[]}]}",
            "rules[0].status");
    refused("{\"rules\":[{\"name\":\"a\",\"tee\":[\"snp\"]," M ",\"freshness\":\"never\"}]}",
            "rules[0].freshness");
    refused("{\"rules\":[{\"name\":\"a\",\"tee\":[\"snp\"]," M ",\"min_tcb\":{\"snp\":-1}}]}",
            "rules[0].min_tcb.snp");
    refused("{\"rules\":[{\"name\":\"a\",\"tee\":[\"snp\"]," M ",\"min_svn\":{\"Bad.Path\":1}}]}",
            "rules[0].min_svn.Bad.Path");
    refused("{\"rules\":[{\"name\":\"a\",\"tee\":[\"snp\"]," M ",\"claims\":{\"x\":[1.5]}}]}",
            "rules[0].claims.x");
    refused("{\"rules\":[{\"name\":\"a\",\"tee\":[\"snp\"]," M ",\"flags_off\":[\"a..b\"]}]}",
            "rules[0].flags_off");
    refused("{\"rules\":[{\"name\":\"a\",\"tee\":[\"tpm\"]," M ",\"pcr_bank\":\"sha256\"}]}",
            "rules[0].pcr_bank");
    refused("{\"rules\":[{\"name\":\"a\",\"tee\":[\"tpm\"],\"pcr\":{\"1\":[\"00\"]},"
            "\"pcr_bank\":\"md5\"}]}",
            "rules[0].pcr_bank");
    refused("{\"rules\":[{\"name\":\"a\",\"tee\":[\"snp\"]," M ",\"gpu\":{\"count\":0}}]}",
            "rules[0].gpu.count");
    refused("{\"rules\":[{\"name\":\"a\",\"tee\":[\"snp\"]," M ",\"any_workload\":1}]}",
            "rules[0].any_workload");
    refused("{\"version\": 2}", "version");
    refused("{\"id\": \"\"}", "id");
    refused("[]", "policy");
    refused("{\"rules\": {}}", "rules");
    refused("not json", "not valid JSON");
    refused("{\"id\":\"a\",\"id\":\"b\"}", "not valid JSON"); /* duplicate keys */
}

static void test_rules_must_name_tee_and_workload(void **state)
{
    (void)state;
    refused("{\"rules\":[{\"name\":\"a\"," M "}]}", "rules[0].tee");
    refused("{\"rules\":[{\"name\":\"a\",\"tee\":[]," M "}]}", "rules[0].tee");
    refused("{\"rules\":[{\"name\":\"a\",\"tee\":[\"sgx2\"]," M "}]}", "rules[0].tee");
    refused("{\"rules\":[{\"name\":\"a\",\"tee\":[\"snp\",\"snp\"]," M "}]}", "rules[0].tee");
    refused("{\"rules\":[{\"tee\":[\"snp\"]," M "}]}", "rules[0].name");
    refused("{\"rules\":[{\"name\":\"\",\"tee\":[\"snp\"]," M "}]}", "rules[0].name");
    refused("{\"rules\":[{\"name\":\"a\",\"tee\":[\"snp\"]," M "},"
            "{\"name\":\"a\",\"tee\":[\"tdx\"]," M "}]}",
            "rules[1]");
    /* a rule without reference values would admit any workload: say so explicitly */
    refused("{\"rules\":[{\"name\":\"a\",\"tee\":[\"snp\"],\"min_tcb\":{\"snp\":8}}]}",
            "any_workload");
    accepted("{\"rules\":[{\"name\":\"a\",\"tee\":[\"snp\"],\"min_tcb\":{\"snp\":8},"
             "\"any_workload\":true}]}",
             1);
}

static void test_limits(void **state)
{
    (void)state;
    /* 257 rules */
    size_t cap = 300 * 80, n = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    n += (size_t)snprintf(text + n, cap - n, "{\"rules\":[");
    for (int i = 0; i < 257; i++)
        n += (size_t)snprintf(text + n, cap - n,
                              "%s{\"name\":\"r%d\",\"tee\":[\"snp\"],\"any_workload\":true}",
                              i ? "," : "", i);
    snprintf(text + n, cap - n, "]}");
    refused(text, "rules");
    free(text);
    cachet_policy *p = NULL;
    assert_int_not_equal(cachet_policy_parse(NULL, 5, &p), CACHET_OK);
    assert_int_not_equal(cachet_policy_parse("{}", 2, NULL), CACHET_OK);
}

static void test_describe_warns_about_relaxations(void **state)
{
    (void)state;
    cachet_policy *p = NULL;
    const char *text = "{\"rules\":[{\"name\":\"dev\",\"tee\":[\"sample\"],\"any_workload\":true,"
                       "\"status\":[\"affirming\",\"warning\"],\"freshness\":\"optional\"},"
                       "{\"name\":\"prod\",\"tee\":[\"snp\"]," M "}]}";
    assert_int_equal(parse(text, &p), CACHET_OK);
    FILE *f = tmpfile();
    assert_non_null(f);
    /* sample, warning status, optional freshness, any workload */
    assert_int_equal(cachet_policy_describe(p, f), 4);
    cachet_policy_free(p);
    fclose(f);
    assert_int_equal(parse("{}", &p), CACHET_OK);
    f = tmpfile();
    assert_int_equal(cachet_policy_describe(p, f), 1); /* admits nothing */
    fclose(f);
    cachet_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_policies_are_valid),
        cmocka_unit_test(test_full_rule),
        cmocka_unit_test(test_unknown_keys_everywhere),
        cmocka_unit_test(test_values_are_checked),
        cmocka_unit_test(test_rules_must_name_tee_and_workload),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_describe_warns_about_relaxations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
