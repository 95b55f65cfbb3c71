/* Generated NVIDIA GPU evidence (nvgpu_gen): the negatives no real vector
 * provides, each rejected with the failing check named, and the positive
 * paths real vectors cannot reach offline (OCSP data present → affirming).
 * The test roots reach the family through ops->config only. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"

#include "cachet/encoding.h"
#include "cachet/evidence.h"
#include "ev_assert.h"
#include "evidence/nvgpu/nvgpu.h"
#include "evidence/registry.h"
#include "nvgpu_gen.h"

#define DRIVER "550.144.03"
#define VBIOS "96.00.9F.00.01"

static nvgen_pki *pki;
static int64_t t_now, t_verify;

/* RIM layout of the fixture: 64 entries; the driver RIM is active at
 * 0..19, the VBIOS RIM at 20..35 (35 = NVDEC0), golden = report values. */
static nvgen_report base;
static bool drv_active[64], vb_active[64];

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
    return pki ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    nvgen_pki_free(pki);
    return 0;
}

/* ---- fixtures ---------------------------------------------------------------------------- */

static uint8_t *report(const nvgen_report *o, size_t *len)
{
    uint8_t *r = nvgen_report_build(pki, o ? o : &base, len);
    assert_non_null(r);
    return r;
}

static char *rim(const nvgen_pki *p, nvgen_rim *o, bool driver, size_t *len)
{
    if (!o->version)
        o->version = driver ? DRIVER : VBIOS;
    if (!o->values)
        o->values = (const uint8_t(*)[48])base.values;
    if (!o->n)
        o->n = 64;
    if (!o->active)
        o->active = driver ? drv_active : vb_active;
    char *x = nvgen_rim_build(p, o, len);
    assert_non_null(x);
    return x;
}

static void add(cachet_endorsements *e, const char *name, const void *b, size_t len)
{
    assert_int_equal(cachet_endorsements_add_bytes(e, name, b, len), CACHET_OK);
}

/* Chain + both RIMs. */
static cachet_endorsements *standard_endorsements(void)
{
    cachet_endorsements *e = cachet_endorsements_new();
    char *chain = nvgen_chain_pem(pki, true);
    add(e, "chain.pem", chain, strlen(chain));
    free(chain);
    nvgen_rim d = { 0 }, v = { 0 };
    size_t dl, vl;
    char *dx = rim(pki, &d, true, &dl), *vx = rim(pki, &v, false, &vl);
    add(e, "driver.xml", dx, dl);
    add(e, "vbios.xml", vx, vl);
    free(dx);
    free(vx);
    return e;
}

typedef struct opts {
    const uint8_t *nonce;
    size_t nonce_len;
    int64_t time;
    cachet_verify_cache *cache;
    const cachet_evidence_ops *ops;
    cachet_x509 *const *anchors;
    size_t n_anchors;
} opts;

static cachet_verify_result *verify(const uint8_t *ev, size_t len, const cachet_endorsements *e,
                                    const opts *o)
{
    opts none = { 0 };
    if (!o)
        o = &none;
    cachet_verify_request req = {
        .evidence = ev, .evidence_len = len, .endorsements = e,
        .time = o->time ? o->time : t_verify,
        .nonce = o->nonce, .nonce_len = o->nonce_len, .cache = o->cache,
        .trust_anchors = o->anchors, .n_trust_anchors = o->n_anchors,
    };
    cachet_verify_result *r = NULL;
    assert_int_equal(cachet_evidence_verify_with(o->ops ? o->ops : &pki->ops, &req, &r),
                     CACHET_OK);
    assert_non_null(r);
    return r;
}

/* Verify the base report with the standard endorsements plus extra ones. */
static cachet_verify_result *verify_base(cachet_endorsements *e, const opts *o)
{
    size_t len;
    uint8_t *r = report(NULL, &len);
    opts with_nonce = o ? *o : (opts){ 0 };
    if (!with_nonce.nonce) {
        with_nonce.nonce = base.nonce;
        with_nonce.nonce_len = sizeof base.nonce;
    }
    cachet_verify_result *res = verify(r, len, e, &with_nonce);
    free(r);
    return res;
}

static const char *detail(const cachet_verify_result *r, const char *id)
{
    const cachet_check *c = cachet_checklog_find(r->checks, id);
    assert_non_null(c);
    return c->detail ? c->detail : "";
}

/* ---- positive paths ------------------------------------------------------------------------ */

