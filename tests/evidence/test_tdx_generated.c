/* Generated TDX/SGX quotes and collateral (tdx_gen + testpki): every link of
 * the DCAP chain broken on purpose where no real vector can (a revoked PCK
 * needs a CRL that only Intel could sign, a QE identity with another
 * MRSIGNER needs a signature that only Intel could make), with the test root
 * handed to the families through ops->config.  Also the TCB-level rules
 * (module identity, relaunch, QE convergence) on levels made to order. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "cachet/evidence.h"
#include "ev_assert.h"
#include "evidence/registry.h"
#include "tdx_gen.h"

#define DAY ((int64_t)86400)
#define T TDXGEN_T0

static tdxgen *gen;

static int setup(void **state)
{
    (void)state;
    gen = tdxgen_new(NULL);
    return gen ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tdxgen_free(gen);
    return 0;
}

typedef struct coll {
    const char *tcb_text;  /* NULL: default; "" : none */
    const char *qe_text;
    bool revoke_pck, revoke_ca, no_crls;
    bool no_chain;
} coll;

static void add(cachet_endorsements *e, const char *name, const void *p, size_t n)
{
    assert_int_equal(cachet_endorsements_add_bytes(e, name, p, n), CACHET_OK);
}

static cachet_endorsements *endorse(const tdxgen *g, bool tdx, const coll *c)
{
    coll none = { 0 };
    if (!c)
        c = &none;
    cachet_endorsements *e = cachet_endorsements_new();
    char *ti = c->tcb_text ? NULL : tdxgen_tcb_info_text(tdx, NULL, NULL, NULL, T - 10 * DAY, T + 20 * DAY);
    char *qi = c->qe_text ? NULL : tdxgen_qe_identity_text(tdx, NULL, tdx ? 2 : 1, T - 10 * DAY, T + 20 * DAY);
    const char *tt = c->tcb_text ? c->tcb_text : ti, *qt = c->qe_text ? c->qe_text : qi;
    if (*tt) {
        char *b = tdxgen_pcs_body(g, true, tt);
        add(e, "tcb_info.json", b, strlen(b));
        free(b);
    }
    if (*qt) {
        char *b = tdxgen_pcs_body(g, false, qt);
        add(e, "qe_identity.json", b, strlen(b));
        free(b);
    }
    if (!c->no_chain) {
        char *chain = tdxgen_signing_chain_pem(g);
        add(e, "chain.pem", chain, strlen(chain));
        free(chain);
    }
    if (!c->no_crls) {
        size_t n;
        uint8_t *crl = tdxgen_root_crl(g, c->revoke_ca, &n);
        add(e, "root.crl", crl, n);
        free(crl);
        crl = tdxgen_pck_crl(g, c->revoke_pck, &n);
        add(e, "pck.crl", crl, n);
        free(crl);
    }
    free(ti);
    free(qi);
    return e;
}

static cachet_verify_result *run_with(const cachet_evidence_ops *ops, const uint8_t *q, size_t len,
                                      const cachet_endorsements *e, int64_t t, const uint8_t *nonce,
                                      size_t nonce_len)
{
    cachet_verify_request req = { .evidence = q, .evidence_len = len, .endorsements = e, .time = t,
                                  .nonce = nonce, .nonce_len = nonce_len };
    cachet_verify_result *r = NULL;
    assert_int_equal(cachet_evidence_verify_with(ops, &req, &r), CACHET_OK);
    return r;
}

/* Generate a quote with o, verify it against collateral c at T. */
static cachet_verify_result *run(const tdxgen_quote_opts *o, const coll *c)
{
    tdxgen_quote_opts def;
    if (!o) {
        tdxgen_quote_defaults(&def);
        o = &def;
    }
    bool tdx = !(o->sgx || o->version == 3);
    size_t len;
    uint8_t *q = tdxgen_quote(gen, o, &len);
    cachet_endorsements *e = endorse(gen, tdx, c);
    cachet_verify_result *r = run_with(tdx ? &gen->tdx_ops : &gen->sgx_ops, q, len, e, T, NULL, 0);
    cachet_endorsements_free(e);
    free(q);
    return r;
}

static const char *tcb(const cachet_verify_result *r) { return ev_claim_str(r, "tcb_status"); }

