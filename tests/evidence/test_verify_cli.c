/* `cachet verify` through the real binary: the --json object's shape, exit
 * codes 0/1/2, the auto-detection message, usage errors. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include <jansson.h>

#include "snp_gen.h"

typedef struct cli_run {
    int rc;
    char *out;
    char *err;
} cli_run;

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

/* Run `cachet verify ARGS` (args are shell words, already quoted). */
static cli_run cli(const char *args)
{
    cli_run r;
    r.rc = tu_run_cachet(&r.out, &r.err, "verify %s", args);
    return r;
}

static void cli_free(cli_run *r)
{
    free(r->out);
    free(r->err);
}

static json_t *parse_json(const cli_run *r)
{
    json_error_t jerr;
    json_t *j = json_loads(r->out, 0, &jerr); /* exactly one value, nothing after it */
    if (!j)
        fail_msg("stdout is not one JSON value: %s\n%s", jerr.text, r->out);
    assert_true(json_is_object(j));
    return j;
}

static void assert_contract_shape(json_t *j)
{
    static const char *const keys[] = { "tee", "status", "verified", "claims", "checks", "errors" };
    assert_int_equal(json_object_size(j), 6);
    for (size_t i = 0; i < 6; i++)
        assert_non_null(json_object_get(j, keys[i]));
    assert_true(json_is_string(json_object_get(j, "tee")));
    assert_true(json_is_boolean(json_object_get(j, "verified")));
    assert_true(json_is_object(json_object_get(j, "claims")));
    assert_true(json_is_array(json_object_get(j, "checks")));
    assert_true(json_is_array(json_object_get(j, "errors")));
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(j, "checks"), i, c) {
        assert_true(json_is_string(json_object_get(c, "id")));
        assert_true(json_is_string(json_object_get(c, "spec")));
        assert_true(json_is_string(json_object_get(c, "result")));
    }
}

static const char *check_result(json_t *j, const char *id)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(j, "checks"), i, c) {
        if (strcmp(json_string_value(json_object_get(c, "id")), id) == 0)
            return json_string_value(json_object_get(c, "result"));
    }
    return NULL;
}

static char *vec(const char *rel)
{
    char *p = tu_vector_path(rel);
    if (!p) {
        print_message("# SKIP vector %s not found\n", rel);
        skip();
    }
    return p;
}

/* ---- with the real vectors -------------------------------------------------------- */

static void test_json_valid_vector(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    char *rep = vec("snp/turin_oak_2025/report.derived.bin");
    char *vcek = vec("snp/turin_oak_2025/vcek.derived.der");
    char *args = tu_asprintf("--json --at 2025-10-01T08:00:00Z '%s' '%s'", rep, vcek);
    cli_run r = cli(args);
    assert_int_equal(r.rc, 0);
    json_t *j = parse_json(&r);
    assert_contract_shape(j);
    assert_string_equal(json_string_value(json_object_get(j, "tee")), "snp");
    assert_string_equal(json_string_value(json_object_get(j, "status")), "warning");
    assert_true(json_is_true(json_object_get(j, "verified")));
    json_t *claims = json_object_get(j, "claims");
    assert_string_equal(json_string_value(json_object_get(claims, "product")), "Turin");
    assert_true(json_is_false(json_object_get(claims, "debug")));
    assert_string_equal(check_result(j, "snp.report.signature"), "pass");
    assert_string_equal(check_result(j, "snp.crl"), "n/a");
    /* Recognised by content, and said so on stderr (stdout holds only JSON). */
    assert_non_null(strstr(r.err, "recognised"));
    assert_non_null(strstr(r.err, "as snp"));
    json_decref(j);
    cli_free(&r);
    free(args);

    /* Named with --tee (or an alias): no recognition message. */
    args = tu_asprintf("--json --tee sev-snp --at 2025-10-01T08:00:00Z '%s' '%s'", rep, vcek);
    r = cli(args);
    assert_int_equal(r.rc, 0);
    assert_null(strstr(r.err, "recognised"));
    cli_free(&r);
    free(args);

    /* The human report: one line per check with its spec reference. */
    args = tu_asprintf("--at 2025-10-01T08:00:00Z '%s' '%s'", rep, vcek);
    r = cli(args);
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, "pass  snp.report.signature"));
    assert_non_null(strstr(r.out, "[AMD 56860"));
    assert_non_null(strstr(r.out, "n/a   snp.crl"));
    assert_non_null(strstr(r.out, "measurement"));
    assert_non_null(strstr(r.out, "status: warning"));
    cli_free(&r);
    free(args);
    free(rep);
    free(vcek);
}

