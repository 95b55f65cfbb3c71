/* cachet serve end to end: a real broker on loopback, a generated model
 * sealed under the broker's key, the real server on loopback over HTTPS. */
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cbor.h>
#include <curl/curl.h>

#include "cachet/encoding.h"
#include "cachet/evidence.h"
#include "cachet/kbs.h"
#include "cachet/runtime_data.h"
#include "cachet/seal.h"
#include "serve_fixture.h"
#include "testutil.h"

#define API_KEY "test-api-key-1"

typedef struct world {
    kbs_fix fix;
    char *sealed;
    cachet_serve *s;
    unsigned port;
} world;

static world W;

static cachet_serve_opts base_opts(const char *sealed, cachet_attester *a, const char *url)
{
    cachet_serve_opts o = {
        .listen = "127.0.0.1:0",
        .model_path = sealed,
        .kbs_url = url,
        .attester = a,
        .threads = 1,
        .n_ctx = 256,
        .max_body = 64 << 10,
    };
    return o;
}

static int setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    kbs_fix_setup(&W.fix, false);
    kbs_fix_start(&W.fix, 0);
    W.sealed = sv_make_sealed(W.fix.dir, "tiny");
    cachet_serve_opts o = base_opts(W.sealed, W.fix.attester, W.fix.url);
    o.api_key = API_KEY;
    cachet_rc rc = cachet_serve_start(&o, &W.s);
    if (rc != CACHET_OK)
        print_message("# serve start: %s\n", cachet_err_detail());
    assert_int_equal(rc, CACHET_OK);
    W.port = cachet_serve_port(W.s);
    assert_true(W.port != 0);
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

static void get(const char *path, sv_resp *r)
{
    sv_http(W.port, "GET", path, NULL, API_KEY, false, r);
}

static void post(const char *path, const char *body, sv_resp *r)
{
    sv_http(W.port, "POST", path, body, API_KEY, false, r);
}

/* ---- the OpenAI surface ---------------------------------------------------- */

static void test_start_facts(void **state)
{
    (void)state;
    const char *d = cachet_serve_model_digest(W.s);
    assert_non_null(d);
    assert_int_equal(strncmp(d, "sha256:", 7), 0);
    assert_int_equal(strlen(d), 71);
    assert_string_equal(cachet_serve_model_id(W.s), "tiny");
    assert_int_equal(strlen(cachet_serve_tls_spki_sha256(W.s)), 64);
    const cachet_serve_timings *t = cachet_serve_timings_get(W.s);
    assert_true(t->attest_release > 0 && t->unseal > 0 && t->load > 0);
}

static void test_models(void **state)
{
    (void)state;
    sv_resp r;
    get("/v1/models", &r);
    assert_int_equal(r.status, 200);
    json_t *j = sv_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "object")), "list");
    json_t *m = json_array_get(json_object_get(j, "data"), 0);
    assert_string_equal(json_string_value(json_object_get(m, "id")), "tiny");
    assert_string_equal(json_string_value(json_object_get(m, "owned_by")), "cachet");
    json_decref(j);
    sv_resp_clear(&r);
    get("/v1/models/tiny", &r);
    assert_int_equal(r.status, 200);
    sv_resp_clear(&r);
    get("/v1/models/other", &r);
    assert_int_equal(r.status, 404);
    sv_resp_clear(&r);
    get("/health", &r);
    assert_int_equal(r.status, 200);
    sv_resp_clear(&r);
    get("/nope", &r);
    assert_int_equal(r.status, 404);
    j = sv_json(&r);
    assert_non_null(json_object_get(json_object_get(j, "error"), "message"));
    json_decref(j);
    sv_resp_clear(&r);
}

static void test_api_key(void **state)
{
    (void)state;
    sv_resp r;
    sv_http(W.port, "GET", "/v1/models", NULL, NULL, false, &r);
    assert_int_equal(r.status, 401);
    json_t *j = sv_json(&r);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "type")),
                        "authentication_error");
    json_decref(j);
    sv_resp_clear(&r);
    sv_http(W.port, "GET", "/v1/models", NULL, "wrong-key-00000", false, &r);
    assert_int_equal(r.status, 401);
    sv_resp_clear(&r);
}