/* A TDX TCB level as JSON text (malloc'd). */
static char *level(const uint8_t sgx[16], int pcesvn, const uint8_t tdxc[16], const char *status,
                   const char *advisories)
{
    char s[512] = "", d[512] = "";
    for (int i = 0; i < 16; i++) {
        snprintf(s + strlen(s), sizeof s - strlen(s), "%s{\"svn\":%u}", i ? "," : "", sgx[i]);
        if (tdxc)
            snprintf(d + strlen(d), sizeof d - strlen(d), "%s{\"svn\":%u}", i ? "," : "", tdxc[i]);
    }
    return tu_asprintf("{\"tcb\":{\"sgxtcbcomponents\":[%s],\"pcesvn\":%d%s%s%s},\"tcbDate\":"
                       "\"2024-01-01T00:00:00Z\",\"tcbStatus\":\"%s\"%s%s%s}",
                       s, pcesvn, tdxc ? ",\"tdxtcbcomponents\":[" : "", tdxc ? d : "",
                       tdxc ? "]" : "", status, advisories ? ",\"advisoryIDs\":[" : "",
                       advisories ? advisories : "", advisories ? "]" : "");
}

static const uint8_t PCK_COMP[16] = { 3, 3, 2, 2, 4, 1, 0, 5 };
static const uint8_t TDX_COMP[16] = { 5, 0, 2 };

static char *tcb_text_levels(bool tdx, const char *levels, const char *modules)
{
    return tdxgen_tcb_info_text(tdx, NULL, levels, modules, T - 10 * DAY, T + 20 * DAY);
}

/* ---- the baseline ---------------------------------------------------------------- */

static void test_baseline(void **state)
{
    (void)state;
    tdxgen_quote_opts o;
    const struct { uint16_t version; bool sgx, td15; const char *body; } forms[] = {
        { 4, false, false, "TD report 1.0" }, { 5, false, false, "TD report 1.0" },
        { 5, false, true, "TD report 1.5" },  { 3, true, false, "SGX enclave report" },
        { 4, true, false, "SGX enclave report" }, { 5, true, false, "SGX enclave report" },
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        tdxgen_quote_defaults(&o);
        o.version = forms[i].version;
        o.sgx = forms[i].sgx;
        o.td15 = forms[i].td15;
        if (o.sgx)
            o.qe_isvprodid = 1;
        cachet_verify_result *r = run(&o, NULL);
        ev_assert_no_failures(r);
        ev_assert_verdict(r, CACHET_EV_AFFIRMING, true);
        assert_string_equal(tcb(r), "UpToDate");
        assert_string_equal(ev_claim_str(r, "quote_body"), forms[i].body);
        assert_string_equal(r->tee, o.sgx ? "sgx" : "tdx");
        cachet_verify_result_free(r);
    }
}

/* The test root is only ever trusted through ops->config: the stock
 * families (built-in Intel root) refuse the generated chain. */
static void test_builtin_root_refuses_test_pki(void **state)
{
    (void)state;
    tdxgen_quote_opts o;
    tdxgen_quote_defaults(&o);
    size_t len;
    uint8_t *q = tdxgen_quote(gen, &o, &len);
    cachet_endorsements *e = endorse(gen, true, NULL);
    cachet_verify_result *r = run_with(&cachet_tdx_ops, q, len, e, T, NULL, 0);
    ev_assert_fail(r, "tdx.pck.chain");
    ev_assert_fail(r, "tdx.pck.supplied_root");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
    free(q);
}

/* ---- revocation ------------------------------------------------------------------- */

static void test_revoked_pck(void **state)
{
    (void)state;
    cachet_verify_result *r = run(NULL, &(coll){ .revoke_pck = true });
    ev_assert_fail(r, "tdx.pck.revocation");
    ev_assert_only_failures(r, "tdx.pck.revocation");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);

    r = run(NULL, &(coll){ .revoke_ca = true });
    ev_assert_fail(r, "tdx.pck.revocation");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);
}

static void test_crl_from_impostor(void **state)
{
    (void)state;
    /* A CRL named as from the PCK Platform CA but signed by another key. */
    testpki_cert *fake = testpki_mint(&(testpki_cert_opts){ .cn = "Intel SGX PCK Platform CA",
                                                            .org = "Intel Corporation", .ca = true,
                                                            .not_before = T - 100 * DAY,
                                                            .not_after = T + 100 * DAY }, gen->root);
    size_t n;
    uint8_t *crl = testpki_crl(fake, &(testpki_crl_opts){ .this_update = T - DAY,
                                                          .next_update = T + DAY }, &n);
    tdxgen_quote_opts o;
    tdxgen_quote_defaults(&o);
    size_t len;
    uint8_t *q = tdxgen_quote(gen, &o, &len);
    cachet_endorsements *e = endorse(gen, true, &(coll){ .no_crls = true });
    add(e, "impostor.crl", crl, n);
    cachet_verify_result *r = run_with(&gen->tdx_ops, q, len, e, T, NULL, 0);
    ev_assert_fail(r, "tdx.crl.pck");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
    free(q);
    free(crl);
    testpki_free(fake);
}