static void test_baseline_warning(void **state)
{
    (void)state;
    cachet_endorsements *e = standard_endorsements();
    cachet_verify_result *r = verify_base(e, NULL);
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    ev_assert_no_failures(r);
    ev_assert_pass(r, "nvgpu.cert_chain.fwid");
    ev_assert_pass(r, "nvgpu.rim.driver.signature");
    ev_assert_pass(r, "nvgpu.rim.vbios.signature");
    ev_assert_pass(r, "nvgpu.measurements");
    ev_assert_na(r, "nvgpu.measurement.index35");
    ev_assert_na(r, "nvgpu.cert_chain.ocsp");
    assert_string_equal(ev_claim_str(r, "measres"), "success");
    /* Missing OCSP is a warning for each chain, never silently affirming. */
    assert_int_equal(json_array_size(r->warnings), 3);
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
}

static void add_ocsp(cachet_endorsements *e, const char *name, const testpki_cert *cert,
                     const testpki_cert *issuer, int status, int reason)
{
    size_t len;
    uint8_t *der = nvgen_ocsp(cert, issuer, issuer, status, reason, t_now - 600, t_now + 86400,
                              &len);
    assert_non_null(der);
    add(e, name, der, len);
    free(der);
}

/* OCSP for everything nvtrust checks: BROM, ICA, identity; RIM signer, RIM CA. */
static void add_all_ocsp(cachet_endorsements *e, const char *skip_name, int brom_status,
                         int brom_reason, int rim_status)
{
    const struct {
        const char *name;
        const testpki_cert *cert, *issuer;
    } l[] = {
        { "brom.ocsp", pki->brom, pki->ica },
        { "ica.ocsp", pki->ica, pki->identity },
        { "identity.ocsp", pki->identity, pki->root },
        { "rim_signer.ocsp", pki->rim_signer, pki->rim_ca },
        { "rim_ca.ocsp", pki->rim_ca, pki->rim_root },
    };
    for (size_t i = 0; i < sizeof l / sizeof l[0]; i++) {
        if (skip_name && strcmp(skip_name, l[i].name) == 0)
            continue;
        int st = i == 0 ? brom_status : i == 3 ? rim_status : 0;
        add_ocsp(e, l[i].name, l[i].cert, l[i].issuer, st, i == 0 ? brom_reason : -1);
    }
}

static void test_all_ocsp_affirming(void **state)
{
    (void)state;
    cachet_endorsements *e = standard_endorsements();
    add_all_ocsp(e, NULL, 0, -1, 0);
    cachet_verify_result *r = verify_base(e, NULL);
    ev_assert_verdict(r, CACHET_EV_AFFIRMING, true);
    ev_assert_no_failures(r);
    ev_assert_pass(r, "nvgpu.cert_chain.ocsp");
    ev_assert_pass(r, "nvgpu.rim.driver.ocsp");
    ev_assert_pass(r, "nvgpu.rim.vbios.ocsp");
    assert_string_equal(ev_claim_str(r, "cert_ocsp"), "good");
    /* every OCSP file was used */
    for (size_t i = 0; i < cachet_checklog_count(r->checks); i++)
        assert_string_not_equal(cachet_checklog_get(r->checks, i)->id,
                                "evidence.endorsement.unused");
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
}

static void test_ocsp_missing_one(void **state)
{
    (void)state;
    cachet_endorsements *e = standard_endorsements();
    add_all_ocsp(e, "ica.ocsp", 0, -1, 0);
    cachet_verify_result *r = verify_base(e, NULL);
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    ev_assert_na(r, "nvgpu.cert_chain.ocsp");
    assert_non_null(strstr(detail(r, "nvgpu.cert_chain.ocsp"), "Provisioner ICA"));
    ev_assert_pass(r, "nvgpu.rim.driver.ocsp");
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
}

static void test_ocsp_revoked_hold_unknown(void **state)
{
    (void)state;
    const struct {
        int status, reason;
        const char *claim;
    } cases[] = { { 1, 1, "revoked" }, { 1, 6, "on-hold" }, { 2, -1, "unknown" } };
    for (size_t i = 0; i < 3; i++) {
        cachet_endorsements *e = standard_endorsements();
        add_all_ocsp(e, NULL, cases[i].status, cases[i].reason, 0);
        cachet_verify_result *r = verify_base(e, NULL);
        ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
        ev_assert_only_failures(r, "nvgpu.cert_chain.ocsp");
        assert_string_equal(ev_claim_str(r, "cert_ocsp"), cases[i].claim);
        cachet_verify_result_free(r);
        cachet_endorsements_free(e);
    }
}

static void test_ocsp_rim_revoked(void **state)
{
    (void)state;
    cachet_endorsements *e = standard_endorsements();
    add_all_ocsp(e, NULL, 0, -1, 1);
    cachet_verify_result *r = verify_base(e, NULL);
    /* The GPU is authentic; its reference values are revoked. */
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    ev_assert_only_failures(r, "nvgpu.rim.driver.ocsp", "nvgpu.rim.vbios.ocsp");
    ev_assert_na(r, "nvgpu.measurements");
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
}

