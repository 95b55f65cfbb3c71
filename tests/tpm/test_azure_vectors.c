/* Real Azure confidential VM vectors (../shared/vectors/azure, MANIFEST.md
 * §6): each gets its manifest verdict with its nonce at its pinned time,
 * and negative cases are made by mutation, each rejected with the failing
 * check named. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "cachet/encoding.h"
#include "tpm_assert.h"

#define V1 "azure/snp_vtpm_milan_trustee_v1/evidence-v1.json"
#define V0 "azure/snp_vtpm_milan_trustee_v1/evidence-v0_same_capture.json"
#define V2 "azure/snp_vtpm_milan_trustee_v2/evidence-v2.json"
#define GENOA "azure/snp_vtpm_genoa_trustee/evidence-genoa.json"
#define TDX1 "azure/tdx_vtpm_trustee_nocollateral/evidence-v1.json"
#define TDX0 "azure/tdx_vtpm_trustee_nocollateral/evidence-v0.json"

#define N_CHALLENGE "6368616c6c656e6765"
#define N_V2 "982f5c6e45df0ed3f10b6f60b02f0c8390e281300f3805e2279c16168cd6ae9aa398f647caa2338748cd0fd9f5f819ef"
#define N_GENOA "0218488bae25d2509232bf676f1a66a30d7372add909109b36016ef136f2938ca05475f8b46094de6b64270ea35d950f"

typedef struct vec {
    const char *file;
    const char *tee;
    const char *nonce;
    const char *at;
    const char *pcr00;
} vec;

static const vec vecs[] = {
    { V1, "az-snp-vtpm", N_CHALLENGE, "2025-02-01T00:00:00Z",
      "e15c44796beabf46abcec7c57e590942041e47497e4ec27571c8b7664f48dced" },
    { V0, "az-snp-vtpm", N_CHALLENGE, "2025-02-01T00:00:00Z",
      "e15c44796beabf46abcec7c57e590942041e47497e4ec27571c8b7664f48dced" },
    { V2, "az-snp-vtpm", N_V2, "2025-02-01T00:00:00Z",
      "84275b2f4312cd4fc6cbe6b152ad3c3683e513d9f1e23c34fca160c8cca7a6a7" },
    { GENOA, "az-snp-vtpm", N_GENOA, "2025-02-01T00:00:00Z",
      "afd689d0bb1c5f36f023fbaf574135f555a28a10c1f6b938d2a25e70c7783338" },
    { TDX1, "az-tdx-vtpm", N_CHALLENGE, "2025-02-01T00:00:00Z",
      "782b20b10f55cc46e2142cc2145d548698073e5beb82752c8d7f9279f0d8a273" },
    { TDX0, "az-tdx-vtpm", N_CHALLENGE, "2025-02-01T00:00:00Z",
      "782b20b10f55cc46e2142cc2145d548698073e5beb82752c8d7f9279f0d8a273" },
};

static uint8_t *need(const char *rel, size_t *len)
{
    TU_REQUIRE_VECTORS();
    uint8_t *b = tu_read_vector(rel, len);
    if (!b) {
        print_message("# SKIP vector %s not found\n", rel);
        skip();
    }
    return b;
}

static cachet_verify_result *run(const char *tee, const uint8_t *ev, size_t len,
                                 const char *nonce_hex, const char *at)
{
    size_t nl = 0;
    uint8_t *nonce = nonce_hex ? tt_hex(nonce_hex, &nl) : NULL;
    cachet_verify_result *r = tt_verify(tee, ev, len, nonce, nl, NULL, 0, NULL, tt_at(at));
    free(nonce);
    return r;
}

/* Only the warnings a manifest verdict allows: no AMD CRL, no Intel
 * collateral for FMSPC 00806F050000. */
static void test_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++) {
        const vec *v = &vecs[i];
        size_t len;
        uint8_t *ev = need(v->file, &len);
        cachet_verify_result *r = run(NULL, ev, len, v->nonce, v->at);
        print_message("# %s: %s %s\n", v->file, cachet_ev_status_str(r->status),
                      r->verified ? "verified" : "NOT verified");
        assert_string_equal(r->tee, v->tee);
        ev_assert_no_failures(r);
        ev_assert_verdict(r, CACHET_EV_WARNING, true);
        ev_assert_pass(r, "azure.hcl.structure");
        ev_assert_pass(r, "azure.hardware");
        ev_assert_pass(r, "azure.hcl.binding");
        ev_assert_pass(r, "azure.hcl.runtime_data");
        ev_assert_pass(r, "tpm.quote.signature");
        ev_assert_pass(r, "tpm.quote.nonce");
        ev_assert_pass(r, "tpm.pcrs.digest");
        assert_string_equal(ev_claim_str(r, "report_data"), v->nonce);
        assert_string_equal(ev_claim_str(r, "freshness"), "nonce-matched");
        assert_string_equal(json_string_value(tt_claim(r, "tpm", "pcr00", NULL)), v->pcr00);
        assert_true(json_is_false(json_object_get(r->claims, "debug")));
        if (strcmp(v->tee, "az-snp-vtpm") == 0) {
            ev_assert_pass(r, "snp.report.signature");
            ev_assert_pass(r, "snp.report_data.nonce"); /* = H(runtime data) */
            ev_assert_pass(r, "azure.snp.vmpl");
            assert_non_null(tt_claim(r, "snp", "measurement", NULL));
        } else {
            ev_assert_pass(r, "tdx.quote.signature");
            ev_assert_pass(r, "tdx.report_data.nonce");
            ev_assert_pass(r, "azure.tdx.report_data");
            assert_string_equal(ev_claim_str(r, "tcb_status"), "unknown");
        }
        cachet_verify_result_free(r);
        free(ev);
    }
}

