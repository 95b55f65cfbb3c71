/* The key broker end to end on loopback: a real server (libmicrohttpd) on a
 * free port, real HTTP (libcurl), a real SQLite file; the sample family. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/encoding.h"
#include "cachet/runtime_data.h"
#include "cachet/secmem.h"
#include "kbs_fixture.h"
#include "testutil.h"

#define LLAMA "default/model-key/llama"

static int setup(void **state)
{
    kbs_fix *f = calloc(1, sizeof *f);
    kbs_fix_setup(f, false);
    kbs_fix_start(f, 0);
    *state = f;
    return 0;
}

static int setup_deny(void **state)
{
    kbs_fix *f = calloc(1, sizeof *f);
    kbs_fix_setup(f, true);
    kbs_fix_start(f, 0);
    *state = f;
    return 0;
}

static int setup_small(void **state)
{
    kbs_fix *f = calloc(1, sizeof *f);
    kbs_fix_setup(f, false);
    kbs_fix_start(f, 4096);
    *state = f;
    return 0;
}

static int setup_limited(void **state)
{
    kbs_fix *f = calloc(1, sizeof *f);
    kbs_fix_setup(f, false);
    f->rate_limit = 1;
    f->rate_burst = 5;
    kbs_fix_start(f, 0);
    *state = f;
    return 0;
}

static int setup_https(void **state)
{
    kbs_fix *f = calloc(1, sizeof *f);
    kbs_fix_setup(f, false);
    f->tls_cert = tu_asprintf("%s/cert.pem", f->dir);
    f->tls_key = tu_asprintf("%s/key.pem", f->dir);
    int rc = tu_system("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                       "-days 2 -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 "
                       "-keyout %s -out %s >/dev/null 2>&1", f->tls_key, f->tls_cert);
    assert_int_equal(rc, 0);
    kbs_fix_start(f, 0);
    *state = f;
    return 0;
}

static int setup_load(void **state)
{
    kbs_fix *f = calloc(1, sizeof *f);
    kbs_fix_setup(f, false);
    f->rate_limit = 100000;
    f->rate_burst = 100000;
    kbs_fix_start(f, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    kbs_fix *f = *state;
    kbs_fix_teardown(f);
    free(f);
    return 0;
}

static cachet_kbs_client *client(const kbs_fix *f)
{
    cachet_kbs_client *c;
    assert_int_equal(cachet_kbs_client_new(f->url, NULL, &c), CACHET_OK);
    return c;
}

/* The error type a refusal carried ("PolicyDeny"), from the client's detail. */
static void assert_refused(cachet_rc rc, const char *type)
{
    assert_int_not_equal(rc, CACHET_OK);
    const char *d = cachet_err_detail();
    if (!strstr(d, type))
        print_message("# expected %s in: %s\n", type, d);
    assert_non_null(strstr(d, type));
}

/* An Attestation body: evidence bound to (nonce, bind_key), runtime-data on
 * the wire naming (wire_nonce, wire_key). */
static char *attestation(const kbs_fix *f, const char *nonce, const cachet_pkey *bind_key,
                         const char *wire_nonce, const cachet_pkey *wire_key)
{
    json_t *rd, *wire;
    cachet_runtime_data_params p = {.nonce = nonce, .tee_pubkey = bind_key};
    assert_int_equal(cachet_runtime_data_build(&p, &rd), CACHET_OK);
    uint8_t report[CACHET_REPORT_DATA_LEN];
    assert_int_equal(cachet_runtime_data_report_data(rd, report), CACHET_OK);
    char *text;
    size_t tl;
    assert_int_equal(cachet_jcs_dump(rd, &text, &tl), CACHET_OK);
    uint8_t *ev;
    size_t evl;
    assert_int_equal(cachet_attester_collect_bound(f->attester, report, text, tl, &ev, &evl),
                     CACHET_OK);
    cachet_runtime_data_params wp = {.nonce = wire_nonce, .tee_pubkey = wire_key};
    assert_int_equal(cachet_runtime_data_build(&wp, &wire), CACHET_OK);
    json_object_del(wire, "additional-evidence");
    char *b64 = cachet_base64_string(ev, evl);
    json_t *j = json_pack("{s:n,s:o,s:{s:{s:s},s:s}}", "init-data", "runtime-data", wire,
                          "tee-evidence", "primary_evidence", "evidence", b64,
                          "additional_evidence", "");
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    json_decref(rd);
    free(b64);
    free(ev);
    free(text);
    return s;
}

