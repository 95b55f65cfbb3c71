/* `cachet policy check` and `cachet verify --policy` through the real
 * binary, on sample evidence made by `cachet attest --tee sample`. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include <jansson.h>

#define NONCE "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static char *dir;

static int setup(void **state)
{
    (void)state;
    dir = tu_mkdtemp();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(dir);
    free(dir);
    return 0;
}

static void write_text(const char *name, const char *text)
{
    char *p = tu_asprintf("%s/%s", dir, name);
    tu_write_file(p, text, strlen(text));
    free(p);
}

/* `cachet ARGS` in dir; *out / *err (when given) get its stdout / stderr. */
static int cachet_io(char **out, char **err, const char *args)
{
    return tu_run_cachet_in(dir, out, err, "%s", args);
}

static int cachet(const char *args) { return cachet_io(NULL, NULL, args); }

static void test_check(void **state)
{
    (void)state;
    write_text("good.json", "{\"id\":\"p\",\"rules\":[{\"name\":\"dev\",\"tee\":[\"sample\"],"
                            "\"any_workload\":true}]}");
    char *out = NULL;
    assert_int_equal(cachet_io(&out, NULL, "policy check good.json"), 0);
    assert_non_null(strstr(out, "rule \"dev\" admits sample evidence"));
    assert_non_null(strstr(out, "warning"));
    free(out);
    write_text("empty.json", "{}");
    assert_int_equal(cachet_io(&out, NULL, "policy check empty.json"), 1);
    assert_non_null(strstr(out, "admits nothing"));
    free(out);
    write_text("bad.json", "{\"rules\":[{\"name\":\"a\",\"tee\":[\"snp\"],\"mesurement\":[]}]}");
    char *err = NULL;
    assert_int_equal(cachet_io(NULL, &err, "policy check bad.json"), 2);
    assert_non_null(strstr(err, "rules[0].mesurement"));
    free(err);
    assert_int_equal(cachet("policy check no-such-file.json"), 2);
    assert_int_equal(cachet("policy"), 2);
    assert_int_equal(cachet("policy frobnicate x"), 2);
    assert_int_equal(cachet("policy check --help"), 0);
}

static char *measurement_of_evidence(void)
{
    char *out = NULL;
    assert_int_equal(cachet_io(&out, NULL, "verify --json --trust-anchor k.pem --nonce " NONCE " ev"),
                     0);
    json_error_t e;
    json_t *j = json_loads(out, 0, &e);
    assert_non_null(j);
    char *m = strdup(json_string_value(json_object_get(json_object_get(j, "claims"),
                                                       "measurement")));
    json_decref(j);
    free(out);
    return m;
}

static void test_verify_with_policy(void **state)
{
    (void)state;
    assert_int_equal(cachet("attest --quiet --tee sample --sample-key k.pem --nonce " NONCE
                            " --out ev"),
                     0);
    char *m = measurement_of_evidence();
    char *admit = tu_asprintf("{\"id\":\"dev\",\"rules\":[{\"name\":\"dev\",\"tee\":[\"sample\"],"
                              "\"status\":[\"affirming\",\"warning\"],\"measurement\":[\"%s\"]}]}",
                              m);
    write_text("admit.json", admit);
    write_text("deny.json", "{\"rules\":[{\"name\":\"prod\",\"tee\":[\"snp\"],"
                            "\"measurement\":[\"00\"]}]}");
    write_text("strict.json", "{\"rules\":[{\"name\":\"dev\",\"tee\":[\"sample\"],"
                              "\"any_workload\":true}]}"); /* status: affirming only */

    char *out = NULL;
    assert_int_equal(cachet_io(&out, NULL,
                               "verify --json --policy admit.json --trust-anchor k.pem --nonce " NONCE
                               " ev"),
                     0);
    json_error_t e;
    json_t *j = json_loads(out, 0, &e);
    assert_non_null(j);
    json_t *pol = json_object_get(j, "policy");
    assert_string_equal(json_string_value(json_object_get(pol, "decision")), "admit");
    assert_string_equal(json_string_value(json_object_get(pol, "rule")), "dev");
    assert_string_equal(json_string_value(json_object_get(pol, "id")), "dev");
    assert_string_equal(json_string_value(json_object_get(j, "tee")), "sample");
    json_decref(j);
    free(out);

    assert_int_equal(cachet_io(&out, NULL,
                               "verify --json --policy deny.json --trust-anchor k.pem --nonce " NONCE
                               " ev"),
                     1);
    j = json_loads(out, 0, &e);
    assert_non_null(j);
    pol = json_object_get(j, "policy");
    assert_string_equal(json_string_value(json_object_get(pol, "decision")), "deny");
    assert_true(json_is_null(json_object_get(pol, "rule")));
    json_decref(j);
    free(out);

    /* the human report says why */
    assert_int_equal(cachet_io(&out, NULL,
                               "verify --policy strict.json --trust-anchor k.pem --nonce " NONCE " ev"),
                     1);
    assert_non_null(strstr(out, "DENY"));
    assert_non_null(strstr(out, "status"));
    free(out);

    /* no nonce: freshness fails */
    assert_int_equal(cachet("verify --policy admit.json --trust-anchor k.pem ev"), 1);
    /* an invalid policy is a usage error */
    write_text("bad.json", "{\"rules\": 5}");
    assert_int_equal(cachet("verify --policy bad.json --trust-anchor k.pem ev"), 2);
    assert_int_equal(cachet("verify --policy missing.json --trust-anchor k.pem ev"), 2);
    free(admit);
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_verify_with_policy),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
