/* The sample evidence format and its verifier: parser bounds, each check,
 * and that results always say "sample" and never look like hardware. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "cachet/attester.h"
#include "cachet/runtime_data.h"
#include "evidence/sample/sample.h"
#include "sample_fixture.h"
#include "testpki.h"

static const char *check_result(const cachet_verify_result *r, const char *id)
{
    const cachet_check *c = cachet_checklog_find(r->checks, id);
    return c ? cachet_check_result_str(c->result) : NULL;
}

static void test_parse_bounds(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *ev = sfx_evidence(NULL, &len);
    sample_report r;
    assert_int_equal(sample_parse(ev, len, &r), CACHET_OK);
    assert_int_equal(r.version, 1);
    assert_int_equal(r.signed_len + SAMPLE_SIG_LEN, len);
    assert_non_null(r.runtime_data);
    /* every truncation fails */
    for (size_t n = 0; n < len; n++)
        assert_int_not_equal(sample_parse(ev, n, &r), CACHET_OK);
    /* trailing bytes */
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, ev, len);
    longer[len] = 0;
    assert_int_equal(cachet_rc_code(sample_parse(longer, len + 1, &r)), CACHET_E_FORMAT);
    free(longer);
    /* header fields */
    uint8_t *m = malloc(len);
    struct {
        size_t off;
        uint8_t val;
        uint32_t code;
    } cases[] = {
        {0, 'X', CACHET_E_FORMAT},        /* magic */
        {8, 2, CACHET_E_UNSUPPORTED},     /* version */
        {10, 2, CACHET_E_UNSUPPORTED},    /* sig_alg */
        {12, 2, CACHET_E_FORMAT},         /* reserved flag bit */
        {0x17, 0x7f, CACHET_E_LIMIT},     /* runtime_data_len huge */
        {0x14, 0xff, CACHET_E_TRUNCATED}, /* runtime_data_len past the end */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(m, ev, len);
        m[cases[i].off] = cases[i].val;
        cachet_rc rc = sample_parse(m, len, &r);
        if (cachet_rc_code(rc) != cases[i].code)
            fail_msg("case %zu: %s (%s)", i, cachet_rc_str(rc), cachet_err_detail());
    }
    free(m);
    free(ev);
    assert_int_not_equal(sample_parse(NULL, 0, &r), CACHET_OK);
}

static void test_results_say_sample(void **state)
{
    (void)state;
    cachet_verify_result *r = sfx_result(NULL, true);
    assert_string_equal(r->tee, "sample");
    assert_true(r->verified);
    assert_int_equal(r->status, CACHET_EV_WARNING); /* never affirming */
    assert_true(json_is_false(json_object_get(r->claims, "hardware")));
    assert_non_null(strstr(json_string_value(json_object_get(r->claims, "platform")),
                           "software-only"));
    assert_string_equal(check_result(r, "sample.hardware"), "n/a");
    assert_string_equal(json_string_value(json_object_get(r->claims, "freshness")),
                        "nonce-matched");
    const json_t *rd = json_object_get(r->claims, "runtime_data_claims");
    assert_string_equal(json_string_value(json_object_get(rd, "nonce")),
                        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
    /* recognised by content */
    size_t len = 0;
    uint8_t *ev = sfx_evidence(NULL, &len);
    assert_ptr_equal(cachet_evidence_detect(ev, len), cachet_evidence_find("sample"));
    free(ev);
    cachet_verify_result_free(r);
}

static void test_key_checks(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *ev = sfx_evidence(NULL, &len);
    /* no key at all */
    cachet_verify_result *r = sfx_verify(ev, len, NULL, 0, NULL);
    assert_false(r->verified);
    assert_int_equal(r->status, CACHET_EV_CONTRAINDICATED);
    assert_string_equal(check_result(r, "sample.key"), "fail");
    cachet_verify_result_free(r);
    /* another key */
    cachet_pkey *other = NULL;
    assert_int_equal(cachet_pkey_generate_ec(CACHET_CURVE_P256, &other), CACHET_OK);
    r = sfx_verify(ev, len, NULL, 0, other);
    assert_false(r->verified);
    assert_string_equal(check_result(r, "sample.key"), "fail");
    cachet_verify_result_free(r);
    cachet_pkey_free(other);
    free(ev);
    /* a certificate whose key signed the report is accepted as the anchor */
    testpki_cert *c = testpki_mint(&(testpki_cert_opts){.cn = "sample signer"}, NULL);
    assert_non_null(c);
    sample_report rep;
    memset(&rep, 0, sizeof rep);
    memset(rep.report_data, 0x77, 32);
    uint8_t *ev2 = NULL;
    size_t len2 = 0;
    cachet_pkey *ck = testpki_key(c);
    assert_int_equal(sample_build(&rep, ck, &ev2, &len2), CACHET_OK);
    cachet_x509 *anchor = testpki_x509(c);
    cachet_x509 *anchors[] = {anchor};
    uint8_t nonce[32];
    memset(nonce, 0x77, sizeof nonce);
    cachet_verify_request req = {.evidence = ev2, .evidence_len = len2, .time = 1767225600,
                                 .trust_anchors = anchors, .n_trust_anchors = 1, .nonce = nonce,
                                 .nonce_len = sizeof nonce};
    assert_int_equal(cachet_evidence_verify(&req, &r), CACHET_OK);
    assert_true(r->verified);
    assert_string_equal(check_result(r, "sample.runtime_data"), "n/a");
    assert_string_equal(check_result(r, "sample.nonce"), "pass"); /* report_data = nonce, padded */
    cachet_verify_result_free(r);
    cachet_x509_free(anchor);
    cachet_pkey_free(ck);
    free(ev2);
    testpki_free(c);
}

static void test_tampering(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *ev = sfx_evidence(NULL, &len);
    /* any single byte of the signed part or the signature */
    const size_t offs[] = {0x10, 0x20, 0x60, 0x90, SAMPLE_HEADER_LEN + 3, len - 1};
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        uint8_t *m = malloc(len);
        memcpy(m, ev, len);
        m[offs[i]] ^= 0x01;
        cachet_verify_result *r = sfx_verify(m, len, sfx_default_nonce, 32, sfx_key());
        if (r->verified || r->status != CACHET_EV_CONTRAINDICATED)
            fail_msg("byte 0x%zx flipped, still verified", offs[i]);
        cachet_verify_result_free(r);
        free(m);
    }
    free(ev);
    /* runtime data re-signed by the key holder but not bound: the binding fails */
    sample_report rep;
    memset(&rep, 0, sizeof rep);
    memset(rep.report_data, 0x01, 48);
    const char *rt = "{\"additional-evidence\":\"\",\"nonce\":\"AAAA\"}";
    rep.runtime_data = (const uint8_t *)rt;
    rep.runtime_data_len = (uint32_t)strlen(rt);
    uint8_t *ev2 = NULL;
    size_t len2 = 0;
    assert_int_equal(sample_build(&rep, sfx_key(), &ev2, &len2), CACHET_OK);
    cachet_verify_result *r = sfx_verify(ev2, len2, NULL, 0, sfx_key());
    assert_false(r->verified);
    assert_string_equal(check_result(r, "sample.runtime_data"), "fail");
    cachet_verify_result_free(r);
    free(ev2);
    /* runtime data that is not a runtime-data object */
    rt = "{\"nonce\":\"AAAA\",\"additional-evidence\":\"\",\"nonce\":\"BBBB\"}";
    rep.runtime_data = (const uint8_t *)rt;
    rep.runtime_data_len = (uint32_t)strlen(rt);
    assert_int_equal(sample_build(&rep, sfx_key(), &ev2, &len2), CACHET_OK);
    r = sfx_verify(ev2, len2, NULL, 0, sfx_key());
    assert_false(r->verified);
    assert_string_equal(check_result(r, "sample.runtime_data"), "fail");
    cachet_verify_result_free(r);
    free(ev2);
}