static long post_attest(cachet_kbs_client *c, const char *body, char **resp)
{
    long st = 0;
    assert_int_equal(cachet_kbs_client_request(c, "POST", "/kbs/v0/attest", body, strlen(body),
                                               NULL, &st, resp, NULL),
                     CACHET_OK);
    return st;
}

static void assert_type(const char *resp, const char *type)
{
    assert_non_null(resp);
    json_t *j = json_loads(resp, 0, NULL);
    assert_non_null(j);
    const char *t = json_string_value(json_object_get(j, "type"));
    assert_non_null(t);
    char want[128];
    snprintf(want, sizeof want, "https://github.com/confidential-containers/kbs/errors/%s", type);
    if (strcmp(t, want))
        print_message("# type %s, detail %s\n", t,
                      json_string_value(json_object_get(j, "detail")));
    assert_string_equal(t, want);
    assert_int_equal(json_object_size(j), 2);
    json_decref(j);
}

static void test_full_flow(void **state)
{
    kbs_fix *f = *state;
    uint8_t *secret = NULL;
    size_t len = 0;
    cachet_rc rc = cachet_kbs_fetch(f->url, f->attester, LLAMA, NULL, &secret, &len);
    if (rc != CACHET_OK)
        print_message("# %s\n", cachet_err_detail());
    assert_int_equal(rc, CACHET_OK);
    assert_int_equal(len, 32);
    assert_memory_equal(secret, "llama-model-key-0123456789abcdef", 32);
    cachet_secure_free(secret);
    /* the metrics count it */
    cachet_kbs_client *c = client(f);
    long st;
    char *resp = NULL;
    assert_int_equal(cachet_kbs_client_request(c, "GET", "/metrics", NULL, 0, NULL, &st, &resp,
                                               NULL),
                     CACHET_OK);
    assert_non_null(strstr(resp, "cachet_kbs_verifications_total{tee=\"sample\",result=\"admitted\"} 1"));
    assert_non_null(strstr(resp, "cachet_kbs_resources_total{result=\"released\"} 1"));
    assert_non_null(strstr(resp, "cachet_kbs_request_seconds_count{endpoint=\"attest\"} 1"));
    free(resp);
    cachet_kbs_client_free(c);
}

static void test_attest_again_returns_token(void **state)
{
    kbs_fix *f = *state;
    cachet_kbs_client *c = client(f);
    char *nonce = NULL;
    assert_int_equal(cachet_kbs_client_auth(c, "sample", &nonce), CACHET_OK);
    assert_int_equal(strlen(nonce), 44);
    assert_int_equal(strlen(cachet_kbs_client_session(c)), 32);
    cachet_pkey *k;
    assert_int_equal(cachet_pkey_generate_ec(CACHET_CURVE_P256, &k), CACHET_OK);
    char *body = attestation(f, nonce, k, nonce, k), *r1 = NULL, *r2 = NULL;
    assert_int_equal(post_attest(c, body, &r1), 200);
    assert_int_equal(post_attest(c, body, &r2), 200);
    assert_string_equal(r1, r2);
    free(r1);
    free(r2);
    free(body);
    free(nonce);
    cachet_pkey_free(k);
    cachet_kbs_client_free(c);
}

static void test_deny_all_default(void **state)
{
    kbs_fix *f = *state;
    cachet_kbs_client *c = client(f);
    assert_refused(cachet_kbs_client_attest(c, f->attester), "AttestationError");
    cachet_kbs_client_free(c);
}

/* A Trustee guest's SNP evidence (the sev crate's serde form with its VCEK
 * in cert_chain) is accepted as such: rebuilt, verified against the AMD
 * roots with the carried VCEK, and refused here only because the real
 * report's REPORT_DATA is not bound to this session's runtime data. */
