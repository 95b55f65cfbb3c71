/* The libcurl collateral transport (src/collateral/http.c) against a real
 * HTTP server on 127.0.0.1 (libmicrohttpd, in this process): bodies, the
 * size cap (known length and chunked), the total timeout, status codes and
 * Retry-After, no redirects, the https-only rule and its loopback test hook;
 * snp_kds_get over it; and `cachet verify --online` with an unreachable and
 * a reachable (local) KDS.  Never touches the network. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#include <jansson.h>

#include "cachet/collateral.h"
#include "evidence/snp/kds.h"
#include "snp_gen.h"

/* ---- a local server -------------------------------------------------------------- */

typedef struct srv_route {
    const char *prefix;        /* matched against the path (no query) */
    int status;
    const uint8_t *body;
    size_t len;
    const char *header, *value;
    unsigned delay_ms;
    bool chunked;              /* no Content-Length */
    int hits;
} srv_route;

#define MAX_ROUTES 12
static srv_route routes[MAX_ROUTES];
static size_t n_routes;
static struct MHD_Daemon *daemon_;
static unsigned short port;
static char *workdir;
static uint8_t *big;
#define BIG_LEN (((size_t)1 << 20) + 1)

static void route(const char *prefix, int status, const void *body, size_t len)
{
    assert_true(n_routes < MAX_ROUTES);
    routes[n_routes++] = (srv_route){ .prefix = prefix, .status = status, .body = body, .len = len };
}

static ssize_t chunk_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
    const srv_route *r = cls;
    if (pos >= r->len)
        return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = r->len - (size_t)pos;
    if (n > max)
        n = max;
    memcpy(buf, r->body + pos, n);
    return (ssize_t)n;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_len, void **state)
{
    (void)cls, (void)method, (void)version, (void)upload, (void)upload_len;
    static int first;
    if (*state != &first) {
        *state = &first; /* answer on the second call, per libmicrohttpd */
        return MHD_YES;
    }
    srv_route *r = NULL;
    for (size_t i = 0; i < n_routes && !r; i++)
        if (strncmp(url, routes[i].prefix, strlen(routes[i].prefix)) == 0)
            r = &routes[i];
    static const char nf[] = "not found";
    struct MHD_Response *resp;
    int status = 404;
    if (!r) {
        resp = MHD_create_response_from_buffer(sizeof nf - 1, (void *)nf, MHD_RESPMEM_PERSISTENT);
    } else {
        __atomic_fetch_add(&r->hits, 1, __ATOMIC_SEQ_CST);
        if (r->delay_ms)
            usleep(r->delay_ms * 1000u);
        status = r->status;
        resp = r->chunked
                   ? MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, chunk_cb, r, NULL)
                   : MHD_create_response_from_buffer(r->len, (void *)r->body,
                                                     MHD_RESPMEM_PERSISTENT);
        if (resp && r->header)
            MHD_add_response_header(resp, r->header, r->value);
    }
    if (!resp)
        return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static int setup(void **st)
{
    (void)st;
    n_routes = 0;
    memset(routes, 0, sizeof routes);
    workdir = tu_mkdtemp();
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0 };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    daemon_ = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0,
                               NULL, NULL, handler, NULL, MHD_OPTION_SOCK_ADDR, &sa,
                               MHD_OPTION_END);
    if (!daemon_)
        return -1;
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
    port = di ? di->port : 0;
    return port ? 0 : -1;
}

static int teardown(void **st)
{
    (void)st;
    MHD_stop_daemon(daemon_);
    daemon_ = NULL;
    tu_rmtree(workdir);
    free(workdir);
    return 0;
}

static char *url(const char *path)
{
    return tu_asprintf("http://127.0.0.1:%u%s", port, path);
}

typedef struct got {
    cachet_rc rc;
    uint8_t *body;
    size_t len;
    int status;
    int64_t retry_after;
} got;

static got get(const cachet_http_opts *o, const char *u)
{
    got g = { 0 };
    g.rc = cachet_http_get((void *)o, u, &g.body, &g.len, &g.status, &g.retry_after);
    return g;
}

static const cachet_http_opts hook = { .timeout_s = 5, .allow_loopback_http = true };

/* ---- the transport --------------------------------------------------------------- */