static void test_ocsp_stale(void **state)
{
    (void)state;
    cachet_endorsements *e = standard_endorsements();
    add_all_ocsp(e, "brom.ocsp", 0, -1, 0);
    size_t len;
    uint8_t *der = nvgen_ocsp(pki->brom, pki->ica, pki->ica, 0, -1, t_now - 7200, t_now - 3600,
                              &len);
    add(e, "stale.ocsp", der, len);
    free(der);
    cachet_verify_result *r = verify_base(e, NULL);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    ev_assert_fail(r, "nvgpu.cert_chain.ocsp");
    assert_string_equal(ev_claim_str(r, "cert_ocsp"), "invalid");
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
}

static void test_verify_cache(void **state)
{
    (void)state;
    cachet_verify_cache *cache = cachet_verify_cache_new(16);
    cachet_endorsements *e = standard_endorsements();
    opts o = { .cache = cache };
    cachet_verify_result *r1 = verify_base(e, &o);
    ev_assert_verdict(r1, CACHET_EV_WARNING, true);
    cachet_verify_result *r2 = verify_base(e, &o);
    ev_assert_verdict(r2, CACHET_EV_WARNING, true);
    ev_assert_no_failures(r2);
    assert_non_null(strstr(detail(r2, "nvgpu.cert_chain"), "cached"));
    assert_non_null(strstr(detail(r2, "nvgpu.rim.driver.signature"), "cached"));
    assert_string_equal(ev_claim_str(r2, "measres"), "success");
    assert_true(cachet_verify_cache_hits(cache) >= 3);
    /* A time outside the cached windows is a miss: the chain is expired then. */
    opts late = { .cache = cache, .time = t_now + 40 * 86400 };
    cachet_verify_result *r3 = verify_base(e, &late);
    ev_assert_verdict(r3, CACHET_EV_CONTRAINDICATED, false);
    ev_assert_fail(r3, "nvgpu.cert_chain");
    ev_assert_fail(r3, "nvgpu.rim.driver.cert_chain");
    /* A tampered RIM has other bytes: never a hit for the good one. */
    cachet_endorsements *bad = cachet_endorsements_new();
    char *chain = nvgen_chain_pem(pki, true);
    add(bad, "chain.pem", chain, strlen(chain));
    free(chain);
    nvgen_rim d = { .corrupt_after_sign = true };
    size_t dl;
    char *dx = rim(pki, &d, true, &dl);
    add(bad, "driver.xml", dx, dl);
    free(dx);
    cachet_verify_result *r4 = verify_base(bad, &o);
    ev_assert_fail(r4, "nvgpu.rim.driver.signature");
    cachet_verify_result_free(r1);
    cachet_verify_result_free(r2);
    cachet_verify_result_free(r3);
    cachet_verify_result_free(r4);
    cachet_endorsements_free(e);
    cachet_endorsements_free(bad);
    cachet_verify_cache_free(cache);
}

/* ---- the report ------------------------------------------------------------------------------ */

static void test_flipped_signature(void **state)
{
    (void)state;
    nvgen_report o = base;
    o.corrupt_signature = true;
    size_t len;
    uint8_t *r = report(&o, &len);
    cachet_endorsements *e = standard_endorsements();
    opts no = { .nonce = base.nonce, .nonce_len = 32 };
    cachet_verify_result *res = verify(r, len, e, &no);
    ev_assert_verdict(res, CACHET_EV_CONTRAINDICATED, false);
    ev_assert_only_failures(res, "nvgpu.report.signature");
    cachet_verify_result_free(res);
    cachet_endorsements_free(e);
    free(r);
}

static void test_flipped_measurement_block(void **state)
{
    (void)state;
    size_t len;
    uint8_t *r = report(NULL, &len);
    /* A byte of block 5's value after signing. */
    r[NVGPU_REQUEST_LEN + 8 + 4 * 55 + 7 + 10] ^= 0x80;
    cachet_endorsements *e = standard_endorsements();
    opts no = { .nonce = base.nonce, .nonce_len = 32 };
    cachet_verify_result *res = verify(r, len, e, &no);
    ev_assert_verdict(res, CACHET_EV_CONTRAINDICATED, false);
    ev_assert_fail(res, "nvgpu.report.signature");
    ev_assert_fail(res, "nvgpu.measurement.index4"); /* and it no longer matches either */
    cachet_verify_result_free(res);
    cachet_endorsements_free(e);
    free(r);
}