static void test_trustee_snp_form(void **state)
{
    kbs_fix *f = *state;
    TU_REQUIRE_VECTORS();
    size_t jl = 0;
    uint8_t *jt = tu_read_vector("snp/genoa_trustee_e2e/evidence.json", &jl);
    json_t *prim = json_loadb((const char *)jt, jl, 0, NULL);
    assert_non_null(prim);
    free(jt);
    int64_t saved = kbs_fix_now;
    kbs_fix_now = 1748736000; /* 2025-06-01: inside the VCEK's validity */
    cachet_kbs_client *c = client(f);
    char *nonce = NULL, *resp = NULL;
    assert_int_equal(cachet_kbs_client_auth(c, "snp", &nonce), CACHET_OK);
    cachet_pkey *k;
    assert_int_equal(cachet_pkey_generate_ec(CACHET_CURVE_P256, &k), CACHET_OK);
    json_t *wire;
    cachet_runtime_data_params wp = {.nonce = nonce, .tee_pubkey = k};
    assert_int_equal(cachet_runtime_data_build(&wp, &wire), CACHET_OK);
    json_object_del(wire, "additional-evidence");
    json_t *j = json_pack("{s:n,s:O,s:{s:O,s:s}}", "init-data", "runtime-data", wire,
                          "tee-evidence", "primary_evidence", prim, "additional_evidence", "");
    char *body = json_dumps(j, JSON_COMPACT);
    assert_int_equal(post_attest(c, body, &resp), 401);
    assert_type(resp, "AttestationError");
    /* verified as far as the binding: the signature and the VCEK chain held */
    print_message("# %s\n", resp);
    assert_non_null(strstr(resp, "report_data"));
    assert_null(strstr(resp, "signature"));
    free(resp);
    free(body);
    json_decref(j);
    /* a malformed Trustee form is refused by name */
    json_object_set_new(json_object_get(prim, "attestation_report"), "surprise", json_true());
    j = json_pack("{s:n,s:O,s:{s:O,s:s}}", "init-data", "runtime-data", wire, "tee-evidence",
                  "primary_evidence", prim, "additional_evidence", "");
    body = json_dumps(j, JSON_COMPACT);
    assert_int_equal(post_attest(c, body, &resp), 401);
    assert_non_null(strstr(resp, "surprise"));
    free(resp);
    free(body);
    json_decref(j);
    json_decref(wire);
    json_decref(prim);
    free(nonce);
    cachet_pkey_free(k);
    cachet_kbs_client_free(c);
    kbs_fix_now = saved;
}

static void test_wrong_nonce(void **state)
{
    kbs_fix *f = *state;
    cachet_kbs_client *c = client(f);
    char *nonce = NULL, *resp = NULL;
    assert_int_equal(cachet_kbs_client_auth(c, "sample", &nonce), CACHET_OK);
    cachet_pkey *k;
    assert_int_equal(cachet_pkey_generate_ec(CACHET_CURVE_P256, &k), CACHET_OK);
    const char *other = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    char *body = attestation(f, other, k, other, k);
    assert_int_equal(post_attest(c, body, &resp), 401);
    assert_type(resp, "AttestationError");
    free(resp);
    free(body);
    /* evidence bound to another nonce than the one on the wire */
    body = attestation(f, other, k, nonce, k);
    assert_int_equal(post_attest(c, body, &resp), 401);
    assert_type(resp, "AttestationError");
    free(resp);
    free(body);
    free(nonce);
    cachet_pkey_free(k);
    cachet_kbs_client_free(c);
}

static void test_replayed_evidence(void **state)
{
    kbs_fix *f = *state;
    cachet_kbs_client *c = client(f);
    char *n1 = NULL, *n2 = NULL, *resp = NULL;
    cachet_pkey *k;
    assert_int_equal(cachet_pkey_generate_ec(CACHET_CURVE_P256, &k), CACHET_OK);
    assert_int_equal(cachet_kbs_client_auth(c, "sample", &n1), CACHET_OK);
    char *body = attestation(f, n1, k, n1, k);
    assert_int_equal(post_attest(c, body, &resp), 200);
    free(resp);
    /* the same evidence on a fresh session */
    assert_int_equal(cachet_kbs_client_auth(c, "sample", &n2), CACHET_OK);
    assert_string_not_equal(n1, n2);
    assert_int_equal(post_attest(c, body, &resp), 401);
    assert_type(resp, "AttestationError");
    free(resp);
    free(body);
    free(n1);
    free(n2);
    cachet_pkey_free(k);
    cachet_kbs_client_free(c);
}

static void test_other_key(void **state)
{
    kbs_fix *f = *state;
    cachet_kbs_client *c = client(f);
    char *nonce = NULL, *resp = NULL;
    cachet_pkey *k1, *k2;
    assert_int_equal(cachet_pkey_generate_ec(CACHET_CURVE_P256, &k1), CACHET_OK);
    assert_int_equal(cachet_pkey_generate_ec(CACHET_CURVE_P256, &k2), CACHET_OK);
    assert_int_equal(cachet_kbs_client_auth(c, "sample", &nonce), CACHET_OK);
    char *body = attestation(f, nonce, k1, nonce, k2);
    assert_int_equal(post_attest(c, body, &resp), 401);
    assert_type(resp, "AttestationError");
    free(resp);
    free(body);
    free(nonce);
    cachet_pkey_free(k1);
    cachet_pkey_free(k2);
    cachet_kbs_client_free(c);
}