#define CHAT_REQ(stream)                                                                    \
    "{\"model\":\"tiny\",\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"     \
    "{\"role\":\"user\",\"content\":\"Hello there\"}],\"temperature\":0,\"seed\":42,"       \
    "\"max_tokens\":12" stream "}"

static char *chat_answer(void)
{
    sv_resp r;
    post("/v1/chat/completions", CHAT_REQ(""), &r);
    if (r.status != 200)
        print_message("# %s\n", r.body);
    assert_int_equal(r.status, 200);
    json_t *j = sv_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "object")), "chat.completion");
    assert_int_equal(strncmp(json_string_value(json_object_get(j, "id")), "chatcmpl-", 9), 0);
    json_t *c = json_array_get(json_object_get(j, "choices"), 0);
    json_t *msg = json_object_get(c, "message");
    assert_string_equal(json_string_value(json_object_get(msg, "role")), "assistant");
    const char *fr = json_string_value(json_object_get(c, "finish_reason"));
    assert_true(strcmp(fr, "stop") == 0 || strcmp(fr, "length") == 0);
    json_t *u = json_object_get(j, "usage");
    assert_true(json_integer_value(json_object_get(u, "prompt_tokens")) > 0);
    assert_true(json_integer_value(json_object_get(u, "completion_tokens")) <= 12);
    assert_int_equal(json_integer_value(json_object_get(u, "total_tokens")),
                     json_integer_value(json_object_get(u, "prompt_tokens")) +
                         json_integer_value(json_object_get(u, "completion_tokens")));
    char *text = strdup(json_string_value(json_object_get(msg, "content")));
    json_decref(j);
    sv_resp_clear(&r);
    return text;
}

/* Parse an SSE body: the concatenated deltas; checks the framing. */
static char *sse_collect(const char *body, bool chat, bool *saw_role, const char **finish_out,
                         bool *saw_usage)
{
    char *text = calloc(1, 1);
    size_t tl = 0;
    bool done = false;
    static char finish[16];
    finish[0] = 0;
    *saw_role = *saw_usage = false;
    const char *p = body;
    while (*p) {
        assert_false(done); /* nothing after [DONE] */
        assert_int_equal(strncmp(p, "data: ", 6), 0);
        const char *end = strstr(p, "\n\n");
        assert_non_null(end);
        size_t n = (size_t)(end - p - 6);
        if (n == 6 && strncmp(p + 6, "[DONE]", 6) == 0) {
            done = true;
        } else {
            json_t *j = json_loadb(p + 6, n, 0, NULL);
            assert_non_null(j);
            assert_string_equal(json_string_value(json_object_get(j, "object")),
                                chat ? "chat.completion.chunk" : "text_completion");
            json_t *choices = json_object_get(j, "choices");
            if (json_array_size(choices) == 0) {
                assert_non_null(json_object_get(j, "usage"));
                *saw_usage = true;
            } else {
                json_t *c = json_array_get(choices, 0);
                const char *piece;
                if (chat) {
                    json_t *d = json_object_get(c, "delta");
                    if (json_object_get(d, "role"))
                        *saw_role = true;
                    piece = json_string_value(json_object_get(d, "content"));
                } else {
                    piece = json_string_value(json_object_get(c, "text"));
                }
                if (piece) {
                    size_t pl = strlen(piece);
                    text = realloc(text, tl + pl + 1);
                    memcpy(text + tl, piece, pl + 1);
                    tl += pl;
                }
                const char *f = json_string_value(json_object_get(c, "finish_reason"));
                if (f)
                    snprintf(finish, sizeof finish, "%s", f);
            }
            json_decref(j);
        }
        p = end + 2;
    }
    assert_true(done);
    *finish_out = finish;
    return text;
}