static void test_wrong_nonce(void **state)
{
    (void)state;
    cachet_endorsements *e = standard_endorsements();
    uint8_t other[32];
    memset(other, 0xEE, sizeof other);
    opts o = { .nonce = other, .nonce_len = 32 };
    cachet_verify_result *r = verify_base(e, &o);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    ev_assert_only_failures(r, "nvgpu.report.nonce");
    assert_string_equal(ev_claim_str(r, "freshness"), "mismatch");
    cachet_verify_result_free(r);

    /* Shorter than the SPDM nonce: refused; longer: its first 32 bytes. */
    opts shorter = { .nonce = base.nonce, .nonce_len = 16 };
    r = verify_base(e, &shorter);
    ev_assert_fail(r, "nvgpu.report.nonce");
    cachet_verify_result_free(r);
    uint8_t digest[48];
    memcpy(digest, base.nonce, 32);
    memset(digest + 32, 0x77, 16);
    opts longer = { .nonce = digest, .nonce_len = 48 };
    r = verify_base(e, &longer);
    ev_assert_pass(r, "nvgpu.report.nonce");
    cachet_verify_result_free(r);
    /* No nonce: not checked, and said so. */
    size_t len;
    uint8_t *rep = report(NULL, &len);
    r = verify(rep, len, e, NULL);
    ev_assert_na(r, "nvgpu.report.nonce");
    assert_string_equal(ev_claim_str(r, "freshness"), "not-checked");
    cachet_verify_result_free(r);
    free(rep);
    cachet_endorsements_free(e);
}

static void test_truncated(void **state)
{
    (void)state;
    size_t len;
    uint8_t *r = report(NULL, &len);
    cachet_endorsements *e = standard_endorsements();
    const size_t cuts[] = { 10, NVGPU_REQUEST_LEN, NVGPU_REQUEST_LEN + 5, 1000, len - 200,
                            len - NVGPU_SIG_LEN, len - 1 };
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        cachet_verify_result *res = verify(r, cuts[i], e, NULL);
        ev_assert_verdict(res, CACHET_EV_CONTRAINDICATED, false);
        ev_assert_na(res, "nvgpu.report.signature");
        assert_true(cachet_checklog_failed(res->checks));
        cachet_verify_result_free(res);
    }
    cachet_endorsements_free(e);
    free(r);
}

static void test_report_shapes(void **state)
{
    (void)state;
    const struct {
        const char *fail;
        bool verified;
        void (*mut)(nvgen_report *);
    } cases[] = {
        { "nvgpu.report.request", false, NULL },     /* SPDM 1.2 */
        { "nvgpu.report.trailing", false, NULL },    /* non-zero trailing byte */
        { "nvgpu.report.opaque", false, NULL },      /* DRIVER_VERSION twice */
        { "nvgpu.cert_chain.fwid", false, NULL },    /* FWID not the leaf's */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nvgen_report o = base;
        switch (i) {
        case 0: o.spdm_version = 0x12; break;
        case 1: o.trailing = 1; o.trailing_byte = 0x01; break;
        case 2: o.duplicate_tlv = true; break;
        case 3: o.other_fwid = true; break;
        }
        size_t len;
        uint8_t *r = report(&o, &len);
        cachet_endorsements *e = standard_endorsements();
        opts no = { .nonce = base.nonce, .nonce_len = 32 };
        cachet_verify_result *res = verify(r, len, e, &no);
        ev_assert_verdict(res, CACHET_EV_CONTRAINDICATED, cases[i].verified);
        ev_assert_fail(res, cases[i].fail);
        cachet_verify_result_free(res);
        cachet_endorsements_free(e);
        free(r);
    }
    /* Trailing zero bytes are fine (not signed, reported). */
    nvgen_report o = base;
    o.trailing = 2;
    size_t len;
    uint8_t *r = report(&o, &len);
    cachet_endorsements *e = standard_endorsements();
    opts no = { .nonce = base.nonce, .nonce_len = 32 };
    cachet_verify_result *res = verify(r, len, e, &no);
    ev_assert_verdict(res, CACHET_EV_WARNING, true);
    cachet_verify_result_free(res);
    cachet_endorsements_free(e);
    free(r);
}

/* ---- the chain ---------------------------------------------------------------------------------- */

static void test_substituted_root(void **state)
{
    (void)state;
    /* An attacker's own "NVIDIA Device Identity CA" and chain. */
    nvgen_pki *att = nvgen_pki_new(t_now, false);
    assert_non_null(att);
    size_t len;
    uint8_t *r = nvgen_report_build(att, &base, &len);
    cachet_endorsements *e = cachet_endorsements_new();
    char *chain = nvgen_chain_pem(att, true);
    add(e, "chain.pem", chain, strlen(chain));
    free(chain);
    /* ... and the attacker's root also offered as a trust anchor. */
    cachet_x509 *anchor = testpki_x509(att->root);
    opts o = { .nonce = base.nonce, .nonce_len = 32, .anchors = &anchor, .n_anchors = 1 };
    cachet_verify_result *res = verify(r, len, e, &o);
    ev_assert_verdict(res, CACHET_EV_CONTRAINDICATED, false);
    ev_assert_fail(res, "nvgpu.cert_chain.root");
    ev_assert_fail(res, "nvgpu.cert_chain");
    ev_assert_na(res, "nvgpu.cert_chain.trust_anchors");
    ev_assert_na(res, "nvgpu.report.signature");
    cachet_verify_result_free(res);
    cachet_x509_free(anchor);
    cachet_endorsements_free(e);
    free(r);
    nvgen_pki_free(att);
}

