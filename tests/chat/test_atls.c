/* The attested inference client (src/client/atls.c, docs/serve.md §3)
 * against a small HTTPS server in this process: libmicrohttpd on 127.0.0.1
 * with a fresh P-256 key and self-signed certificate, serving attestation
 * documents made by the real sample attester and a canned
 * /v1/chat/completions (JSON and server-sent events).  Every refusal is
 * checked to name its check and to have sent the server no chat request. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testutil.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cachet/attester.h"
#include "cachet/chat.h"
#include "cachet/encoding.h"
#include "cachet/runtime_data.h"

/* ---- keys and certificates -------------------------------------------------------- */

typedef struct tls_id {
    char *cert_pem, *key_pem;
    cachet_pkey *key;
    char spki_hex[65];
} tls_id;

static char *bio_text(BIO *b)
{
    char *p = NULL;
    long n = BIO_get_mem_data(b, &p);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    memcpy(s, p, (size_t)n);
    s[n] = 0;
    return s;
}

static void tls_id_make(tls_id *t)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    assert_non_null(k);
    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 7 * 86400);
    X509_set_pubkey(x, k);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"cachet-serve", -1,
                               -1, 0);
    X509_set_issuer_name(x, n);
    assert_true(X509_sign(x, k, EVP_sha256()) > 0);
    BIO *bc = BIO_new(BIO_s_mem()), *bk = BIO_new(BIO_s_mem());
    assert_true(PEM_write_bio_X509(bc, x));
    assert_true(PEM_write_bio_PrivateKey(bk, k, NULL, NULL, 0, NULL, NULL));
    t->cert_pem = bio_text(bc);
    t->key_pem = bio_text(bk);
    BIO_free(bc);
    BIO_free(bk);
    X509_free(x);
    EVP_PKEY_free(k);
    assert_int_equal(cachet_pkey_parse_private((const uint8_t *)t->key_pem, strlen(t->key_pem),
                                               &t->key),
                     CACHET_OK);
    uint8_t *der = NULL, h[32];
    size_t len = 0;
    assert_int_equal(cachet_pkey_spki_der(t->key, &der, &len), CACHET_OK);
    assert_int_equal(cachet_sha256(der, len, h), CACHET_OK);
    free(der);
    cachet_hex_encode(h, sizeof h, t->spki_hex);
}

static void tls_id_free(tls_id *t)
{
    free(t->cert_pem);
    free(t->key_pem);
    cachet_pkey_free(t->key);
}

/* ---- the fixture --------------------------------------------------------------------- */

enum fault {
    F_NONE,
    F_NONCE,      /* answer with a nonce of our own */
    F_OTHER_KEY,  /* bind another key than the TLS key */
    F_TAMPER,     /* flip a byte of the evidence after signing */
    F_DEBUG,      /* evidence from a debug-mode attester */
    F_SSE_ERROR,  /* the stream carries an error event */
};

static struct {
    char *dir;
    cachet_attester *att, *att_debug;
    cachet_pkey *sample_key;     /* the trusted signer (public half used) */
    cachet_pkey *untrusted_key;
    tls_id a, b, other;
    uint8_t model_digest[32];
    char model_hex[65];
    char measurement_hex[97];
} G;

typedef struct server {
    struct MHD_Daemon *d;
    unsigned short port;
    const tls_id *id;    /* NULL: plain http */
    enum fault fault;
    atomic_int n_attest, n_chat;
    char *last_chat;     /* the last chat request body */
} server;