static void test_body_and_status(void **st)
{
    (void)st;
    static const char hello[] = "fixture bytes \x01\x02";
    route("/ok", 200, hello, sizeof hello - 1);
    route("/gone", 404, "no", 2);
    char *u = url("/ok");
    got g = get(&hook, u);
    assert_int_equal(g.rc, CACHET_OK);
    assert_int_equal(g.status, 200);
    assert_int_equal(g.len, sizeof hello - 1);
    assert_memory_equal(g.body, hello, g.len);
    assert_int_equal(g.retry_after, 0);
    free(g.body);
    free(u);

    u = url("/gone");
    g = get(&hook, u);
    assert_int_equal(g.rc, CACHET_OK); /* an answer: the caller judges the status */
    assert_int_equal(g.status, 404);
    free(g.body);
    free(u);
}

static void test_retry_after(void **st)
{
    (void)st;
    route("/busy", 429, "slow down", 9);
    routes[n_routes - 1].header = "Retry-After";
    routes[n_routes - 1].value = "7";
    route("/down", 503, "", 0);
    char *u = url("/busy");
    got g = get(&hook, u);
    assert_int_equal(g.rc, CACHET_OK);
    assert_int_equal(g.status, 429);
    assert_int_equal(g.retry_after, 7);
    free(g.body);
    free(u);
    u = url("/down");
    g = get(&hook, u);
    assert_int_equal(g.rc, CACHET_OK);
    assert_int_equal(g.status, 503);
    assert_int_equal(g.retry_after, 0);
    free(g.body);
    free(u);
}

static void test_size_cap(void **st)
{
    (void)st;
    route("/big", 200, big, BIG_LEN);
    route("/bigchunked", 200, big, BIG_LEN);
    routes[n_routes - 1].chunked = true;
    route("/exact", 200, big, BIG_LEN - 1);
    const char *paths[] = { "/big", "/bigchunked" };
    for (size_t i = 0; i < 2; i++) {
        char *u = url(paths[i]);
        got g = get(&hook, u); /* default cap: 1 MiB */
        assert_int_equal(cachet_rc_code(g.rc), CACHET_E_LIMIT);
        assert_null(g.body);
        assert_non_null(strstr(cachet_err_detail(), "over"));
        free(u);
    }
    char *u = url("/exact");
    got g = get(&hook, u);
    assert_int_equal(g.rc, CACHET_OK);
    assert_int_equal(g.len, BIG_LEN - 1);
    free(g.body);
    cachet_http_opts small = hook;
    small.max_body = 100;
    g = get(&small, u);
    assert_int_equal(cachet_rc_code(g.rc), CACHET_E_LIMIT);
    free(u);
}

static void test_timeout(void **st)
{
    (void)st;
    route("/slow", 200, "late", 4);
    routes[n_routes - 1].delay_ms = 3000;
    cachet_http_opts o = hook;
    o.timeout_s = 1;
    char *u = url("/slow");
    time_t t0 = time(NULL);
    got g = get(&o, u);
    time_t t1 = time(NULL);
    assert_int_equal(cachet_rc_code(g.rc), CACHET_E_IO);
    assert_null(g.body);
    assert_true(t1 - t0 <= 2);
    free(u);
}

static void test_no_redirects(void **st)
{
    (void)st;
    route("/moved", 302, "", 0);
    routes[n_routes - 1].header = "Location";
    char *target = url("/ok");
    routes[n_routes - 1].value = target;
    route("/ok", 200, "target", 6);
    char *u = url("/moved");
    got g = get(&hook, u);
    assert_int_equal(g.rc, CACHET_OK);
    assert_int_equal(g.status, 302); /* not followed */
    assert_int_equal(routes[1].hits, 0);
    free(g.body);
    free(u);
    free(target);
}

