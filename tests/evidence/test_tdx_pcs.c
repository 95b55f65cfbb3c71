/* Intel PCS collateral (src/evidence/tdx/pcs.c) over a fake transport that
 * serves the real b0c06f collateral split into PCS response shapes (bodies,
 * URL-encoded issuer-chain headers, DER CRLs): the quote verifies from what
 * was "fetched", the cache answers a second run, a 404 or a tampered
 * document never affirms, Retry-After is honoured; and `cachet verify
 * --online` against a closed loopback port.  Never touches the network. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testutil.h"

#include <jansson.h>
#include <microhttpd.h>

#include "cachet/clock.h"
#include "cachet/collateral.h"
#include "cachet/encoding.h"
#include "ev_assert.h"
#include "evidence/tdx/pcs.h"

#define B0C06F "tdx/b0c06f_v4_dcapqvl_2025-06"
#define AT "2025-07-19T10:00:34Z"
#define SGX "other/sgx_00a067110000_dcapqvl_2025-06"

static char *workdir;

/* ---- a fake PCS ------------------------------------------------------------------ */

typedef struct route {
    char url[TDX_PCS_URL_MAX];
    uint8_t *body;
    size_t len;
    char *hdr;
    int status;
    int64_t retry_after;
} route;

typedef struct fake_pcs {
    route r[TDX_PCS_N_DOCS];
    int calls;
    int hdr_asks; /* requests that named issuer-chain headers */
} fake_pcs;

static cachet_rc fake_get(void *arg, const char *url, const char *const *hdr_names, char **hdr,
                          uint8_t **body, size_t *len, int *status, int64_t *retry_after)
{
    fake_pcs *f = arg;
    f->calls++;
    if (hdr_names)
        f->hdr_asks++;
    *hdr = NULL;
    *retry_after = 0;
    for (size_t i = 0; i < TDX_PCS_N_DOCS; i++) {
        const route *r = &f->r[i];
        if (strcmp(r->url, url) != 0)
            continue;
        *status = r->status ? r->status : 200;
        *retry_after = r->retry_after;
        *len = r->len;
        *body = malloc(r->len + 1);
        assert_non_null(*body);
        memcpy(*body, r->body, r->len);
        if (r->hdr && hdr_names)
            *hdr = strdup(r->hdr);
        return CACHET_OK;
    }
    *status = 404;
    *body = NULL;
    *len = 0;
    return CACHET_OK;
}

static char *urlencode(const char *s)
{
    size_t n = strlen(s);
    char *o = malloc(3 * n + 1), *p = o;
    assert_non_null(o);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~')
            *p++ = (char)c;
        else
            p += sprintf(p, "%%%02X", c);
    }
    *p = 0;
    return o;
}

static uint8_t *unhex(const char *hex, size_t *len)
{
    size_t cap = strlen(hex) / 2 + 1;
    uint8_t *b = malloc(cap);
    assert_non_null(b);
    assert_int_equal(cachet_hex_decode(hex, b, cap, len), CACHET_OK);
    return b;
}

static const char *jstr(const json_t *j, const char *k)
{
    const char *s = json_string_value(json_object_get(j, k));
    assert_non_null(s);
    return s;
}