static void test_no_crls_is_a_warning(void **state)
{
    (void)state;
    cachet_verify_result *r = run(NULL, &(coll){ .no_crls = true });
    ev_assert_na(r, "tdx.crl.root");
    ev_assert_na(r, "tdx.crl.pck");
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    assert_string_equal(tcb(r), "UpToDate");
    cachet_verify_result_free(r);
}

/* ---- the QE ---------------------------------------------------------------------- */

static void test_qe_identity_mismatch(void **state)
{
    (void)state;
    char *qi = tdxgen_qe_identity_text(true, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                                       2, T - 10 * DAY, T + 20 * DAY);
    cachet_verify_result *r = run(NULL, &(coll){ .qe_text = qi });
    ev_assert_fail(r, "tdx.qe_identity.mrsigner");
    ev_assert_pass(r, "tdx.qe_identity.signature");
    ev_assert_only_failures(r, "tdx.qe_identity.mrsigner");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);
    free(qi);

    qi = tdxgen_qe_identity_text(true, NULL, 7, T - 10 * DAY, T + 20 * DAY);
    r = run(NULL, &(coll){ .qe_text = qi });
    ev_assert_fail(r, "tdx.qe_identity.isvprodid");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);
    free(qi);
}

static void test_qe_debug_and_binding(void **state)
{
    (void)state;
    tdxgen_quote_opts o;
    tdxgen_quote_defaults(&o);
    o.qe_flags = 0x13; /* DEBUG */
    cachet_verify_result *r = run(&o, NULL);
    ev_assert_fail(r, "tdx.qe_report.debug");
    ev_assert_fail(r, "tdx.qe_identity.attributes");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);

    tdxgen_quote_defaults(&o);
    o.bad_binding = true;
    r = run(&o, NULL);
    ev_assert_fail(r, "tdx.qe_report.binding");
    ev_assert_only_failures(r, "tdx.qe_report.binding");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);

    /* QE auth data of other sizes (Intel's QVL sample has none). */
    const uint16_t sizes[] = { 0, 1, 64, 500 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        tdxgen_quote_defaults(&o);
        o.qe_auth_len = sizes[i];
        o.nul_terminated_chain = i % 2;
        o.trailing = 3 * i;
        r = run(&o, NULL);
        ev_assert_verdict(r, CACHET_EV_AFFIRMING, true);
        cachet_verify_result_free(r);
    }
}

static void test_qe_tcb(void **state)
{
    (void)state;
    tdxgen_quote_opts o;
    tdxgen_quote_defaults(&o);
    o.qe_isvsvn = 3; /* level isvsvn 2: OutOfDate */
    cachet_verify_result *r = run(&o, NULL);
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    assert_string_equal(tcb(r), "OutOfDate");
    char *adv = json_dumps(json_object_get(r->claims, "advisory_ids"), JSON_COMPACT);
    assert_string_equal(adv, "[\"INTEL-SA-00999\"]");
    free(adv);
    cachet_verify_result_free(r);

    o.qe_isvsvn = 1; /* below every level */
    r = run(&o, NULL);
    ev_assert_fail(r, "tdx.qe_identity.tcb");
    assert_string_equal(tcb(r), "TcbNotSupported");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    cachet_verify_result_free(r);
}

/* ---- the TD ---------------------------------------------------------------------- */

static void test_debug_td_and_enclave(void **state)
{
    (void)state;
    tdxgen_quote_opts o;
    tdxgen_quote_defaults(&o);
    o.td_attributes |= TDX_TD_ATTR_DEBUG;
    cachet_verify_result *r = run(&o, NULL);
    ev_assert_fail(r, "tdx.td.debug");
    ev_assert_only_failures(r, "tdx.td.debug");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    assert_true(json_is_true(json_object_get(r->claims, "debug")));
    cachet_verify_result_free(r);

    tdxgen_quote_defaults(&o);
    o.version = 3;
    o.sgx = true;
    o.qe_isvprodid = 1;
    o.enclave_flags |= TDX_SGX_ATTR_DEBUG;
    r = run(&o, NULL);
    ev_assert_fail(r, "sgx.enclave.debug");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    cachet_verify_result_free(r);
}

