/* cachet serve's modules without a server: request parsing, response and
 * SSE framing, the bounded queue, the certificate claims encoding. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serve/serve_int.h"
#include "testutil.h"

static unsigned parse(oai_kind k, const char *body, oai_request *r, char **err)
{
    return oai_parse(k, body, strlen(body), "m", 0, r, err);
}

static void test_parse_chat(void **state)
{
    (void)state;
    oai_request r;
    char *err = NULL;
    const char *b = "{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"s\"},"
                    "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},"
                    "{\"type\":\"text\",\"text\":\"b\"}]}],\"temperature\":0.5,\"top_p\":0.9,"
                    "\"max_completion_tokens\":7,\"seed\":5,\"stop\":\"x\",\"stream\":true,"
                    "\"stream_options\":{\"include_usage\":true},\"user\":\"u\",\"tools\":[]}";
    assert_int_equal(parse(OAI_CHAT, b, &r, &err), 0);
    assert_int_equal(r.n_msgs, 2);
    assert_string_equal(r.msgs[0].role, "system");
    assert_string_equal(r.msgs[1].content, "ab");
    assert_true(r.stream && r.include_usage);
    assert_int_equal(r.gen.max_tokens, 7);
    assert_int_equal(r.gen.seed, 5);
    assert_string_equal(r.gen.stop[0], "x");
    assert_null(r.gen.stop[1]);
    assert_false(r.gen.add_bos);
    assert_true(r.gen.temperature > 0.49f && r.gen.temperature < 0.51f);
    oai_request_clear(&r);
    /* defaults: 256 tokens for chat, 16 for completions, BOS for completions */
    assert_int_equal(parse(OAI_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
                           &r, &err), 0);
    assert_int_equal(r.gen.max_tokens, 256);
    assert_false(r.stream);
    oai_request_clear(&r);
    assert_int_equal(parse(OAI_COMPLETION, "{\"prompt\":[\"p\"],\"stop\":[\"a\",\"b\"]}", &r,
                           &err), 0);
    assert_int_equal(r.gen.max_tokens, 16);
    assert_true(r.gen.add_bos);
    assert_string_equal(r.prompt, "p");
    assert_string_equal(r.gen.stop[1], "b");
    oai_request_clear(&r);
}

static void test_parse_refusals(void **state)
{
    (void)state;
    static const struct {
        oai_kind k;
        const char *body;
        unsigned status;
    } cases[] = {
        {OAI_CHAT, "[]", 400},
        {OAI_CHAT, "{\"messages\":[]}", 400},
        {OAI_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":5}]}", 400},
        {OAI_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}]}",
         400},
        {OAI_CHAT, "{\"model\":\"x\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 404},
        {OAI_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream\":1}", 400},
        {OAI_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"seed\":1.5}", 400},
        {OAI_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stop\":[\"\"]}", 400},
        {OAI_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stop\":[1]}", 400},
        {OAI_COMPLETION, "{\"prompt\":[\"a\",\"b\"]}", 400},
        {OAI_COMPLETION, "{\"prompt\":\"a\",\"echo\":true}", 400},
        {OAI_COMPLETION, "{}", 400},
        {OAI_COMPLETION, "{\"prompt\":\"a\",\"temperature\":-1}", 400},
        {OAI_COMPLETION, "{\"prompt\":\"a\",\"max_tokens\":\"9\"}", 400},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        oai_request r;
        char *err = NULL;
        unsigned st = parse(cases[i].k, cases[i].body, &r, &err);
        if (st != cases[i].status)
            print_message("# case %zu: %u\n", i, st);
        assert_int_equal(st, cases[i].status);
        assert_non_null(err);
        json_t *j = json_loads(err, 0, NULL);
        assert_non_null(json_object_get(json_object_get(j, "error"), "message"));
        json_decref(j);
        free(err);
        oai_request_clear(&r);
    }
}