static void test_expired_session(void **state)
{
    kbs_fix *f = *state;
    cachet_kbs_client *c = client(f);
    char *nonce = NULL, *resp = NULL;
    cachet_pkey *k;
    assert_int_equal(cachet_pkey_generate_ec(CACHET_CURVE_P256, &k), CACHET_OK);
    assert_int_equal(cachet_kbs_client_auth(c, "sample", &nonce), CACHET_OK);
    char *body = attestation(f, nonce, k, nonce, k);
    kbs_fix_now += CACHET_KBS_SESSION_TIMEOUT + 1;
    assert_int_equal(post_attest(c, body, &resp), 401);
    assert_type(resp, "AttestationError");
    free(resp);
    free(body);
    free(nonce);
    /* an attested session, then the clock passes its expiry */
    cachet_kbs_client_free(c);
    c = client(f);
    assert_int_equal(cachet_kbs_client_attest(c, f->attester), CACHET_OK);
    uint8_t *sec;
    size_t len;
    assert_int_equal(cachet_kbs_client_get_resource(c, LLAMA, &sec, &len), CACHET_OK);
    cachet_secure_free(sec);
    kbs_fix_now += CACHET_KBS_SESSION_TIMEOUT + 1;
    assert_refused(cachet_kbs_client_get_resource(c, LLAMA, &sec, &len), "TokenNotFound");
    /* and its token is expired too */
    long st;
    char url[] = "/kbs/v0/resource/" LLAMA;
    cachet_kbs_client_set_session(c, NULL);
    assert_int_equal(cachet_kbs_client_request(c, "GET", url, NULL, 0, cachet_kbs_client_token(c),
                                               &st, &resp, NULL),
                     CACHET_OK);
    assert_int_equal(st, 401);
    assert_type(resp, "TokenVerifierError");
    free(resp);
    cachet_pkey_free(k);
    cachet_kbs_client_free(c);
}

static void test_bad_cookie(void **state)
{
    kbs_fix *f = *state;
    cachet_kbs_client *c = client(f);
    char *nonce = NULL, *resp = NULL;
    cachet_pkey *k;
    assert_int_equal(cachet_pkey_generate_ec(CACHET_CURVE_P256, &k), CACHET_OK);
    assert_int_equal(cachet_kbs_client_auth(c, "sample", &nonce), CACHET_OK);
    char *body = attestation(f, nonce, k, nonce, k);
    cachet_kbs_client_set_session(c, "0123456789abcdef0123456789abcdef");
    assert_int_equal(post_attest(c, body, &resp), 401);
    assert_type(resp, "AttestationError");
    free(resp);
    cachet_kbs_client_set_session(c, "x; kbs-session-id=");
    assert_int_equal(post_attest(c, body, &resp), 401);
    free(resp);
    long st;
    cachet_kbs_client_set_session(c, "0123456789abcdef0123456789abcdef");
    assert_int_equal(cachet_kbs_client_request(c, "GET", "/kbs/v0/resource/" LLAMA, NULL, 0, NULL,
                                               &st, &resp, NULL),
                     CACHET_OK);
    assert_int_equal(st, 401);
    assert_type(resp, "TokenNotFound");
    free(resp);
    free(body);
    free(nonce);
    cachet_pkey_free(k);
    cachet_kbs_client_free(c);
}

static void test_bearer_and_tampered_token(void **state)
{
    kbs_fix *f = *state;
    cachet_kbs_client *c = client(f);
    assert_int_equal(cachet_kbs_client_attest(c, f->attester), CACHET_OK);
    char *tok = strdup(cachet_kbs_client_token(c));
    cachet_kbs_client_set_session(c, NULL);
    long st;
    char *resp = NULL;
    assert_int_equal(cachet_kbs_client_request(c, "GET", "/kbs/v0/resource/" LLAMA, NULL, 0, tok,
                                               &st, &resp, NULL),
                     CACHET_OK);
    assert_int_equal(st, 200);
    assert_non_null(strstr(resp, "\"protected\""));
    free(resp);
    /* flip one character of the signature */
    size_t n = strlen(tok);
    tok[n - 2] = tok[n - 2] == 'A' ? 'B' : 'A';
    assert_int_equal(cachet_kbs_client_request(c, "GET", "/kbs/v0/resource/" LLAMA, NULL, 0, tok,
                                               &st, &resp, NULL),
                     CACHET_OK);
    assert_int_equal(st, 401);
    assert_type(resp, "TokenVerifierError");
    free(resp);
    free(tok);
    cachet_kbs_client_free(c);
}

