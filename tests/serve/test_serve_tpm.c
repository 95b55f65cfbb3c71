/* cachet serve on a real (software) TPM: the TPM's AK is enrolled under the
 * owner's AK CA; serve measures the sealed model's content digest into PCR
 * 15 with an event-log entry, gets the model key from a broker whose policy
 * names tee tpm, and answers attested clients with TPM quotes (extraData =
 * the 48-byte runtime-data digest).  The attested client, with the AK CA as
 * its trust anchor, admits the server under a policy pinning the model
 * digest (user_data) and the PCR it was measured into, sees the digest in
 * the replayed event log, and refuses the server without the AK CA.
 * Skipped with a message when swtpm is absent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cachet/appraisal.h"
#include "cachet/chat.h"
#include "cachet/encoding.h"
#include "serve_fixture.h"
#include "testutil.h"
#include "tpm_world.h"

static struct {
    tpm_world w;
    kbs_fix fix;
    cachet_attester *a;
    char *sealed;
    cachet_serve *s;
    char url[64];
    char digest_hex[65];
    char pcr_hex[65]; /* PCR 15 after serve's measurement */
    char event[96];
} G;

#define BROKER_POLICY                                                                       \
    "{\"id\":\"tpm\",\"rules\":[{\"name\":\"tpm\",\"tee\":[\"tpm\"],"                       \
    "\"status\":[\"affirming\",\"warning\"],\"any_workload\":true}]}"
#define BROKER_RPOLICY                                                                      \
    "{\"version\":1,\"grants\":[{\"resources\":[\"default/model-key/*\"],"                  \
    "\"rules\":[\"tpm\"],\"status\":[\"affirming\",\"warning\"]}]}"

static int setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    tpm_world_setup(&G.w, 1);
    if (G.w.skip)
        return 0;
    if (tpm_world_enroll(&G.w, 0, CACHET_TPM_AK_RSA) != CACHET_OK) {
        print_message("# enroll: %s\n", cachet_err_detail());
        G.w.skip = "enrollment failed";
        return 0;
    }
    kbs_fix_setup(&G.fix, true);
    cachet_kbs_store *st = NULL;
    assert_int_equal(cachet_kbs_store_open(G.fix.db, G.fix.kek, &st), CACHET_OK);
    assert_int_equal(cachet_kbs_store_set_policy(st, "attestation", BROKER_POLICY), CACHET_OK);
    assert_int_equal(cachet_kbs_store_set_policy(st, "resource", BROKER_RPOLICY), CACHET_OK);
    cachet_kbs_store_close(st);
    G.fix.anchors = &G.w.akca;
    G.fix.n_anchors = 1;
    kbs_fix_start(&G.fix, 0);
    G.sealed = sv_make_sealed(G.fix.dir, "tiny");
    cachet_tpm_opts to = {.tcti = G.w.tpm[0].tcti, .ak_cert_path = G.w.ak_cert_path[0]};
    assert_int_equal(cachet_attester_tpm_new(&to, &G.a), CACHET_OK);
    cachet_serve_opts o = {
        .listen = "127.0.0.1:0",
        .model_path = G.sealed,
        .kbs_url = G.fix.url,
        .attester = G.a,
        .threads = 1,
        .n_ctx = 256,
    };
    cachet_rc rc = cachet_serve_start(&o, &G.s);
    if (rc != CACHET_OK)
        print_message("# serve start: %s\n", cachet_err_detail());
    assert_int_equal(rc, CACHET_OK);
    snprintf(G.url, sizeof G.url, "https://127.0.0.1:%u", cachet_serve_port(G.s));
    const char *d = cachet_serve_model_digest(G.s);
    assert_int_equal(strncmp(d, "sha256:", 7), 0);
    snprintf(G.digest_hex, sizeof G.digest_hex, "%s", d + 7);
    /* what serve measured: PCR 15 = H(0^32 || H("cachet-model sha256:<hex>")) */
    snprintf(G.event, sizeof G.event, "cachet-model %s", d);
    uint8_t buf[64] = {0}, pcr[32];
    assert_int_equal(cachet_sha256(G.event, strlen(G.event), buf + 32), CACHET_OK);
    assert_int_equal(cachet_sha256(buf, sizeof buf, pcr), CACHET_OK);
    cachet_hex_encode(pcr, sizeof pcr, G.pcr_hex);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cachet_serve_stop(G.s);
    cachet_attester_free(G.a);
    free(G.sealed);
    if (G.fix.dir)
        kbs_fix_teardown(&G.fix);
    tpm_world_teardown(&G.w);
    curl_global_cleanup();
    return 0;
}

