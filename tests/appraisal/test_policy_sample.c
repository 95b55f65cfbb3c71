/* Every rule kind on sample evidence (minted here, so always available):
 * deny by default, `sample` only when a rule names it, and per-condition
 * results that say why. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "sample_fixture.h"

/* The rule header most tests share: names sample, admits its warning status. */
#define SAMPLE_RULE "\"name\":\"dev\",\"tee\":[\"sample\"],\"status\":[\"affirming\",\"warning\"]"

static void test_empty_policy_denies(void **state)
{
    (void)state;
    cachet_verify_result *r = sfx_result(NULL, true);
    cachet_policy *p = sfx_policy("{}");
    cachet_appraisal *a = NULL;
    assert_false(sfx_admits(p, r, &a));
    assert_null(cachet_appraisal_rule(a));
    const json_t *j = cachet_appraisal_json(a);
    assert_string_equal(json_string_value(json_object_get(j, "decision")), "deny");
    assert_true(json_is_null(json_object_get(j, "rule")));
    assert_int_equal(json_array_size(json_object_get(j, "rules")), 0);
    cachet_appraisal_free(a);
    cachet_policy_free(p);
    cachet_verify_result_free(r);
}

static void test_sample_only_when_named(void **state)
{
    (void)state;
    cachet_verify_result *r = sfx_result(NULL, true);
    /* hardware families only, even with every relaxation: no */
    cachet_policy *p = sfx_policy(
        "{\"rules\":[{\"name\":\"hw\",\"tee\":[\"snp\",\"tdx\",\"sgx\",\"nvgpu\",\"tpm\","
        "\"az-snp-vtpm\",\"az-tdx-vtpm\",\"nitro\"],\"status\":[\"affirming\",\"warning\"],"
        "\"freshness\":\"optional\",\"any_workload\":true}]}");
    cachet_appraisal *a = NULL;
    assert_false(sfx_admits(p, r, &a));
    assert_string_equal(sfx_condition(a, "hw", "tee"), "fail");
    cachet_appraisal_free(a);
    cachet_policy_free(p);
    /* a rule that names it: yes */
    p = sfx_policy("{\"rules\":[{" SAMPLE_RULE ",\"any_workload\":true}]}");
    assert_true(sfx_admits(p, r, &a));
    assert_string_equal(cachet_appraisal_rule(a), "dev");
    assert_string_equal(sfx_condition(a, "dev", "tee"), "pass");
    cachet_appraisal_free(a);
    cachet_policy_free(p);
    cachet_verify_result_free(r);
}

static void test_status_default_is_affirming(void **state)
{
    (void)state;
    cachet_verify_result *r = sfx_result(NULL, true);
    assert_int_equal(r->status, CACHET_EV_WARNING); /* sample is never affirming */
    cachet_policy *p = sfx_policy("{\"rules\":[{\"name\":\"dev\",\"tee\":[\"sample\"],"
                                  "\"any_workload\":true}]}");
    cachet_appraisal *a = NULL;
    assert_false(sfx_admits(p, r, &a));
    assert_string_equal(sfx_condition(a, "dev", "status"), "fail");
    assert_string_equal(sfx_condition(a, "dev", "verified"), "pass");
    cachet_appraisal_free(a);
    cachet_policy_free(p);
    cachet_verify_result_free(r);
}