static void test_https_only(void **st)
{
    (void)st;
    route("/ok", 200, "x", 1);
    char *u = url("/ok");
    /* Plain http without the hook: refused before any connection. */
    got g = get(NULL, u);
    assert_int_equal(cachet_rc_code(g.rc), CACHET_E_POLICY);
    cachet_http_opts def = { 0 };
    g = get(&def, u);
    assert_int_equal(cachet_rc_code(g.rc), CACHET_E_POLICY);
    assert_int_equal(routes[0].hits, 0);
    free(u);
    /* The hook admits loopback hosts only. */
    static const char *const refused[] = {
        "http://example.com/ok", "http://127.0.0.1.example.com/ok", "http://10.0.0.1/ok",
        "ftp://127.0.0.1/ok", "file:///etc/passwd", "not a url", "http://[::2]/ok",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        g = get(&hook, refused[i]);
        assert_int_not_equal(g.rc, CACHET_OK);
        assert_null(g.body);
    }
    g = get(&hook, "http://localhost:1/"); /* admitted, then nothing listens */
    assert_int_equal(cachet_rc_code(g.rc), CACHET_E_IO);
    /* https to a plain-http server: the TLS handshake fails, no answer. */
    u = tu_asprintf("https://127.0.0.1:%u/ok", port);
    g = get(&hook, u);
    assert_int_equal(cachet_rc_code(g.rc), CACHET_E_IO);
    free(u);
}

/* ---- snp_kds_get over the real transport ------------------------------------------ */

static void test_kds_get_over_http(void **st)
{
    (void)st;
    snpgen_pki *k = snpgen_pki_new(SNP_PRODUCT_MILAN, NULL, NULL);
    assert_non_null(k);
    size_t dlen;
    const uint8_t *der = testpki_der(k->vcek, &dlen);
    route("/cert", 200, der, dlen);
    route("/limited", 429, "", 0);
    routes[n_routes - 1].header = "Retry-After";
    routes[n_routes - 1].value = "120";
    char *dir = tu_asprintf("%s/cache", workdir);
    snp_kds_opts o = { .cache_dir = dir, .get = cachet_http_get, .get_arg = (void *)&hook,
                       .now = SNPGEN_TIME };
    char *u = url("/cert");
    uint8_t *b = NULL;
    size_t n = 0;
    assert_int_equal(snp_kds_get(&o, u, CACHET_ENDORSEMENT_CERTS, NULL, &b, &n), CACHET_OK);
    assert_int_equal(n, dlen);
    free(b);
    assert_int_equal(snp_kds_get(&o, u, CACHET_ENDORSEMENT_CERTS, NULL, &b, &n), CACHET_OK);
    free(b);
    assert_int_equal(routes[0].hits, 1); /* the second came from the cache */
    free(u);
    u = url("/limited");
    assert_int_equal(cachet_rc_code(snp_kds_get(&o, u, CACHET_ENDORSEMENT_CERTS, NULL, &b, &n)),
                     CACHET_E_LIMIT);
    assert_int_equal(cachet_rc_code(snp_kds_get(&o, u, CACHET_ENDORSEMENT_CERTS, NULL, &b, &n)),
                     CACHET_E_LIMIT);
    assert_int_equal(routes[1].hits, 1); /* no request before Retry-After */
    free(u);
    free(dir);
    snpgen_pki_free(k);
}

/* ---- cachet verify --online -------------------------------------------------------- */

static char *write_report(snpgen_pki *k)
{
    snpgen_report g;
    uint8_t b[SNP_REPORT_SIZE];
    snpgen_report_default(&g, SNP_PRODUCT_MILAN);
    snpgen_encode(&g, b);
    cachet_pkey *key = testpki_key(k->vcek);
    snpgen_sign(b, key);
    cachet_pkey_free(key);
    char *rep = tu_asprintf("%s/report.bin", workdir);
    tu_write_file(rep, b, sizeof b);
    return rep;
}

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

static bool errors_mention(const char *out, const char *what)
{
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    assert_non_null(j);
    bool found = false;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(j, "errors"), i, v)
        if (strstr(json_string_value(v), what))
            found = true;
    json_decref(j);
    return found;
}