static char *policy_text(const char *digest_hex, const char *pcr_hex)
{
    return tu_asprintf("{\"id\":\"client\",\"rules\":[{\"name\":\"tpm-model\",\"tee\":[\"tpm\"],"
                       "\"status\":[\"affirming\",\"warning\"],\"pcr\":{\"15\":[\"%s\"]},"
                       "\"claims\":{\"user_data\":[\"%s\"]}}]}",
                       pcr_hex, digest_hex);
}

static cachet_rc connect_with(const char *digest_hex, const char *pcr_hex, bool trusted,
                              cachet_atls **s, cachet_atls_report *rep)
{
    char *text = policy_text(digest_hex, pcr_hex);
    cachet_policy *p = NULL;
    assert_int_equal(cachet_policy_parse(text, strlen(text), &p), CACHET_OK);
    free(text);
    cachet_atls_opts o = {.policy = p, .trust_anchors = trusted ? &G.w.akca : NULL,
                          .n_trust_anchors = trusted ? 1 : 0};
    memset(rep, 0, sizeof *rep);
    cachet_rc rc = cachet_atls_connect(G.url, &o, s, rep);
    cachet_policy_free(p);
    return rc;
}

/* The replayed log's event on PCR 15 carries the model digest, verified. */
static void assert_model_event(const cachet_verify_result *r)
{
    const json_t *evs = json_object_get(json_object_get(r->claims, "event_log"), "events");
    assert_true(json_is_array(evs));
    size_t i;
    const json_t *e;
    bool found = false;
    json_array_foreach(evs, i, e) {
        if (json_integer_value(json_object_get(e, "pcr")) != 15)
            continue;
        const char *b64 = json_string_value(json_object_get(e, "data"));
        uint8_t *data = NULL;
        size_t n = 0;
        assert_int_equal(cachet_base64_decode(b64, strlen(b64), &data, &n), CACHET_OK);
        if (n == strlen(G.event) && memcmp(data, G.event, n) == 0) {
            assert_true(json_is_true(json_object_get(e, "verified")));
            found = true;
        }
        free(data);
    }
    assert_true(found);
}

static void test_admitted_with_model_pinned(void **state)
{
    (void)state;
    TPM_WORLD_REQUIRE(&G.w);
    cachet_atls *s = NULL;
    cachet_atls_report rep;
    cachet_rc rc = connect_with(G.digest_hex, G.pcr_hex, true, &s, &rep);
    if (rc != CACHET_OK)
        print_message("# refused: %s\n", rep.why);
    assert_int_equal(rc, CACHET_OK);
    assert_true(rep.verified && rep.key_bound && rep.nonce_matched && rep.admitted);
    assert_string_equal(rep.tee, "tpm");
    assert_string_equal(rep.rule, "tpm-model");
    assert_string_equal(rep.model_digest, cachet_serve_model_digest(G.s));
    /* the model digest is in PCR 15 and in the event log */
    assert_string_equal(json_string_value(json_object_get(rep.result->claims, "pcr15")),
                        G.pcr_hex);
    assert_model_event(rep.result);
    assert_string_equal(json_string_value(json_object_get(rep.result->claims, "ak_trust")),
                        "certificate");
    cachet_atls_report_free(&rep);
    cachet_chat_message m[] = {{"user", "Hello"}};
    cachet_chat_request rq = {.max_tokens = 4, .temperature = 0, .seed = -1};
    char *answer = NULL;
    const char *finish = NULL;
    assert_int_equal(cachet_atls_chat(s, m, 1, &rq, NULL, NULL, &answer, &finish), CACHET_OK);
    assert_non_null(answer);
    free(answer);
    cachet_atls_free(s);
}