/* A vector's combined collateral as Intel PCS would answer it. */
static void fake_init_from(fake_pcs *f, const char *rel, tdx_family fam, const char *fmspc_hex,
                           tdx_pck_ca ca)
{
    size_t n = 0;
    uint8_t *raw = tu_read_vector(rel, &n);
    if (!raw) {
        print_message("# SKIP vector %s not found\n", rel);
        skip();
    }
    json_error_t je;
    json_t *c = json_loadb((const char *)raw, n, 0, &je);
    assert_non_null(c);
    free(raw);
    memset(f, 0, sizeof *f);
    uint8_t fmspc[6];
    assert_int_equal(cachet_hex_decode(fmspc_hex, fmspc, sizeof fmspc, &n), CACHET_OK);
    for (int d = 0; d < TDX_PCS_N_DOCS; d++)
        assert_int_equal(tdx_pcs_url(fam, (tdx_pcs_doc)d, fmspc, ca,
                                     f->r[d].url, sizeof f->r[d].url), CACHET_OK);
    char *b = tu_asprintf("{\"tcbInfo\":%s,\"signature\":\"%s\"}", jstr(c, "tcb_info"),
                          jstr(c, "tcb_info_signature"));
    f->r[TDX_PCS_TCB_INFO].body = (uint8_t *)b;
    f->r[TDX_PCS_TCB_INFO].len = strlen(b);
    f->r[TDX_PCS_TCB_INFO].hdr = urlencode(jstr(c, "tcb_info_issuer_chain"));
    b = tu_asprintf("{\"enclaveIdentity\":%s,\"signature\":\"%s\"}", jstr(c, "qe_identity"),
                    jstr(c, "qe_identity_signature"));
    f->r[TDX_PCS_QE_IDENTITY].body = (uint8_t *)b;
    f->r[TDX_PCS_QE_IDENTITY].len = strlen(b);
    f->r[TDX_PCS_QE_IDENTITY].hdr = urlencode(jstr(c, "qe_identity_issuer_chain"));
    f->r[TDX_PCS_PCK_CRL].body = unhex(jstr(c, "pck_crl"), &f->r[TDX_PCS_PCK_CRL].len);
    f->r[TDX_PCS_ROOT_CRL].body = unhex(jstr(c, "root_ca_crl"), &f->r[TDX_PCS_ROOT_CRL].len);
    json_decref(c);
}

static void fake_init(fake_pcs *f)
{
    fake_init_from(f, B0C06F "/collateral.json", TDX_FAM_TDX, "b0c06f000000",
                   TDX_PCK_CA_PLATFORM);
}

static void fake_free(fake_pcs *f)
{
    for (int d = 0; d < TDX_PCS_N_DOCS; d++) {
        free(f->r[d].body);
        free(f->r[d].hdr);
    }
}

/* ---- helpers --------------------------------------------------------------------- */

static int64_t at(void)
{
    int64_t t = 0;
    assert_int_equal(cachet_time_parse_rfc3339(AT, &t), CACHET_OK);
    return t;
}

static uint8_t *quote(size_t *len)
{
    uint8_t *q = tu_read_vector(B0C06F "/quote.bin", len);
    if (!q) {
        print_message("# SKIP vector %s not found\n", B0C06F);
        skip();
    }
    return q;
}

static cachet_verify_result *verify(const uint8_t *q, size_t len, const cachet_endorsements *e)
{
    cachet_verify_request req = { .evidence = q, .evidence_len = len, .tee = "tdx",
                                  .endorsements = e, .time = at() };
    cachet_verify_result *res = NULL;
    assert_int_equal(cachet_evidence_verify(&req, &res), CACHET_OK);
    assert_non_null(res);
    return res;
}

static const char *tcb_status(const cachet_verify_result *r)
{
    const char *s = json_string_value(json_object_get(r->claims, "tcb_status"));
    return s ? s : "";
}

/* ---- tests ----------------------------------------------------------------------- */