static void test_measurement_any_of(void **state)
{
    (void)state;
    cachet_verify_result *r = sfx_result(NULL, true);
    cachet_policy *p = sfx_policy("{\"rules\":[{" SAMPLE_RULE ",\"measurement\":[\"00ff\",\"%s\"]}]}",
                                  SFX_MEASUREMENT_HEX);
    assert_true(sfx_admits(p, r, NULL));
    cachet_policy_free(p);
    /* upper-case in the policy matches too */
    char upper[] = SFX_MEASUREMENT_HEX;
    for (char *c = upper; *c; c++)
        *c = (char)(*c >= 'a' ? *c - 32 : *c);
    p = sfx_policy("{\"rules\":[{" SAMPLE_RULE ",\"measurement\":[\"%s\"]}]}", upper);
    assert_true(sfx_admits(p, r, NULL));
    cachet_policy_free(p);
    cachet_appraisal *a = NULL;
    p = sfx_policy("{\"rules\":[{" SAMPLE_RULE ",\"measurement\":[\"00ff\"]}]}");
    assert_false(sfx_admits(p, r, &a));
    assert_string_equal(sfx_condition(a, "dev", "measurement"), "fail");
    cachet_appraisal_free(a);
    cachet_policy_free(p);
    /* an empty allow-list denies */
    p = sfx_policy("{\"rules\":[{" SAMPLE_RULE ",\"measurement\":[]}]}");
    assert_false(sfx_admits(p, r, NULL));
    cachet_policy_free(p);
    cachet_verify_result_free(r);
}

static void test_freshness(void **state)
{
    (void)state;
    cachet_verify_result *stale = sfx_result(NULL, false); /* verifier got no nonce */
    cachet_policy *p = sfx_policy("{\"rules\":[{" SAMPLE_RULE ",\"any_workload\":true}]}");
    cachet_appraisal *a = NULL;
    assert_false(sfx_admits(p, stale, &a));
    assert_string_equal(sfx_condition(a, "dev", "freshness"), "fail");
    cachet_appraisal_free(a);
    cachet_policy_free(p);
    p = sfx_policy("{\"rules\":[{" SAMPLE_RULE ",\"any_workload\":true,\"freshness\":\"optional\"}]}");
    assert_true(sfx_admits(p, stale, NULL));
    /* a different nonce is a mismatch, which no rule admits */
    size_t len = 0;
    uint8_t *ev = sfx_evidence(NULL, &len);
    uint8_t other[32] = {0xee};
    cachet_verify_result *replay = sfx_verify(ev, len, other, sizeof other, sfx_key());
    assert_false(sfx_admits(p, replay, &a));
    assert_string_equal(sfx_condition(a, "dev", "freshness"), "fail");
    cachet_appraisal_free(a);
    cachet_verify_result_free(replay);
    free(ev);
    cachet_policy_free(p);
    cachet_verify_result_free(stale);
}

static void test_min_svn_and_claims(void **state)
{
    (void)state;
    sfx_opts o = {.svn = 3};
    cachet_verify_result *r = sfx_result(&o, true);
    cachet_policy *p = sfx_policy("{\"rules\":[{" SAMPLE_RULE ",\"any_workload\":true,"
                                  "\"min_svn\":{\"svn\":3}}]}");
    assert_true(sfx_admits(p, r, NULL));
    cachet_policy_free(p);
    cachet_appraisal *a = NULL;
    p = sfx_policy("{\"rules\":[{" SAMPLE_RULE ",\"any_workload\":true,\"min_svn\":{\"svn\":4}}]}");
    assert_false(sfx_admits(p, r, &a));
    assert_string_equal(sfx_condition(a, "dev", "min_svn.svn"), "fail");
    cachet_appraisal_free(a);
    cachet_policy_free(p);
    /* generic claims: any of JSON values */
    p = sfx_policy("{\"rules\":[{" SAMPLE_RULE ",\"claims\":{\"svn\":[1,3],\"hardware\":[false]}}]}");
    assert_true(sfx_admits(p, r, NULL));
    cachet_policy_free(p);
    p = sfx_policy("{\"rules\":[{" SAMPLE_RULE ",\"claims\":{\"svn\":[\"3\"]}}]}");
    assert_false(sfx_admits(p, r, NULL)); /* "3" is not 3 */
    cachet_policy_free(p);
    /* a claim the evidence lacks fails */
    p = sfx_policy("{\"rules\":[{" SAMPLE_RULE ",\"claims\":{\"no_such.claim\":[1]}}]}");
    assert_false(sfx_admits(p, r, &a));
    assert_string_equal(sfx_condition(a, "dev", "claims.no_such.claim"), "fail");
    cachet_appraisal_free(a);
    cachet_policy_free(p);
    cachet_verify_result_free(r);
}