static void test_nonce(void **state)
{
    (void)state;
    tdxgen_quote_opts o;
    tdxgen_quote_defaults(&o);
    size_t len;
    uint8_t *q = tdxgen_quote(gen, &o, &len);
    cachet_endorsements *e = endorse(gen, true, NULL);
    uint8_t good[64], bad[64];
    memset(good, 0x5a, 64);
    memset(bad, 0x5a, 64);
    bad[63] = 0;
    cachet_verify_result *r = run_with(&gen->tdx_ops, q, len, e, T, good, 64);
    ev_assert_pass(r, "tdx.report_data.nonce");
    ev_assert_verdict(r, CACHET_EV_AFFIRMING, true);
    cachet_verify_result_free(r);
    r = run_with(&gen->tdx_ops, q, len, e, T, bad, 64);
    ev_assert_fail(r, "tdx.report_data.nonce");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    cachet_verify_result_free(r);
    r = run_with(&gen->tdx_ops, q, len, e, T, good, 32); /* the rest must be zero */
    ev_assert_fail(r, "tdx.report_data.nonce");
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
    free(q);
}

static void test_service_td(void **state)
{
    (void)state;
    tdxgen_quote_opts o;
    tdxgen_quote_defaults(&o);
    o.version = 5;
    o.td15 = true;
    o.mrservicetd[0] = 1;
    cachet_verify_result *r = run(&o, NULL);
    ev_assert_pass(r, "tdx.td.mrservicetd");
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    cachet_verify_result_free(r);
}

/* ---- TCB levels -------------------------------------------------------------------- */

static void test_tcb_statuses(void **state)
{
    (void)state;
    const char *statuses[] = { "SWHardeningNeeded", "ConfigurationNeeded",
                               "ConfigurationAndSWHardeningNeeded", "OutOfDate",
                               "OutOfDateConfigurationNeeded" };
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        char *l = level(PCK_COMP, 11, TDX_COMP, statuses[i], "\"INTEL-SA-00615\"");
        char *levels = tu_asprintf("[%s]", l);
        char *ti = tcb_text_levels(true, levels, NULL);
        cachet_verify_result *r = run(NULL, &(coll){ .tcb_text = ti });
        ev_assert_verdict(r, CACHET_EV_WARNING, true);
        ev_assert_pass(r, "tdx.tcb.status");
        assert_string_equal(tcb(r), statuses[i]);
        char *adv = json_dumps(json_object_get(r->claims, "advisory_ids"), JSON_COMPACT);
        assert_string_equal(adv, "[\"INTEL-SA-00615\"]");
        free(adv);
        cachet_verify_result_free(r);
        free(l);
        free(levels);
        free(ti);
    }
    char *l = level(PCK_COMP, 11, TDX_COMP, "Revoked", NULL);
    char *levels = tu_asprintf("[%s]", l);
    char *ti = tcb_text_levels(true, levels, NULL);
    cachet_verify_result *r = run(NULL, &(coll){ .tcb_text = ti });
    ev_assert_fail(r, "tdx.tcb.status");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    assert_string_equal(tcb(r), "Revoked");
    cachet_verify_result_free(r);
    free(l);
    free(levels);
    free(ti);
}

static void test_tcb_no_level(void **state)
{
    (void)state;
    /* Every level needs more than the PCK's component 8 (5 < 6). */
    uint8_t hi[16];
    memcpy(hi, PCK_COMP, 16);
    hi[7] = 6;
    char *l = level(hi, 11, TDX_COMP, "UpToDate", NULL);
    char *levels = tu_asprintf("[%s]", l);
    char *ti = tcb_text_levels(true, levels, NULL);
    cachet_verify_result *r = run(NULL, &(coll){ .tcb_text = ti });
    ev_assert_fail(r, "tdx.tcb.level");
    ev_assert_only_failures(r, "tdx.tcb.level");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    assert_string_equal(tcb(r), "TcbNotSupported");
    cachet_verify_result_free(r);
    free(l);
    free(levels);
    free(ti);

    /* PCESVN 11 < 12. */
    l = level(PCK_COMP, 12, TDX_COMP, "UpToDate", NULL);
    levels = tu_asprintf("[%s]", l);
    ti = tcb_text_levels(true, levels, NULL);
    r = run(NULL, &(coll){ .tcb_text = ti });
    ev_assert_fail(r, "tdx.tcb.level");
    cachet_verify_result_free(r);
    free(l);
    free(levels);
    free(ti);
}