static void test_chat_stream_matches(void **state)
{
    (void)state;
    char *plain = chat_answer();
    char *again = chat_answer(); /* greedy: the same answer */
    assert_string_equal(plain, again);
    sv_resp r;
    post("/v1/chat/completions",
         CHAT_REQ(",\"stream\":true,\"stream_options\":{\"include_usage\":true}"), &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.ctype, "text/event-stream"));
    bool role, usage;
    const char *finish;
    char *streamed = sse_collect(r.body, true, &role, &finish, &usage);
    assert_true(role);
    assert_true(usage);
    assert_true(strcmp(finish, "stop") == 0 || strcmp(finish, "length") == 0);
    assert_string_equal(streamed, plain);
    print_message("# chat answer: %zu bytes\n", strlen(plain));
    free(streamed);
    free(plain);
    free(again);
    sv_resp_clear(&r);
}

static void test_completions(void **state)
{
    (void)state;
    const char *req = "{\"model\":\"tiny\",\"prompt\":\"Once upon a time\",\"temperature\":0,"
                      "\"max_tokens\":8,\"stop\":[\"zzzz\"]}";
    sv_resp r;
    post("/v1/completions", req, &r);
    assert_int_equal(r.status, 200);
    json_t *j = sv_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "object")), "text_completion");
    json_t *c = json_array_get(json_object_get(j, "choices"), 0);
    const char *text = json_string_value(json_object_get(c, "text"));
    assert_non_null(text);
    char *plain = strdup(text);
    assert_true(json_integer_value(json_object_get(json_object_get(j, "usage"),
                                                   "completion_tokens")) <= 8);
    json_decref(j);
    sv_resp_clear(&r);
    const char *sreq = "{\"model\":\"tiny\",\"prompt\":\"Once upon a time\",\"temperature\":0,"
                       "\"max_tokens\":8,\"stop\":[\"zzzz\"],\"stream\":true}";
    post("/v1/completions", sreq, &r);
    assert_int_equal(r.status, 200);
    bool role, usage;
    const char *finish;
    char *streamed = sse_collect(r.body, false, &role, &finish, &usage);
    assert_false(usage);
    assert_string_equal(streamed, plain);
    free(streamed);
    free(plain);
    sv_resp_clear(&r);
}

static void test_bad_requests(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        long status;
        const char *param;
    } cases[] = {
        {"not json", 400, NULL},
        {"{\"model\":\"tiny\"}", 400, "messages"},
        {"{\"model\":\"other\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 404,
         "model"},
        {"{\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}", 400, "messages"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"temperature\":3}", 400,
         "temperature"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"top_p\":0}", 400, "top_p"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":0}", 400,
         "max_tokens"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"n\":2}", 400, "n"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stop\":[\"a\",\"b\",\"c\","
         "\"d\",\"e\"]}",
         400, "stop"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sv_resp r;
        post("/v1/chat/completions", cases[i].body, &r);
        if (r.status != cases[i].status)
            print_message("# case %zu: %ld %s\n", i, r.status, r.body);
        assert_int_equal(r.status, cases[i].status);
        json_t *j = sv_json(&r);
        json_t *e = json_object_get(j, "error");
        assert_non_null(json_object_get(e, "message"));
        if (cases[i].param)
            assert_string_equal(json_string_value(json_object_get(e, "param")), cases[i].param);
        json_decref(j);
        sv_resp_clear(&r);
    }
}

static void test_prompt_too_long(void **state)
{
    (void)state;
    size_t n = 6000;
    char *prompt = malloc(n + 1);
    for (size_t i = 0; i < n; i += 6)
        memcpy(prompt + i, "hello ", 6);
    prompt[n] = 0;
    for (int stream = 0; stream < 2; stream++) {
        char *body = tu_asprintf("{\"prompt\":\"%s\",\"max_tokens\":4%s}", prompt,
                                 stream ? ",\"stream\":true" : "");
        sv_resp r;
        post("/v1/completions", body, &r);
        assert_int_equal(r.status, 400);
        json_t *j = sv_json(&r);
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(j, "error"), "code")),
            "context_length_exceeded");
        json_decref(j);
        sv_resp_clear(&r);
        free(body);
    }
    free(prompt);
}