static void test_flags_off_and_debug(void **state)
{
    (void)state;
    cachet_verify_result *r = sfx_result(NULL, true);
    cachet_policy *p = sfx_policy("{\"rules\":[{" SAMPLE_RULE ",\"any_workload\":true,"
                                  "\"flags_off\":[\"hardware\"]}]}");
    assert_true(sfx_admits(p, r, NULL));
    cachet_policy_free(p);
    cachet_appraisal *a = NULL;
    p = sfx_policy("{\"rules\":[{" SAMPLE_RULE ",\"any_workload\":true,"
                   "\"flags_off\":[\"svn\"]}]}"); /* not a boolean */
    assert_false(sfx_admits(p, r, &a));
    assert_string_equal(sfx_condition(a, "dev", "flags_off.svn"), "fail");
    cachet_appraisal_free(a);
    cachet_policy_free(p);
    cachet_verify_result_free(r);
    /* debug is always required off */
    sfx_opts o = {.debug = true};
    r = sfx_result(&o, true);
    p = sfx_policy("{\"rules\":[{" SAMPLE_RULE ",\"any_workload\":true}]}");
    assert_false(sfx_admits(p, r, &a));
    assert_string_equal(sfx_condition(a, "dev", "debug"), "fail");
    cachet_appraisal_free(a);
    cachet_policy_free(p);
    cachet_verify_result_free(r);
}

static void test_tcb_status(void **state)
{
    (void)state;
    cachet_verify_result *r = sfx_result(NULL, true);
    cachet_policy *p = sfx_policy("{\"rules\":[{" SAMPLE_RULE ",\"any_workload\":true,"
                                  "\"tcb_status\":[\"UpToDate\"]}]}");
    cachet_appraisal *a = NULL;
    assert_false(sfx_admits(p, r, &a)); /* sample says "unknown" */
    assert_string_equal(sfx_condition(a, "dev", "tcb_status"), "fail");
    cachet_appraisal_free(a);
    cachet_policy_free(p);
    p = sfx_policy("{\"rules\":[{" SAMPLE_RULE ",\"any_workload\":true,"
                   "\"tcb_status\":[\"UpToDate\",\"unknown\"]}]}");
    assert_true(sfx_admits(p, r, NULL));
    cachet_policy_free(p);
    cachet_verify_result_free(r);
}

static void test_unverified_is_denied(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *ev = sfx_evidence(NULL, &len);
    cachet_pkey *other = NULL;
    assert_int_equal(cachet_pkey_generate_ec(CACHET_CURVE_P256, &other), CACHET_OK);
    cachet_verify_result *r = sfx_verify(ev, len, sfx_default_nonce, 32, other);
    assert_false(r->verified);
    cachet_policy *p = sfx_policy("{\"rules\":[{" SAMPLE_RULE ",\"any_workload\":true,"
                                  "\"freshness\":\"optional\"}]}");
    cachet_appraisal *a = NULL;
    assert_false(sfx_admits(p, r, &a));
    assert_string_equal(sfx_condition(a, "dev", "verified"), "fail");
    cachet_appraisal_free(a);
    cachet_policy_free(p);
    cachet_verify_result_free(r);
    cachet_pkey_free(other);
    free(ev);
}