static void test_urls(void **st)
{
    (void)st;
    char u[TDX_PCS_URL_MAX];
    static const uint8_t fmspc[6] = { 0x00, 0xa0, 0x6d, 0x08, 0, 0 };
    assert_int_equal(tdx_pcs_url(TDX_FAM_TDX, TDX_PCS_TCB_INFO, fmspc, TDX_PCK_CA_UNKNOWN, u,
                                 sizeof u), CACHET_OK);
    assert_string_equal(u, "https://api.trustedservices.intel.com/tdx/certification/v4/tcb"
                           "?fmspc=00a06d080000");
    assert_int_equal(tdx_pcs_url(TDX_FAM_SGX, TDX_PCS_QE_IDENTITY, NULL, TDX_PCK_CA_UNKNOWN, u,
                                 sizeof u), CACHET_OK);
    assert_string_equal(u, "https://api.trustedservices.intel.com/sgx/certification/v4/qe/identity");
    assert_int_equal(tdx_pcs_url(TDX_FAM_TDX, TDX_PCS_PCK_CRL, NULL, TDX_PCK_CA_PROCESSOR, u,
                                 sizeof u), CACHET_OK);
    assert_string_equal(u, "https://api.trustedservices.intel.com/sgx/certification/v4/pckcrl"
                           "?ca=processor&encoding=der");
    assert_int_equal(tdx_pcs_url(TDX_FAM_TDX, TDX_PCS_ROOT_CRL, NULL, TDX_PCK_CA_UNKNOWN, u,
                                 sizeof u), CACHET_OK);
    assert_string_equal(u, "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der");
    assert_int_not_equal(tdx_pcs_url(TDX_FAM_TDX, TDX_PCS_PCK_CRL, NULL, TDX_PCK_CA_UNKNOWN, u,
                                     sizeof u), CACHET_OK);
    assert_int_not_equal(tdx_pcs_url(TDX_FAM_TDX, TDX_PCS_TCB_INFO, fmspc, TDX_PCK_CA_UNKNOWN, u,
                                     20), CACHET_OK);
    assert_string_equal(u, "");
}

/* Only fetched collateral: affirming, UpToDate; a second run is all cache. */
static void test_fetch_then_cache(void **st)
{
    (void)st;
    size_t len;
    uint8_t *q = quote(&len);
    fake_pcs f;
    fake_init(&f);
    char *dir = tu_asprintf("%s/cache1", workdir);
    tdx_pcs_opts o = { .cache_dir = dir, .get = fake_get, .get_arg = &f, .now = at() };

    cachet_endorsements *e = cachet_endorsements_new();
    size_t added = 0;
    assert_int_equal(tdx_pcs_collect(&o, q, len, e, &added), CACHET_OK);
    assert_int_equal(added, 4);
    assert_int_equal(f.calls, 4);
    assert_int_equal(f.hdr_asks, 2); /* TCB info and QE identity carry their chains */
    assert_int_equal(cachet_endorsements_count(e), 6);
    cachet_verify_result *r = verify(q, len, e);
    ev_assert_verdict(r, CACHET_EV_AFFIRMING, true);
    ev_assert_no_failures(r);
    ev_assert_pass(r, "tdx.tcb_info.signature");
    assert_string_equal(tcb_status(r), "UpToDate");
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);

    /* Second run: from the cache only, the same verdict. */
    e = cachet_endorsements_new();
    assert_int_equal(tdx_pcs_collect(&o, q, len, e, &added), CACHET_OK);
    assert_int_equal(added, 4);
    assert_int_equal(f.calls, 4);
    r = verify(q, len, e);
    ev_assert_verdict(r, CACHET_EV_AFFIRMING, true);
    cachet_verify_result_free(r);

    /* Nothing missing: nothing fetched or added. */
    assert_int_equal(tdx_pcs_collect(&o, q, len, e, &added), CACHET_OK);
    assert_int_equal(added, 0);
    assert_int_equal(f.calls, 4);
    cachet_endorsements_free(e);

    /* Offline (no transport): the cache still answers; past nextUpdate a
     * cached document is stale and is not used. */
    tdx_pcs_opts off = { .cache_dir = dir, .now = at() };
    e = cachet_endorsements_new();
    assert_int_equal(tdx_pcs_collect(&off, q, len, e, &added), CACHET_OK);
    assert_int_equal(added, 4);
    cachet_endorsements_free(e);
    off.now = at() + 400 * 86400;
    e = cachet_endorsements_new();
    assert_int_not_equal(tdx_pcs_collect(&off, q, len, e, &added), CACHET_OK);
    assert_non_null(strstr(cachet_err_detail(), "not cached"));
    cachet_endorsements_free(e);

    /* A damaged cache entry is dropped and fetched again. */
    o.cache_dir = tu_asprintf("%s/cache1b", workdir);
    e = cachet_endorsements_new();
    assert_int_equal(tdx_pcs_collect(&o, q, len, e, &added), CACHET_OK);
    cachet_endorsements_free(e);
    uint8_t *b = NULL, *b2 = NULL;
    size_t n = 0, n2 = 0;
    char *chain = NULL;
    int before = f.calls;
    assert_int_equal(tdx_pcs_get(&o, f.r[TDX_PCS_TCB_INFO].url, TDX_PCS_TCB_INFO, NULL, &b, &n,
                                 &chain), CACHET_OK);
    assert_int_equal(f.calls, before);
    free(chain);
    /* overwrite every cached body with garbage */
    assert_int_equal(tu_system("for f in '%s'/*.pcs; do echo garbage > \"$f\"; done",
                               o.cache_dir), 0);
    assert_int_equal(tdx_pcs_get(&o, f.r[TDX_PCS_TCB_INFO].url, TDX_PCS_TCB_INFO, NULL, &b2, &n2,
                                 &chain), CACHET_OK);
    assert_int_equal(f.calls, before + 1);
    assert_int_equal(n, n2);
    assert_memory_equal(b, b2, n);
    free(chain);
    free(b);
    free(b2);
    free((char *)o.cache_dir);
    free(dir);
    free(q);
    fake_free(&f);
}