static void test_refused_other_model_pcr(void **state)
{
    (void)state;
    TPM_WORLD_REQUIRE(&G.w);
    char zeros[65];
    memset(zeros, '0', 64);
    zeros[64] = 0;
    cachet_atls *s = NULL;
    cachet_atls_report rep;
    /* the right user_data, another PCR 15 */
    assert_int_not_equal(connect_with(G.digest_hex, zeros, true, &s, &rep), CACHET_OK);
    assert_null(s);
    assert_true(rep.verified);
    assert_false(rep.admitted);
    assert_non_null(strstr(rep.why, "pcr"));
    cachet_atls_report_free(&rep);
    /* without the AK CA the quote is not trusted */
    assert_int_not_equal(connect_with(G.digest_hex, G.pcr_hex, false, &s, &rep), CACHET_OK);
    assert_false(rep.verified);
    assert_non_null(strstr(rep.why, "evidence"));
    cachet_atls_report_free(&rep);
}

static void test_cli_chat(void **state)
{
    (void)state;
    TPM_WORLD_REQUIRE(&G.w);
    char *pol = tu_asprintf("%s/client-policy.json", G.fix.dir);
    char *text = policy_text(G.digest_hex, G.pcr_hex);
    tu_write_file(pol, text, strlen(text));
    char *out = NULL, *err = NULL;
    int rc = tu_run_cachet_in(NULL, &out, &err,
                              "chat --url %s --policy %s --trust-anchor %s --max-tokens 4 "
                              "--temperature 0 'Hello there'",
                              G.url, pol, G.w.akca_path);
    if (rc != 0)
        print_message("# %s\n", err);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(err, "admitted by rule tpm-model"));
    free(out);
    free(err);
    free(text);
    free(pol);
}

/* A restart on the same TPM boot: the first start's event log, kept in a
 * file (--tpm-event-log), is continued by the next start, so the quote's
 * PCR 15 (now extended twice) still replays; and the file is rewritten. */
static void test_restart_continues_event_log(void **state)
{
    (void)state;
    TPM_WORLD_REQUIRE(&G.w);
    char *logf = tu_asprintf("%s/serve-eventlog.bin", G.fix.dir);
    uint8_t *log = NULL;
    size_t len1 = 0;
    /* what the first start would have written */
    assert_int_equal(cachet_tpm_event_log(cachet_attester_tpm_handle(G.a), &log, &len1),
                     CACHET_OK);
    tu_write_file(logf, log, len1);
    free(log);
    cachet_serve_stop(G.s);
    G.s = NULL;
    cachet_attester_free(G.a);
    cachet_tpm_opts to = {.tcti = G.w.tpm[0].tcti, .ak_cert_path = G.w.ak_cert_path[0],
                          .event_log_path = logf};
    assert_int_equal(cachet_attester_tpm_new(&to, &G.a), CACHET_OK);
    cachet_serve_opts o = {.listen = "127.0.0.1:0", .model_path = G.sealed,
                           .kbs_url = G.fix.url, .attester = G.a, .threads = 1, .n_ctx = 256,
                           .tpm_event_log = logf};
    cachet_rc rc = cachet_serve_start(&o, &G.s);
    if (rc != CACHET_OK)
        print_message("# serve restart: %s\n", cachet_err_detail());
    assert_int_equal(rc, CACHET_OK);
    snprintf(G.url, sizeof G.url, "https://127.0.0.1:%u", cachet_serve_port(G.s));
    size_t len2 = 0;
    uint8_t *again = tu_read_file(logf, &len2);
    assert_true(len2 > len1);
    free(again);
    /* PCR 15 = H(previous || H(event)) */
    uint8_t buf[64], pcr[32];
    assert_int_equal(cachet_hex_decode(G.pcr_hex, buf, 32, NULL), CACHET_OK);
    assert_int_equal(cachet_sha256(G.event, strlen(G.event), buf + 32), CACHET_OK);
    assert_int_equal(cachet_sha256(buf, sizeof buf, pcr), CACHET_OK);
    char twice[65];
    cachet_hex_encode(pcr, sizeof pcr, twice);
    cachet_atls *s = NULL;
    cachet_atls_report rep;
    rc = connect_with(G.digest_hex, twice, true, &s, &rep);
    if (rc != CACHET_OK)
        print_message("# refused: %s\n", rep.why);
    assert_int_equal(rc, CACHET_OK);
    assert_true(rep.verified && rep.admitted);
    cachet_atls_report_free(&rep);
    cachet_atls_free(s);
    free(logf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_admitted_with_model_pinned),
        cmocka_unit_test(test_refused_other_model_pcr),
        cmocka_unit_test(test_cli_chat),
        cmocka_unit_test(test_restart_continues_event_log), /* last: extends PCR 15 again */
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