static void test_gpu_required_but_absent(void **state)
{
    (void)state;
    cachet_verify_result *r = sfx_result(NULL, true);
    cachet_policy *p = sfx_policy("{\"rules\":[{" SAMPLE_RULE ",\"any_workload\":true,"
                                  "\"gpu\":{\"driver_version\":[\"550.90.07\"]}}]}");
    cachet_appraisal *a = NULL;
    assert_false(sfx_admits(p, r, &a));
    assert_string_equal(sfx_condition(a, "dev", "gpu.count"), "fail");
    /* the implicit CC-mode condition does not apply to CPU evidence */
    assert_string_equal(sfx_condition(a, "dev", "cc_mode"), "n/a");
    cachet_appraisal_free(a);
    cachet_policy_free(p);
    cachet_verify_result_free(r);
}

static void test_first_admitting_rule_and_all_rules_reported(void **state)
{
    (void)state;
    cachet_verify_result *r = sfx_result(NULL, true);
    cachet_policy *p = sfx_policy(
        "{\"id\":\"dev-policy\",\"rules\":["
        "{\"name\":\"prod\",\"tee\":[\"snp\"],\"measurement\":[\"00\"]},"
        "{" SAMPLE_RULE ",\"measurement\":[\"%s\"]},"
        "{\"name\":\"dev2\",\"tee\":[\"sample\"],\"status\":[\"warning\"],\"any_workload\":true}]}",
        SFX_MEASUREMENT_HEX);
    cachet_appraisal *a = NULL;
    assert_true(sfx_admits(p, r, &a));
    assert_string_equal(cachet_appraisal_rule(a), "dev");
    assert_string_equal(cachet_appraisal_policy_id(a), "dev-policy");
    const json_t *rules = json_object_get(cachet_appraisal_json(a), "rules");
    assert_int_equal(json_array_size(rules), 3);
    assert_false(json_is_true(json_object_get(json_array_get(rules, 0), "admits")));
    assert_true(json_is_true(json_object_get(json_array_get(rules, 1), "admits")));
    assert_true(json_is_true(json_object_get(json_array_get(rules, 2), "admits")));
    /* a failing condition records the claim, what was expected and what was found */
    const json_t *conds = json_object_get(json_array_get(rules, 0), "conditions");
    bool saw = false;
    for (size_t i = 0; i < json_array_size(conds); i++) {
        const json_t *c = json_array_get(conds, i);
        if (strcmp(json_string_value(json_object_get(c, "id")), "measurement") != 0)
            continue;
        saw = true;
        assert_string_equal(json_string_value(json_object_get(c, "result")), "fail");
        assert_string_equal(json_string_value(json_object_get(c, "claim")), "measurement");
        assert_string_equal(json_string_value(json_object_get(c, "actual")), SFX_MEASUREMENT_HEX);
        assert_true(json_is_array(json_object_get(c, "expected")));
    }
    assert_true(saw);
    FILE *f = tmpfile();
    cachet_appraisal_print(a, f);
    fclose(f);
    cachet_appraisal_free(a);
    cachet_policy_free(p);
    cachet_verify_result_free(r);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    cachet_policy *p = sfx_policy("{}");
    cachet_appraisal *a = NULL;
    cachet_appraisal_input in = {0};
    assert_int_not_equal(cachet_policy_appraise(p, &in, &a), CACHET_OK);
    assert_null(a);
    assert_int_not_equal(cachet_policy_appraise(p, NULL, &a), CACHET_OK);
    assert_false(cachet_appraisal_admitted(NULL));
    cachet_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_policy_denies),
        cmocka_unit_test(test_sample_only_when_named),
        cmocka_unit_test(test_status_default_is_affirming),
        cmocka_unit_test(test_measurement_any_of),
        cmocka_unit_test(test_freshness),
        cmocka_unit_test(test_min_svn_and_claims),
        cmocka_unit_test(test_flags_off_and_debug),
        cmocka_unit_test(test_tcb_status),
        cmocka_unit_test(test_unverified_is_denied),
        cmocka_unit_test(test_gpu_required_but_absent),
        cmocka_unit_test(test_first_admitting_rule_and_all_rules_reported),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