/* A 404 for TCB info: reported, the rest is added, never affirming. */
static void test_404(void **st)
{
    (void)st;
    size_t len;
    uint8_t *q = quote(&len);
    fake_pcs f;
    fake_init(&f);
    f.r[TDX_PCS_TCB_INFO].status = 404;
    tdx_pcs_opts o = { .get = fake_get, .get_arg = &f, .now = at() };
    cachet_endorsements *e = cachet_endorsements_new();
    size_t added = 0;
    cachet_rc rc = tdx_pcs_collect(&o, q, len, e, &added);
    assert_int_equal(rc, CACHET_RC(CACHET_SUB_EVIDENCE, CACHET_E_NOT_FOUND));
    assert_non_null(strstr(cachet_err_detail(), "TCB info"));
    assert_non_null(strstr(cachet_err_detail(), "HTTP 404"));
    assert_int_equal(added, 3);
    cachet_verify_result *r = verify(q, len, e);
    assert_int_not_equal(r->status, CACHET_EV_AFFIRMING);
    assert_int_not_equal(r->status, CACHET_EV_CONTRAINDICATED);
    assert_string_equal(tcb_status(r), "unknown");
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);

    /* A missing issuer-chain header makes the TCB info unusable. */
    f.r[TDX_PCS_TCB_INFO].status = 0;
    free(f.r[TDX_PCS_TCB_INFO].hdr);
    f.r[TDX_PCS_TCB_INFO].hdr = NULL;
    e = cachet_endorsements_new();
    assert_int_not_equal(tdx_pcs_collect(&o, q, len, e, &added), CACHET_OK);
    assert_non_null(strstr(cachet_err_detail(), "issuer-chain"));
    cachet_endorsements_free(e);
    free(q);
    fake_free(&f);
}