static void test_body_too_large(void **state)
{
    (void)state;
    size_t n = (64 << 10) + 100;
    char *body = malloc(n + 1);
    memset(body, ' ', n);
    body[0] = '{';
    body[n - 1] = '}';
    body[n] = 0;
    sv_resp r;
    post("/v1/chat/completions", body, &r);
    assert_int_equal(r.status, 413);
    sv_resp_clear(&r);
    free(body);
}

typedef struct par_req {
    unsigned port;
    const char *body;
    sv_resp r;
} par_req;

static void *par_main(void *p)
{
    par_req *q = p;
    sv_http(q->port, "POST", "/v1/chat/completions", q->body, API_KEY, false, &q->r);
    return NULL;
}

static void test_two_concurrent(void **state)
{
    (void)state;
    char *plain = chat_answer();
    par_req q[2] = {{.port = W.port, .body = CHAT_REQ("")},
                    {.port = W.port, .body = CHAT_REQ(",\"stream\":true")}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, par_main, &q[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 2; i++)
        assert_int_equal(q[i].r.status, 200);
    json_t *j = sv_json(&q[0].r);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(json_object_get(j, "choices"), 0),
                                            "message"),
                            "content")),
                        plain);
    json_decref(j);
    bool role, usage;
    const char *finish;
    char *s = sse_collect(q[1].r.body, true, &role, &finish, &usage);
    assert_string_equal(s, plain);
    free(s);
    free(plain);
    for (int i = 0; i < 2; i++)
        sv_resp_clear(&q[i].r);
}

/* ---- attestation ----------------------------------------------------------- */

static cachet_x509 *served_cert(sv_resp *r)
{
    assert_non_null(r->cert_pem);
    cachet_x509 *x = NULL;
    assert_int_equal(cachet_x509_parse((const uint8_t *)r->cert_pem, strlen(r->cert_pem), &x),
                     CACHET_OK);
    return x;
}

static cachet_verify_result *verify(const uint8_t *ev, size_t len, const uint8_t *nonce,
                                    size_t nlen)
{
    cachet_pkey *keys[1] = {W.fix.trust};
    cachet_verify_request rq = {.evidence = ev, .evidence_len = len, .time = (int64_t)time(NULL),
                                .nonce = nonce, .nonce_len = nlen, .trust_keys = keys,
                                .n_trust_keys = 1};
    cachet_verify_result *res = NULL;
    assert_int_equal(cachet_evidence_verify(&rq, &res), CACHET_OK);
    if (!res->verified) {
        char *e = json_dumps(res->errors, 0);
        print_message("# not verified: %s\n", e);
        free(e);
    }
    assert_true(res->verified);
    assert_int_not_equal(res->status, CACHET_EV_CONTRAINDICATED);
    return res;
}