static void test_builtin_roots_reject_test_pki(void **state)
{
    (void)state;
    cachet_endorsements *e = standard_endorsements();
    cachet_x509 *anchor = testpki_x509(pki->root);
    opts o = { .ops = &cachet_nvgpu_ops, .anchors = &anchor, .n_anchors = 1,
               .nonce = base.nonce, .nonce_len = 32 };
    cachet_verify_result *r = verify_base(e, &o);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    ev_assert_fail(r, "nvgpu.cert_chain.root"); /* the test root is not NVIDIA's */
    ev_assert_fail(r, "nvgpu.cert_chain");
    ev_assert_fail(r, "nvgpu.rim.driver.cert_chain"); /* nor is the test RIM root */
    cachet_verify_result_free(r);
    cachet_x509_free(anchor);
    cachet_endorsements_free(e);
}

static void test_no_chain(void **state)
{
    (void)state;
    cachet_endorsements *e = cachet_endorsements_new();
    cachet_verify_result *r = verify_base(e, NULL);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    ev_assert_fail(r, "nvgpu.cert_chain.present");
    ev_assert_na(r, "nvgpu.report.signature");
    cachet_verify_result_free(r);
    /* The chain without its root verifies to the pin as well. */
    char *chain = nvgen_chain_pem(pki, false);
    add(e, "chain.pem", chain, strlen(chain));
    free(chain);
    r = verify_base(e, NULL);
    ev_assert_pass(r, "nvgpu.cert_chain");
    ev_assert_na(r, "nvgpu.cert_chain.root");
    assert_true(r->verified);
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
}

/* ---- RIMs ------------------------------------------------------------------------------------ */

static cachet_endorsements *chain_plus(nvgen_rim *d, nvgen_rim *v, const nvgen_pki *rim_pki)
{
    cachet_endorsements *e = cachet_endorsements_new();
    char *chain = nvgen_chain_pem(pki, true);
    add(e, "chain.pem", chain, strlen(chain));
    free(chain);
    size_t l;
    if (d) {
        char *x = rim(rim_pki ? rim_pki : pki, d, true, &l);
        add(e, "driver.xml", x, l);
        free(x);
    }
    if (v) {
        char *x = rim(pki, v, false, &l);
        add(e, "vbios.xml", x, l);
        free(x);
    }
    return e;
}

static void test_measurement_mismatch_index(void **state)
{
    (void)state;
    nvgen_report o = base;
    o.values[10][0] ^= 0x01; /* block 11 = RIM index 10 (driver RIM) */
    size_t len;
    uint8_t *r = report(&o, &len);
    cachet_endorsements *e = standard_endorsements();
    opts no = { .nonce = base.nonce, .nonce_len = 32 };
    cachet_verify_result *res = verify(r, len, e, &no);
    ev_assert_verdict(res, CACHET_EV_CONTRAINDICATED, true);
    ev_assert_only_failures(res, "nvgpu.measurement.index10", "nvgpu.measurements");
    json_t *m = json_object_get(res->claims, "mismatched_indices");
    assert_int_equal(json_array_size(m), 1);
    assert_int_equal(json_integer_value(json_array_get(m, 0)), 10);
    cachet_verify_result_free(res);
    cachet_endorsements_free(e);
    free(r);
}

static void test_rim_bad_signature(void **state)
{
    (void)state;
    nvgen_rim d = { .corrupt_after_sign = true }, v = { 0 };
    cachet_endorsements *e = chain_plus(&d, &v, NULL);
    cachet_verify_result *r = verify_base(e, NULL);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    ev_assert_only_failures(r, "nvgpu.rim.driver.signature");
    ev_assert_pass(r, "nvgpu.rim.driver.cert_chain");
    assert_string_equal(ev_claim_str(r, "measres"), "partial"); /* the VBIOS RIM still compared */
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
}

static void test_rim_wrong_chain(void **state)
{
    (void)state;
    nvgen_pki *other = nvgen_pki_new(t_now, false);
    assert_non_null(other);
    nvgen_rim d = { 0 }, v = { 0 };
    cachet_endorsements *e = chain_plus(&d, &v, other);
    cachet_verify_result *r = verify_base(e, NULL);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    ev_assert_only_failures(r, "nvgpu.rim.driver.cert_chain");
    ev_assert_pass(r, "nvgpu.rim.driver.signature"); /* validly signed, by the wrong signer */
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
    nvgen_pki_free(other);
}