/* A tampered TCB info (still well-formed) is fetched, and its signature fails. */
static void test_tampered(void **st)
{
    (void)st;
    size_t len;
    uint8_t *q = quote(&len);
    fake_pcs f;
    fake_init(&f);
    char *b = (char *)f.r[TDX_PCS_TCB_INFO].body;
    char *p = strstr(b, "\"tcbEvaluationDataNumber\":");
    assert_non_null(p);
    p += strlen("\"tcbEvaluationDataNumber\":");
    *p = *p == '9' ? '8' : (char)(*p + 1);
    char *dir = tu_asprintf("%s/cache3", workdir);
    tdx_pcs_opts o = { .cache_dir = dir, .get = fake_get, .get_arg = &f, .now = at() };
    cachet_endorsements *e = cachet_endorsements_new();
    size_t added = 0;
    assert_int_equal(tdx_pcs_collect(&o, q, len, e, &added), CACHET_OK);
    cachet_verify_result *r = verify(q, len, e);
    ev_assert_fail(r, "tdx.tcb_info.signature");
    assert_int_not_equal(r->status, CACHET_EV_AFFIRMING);
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);

    /* ... and again from the cache: re-verified, it fails again. */
    e = cachet_endorsements_new();
    int calls = f.calls;
    assert_int_equal(tdx_pcs_collect(&o, q, len, e, &added), CACHET_OK);
    assert_int_equal(f.calls, calls);
    r = verify(q, len, e);
    ev_assert_fail(r, "tdx.tcb_info.signature");
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
    free(dir);
    free(q);
    fake_free(&f);
}

/* 429 with Retry-After: no request before that time. */
static void test_retry_after(void **st)
{
    (void)st;
    size_t len;
    uint8_t *q = quote(&len);
    fake_pcs f;
    fake_init(&f);
    f.r[TDX_PCS_TCB_INFO].status = 429;
    f.r[TDX_PCS_TCB_INFO].retry_after = 120;
    char *dir = tu_asprintf("%s/cache4", workdir);
    tdx_pcs_opts o = { .cache_dir = dir, .get = fake_get, .get_arg = &f, .now = at() };
    cachet_endorsements *e = cachet_endorsements_new();
    size_t added = 0;
    assert_int_equal(tdx_pcs_collect(&o, q, len, e, &added),
                     CACHET_RC(CACHET_SUB_EVIDENCE, CACHET_E_LIMIT));
    assert_int_equal(f.calls, 1); /* the rest waits too */
    assert_int_equal(added, 0);
    cachet_endorsements_free(e);
    f.r[TDX_PCS_TCB_INFO].status = 0;
    o.now = at() + 60;
    e = cachet_endorsements_new();
    assert_int_not_equal(tdx_pcs_collect(&o, q, len, e, &added), CACHET_OK);
    assert_non_null(strstr(cachet_err_detail(), "rate-limited"));
    assert_int_equal(f.calls, 1);
    cachet_endorsements_free(e);
    o.now = at() + 121;
    e = cachet_endorsements_new();
    assert_int_equal(tdx_pcs_collect(&o, q, len, e, &added), CACHET_OK);
    assert_int_equal(f.calls, 5);
    cachet_endorsements_free(e);
    free(dir);
    free(q);
    fake_free(&f);
}

/* An SGX quote (v3): /sgx paths, the "QE" identity, the same verdict as with files. */
static void test_sgx(void **st)
{
    (void)st;
    size_t len;
    uint8_t *q = tu_read_vector(SGX "/quote.bin", &len);
    if (!q) {
        print_message("# SKIP vector %s not found\n", SGX);
        skip();
    }
    fake_pcs f;
    fake_init_from(&f, SGX "/collateral.json", TDX_FAM_SGX, "00a067110000",
                   TDX_PCK_CA_PROCESSOR); /* the PCK chain names the Processor CA */
    tdx_pcs_opts o = { .get = fake_get, .get_arg = &f, .now = at() };
    cachet_endorsements *e = cachet_endorsements_new();
    size_t added = 0;
    cachet_rc rc = tdx_pcs_collect(&o, q, len, e, &added);
    if (rc != CACHET_OK)
        fail_msg("%s", cachet_err_detail());
    assert_int_equal(added, 4);
    assert_non_null(strstr(f.r[TDX_PCS_TCB_INFO].url, "/sgx/certification/v4/tcb?fmspc="));
    int64_t t = 0;
    assert_int_equal(cachet_time_parse_rfc3339("2025-07-19T10:01:17Z", &t), CACHET_OK);
    cachet_verify_request req = { .evidence = q, .evidence_len = len, .tee = "sgx",
                                  .endorsements = e, .time = t };
    cachet_verify_result *r = NULL;
    assert_int_equal(cachet_evidence_verify(&req, &r), CACHET_OK);
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    ev_assert_no_failures(r);
    assert_string_equal(tcb_status(r), "ConfigurationAndSWHardeningNeeded");
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
    free(q);
    fake_free(&f);
}