static void test_tdx_components(void **state)
{
    (void)state;
    /* TEE_TCB_SVN[1] > 0: bytes 0 and 1 are the module's; byte 2 decides. */
    uint8_t high01[16] = { 200, 200, 2 };
    char *l = level(PCK_COMP, 11, high01, "UpToDate", NULL);
    char *levels = tu_asprintf("[%s]", l);
    char *ti = tcb_text_levels(true, levels, NULL);
    cachet_verify_result *r = run(NULL, &(coll){ .tcb_text = ti });
    ev_assert_verdict(r, CACHET_EV_AFFIRMING, true);
    cachet_verify_result_free(r);
    /* ... but with TEE_TCB_SVN[1] == 0 all 16 count (and no module identity). */
    tdxgen_quote_opts o;
    tdxgen_quote_defaults(&o);
    o.tee_tcb_svn[0] = 5;
    o.tee_tcb_svn[1] = 0;
    r = run(&o, &(coll){ .tcb_text = ti });
    ev_assert_fail(r, "tdx.tcb.level");
    cachet_verify_result_free(r);
    free(l);
    free(levels);
    free(ti);

    /* T[1] == 0: {5,0,2} meets the top default level, {4,0,2} only the 2018 one. */
    r = run(&o, NULL);
    ev_assert_verdict(r, CACHET_EV_AFFIRMING, true);
    assert_null(json_object_get(json_object_get(r->claims, "tcb"), "tdx_module_identity"));
    cachet_verify_result_free(r);
    o.tee_tcb_svn[0] = 4;
    r = run(&o, NULL);
    assert_string_equal(tcb(r), "OutOfDate");
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    cachet_verify_result_free(r);
    /* A T[2] below every level. */
    tdxgen_quote_defaults(&o);
    o.tee_tcb_svn[2] = 0;
    r = run(&o, NULL);
    ev_assert_fail(r, "tdx.tcb.level");
    cachet_verify_result_free(r);
}

static void test_module_identity(void **state)
{
    (void)state;
    tdxgen_quote_opts o;
    tdxgen_quote_defaults(&o);
    o.tee_tcb_svn[1] = 5; /* no TDX_05 identity */
    cachet_verify_result *r = run(&o, NULL);
    ev_assert_fail(r, "tdx.module.identity");
    assert_string_equal(tcb(r), "TdxModuleMismatch");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    cachet_verify_result_free(r);

    tdxgen_quote_defaults(&o);
    o.mrsignerseam[0] = 1;
    r = run(&o, NULL);
    ev_assert_fail(r, "tdx.module.mrsignerseam");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    cachet_verify_result_free(r);

    tdxgen_quote_defaults(&o);
    o.seam_attributes[7] = 0x80;
    r = run(&o, NULL);
    ev_assert_fail(r, "tdx.module.seamattributes");
    cachet_verify_result_free(r);

    /* Module isvsvn 3: the module level isvsvn 2 is OutOfDate and pulls the
     * UpToDate platform down; its advisory is reported. */
    tdxgen_quote_defaults(&o);
    o.tee_tcb_svn[0] = 3;
    r = run(&o, NULL);
    assert_string_equal(tcb(r), "OutOfDate");
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    char *adv = json_dumps(json_object_get(r->claims, "advisory_ids"), JSON_COMPACT);
    assert_string_equal(adv, "[\"INTEL-SA-01000\"]");
    free(adv);
    cachet_verify_result_free(r);

    /* Module isvsvn 1: below every module level. */
    o.tee_tcb_svn[0] = 1;
    r = run(&o, NULL);
    ev_assert_fail(r, "tdx.tcb.level");
    assert_string_equal(tcb(r), "TcbNotSupported");
    cachet_verify_result_free(r);

    /* The identity id is matched case-insensitively ("tdx_01"). */
    const char *mods =
        "[{\"id\":\"tdx_01\",\"mrsigner\":\"00000000000000000000000000000000000000000000000000000000"
        "0000000000000000000000000000000000000000\",\"attributes\":\"0000000000000000\","
        "\"attributesMask\":\"FFFFFFFFFFFFFFFF\",\"tcbLevels\":[{\"tcb\":{\"isvsvn\":4},\"tcbDate\":"
        "\"2024-03-13T00:00:00Z\",\"tcbStatus\":\"UpToDate\"}]}]";
    char *ti = tcb_text_levels(true, NULL, mods);
    r = run(NULL, &(coll){ .tcb_text = ti });
    ev_assert_verdict(r, CACHET_EV_AFFIRMING, true);
    cachet_verify_result_free(r);
    free(ti);
}

