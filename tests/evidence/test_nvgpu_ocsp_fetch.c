/* OCSP responses fetched for NVIDIA evidence (src/evidence/nvgpu/ocsp_fetch.c)
 * over a fake transport serving generated responses (nvgpu_gen): good →
 * affirming, revoked → contraindicated naming the OCSP check, 404 → the
 * offline warning, a cache hit on the second run; the request DER parses
 * back with OpenSSL; and `cachet verify --online` with CACHET_OCSP_URL at a
 * closed loopback port reports the failure and verifies offline.  No
 * network. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"

#include <jansson.h>
#include <openssl/ocsp.h>

#include "cachet/evidence.h"
#include "ev_assert.h"
#include "evidence/nvgpu/ocsp_fetch.h"
#include "nvgpu_gen.h"

#define DRIVER "550.144.03"
#define VBIOS "96.00.9F.00.01"
#define TEST_URL "https://ocsp.test.invalid/"
#define N545 "4cff7f5380ead8fad8ec2c531c110aca4302a88f603792801a8ca29ee151af2e"

static nvgen_pki *pki;
static int64_t t_now, t_verify;
static nvgen_report base;
static bool drv_active[64], vb_active[64];
static char *dir;

static int setup(void **state)
{
    (void)state;
    t_now = (int64_t)time(NULL);
    t_verify = t_now + 60; /* OCSP producedAt is stamped with the wall clock */
    pki = nvgen_pki_new(t_now, false);
    nvgen_report_defaults(&base);
    for (size_t i = 0; i < 64; i++) {
        drv_active[i] = i < 20;
        vb_active[i] = i >= 20 && i <= 35;
    }
    dir = tu_mkdtemp();
    return pki && dir ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    nvgen_pki_free(pki);
    tu_rmtree(dir);
    free(dir);
    return 0;
}

static void add(cachet_endorsements *e, const char *name, const void *b, size_t len)
{
    assert_int_equal(cachet_endorsements_add_bytes(e, name, b, len), CACHET_OK);
}

static char *rim(bool driver, size_t *len)
{
    nvgen_rim o = { .version = driver ? DRIVER : VBIOS, .values = (const uint8_t(*)[48])base.values,
                    .n = 64, .active = driver ? drv_active : vb_active };
    char *x = nvgen_rim_build(pki, &o, len);
    assert_non_null(x);
    return x;
}

/* Chain (with the root) + both RIMs, no OCSP. */
static cachet_endorsements *standard_endorsements(void)
{
    cachet_endorsements *e = cachet_endorsements_new();
    char *chain = nvgen_chain_pem(pki, true);
    add(e, "chain.pem", chain, strlen(chain));
    free(chain);
    size_t dl, vl;
    char *dx = rim(true, &dl), *vx = rim(false, &vl);
    add(e, "driver.xml", dx, dl);
    add(e, "vbios.xml", vx, vl);
    free(dx);
    free(vx);
    return e;
}

/* ---- the fake responder ------------------------------------------------------------------- */

typedef struct fake {
    int http_status;     /* what to answer */
    int brom_status;     /* OCSP status for the BROM certificate: 0 good, 1 revoked */
    size_t calls;
    size_t unknown;      /* requests for no known certificate */
} fake;

static cachet_rc fake_post(void *arg, const char *url, const char *ctype, const uint8_t *req,
                           size_t req_len, uint8_t **body, size_t *len, int *status,
                           int64_t *retry_after)
{
    fake *f = arg;
    f->calls++;
    assert_string_equal(url, TEST_URL);
    assert_string_equal(ctype, "application/ocsp-request");
    *body = NULL;
    *len = 0;
    *retry_after = 0;
    *status = f->http_status;
    if (f->http_status != 200)
        return CACHET_OK;
    const struct {
        const testpki_cert *cert, *issuer;
    } l[] = {
        { pki->brom, pki->ica },         { pki->ica, pki->identity },
        { pki->identity, pki->root },    { pki->rim_signer, pki->rim_ca },
        { pki->rim_ca, pki->rim_root },
    };
    for (size_t i = 0; i < sizeof l / sizeof l[0]; i++) {
        cachet_x509 *c = testpki_x509(l[i].cert), *is = testpki_x509(l[i].issuer);
        uint8_t *want = NULL;
        size_t wl = 0;
        assert_int_equal(cachet_ocsp_request(c, is, NULL, 0, &want, &wl), CACHET_OK);
        cachet_x509_free(c);
        cachet_x509_free(is);
        bool same = wl == req_len && memcmp(want, req, wl) == 0;
        free(want);
        if (!same)
            continue;
        *body = nvgen_ocsp(l[i].cert, l[i].issuer, l[i].issuer, i == 0 ? f->brom_status : 0,
                           i == 0 && f->brom_status == 1 ? 1 : -1, t_now - 600, t_now + 86400,
                           len);
        assert_non_null(*body);
        return CACHET_OK;
    }
    f->unknown++;
    *status = 404;
    return CACHET_OK;
}