static void test_attestation(void **state)
{
    (void)state;
    uint8_t raw[32];
    char nonce[64];
    assert_int_equal(cachet_random(raw, sizeof raw), CACHET_OK);
    cachet_base64url_encode(raw, sizeof raw, nonce);
    char *path = tu_asprintf("/cachet/v1/attestation?nonce=%s", nonce);
    sv_resp r;
    /* no API key needed: a client attests before it sends its key */
    sv_http(W.port, "GET", path, NULL, NULL, true, &r);
    free(path);
    assert_int_equal(r.status, 200);
    json_t *doc = sv_json(&r);
    assert_string_equal(json_string_value(json_object_get(doc, "profile")),
                        "tag:cachet.dev,2026:atls/1");
    assert_string_equal(json_string_value(json_object_get(doc, "tee")), "sample");
    json_t *rd = json_object_get(doc, "runtime_data");
    assert_int_equal(cachet_runtime_data_check(rd), CACHET_OK);
    assert_string_equal(json_string_value(json_object_get(rd, "nonce")), nonce);
    assert_string_equal(json_string_value(json_object_get(rd, "additional-evidence")), "");
    /* tee-pubkey is the served certificate's key */
    cachet_x509 *cert = served_cert(&r);
    uint8_t cert_fp[32], jwk_fp[32];
    assert_int_equal(cachet_x509_spki_fingerprint(cert, cert_fp), CACHET_OK);
    cachet_pkey *k = NULL;
    assert_int_equal(cachet_jwk_to_pkey(json_object_get(rd, "tee-pubkey"), &k), CACHET_OK);
    uint8_t *spki;
    size_t spki_len;
    assert_int_equal(cachet_pkey_spki_der(k, &spki, &spki_len), CACHET_OK);
    assert_int_equal(cachet_sha256(spki, spki_len, jwk_fp), CACHET_OK);
    assert_memory_equal(cert_fp, jwk_fp, 32);
    char hex[65];
    cachet_hex_encode(cert_fp, 32, hex);
    assert_string_equal(hex, cachet_serve_tls_spki_sha256(W.s));
    free(spki);
    cachet_pkey_free(k);
    /* user-data is the model digest; the model object says the same */
    const char *ud = json_string_value(json_object_get(rd, "user-data"));
    uint8_t *udb;
    size_t udl;
    assert_int_equal(cachet_base64url_decode(ud, strlen(ud), &udb, &udl), CACHET_OK);
    assert_int_equal(udl, 32);
    char dstr[CACHET_SEAL_DIGEST_STR_LEN];
    cachet_seal_digest_format(udb, dstr);
    free(udb);
    assert_string_equal(dstr, cachet_serve_model_digest(W.s));
    json_t *model = json_object_get(doc, "model");
    assert_string_equal(json_string_value(json_object_get(model, "digest")), dstr);
    assert_string_equal(json_string_value(json_object_get(model, "id")), "tiny");
    /* the evidence verifies against SHA-384(JCS(runtime_data)) || 0^16 */
    uint8_t rdata[CACHET_REPORT_DATA_LEN];
    assert_int_equal(cachet_runtime_data_report_data(rd, rdata), CACHET_OK);
    const char *ev64 = json_string_value(json_object_get(doc, "evidence"));
    uint8_t *ev;
    size_t evl;
    assert_int_equal(cachet_base64url_decode(ev64, strlen(ev64), &ev, &evl), CACHET_OK);
    cachet_verify_result *res = verify(ev, evl, rdata, sizeof rdata);
    cachet_verify_result_free(res);
    /* another nonce does not verify */
    cachet_pkey *keys[1] = {W.fix.trust};
    uint8_t other[64] = {1};
    cachet_verify_request rq = {.evidence = ev, .evidence_len = evl, .time = (int64_t)time(NULL),
                                .nonce = other, .nonce_len = 64, .trust_keys = keys,
                                .n_trust_keys = 1};
    assert_int_equal(cachet_evidence_verify(&rq, &res), CACHET_OK);
    assert_true(!res->verified || res->status == CACHET_EV_CONTRAINDICATED);
    cachet_verify_result_free(res);
    free(ev);
    cachet_x509_free(cert);
    json_decref(doc);
    sv_resp_clear(&r);

    /* POST form */
    char *body = tu_asprintf("{\"nonce\":\"%s\"}", nonce);
    sv_http(W.port, "POST", "/cachet/v1/attestation", body, NULL, false, &r);
    free(body);
    assert_int_equal(r.status, 200);
    doc = sv_json(&r);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(doc, "runtime_data"), "nonce")), nonce);
    json_decref(doc);
    sv_resp_clear(&r);
    /* bad nonces */
    const char *bad[] = {"/cachet/v1/attestation", "/cachet/v1/attestation?nonce=short",
                         "/cachet/v1/attestation?nonce=AAAAAAAAAAAAAAAAAAAAAAAAAAAA%3D%3D",
                         "/cachet/v1/attestation?nonce=*AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        sv_http(W.port, "GET", bad[i], NULL, NULL, false, &r);
        assert_int_equal(r.status, 400);
        sv_resp_clear(&r);
    }
}