static void test_rim_other_version(void **state)
{
    (void)state;
    nvgen_rim d = { .version = "550.90.07" }, v = { .version = "96.00.5E.00.01" };
    cachet_endorsements *e = chain_plus(&d, &v, NULL);
    cachet_verify_result *r = verify_base(e, NULL);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    ev_assert_only_failures(r, "nvgpu.rim.driver.version", "nvgpu.rim.vbios.version");
    assert_non_null(strstr(detail(r, "nvgpu.rim.driver.version"), "550.90.07"));
    json_t *drv = json_object_get(json_object_get(r->claims, "rims"), "driver");
    assert_string_equal(json_string_value(json_object_get(drv, "status")), "version-mismatch");
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
}

static void test_rim_product(void **state)
{
    (void)state;
    nvgen_rim d = { .product = "GB100" };
    cachet_endorsements *e = chain_plus(&d, NULL, NULL);
    cachet_verify_result *r = verify_base(e, NULL);
    ev_assert_fail(r, "nvgpu.rim.driver.product");
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
}

static void test_rim_index_conflict(void **state)
{
    (void)state;
    bool both[64];
    memcpy(both, vb_active, sizeof both);
    both[5] = true; /* also active in the driver RIM */
    nvgen_rim d = { 0 }, v = { .active = both };
    cachet_endorsements *e = chain_plus(&d, &v, NULL);
    cachet_verify_result *r = verify_base(e, NULL);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    ev_assert_only_failures(r, "nvgpu.rim.index_conflict");
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
}

static void test_rim_alternatives_and_nvdec(void **state)
{
    (void)state;
    /* Hash0 wrong, Hash1 right: any alternative matches. */
    static uint8_t wrong[64][48];
    memset(wrong, 0xAB, sizeof wrong);
    nvgen_rim d = { .values = (const uint8_t(*)[48])wrong,
                    .alt1 = (const uint8_t(*)[48])base.values };
    nvgen_rim v = { 0 };
    cachet_endorsements *e = chain_plus(&d, &v, NULL);
    cachet_verify_result *r = verify_base(e, NULL);
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    ev_assert_pass(r, "nvgpu.measurements");
    cachet_verify_result_free(r);

    /* NVDEC0 enabled: index 35 is compared (and matches). */
    nvgen_report o = base;
    o.nvdec0 = 1;
    size_t len;
    uint8_t *rep = report(&o, &len);
    opts no = { .nonce = base.nonce, .nonce_len = 32 };
    r = verify(rep, len, e, &no);
    ev_assert_no_failures(r);
    assert_null(cachet_checklog_find(r->checks, "nvgpu.measurement.index35"));
    assert_non_null(strstr(detail(r, "nvgpu.measurements"), "all 36"));
    cachet_verify_result_free(r);
    free(rep);
    cachet_endorsements_free(e);
}

static void test_rim_wrapped(void **state)
{
    (void)state;
    nvgen_rim d = { .wrap_payload = true }, v = { 0 };
    cachet_endorsements *e = chain_plus(&d, &v, NULL);
    cachet_verify_result *r = verify_base(e, NULL);
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    ev_assert_no_failures(r);
    ev_assert_pass(r, "nvgpu.rim.driver.signature");
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
}

static void test_unreadable_xml(void **state)
{
    (void)state;
    cachet_endorsements *e = standard_endorsements();
    const char *x = "<?xml version=\"1.0\"?><note>not a RIM</note>";
    add(e, "note.xml", x, strlen(x));
    cachet_verify_result *r = verify_base(e, NULL);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    ev_assert_only_failures(r, "nvgpu.rim.read");
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
}

/* ---- containers: CC mode, host fields, several GPUs ------------------------------------------ */

typedef struct gpu_entry {
    const uint8_t *report;
    size_t len;
    const char *chain;
    const char *cc_mode, *arch, *driver;
    const uint8_t *nonce;
} gpu_entry;

static char *container(const gpu_entry *g, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        char *ev = cachet_base64_string(g[i].report, g[i].len);
        char *cert = cachet_base64_string((const uint8_t *)g[i].chain, strlen(g[i].chain));
        json_t *o = json_pack("{s:s, s:s, s:s}", "arch", g[i].arch ? g[i].arch : "HOPPER",
                              "evidence", ev, "certificate", cert);
        if (g[i].cc_mode)
            json_object_set_new(o, "cc_mode", json_string(g[i].cc_mode));
        if (g[i].driver)
            json_object_set_new(o, "driver_version", json_string(g[i].driver));
        if (g[i].nonce) {
            char *h = cachet_hex_string(g[i].nonce, 32);
            json_object_set_new(o, "nonce", json_string(h));
            free(h);
        }
        json_array_append_new(arr, o);
        free(ev);
        free(cert);
    }
    char *s = json_dumps(arr, JSON_INDENT(2));
    json_decref(arr);
    return s;
}