static void test_nonce_and_debug(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *ev = sfx_evidence(NULL, &len);
    uint8_t other[32] = {9};
    cachet_verify_result *r = sfx_verify(ev, len, other, sizeof other, sfx_key());
    assert_true(r->verified); /* authentic, but stale */
    assert_int_equal(r->status, CACHET_EV_CONTRAINDICATED);
    assert_string_equal(json_string_value(json_object_get(r->claims, "freshness")), "mismatch");
    cachet_verify_result_free(r);
    r = sfx_verify(ev, len, NULL, 0, sfx_key());
    assert_string_equal(json_string_value(json_object_get(r->claims, "freshness")), "not-checked");
    assert_string_equal(check_result(r, "sample.nonce"), "n/a");
    cachet_verify_result_free(r);
    free(ev);
    sfx_opts o = {.debug = true};
    r = sfx_result(&o, true);
    assert_int_equal(r->status, CACHET_EV_CONTRAINDICATED);
    assert_string_equal(check_result(r, "sample.debug"), "fail");
    assert_true(json_is_true(json_object_get(r->claims, "debug")));
    cachet_verify_result_free(r);
}

static void test_attester_in_process(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *key = tu_asprintf("%s/sample.pem", dir);
    cachet_sample_opts so = {.key_path = key, .create_key = false};
    cachet_attester *a = NULL;
    bool created = false;
    assert_int_equal(cachet_rc_code(cachet_attester_sample_new(&so, &a, &created)),
                     CACHET_E_NOT_FOUND);
    so.create_key = true;
    so.svn = 7;
    assert_int_equal(cachet_attester_sample_new(&so, &a, &created), CACHET_OK);
    assert_true(created);
    assert_string_equal(cachet_attester_tee(a), "sample");
    uint8_t nonce[16] = {1, 2, 3};
    cachet_attest_request rq = {.nonce = nonce, .nonce_len = sizeof nonce};
    uint8_t *ev = NULL;
    size_t len = 0;
    assert_int_equal(cachet_attester_collect(a, &rq, &ev, &len), CACHET_OK);
    size_t klen = 0;
    uint8_t *pem = tu_read_file(key, &klen);
    cachet_pkey *k = NULL;
    assert_int_equal(cachet_pkey_parse_private(pem, klen, &k), CACHET_OK);
    cachet_verify_result *r = sfx_verify(ev, len, nonce, sizeof nonce, k);
    assert_true(r->verified);
    assert_int_equal(json_integer_value(json_object_get(r->claims, "svn")), 7);
    cachet_verify_result_free(r);
    free(ev);
    /* collect_bound refuses runtime data that does not hash to the report data */
    uint8_t rd[64] = {0};
    const char *rt = "{\"additional-evidence\":\"\",\"nonce\":\"x\"}";
    assert_int_not_equal(cachet_attester_collect_bound(a, rd, rt, strlen(rt), &ev, &len),
                         CACHET_OK);
    assert_int_equal(cachet_attester_collect_bound(a, rd, NULL, 0, &ev, &len), CACHET_OK);
    free(ev);
    cachet_attester_free(a);
    cachet_pkey_free(k);
    free(pem);
    tu_rmtree(dir);
    free(key);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_bounds),
        cmocka_unit_test(test_results_say_sample),
        cmocka_unit_test(test_key_checks),
        cmocka_unit_test(test_tampering),
        cmocka_unit_test(test_nonce_and_debug),
        cmocka_unit_test(test_attester_in_process),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
