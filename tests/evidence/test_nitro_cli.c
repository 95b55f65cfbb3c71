/* `cachet verify` on Nitro documents through the real binary: the --json
 * object of verify-contract.md and the exit status. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include <jansson.h>

#include "nitro_gen.h"

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

/* Run `cachet verify ARGS --json EVIDENCE`; returns the exit status and the
 * parsed stdout (NULL when it is not one JSON object). */
static int run_json(const char *args, const char *evidence, json_t **out)
{
    char *o = NULL;
    int st = tu_run_cachet(&o, NULL, "verify %s --json '%s'", args, evidence);
    json_error_t err;
    *out = json_loads(o, JSON_REJECT_DUPLICATES, &err);
    free(o);
    return st;
}

static const json_t *find_check(const json_t *j, const char *id)
{
    const json_t *checks = json_object_get(j, "checks");
    size_t i;
    const json_t *c;
    json_array_foreach(checks, i, c)
        if (strcmp(json_string_value(json_object_get(c, "id")), id) == 0)
            return c;
    return NULL;
}

static void assert_check(const json_t *j, const char *id, const char *result)
{
    const json_t *c = find_check(j, id);
    if (!c)
        fail_msg("no check %s", id);
    assert_string_equal(json_string_value(json_object_get(c, "result")), result);
    assert_non_null(json_string_value(json_object_get(c, "spec")));
}

static void test_cli_prod(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    char *path = tu_vector_path("nitro/nsm_prod_2025-12-25/attestation_doc.cose");
    if (!path)
        skip();
    json_t *j = NULL;
    int st = run_json("--tee nitro --at 2025-12-25T13:15:37.578Z", path, &j);
    assert_int_equal(st, 0);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "tee")), "nitro");
    assert_string_equal(json_string_value(json_object_get(j, "status")), "affirming");
    assert_true(json_is_true(json_object_get(j, "verified")));
    const json_t *claims = json_object_get(j, "claims");
    assert_string_equal(json_string_value(json_object_get(claims, "measurement")),
                        json_string_value(json_object_get(claims, "pcr0")));
    assert_true(json_is_false(json_object_get(claims, "debug")));
    assert_check(j, "nitro.cose.signature", "pass");
    assert_check(j, "nitro.cert.chain", "pass");
    assert_int_equal(json_array_size(json_object_get(j, "errors")), 0);
    json_decref(j);

    /* With a nonce the document does not carry: contraindicated, exit 1. */
    st = run_json("--at 2025-12-25T13:15:37.578Z --nonce 00112233", path, &j);
    assert_int_equal(st, 1);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "contraindicated");
    assert_check(j, "nitro.nonce", "fail");
    json_decref(j);
    free(path);
}

static void test_cli_debug(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    char *path = tu_vector_path("nitro/invalid_debug_enclave/attestation_doc_debug.cose");
    if (!path)
        skip();
    json_t *j = NULL;
    int st = run_json("--at 2025-12-25T08:20:46.577Z", path, &j);
    assert_int_equal(st, 1);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "tee")), "nitro");
    assert_string_equal(json_string_value(json_object_get(j, "status")), "contraindicated");
    assert_true(json_is_true(json_object_get(j, "verified")));
    assert_true(json_is_true(json_object_get(json_object_get(j, "claims"), "debug")));
    assert_check(j, "nitro.debug", "fail");
    json_decref(j);
    free(path);
}

/* Without the vectors: a generated document chains to a test root, which
 * the CLI never trusts (the AWS root is built in and --trust-anchor does not
 * replace it). */
static void test_cli_generated(void **state)
{
    (void)state;
    nitrogen_pki *pki = nitrogen_pki_new(NITROGEN_T0);
    assert_non_null(pki);
    nitrogen_doc d;
    nitrogen_doc_default(&d, pki, NITROGEN_T0);
    size_t len;
    uint8_t *doc = nitrogen_encode(&d, &len);
    assert_non_null(doc);
    char *path = tu_asprintf("%s/gen.cose", dir);
    tu_write_file(path, doc, len);
    char *root = tu_asprintf("%s/root.pem", dir);
    char *pem = testpki_pem(pki->root);
    tu_write_file(root, pem, strlen(pem));
    char *args = tu_asprintf("--at 2027-01-15T08:00:00Z --trust-anchor '%s'", root);
    json_t *j = NULL;
    int st = run_json(args, path, &j);
    assert_int_equal(st, 1);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "tee")), "nitro");
    assert_false(json_is_true(json_object_get(j, "verified")));
    assert_check(j, "nitro.cabundle.root", "fail");
    assert_check(j, "nitro.cert.chain", "fail");
    json_decref(j);

    /* Truncated: the envelope check fails. */
    tu_write_file(path, doc, len / 3);
    st = run_json("--tee nitro", path, &j);
    assert_int_equal(st, 1);
    assert_non_null(j);
    assert_check(j, "nitro.cbor.envelope", "fail");
    json_decref(j);

    /* Unreadable input is a usage error. */
    char *missing = tu_asprintf("%s/missing.cose", dir);
    st = run_json("--tee nitro", missing, &j);
    assert_int_equal(st, 2);
    json_decref(j);
    free(missing);
    free(args);
    free(pem);
    free(root);
    free(path);
    free(doc);
    nitrogen_pki_free(pki);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_prod),
        cmocka_unit_test(test_cli_debug),
        cmocka_unit_test(test_cli_generated),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
