/* AMD KDS collateral (src/evidence/snp/kds.c) over a fake transport: URL
 * forms, the on-disk cache (re-checked on every read), rate limits, and a
 * real report verified from what was "fetched".  Never touches the network. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "cachet/clock.h"
#include "cachet/encoding.h"
#include "ev_assert.h"
#include "evidence/registry.h"
#include "evidence/snp/kds.h"
#include "snp_gen.h"

/* ---- a fake KDS ----------------------------------------------------------------- */

typedef struct route {
    const char *url;
    const uint8_t *body;
    size_t len;
    int status;
    int64_t retry_after;
} route;

typedef struct fake_kds {
    route routes[8];
    size_t n;
    int calls;
    char last_url[SNP_KDS_URL_MAX];
} fake_kds;

static cachet_rc fake_get(void *arg, const char *url, uint8_t **body, size_t *len, int *status,
                          int64_t *retry_after)
{
    fake_kds *k = arg;
    k->calls++;
    snprintf(k->last_url, sizeof k->last_url, "%s", url);
    *retry_after = 0;
    for (size_t i = 0; i < k->n; i++) {
        if (strcmp(k->routes[i].url, url) != 0)
            continue;
        *status = k->routes[i].status ? k->routes[i].status : 200;
        *retry_after = k->routes[i].retry_after;
        *len = k->routes[i].len;
        *body = malloc(*len ? *len : 1);
        assert_non_null(*body);
        if (*len)
            memcpy(*body, k->routes[i].body, *len);
        return CACHET_OK;
    }
    *status = 404;
    *body = malloc(1);
    *len = 0;
    return CACHET_OK;
}

static void route_add(fake_kds *k, const char *url, const void *body, size_t len)
{
    k->routes[k->n++] = (route){ .url = url, .body = body, .len = len };
}

/* ---- URLs ------------------------------------------------------------------------ */

static void test_urls(void **state)
{
    (void)state;
    char url[SNP_KDS_URL_MAX];
    uint8_t chip[64];
    size_t n;
    /* The Milan vector's KDS URL as go-sev-guest's test names it (MANIFEST §1). */
    assert_int_equal(cachet_hex_decode("3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e537"
                                       "86184ca39e359669a2b76a1936776b564ea464cdce40c05f63c9b610c506"
                                       "8b006b5d", chip, sizeof chip, &n), CACHET_OK);
    assert_int_equal(snp_kds_vcek_url(SNP_PRODUCT_MILAN, chip, 0x4405000000000002ull, url,
                                      sizeof url), CACHET_OK);
    assert_string_equal(url, "https://kdsintf.amd.com/vcek/v1/Milan/"
                             "3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39"
                             "e359669a2b76a1936776b564ea464cdce40c05f63c9b610c5068b006b5d"
                             "?blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68");
    /* Turin: 8-byte hwid, fmcSPL, Turin TCB layout. */
    memset(chip, 0, sizeof chip);
    memcpy(chip, "\x3b\x42\x09\x2f\x69\xc6\x56\xd3", 8);
    assert_int_equal(snp_kds_vcek_url(SNP_PRODUCT_TURIN, chip, 0x4700000002000100ull, url,
                                      sizeof url), CACHET_OK);
    assert_string_equal(url, "https://kdsintf.amd.com/vcek/v1/Turin/3b42092f69c656d3"
                             "?fmcSPL=0&blSPL=1&teeSPL=0&snpSPL=2&ucodeSPL=71");
    assert_int_equal(snp_kds_chain_url(SNP_PRODUCT_GENOA, false, url, sizeof url), CACHET_OK);
    assert_string_equal(url, "https://kdsintf.amd.com/vcek/v1/Genoa/cert_chain");
    assert_int_equal(snp_kds_chain_url(SNP_PRODUCT_MILAN, true, url, sizeof url), CACHET_OK);
    assert_string_equal(url, "https://kdsintf.amd.com/vlek/v1/Milan/cert_chain");
    assert_int_equal(snp_kds_crl_url(SNP_PRODUCT_TURIN, false, url, sizeof url), CACHET_OK);
    assert_string_equal(url, "https://kdsintf.amd.com/vcek/v1/Turin/crl");
    assert_int_not_equal(snp_kds_crl_url(SNP_PRODUCT_UNKNOWN, false, url, sizeof url), CACHET_OK);
    assert_int_not_equal(snp_kds_chain_url(SNP_PRODUCT_MILAN, false, url, 20), CACHET_OK);
}

/* ---- a real report, collateral "fetched" ---------------------------------------------- */