static cachet_endorsements *rims_only(void)
{
    cachet_endorsements *e = cachet_endorsements_new();
    nvgen_rim d = { 0 }, v = { 0 };
    size_t dl, vl;
    char *dx = rim(pki, &d, true, &dl), *vx = rim(pki, &v, false, &vl);
    add(e, "driver.xml", dx, dl);
    add(e, "vbios.xml", vx, vl);
    free(dx);
    free(vx);
    return e;
}

static void test_cc_modes(void **state)
{
    (void)state;
    size_t len;
    uint8_t *rep = report(NULL, &len);
    char *chain = nvgen_chain_pem(pki, true);
    cachet_endorsements *e = rims_only();
    const struct {
        const char *mode;
        cachet_ev_status status;
        bool fail, debug;
    } cases[] = { { "on", CACHET_EV_WARNING, false, false },
                  { "devtools", CACHET_EV_CONTRAINDICATED, true, true },
                  { "off", CACHET_EV_CONTRAINDICATED, true, false } };
    for (size_t i = 0; i < 3; i++) {
        gpu_entry g = { rep, len, chain, cases[i].mode, NULL, NULL, base.nonce };
        char *c = container(&g, 1);
        opts no = { .nonce = base.nonce, .nonce_len = 32 };
        cachet_verify_result *r = verify((uint8_t *)c, strlen(c), e, &no);
        ev_assert_verdict(r, cases[i].status, true);
        if (cases[i].fail)
            ev_assert_only_failures(r, "nvgpu.cc.mode");
        else
            ev_assert_pass(r, "nvgpu.cc.mode");
        assert_int_equal(json_is_true(json_object_get(r->claims, "debug")), cases[i].debug);
        assert_string_equal(ev_claim_str(r, "cc_mode"), cases[i].mode);
        ev_assert_pass(r, "nvgpu.evidence.nonce");
        cachet_verify_result_free(r);
        free(c);
    }
    cachet_endorsements_free(e);
    free(chain);
    free(rep);
}

static void test_host_fields(void **state)
{
    (void)state;
    size_t len;
    uint8_t *rep = report(NULL, &len);
    char *chain = nvgen_chain_pem(pki, true);
    uint8_t other[32] = { 1 };
    gpu_entry g = { rep, len, chain, "on", "BLACKWELL", "9.9.9", other };
    char *c = container(&g, 1);
    cachet_endorsements *e = rims_only();
    cachet_verify_result *r = verify((uint8_t *)c, strlen(c), e, NULL);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    ev_assert_only_failures(r, "nvgpu.arch", "nvgpu.driver.reported", "nvgpu.evidence.nonce");
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
    free(c);
    free(chain);
    free(rep);
}

