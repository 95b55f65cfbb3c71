/* `cachet verify` on TPM and Azure evidence through the real binary: the
 * --json object of verify-contract.md, recognition by content, the exit
 * status. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "testutil.h"

#include "cachet/encoding.h"
#include "tpm_gen.h"

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

/* `cachet verify ARGS --json EVIDENCE [MORE]`: exit status and stdout. */
static int run_json(const char *args, const char *evidence, const char *more, json_t **out)
{
    char *o = NULL;
    int st = tu_run_cachet(&o, NULL, "verify %s --json '%s' %s", args, evidence, more ? more : "");
    json_error_t err;
    *out = json_loads(o, JSON_REJECT_DUPLICATES, &err);
    free(o);
    return st;
}

static const json_t *find_check(const json_t *j, const char *id, const char *result)
{
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(j, "checks"), i, c)
        if (strcmp(json_string_value(json_object_get(c, "id")), id) == 0 &&
            strcmp(json_string_value(json_object_get(c, "result")), result) == 0)
            return c;
    return NULL;
}

static void assert_check(const json_t *j, const char *id, const char *result)
{
    const json_t *c = find_check(j, id, result);
    if (!c)
        fail_msg("no check %s with result %s", id, result);
    assert_non_null(json_string_value(json_object_get(c, "spec")));
}

static char *vec(const char *rel)
{
    if (!tu_vectors_dir()) {
        print_message("# SKIP real vectors not found (set CACHET_VECTORS)\n");
        skip();
    }
    char *p = tu_vector_path(rel);
    if (!p) {
        print_message("# SKIP vector %s not found\n", rel);
        skip();
    }
    return p;
}

static void test_cli_gce(void **state)
{
    (void)state;
    char *ev = vec("tpm/gce_vtpm_cos85_nonce9009/attestation.pb");
    char *root = vec("tpm/gce_ek_ak_roots/tpm_ek_root_1.cer");
    char *ica = vec("tpm/gce_ek_ak_roots/tpm_ek_intermediate_2.crt");
    char *args = tu_asprintf("--nonce 9009 --trust-anchor '%s'", root);
    char *more = tu_asprintf("'%s'", ica);
    json_t *j = NULL;
    assert_int_equal(run_json(args, ev, more, &j), 0);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "tee")), "tpm");
    assert_string_equal(json_string_value(json_object_get(j, "status")), "warning");
    assert_true(json_is_true(json_object_get(j, "verified")));
    assert_check(j, "tpm.quote.signature", "pass");
    assert_check(j, "tpm.eventlog.replay", "pass");
    json_decref(j);
    /* Without the anchor: contraindicated, exit 1. */
    free(args);
    args = strdup("--nonce 9009");
    assert_int_equal(run_json(args, ev, more, &j), 1);
    assert_check(j, "tpm.ak.cert.chain", "fail");
    assert_true(json_is_false(json_object_get(j, "verified")));
    json_decref(j);
    free(args);
    free(more);
    free(ev);
    free(root);
    free(ica);
}

static void test_cli_azure(void **state)
{
    (void)state;
    char *ev = vec("azure/snp_vtpm_milan_trustee_v2/evidence-v2.json");
    json_t *j = NULL;
    assert_int_equal(run_json("--at 2025-02-01T00:00:00Z --nonce "
                              "982f5c6e45df0ed3f10b6f60b02f0c8390e281300f3805e2279c16168cd6ae9a"
                              "a398f647caa2338748cd0fd9f5f819ef",
                              ev, NULL, &j),
                     0);
    assert_string_equal(json_string_value(json_object_get(j, "tee")), "az-snp-vtpm");
    assert_string_equal(json_string_value(json_object_get(j, "status")), "warning");
    assert_check(j, "azure.hcl.binding", "pass");
    assert_check(j, "azure.hcl.user_data", "pass");
    json_decref(j);
    assert_int_equal(run_json("--tee az-snp-vtpm --at 2025-02-01T00:00:00Z --nonce 123abc", ev,
                              NULL, &j),
                     1);
    assert_check(j, "azure.hcl.user_data", "fail");
    json_decref(j);
    free(ev);

    ev = vec("azure/tdx_vtpm_trustee_nocollateral/evidence-v1.json");
    assert_int_equal(run_json("--at 2025-02-01T00:00:00Z --nonce 6368616c6c656e6765", ev, NULL, &j),
                     0);
    assert_string_equal(json_string_value(json_object_get(j, "tee")), "az-tdx-vtpm");
    assert_check(j, "tdx.quote.signature", "pass");
    json_decref(j);
    free(ev);
}

static void test_cli_eventlog(void **state)
{
    (void)state;
    char *ev = vec("tpm/eventlogs_only/ubuntu-2404-amd-sevsnp.bin");
    json_t *j = NULL;
    assert_int_equal(run_json("", ev, NULL, &j), 1);
    assert_string_equal(json_string_value(json_object_get(j, "tee")), "tpm");
    assert_check(j, "tpm.quote.present", "fail");
    const json_t *p = json_object_get(json_object_get(json_object_get(j, "claims"),
                                                      "replayed_pcrs"), "sha256");
    assert_string_equal(json_string_value(json_object_get(p, "pcr00")),
                        "50597a27846e91d025eef597abbc89f72bff9af849094db97b0684d8bc4c515e");
    json_decref(j);
    free(ev);
}

static void test_cli_generated(void **state)
{
    (void)state;
    tpmgen *g = tpmgen_new(NULL);
    size_t len;
    char *b = tpmgen_bundle(g, &len);
    char *bp = tu_asprintf("%s/bundle.json", dir), *rp = tu_asprintf("%s/root.pem", dir);
    tu_write_file(bp, b, len);
    char *pem = testpki_pem(g->root);
    tu_write_file(rp, pem, strlen(pem));
    char hex[65];
    cachet_hex_encode(g->nonce, 32, hex);
    char *args = tu_asprintf("--nonce %s --trust-anchor '%s'", hex, rp);
    json_t *j = NULL;
    assert_int_equal(run_json(args, bp, NULL, &j), 0);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "warning");
    assert_check(j, "tpm.ak.trust", "pass");
    json_decref(j);
    /* A replayed quote: the same bundle against a new nonce. */
    free(args);
    args = tu_asprintf("--nonce 00112233445566778899aabbccddeeff --trust-anchor '%s'", rp);
    assert_int_equal(run_json(args, bp, NULL, &j), 1);
    assert_check(j, "tpm.quote.nonce", "fail");
    json_decref(j);
    /* Garbage named as a TPM bundle: contraindicated, not a usage error. */
    tu_write_file(bp, "{\"format\":\"cachet-tpm-quote-bundle\"}", 36);
    assert_int_equal(run_json("--tee tpm", bp, NULL, &j), 1);
    assert_check(j, "tpm.evidence.structure", "fail");
    json_decref(j);
    free(args);
    free(pem);
    free(bp);
    free(rp);
    free(b);
    tpmgen_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_gce),
        cmocka_unit_test(test_cli_azure),
        cmocka_unit_test(test_cli_eventlog),
        cmocka_unit_test(test_cli_generated),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