static void test_cert_extension(void **state)
{
    (void)state;
    sv_resp r;
    sv_http(W.port, "GET", "/health", NULL, NULL, true, &r);
    cachet_x509 *cert = served_cert(&r);
    char cn[64];
    assert_int_equal(cachet_x509_subject_cn(cert, cn, sizeof cn), CACHET_OK);
    assert_string_equal(cn, "cachet-serve");
    int64_t nb, na;
    assert_int_equal(cachet_x509_validity(cert, &nb, &na), CACHET_OK);
    assert_true(na - nb >= 7 * 86400 && na - nb <= 7 * 86400 + 120);
    const uint8_t *v;
    size_t vl;
    assert_int_equal(cachet_x509_extension(cert, "2.23.133.5.4.9", &v, &vl), CACHET_OK);
    /* tag 60000 [bstr evidence, bstr claims] */
    struct cbor_load_result lr;
    cbor_item_t *item = cbor_load(v, vl, &lr);
    assert_non_null(item);
    assert_int_equal(lr.read, vl);
    assert_true(cbor_isa_tag(item));
    assert_int_equal(cbor_tag_value(item), 60000);
    cbor_item_t *arr = cbor_tag_item(item);
    assert_true(cbor_isa_array(arr) && cbor_array_size(arr) == 2);
    cbor_item_t *ev = cbor_array_get(arr, 0), *cl = cbor_array_get(arr, 1);
    assert_true(cbor_isa_bytestring(ev) && cbor_isa_bytestring(cl));
    /* claims {"pubkey-hash": bstr([1, bstr SHA-256(SPKI)])} */
    cbor_item_t *claims = cbor_load(cbor_bytestring_handle(cl), cbor_bytestring_length(cl), &lr);
    assert_non_null(claims);
    assert_true(cbor_isa_map(claims) && cbor_map_size(claims) == 1);
    struct cbor_pair *pr = cbor_map_handle(claims);
    assert_int_equal(cbor_string_length(pr[0].key), 11);
    assert_memory_equal(cbor_string_handle(pr[0].key), "pubkey-hash", 11);
    cbor_item_t *he = cbor_load(cbor_bytestring_handle(pr[0].value),
                                cbor_bytestring_length(pr[0].value), &lr);
    assert_non_null(he);
    assert_true(cbor_isa_array(he) && cbor_array_size(he) == 2);
    cbor_item_t *alg = cbor_array_get(he, 0), *h = cbor_array_get(he, 1);
    assert_int_equal(cbor_get_int(alg), 1);
    uint8_t fp[32];
    assert_int_equal(cachet_x509_spki_fingerprint(cert, fp), CACHET_OK);
    assert_int_equal(cbor_bytestring_length(h), 32);
    assert_memory_equal(cbor_bytestring_handle(h), fp, 32);
    /* the evidence's report data is SHA-256(claims) || 0^32 */
    uint8_t rdata[64] = {0};
    assert_int_equal(cachet_sha256(cbor_bytestring_handle(cl), cbor_bytestring_length(cl), rdata),
                     CACHET_OK);
    cachet_verify_result *res =
        verify(cbor_bytestring_handle(ev), cbor_bytestring_length(ev), rdata, sizeof rdata);
    cachet_verify_result_free(res);
    cbor_decref(&alg);
    cbor_decref(&h);
    cbor_decref(&he);
    cbor_decref(&claims);
    cbor_decref(&ev);
    cbor_decref(&cl);
    cbor_decref(&arr);
    cbor_decref(&item);
    cachet_x509_free(cert);
    sv_resp_clear(&r);
}

/* ---- limits ---------------------------------------------------------------- */