static cachet_verify_result *verify(const cachet_endorsements *e)
{
    size_t len;
    uint8_t *r = nvgen_report_build(pki, &base, &len);
    assert_non_null(r);
    cachet_verify_request req = {
        .evidence = r, .evidence_len = len, .endorsements = e, .time = t_verify,
        .nonce = base.nonce, .nonce_len = sizeof base.nonce,
    };
    cachet_verify_result *res = NULL;
    assert_int_equal(cachet_evidence_verify_with(&pki->ops, &req, &res), CACHET_OK);
    free(r);
    assert_non_null(res);
    return res;
}

/* Fetch for the standard endorsements with f, then verify. */
static char fetch_why[512];

static cachet_verify_result *fetch_and_verify(fake *f, const char *cache_dir, cachet_rc *rc,
                                              nvgpu_ocsp_fetch_stats *st)
{
    cachet_endorsements *e = standard_endorsements();
    size_t len;
    uint8_t *r = nvgen_report_build(pki, &base, &len);
    nvgpu_ocsp_fetch_opts o = { .cache_dir = cache_dir, .post = fake_post, .post_arg = f,
                                .url = TEST_URL, .trust = &pki->trust, .now = t_verify };
    *rc = nvgpu_ocsp_fetch(&o, r, len, e, st);
    snprintf(fetch_why, sizeof fetch_why, "%s", *rc == CACHET_OK ? "" : cachet_err_detail());
    free(r);
    cachet_verify_result *res = verify(e);
    cachet_endorsements_free(e);
    return res;
}

static void test_good_affirming(void **state)
{
    (void)state;
    fake f = { .http_status = 200 };
    cachet_rc rc;
    nvgpu_ocsp_fetch_stats st;
    cachet_verify_result *r = fetch_and_verify(&f, NULL, &rc, &st);
    assert_int_equal(rc, CACHET_OK);
    /* BROM, ICA, identity; RIM signer and CA once for both RIMs */
    assert_int_equal(st.wanted, 5);
    assert_int_equal(st.fetched, 5);
    assert_int_equal(f.calls, 5);
    assert_int_equal(f.unknown, 0);
    ev_assert_verdict(r, CACHET_EV_AFFIRMING, true);
    ev_assert_no_failures(r);
    ev_assert_pass(r, "nvgpu.cert_chain.ocsp");
    ev_assert_pass(r, "nvgpu.rim.driver.ocsp");
    ev_assert_pass(r, "nvgpu.rim.vbios.ocsp");
    assert_string_equal(ev_claim_str(r, "cert_ocsp"), "good");
    cachet_verify_result_free(r);
}

static void test_revoked_contraindicated(void **state)
{
    (void)state;
    fake f = { .http_status = 200, .brom_status = 1 };
    cachet_rc rc;
    nvgpu_ocsp_fetch_stats st;
    cachet_verify_result *r = fetch_and_verify(&f, NULL, &rc, &st);
    assert_int_equal(rc, CACHET_OK);
    /* a device OCSP failure is an authenticity failure: not verified */
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    ev_assert_fail(r, "nvgpu.cert_chain.ocsp");
    assert_string_equal(ev_claim_str(r, "cert_ocsp"), "revoked");
    cachet_verify_result_free(r);
}

static void test_404_warning(void **state)
{
    (void)state;
    fake f = { .http_status = 404 };
    cachet_rc rc;
    nvgpu_ocsp_fetch_stats st;
    cachet_verify_result *r = fetch_and_verify(&f, NULL, &rc, &st);
    assert_int_not_equal(rc, CACHET_OK);
    assert_non_null(strstr(fetch_why, "HTTP 404"));
    assert_int_equal(st.fetched, 0);
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    ev_assert_no_failures(r);
    ev_assert_na(r, "nvgpu.cert_chain.ocsp");
    cachet_verify_result_free(r);
}

static void test_cache_hit(void **state)
{
    (void)state;
    char *cache = tu_asprintf("%s/cache", dir);
    fake f = { .http_status = 200 };
    cachet_rc rc;
    nvgpu_ocsp_fetch_stats st;
    cachet_verify_result *r = fetch_and_verify(&f, cache, &rc, &st);
    assert_int_equal(rc, CACHET_OK);
    assert_int_equal(st.fetched, 5);
    cachet_verify_result_free(r);
    /* second run: everything from the cache, re-verified; the responder is down */
    fake down = { .http_status = 500 };
    r = fetch_and_verify(&down, cache, &rc, &st);
    assert_int_equal(rc, CACHET_OK);
    assert_int_equal(down.calls, 0);
    assert_int_equal(st.cached, 5);
    assert_int_equal(st.fetched, 0);
    ev_assert_verdict(r, CACHET_EV_AFFIRMING, true);
    cachet_verify_result_free(r);
    free(cache);
}