static void test_v2_user_data(void **state)
{
    (void)state;
    size_t len;
    uint8_t *ev = need(V2, &len);
    cachet_verify_result *r = run("az-snp-vtpm", ev, len, N_V2, "2025-02-01T00:00:00Z");
    ev_assert_pass(r, "azure.hcl.user_data");
    cachet_verify_result_free(r);
    /* The peer's case: nonce 123abc matches neither extraData nor user-data. */
    r = run("az-snp-vtpm", ev, len, "123abc", "2025-02-01T00:00:00Z");
    ev_assert_fail(r, "azure.hcl.user_data");
    ev_assert_fail(r, "tpm.quote.nonce");
    ev_assert_only_failures(r, "azure.hcl.user_data", "tpm.quote.nonce");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    cachet_verify_result_free(r);
    free(ev);
}

static void test_wrong_nonce_and_no_nonce(void **state)
{
    (void)state;
    size_t len;
    uint8_t *ev = need(V1, &len);
    cachet_verify_result *r = run("az-snp-vtpm", ev, len, "6368616c6c656e6766",
                                  "2025-02-01T00:00:00Z");
    ev_assert_fail(r, "tpm.quote.nonce");
    ev_assert_only_failures(r, "tpm.quote.nonce");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    cachet_verify_result_free(r);
    r = run("az-snp-vtpm", ev, len, NULL, "2025-02-01T00:00:00Z");
    ev_assert_na(r, "tpm.quote.nonce");
    assert_string_equal(ev_claim_str(r, "freshness"), "not-checked");
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    cachet_verify_result_free(r);
    free(ev);
}

static void test_before_vcek(void **state)
{
    (void)state;
    size_t len;
    uint8_t *ev = need(V1, &len);
    /* The VCEK is valid from 2025-01-28T16:26:55Z. */
    cachet_verify_result *r = run("az-snp-vtpm", ev, len, N_CHALLENGE, "2025-01-28T16:00:00Z");
    ev_assert_fail(r, "snp.chain");
    ev_assert_fail(r, "azure.hardware");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);
    free(ev);
}

/* Evidence with its hcl_report (base64url) decoded, mutated by edit(), re-encoded. */
static char *with_hcl(const uint8_t *ev, size_t len, void (*edit)(uint8_t *, size_t))
{
    json_t *j = json_loadb((const char *)ev, len, 0, NULL);
    assert_non_null(j);
    const char *h = json_string_value(json_object_get(j, "hcl_report"));
    uint8_t *b;
    size_t bl;
    assert_int_equal(cachet_base64url_decode(h, strlen(h), &b, &bl), CACHET_OK);
    edit(b, bl);
    char *s = cachet_base64url_string(b, bl);
    json_object_set_new(j, "hcl_report", json_string(s));
    char *out = json_dumps(j, 0);
    free(s);
    free(b);
    json_decref(j);
    return out;
}

static void edit_var(uint8_t *b, size_t n)
{
    (void)n;
    /* A byte of the runtime data's vm-configuration ("true" → "trUe"). */
    char *p = memmem(b + 0x4D4, 1100, "true", 4);
    assert_non_null(p);
    p[2] = 'U';
}

static void edit_magic(uint8_t *b, size_t n)
{
    (void)n;
    b[0] = 'X';
}

static void edit_type(uint8_t *b, size_t n)
{
    (void)n;
    b[0x4C8] = 4; /* TDX */
}

static void edit_hw(uint8_t *b, size_t n)
{
    (void)n;
    b[0x20 + 0x90] ^= 1; /* the SNP MEASUREMENT */
}