static void test_collect_real(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    size_t rl, vl, cl;
    uint8_t *rep = tu_read_vector("snp/milan_gsg_2022/report.bin", &rl);
    uint8_t *vcek = tu_read_vector("snp/milan_gsg_2022/vcek.der", &vl);
    uint8_t *chain = tu_read_vector("snp/amd_roots/ask_ark_milan_vcek.pem", &cl);
    assert_non_null(rep);
    assert_non_null(vcek);
    assert_non_null(chain);
    fake_kds k = { 0 };
    route_add(&k, "https://kdsintf.amd.com/vcek/v1/Milan/3ac3fe21e13fb0990eb28a802e3fb6a29483a6b07"
                  "53590c951bdd3b8e53786184ca39e359669a2b76a1936776b564ea464cdce40c05f63c9b610c5068"
                  "b006b5d?blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68", vcek, vl);
    route_add(&k, "https://kdsintf.amd.com/vcek/v1/Milan/cert_chain", chain, cl);
    char *dir = tu_mkdtemp();
    int64_t t = 0;
    assert_int_equal(cachet_time_parse_rfc3339("2022-09-24T01:00:00Z", &t), CACHET_OK);
    snp_kds_opts o = { .cache_dir = dir, .get = fake_get, .get_arg = &k, .now = t };

    /* v2 report: no CPUID, so the product must be named. */
    cachet_endorsements *e = cachet_endorsements_new();
    cachet_rc crl_rc = CACHET_OK;
    assert_int_not_equal(snp_kds_collect(&o, rep, rl, SNP_PRODUCT_UNKNOWN, e, &crl_rc), CACHET_OK);
    assert_int_equal(k.calls, 0);
    assert_int_equal(snp_kds_collect(&o, rep, rl, SNP_PRODUCT_MILAN, e, &crl_rc), CACHET_OK);
    assert_int_equal(cachet_rc_code(crl_rc), CACHET_E_NOT_FOUND); /* no CRL route: 404 */
    assert_int_equal(k.calls, 3);
    assert_int_equal(cachet_endorsements_count(e), 2);

    cachet_verify_request req = { .evidence = rep, .evidence_len = rl, .endorsements = e,
                                  .time = t };
    cachet_verify_result *r = NULL;
    assert_int_equal(cachet_evidence_verify(&req, &r), CACHET_OK);
    ev_assert_pass(r, "snp.chain");
    ev_assert_pass(r, "snp.report.signature");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true); /* the debug policy */
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);

    /* Offline now: the cache serves both documents, the transport is not asked. */
    snp_kds_opts off = { .cache_dir = dir, .now = t };
    e = cachet_endorsements_new();
    assert_int_equal(snp_kds_collect(&off, rep, rl, SNP_PRODUCT_MILAN, e, &crl_rc), CACHET_OK);
    assert_int_equal(cachet_endorsements_count(e), 2);
    assert_int_equal(k.calls, 3);
    cachet_endorsements_free(e);

    /* A damaged cache file is dropped and fetched again. */
    char url[SNP_KDS_URL_MAX];
    assert_int_equal(snp_kds_chain_url(SNP_PRODUCT_MILAN, false, url, sizeof url), CACHET_OK);
    uint8_t hash[32];
    char hex[65];
    assert_int_equal(cachet_sha256(url, strlen(url), hash), CACHET_OK);
    cachet_hex_encode(hash, 32, hex);
    char *path = tu_asprintf("%s/%s.kds", dir, hex);
    tu_write_file(path, "garbage", 7);
    uint8_t *body = NULL;
    size_t len = 0;
    assert_int_not_equal(snp_kds_get(&off, url, CACHET_ENDORSEMENT_CERTS, NULL, &body, &len),
                         CACHET_OK);
    assert_int_equal(snp_kds_get(&o, url, CACHET_ENDORSEMENT_CERTS, NULL, &body, &len), CACHET_OK);
    assert_int_equal(k.calls, 4);
    assert_int_equal(len, cl);
    free(body);
    free(path);

    tu_rmtree(dir);
    free(dir);
    free(rep);
    free(vcek);
    free(chain);
}

/* ---- rate limits, masked chips, VLEK ----------------------------------------------------- */

static void test_rate_limit(void **state)
{
    (void)state;
    fake_kds k = { 0 };
    k.routes[k.n++] = (route){ .url = "https://kdsintf.amd.com/vcek/v1/Genoa/cert_chain",
                               .status = 429, .retry_after = 120 };
    char *dir = tu_mkdtemp();
    snp_kds_opts o = { .cache_dir = dir, .get = fake_get, .get_arg = &k, .now = 1000 };
    uint8_t *b = NULL;
    size_t n = 0;
    const char *url = "https://kdsintf.amd.com/vcek/v1/Genoa/cert_chain";
    assert_int_equal(cachet_rc_code(snp_kds_get(&o, url, CACHET_ENDORSEMENT_CERTS, NULL, &b, &n)),
                     CACHET_E_LIMIT);
    assert_int_equal(k.calls, 1);
    o.now = 1060; /* still inside Retry-After: KDS is not asked */
    assert_int_equal(cachet_rc_code(snp_kds_get(&o, url, CACHET_ENDORSEMENT_CERTS, NULL, &b, &n)),
                     CACHET_E_LIMIT);
    assert_int_equal(k.calls, 1);
    o.now = 1121;
    k.routes[0].status = 503; /* no Retry-After: the default back-off */
    k.routes[0].retry_after = 0;
    assert_int_equal(cachet_rc_code(snp_kds_get(&o, url, CACHET_ENDORSEMENT_CERTS, NULL, &b, &n)),
                     CACHET_E_LIMIT);
    assert_int_equal(k.calls, 2);
    o.now = 1121 + SNP_KDS_DEFAULT_BACKOFF - 1;
    assert_int_equal(cachet_rc_code(snp_kds_get(&o, url, CACHET_ENDORSEMENT_CERTS, NULL, &b, &n)),
                     CACHET_E_LIMIT);
    assert_int_equal(k.calls, 2);
    /* Garbage with 200 is not cached. */
    o.now = 5000;
    k.routes[0] = (route){ .url = url, .body = (const uint8_t *)"<html>", .len = 6 };
    assert_int_equal(cachet_rc_code(snp_kds_get(&o, url, CACHET_ENDORSEMENT_CERTS, NULL, &b, &n)),
                     CACHET_E_FORMAT);
    snp_kds_opts off = { .cache_dir = dir, .now = 5000 };
    assert_int_equal(cachet_rc_code(snp_kds_get(&off, url, CACHET_ENDORSEMENT_CERTS, NULL, &b, &n)),
                     CACHET_E_NOT_FOUND);
    tu_rmtree(dir);
    free(dir);
}