typedef struct conn_state {
    bool chat;
    char *body;
    size_t n;
} conn_state;

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static char *attestation_doc(server *s, const char *nonce)
{
    cachet_runtime_data_params p = {
        .nonce = s->fault == F_NONCE ? "bm90LXlvdXItbm9uY2U" : nonce,
        .tee_pubkey = s->fault == F_OTHER_KEY ? G.other.key : s->id ? s->id->key : G.other.key,
        .tee_pubkey_alg = "ES256",
        .user_data = G.model_digest,
        .user_data_len = sizeof G.model_digest,
    };
    json_t *rd = NULL;
    assert_int_equal(cachet_runtime_data_build(&p, &rd), CACHET_OK);
    uint8_t report_data[CACHET_REPORT_DATA_LEN];
    assert_int_equal(cachet_runtime_data_report_data(rd, report_data), CACHET_OK);
    char *jcs = NULL;
    size_t jl = 0;
    assert_int_equal(cachet_jcs_dump(rd, &jcs, &jl), CACHET_OK);
    uint8_t *ev = NULL;
    size_t evl = 0;
    assert_int_equal(cachet_attester_collect_bound(s->fault == F_DEBUG ? G.att_debug : G.att,
                                                   report_data, jcs, jl, &ev, &evl),
                     CACHET_OK);
    free(jcs);
    if (s->fault == F_TAMPER)
        ev[0x60] ^= 0x01; /* the measurement */
    char *b64 = cachet_base64url_string(ev, evl);
    free(ev);
    char digest[80];
    snprintf(digest, sizeof digest, "sha256:%s", G.model_hex);
    json_t *doc = json_pack("{s:s,s:s,s:s,s:o,s:{s:s,s:s}}", "profile",
                            "tag:cachet.dev,2026:atls/1", "tee", "sample", "evidence", b64,
                            "runtime_data", rd, "model", "id", "test-model", "digest", digest);
    free(b64);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return text;
}

static const char *const sse_ok =
    "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":"
    "{\"role\":\"assistant\"},\"finish_reason\":null}]}\n\n"
    "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":"
    "{\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n"
    ": a comment\r\n\r\n"
    "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":"
    "{\"content\":\"lo, \"},\"finish_reason\":null}]}\r\n\r\n"
    "data:{\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":"
    "{\"content\":\"world!\"},\"finish_reason\":null}]}\n\n"
    "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},"
    "\"finish_reason\":\"length\"}]}\n\n"
    "data: [DONE]\n\n";

static const char *const sse_err =
    "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":"
    "{\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n"
    "data: {\"error\":{\"message\":\"engine exploded\",\"type\":\"server_error\"}}\n\n";

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    (void)version;
    server *s = cls;
    conn_state *st = *con_cls;
    if (!st) {
        st = calloc(1, sizeof *st);
        if (!st)
            return MHD_NO;
        *con_cls = st;
        if (strcmp(url, "/v1/chat/completions") == 0) {
            st->chat = true;
            atomic_fetch_add(&s->n_chat, 1);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        char *np = realloc(st->body, st->n + *upload_size + 1);
        if (!np)
            return MHD_NO;
        st->body = np;
        memcpy(st->body + st->n, upload, *upload_size);
        st->n += *upload_size;
        st->body[st->n] = 0;
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "GET") == 0 && strcmp(url, "/cachet/v1/attestation") == 0) {
        atomic_fetch_add(&s->n_attest, 1);
        const char *nonce = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "nonce");
        if (!nonce)
            return reply(c, 400, "application/json",
                         strdup("{\"error\":{\"message\":\"no nonce\"}}"));
        return reply(c, 200, "application/json", attestation_doc(s, nonce));
    }
    if (strcmp(method, "GET") == 0 && strcmp(url, "/v1/models") == 0)
        return reply(c, 200, "application/json",
                     strdup("{\"object\":\"list\",\"data\":[{\"id\":\"test-model\"}]}"));
    if (st->chat && strcmp(method, "POST") == 0) {
        free(s->last_chat);
        s->last_chat = st->body ? strdup(st->body) : strdup("");
        json_t *j = json_loads(s->last_chat, 0, NULL);
        bool stream = json_is_true(json_object_get(j, "stream"));
        json_decref(j);
        if (stream)
            return reply(c, 200, "text/event-stream",
                         strdup(s->fault == F_SSE_ERROR ? sse_err : sse_ok));
        return reply(c, 200, "application/json",
                     strdup("{\"object\":\"chat.completion\",\"choices\":[{\"index\":0,"
                            "\"message\":{\"role\":\"assistant\",\"content\":\"Hello world\"},"
                            "\"finish_reason\":\"stop\"}]}"));
    }
    return reply(c, 404, "application/json", strdup("{\"error\":{\"message\":\"not found\"}}"));
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    conn_state *st = *con_cls;
    if (st) {
        free(st->body);
        free(st);
        *con_cls = NULL;
    }
}