static void test_contraindicated_exit_1(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    char *rep = vec("snp/milan_gsg_2022/report.bin");
    char *vcek = vec("snp/milan_gsg_2022/vcek.der");
    /* The debug-policy vector, with the nonce it carries (01..05, zero-padded). */
    char *args = tu_asprintf("--json --at 2022-09-24T01:00:00Z --nonce 0102030405 '%s' '%s'",
                             rep, vcek);
    cli_run r = cli(args);
    assert_int_equal(r.rc, 1);
    json_t *j = parse_json(&r);
    assert_contract_shape(j);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "contraindicated");
    assert_true(json_is_true(json_object_get(j, "verified")));
    assert_string_equal(check_result(j, "snp.policy.debug"), "fail");
    assert_string_equal(check_result(j, "snp.report_data.nonce"), "pass");
    assert_true(json_array_size(json_object_get(j, "errors")) >= 1);
    json_decref(j);
    cli_free(&r);
    free(args);

    /* Expired: the VCEK was not yet valid in 2021. */
    args = tu_asprintf("--json --at 2021-01-01T00:00:00Z '%s' '%s'", rep, vcek);
    r = cli(args);
    assert_int_equal(r.rc, 1);
    j = parse_json(&r);
    assert_string_equal(check_result(j, "snp.chain"), "fail");
    assert_true(json_is_false(json_object_get(j, "verified")));
    json_decref(j);
    cli_free(&r);
    free(args);
    free(rep);
    free(vcek);
}

static void test_directories_and_unused(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    char *rep = vec("snp/milan_oak_oc_release_2025/report.derived.bin");
    char *dir = vec("snp/milan_oak_oc_release_2025");
    char *roots = vec("snp/amd_roots");
    char *args = tu_asprintf("--json --at 2025-10-01T08:00:00Z '%s' '%s' '%s'", rep, dir, roots);
    cli_run r = cli(args);
    assert_int_equal(r.rc, 0);
    json_t *j = parse_json(&r);
    assert_string_equal(check_result(j, "evidence.endorsement.unused"), "n/a");
    assert_string_equal(check_result(j, "snp.chain.supplied_ark"), "pass");
    json_decref(j);
    cli_free(&r);
    free(args);
    free(rep);
    free(dir);
    free(roots);
}

/* ---- generated (no vectors needed) -------------------------------------------------- */

/* A look-alike AMD chain on disk: the CLI uses the built-in pins, so the
 * chain fails whatever --trust-anchor says. */
static void test_generated_lookalike(void **state)
{
    (void)state;
    snpgen_pki *k = snpgen_pki_new(SNP_PRODUCT_MILAN, NULL, NULL);
    assert_non_null(k);
    snpgen_report g;
    uint8_t b[SNP_REPORT_SIZE];
    snpgen_report_default(&g, SNP_PRODUCT_MILAN);
    snpgen_encode(&g, b);
    cachet_pkey *key = testpki_key(k->vcek);
    snpgen_sign(b, key);
    cachet_pkey_free(key);
    char *rep = tu_asprintf("%s/report.bin", workdir);
    char *vcek = tu_asprintf("%s/vcek.der", workdir);
    char *ark = tu_asprintf("%s/ark.pem", workdir);
    char *trunc = tu_asprintf("%s/short.bin", workdir);
    tu_write_file(rep, b, sizeof b);
    tu_write_file(trunc, b, sizeof b - 16);
    size_t len;
    const uint8_t *der = testpki_der(k->vcek, &len);
    tu_write_file(vcek, der, len);
    char *pem = testpki_pem(k->ark);
    tu_write_file(ark, pem, strlen(pem));
    free(pem);
    const testpki_cert *ask_only[] = { k->ask };
    char *askpem = testpki_bundle_pem(ask_only, 1);
    char *askp = tu_asprintf("%s/ask.pem", workdir);
    tu_write_file(askp, askpem, strlen(askpem));
    free(askpem);

    char *args = tu_asprintf("--json --at 2025-01-01T00:00:00Z --trust-anchor '%s' '%s' '%s' '%s'",
                             ark, rep, vcek, askp);
    cli_run r = cli(args);
    assert_int_equal(r.rc, 1);
    json_t *j = parse_json(&r);
    assert_contract_shape(j);
    assert_string_equal(check_result(j, "snp.chain"), "fail");
    assert_string_equal(check_result(j, "snp.chain.trust_anchors"), "n/a");
    assert_string_equal(check_result(j, "snp.report.signature"), "pass");
    assert_true(json_is_false(json_object_get(j, "verified")));
    json_decref(j);
    cli_free(&r);
    free(args);

    /* Truncated: not recognised without --tee (2); with it, named (1). */
    args = tu_asprintf("--json '%s' '%s'", trunc, vcek);
    r = cli(args);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "--tee"));
    assert_string_equal(r.out, "");
    cli_free(&r);
    free(args);
    args = tu_asprintf("--json --tee snp '%s' '%s'", trunc, vcek);
    r = cli(args);
    assert_int_equal(r.rc, 1);
    j = parse_json(&r);
    assert_string_equal(check_result(j, "snp.report.size"), "fail");
    json_decref(j);
    cli_free(&r);
    free(args);

    /* A wrong nonce. */
    args = tu_asprintf("--json --nonce 0102030406 '%s' '%s'", rep, vcek);
    r = cli(args);
    assert_int_equal(r.rc, 1);
    j = parse_json(&r);
    assert_string_equal(check_result(j, "snp.report_data.nonce"), "fail");
    json_decref(j);
    cli_free(&r);
    free(args);

    free(askp);
    free(rep);
    free(vcek);
    free(ark);
    free(trunc);
    snpgen_pki_free(k);
}