static void test_collect_cases(void **state)
{
    (void)state;
    fake_kds k = { 0 };
    snp_kds_opts o = { .get = fake_get, .get_arg = &k, .now = SNPGEN_TIME };
    snpgen_report g;
    uint8_t b[SNP_REPORT_SIZE];
    cachet_endorsements *e = cachet_endorsements_new();
    cachet_rc crl_rc;

    /* Masked chip id: the VCEK cannot be looked up. */
    snpgen_report_default(&g, SNP_PRODUCT_GENOA);
    memset(g.chip_id, 0, sizeof g.chip_id);
    snpgen_encode(&g, b);
    assert_int_equal(cachet_rc_code(snp_kds_collect(&o, b, sizeof b, SNP_PRODUCT_UNKNOWN, e,
                                                    &crl_rc)), CACHET_E_NOT_FOUND);
    assert_int_equal(k.calls, 0);

    /* VLEK: no VCEK request; the chain comes from the vlek path. */
    g.signer_info = SNP_KEY_VLEK << SNP_SIGNER_KEY_SHIFT;
    snpgen_encode(&g, b);
    assert_int_not_equal(snp_kds_collect(&o, b, sizeof b, SNP_PRODUCT_UNKNOWN, e, &crl_rc),
                         CACHET_OK);
    assert_int_equal(k.calls, 1);
    assert_string_equal(k.last_url, "https://kdsintf.amd.com/vlek/v1/Genoa/cert_chain");

    /* A report that does not parse is refused before any request. */
    assert_int_not_equal(snp_kds_collect(&o, b, sizeof b - 1, SNP_PRODUCT_GENOA, e, &crl_rc),
                         CACHET_OK);
    assert_int_equal(k.calls, 1);
    cachet_endorsements_free(e);
}

/* A cached CRL is re-verified on every read: once past nextUpdate it is
 * fetched again rather than served stale. */
static void test_crl_cache_freshness(void **state)
{
    (void)state;
    snpgen_pki *pki = snpgen_pki_new(SNP_PRODUCT_MILAN, NULL, NULL);
    assert_non_null(pki);
    size_t n;
    testpki_crl_opts co = { .this_update = SNPGEN_TIME - 10, .next_update = SNPGEN_TIME + 100 };
    uint8_t *crl = testpki_crl(pki->ark, &co, &n);
    assert_non_null(crl);
    cachet_x509 *ark = testpki_x509(pki->ark);
    const char *url = "https://kdsintf.amd.com/vcek/v1/Milan/crl";
    fake_kds k = { 0 };
    route_add(&k, url, crl, n);
    char *dir = tu_mkdtemp();
    snp_kds_opts o = { .cache_dir = dir, .get = fake_get, .get_arg = &k, .now = SNPGEN_TIME };
    uint8_t *b = NULL;
    size_t len = 0;
    assert_int_equal(snp_kds_get(&o, url, CACHET_ENDORSEMENT_CRL, ark, &b, &len), CACHET_OK);
    free(b);
    assert_int_equal(snp_kds_get(&o, url, CACHET_ENDORSEMENT_CRL, ark, &b, &len), CACHET_OK);
    free(b);
    assert_int_equal(k.calls, 1); /* second read from the cache */
    o.now = SNPGEN_TIME + 200;    /* stale: dropped, refetched, still stale: refused */
    assert_int_not_equal(snp_kds_get(&o, url, CACHET_ENDORSEMENT_CRL, ark, &b, &len), CACHET_OK);
    assert_int_equal(k.calls, 2);
    cachet_x509_free(ark);
    free(crl);
    tu_rmtree(dir);
    free(dir);
    snpgen_pki_free(pki);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_collect_real),
        cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_collect_cases),
        cmocka_unit_test(test_crl_cache_freshness),
    };
    return cmocka_run_group_tests_name("snp_kds", tests, NULL, NULL);
}