static void test_resource_policy(void **state)
{
    kbs_fix *f = *state;
    cachet_kbs_client *c = client(f);
    assert_int_equal(cachet_kbs_client_attest(c, f->attester), CACHET_OK);
    uint8_t *sec;
    size_t len;
    assert_int_equal(cachet_kbs_client_get_resource(c, LLAMA, &sec, &len), CACHET_OK);
    cachet_secure_free(sec);
    assert_refused(cachet_kbs_client_get_resource(c, "default/data-key/ds1", &sec, &len),
                   "PolicyDeny");
    /* allowed by the policy but absent: 404 */
    cachet_rc rc = cachet_kbs_client_get_resource(c, "default/model-key/absent", &sec, &len);
    assert_refused(rc, "PluginInternalError");
    assert_int_equal(cachet_rc_code(rc), CACHET_E_NOT_FOUND);
    long st;
    char *resp = NULL;
    assert_int_equal(cachet_kbs_client_request(c, "GET", "/kbs/v0/resource/a/b", NULL, 0, NULL,
                                               &st, &resp, NULL),
                     CACHET_OK);
    assert_int_equal(st, 404);
    assert_type(resp, "InvalidRequestPath");
    free(resp);
    assert_int_equal(cachet_kbs_client_request(c, "GET", "/kbs/v0/nosuch/x", NULL, 0, NULL, &st,
                                               &resp, NULL),
                     CACHET_OK);
    assert_int_equal(st, 404);
    assert_type(resp, "PluginNotFound");
    free(resp);
    cachet_kbs_client_free(c);
}

static void test_bad_requests(void **state)
{
    kbs_fix *f = *state;
    cachet_kbs_client *c = client(f);
    long st;
    char *resp = NULL;
    const char *old = "{\"version\":\"0.3.0\",\"tee\":\"sample\",\"extra-params\":\"\"}";
    assert_int_equal(cachet_kbs_client_request(c, "POST", "/kbs/v0/auth", old, strlen(old), NULL,
                                               &st, &resp, NULL),
                     CACHET_OK);
    assert_int_equal(st, 401);
    assert_type(resp, "SerdeError");
    free(resp);
    const char *junk = "{\"version\":";
    assert_int_equal(cachet_kbs_client_request(c, "POST", "/kbs/v0/auth", junk, strlen(junk), NULL,
                                               &st, &resp, NULL),
                     CACHET_OK);
    assert_int_equal(st, 401);
    free(resp);
    assert_int_equal(cachet_kbs_client_request(c, "GET", "/healthz", NULL, 0, NULL, &st, &resp,
                                               NULL),
                     CACHET_OK);
    assert_int_equal(st, 200);
    free(resp);
    assert_int_equal(cachet_kbs_client_request(c, "GET", "/metrics", NULL, 0, NULL, &st, &resp,
                                               NULL),
                     CACHET_OK);
    assert_int_equal(st, 200);
    assert_non_null(strstr(resp, "cachet_kbs_requests_total"));
    assert_non_null(strstr(resp, "cachet_kbs_request_seconds_bucket{endpoint=\"auth\",le=\"+Inf\"}"));
    free(resp);
    cachet_kbs_client_free(c);
}

static void test_oversized_body(void **state)
{
    kbs_fix *f = *state;
    cachet_kbs_client *c = client(f);
    size_t n = 64 << 10;
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    big[n] = 0;
    long st;
    char *resp = NULL;
    assert_int_equal(cachet_kbs_client_request(c, "POST", "/kbs/v0/auth", big, n, NULL, &st, &resp,
                                               NULL),
                     CACHET_OK);
    assert_int_equal(st, 413);
    assert_type(resp, "HTTPFailed");
    free(resp);
    free(big);
    /* the server still serves */
    uint8_t *sec;
    size_t len;
    assert_int_equal(cachet_kbs_fetch(f->url, f->attester, LLAMA, NULL, &sec, &len), CACHET_OK);
    cachet_secure_free(sec);
    cachet_kbs_client_free(c);
}