/* ---- the CLI --------------------------------------------------------------------- */

static unsigned short closed_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s >= 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0 };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
    close(s); /* nothing listens there now */
    return ntohs(sa.sin_port);
}

static void test_cli_unreachable(void **st)
{
    (void)st;
    TU_REQUIRE_VECTORS();
    char *qp = tu_vector_path(B0C06F "/quote.bin");
    if (!qp) {
        print_message("# SKIP vector %s not found\n", B0C06F);
        skip();
    }
    char *base = tu_asprintf("http://127.0.0.1:%u", closed_port());
    setenv("CACHET_PCS_URL", base, 1);
    char *out = NULL, *err = NULL;
    int rc = tu_run_cachet(&out, &err, "verify --json --online --cache-dir '%s/pcs' --at " AT
                                       " '%s'", workdir, qp);
    assert_int_equal(rc, 0); /* offline: no collateral, a warning, not a crash */
    if (!strstr(err, "Intel PCS collateral not fetched") ||
        !strstr(err, "verifying with what was given"))
        fail_msg("stderr: %s", err);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "warning");
    bool found = false;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(j, "errors"), i, v)
        if (strstr(json_string_value(v), "--online: Intel PCS collateral not fetched"))
            found = true;
    assert_true(found);
    json_decref(j);
    free(out);
    free(err);

    /* With the collateral given, nothing is fetched and nothing fails. */
    char *col = tu_vector_path(B0C06F "/collateral.json");
    rc = tu_run_cachet(&out, &err, "verify --json --online --cache-dir '%s/pcs' --at " AT
                                   " '%s' '%s'", workdir, qp, col);
    assert_int_equal(rc, 0);
    if (!strstr(err, "nothing fetched"))
        fail_msg("stderr: %s", err);
    assert_non_null(strstr(out, "\"affirming\""));
    free(out);
    free(err);
    free(col);
    unsetenv("CACHET_PCS_URL");
    free(base);
    free(qp);
}

/* ---- the real transport against a local "PCS" (loopback, plain http) ---------------- */

typedef struct srv {
    const fake_pcs *f;
    int hits;
} srv;