static void test_relaunch(void **state)
{
    (void)state;
    /* TD 1.5: the running module (TEE_TCB_SVN 03 01 03) is OutOfDate, but the
     * TD was launched (TEE_TCB_SVN2 06 01 03) on a current one: relaunch. */
    tdxgen_quote_opts o;
    tdxgen_quote_defaults(&o);
    o.version = 5;
    o.td15 = true;
    o.tee_tcb_svn[0] = 3;
    cachet_verify_result *r = run(&o, NULL);
    assert_string_equal(tcb(r), "TDRelaunchAdvised");
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    cachet_verify_result_free(r);
    /* Launched on the old one too: plain OutOfDate. */
    o.tee_tcb_svn2[0] = 3;
    r = run(&o, NULL);
    assert_string_equal(tcb(r), "OutOfDate");
    cachet_verify_result_free(r);
    /* A launch module with no identity: TdxModuleMismatch. */
    o.tee_tcb_svn2[0] = 6;
    o.tee_tcb_svn2[1] = 9;
    r = run(&o, NULL);
    assert_string_equal(tcb(r), "TdxModuleMismatch");
    ev_assert_fail(r, "tdx.tcb.level");
    cachet_verify_result_free(r);
}

static void test_sgx_levels(void **state)
{
    (void)state;
    /* The QVL order, not the served order: the higher level is listed last. */
    uint8_t low[16] = { 1, 1, 1, 1, 1, 1, 0, 1 };
    char *a = level(low, 5, NULL, "OutOfDate", "\"INTEL-SA-00001\"");
    char *b = level(PCK_COMP, 11, NULL, "SWHardeningNeeded", "\"INTEL-SA-00615\"");
    char *levels = tu_asprintf("[%s,%s]", a, b);
    char *ti = tcb_text_levels(false, levels, NULL);
    tdxgen_quote_opts o;
    tdxgen_quote_defaults(&o);
    o.version = 3;
    o.sgx = true;
    o.qe_isvprodid = 1;
    cachet_verify_result *r = run(&o, &(coll){ .tcb_text = ti });
    assert_string_equal(tcb(r), "SWHardeningNeeded");
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    cachet_verify_result_free(r);
    free(a);
    free(b);
    free(levels);
    free(ti);
}

/* ---- collateral ------------------------------------------------------------------- */

static void test_collateral_binding(void **state)
{
    (void)state;
    char *ti = tdxgen_tcb_info_text(true, "90C06F000000", NULL, NULL, T - 10 * DAY, T + 20 * DAY);
    cachet_verify_result *r = run(NULL, &(coll){ .tcb_text = ti });
    ev_assert_fail(r, "tdx.tcb_info.fmspc");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);
    free(ti);

    /* FMSPC compared case-insensitively (served upper case, PCK bytes). */
    ti = tdxgen_tcb_info_text(true, "b0c06f000000", NULL, NULL, T - 10 * DAY, T + 20 * DAY);
    r = run(NULL, &(coll){ .tcb_text = ti });
    ev_assert_verdict(r, CACHET_EV_AFFIRMING, true);
    cachet_verify_result_free(r);
    free(ti);

    ti = tdxgen_tcb_info_text(true, NULL, NULL, NULL, T - 10 * DAY, T + 20 * DAY);
    char *p = strstr(ti, "\"pceId\":\"0000\"");
    p[12] = '1';
    r = run(NULL, &(coll){ .tcb_text = ti });
    ev_assert_fail(r, "tdx.tcb_info.pceid");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);
    free(ti);

    /* An SGX TCB info for a TD quote. */
    ti = tdxgen_tcb_info_text(false, NULL, NULL, NULL, T - 10 * DAY, T + 20 * DAY);
    r = run(NULL, &(coll){ .tcb_text = ti });
    ev_assert_fail(r, "tdx.tcb_info.id");
    cachet_verify_result_free(r);
    free(ti);
}