static void server_start(server *s, const tls_id *id, unsigned short port, enum fault f)
{
    memset(s, 0, sizeof *s);
    s->id = id;
    s->fault = f;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD;
    if (id)
        s->d = MHD_start_daemon(flags | MHD_USE_TLS, 0, NULL, NULL, handler, s,
                                MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_LISTENING_ADDRESS_REUSE,
                                1u, MHD_OPTION_NOTIFY_COMPLETED, completed, s,
                                MHD_OPTION_HTTPS_MEM_CERT, id->cert_pem,
                                MHD_OPTION_HTTPS_MEM_KEY, id->key_pem, MHD_OPTION_END);
    else
        s->d = MHD_start_daemon(flags, 0, NULL, NULL, handler, s, MHD_OPTION_SOCK_ADDR, &sa,
                                MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
                                MHD_OPTION_NOTIFY_COMPLETED, completed, s, MHD_OPTION_END);
    assert_non_null(s->d);
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null(di);
    s->port = di->port;
}

static void server_stop(server *s)
{
    if (s->d)
        MHD_stop_daemon(s->d);
    s->d = NULL;
    free(s->last_chat);
    s->last_chat = NULL;
}

static char *server_url(const server *s)
{
    return tu_asprintf("%s://127.0.0.1:%u", s->id ? "https" : "http", s->port);
}

/* ---- policies -------------------------------------------------------------------------- */

static cachet_policy *policy(const char *measurement, const char *user_data)
{
    char *text = tu_asprintf("{\"version\":1,\"id\":\"test\",\"rules\":[{\"name\":\"r1\","
                             "\"tee\":[\"sample\"],\"status\":[\"affirming\",\"warning\"],"
                             "\"measurement\":[\"%s\"],\"claims\":{\"user_data\":[\"%s\"]}}]}",
                             measurement, user_data);
    cachet_policy *p = NULL;
    assert_int_equal(cachet_policy_parse(text, strlen(text), &p), CACHET_OK);
    free(text);
    return p;
}

static cachet_policy *good_policy(void)
{
    return policy(G.measurement_hex, G.model_hex);
}

static cachet_atls_opts opts_for(const cachet_policy *p, cachet_pkey *const *keys)
{
    cachet_atls_opts o = {.policy = p, .trust_keys = keys, .n_trust_keys = 1, .timeout = 10};
    return o;
}

/* ---- group setup -------------------------------------------------------------------------- */

static int group_setup(void **st)
{
    (void)st;
    G.dir = tu_mkdtemp();
    char *measured = tu_asprintf("%s/workload.bin", G.dir);
    static const char content[] = "the workload the sample attester measures";
    tu_write_file(measured, content, sizeof content - 1);
    uint8_t m[48];
    assert_int_equal(cachet_sha384(content, sizeof content - 1, m), CACHET_OK);
    cachet_hex_encode(m, sizeof m, G.measurement_hex);
    char *key_path = tu_asprintf("%s/sample.pem", G.dir);
    cachet_sample_opts so = {.key_path = key_path, .create_key = true, .svn = 1,
                             .measured_path = measured};
    assert_int_equal(cachet_attester_sample_new(&so, &G.att, NULL), CACHET_OK);
    so.debug = true;
    so.create_key = false;
    assert_int_equal(cachet_attester_sample_new(&so, &G.att_debug, NULL), CACHET_OK);
    size_t n = 0;
    uint8_t *pem = tu_read_file(key_path, &n);
    assert_int_equal(cachet_pkey_parse_private(pem, n, &G.sample_key), CACHET_OK);
    free(pem);
    assert_int_equal(cachet_pkey_generate_ec(CACHET_CURVE_P256, &G.untrusted_key), CACHET_OK);
    free(key_path);
    free(measured);
    tls_id_make(&G.a);
    tls_id_make(&G.b);
    tls_id_make(&G.other);
    static const char model[] = "pretend model weights";
    assert_int_equal(cachet_sha256(model, sizeof model - 1, G.model_digest), CACHET_OK);
    cachet_hex_encode(G.model_digest, sizeof G.model_digest, G.model_hex);
    return 0;
}

static int group_teardown(void **st)
{
    (void)st;
    cachet_attester_free(G.att);
    cachet_attester_free(G.att_debug);
    cachet_pkey_free(G.sample_key);
    cachet_pkey_free(G.untrusted_key);
    tls_id_free(&G.a);
    tls_id_free(&G.b);
    tls_id_free(&G.other);
    tu_rmtree(G.dir);
    free(G.dir);
    return 0;
}

/* ---- the happy path ------------------------------------------------------------------------ */

typedef struct deltas {
    char text[256];
    int calls;
} deltas;