static void test_supplied_not_refetched(void **state)
{
    (void)state;
    cachet_endorsements *e = standard_endorsements();
    size_t len;
    uint8_t *der = nvgen_ocsp(pki->brom, pki->ica, pki->ica, 0, -1, t_now - 600, t_now + 86400,
                              &len);
    add(e, "brom.ocsp", der, len);
    free(der);
    fake f = { .http_status = 200 };
    nvgpu_ocsp_fetch_opts o = { .post = fake_post, .post_arg = &f, .url = TEST_URL,
                                .trust = &pki->trust, .now = t_verify };
    nvgpu_ocsp_fetch_stats st;
    assert_int_equal(nvgpu_ocsp_fetch(&o, NULL, 0, e, &st), CACHET_OK);
    assert_int_equal(st.wanted, 4);
    assert_int_equal(f.calls, 4);
    cachet_endorsements_free(e);
}

/* The request DER parses back with OpenSSL: one SHA-1 CertID, the nonce. */
static void test_request_parses(void **state)
{
    (void)state;
    cachet_x509 *c = testpki_x509(pki->brom), *is = testpki_x509(pki->ica);
    const uint8_t nonce[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
    for (int with_nonce = 0; with_nonce < 2; with_nonce++) {
        uint8_t *der = NULL;
        size_t len = 0;
        assert_int_equal(cachet_ocsp_request(c, is, with_nonce ? nonce : NULL,
                                             with_nonce ? sizeof nonce : 0, &der, &len),
                         CACHET_OK);
        const unsigned char *p = der;
        OCSP_REQUEST *req = d2i_OCSP_REQUEST(NULL, &p, (long)len);
        assert_non_null(req);
        assert_ptr_equal(p, der + len);
        assert_int_equal(OCSP_request_onereq_count(req), 1);
        OCSP_CERTID *id = OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, 0));
        ASN1_OBJECT *md = NULL;
        assert_int_equal(OCSP_id_get0_info(NULL, &md, NULL, NULL, id), 1);
        assert_int_equal(OBJ_obj2nid(md), NID_sha1);
        assert_int_equal(OCSP_REQUEST_get_ext_by_NID(req, NID_id_pkix_OCSP_Nonce, -1) >= 0,
                         with_nonce);
        OCSP_REQUEST_free(req);
        free(der);
    }
    uint8_t *der = NULL;
    size_t len = 0;
    assert_int_not_equal(cachet_ocsp_request(c, is, nonce, 33, &der, &len), CACHET_OK);
    char url[64];
    assert_int_equal(cachet_rc_code(cachet_x509_ocsp_url(c, url, sizeof url)),
                     CACHET_E_NOT_FOUND);
    cachet_x509_free(c);
    cachet_x509_free(is);
}

/* The CLI on a real vector: the responder unreachable → a message, the
 * failure among the warnings, and the offline result (warning, exit 0). */
static void test_cli_closed_port(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    const char *rels[] = { "h100_545.00_nvtrust_2023_fullrim/attestation_report.hex",
                           "h100_545.00_nvtrust_2023_fullrim/device_cert_chain.pem",
                           "h100_545.00_nvtrust_2023_fullrim/driver_rim_545.00_test_no_gpu.swidtag",
                           "h100_545.00_nvtrust_2023_fullrim/"
                           "vbios_rim_1010_0200_882_96005E0001_test_no_gpu.swidtag" };
    char *files = strdup("");
    for (size_t i = 0; i < sizeof rels / sizeof rels[0]; i++) {
        char *rel = tu_asprintf("nvgpu/%s", rels[i]);
        char *p = tu_vector_path(rel);
        free(rel);
        if (!p) {
            free(files);
            skip();
            return;
        }
        char *t = tu_asprintf("%s '%s'", files, p);
        free(files);
        free(p);
        files = t;
    }
    setenv("CACHET_OCSP_URL", "http://127.0.0.1:1/", 1);
    char *out = NULL, *err = NULL;
    int st = tu_run_cachet(&out, &err,
                           "verify --at 2024-01-15T00:00:00Z --nonce " N545
                           " --online --cache-dir '%s/c' --json %s",
                           dir, files);
    assert_int_equal(st, 0);
    assert_non_null(err);
    assert_non_null(strstr(err, "NVIDIA OCSP responses not fetched"));
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "warning");
    assert_int_equal(json_array_size(json_object_get(j, "errors")), 0);
    json_decref(j);
    free(out);
    free(err);
    /* the human report lists the failure among the warnings */
    out = err = NULL;
    st = tu_run_cachet(&out, &err,
                       "verify --at 2024-01-15T00:00:00Z --nonce " N545
                       " --online --cache-dir '%s/c' %s",
                       dir, files);
    unsetenv("CACHET_OCSP_URL");
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "status: warning"));
    const char *w = strstr(out, "warnings:");
    assert_non_null(w);
    assert_non_null(strstr(w, "--online: NVIDIA OCSP responses not fetched"));
    assert_non_null(strstr(w, "nvgpu.cert_chain.ocsp"));
    free(out);
    free(err);
    free(files);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_parses),
        cmocka_unit_test(test_good_affirming),
        cmocka_unit_test(test_revoked_contraindicated),
        cmocka_unit_test(test_404_warning),
        cmocka_unit_test(test_cache_hit),
        cmocka_unit_test(test_supplied_not_refetched),
        cmocka_unit_test(test_cli_closed_port),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
