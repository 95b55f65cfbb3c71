/* The whole story on loopback, through the library: a real broker releases
 * the model key to `cachet serve`'s sample evidence, the server loads the
 * generated model, and the attested client (cachet_atls_connect) verifies
 * the server's fresh evidence, its TLS key and its model before it sends a
 * chat; and the client refuses a server its policy does not admit. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cachet/appraisal.h"
#include "cachet/chat.h"
#include "serve_fixture.h"
#include "testutil.h"

typedef struct world {
    kbs_fix fix;
    char *sealed;
    cachet_serve *s;
    char url[64];
    char digest_hex[65];
} world;

static world W;

static int setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    kbs_fix_setup(&W.fix, false);
    kbs_fix_start(&W.fix, 0);
    W.sealed = sv_make_sealed(W.fix.dir, "tiny");
    cachet_serve_opts o = {
        .listen = "127.0.0.1:0",
        .model_path = W.sealed,
        .kbs_url = W.fix.url,
        .attester = W.fix.attester,
        .threads = 1,
        .n_ctx = 256,
    };
    cachet_rc rc = cachet_serve_start(&o, &W.s);
    if (rc != CACHET_OK)
        print_message("# serve start: %s\n", cachet_err_detail());
    assert_int_equal(rc, CACHET_OK);
    snprintf(W.url, sizeof W.url, "https://127.0.0.1:%u", cachet_serve_port(W.s));
    const char *d = cachet_serve_model_digest(W.s);
    assert_int_equal(strncmp(d, "sha256:", 7), 0);
    snprintf(W.digest_hex, sizeof W.digest_hex, "%s", d + 7);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cachet_serve_stop(W.s);
    free(W.sealed);
    kbs_fix_teardown(&W.fix);
    curl_global_cleanup();
    return 0;
}

/* A client policy for the sample workload, pinning this model digest. */
static cachet_policy *policy_for(const char *digest_hex)
{
    char *text = tu_asprintf("{\"id\":\"client\",\"rules\":[{\"name\":\"tiny\",\"tee\":[\"sample\"],"
                             "\"status\":[\"affirming\",\"warning\"],"
                             "\"claims\":{\"user_data\":[\"%s\"]}}]}",
                             digest_hex);
    cachet_policy *p = NULL;
    assert_int_equal(cachet_policy_parse(text, strlen(text), &p), CACHET_OK);
    free(text);
    return p;
}

static cachet_rc connect_with(const cachet_policy *p, bool trusted, cachet_atls **s,
                              cachet_atls_report *rep)
{
    cachet_pkey *keys[1] = {W.fix.trust};
    cachet_atls_opts o = {.policy = p, .trust_keys = trusted ? keys : NULL,
                          .n_trust_keys = trusted ? 1 : 0};
    memset(rep, 0, sizeof *rep);
    return cachet_atls_connect(W.url, &o, s, rep);
}

typedef struct collected {
    char text[4096];
    size_t n;
    int calls;
} collected;

static bool collect(void *arg, const char *t, size_t len)
{
    collected *c = arg;
    if (len < sizeof c->text - c->n) {
        memcpy(c->text + c->n, t, len);
        c->n += len;
        c->text[c->n] = 0;
    }
    c->calls++;
    return true;
}

static void test_verified_chat(void **state)
{
    (void)state;
    cachet_policy *p = policy_for(W.digest_hex);
    cachet_atls *s = NULL;
    cachet_atls_report rep;
    cachet_rc rc = connect_with(p, true, &s, &rep);
    if (rc != CACHET_OK)
        print_message("# refused: %s\n", rep.why);
    assert_int_equal(rc, CACHET_OK);
    assert_true(rep.verified && rep.key_bound && rep.nonce_matched && rep.admitted);
    assert_string_equal(rep.tee, "sample");
    assert_string_equal(rep.rule, "tiny");
    assert_string_equal(rep.model_digest, cachet_serve_model_digest(W.s));
    assert_string_equal(rep.tls_spki_sha256, cachet_serve_tls_spki_sha256(W.s));
    cachet_atls_report_free(&rep);

    cachet_chat_message m[] = {{"user", "What does confidential computing protect?"}};
    cachet_chat_request rq = {.max_tokens = 12, .temperature = 0, .seed = -1};
    char *whole = NULL, *streamed = NULL;
    const char *finish = NULL;
    collected c = {0};
    assert_int_equal(cachet_atls_chat(s, m, 1, &rq, NULL, NULL, &whole, &finish), CACHET_OK);
    assert_non_null(whole);
    assert_true(strlen(whole) > 0);
    assert_string_equal(finish, "length");
    rq.stream = true;
    assert_int_equal(cachet_atls_chat(s, m, 1, &rq, collect, &c, &streamed, &finish), CACHET_OK);
    /* greedy: the streamed deltas make up exactly the non-streamed answer */
    assert_string_equal(streamed, whole);
    assert_string_equal(c.text, whole);
    assert_true(c.calls > 1);
    free(whole);
    free(streamed);
    cachet_atls_free(s);
    cachet_policy_free(p);
}