static void test_multi_gpu(void **state)
{
    (void)state;
    /* A second GPU: another FMC LF leaf under the same BROM. */
    uint8_t ext[68] = { 0x30, 0x42, 0x02, 0x01, 0x01, 0x30, 0x3d, 0x06, 0x09, 0x60,
                        0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x04, 0x30 };
    memcpy(ext + 20, pki->fwid, 48);
    testpki_ext x = { .oid = NVGPU_OID_DICE_TCBINFO, .value = ext, .len = sizeof ext };
    testpki_cert *leaf2 = testpki_mint(&(testpki_cert_opts){ .cn = "GH100 A01 GSP FMC LF",
                                                            .key = TESTPKI_KEY_P384,
                                                            .sig_hash = CACHET_HASH_SHA384,
                                                            .not_before = t_now - 86400,
                                                            .not_after = t_now + 86400,
                                                            .exts = &x, .n_exts = 1 },
                                       pki->brom);
    assert_non_null(leaf2);
    const testpki_cert *c2[] = { leaf2, pki->brom, pki->ica, pki->identity, pki->root };
    char *chain2 = testpki_bundle_pem(c2, 5);
    char *chain1 = nvgen_chain_pem(pki, true);
    size_t l1, l2, l3;
    uint8_t *r1 = report(NULL, &l1);
    nvgen_report o = base;
    o.signer = leaf2;
    uint8_t *r2 = report(&o, &l2);
    o.nonce[0] ^= 0xFF; /* a GPU answering another challenge */
    uint8_t *r3 = report(&o, &l3);
    cachet_endorsements *e = rims_only();
    opts no = { .nonce = base.nonce, .nonce_len = 32 };

    gpu_entry two[] = { { r1, l1, chain1, "on", NULL, NULL, NULL },
                        { r2, l2, chain2, "on", NULL, NULL, NULL } };
    char *c = container(two, 2);
    cachet_verify_result *r = verify((uint8_t *)c, strlen(c), e, &no);
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    ev_assert_no_failures(r);
    ev_assert_pass(r, "nvgpu.gpu0.report.signature");
    ev_assert_pass(r, "nvgpu.gpu1.report.signature");
    ev_assert_pass(r, "nvgpu.gpu1.measurements");
    ev_assert_pass(r, "nvgpu.gpus.distinct");
    assert_int_equal(json_integer_value(json_object_get(r->claims, "gpu_count")), 2);
    assert_string_equal(ev_claim_str(r, "measres"), "success");
    cachet_verify_result_free(r);
    free(c);

    /* One GPU with a stale nonce: only that GPU's check fails. */
    gpu_entry stale[] = { { r1, l1, chain1, "on", NULL, NULL, NULL },
                          { r3, l3, chain2, "on", NULL, NULL, NULL } };
    c = container(stale, 2);
    r = verify((uint8_t *)c, strlen(c), e, &no);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    ev_assert_only_failures(r, "nvgpu.gpu1.report.nonce");
    ev_assert_pass(r, "nvgpu.gpu0.report.nonce");
    assert_string_equal(ev_claim_str(r, "freshness"), "mismatch");
    cachet_verify_result_free(r);
    free(c);

    /* One GPU in devtools mode makes the whole submission debug. */
    gpu_entry dev[] = { { r1, l1, chain1, "on", NULL, NULL, NULL },
                        { r2, l2, chain2, "devtools", NULL, NULL, NULL } };
    c = container(dev, 2);
    r = verify((uint8_t *)c, strlen(c), e, &no);
    ev_assert_only_failures(r, "nvgpu.gpu1.cc.mode");
    assert_true(json_is_true(json_object_get(r->claims, "debug")));
    cachet_verify_result_free(r);
    free(c);

    /* The same device twice. */
    gpu_entry dup[] = { { r1, l1, chain1, "on", NULL, NULL, NULL },
                        { r1, l1, chain1, "on", NULL, NULL, NULL } };
    c = container(dup, 2);
    r = verify((uint8_t *)c, strlen(c), e, &no);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    ev_assert_only_failures(r, "nvgpu.gpus.distinct");
    cachet_verify_result_free(r);
    free(c);

    /* A broken second GPU makes the whole submission unverified. */
    uint8_t *bad = malloc(l2);
    memcpy(bad, r2, l2);
    bad[l2 - 5] ^= 1;
    gpu_entry broken[] = { { r1, l1, chain1, "on", NULL, NULL, NULL },
                           { bad, l2, chain2, "on", NULL, NULL, NULL } };
    c = container(broken, 2);
    r = verify((uint8_t *)c, strlen(c), e, &no);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    ev_assert_only_failures(r, "nvgpu.gpu1.report.signature");
    cachet_verify_result_free(r);
    free(c);
    free(bad);

    cachet_endorsements_free(e);
    free(r1);
    free(r2);
    free(r3);
    free(chain1);
    free(chain2);
    testpki_free(leaf2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_baseline_warning),
        cmocka_unit_test(test_all_ocsp_affirming),
        cmocka_unit_test(test_ocsp_missing_one),
        cmocka_unit_test(test_ocsp_revoked_hold_unknown),
        cmocka_unit_test(test_ocsp_rim_revoked),
        cmocka_unit_test(test_ocsp_stale),
        cmocka_unit_test(test_verify_cache),
        cmocka_unit_test(test_flipped_signature),
        cmocka_unit_test(test_flipped_measurement_block),
        cmocka_unit_test(test_wrong_nonce),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_report_shapes),
        cmocka_unit_test(test_substituted_root),
        cmocka_unit_test(test_builtin_roots_reject_test_pki),
        cmocka_unit_test(test_no_chain),
        cmocka_unit_test(test_measurement_mismatch_index),
        cmocka_unit_test(test_rim_bad_signature),
        cmocka_unit_test(test_rim_wrong_chain),
        cmocka_unit_test(test_rim_other_version),
        cmocka_unit_test(test_rim_product),
        cmocka_unit_test(test_rim_index_conflict),
        cmocka_unit_test(test_rim_alternatives_and_nvdec),
        cmocka_unit_test(test_rim_wrapped),
        cmocka_unit_test(test_unreadable_xml),
        cmocka_unit_test(test_cc_modes),
        cmocka_unit_test(test_host_fields),
        cmocka_unit_test(test_multi_gpu),
    };
    return cmocka_run_group_tests_name("nvgpu_generated", tests, setup, teardown);
}