static void test_rate_limit(void **state)
{
    kbs_fix *f = *state;
    cachet_kbs_client *c = client(f);
    int limited = 0, ok = 0;
    for (int i = 0; i < 10; i++) {
        long st;
        char *resp = NULL;
        assert_int_equal(cachet_kbs_client_request(c, "GET", "/healthz", NULL, 0, NULL, &st, &resp,
                                                   NULL),
                         CACHET_OK);
        if (st == 429) {
            assert_type(resp, "HTTPFailed");
            limited++;
        } else if (st == 200) {
            ok++;
        }
        free(resp);
    }
    assert_true(ok >= 5 && ok <= 7);
    assert_true(limited >= 3);
    cachet_kbs_client_free(c);
}

static void test_https_flow(void **state)
{
    kbs_fix *f = *state;
    cachet_kbs_client_opts o = {.ca_file = f->tls_cert};
    uint8_t *secret = NULL;
    size_t len = 0;
    cachet_rc rc = cachet_kbs_fetch(f->url, f->attester, LLAMA, &o, &secret, &len);
    if (rc != CACHET_OK)
        print_message("# %s\n", cachet_err_detail());
    assert_int_equal(rc, CACHET_OK);
    assert_int_equal(len, 32);
    cachet_secure_free(secret);
    /* without the CA the client refuses the server */
    assert_int_not_equal(cachet_kbs_fetch(f->url, f->attester, LLAMA, NULL, &secret, &len),
                         CACHET_OK);
    /* plain http to a non-loopback host is refused by the client */
    cachet_kbs_client *c = NULL;
    assert_int_not_equal(cachet_kbs_client_new("http://192.0.2.1:80", NULL, &c), CACHET_OK);
}

static long admin(cachet_kbs_client *c, const char *method, const char *path, const char *body,
                  const char *tok, char **resp)
{
    long st = 0;
    assert_int_equal(cachet_kbs_client_request(c, method, path, body, body ? strlen(body) : 0, tok,
                                               &st, resp, NULL),
                     CACHET_OK);
    return st;
}

static char *policy_body(const char *policy)
{
    char *b = cachet_base64url_string((const uint8_t *)policy, strlen(policy));
    char *s = tu_asprintf("{\"policy\":\"%s\"}", b);
    free(b);
    return s;
}

static void test_admin_api(void **state)
{
    kbs_fix *f = *state;
    cachet_kbs_client *c = client(f);
    char *resp = NULL, *tok = NULL, *other_tok = NULL, *old_tok = NULL;
    cachet_pkey *other;
    assert_int_equal(cachet_ed25519_generate(&other), CACHET_OK);
    assert_int_equal(cachet_kbs_admin_token(f->admin, kbs_fix_now, 600, &tok), CACHET_OK);
    assert_int_equal(cachet_kbs_admin_token(other, kbs_fix_now, 600, &other_tok), CACHET_OK);
    assert_int_equal(cachet_kbs_admin_token(f->admin, kbs_fix_now - 7300, 7200, &old_tok),
                     CACHET_OK);
    const char *path = "/kbs/v0/resource/default/model-key/new";
    /* unsigned, another key, expired, tampered: refused */
    assert_int_equal(admin(c, "POST", path, "s1", NULL, &resp), 401);
    assert_type(resp, "AdminAuthAccess");
    free(resp);
    assert_int_equal(admin(c, "POST", path, "s1", other_tok, &resp), 401);
    assert_type(resp, "AdminAuthAccess");
    free(resp);
    assert_int_equal(admin(c, "POST", path, "s1", old_tok, &resp), 401);
    assert_type(resp, "AdminAuthAccess");
    free(resp);
    char *bad = strdup(tok);
    bad[strlen(bad) - 3] ^= 1;
    assert_int_equal(admin(c, "POST", path, "s1", bad, &resp), 401);
    free(resp);
    free(bad);
    /* signed: set, list, release, delete */
    assert_int_equal(admin(c, "POST", path, "new-secret", tok, &resp), 200);
    free(resp);
    assert_int_equal(admin(c, "GET", "/kbs/v0/resources", NULL, tok, &resp), 200);
    assert_non_null(strstr(resp, "default/model-key/new"));
    free(resp);
    uint8_t *sec;
    size_t len;
    assert_int_equal(cachet_kbs_fetch(f->url, f->attester, "default/model-key/new", NULL, &sec,
                                      &len),
                     CACHET_OK);
    assert_int_equal(len, 10);
    assert_memory_equal(sec, "new-secret", 10);
    cachet_secure_free(sec);
    assert_int_equal(admin(c, "DELETE", path, NULL, tok, &resp), 200);
    free(resp);
    assert_int_equal(admin(c, "DELETE", path, NULL, tok, &resp), 404);
    free(resp);
    /* a policy that refuses everything, then a malformed one */
    char *pb = policy_body("{\"grants\":[]}");
    assert_int_equal(admin(c, "POST", "/kbs/v0/resource-policy", pb, tok, &resp), 200);
    free(resp);
    free(pb);
    assert_refused(cachet_kbs_fetch(f->url, f->attester, LLAMA, NULL, &sec, &len), "PolicyDeny");
    pb = policy_body("{\"grants\":[{\"resource\":[]}]}");
    assert_int_equal(admin(c, "POST", "/kbs/v0/resource-policy", pb, tok, &resp), 401);
    assert_type(resp, "ParsePolicyError");
    free(resp);
    free(pb);
    pb = policy_body("{\"rules\":[{\"name\":\"x\",\"tee\":[\"nosuch\"]}]}");
    assert_int_equal(admin(c, "POST", "/kbs/v0/attestation-policy", pb, tok, &resp), 401);
    assert_type(resp, "ParsePolicyError");
    free(resp);
    free(pb);
    assert_int_equal(admin(c, "GET", "/kbs/v0/resource-policy", NULL, tok, &resp), 200);
    assert_string_equal(resp, "{\"grants\":[]}");
    free(resp);
    /* the audit log: admin changes, attestations, releases and refusals, no secret */
    assert_int_equal(admin(c, "GET", "/kbs/v0/audit", NULL, tok, &resp), 200);
    assert_non_null(strstr(resp, "\"event\":\"admin\""));
    assert_non_null(strstr(resp, "\"event\":\"attest\""));
    assert_non_null(strstr(resp, "\"event\":\"resource\""));
    assert_non_null(strstr(resp, "PolicyDeny"));
    assert_non_null(strstr(resp, "AdminAuthAccess"));
    assert_null(strstr(resp, "new-secret"));
    assert_null(strstr(resp, "eyJ"));
    free(resp);
    assert_int_equal(admin(c, "GET", "/kbs/v0/audit?after=x", NULL, tok, &resp), 404);
    free(resp);
    free(tok);
    free(other_tok);
    free(old_tok);
    cachet_pkey_free(other);
    cachet_kbs_client_free(c);
}