static void test_refused_other_model(void **state)
{
    (void)state;
    cachet_policy *p = policy_for("00000000000000000000000000000000000000000000000000000000000000"
                                  "00");
    cachet_atls *s = (cachet_atls *)&W; /* must be reset to NULL */
    cachet_atls_report rep;
    cachet_rc rc = connect_with(p, true, &s, &rep);
    assert_int_not_equal(rc, CACHET_OK);
    assert_null(s);
    assert_true(rep.verified && rep.key_bound && rep.nonce_matched);
    assert_false(rep.admitted);
    assert_non_null(strstr(rep.why, "user_data"));
    cachet_atls_report_free(&rep);
    cachet_policy_free(p);
}

static void test_refused_untrusted_evidence(void **state)
{
    (void)state;
    cachet_policy *p = policy_for(W.digest_hex);
    cachet_atls *s = NULL;
    cachet_atls_report rep;
    cachet_rc rc = connect_with(p, false, &s, &rep);
    assert_int_not_equal(rc, CACHET_OK);
    assert_null(s);
    assert_false(rep.verified);
    assert_non_null(strstr(rep.why, "evidence"));
    cachet_atls_report_free(&rep);
    cachet_policy_free(p);
}

/* Several clients at once, each verifying and chatting on its own session. */
static void *client_worker(void *arg)
{
    int *ok = arg;
    cachet_policy *p = policy_for(W.digest_hex);
    cachet_atls *s = NULL;
    cachet_atls_report rep;
    if (connect_with(p, true, &s, &rep) == CACHET_OK) {
        cachet_chat_message m[] = {{"user", "Hello"}};
        cachet_chat_request rq = {.max_tokens = 6, .temperature = 0, .seed = -1, .stream = true};
        char *a = NULL;
        const char *fin = NULL;
        *ok = cachet_atls_chat(s, m, 1, &rq, NULL, NULL, &a, &fin) == CACHET_OK && a && a[0];
        free(a);
        cachet_atls_free(s);
    }
    cachet_atls_report_free(&rep);
    cachet_policy_free(p);
    return NULL;
}

static void test_concurrent_clients(void **state)
{
    (void)state;
    enum { N = 3 };
    pthread_t t[N];
    int ok[N] = {0};
    for (int i = 0; i < N; i++)
        assert_int_equal(pthread_create(&t[i], NULL, client_worker, &ok[i]), 0);
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        assert_true(ok[i]);
    }
}

/* The CLI end to end: `cachet chat` verifies, then prints the answer;
 * with a policy for another model it exits 1, naming the check. */
static void test_cli_chat(void **state)
{
    (void)state;
    char *pol = tu_asprintf("%s/client-policy.json", W.fix.dir);
    char *bad = tu_asprintf("%s/other-policy.json", W.fix.dir);
    char *good_text = tu_asprintf("{\"rules\":[{\"name\":\"tiny\",\"tee\":[\"sample\"],"
                                  "\"status\":[\"affirming\",\"warning\"],"
                                  "\"claims\":{\"user_data\":[\"%s\"]}}]}",
                                  W.digest_hex);
    char *bad_text = tu_asprintf("{\"rules\":[{\"name\":\"tiny\",\"tee\":[\"sample\"],"
                                 "\"status\":[\"affirming\",\"warning\"],"
                                 "\"claims\":{\"user_data\":[\"%064d\"]}}]}",
                                 0);
    tu_write_file(pol, good_text, strlen(good_text));
    tu_write_file(bad, bad_text, strlen(bad_text));
    char *out = NULL, *err = NULL;
    int rc = tu_run_cachet_in(NULL, &out, &err,
                              "chat --url %s --policy %s --trust-anchor %s --max-tokens 8 "
                              "--temperature 0 'Hello there'",
                              W.url, pol, W.fix.sample_key);
    if (rc != 0)
        print_message("# %s\n", err);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(err, "admitted by rule tiny"));
    assert_true(strlen(out) > 0);
    free(out);
    free(err);
    rc = tu_run_cachet_in(NULL, &out, &err,
                          "chat --url %s --policy %s --trust-anchor %s 'must not be sent'", W.url,
                          bad, W.fix.sample_key);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(err, "refused"));
    assert_non_null(strstr(err, "user_data"));
    assert_string_equal(out, "");
    free(out);
    free(err);
    free(good_text);
    free(bad_text);
    free(pol);
    free(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verified_chat),
        cmocka_unit_test(test_refused_other_model),
        cmocka_unit_test(test_refused_untrusted_evidence),
        cmocka_unit_test(test_concurrent_clients),
        cmocka_unit_test(test_cli_chat),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