/* Replace the placeholders R, J and W (only where they stand quoted, as
 * 'R' or 'W/...') with the report path, the junk path and the work dir. */
static char *expand(const char *fmt, const char *rep, const char *junk)
{
    char *out = tu_asprintf("%s", "");
    for (const char *p = fmt; *p; p++) {
        const char *sub = NULL;
        if (p[0] == '\'' && p[1] == 'R' && p[2] == '\'')
            sub = rep;
        else if (p[0] == '\'' && p[1] == 'J' && p[2] == '\'')
            sub = junk;
        else if (p[0] == '\'' && p[1] == 'W' && p[2] == '/')
            sub = workdir;
        char *next;
        if (sub) {
            next = tu_asprintf("%s'%s%s", out, sub, p[1] == 'W' ? "" : "'");
            p += p[1] == 'W' ? 1 : 2;
        } else {
            next = tu_asprintf("%s%c", out, *p);
        }
        free(out);
        out = next;
    }
    return out;
}

static void test_usage_errors(void **state)
{
    (void)state;
    char *rep = tu_asprintf("%s/r.bin", workdir);
    uint8_t b[SNP_REPORT_SIZE];
    snpgen_report g;
    snpgen_report_default(&g, SNP_PRODUCT_GENOA);
    snpgen_encode(&g, b);
    tu_write_file(rep, b, sizeof b);
    char *junk = tu_asprintf("%s/junk.txt", workdir);
    tu_write_file(junk, "hello", 5);

    static const struct {
        const char *fmt; /* R = report, J = junk file, W = workdir */
        const char *msg;
    } cases[] = {
        { "", "no EVIDENCE" },
        { "--policy p.json 'R'", "policy p.json" }, /* a policy that cannot be read */
        { "--tee bogus 'R'", "unknown evidence family" },
        { "--at yesterday 'R'", "RFC 3339" },
        { "--nonce zz 'R'", "--nonce" },
        { "--nonce '' 'R'", "--nonce" },
        { "--frobnicate 'R'", "unknown option" },
        { "'R' --at", "needs a value" },
        { "'W/missing.bin'", "cannot read evidence" },
        { "'R' 'W/missing.der'", "missing.der" },
        { "--trust-anchor 'W/missing.pem' 'R'", "trust anchor" },
        { "--trust-anchor 'J' 'R'", "not a certificate" },
        { "'J'", "--tee" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *args = expand(cases[i].fmt, rep, junk);
        cli_run r = cli(args);
        if (r.rc != 2 || !strstr(r.err, cases[i].msg))
            fail_msg("'%s': rc %d, stderr: %s", args, r.rc, r.err);
        assert_string_equal(r.out, "");
        cli_free(&r);
        free(args);
    }
    /* --help works and lists the family. */
    cli_run r = cli("--help");
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, "snp"));
    assert_non_null(strstr(r.out, "--trust-anchor"));
    cli_free(&r);
    free(rep);
    free(junk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_valid_vector),
        cmocka_unit_test(test_contraindicated_exit_1),
        cmocka_unit_test(test_directories_and_unused),
        cmocka_unit_test(test_generated_lookalike),
        cmocka_unit_test(test_usage_errors),
    };
    return cmocka_run_group_tests_name("verify_cli", tests, setup, teardown);
}