static void test_hcl_mutations(void **state)
{
    (void)state;
    size_t len;
    uint8_t *ev = need(V1, &len);
    static const struct {
        void (*edit)(uint8_t *, size_t);
        const char *id;
    } cases[] = {
        { edit_var, "azure.hcl.binding" },
        { edit_var, "snp.report_data.nonce" },
        { edit_magic, "azure.hcl.structure" },
        { edit_type, "azure.hcl.report_type" },
        { edit_hw, "snp.report.signature" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *m = with_hcl(ev, len, cases[i].edit);
        cachet_verify_result *r = run("az-snp-vtpm", (const uint8_t *)m, strlen(m), N_CHALLENGE,
                                      "2025-02-01T00:00:00Z");
        ev_assert_fail(r, cases[i].id);
        ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
        cachet_verify_result_free(r);
        free(m);
    }
    free(ev);
}

/* Mutate tpm_quote fields (hex). */
static char *with_quote(const uint8_t *ev, size_t len, const char *field, size_t at_hex)
{
    json_t *j = json_loadb((const char *)ev, len, 0, NULL);
    assert_non_null(j);
    json_t *q = json_object_get(j, "tpm_quote");
    char *s = NULL;
    if (strcmp(field, "pcr") == 0) {
        json_t *p = json_array_get(json_object_get(q, "pcrs"), 3);
        s = strdup(json_string_value(p));
        s[at_hex] = s[at_hex] == '0' ? '1' : '0';
        json_array_set_new(json_object_get(q, "pcrs"), 3, json_string(s));
    } else {
        s = strdup(json_string_value(json_object_get(q, field)));
        s[at_hex] = s[at_hex] == '0' ? '1' : '0';
        json_object_set_new(q, field, json_string(s));
    }
    free(s);
    char *out = json_dumps(j, 0);
    json_decref(j);
    return out;
}

static void test_quote_mutations(void **state)
{
    (void)state;
    size_t len;
    uint8_t *ev = need(V1, &len);
    static const struct {
        const char *field;
        size_t at;
        const char *id;
    } cases[] = {
        { "signature", 100, "tpm.quote.signature" },
        { "message", 0, "tpm.quote.magic" },
        { "message", 9, "tpm.quote.type" },
        { "message", 150, "tpm.quote.signature" }, /* clockInfo */
        { "pcr", 10, "tpm.pcrs.digest" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *m = with_quote(ev, len, cases[i].field, cases[i].at);
        cachet_verify_result *r = run("az-snp-vtpm", (const uint8_t *)m, strlen(m), N_CHALLENGE,
                                      "2025-02-01T00:00:00Z");
        ev_assert_fail(r, cases[i].id);
        ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
        cachet_verify_result_free(r);
        free(m);
    }
    free(ev);
}

static void test_wrong_family_and_structure(void **state)
{
    (void)state;
    size_t len;
    uint8_t *ev = need(V1, &len);
    /* SNP evidence named as TDX. */
    cachet_verify_result *r = run("az-tdx-vtpm", ev, len, N_CHALLENGE, "2025-02-01T00:00:00Z");
    ev_assert_fail(r, "azure.evidence.structure");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);
    /* Truncations never pass. */
    for (size_t cut = 1; cut < len; cut += 211) {
        r = run("az-snp-vtpm", ev, cut, N_CHALLENGE, "2025-02-01T00:00:00Z");
        assert_false(r->verified);
        cachet_verify_result_free(r);
    }
    /* An unknown key. */
    json_t *j = json_loadb((const char *)ev, len, 0, NULL);
    json_object_set_new(j, "extra", json_true());
    char *m = json_dumps(j, 0);
    r = run("az-snp-vtpm", (const uint8_t *)m, strlen(m), N_CHALLENGE, "2025-02-01T00:00:00Z");
    ev_assert_fail(r, "azure.evidence.structure");
    cachet_verify_result_free(r);
    free(m);
    json_decref(j);
    free(ev);
}

static void test_tdx_report_data(void **state)
{
    (void)state;
    size_t len;
    uint8_t *ev = need(TDX1, &len);
    /* The TDREPORT's REPORTDATA (HCL offset 0x20 + 128) no longer matches. */
    json_t *j = json_loadb((const char *)ev, len, 0, NULL);
    const char *h = json_string_value(json_object_get(j, "hcl_report"));
    uint8_t *b;
    size_t bl;
    assert_int_equal(cachet_base64url_decode(h, strlen(h), &b, &bl), CACHET_OK);
    b[0x20 + 128 + 40] ^= 1;
    char *s = cachet_base64url_string(b, bl);
    json_object_set_new(j, "hcl_report", json_string(s));
    char *m = json_dumps(j, 0);
    cachet_verify_result *r = run("az-tdx-vtpm", (const uint8_t *)m, strlen(m), N_CHALLENGE,
                                  "2025-02-01T00:00:00Z");
    ev_assert_fail(r, "azure.tdx.report_data");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);
    free(m);
    free(s);
    free(b);
    json_decref(j);
    free(ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_v2_user_data),
        cmocka_unit_test(test_wrong_nonce_and_no_nonce),
        cmocka_unit_test(test_before_vcek),
        cmocka_unit_test(test_hcl_mutations),
        cmocka_unit_test(test_quote_mutations),
        cmocka_unit_test(test_wrong_family_and_structure),
        cmocka_unit_test(test_tdx_report_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