static void test_sse_framing(void **state)
{
    (void)state;
    oai_meta m = {.kind = OAI_CHAT, .id = "chatcmpl-1", .created = 7, .model = "m"};
    size_t n = 0;
    char *e = oai_sse_delta(&m, true, "", 0, NULL, &n);
    assert_int_equal(strncmp(e, "data: {", 7), 0);
    assert_int_equal(strlen(e), n);
    assert_string_equal(e + n - 2, "\n\n");
    json_t *j = json_loadb(e + 6, n - 8, 0, NULL);
    json_t *c = json_array_get(json_object_get(j, "choices"), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(c, "delta"), "role")),
                        "assistant");
    assert_true(json_is_null(json_object_get(c, "finish_reason")));
    json_decref(j);
    free(e);
    e = oai_sse_delta(&m, false, "a\"b\n", 4, NULL, &n);
    j = json_loadb(e + 6, n - 8, 0, NULL);
    c = json_array_get(json_object_get(j, "choices"), 0);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(c, "delta"), "content")), "a\"b\n");
    json_decref(j);
    free(e);
    e = oai_sse_delta(&m, false, NULL, 0, "length", &n);
    j = json_loadb(e + 6, n - 8, 0, NULL);
    c = json_array_get(json_object_get(j, "choices"), 0);
    assert_int_equal(json_object_size(json_object_get(c, "delta")), 0);
    assert_string_equal(json_string_value(json_object_get(c, "finish_reason")), "length");
    json_decref(j);
    free(e);
    cachet_gen_stats st = {.prompt_tokens = 3, .completion_tokens = 2};
    e = oai_sse_usage(&m, &st, &n);
    j = json_loadb(e + 6, n - 8, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(j, "choices")), 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "usage"),
                                                        "total_tokens")), 5);
    json_decref(j);
    free(e);
    e = oai_response_json(&m, "hi", 2, &st);
    j = json_loads(e, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "object")), "chat.completion");
    json_decref(j);
    free(e);
}

/* ---- queue ----------------------------------------------------------------- */

typedef struct qstate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool release;
    int ran, cancelled;
} qstate;

static void qfn(void *job, bool cancelled, void *arg)
{
    (void)job;
    qstate *q = arg;
    pthread_mutex_lock(&q->mu);
    if (cancelled) {
        q->cancelled++;
    } else {
        q->ran++;
        pthread_cond_broadcast(&q->cv);
        while (!q->release)
            pthread_cond_wait(&q->cv, &q->mu);
    }
    pthread_mutex_unlock(&q->mu);
}

static void test_queue_bounds(void **state)
{
    (void)state;
    qstate qs = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    serve_queue *q;
    assert_int_equal(serve_queue_new(1, qfn, &qs, &q), CACHET_OK);
    int a, b, c;
    assert_int_equal(serve_queue_push(q, &a), CACHET_OK);
    pthread_mutex_lock(&qs.mu); /* wait until a runs */
    while (qs.ran == 0)
        pthread_cond_wait(&qs.cv, &qs.mu);
    pthread_mutex_unlock(&qs.mu);
    assert_int_equal(serve_queue_push(q, &b), CACHET_OK);   /* waits */
    assert_int_equal(serve_queue_waiting(q), 1);
    cachet_rc rc = serve_queue_push(q, &c);                 /* refused */
    assert_int_equal(cachet_rc_code(rc), CACHET_E_LIMIT);
    /* stopping: b is handed over as cancelled once a finishes */
    pthread_mutex_lock(&qs.mu);
    qs.release = true;
    pthread_cond_broadcast(&qs.cv);
    pthread_mutex_unlock(&qs.mu);
    serve_queue_stop(q);
    assert_int_equal(cachet_rc_code(serve_queue_push(q, &c)), CACHET_E_STATE);
    serve_queue_free(q);
    assert_int_equal(qs.ran + qs.cancelled, 2);
    assert_true(qs.ran >= 1);
}

/* ---- certificate claims ---------------------------------------------------- */

static void test_cert_claims(void **state)
{
    (void)state;
    uint8_t h[32];
    for (int i = 0; i < 32; i++)
        h[i] = (uint8_t)i;
    uint8_t *c;
    size_t n;
    assert_int_equal(serve_cert_claims(h, &c, &n), CACHET_OK);
    /* a1 6b "pubkey-hash" 58 24 82 01 58 20 <32>: 51 bytes (protocols.md §4.1) */
    assert_int_equal(n, 51);
    static const uint8_t head[] = {0xa1, 0x6b, 'p', 'u', 'b', 'k', 'e', 'y', '-', 'h', 'a',
                                   's',  'h',  0x58, 0x24, 0x82, 0x01, 0x58, 0x20};
    assert_memory_equal(c, head, sizeof head);
    assert_memory_equal(c + sizeof head, h, 32);
    uint8_t *x;
    size_t xl;
    uint8_t ev[300];
    memset(ev, 0xab, sizeof ev);
    assert_int_equal(serve_cert_ext_value(ev, sizeof ev, c, n, &x, &xl), CACHET_OK);
    static const uint8_t xh[] = {0xd9, 0xea, 0x60, 0x82, 0x59, 0x01, 0x2c};
    assert_memory_equal(x, xh, sizeof xh);
    assert_int_equal(xl, sizeof xh + sizeof ev + 2 + n);
    assert_int_equal(x[sizeof xh + sizeof ev], 0x58);
    assert_int_equal(x[sizeof xh + sizeof ev + 1], 51);
    free(x);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_chat),
        cmocka_unit_test(test_parse_refusals),
        cmocka_unit_test(test_sse_framing),
        cmocka_unit_test(test_queue_bounds),
        cmocka_unit_test(test_cert_claims),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