static void test_cli_online_unreachable(void **st)
{
    (void)st;
    snpgen_pki *k = snpgen_pki_new(SNP_PRODUCT_MILAN, NULL, NULL);
    assert_non_null(k);
    char *rep = write_report(k);
    char *base = tu_asprintf("http://127.0.0.1:%u", closed_port());
    setenv("CACHET_KDS_URL", base, 1);
    char *out = NULL, *err = NULL;
    int rc = tu_run_cachet(&out, &err, "verify --json --online --cache-dir '%s/kds' "
                                       "--at 2025-01-01T00:00:00Z '%s'", workdir, rep);
    assert_int_equal(rc, 1); /* verified offline: no VCEK, contraindicated, not a crash */
    assert_non_null(strstr(err, "collateral not fetched"));
    assert_non_null(strstr(err, "verifying with what was given"));
    assert_true(errors_mention(out, "--online: AMD KDS collateral not fetched"));
    free(out);
    free(err);

    /* Without --online nothing is attempted and nothing is said. */
    rc = tu_run_cachet(&out, &err, "verify --json --at 2025-01-01T00:00:00Z '%s'", rep);
    assert_int_equal(rc, 1);
    assert_null(strstr(err, "--online"));
    assert_false(errors_mention(out, "--online"));
    free(out);
    free(err);

    /* A non-loopback plain-http override is refused, not used. */
    setenv("CACHET_KDS_URL", "http://kds.example.com", 1);
    rc = tu_run_cachet(&out, &err, "verify --online --cache-dir '%s/kds' "
                                   "--at 2025-01-01T00:00:00Z '%s'", workdir, rep);
    assert_int_equal(rc, 1);
    if (!strstr(err, "only https"))
        fail_msg("stderr: %s", err);
    free(out);
    free(err);

    /* --cache-dir alone is a usage error. */
    rc = tu_run_cachet(NULL, &err, "verify --cache-dir x '%s'", rep);
    assert_int_equal(rc, 2);
    free(err);
    unsetenv("CACHET_KDS_URL");
    free(base);
    free(rep);
    snpgen_pki_free(k);
}

/* A local "KDS" serving the generated VCEK and chain at KDS paths: the CLI
 * fetches them, says so, caches them under $XDG_CACHE_HOME/cachet/kds, and
 * the verifier judges them (the look-alike chain fails the built-in pins). */
static void test_cli_online_local_kds(void **st)
{
    (void)st;
    snpgen_pki *k = snpgen_pki_new(SNP_PRODUCT_MILAN, NULL, NULL);
    assert_non_null(k);
    char *rep = write_report(k);
    size_t dlen;
    const uint8_t *der = testpki_der(k->vcek, &dlen);
    const testpki_cert *chain[] = { k->ask, k->ark };
    char *pem = testpki_bundle_pem(chain, 2);
    route("/vcek/v1/Milan/cert_chain", 200, pem, strlen(pem));
    route("/vcek/v1/Milan/crl", 404, "", 0);
    route("/vcek/v1/Milan/", 200, der, dlen);
    char *base = tu_asprintf("http://127.0.0.1:%u", port);
    setenv("CACHET_KDS_URL", base, 1);
    char *xdg = tu_asprintf("%s/xdg", workdir);
    setenv("XDG_CACHE_HOME", xdg, 1);
    char *out = NULL, *err = NULL;
    int rc = tu_run_cachet(&out, &err, "verify --json --online --at 2025-01-01T00:00:00Z '%s'",
                           rep);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(err, "got https://kdsintf.amd.com/vcek/v1/Milan/"));
    assert_non_null(strstr(err, "/cert_chain (certificates"));
    assert_non_null(strstr(err, "CRL not fetched"));
    assert_false(errors_mention(out, "collateral not fetched"));
    assert_int_equal(routes[0].hits, 1);
    assert_int_equal(routes[2].hits, 1);
    free(out);
    free(err);
    char *cache = tu_asprintf("%s/cachet/kds", xdg);
    struct stat sb;
    assert_int_equal(stat(cache, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));

    /* Again: the VCEK and chain now come from the cache. */
    rc = tu_run_cachet(&out, &err, "verify --json --online --at 2025-01-01T00:00:00Z '%s'", rep);
    assert_int_equal(rc, 1);
    assert_int_equal(routes[0].hits, 1);
    assert_int_equal(routes[2].hits, 1);
    free(out);
    free(err);
    unsetenv("CACHET_KDS_URL");
    unsetenv("XDG_CACHE_HOME");
    free(cache);
    free(xdg);
    free(base);
    free(pem);
    free(rep);
    snpgen_pki_free(k);
}

int main(void)
{
    big = malloc(BIG_LEN);
    if (!big)
        return 1;
    memset(big, 'k', BIG_LEN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_body_and_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_after, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_redirects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_https_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kds_get_over_http, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cli_online_unreachable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cli_online_local_kds, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    free(big);
    return rc;
}