static bool on_delta(void *arg, const char *text, size_t len)
{
    deltas *d = arg;
    size_t have = strlen(d->text);
    assert_true(have + len < sizeof d->text);
    memcpy(d->text + have, text, len);
    d->text[have + len] = 0;
    d->calls++;
    return true;
}

static void test_admitted_and_chat(void **st)
{
    (void)st;
    server s;
    server_start(&s, &G.a, 0, F_NONE);
    char *url = server_url(&s);
    cachet_policy *p = good_policy();
    cachet_atls_opts o = opts_for(p, &G.sample_key);
    cachet_atls *sess = NULL;
    cachet_atls_report rep;
    cachet_rc rc = cachet_atls_connect(url, &o, &sess, &rep);
    if (rc != CACHET_OK)
        print_message("# refused: %s\n", rep.why);
    assert_int_equal(rc, CACHET_OK);
    assert_non_null(sess);
    assert_true(rep.admitted && rep.verified && rep.key_bound && rep.nonce_matched);
    assert_string_equal(rep.tee, "sample");
    assert_string_equal(rep.status, "warning");
    assert_string_equal(rep.rule, "r1");
    assert_string_equal(rep.model_id, "test-model");
    char want[80];
    snprintf(want, sizeof want, "sha256:%s", G.model_hex);
    assert_string_equal(rep.model_digest, want);
    assert_string_equal(rep.tls_spki_sha256, G.a.spki_hex);
    assert_string_equal(rep.why, "");
    assert_non_null(rep.result);
    assert_string_equal(json_string_value(json_object_get(rep.result->claims, "user_data")),
                        G.model_hex);
    assert_non_null(rep.appraisal);
    assert_int_equal(atomic_load(&s.n_attest), 1);
    assert_int_equal(atomic_load(&s.n_chat), 0);
    char *summary = NULL;
    size_t sl = 0;
    FILE *f = open_memstream(&summary, &sl);
    cachet_atls_report_print(&rep, f);
    fclose(f);
    assert_non_null(strstr(summary, "admitted by rule r1"));
    assert_non_null(strstr(summary, G.a.spki_hex));
    free(summary);
    cachet_atls_report_free(&rep);

    /* a plain request on the pinned session */
    long status = 0;
    char *resp = NULL;
    assert_int_equal(cachet_atls_request(sess, "GET", "/v1/models", NULL, 0, &status, &resp,
                                         NULL),
                     CACHET_OK);
    assert_int_equal(status, 200);
    assert_non_null(strstr(resp, "test-model"));
    free(resp);

    /* not streamed */
    cachet_chat_message m[] = {{"system", "be brief"}, {"user", "Hi"}};
    cachet_chat_request rq = {.max_tokens = 16, .temperature = 0, .seed = 7, .stream = false};
    deltas d = {0};
    char *answer = NULL;
    const char *finish = NULL;
    assert_int_equal(cachet_atls_chat(sess, m, 2, &rq, on_delta, &d, &answer, &finish),
                     CACHET_OK);
    assert_string_equal(answer, "Hello world");
    assert_string_equal(d.text, "Hello world");
    assert_string_equal(finish, "stop");
    free(answer);
    json_t *sent = json_loads(s.last_chat, 0, NULL);
    assert_non_null(sent);
    assert_string_equal(json_string_value(json_object_get(sent, "model")), "test-model");
    assert_int_equal(json_integer_value(json_object_get(sent, "max_tokens")), 16);
    assert_int_equal(json_integer_value(json_object_get(sent, "seed")), 7);
    assert_int_equal(json_array_size(json_object_get(sent, "messages")), 2);
    assert_false(json_is_true(json_object_get(sent, "stream")));
    json_decref(sent);

    /* streamed */
    rq.stream = true;
    memset(&d, 0, sizeof d);
    assert_int_equal(cachet_atls_chat(sess, m, 2, &rq, on_delta, &d, &answer, &finish),
                     CACHET_OK);
    assert_string_equal(answer, "Hello, world!");
    assert_string_equal(d.text, "Hello, world!");
    assert_int_equal(d.calls, 3);
    assert_string_equal(finish, "length");
    free(answer);
    assert_int_equal(atomic_load(&s.n_chat), 2);
    assert_int_equal(atomic_load(&s.n_attest), 1);

    cachet_atls_free(sess);
    cachet_policy_free(p);
    free(url);
    server_stop(&s);
}