static void test_queue_full(void **state)
{
    (void)state;
    /* one running, one waiting, the rest refused: the worker holds each
     * job 400 ms so that the requests overlap */
    cachet_serve_opts o = base_opts(W.sealed, W.fix.attester, W.fix.url);
    o.queue_max = 1;
    o.test_hold_ms = 400;
    cachet_serve *s = NULL;
    assert_int_equal(cachet_serve_start(&o, &s), CACHET_OK);
    enum { N = 4 };
    par_req q[N];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        q[i] = (par_req){.port = cachet_serve_port(s), .body = CHAT_REQ("")};
        assert_int_equal(pthread_create(&t[i], NULL, par_main, &q[i]), 0);
        if (i == 0) { /* let the first one reach the worker */
            struct timespec ts = {0, 150 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    int ok = 0, busy = 0;
    for (int i = 0; i < N; i++) {
        if (q[i].r.status == 200)
            ok++;
        else if (q[i].r.status == 503) {
            json_t *j = sv_json(&q[i].r);
            assert_string_equal(
                json_string_value(json_object_get(json_object_get(j, "error"), "type")),
                "server_busy");
            json_decref(j);
            busy++;
        }
        sv_resp_clear(&q[i].r);
    }
    print_message("# %d answered, %d busy\n", ok, busy);
    assert_int_equal(ok + busy, N);
    assert_true(ok >= 2); /* the running one and the waiting one */
    assert_true(busy >= 1);
    cachet_serve_stop(s);
}

/* ---- refused starts -------------------------------------------------------- */

static void expect_refused(const cachet_serve_opts *o, const char *step)
{
    cachet_serve *s = (cachet_serve *)1;
    cachet_rc rc = cachet_serve_start(o, &s);
    assert_int_not_equal(rc, CACHET_OK);
    assert_null(s);
    const char *d = cachet_err_detail();
    print_message("# refused: %s\n", d);
    assert_int_equal(strncmp(d, step, strlen(step)), 0);
}

static void test_refused_policy_denies(void **state)
{
    (void)state;
    kbs_fix f;
    kbs_fix_setup(&f, true); /* no policy: deny by default */
    kbs_fix_start(&f, 0);
    char *sealed = sv_make_sealed(f.dir, "tiny");
    cachet_serve_opts o = base_opts(sealed, f.attester, f.url);
    expect_refused(&o, "key release");
    /* admitted, but the resource policy grants another resource only */
    cachet_kbs_store *st;
    assert_int_equal(cachet_kbs_store_open(f.db, f.kek, &st), CACHET_OK);
    assert_int_equal(cachet_kbs_store_set_policy(st, "attestation", FIX_POLICY), CACHET_OK);
    assert_int_equal(
        cachet_kbs_store_set_policy(st, "resource",
                                    "{\"version\":1,\"grants\":[{\"resources\":[\"default/data-"
                                    "key/*\"],\"rules\":[\"dev\"],\"status\":[\"affirming\","
                                    "\"warning\"]}]}"),
        CACHET_OK);
    cachet_kbs_store_close(st);
    expect_refused(&o, "key release");
    free(sealed);
    kbs_fix_teardown(&f);
}

static void test_refused_tampered(void **state)
{
    (void)state;
    char *sealed = sv_make_sealed(W.fix.dir, "tampered");
    size_t n;
    uint8_t *b = tu_read_file(sealed, &n);
    b[n / 2] ^= 0x01; /* a ciphertext byte in the middle */
    tu_write_file(sealed, b, n);
    free(b);
    cachet_serve_opts o = base_opts(sealed, W.fix.attester, W.fix.url);
    expect_refused(&o, "unseal");
    /* and a missing file */
    o.model_path = "/nonexistent/model.sealed";
    expect_refused(&o, "unseal");
    free(sealed);
}

static void test_refused_pinned_model(void **state)
{
    (void)state;
    /* a policy that pins another model digest refuses this one */
    kbs_fix f;
    kbs_fix_setup(&f, false);
    cachet_kbs_store *st;
    assert_int_equal(cachet_kbs_store_open(f.db, f.kek, &st), CACHET_OK);
    assert_int_equal(
        cachet_kbs_store_set_policy(
            st, "attestation",
            "{\"id\":\"pin\",\"rules\":[{\"name\":\"dev\",\"tee\":[\"sample\"],\"status\":["
            "\"affirming\",\"warning\"],\"claims\":{\"user_data\":[\"00000000000000000000000000"
            "00000000000000000000000000000000000000\"]}}]}"),
        CACHET_OK);
    cachet_kbs_store_close(st);
    kbs_fix_start(&f, 0);
    char *sealed = sv_make_sealed(f.dir, "tiny");
    cachet_serve_opts o = base_opts(sealed, f.attester, f.url);
    expect_refused(&o, "key release");
    free(sealed);
    kbs_fix_teardown(&f);
}

/* ---- the command --------------------------------------------------------- */

static pid_t spawn_serve(const char *sealed, const char *url, const char *key, int *out_fd)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execl(tu_cachet_exe(), "cachet", "serve", "--model", sealed, "--kbs", url, "--tee",
              "sample", "--sample-key", key, "--listen", "127.0.0.1:0", "--threads", "1",
              "--ctx", "256", "--model-id", "tiny-cli", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    *out_fd = p[0];
    return pid;
}

static void test_cli(void **state)
{
    (void)state;
    int fd;
    pid_t pid = spawn_serve(W.sealed, W.fix.url, W.fix.sample_key, &fd);
    FILE *f = fdopen(fd, "r");
    char line[4][256];
    for (int i = 0; i < 4; i++) {
        assert_non_null(fgets(line[i], sizeof line[i], f));
        print_message("# %s", line[i]);
    }
    unsigned port = 0;
    assert_int_equal(sscanf(line[0], "listening on https://127.0.0.1:%u", &port), 1);
    char want[128];
    snprintf(want, sizeof want, "model tiny-cli %s\n", cachet_serve_model_digest(W.s));
    assert_string_equal(line[1], want);
    assert_int_equal(strncmp(line[2], "tls-spki-sha256 ", 16), 0);
    assert_int_equal(strlen(line[2]), 16 + 64 + 1);
    assert_int_equal(strncmp(line[3], "startup attest+release ", 23), 0);
    sv_resp r;
    sv_http(port, "GET", "/v1/models/tiny-cli", NULL, NULL, false, &r);
    assert_int_equal(r.status, 200);
    sv_resp_clear(&r);
    assert_int_equal(kill(pid, SIGTERM), 0);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    fclose(f);
    /* a refused start: exit 1, the step on stderr, nothing on stdout */
    char *out = NULL, *err = NULL;
    int rc = tu_run_cachet(&out, &err,
                           "serve --model /nonexistent.sealed --kbs %s --tee sample "
                           "--sample-key %s --listen 127.0.0.1:0",
                           W.fix.url, W.fix.sample_key);
    assert_int_equal(rc, 1);
    assert_string_equal(out, "");
    assert_int_equal(strncmp(err, "cachet serve: unseal: ", 22), 0);
    free(out);
    free(err);
    rc = tu_run_cachet(NULL, NULL, "serve --model x.sealed");
    assert_int_equal(rc, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_facts),
        cmocka_unit_test(test_models),
        cmocka_unit_test(test_api_key),
        cmocka_unit_test(test_chat_stream_matches),
        cmocka_unit_test(test_completions),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_prompt_too_long),
        cmocka_unit_test(test_body_too_large),
        cmocka_unit_test(test_two_concurrent),
        cmocka_unit_test(test_attestation),
        cmocka_unit_test(test_cert_extension),
        cmocka_unit_test(test_queue_full),
        cmocka_unit_test(test_refused_policy_denies),
        cmocka_unit_test(test_refused_tampered),
        cmocka_unit_test(test_refused_pinned_model),
        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
