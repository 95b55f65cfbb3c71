/* The configfs-tsm attester against a fake configfs (fake_tsm.h) serving
 * real captured reports: the request round trip, the generation check,
 * provider selection, auxblob certificates; then the served report verifies
 * through the real verifier.  Only the interface is tested here: no TEE. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "cachet/attester.h"
#include "cachet/clock.h"
#include "cachet/evidence.h"
#include "cachet/runtime_data.h"
#include "fake_tsm.h"

#define SNP_REPORT_LEN 1184
#define SNP_REPORT_DATA_OFF 0x50
#define TDX_REPORTDATA_OFF 568

static char *root;

static int setup(void **state)
{
    (void)state;
    root = tu_mkdtemp();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(root);
    free(root);
    return 0;
}

static cachet_tsm_opts opts_for(fake_tsm *f)
{
    cachet_tsm_opts o = {.root = root, .privlevel = -1, .mkdir_fn = fake_tsm_mkdir,
                         .mkdir_arg = f};
    return o;
}

/* A GHCB certificate table with one VCEK entry. */
static uint8_t *cert_table(const uint8_t *cert, size_t len, size_t *out_len)
{
    static const uint8_t vcek_guid[16] = {0x8d, 0x75, 0xda, 0x63, 0x64, 0xe6, 0x64, 0x45,
                                          0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
    size_t hdr = 2 * 24;
    uint8_t *t = calloc(1, hdr + len);
    memcpy(t, vcek_guid, 16);
    t[16] = (uint8_t)hdr;
    t[20] = (uint8_t)(len & 0xff);
    t[21] = (uint8_t)(len >> 8);
    memcpy(t + hdr, cert, len);
    *out_len = hdr + len;
    return t;
}

static void test_snp_round_trip_real_report(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    size_t rlen = 0, clen = 0, tlen = 0;
    uint8_t *report = tu_read_vector("snp/genoa_trustee_e2e/report.derived.bin", &rlen);
    uint8_t *vcek = tu_read_vector("snp/genoa_trustee_e2e/vcek.derived.der", &clen);
    assert_non_null(report);
    assert_non_null(vcek);
    uint8_t *table = cert_table(vcek, clen, &tlen);
    fake_tsm_cfg cfg = {.provider = "sev_guest", .outblob = report, .outblob_len = rlen,
                        .auxblob = table, .auxblob_len = tlen};
    fake_tsm *f = fake_tsm_new(&cfg);
    cachet_tsm_opts o = opts_for(f);
    cachet_attester *a = NULL;
    assert_int_equal(cachet_attester_tsm_new(&o, &a), CACHET_OK);
    assert_string_equal(cachet_attester_tee(a), "snp");

    /* ask for exactly the report data the captured report carries */
    uint8_t *ev = NULL;
    size_t len = 0;
    assert_int_equal(cachet_attester_collect_bound(a, report + SNP_REPORT_DATA_OFF, NULL, 0, &ev,
                                                   &len),
                     CACHET_OK);
    fake_tsm_join(f);
    size_t in_len = 0;
    const uint8_t *in = fake_tsm_inblob(f, &in_len);
    assert_int_equal(in_len, 64);
    assert_memory_equal(in, report + SNP_REPORT_DATA_OFF, 64);
    assert_int_equal(len, rlen);
    assert_memory_equal(ev, report, rlen);
    const cachet_tsm_report *last = cachet_attester_tsm_last(a);
    assert_non_null(last);
    assert_string_equal(last->provider, "sev_guest");
    assert_int_equal(last->generation, 1);

    /* the auxblob's certificate table gives the VCEK */
    cachet_snp_cert certs[4];
    size_t n = 0;
    assert_int_equal(cachet_snp_cert_table_parse(last->auxblob, last->auxblob_len, certs, 4, &n),
                     CACHET_OK);
    assert_int_equal(n, 1);
    assert_string_equal(certs[0].name, "vcek");
    assert_int_equal(certs[0].len, clen);

    /* and what came through outblob verifies, fresh, with that VCEK */
    cachet_endorsements *e = cachet_endorsements_new();
    assert_int_equal(cachet_endorsements_add_bytes(e, "vcek", certs[0].data, certs[0].len),
                     CACHET_OK);
    cachet_verify_request req = {.evidence = ev, .evidence_len = len, .endorsements = e,
                                 .nonce = report + SNP_REPORT_DATA_OFF, .nonce_len = 64};
    assert_int_equal(cachet_time_parse_rfc3339("2025-06-01T00:00:00Z", &req.time), CACHET_OK);
    cachet_verify_result *res = NULL;
    assert_int_equal(cachet_evidence_verify(&req, &res), CACHET_OK);
    assert_string_equal(res->tee, "snp");
    assert_true(res->verified);
    assert_string_equal(json_string_value(json_object_get(res->claims, "freshness")),
                        "nonce-matched");
    cachet_verify_result_free(res);
    cachet_endorsements_free(e);
    free(ev);
    cachet_attester_free(a);
    fake_tsm_free(f);
    free(table);
    free(vcek);
    free(report);
}

static void test_tdx_quote_real(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    size_t qlen = 0;
    uint8_t *quote = tu_read_vector("tdx/b0c06f_v4_dcapqvl_2025-06/quote.bin", &qlen);
    assert_non_null(quote);
    fake_tsm_cfg cfg = {.provider = "tdx_guest", .outblob = quote, .outblob_len = qlen};
    fake_tsm *f = fake_tsm_new(&cfg);
    cachet_tsm_opts o = opts_for(f);
    o.provider = "tdx_guest";
    cachet_attester *a = NULL;
    assert_int_equal(cachet_attester_tsm_new(&o, &a), CACHET_OK);
    assert_string_equal(cachet_attester_tee(a), "tdx");
    uint8_t *ev = NULL;
    size_t len = 0;
    assert_int_equal(cachet_attester_collect_bound(a, quote + TDX_REPORTDATA_OFF, NULL, 0, &ev,
                                                   &len),
                     CACHET_OK);
    assert_int_equal(len, qlen);
    assert_memory_equal(ev, quote, qlen);
    assert_null(cachet_attester_tsm_last(a)->auxblob);
    cachet_endorsements *e = cachet_endorsements_new();
    char *coll = tu_vector_path("tdx/b0c06f_v4_dcapqvl_2025-06/collateral.json");
    assert_int_equal(cachet_endorsements_add_path(e, coll), CACHET_OK);
    cachet_verify_request req = {.evidence = ev, .evidence_len = len, .endorsements = e,
                                 .nonce = quote + TDX_REPORTDATA_OFF, .nonce_len = 64};
    assert_int_equal(cachet_time_parse_rfc3339("2025-07-19T10:00:00Z", &req.time), CACHET_OK);
    cachet_verify_result *res = NULL;
    assert_int_equal(cachet_evidence_verify(&req, &res), CACHET_OK);
    assert_string_equal(res->tee, "tdx");
    assert_true(res->verified);
    cachet_verify_result_free(res);
    cachet_endorsements_free(e);
    free(coll);
    free(ev);
    cachet_attester_free(a);
    fake_tsm_free(f);
    free(quote);
}

/* collect(): the fake sees REPORT_DATA = SHA-384(JCS(runtime data)) || 0^16. */
static void test_collect_binds_nonce_and_key(void **state)
{
    (void)state;
    uint8_t blob[SNP_REPORT_LEN] = {2};
    fake_tsm_cfg cfg = {.provider = "sev_guest", .outblob = blob, .outblob_len = sizeof blob,
                        .requests = 2};
    fake_tsm *f = fake_tsm_new(&cfg);
    cachet_tsm_opts o = opts_for(f);
    cachet_attester *a = NULL;
    assert_int_equal(cachet_attester_tsm_new(&o, &a), CACHET_OK);
    cachet_pkey *wk = NULL;
    assert_int_equal(cachet_pkey_generate_ec(CACHET_CURVE_P256, &wk), CACHET_OK);
    uint8_t *spki = NULL;
    size_t spki_len = 0;
    assert_int_equal(cachet_pkey_spki_der(wk, &spki, &spki_len), CACHET_OK);
    uint8_t nonce[32];
    memset(nonce, 0x5a, sizeof nonce);
    cachet_attest_request rq = {.nonce = nonce, .nonce_len = sizeof nonce, .public_key = spki,
                                .public_key_len = spki_len};
    uint8_t *ev = NULL;
    size_t len = 0;
    assert_int_equal(cachet_attester_collect(a, &rq, &ev, &len), CACHET_OK);
    free(ev);
    /* a second request on the same directory: generation 2 */
    assert_int_equal(cachet_attester_collect(a, &rq, &ev, &len), CACHET_OK);
    free(ev);
    fake_tsm_join(f);
    assert_int_equal(fake_tsm_served(f), 2);
    assert_int_equal(cachet_attester_tsm_last(a)->generation, 2);

    char *text = cachet_runtime_data_nonce_text(nonce, sizeof nonce);
    cachet_runtime_data_params p = {.nonce = text, .tee_pubkey = wk};
    json_t *rd = NULL;
    uint8_t want[64];
    assert_int_equal(cachet_runtime_data_build(&p, &rd), CACHET_OK);
    assert_int_equal(cachet_runtime_data_report_data(rd, want), CACHET_OK);
    size_t in_len = 0;
    const uint8_t *in = fake_tsm_inblob(f, &in_len);
    assert_int_equal(in_len, 64);
    assert_memory_equal(in, want, 64);
    /* without a nonce there is nothing to bind */
    cachet_attest_request none = {0};
    assert_int_not_equal(cachet_attester_collect(a, &none, &ev, &len), CACHET_OK);
    json_decref(rd);
    free(text);
    free(spki);
    cachet_pkey_free(wk);
    cachet_attester_free(a);
    fake_tsm_free(f);
}

static void test_generation_race_detected(void **state)
{
    (void)state;
    uint8_t blob[SNP_REPORT_LEN] = {2};
    fake_tsm_cfg cfg = {.provider = "sev_guest", .outblob = blob, .outblob_len = sizeof blob,
                        .racing_writes = 1};
    fake_tsm *f = fake_tsm_new(&cfg);
    cachet_tsm_opts o = opts_for(f);
    cachet_attester *a = NULL;
    assert_int_equal(cachet_attester_tsm_new(&o, &a), CACHET_OK);
    uint8_t rd[64] = {1};
    uint8_t *ev = NULL;
    size_t len = 0;
    cachet_rc rc = cachet_attester_collect_bound(a, rd, NULL, 0, &ev, &len);
    assert_int_equal(cachet_rc_code(rc), CACHET_E_STATE);
    assert_non_null(strstr(cachet_err_detail(), "generation"));
    assert_null(ev);
    assert_null(cachet_attester_tsm_last(a));
    cachet_attester_free(a);
    fake_tsm_free(f);
}

static void test_providers_and_absence(void **state)
{
    (void)state;
    uint8_t blob[16] = {0};
    fake_tsm_cfg cfg = {.provider = "sev_guest", .outblob = blob, .outblob_len = sizeof blob,
                        .timeout_ms = 100};
    fake_tsm *f = fake_tsm_new(&cfg);
    cachet_tsm_opts o = opts_for(f);
    o.provider = "tdx_guest";
    cachet_attester *a = NULL;
    assert_int_equal(cachet_rc_code(cachet_attester_tsm_new(&o, &a)), CACHET_E_NOT_FOUND);
    assert_null(a);
    fake_tsm_free(f);

    cfg.provider = "arm_cca_guest";
    f = fake_tsm_new(&cfg);
    o = opts_for(f);
    assert_int_equal(cachet_rc_code(cachet_attester_tsm_new(&o, &a)), CACHET_E_UNSUPPORTED);
    fake_tsm_free(f);

    cachet_tsm_opts missing = {.root = "/nonexistent/tsm/report", .privlevel = -1};
    assert_int_equal(cachet_rc_code(cachet_attester_tsm_new(&missing, &a)), CACHET_E_NOT_FOUND);
    cachet_tsm_opts bad_level = {.root = root, .privlevel = 4};
    assert_int_not_equal(cachet_attester_tsm_new(&bad_level, &a), CACHET_OK);

    /* an empty outblob is an error, not empty evidence */
    cfg.provider = "sev_guest";
    cfg.outblob_len = 0;
    f = fake_tsm_new(&cfg);
    o = opts_for(f);
    assert_int_equal(cachet_attester_tsm_new(&o, &a), CACHET_OK);
    uint8_t rd[64] = {0};
    uint8_t *ev = NULL;
    size_t len = 0;
    assert_int_not_equal(cachet_attester_collect_bound(a, rd, NULL, 0, &ev, &len), CACHET_OK);
    assert_null(ev);
    cachet_attester_free(a);
    fake_tsm_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snp_round_trip_real_report),
        cmocka_unit_test(test_tdx_quote_real),
        cmocka_unit_test(test_collect_binds_nonce_and_key),
        cmocka_unit_test(test_generation_race_detected),
        cmocka_unit_test(test_providers_and_absence),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