/* Refusals with the reason: debug mode, wrong measurement (policy set
 * through the admin API). */
static void test_debug_and_measurement(void **state)
{
    kbs_fix *f = *state;
    cachet_attester *dbg = NULL;
    cachet_sample_opts so = {.key_path = f->sample_key, .svn = 1, .debug = true};
    assert_int_equal(cachet_attester_sample_new(&so, &dbg, NULL), CACHET_OK);
    uint8_t *sec;
    size_t len;
    cachet_rc rc = cachet_kbs_fetch(f->url, dbg, LLAMA, NULL, &sec, &len);
    assert_refused(rc, "AttestationError");
    assert_non_null(strstr(cachet_err_detail(), "debug"));
    cachet_attester_free(dbg);
    char *tok = NULL, *resp = NULL;
    assert_int_equal(cachet_kbs_admin_token(f->admin, kbs_fix_now, 600, &tok), CACHET_OK);
    char *pb = policy_body("{\"rules\":[{\"name\":\"dev\",\"tee\":[\"sample\"],\"status\":"
                           "[\"affirming\",\"warning\"],\"measurement\":[\"0000000000000000000"
                           "00000000000000000000000000000000000000000000000000000000000000000000000"
                           "000000\"]}]}");
    cachet_kbs_client *c = client(f);
    assert_int_equal(admin(c, "POST", "/kbs/v0/attestation-policy", pb, tok, &resp), 200);
    free(resp);
    rc = cachet_kbs_fetch(f->url, f->attester, LLAMA, NULL, &sec, &len);
    assert_refused(rc, "AttestationError");
    assert_non_null(strstr(cachet_err_detail(), "admits no rule"));
    free(pb);
    free(tok);
    cachet_kbs_client_free(c);
}

/* docs/serve.md §1: a server binds its model's content digest as runtime
 * data "user-data"; the broker's policy pins it through claim user_data, so
 * the model key goes only to a server that will load exactly that model. */
static cachet_rc fetch_with_user_data(kbs_fix *f, const uint8_t *ud, size_t ud_len)
{
    cachet_kbs_client *c = client(f);
    uint8_t *sec = NULL;
    size_t len = 0;
    cachet_rc rc = cachet_kbs_client_set_user_data(c, ud, ud_len);
    if (rc == CACHET_OK)
        rc = cachet_kbs_client_attest(c, f->attester);
    if (rc == CACHET_OK)
        rc = cachet_kbs_client_get_resource(c, LLAMA, &sec, &len);
    cachet_secure_free(sec);
    cachet_kbs_client_free(c);
    return rc;
}