static void test_sse_error_event(void **st)
{
    (void)st;
    server s;
    server_start(&s, &G.a, 0, F_SSE_ERROR);
    char *url = server_url(&s);
    cachet_policy *p = good_policy();
    cachet_atls_opts o = opts_for(p, &G.sample_key);
    cachet_atls *sess = NULL;
    assert_int_equal(cachet_atls_connect(url, &o, &sess, NULL), CACHET_OK);
    cachet_chat_message m[] = {{"user", "Hi"}};
    cachet_chat_request rq = {.temperature = -1, .seed = -1, .stream = true};
    char *answer = NULL;
    cachet_rc rc = cachet_atls_chat(sess, m, 1, &rq, NULL, NULL, &answer, NULL);
    assert_int_equal(cachet_rc_code(rc), CACHET_E_FORMAT);
    assert_non_null(strstr(cachet_err_detail(), "engine exploded"));
    assert_null(answer);
    cachet_atls_free(sess);
    cachet_policy_free(p);
    free(url);
    server_stop(&s);
}

/* ---- refusals ---------------------------------------------------------------------------- */

/* Connect to a server with the fault, expect a refusal whose reason starts
 * with `why`, and that nothing but the attestation request reached it. */
static void expect_refusal(enum fault f, const cachet_policy *p, cachet_pkey *const *keys,
                           const char *why)
{
    server s;
    server_start(&s, &G.a, 0, f);
    char *url = server_url(&s);
    cachet_atls_opts o = opts_for(p, keys);
    cachet_atls *sess = (cachet_atls *)&s; /* must be reset to NULL */
    cachet_atls_report rep;
    cachet_rc rc = cachet_atls_connect(url, &o, &sess, &rep);
    print_message("# refused: %s\n", rep.why);
    assert_int_equal(cachet_rc_code(rc), CACHET_E_POLICY);
    assert_null(sess);
    assert_false(rep.admitted);
    assert_true(strncmp(rep.why, why, strlen(why)) == 0);
    assert_non_null(strstr(cachet_err_detail(), why));
    assert_int_equal(atomic_load(&s.n_attest), 1);
    assert_int_equal(atomic_load(&s.n_chat), 0);
    cachet_atls_report_free(&rep);
    free(url);
    server_stop(&s);
}

static void test_refuse_nonce(void **st)
{
    (void)st;
    cachet_policy *p = good_policy();
    expect_refusal(F_NONCE, p, &G.sample_key, "binding: nonce");
    cachet_policy_free(p);
}

static void test_refuse_other_key(void **st)
{
    (void)st;
    cachet_policy *p = good_policy();
    expect_refusal(F_OTHER_KEY, p, &G.sample_key, "binding: tee-pubkey is not the TLS key");
    cachet_policy_free(p);
}

static void test_refuse_untrusted_signer(void **st)
{
    (void)st;
    cachet_policy *p = good_policy();
    expect_refusal(F_NONE, p, &G.untrusted_key, "evidence: ");
    cachet_policy_free(p);
}

static void test_refuse_tampered(void **st)
{
    (void)st;
    cachet_policy *p = good_policy();
    expect_refusal(F_TAMPER, p, &G.sample_key, "evidence: ");
    cachet_policy_free(p);
}

static void test_refuse_debug(void **st)
{
    (void)st;
    cachet_policy *p = good_policy();
    expect_refusal(F_DEBUG, p, &G.sample_key, "evidence: ");
    cachet_policy_free(p);
}

static void test_refuse_measurement(void **st)
{
    (void)st;
    char other[97];
    memset(other, 'a', 96);
    other[96] = 0;
    cachet_policy *p = policy(other, G.model_hex);
    expect_refusal(F_NONE, p, &G.sample_key, "policy: rule r1: measurement");
    cachet_policy_free(p);
}

static void test_refuse_model_digest(void **st)
{
    (void)st;
    char other[65];
    memset(other, 'b', 64);
    other[64] = 0;
    cachet_policy *p = policy(G.measurement_hex, other);
    expect_refusal(F_NONE, p, &G.sample_key, "policy: rule r1: claims.user_data");
    cachet_policy_free(p);
}

static void test_refuse_empty_policy(void **st)
{
    (void)st;
    cachet_policy *p = NULL;
    assert_int_equal(cachet_policy_parse("{}", 2, &p), CACHET_OK);
    expect_refusal(F_NONE, p, &G.sample_key, "policy: ");
    cachet_policy_free(p);
}