static const char *const doc_path[TDX_PCS_N_DOCS] = {
    "/tdx/certification/v4/tcb", "/tdx/certification/v4/qe/identity",
    "/sgx/certification/v4/pckcrl", "/IntelSGXRootCA.der",
};
static const char *const doc_hdr[TDX_PCS_N_DOCS] = { "TCB-Info-Issuer-Chain",
                                                     "SGX-Enclave-Identity-Issuer-Chain", NULL,
                                                     NULL };

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_len, void **state)
{
    (void)method, (void)version, (void)upload, (void)upload_len;
    static int first;
    srv *s = cls;
    if (*state != &first) {
        *state = &first; /* answer on the second call, per libmicrohttpd */
        return MHD_YES;
    }
    int d = -1;
    for (int i = 0; i < TDX_PCS_N_DOCS && d < 0; i++)
        if (strcmp(url, doc_path[i]) == 0)
            d = i;
    static const char nf[] = "not found";
    struct MHD_Response *resp;
    unsigned status = 404;
    if (d < 0) {
        resp = MHD_create_response_from_buffer(sizeof nf - 1, (void *)nf, MHD_RESPMEM_PERSISTENT);
    } else {
        __atomic_fetch_add(&s->hits, 1, __ATOMIC_SEQ_CST);
        status = 200;
        resp = MHD_create_response_from_buffer(s->f->r[d].len, s->f->r[d].body,
                                               MHD_RESPMEM_PERSISTENT);
        if (resp && doc_hdr[d])
            MHD_add_response_header(resp, doc_hdr[d], s->f->r[d].hdr);
    }
    if (!resp)
        return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void test_local_pcs(void **st)
{
    (void)st;
    char *qp = tu_vector_path(B0C06F "/quote.bin");
    if (!qp) {
        print_message("# SKIP vector %s not found\n", B0C06F);
        skip();
    }
    fake_pcs f;
    fake_init(&f);
    srv s = { .f = &f };
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0 };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *dmn = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handler,
        &s, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
    assert_non_null(dmn);
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(dmn, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null(di);
    char *base = tu_asprintf("http://127.0.0.1:%u", di->port);

    /* The transport keeps the named header (the first of the names present). */
    cachet_http_opts ho = { .timeout_s = 10, .allow_loopback_http = true };
    static const char *const names[] = { "X-Absent", "tcb-info-issuer-chain", NULL };
    char *u = tu_asprintf("%s%s", base, doc_path[TDX_PCS_TCB_INFO]);
    uint8_t *b = NULL;
    size_t n = 0;
    int status = 0;
    int64_t ra = 0;
    char *hdr = NULL;
    assert_int_equal(cachet_http_get_hdr(&ho, u, names, &hdr, &b, &n, &status, &ra), CACHET_OK);
    assert_int_equal(status, 200);
    assert_non_null(hdr);
    assert_string_equal(hdr, f.r[TDX_PCS_TCB_INFO].hdr);
    assert_int_equal(n, f.r[TDX_PCS_TCB_INFO].len);
    free(b);
    free(hdr);
    free(u);
    u = tu_asprintf("%s%s", base, doc_path[TDX_PCS_ROOT_CRL]);
    hdr = (char *)"x";
    assert_int_equal(cachet_http_get_hdr(&ho, u, names, &hdr, &b, &n, &status, &ra), CACHET_OK);
    assert_null(hdr);
    free(b);
    free(u);

    /* cachet verify --online fetches all four, verifies affirming, caches. */
    setenv("CACHET_PCS_URL", base, 1);
    char *out = NULL, *err = NULL;
    int rc = tu_run_cachet(&out, &err, "verify --json --online --cache-dir '%s/pcs-local' --at "
                                       AT " '%s'", workdir, qp);
    if (rc != 0 || !strstr(out, "\"affirming\""))
        fail_msg("rc %d stdout %s stderr %s", rc, out, err);
    assert_non_null(strstr(err, "--online: got https://api.trustedservices.intel.com/tdx/"
                                "certification/v4/tcb?fmspc=b0c06f000000"));
    assert_int_equal(s.hits, 4 + 2); /* and the two direct requests above */
    free(out);
    free(err);
    rc = tu_run_cachet(&out, &err, "verify --json --online --cache-dir '%s/pcs-local' --at " AT
                                   " '%s'", workdir, qp);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "\"affirming\""));
    assert_int_equal(s.hits, 6); /* all from the cache */
    free(out);
    free(err);
    unsetenv("CACHET_PCS_URL");
    MHD_stop_daemon(dmn);
    free(base);
    free(qp);
    fake_free(&f);
}

static int setup(void **state)
{
    (void)state;
    workdir = tu_mkdtemp();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(workdir);
    free(workdir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_fetch_then_cache),
        cmocka_unit_test(test_404),
        cmocka_unit_test(test_tampered),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_sgx),
        cmocka_unit_test(test_cli_unreachable),
        cmocka_unit_test(test_local_pcs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