static void test_model_digest_pinned(void **state)
{
    kbs_fix *f = *state;
    uint8_t model[32], other[32];
    memset(model, 0xA5, sizeof model);
    memset(other, 0x5A, sizeof other);
    char *tok = NULL, *resp = NULL;
    assert_int_equal(cachet_kbs_admin_token(f->admin, kbs_fix_now, 600, &tok), CACHET_OK);
    char *pb = policy_body("{\"rules\":[{\"name\":\"dev\",\"tee\":[\"sample\"],\"status\":"
                           "[\"affirming\",\"warning\"],\"claims\":{\"user_data\":[\""
                           "a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5\"]}}]}");
    cachet_kbs_client *c = client(f);
    assert_int_equal(admin(c, "POST", "/kbs/v0/attestation-policy", pb, tok, &resp), 200);
    free(resp);
    cachet_kbs_client_free(c);
    free(pb);
    free(tok);
    cachet_rc rc = fetch_with_user_data(f, model, sizeof model);
    if (rc != CACHET_OK)
        print_message("# %s\n", cachet_err_detail());
    assert_int_equal(rc, CACHET_OK);
    rc = fetch_with_user_data(f, other, sizeof other);
    assert_refused(rc, "AttestationError");
    assert_non_null(strstr(cachet_err_detail(), "admits no rule"));
    /* no user-data at all: the claim is absent, the condition fails */
    rc = fetch_with_user_data(f, NULL, 0);
    assert_refused(rc, "AttestationError");
    uint8_t big[65] = {0};
    c = client(f);
    assert_int_equal(cachet_rc_code(cachet_kbs_client_set_user_data(c, big, sizeof big)),
                     CACHET_E_LIMIT);
    cachet_kbs_client_free(c);
}

#define LOAD_THREADS 8
#define LOAD_FLOWS 6

typedef struct load_arg {
    kbs_fix *f;
    int ok, failed;
    char why[256];
} load_arg;

static void *load_worker(void *p)
{
    load_arg *a = p;
    cachet_attester *att = NULL;
    cachet_sample_opts so = {.key_path = a->f->sample_key, .svn = 1};
    if (cachet_attester_sample_new(&so, &att, NULL) != CACHET_OK) {
        a->failed = LOAD_FLOWS;
        return NULL;
    }
    for (int i = 0; i < LOAD_FLOWS; i++) {
        uint8_t *sec = NULL;
        size_t len = 0;
        if (cachet_kbs_fetch(a->f->url, att, LLAMA, NULL, &sec, &len) == CACHET_OK && len == 32) {
            a->ok++;
        } else {
            a->failed++;
            snprintf(a->why, sizeof a->why, "%s", cachet_err_detail());
        }
        cachet_secure_free(sec);
    }
    cachet_attester_free(att);
    return NULL;
}

/* N concurrent clients running auth -> attest -> resource: zero errors. */
static void test_concurrent_load(void **state)
{
    kbs_fix *f = *state;
    pthread_t th[LOAD_THREADS];
    load_arg args[LOAD_THREADS];
    for (int i = 0; i < LOAD_THREADS; i++) {
        args[i] = (load_arg){.f = f};
        assert_int_equal(pthread_create(&th[i], NULL, load_worker, &args[i]), 0);
    }
    int ok = 0, failed = 0;
    for (int i = 0; i < LOAD_THREADS; i++) {
        pthread_join(th[i], NULL);
        ok += args[i].ok;
        failed += args[i].failed;
        if (args[i].failed)
            print_message("# worker %d: %s\n", i, args[i].why);
    }
    assert_int_equal(failed, 0);
    assert_int_equal(ok, LOAD_THREADS * LOAD_FLOWS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_full_flow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attest_again_returns_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deny_all_default, setup_deny, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_nonce, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trustee_snp_form, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replayed_evidence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_cookie, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bearer_and_tampered_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resource_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oversized_body, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_rate_limit, setup_limited, teardown),
        cmocka_unit_test_setup_teardown(test_admin_api, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_load, setup_load, teardown),
        cmocka_unit_test_setup_teardown(test_debug_and_measurement, setup, teardown),
        cmocka_unit_test_setup_teardown(test_model_digest_pinned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_https_flow, setup_https, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