static void test_refuse_plain_http(void **st)
{
    (void)st;
    server s;
    server_start(&s, NULL, 0, F_NONE);
    char *url = server_url(&s);
    cachet_policy *p = good_policy();
    cachet_atls_opts o = opts_for(p, &G.sample_key);
    cachet_atls *sess = NULL;
    cachet_atls_report rep;
    /* without the test switch: refused before anything is sent */
    assert_int_equal(cachet_rc_code(cachet_atls_connect(url, &o, &sess, &rep)),
                     CACHET_E_POLICY);
    assert_null(sess);
    assert_true(strncmp(rep.why, "tls: ", 5) == 0);
    assert_int_equal(atomic_load(&s.n_attest), 0);
    cachet_atls_report_free(&rep);
    /* with it: no key to bind */
    o.allow_http = true;
    assert_int_equal(cachet_rc_code(cachet_atls_connect(url, &o, &sess, &rep)),
                     CACHET_E_POLICY);
    assert_null(sess);
    assert_string_equal(rep.why, "tls: no peer certificate");
    assert_int_equal(atomic_load(&s.n_chat), 0);
    cachet_atls_report_free(&rep);
    cachet_policy_free(p);
    free(url);
    server_stop(&s);
}

static void test_unreachable(void **st)
{
    (void)st;
    server s;
    server_start(&s, &G.a, 0, F_NONE);
    unsigned short port = s.port;
    server_stop(&s);
    char *url = tu_asprintf("https://127.0.0.1:%u", port);
    cachet_policy *p = good_policy();
    cachet_atls_opts o = opts_for(p, &G.sample_key);
    cachet_atls *sess = NULL;
    cachet_atls_report rep;
    assert_int_equal(cachet_rc_code(cachet_atls_connect(url, &o, &sess, &rep)), CACHET_E_IO);
    assert_null(sess);
    assert_true(strncmp(rep.why, "tls: ", 5) == 0);
    cachet_atls_report_free(&rep);
    cachet_policy_free(p);
    free(url);
}

/* A pinned session refuses a server whose key changed; the same key on a
 * restarted server is still accepted. */
static void test_pinned_key_change(void **st)
{
    (void)st;
    server s;
    server_start(&s, &G.a, 0, F_NONE);
    unsigned short port = s.port;
    char *url = server_url(&s);
    cachet_policy *p = good_policy();
    cachet_atls_opts o = opts_for(p, &G.sample_key);
    cachet_atls *sess = NULL;
    assert_int_equal(cachet_atls_connect(url, &o, &sess, NULL), CACHET_OK);
    cachet_chat_message m[] = {{"user", "Hi"}};
    cachet_chat_request rq = {.temperature = -1, .seed = -1};
    char *answer = NULL;
    assert_int_equal(cachet_atls_chat(sess, m, 1, &rq, NULL, NULL, &answer, NULL), CACHET_OK);
    free(answer);
    server_stop(&s);

    /* the same key after a restart: still the verified server */
    server_start(&s, &G.a, port, F_NONE);
    assert_int_equal(cachet_atls_chat(sess, m, 1, &rq, NULL, NULL, &answer, NULL), CACHET_OK);
    free(answer);
    assert_int_equal(atomic_load(&s.n_chat), 1);
    server_stop(&s);

    /* another key on the same address */
    server_start(&s, &G.b, port, F_NONE);
    cachet_rc rc = cachet_atls_chat(sess, m, 1, &rq, NULL, NULL, &answer, NULL);
    print_message("# %s\n", cachet_err_detail());
    assert_int_equal(cachet_rc_code(rc), CACHET_E_IO);
    assert_null(answer);
    rq.stream = true;
    rc = cachet_atls_chat(sess, m, 1, &rq, NULL, NULL, &answer, NULL);
    assert_int_equal(cachet_rc_code(rc), CACHET_E_IO);
    long status = 0;
    char *resp = NULL;
    assert_int_equal(cachet_rc_code(cachet_atls_request(sess, "GET", "/v1/models", NULL, 0,
                                                        &status, &resp, NULL)),
                     CACHET_E_IO);
    assert_int_equal(atomic_load(&s.n_chat), 0);
    assert_int_equal(atomic_load(&s.n_attest), 0);
    server_stop(&s);

    cachet_atls_free(sess);
    cachet_policy_free(p);
    free(url);
}

