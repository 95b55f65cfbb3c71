/* `cachet token issue | verify | jwks` through the real binary, on sample
 * evidence from `cachet attest --tee sample`. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"

#include <jansson.h>

#define NONCE "0f0e0d0c0b0a09080706050403020100"

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

/* `cachet ARGS` in dir; *err (when given) gets its stderr. */
static int cachet_err(char **err, const char *args)
{
    return tu_run_cachet_in(dir, NULL, err, "%s", args);
}

static int cachet(const char *args) { return cachet_err(NULL, args); }

static void test_issue_and_verify(void **state)
{
    (void)state;
    assert_int_equal(cachet("attest --quiet --tee sample --sample-key s.pem --nonce " NONCE
                            " --out ev >/dev/null"),
                     0);
    assert_int_equal(tu_system("cd '%s' && printf '%%s' '{\"id\":\"dev\",\"rules\":[{\"name\":"
                               "\"dev\",\"tee\":[\"sample\"],\"status\":[\"warning\"],"
                               "\"any_workload\":true}]}' > p.json",
                               dir),
                     0);
    char *err = NULL;
    assert_int_equal(cachet_err(&err, "token issue --key iss.pem --create-key --policy p.json "
                                      "--trust-anchor s.pem --nonce " NONCE " ev > t.jwt"),
                     0);
    char *ip = tu_asprintf("%s/iss.pem", dir);
    struct stat st;
    assert_int_equal(stat(ip, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    free(ip);
    assert_non_null(strstr(err, "policy admits"));
    free(err);

    assert_int_equal(cachet("token verify --key iss.pem t.jwt > claims.json"), 0);
    char *claims = tu_read_text("%s/claims.json", dir);
    json_error_t e;
    json_t *c = json_loads(claims, 0, &e);
    assert_non_null(c);
    json_t *cpu = json_object_get(json_object_get(c, "submods"), "cpu0");
    assert_string_equal(json_string_value(json_object_get(cpu, "ear.status")), "warning");
    assert_string_equal(json_string_value(json_object_get(cpu, "ear.appraisal-policy-id")), "dev");
    assert_non_null(json_object_get(json_object_get(cpu, "ear.veraison.annotated-evidence"),
                                    "sample"));
    json_decref(c);
    free(claims);

    /* the JWKS pins the same key */
    assert_int_equal(cachet("token jwks --key iss.pem > jwks.json"), 0);
    assert_int_equal(cachet("token verify --jwks jwks.json t.jwt > /dev/null"), 0);
    /* expired, another key, tampered */
    assert_int_equal(cachet("token verify --key iss.pem --at 2100-01-01T00:00:00Z t.jwt"), 1);
    assert_int_equal(cachet("token jwks --key other.pem > /dev/null"), 2);
    assert_int_equal(cachet("token issue --key other.pem --create-key --trust-anchor s.pem ev "
                            "> o.jwt"),
                     0);
    assert_int_equal(cachet("token verify --key iss.pem o.jwt"), 1);
    assert_int_equal(tu_system("cd '%s' && sed 's/\\.[A-Za-z0-9_-]/.A/' t.jwt > bad.jwt", dir), 0);
    assert_int_equal(cachet("token verify --key iss.pem bad.jwt"), 1);
}

static void test_usage(void **state)
{
    (void)state;
    assert_int_equal(cachet("token"), 2);
    assert_int_equal(cachet("token mint"), 2);
    assert_int_equal(cachet("token issue ev"), 2);
    assert_int_equal(cachet("token verify t.jwt"), 2);
    assert_int_equal(cachet("token verify --key a --jwks b t.jwt"), 2);
    assert_int_equal(cachet("token issue --key k.pem --lifetime 0 ev"), 2);
    assert_int_equal(cachet("token --help > /dev/null"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_issue_and_verify),
        cmocka_unit_test(test_usage),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