static void test_collateral_windows(void **state)
{
    (void)state;
    char *ti = tdxgen_tcb_info_text(true, NULL, NULL, NULL, T - 40 * DAY, T - DAY);
    cachet_verify_result *r = run(NULL, &(coll){ .tcb_text = ti });
    ev_assert_fail(r, "tdx.tcb_info.validity");
    ev_assert_only_failures(r, "tdx.tcb_info.validity");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);
    free(ti);
    /* A newer valid one next to the expired one is preferred. */
    ti = tdxgen_tcb_info_text(true, NULL, NULL, NULL, T - 40 * DAY, T - DAY);
    char *ti2 = tdxgen_tcb_info_text(true, NULL, NULL, NULL, T - DAY, T + DAY);
    tdxgen_quote_opts o;
    tdxgen_quote_defaults(&o);
    size_t len;
    uint8_t *q = tdxgen_quote(gen, &o, &len);
    cachet_endorsements *e = endorse(gen, true, &(coll){ .tcb_text = ti });
    char *b = tdxgen_pcs_body(gen, true, ti2);
    add(e, "newer_tcb_info.json", b, strlen(b));
    r = run_with(&gen->tdx_ops, q, len, e, T, NULL, 0);
    ev_assert_verdict(r, CACHET_EV_AFFIRMING, true);
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
    free(b);
    free(q);
    free(ti);
    free(ti2);

    char *qi = tdxgen_qe_identity_text(true, NULL, 2, T + DAY, T + 30 * DAY);
    r = run(NULL, &(coll){ .qe_text = qi });
    ev_assert_fail(r, "tdx.qe_identity.validity");
    cachet_verify_result_free(r);
    free(qi);
}

static void test_collateral_signer(void **state)
{
    (void)state;
    /* Signed by the right key, but no chain offered. */
    cachet_verify_result *r = run(NULL, &(coll){ .no_chain = true });
    ev_assert_fail(r, "tdx.tcb_info.chain");
    ev_assert_fail(r, "tdx.qe_identity.chain");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);

    /* A "TCB Signing" certificate from another root signs it. */
    tdxgen *other = tdxgen_new(NULL);
    tdxgen_quote_opts o;
    tdxgen_quote_defaults(&o);
    size_t len;
    uint8_t *q = tdxgen_quote(gen, &o, &len);
    cachet_endorsements *e = endorse(other, true, &(coll){ .no_crls = true });
    cachet_verify_result *r2 = run_with(&gen->tdx_ops, q, len, e, T, NULL, 0);
    ev_assert_fail(r2, "tdx.tcb_info.chain");
    ev_assert_verdict(r2, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r2);
    cachet_endorsements_free(e);

    /* Our chain, but the other key's signature: the signature fails. */
    char *ti = tdxgen_tcb_info_text(true, NULL, NULL, NULL, T - 10 * DAY, T + 20 * DAY);
    char *body = tdxgen_pcs_body(other, true, ti);
    e = endorse(gen, true, &(coll){ .tcb_text = "" });
    add(e, "tcb_info.json", body, strlen(body));
    r2 = run_with(&gen->tdx_ops, q, len, e, T, NULL, 0);
    ev_assert_fail(r2, "tdx.tcb_info.signature");
    ev_assert_pass(r2, "tdx.tcb_info.chain");
    cachet_verify_result_free(r2);
    cachet_endorsements_free(e);
    free(ti);
    free(body);
    free(q);
    tdxgen_free(other);
}

static void test_malformed_collateral(void **state)
{
    (void)state;
    /* 15 SGX components, an unknown status, a missing field. */
    uint8_t c[16];
    memcpy(c, PCK_COMP, 16);
    char *l = level(c, 11, TDX_COMP, "UpToDate", NULL);
    char *cut = strstr(l, ",{\"svn\":0}],\"pcesvn\"");
    assert_non_null(cut);
    memmove(cut, cut + 10, strlen(cut + 10) + 1);
    char *levels = tu_asprintf("[%s]", l);
    char *ti = tcb_text_levels(true, levels, NULL);
    cachet_verify_result *r = run(NULL, &(coll){ .tcb_text = ti });
    ev_assert_fail(r, "tdx.tcb_info.format");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);
    free(l);
    free(levels);
    free(ti);

    l = level(c, 11, TDX_COMP, "MostlyFine", NULL);
    levels = tu_asprintf("[%s]", l);
    ti = tcb_text_levels(true, levels, NULL);
    r = run(NULL, &(coll){ .tcb_text = ti });
    ev_assert_fail(r, "tdx.tcb_info.format");
    cachet_verify_result_free(r);
    free(l);
    free(levels);
    free(ti);

    /* A PCS body whose signature is not hex. */
    tdxgen_quote_opts o;
    tdxgen_quote_defaults(&o);
    size_t len;
    uint8_t *q = tdxgen_quote(gen, &o, &len);
    cachet_endorsements *e = endorse(gen, true, &(coll){ .tcb_text = "" });
    const char *bad = "{\"tcbInfo\":{\"id\":\"TDX\"},\"signature\":\"zz\"}";
    add(e, "bad.json", bad, strlen(bad));
    r = run_with(&gen->tdx_ops, q, len, e, T, NULL, 0);
    ev_assert_fail(r, "tdx.collateral.format");
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
    free(q);
}