/* ---- the command ------------------------------------------------------------------------ */

static void test_cli(void **st)
{
    (void)st;
    if (access(tu_cachet_exe(), X_OK) != 0) {
        print_message("# SKIP %s not built\n", tu_cachet_exe());
        skip();
    }
    server s;
    server_start(&s, &G.a, 0, F_NONE);
    char *url = server_url(&s);
    char *good = tu_asprintf("%s/good.json", G.dir), *bad = tu_asprintf("%s/bad.json", G.dir);
    char *text = tu_asprintf("{\"rules\":[{\"name\":\"r1\",\"tee\":[\"sample\"],"
                             "\"status\":[\"affirming\",\"warning\"],"
                             "\"measurement\":[\"%s\"],\"claims\":{\"user_data\":[\"%s\"]}}]}",
                             G.measurement_hex, G.model_hex);
    tu_write_file(good, text, strlen(text));
    free(text);
    text = tu_asprintf("{\"rules\":[{\"name\":\"r1\",\"tee\":[\"sample\"],"
                       "\"status\":[\"affirming\",\"warning\"],"
                       "\"measurement\":[\"%s\"],\"claims\":{\"user_data\":[\"%064d\"]}}]}",
                       G.measurement_hex, 0);
    tu_write_file(bad, text, strlen(text));
    free(text);
    char *input = tu_asprintf("%s/input.txt", G.dir);
    tu_write_file(input, "first\n\nsecond\n", strlen("first\n\nsecond\n"));
    char *out = NULL, *err = NULL;

    /* one prompt, streamed; the report */
    int ex = tu_run_cachet(&out, &err,
                           "chat --url %s --policy %s --trust-anchor %s/sample.pem "
                           "--json-report %s/report.json --max-tokens 8 --seed 3 Say hi",
                           url, good, G.dir, G.dir);
    assert_int_equal(ex, 0);
    assert_string_equal(out, "Hello, world!\n");
    assert_non_null(strstr(err, "admitted by rule r1"));
    free(out);
    free(err);
    char *rpath = tu_asprintf("%s/report.json", G.dir);
    json_t *rep = json_load_file(rpath, 0, NULL);
    free(rpath);
    assert_non_null(rep);
    assert_true(json_is_true(json_object_get(rep, "admitted")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(rep, "model"),
                                                          "digest")) + 7, G.model_hex);
    json_decref(rep);
    json_t *sent = json_loads(s.last_chat, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(sent, "messages"), 0), "content")),
                        "Say hi");
    json_decref(sent);

    /* interactive, the conversation kept */
    ex = tu_run_cachet(&out, &err,
                       "chat --url %s --policy %s --trust-anchor %s/sample.pem --no-stream "
                       "--system 'be brief' < %s", url, good, G.dir, input);
    assert_int_equal(ex, 0);
    assert_string_equal(out, "Hello world\nHello world\n");
    free(out);
    free(err);
    sent = json_loads(s.last_chat, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(sent, "messages")), 4);
    json_decref(sent);
    assert_int_equal(atomic_load(&s.n_chat), 3);

    /* refused: nothing sent */
    ex = tu_run_cachet(&out, &err, "chat --url %s --policy %s --trust-anchor %s/sample.pem hi",
                       url, bad, G.dir);
    assert_int_equal(ex, 1);
    assert_string_equal(out, "");
    assert_non_null(strstr(err, "cachet chat: refused: policy: rule r1: claims.user_data"));
    free(out);
    free(err);
    assert_int_equal(atomic_load(&s.n_chat), 3);

    /* usage */
    assert_int_equal(tu_run_cachet(NULL, NULL, "chat --url %s hi", url), 2);

    free(input);
    free(good);
    free(bad);
    free(url);
    server_stop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_admitted_and_chat),
        cmocka_unit_test(test_sse_error_event),
        cmocka_unit_test(test_refuse_nonce),
        cmocka_unit_test(test_refuse_other_key),
        cmocka_unit_test(test_refuse_untrusted_signer),
        cmocka_unit_test(test_refuse_tampered),
        cmocka_unit_test(test_refuse_debug),
        cmocka_unit_test(test_refuse_measurement),
        cmocka_unit_test(test_refuse_model_digest),
        cmocka_unit_test(test_refuse_empty_policy),
        cmocka_unit_test(test_refuse_plain_http),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_pinned_key_change),
        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