static void test_pck_extension(void **state)
{
    (void)state;
    tdxgen_pck_opts po;
    tdxgen_pck_defaults(&po);
    po.duplicate_fmspc = true;
    tdxgen *g2 = tdxgen_new(&po);
    tdxgen_quote_opts o;
    tdxgen_quote_defaults(&o);
    size_t len;
    uint8_t *q = tdxgen_quote(g2, &o, &len);
    cachet_endorsements *e = endorse(g2, true, NULL);
    cachet_verify_result *r = run_with(&g2->tdx_ops, q, len, e, T, NULL, 0);
    ev_assert_fail(r, "tdx.pck.extensions");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
    free(q);
    tdxgen_free(g2);

    /* A Processor-CA platform, PCK components 255 and PCESVN > 255. */
    tdxgen_pck_defaults(&po);
    po.processor_ca = true;
    po.comp[4] = 255;
    po.pcesvn = 300;
    g2 = tdxgen_new(&po);
    q = tdxgen_quote(g2, &o, &len);
    e = endorse(g2, true, NULL);
    r = run_with(&g2->tdx_ops, q, len, e, T, NULL, 0);
    ev_assert_verdict(r, CACHET_EV_AFFIRMING, true);
    assert_string_equal(ev_claim_str(r, "pck_ca"), "processor");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r->claims, "pck_tcb"), "pcesvn")),
                     300);
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
    free(q);
    tdxgen_free(g2);
}

static void test_generated_cache(void **state)
{
    (void)state;
    tdxgen_quote_opts o;
    tdxgen_quote_defaults(&o);
    size_t len;
    uint8_t *q = tdxgen_quote(gen, &o, &len);
    cachet_endorsements *e = endorse(gen, true, &(coll){ .revoke_pck = true });
    cachet_verify_cache *c = cachet_verify_cache_new(4);
    cachet_verify_request req = { .evidence = q, .evidence_len = len, .endorsements = e, .time = T,
                                  .cache = c };
    for (int i = 0; i < 3; i++) {
        cachet_verify_result *r = NULL;
        assert_int_equal(cachet_evidence_verify_with(&gen->tdx_ops, &req, &r), CACHET_OK);
        ev_assert_fail(r, "tdx.pck.revocation"); /* failures are never cached */
        assert_null(cachet_checklog_find(r->checks, "tdx.collateral.cache"));
        cachet_verify_result_free(r);
    }
    assert_int_equal(cachet_verify_cache_hits(c), 0);
    cachet_verify_cache_free(c);
    cachet_endorsements_free(e);
    free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_baseline),
        cmocka_unit_test(test_builtin_root_refuses_test_pki),
        cmocka_unit_test(test_revoked_pck),
        cmocka_unit_test(test_crl_from_impostor),
        cmocka_unit_test(test_no_crls_is_a_warning),
        cmocka_unit_test(test_qe_identity_mismatch),
        cmocka_unit_test(test_qe_debug_and_binding),
        cmocka_unit_test(test_qe_tcb),
        cmocka_unit_test(test_debug_td_and_enclave),
        cmocka_unit_test(test_nonce),
        cmocka_unit_test(test_service_td),
        cmocka_unit_test(test_tcb_statuses),
        cmocka_unit_test(test_tcb_no_level),
        cmocka_unit_test(test_tdx_components),
        cmocka_unit_test(test_module_identity),
        cmocka_unit_test(test_relaunch),
        cmocka_unit_test(test_sgx_levels),
        cmocka_unit_test(test_collateral_binding),
        cmocka_unit_test(test_collateral_windows),
        cmocka_unit_test(test_collateral_signer),
        cmocka_unit_test(test_malformed_collateral),
        cmocka_unit_test(test_pck_extension),
        cmocka_unit_test(test_generated_cache),
    };
    return cmocka_run_group_tests_name("tdx_generated", tests, setup, teardown);
}
