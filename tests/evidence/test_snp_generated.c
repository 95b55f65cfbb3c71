/* Generated SEV-SNP cases (no real vectors needed): an AMD-shaped test PKI
 * (snp_gen.h) pinned through ops->config, so that every check of the SNP
 * family is driven to pass, fail or n/a, including the ones no real vector
 * reaches (CRLs, revocation, Turin oddities, VLEK misuse, forged roots). */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "ev_assert.h"
#include "evidence/registry.h"
#include "snp_gen.h"

typedef struct gen_case {
    snpgen_pki *pki;
    snpgen_report rep;
    uint8_t bytes[SNP_REPORT_SIZE];
    cachet_endorsements *e;
    int64_t time;
    const uint8_t *nonce;
    size_t nonce_len;
    cachet_x509 *const *anchors;
    size_t n_anchors;
    const cachet_evidence_ops *ops; /* default: pki->ops (test ARK pinned) */
    bool sign_with_vlek;
    const cachet_pkey *sign_key;    /* override */
} gen_case;

static gen_case *gen_new(snp_product p, const snpgen_leaf_opts *vcek, const snpgen_leaf_opts *vlek)
{
    gen_case *g = calloc(1, sizeof *g);
    assert_non_null(g);
    g->pki = snpgen_pki_new(p, vcek, vlek);
    assert_non_null(g->pki);
    snpgen_report_default(&g->rep, p);
    g->time = SNPGEN_TIME;
    return g;
}

static void gen_free(gen_case *g)
{
    cachet_endorsements_free(g->e);
    snpgen_pki_free(g->pki);
    free(g);
}

/* Endorse the leaf for the report's key kind (replacing any earlier set). */
static void gen_endorse_leaf(gen_case *g)
{
    cachet_endorsements_free(g->e);
    unsigned key = (g->rep.signer_info >> SNP_SIGNER_KEY_SHIFT) & 7;
    const testpki_cert *leaf = key == SNP_KEY_VLEK ? g->pki->vlek : g->pki->vcek;
    g->e = snpgen_endorse(&leaf, 1);
    assert_non_null(g->e);
}

static void gen_add(gen_case *g, const char *name, const void *data, size_t len)
{
    if (!g->e)
        gen_endorse_leaf(g);
    assert_int_equal(cachet_endorsements_add_bytes(g->e, name, data, len), CACHET_OK);
}

static void gen_add_cert(gen_case *g, const testpki_cert *c)
{
    size_t len;
    const uint8_t *der = testpki_der(c, &len);
    gen_add(g, "extra.der", der, len);
}

static cachet_verify_result *gen_run(gen_case *g)
{
    if (!g->e)
        gen_endorse_leaf(g);
    snpgen_encode(&g->rep, g->bytes);
    unsigned key = (g->rep.signer_info >> SNP_SIGNER_KEY_SHIFT) & 7;
    cachet_pkey *k = NULL;
    if (!g->sign_key)
        k = testpki_key(key == SNP_KEY_VLEK || g->sign_with_vlek ? g->pki->vlek : g->pki->vcek);
    snpgen_sign(g->bytes, g->sign_key ? g->sign_key : k);
    cachet_pkey_free(k);
    cachet_verify_request req = {
        .evidence = g->bytes, .evidence_len = sizeof g->bytes, .endorsements = g->e,
        .time = g->time, .nonce = g->nonce, .nonce_len = g->nonce_len,
        .trust_anchors = g->anchors, .n_trust_anchors = g->n_anchors,
    };
    cachet_verify_result *r = NULL;
    assert_int_equal(cachet_evidence_verify_with(g->ops ? g->ops : &g->pki->ops, &req, &r),
                     CACHET_OK);
    return r;
}

/* Run and expect `check` to fail with the given authenticity. */
static void gen_expect(gen_case *g, const char *check, bool verified)
{
    cachet_verify_result *r = gen_run(g);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, verified);
    ev_assert_fail(r, check);
    cachet_verify_result_free(r);
}

/* ---- happy paths ----------------------------------------------------------------- */

static void test_generated_products(void **state)
{
    (void)state;
    for (int p = SNP_PRODUCT_MILAN; p < SNP_PRODUCT__COUNT; p++) {
        gen_case *g = gen_new((snp_product)p, NULL, NULL);
        cachet_verify_result *r = gen_run(g);
        ev_assert_verdict(r, CACHET_EV_WARNING, true); /* no CRL */
        ev_assert_no_failures(r);
        ev_assert_na(r, "snp.crl");
        assert_string_equal(ev_claim_str(r, "product"), snp_product_name((snp_product)p));
        assert_string_equal(ev_claim_str(r, "tcb_status"), "UpToDate");
        cachet_verify_result_free(r);

        /* VLEK signing. */
        g->rep.signer_info = SNP_KEY_VLEK << SNP_SIGNER_KEY_SHIFT;
        gen_endorse_leaf(g);
        r = gen_run(g);
        ev_assert_verdict(r, CACHET_EV_WARNING, true);
        ev_assert_na(r, "snp.vcek.hwid");
        assert_string_equal(ev_claim_str(r, "signing_key"), "vlek");
        assert_string_equal(ev_claim_str(r, "csp_id"), "CN=cachet-test-csp");
        cachet_verify_result_free(r);
        gen_free(g);
    }
}

/* With AMD's CRL (here: the test ARK's) that does not list the ASK, nothing
 * is left to warn about. */
static void test_crl_good_affirming(void **state)
{
    (void)state;
    gen_case *g = gen_new(SNP_PRODUCT_GENOA, NULL, NULL);
    size_t n;
    testpki_crl_opts co = { .this_update = SNPGEN_TIME - 3600, .next_update = SNPGEN_TIME + 86400,
                            .sig_hash = CACHET_HASH_SHA384 };
    uint8_t *crl = testpki_crl(g->pki->ark, &co, &n);
    assert_non_null(crl);
    gen_add(g, "ark.crl", crl, n);
    cachet_verify_result *r = gen_run(g);
    ev_assert_verdict(r, CACHET_EV_AFFIRMING, true);
    ev_assert_pass(r, "snp.crl");
    assert_int_equal(json_array_size(r->errors), 0);
    assert_int_equal(json_array_size(r->warnings), 0);
    cachet_verify_result_free(r);
    free(crl);
    gen_free(g);
}

static void test_crl_revoked_ask(void **state)
{
    (void)state;
    gen_case *g = gen_new(SNP_PRODUCT_MILAN, NULL, NULL);
    size_t n;
    const testpki_cert *rev[] = { g->pki->ask };
    testpki_crl_opts co = { .this_update = SNPGEN_TIME - 3600, .next_update = SNPGEN_TIME + 86400,
                            .revoked = rev, .n_revoked = 1 };
    uint8_t *crl = testpki_crl(g->pki->ark, &co, &n);
    assert_non_null(crl);
    char *pem = testpki_crl_pem(crl, n); /* PEM form, classified by content */
    gen_add(g, "ark-crl.pem", pem, strlen(pem));
    gen_expect(g, "snp.crl", false);
    /* The VLEK chain goes through the ASVK, which is not revoked. */
    g->rep.signer_info = SNP_KEY_VLEK << SNP_SIGNER_KEY_SHIFT;
    gen_endorse_leaf(g);
    gen_add(g, "ark-crl.pem", pem, strlen(pem));
    cachet_verify_result *r = gen_run(g);
    ev_assert_verdict(r, CACHET_EV_AFFIRMING, true);
    cachet_verify_result_free(r);
    free(pem);
    free(crl);
    gen_free(g);
}

static void test_crl_bad(void **state)
{
    (void)state;
    gen_case *g = gen_new(SNP_PRODUCT_MILAN, NULL, NULL);
    size_t n;
    /* Expired: nextUpdate before the verification time (fail closed). */
    testpki_crl_opts co = { .this_update = SNPGEN_TIME - 7200, .next_update = SNPGEN_TIME - 3600 };
    uint8_t *crl = testpki_crl(g->pki->ark, &co, &n);
    gen_add(g, "old.crl", crl, n);
    gen_expect(g, "snp.crl", false);
    free(crl);
    /* Bad signature. */
    gen_endorse_leaf(g);
    co = (testpki_crl_opts){ .this_update = SNPGEN_TIME - 3600, .next_update = SNPGEN_TIME + 3600,
                             .corrupt_signature = true };
    crl = testpki_crl(g->pki->ark, &co, &n);
    gen_add(g, "forged.crl", crl, n);
    gen_expect(g, "snp.crl", false);
    free(crl);
    /* A CRL from someone else is not AMD's: unused, and revocation unchecked. */
    gen_endorse_leaf(g);
    testpki_cert *other = testpki_mint(&(testpki_cert_opts){ .cn = "Other CA", .ca = true,
                                                             .not_before = SNPGEN_NOT_BEFORE,
                                                             .not_after = SNPGEN_NOT_AFTER },
                                       NULL);
    co = (testpki_crl_opts){ .this_update = SNPGEN_TIME - 3600, .next_update = SNPGEN_TIME + 3600 };
    crl = testpki_crl(other, &co, &n);
    gen_add(g, "other.crl", crl, n);
    cachet_verify_result *r = gen_run(g);
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    ev_assert_na(r, "snp.crl");
    ev_assert_na(r, "evidence.endorsement.unused");
    cachet_verify_result_free(r);
    free(crl);
    testpki_free(other);
    gen_free(g);
}

/* ---- certificate binding ---------------------------------------------------------- */

/* A correctly signed report whose VCEK carries another TCB: only the binding
 * check fails, and the evidence is not authentic. */
static void test_vcek_wrong_tcb(void **state)
{
    (void)state;
    snpgen_leaf_opts o = { .has_tcb = true };
    snp_tcb t = snp_tcb_decode(snpgen_default_tcb(SNP_PRODUCT_MILAN), SNP_PRODUCT_MILAN);
    t.snp -= 1;
    o.tcb = snp_tcb_encode(&t, SNP_PRODUCT_MILAN);
    gen_case *g = gen_new(SNP_PRODUCT_MILAN, &o, NULL);
    cachet_verify_result *r = gen_run(g);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    ev_assert_fail(r, "snp.vcek.tcb");
    ev_assert_only_failures(r, "snp.vcek.tcb");
    ev_assert_pass(r, "snp.report.signature");
    cachet_verify_result_free(r);
    /* Matching the VCEK to CURRENT_TCB instead of REPORTED_TCB is the bug
     * this guards against: REPORTED = the VCEK's TCB < CURRENT passes. */
    g->rep.reported_tcb = o.tcb;
    r = gen_run(g);
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    assert_string_equal(ev_claim_str(r, "tcb_status"), "OutOfDate");
    cachet_verify_result_free(r);
    gen_free(g);
}

/* Turin: fmcSPL, 8-byte hwID, structVersion 1; the legacy layout would read
 * the same bytes as other SPLs. */
static void test_turin_layout(void **state)
{
    (void)state;
    gen_case *g = gen_new(SNP_PRODUCT_TURIN, NULL, NULL);
    cachet_verify_result *r = gen_run(g);
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    json_t *t = json_object_get(r->claims, "reported_tcb");
    assert_int_equal(json_integer_value(json_object_get(t, "fmc")), 1);
    assert_int_equal(json_integer_value(json_object_get(t, "snp")), 24);
    cachet_verify_result_free(r);
    /* Bytes after the 8-byte chip id must be zero. */
    g->rep.chip_id[9] = 1;
    gen_expect(g, "snp.vcek.hwid", false);
    gen_free(g);

    snpgen_leaf_opts nofmc = { .omit_fmc = true };
    g = gen_new(SNP_PRODUCT_TURIN, &nofmc, NULL);
    gen_expect(g, "snp.vcek.tcb", false);
    gen_free(g);

    /* 64-byte hwID on Turin (both encodings occur) and OCTET STRING form. */
    snpgen_report def;
    snpgen_report_default(&def, SNP_PRODUCT_TURIN);
    snpgen_leaf_opts wide = { .hwid = def.chip_id, .hwid_len = 64, .hwid_octet_string = true };
    g = gen_new(SNP_PRODUCT_TURIN, &wide, NULL);
    r = gen_run(g);
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    cachet_verify_result_free(r);
    gen_free(g);

    snpgen_leaf_opts sv0 = { .has_struct_version = true, .struct_version = 0 };
    g = gen_new(SNP_PRODUCT_TURIN, &sv0, NULL);
    gen_expect(g, "snp.product", false);
    gen_free(g);
    snpgen_leaf_opts sv1 = { .has_struct_version = true, .struct_version = 1 };
    g = gen_new(SNP_PRODUCT_MILAN, &sv1, NULL);
    gen_expect(g, "snp.product", false);
    gen_free(g);
}

static void test_hwid(void **state)
{
    (void)state;
    gen_case *g = gen_new(SNP_PRODUCT_GENOA, NULL, NULL);
    g->rep.chip_id[63] ^= 1;
    gen_expect(g, "snp.vcek.hwid", false);
    /* Masked chip id: nothing to compare; not a failure, a warning. */
    memset(g->rep.chip_id, 0, sizeof g->rep.chip_id);
    cachet_verify_result *r = gen_run(g);
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    ev_assert_na(r, "snp.vcek.hwid");
    cachet_verify_result_free(r);
    gen_free(g);

    snpgen_leaf_opts octets = { .hwid_octet_string = true };
    g = gen_new(SNP_PRODUCT_MILAN, &octets, NULL);
    r = gen_run(g);
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    ev_assert_pass(r, "snp.vcek.hwid");
    cachet_verify_result_free(r);
    gen_free(g);
}

static void test_leaf_profile(void **state)
{
    (void)state;
    snpgen_leaf_opts noname = { .omit_product_name = true };
    gen_case *g = gen_new(SNP_PRODUCT_MILAN, &noname, NULL);
    gen_expect(g, "snp.vcek.extensions", false);
    gen_free(g);

    snpgen_leaf_opts dup = { .duplicate_snp_spl = true };
    g = gen_new(SNP_PRODUCT_MILAN, &dup, NULL);
    gen_expect(g, "snp.vcek.extensions", false);
    gen_free(g);

    snpgen_leaf_opts nohw = { .omit_hwid = true };
    g = gen_new(SNP_PRODUCT_MILAN, &nohw, NULL);
    gen_expect(g, "snp.vcek.extensions", false);
    gen_free(g);

    snpgen_leaf_opts both = { .add_csp_to_vcek = true };
    g = gen_new(SNP_PRODUCT_MILAN, &both, NULL);
    gen_expect(g, "snp.vcek.extensions", false);
    gen_free(g);

    snpgen_leaf_opts p256 = { .p256_key = true };
    g = gen_new(SNP_PRODUCT_MILAN, &p256, NULL);
    /* A P-256 VCEK cannot sign an SNP report; sign with any P-384 key and
     * expect the key-type check to stop it first. */
    cachet_pkey *p384 = NULL;
    assert_int_equal(cachet_pkey_generate_ec(CACHET_CURVE_P384, &p384), CACHET_OK);
    g->sign_key = p384;
    gen_expect(g, "snp.vcek.key", false);
    cachet_pkey_free(p384);
    gen_free(g);

    snpgen_leaf_opts oddname = { .product_name = "Bergamo-A0" };
    g = gen_new(SNP_PRODUCT_MILAN, &oddname, NULL);
    gen_expect(g, "snp.product", false);
    gen_free(g);
}

/* ---- product ------------------------------------------------------------------------ */

static void test_product_cross_check(void **state)
{
    (void)state;
    gen_case *g = gen_new(SNP_PRODUCT_MILAN, NULL, NULL);
    g->rep.cpuid_mod = 0x11; /* Genoa CPUID, Milan VCEK */
    gen_expect(g, "snp.product", false);
    g->rep.cpuid_fam = 0x17; /* not an SNP product */
    gen_expect(g, "snp.product", false);
    /* v2: no CPUID; product from productName. */
    g->rep.version = 2;
    g->rep.cpuid_fam = g->rep.cpuid_mod = g->rep.cpuid_step = 0;
    cachet_verify_result *r = gen_run(g);
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    assert_string_equal(ev_claim_str(r, "product"), "Milan");
    assert_null(json_object_get(r->claims, "cpuid"));
    cachet_verify_result_free(r);
    gen_free(g);
}

/* ---- roots ----------------------------------------------------------------------------- */

/* A complete look-alike chain (ARK-Milan -> SEV-Milan -> SEV-VCEK) whose root
 * is passed as --trust-anchor: the built-in pins decide, the chain fails. */
static void test_root_posing_as_amd(void **state)
{
    (void)state;
    gen_case *g = gen_new(SNP_PRODUCT_MILAN, NULL, NULL);
    gen_add_cert(g, g->pki->ask);
    gen_add_cert(g, g->pki->ark); /* the fake root among the endorsements too */
    cachet_x509 *fake = testpki_x509(g->pki->ark);
    cachet_x509 *anchors[] = { fake };
    g->anchors = anchors;
    g->n_anchors = 1;
    g->ops = &cachet_snp_ops; /* the built-in store */
    cachet_verify_result *r = gen_run(g);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    ev_assert_fail(r, "snp.chain");
    ev_assert_fail(r, "snp.chain.supplied_ark");
    ev_assert_na(r, "snp.chain.trust_anchors");
    cachet_verify_result_free(r);
    cachet_x509_free(fake);
    gen_free(g);
}

/* A second test PKI's ARK among the endorsements, claiming the same name as
 * the pinned one: rejected even though the chain itself verifies. */
static void test_supplied_ark_mismatch(void **state)
{
    (void)state;
    gen_case *g = gen_new(SNP_PRODUCT_GENOA, NULL, NULL);
    snpgen_pki *other = snpgen_pki_new(SNP_PRODUCT_GENOA, NULL, NULL);
    assert_non_null(other);
    gen_add_cert(g, other->ark);
    cachet_verify_result *r = gen_run(g);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    ev_assert_fail(r, "snp.chain.supplied_ark");
    ev_assert_pass(r, "snp.chain");
    cachet_verify_result_free(r);
    /* The same ARK as the pin is fine. */
    gen_endorse_leaf(g);
    gen_add_cert(g, g->pki->ark);
    r = gen_run(g);
    ev_assert_pass(r, "snp.chain.supplied_ark");
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    cachet_verify_result_free(r);
    snpgen_pki_free(other);
    gen_free(g);
}

/* An intermediate with the wrong name for the product under the right ARK. */
static void test_intermediate_name(void **state)
{
    (void)state;
    gen_case *g = gen_new(SNP_PRODUCT_MILAN, NULL, NULL);
    testpki_cert *ask = testpki_mint(&(testpki_cert_opts){ .cn = "SEV-Genoa", .ca = true,
                                                           .key = TESTPKI_KEY_P384,
                                                           .not_before = SNPGEN_NOT_BEFORE,
                                                           .not_after = SNPGEN_NOT_AFTER },
                                     g->pki->ark);
    assert_non_null(ask);
    snpgen_pki tmp = *g->pki;
    tmp.ask = ask;
    testpki_cert *leaf = snpgen_mint_leaf(&tmp, false, NULL);
    assert_non_null(leaf);
    const testpki_cert *set[] = { leaf, ask };
    g->e = snpgen_endorse(set, 2);
    cachet_pkey *k = testpki_key(leaf);
    g->sign_key = k;
    gen_expect(g, "snp.chain.ark", false);
    cachet_pkey_free(k);
    testpki_free(leaf);
    testpki_free(ask);
    gen_free(g);
}

static void test_expired_chain(void **state)
{
    (void)state;
    gen_case *g = gen_new(SNP_PRODUCT_MILAN, NULL, NULL);
    g->time = SNPGEN_NOT_AFTER + 1;
    gen_expect(g, "snp.chain", false);
    g->time = SNPGEN_NOT_BEFORE - 1;
    gen_expect(g, "snp.chain", false);
    gen_free(g);
}

/* ---- report content ------------------------------------------------------------------- */

static void test_signing_key_field(void **state)
{
    (void)state;
    gen_case *g = gen_new(SNP_PRODUCT_MILAN, NULL, NULL);
    gen_endorse_leaf(g);
    for (unsigned k = 2; k <= 7; k++) {
        g->rep.signer_info = k << SNP_SIGNER_KEY_SHIFT;
        gen_expect(g, "snp.report.signing_key", false);
    }
    g->rep.signer_info = SNP_SIGNER_MASK_CHIP_KEY;
    gen_expect(g, "snp.report.signing_key", false);
    /* Report says VLEK, only a VCEK supplied: never "try the other key". */
    g->rep.signer_info = SNP_KEY_VLEK << SNP_SIGNER_KEY_SHIFT;
    g->sign_with_vlek = false;
    cachet_pkey *vcek_key = testpki_key(g->pki->vcek);
    g->sign_key = vcek_key;
    gen_expect(g, "snp.vcek.present", false);
    cachet_pkey_free(vcek_key);
    gen_free(g);
}

static void test_policy_and_vmpl(void **state)
{
    (void)state;
    gen_case *g = gen_new(SNP_PRODUCT_GENOA, NULL, NULL);
    g->rep.policy |= SNP_POLICY_DEBUG;
    cachet_verify_result *r = gen_run(g);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    ev_assert_only_failures(r, "snp.policy.debug");
    assert_true(json_is_true(json_object_get(r->claims, "debug")));
    cachet_verify_result_free(r);

    /* Other policy bits are claims, not verdicts. */
    g->rep.policy = 0x30000 | SNP_POLICY_MIGRATE_MA | SNP_POLICY_SINGLE_SOCKET | (1u << 8) | 31;
    r = gen_run(g);
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    json_t *pol = json_object_get(r->claims, "policy");
    assert_true(json_is_true(json_object_get(pol, "migrate_ma")));
    assert_true(json_is_true(json_object_get(pol, "single_socket")));
    assert_true(json_is_true(json_object_get(pol, "smt_allowed")));
    assert_int_equal(json_integer_value(json_object_get(pol, "abi_major")), 1);
    assert_int_equal(json_integer_value(json_object_get(pol, "abi_minor")), 31);
    cachet_verify_result_free(r);

    g->rep.policy = 0x30000;
    g->rep.vmpl = 3;
    r = gen_run(g);
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    assert_int_equal(json_integer_value(json_object_get(r->claims, "vmpl")), 3);
    cachet_verify_result_free(r);
    g->rep.vmpl = 4;
    gen_expect(g, "snp.report.vmpl", true);
    g->rep.vmpl = 0xFFFFFFFFu;
    gen_expect(g, "snp.report.vmpl", true);
    gen_free(g);
}

static void test_tcb_relations(void **state)
{
    (void)state;
    gen_case *g = gen_new(SNP_PRODUCT_MILAN, NULL, NULL);
    snp_tcb t = snp_tcb_decode(g->rep.current_tcb, SNP_PRODUCT_MILAN);
    /* CURRENT below REPORTED in one component (the microcode byte is the most
     * significant: an integer compare would call this "greater"). */
    snp_tcb cur = t;
    cur.snp -= 1;
    cur.microcode += 1;
    g->rep.current_tcb = snp_tcb_encode(&cur, SNP_PRODUCT_MILAN);
    g->rep.committed_tcb = g->rep.current_tcb;
    gen_expect(g, "snp.tcb.reported", true);

    /* Provisional firmware: COMMITTED < CURRENT is a warning. */
    snp_tcb newer = t;
    newer.microcode += 1;
    g->rep.current_tcb = snp_tcb_encode(&newer, SNP_PRODUCT_MILAN);
    g->rep.committed_tcb = snpgen_default_tcb(SNP_PRODUCT_MILAN);
    cachet_verify_result *r = gen_run(g);
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    ev_assert_pass(r, "snp.tcb.committed");
    assert_string_equal(ev_claim_str(r, "tcb_status"), "OutOfDate");
    cachet_verify_result_free(r);
    /* COMMITTED above CURRENT cannot happen legitimately. */
    g->rep.current_tcb = snpgen_default_tcb(SNP_PRODUCT_MILAN);
    g->rep.committed_tcb = snp_tcb_encode(&newer, SNP_PRODUCT_MILAN);
    gen_expect(g, "snp.tcb.committed", true);
    gen_free(g);
}

static void test_nonce_generated(void **state)
{
    (void)state;
    gen_case *g = gen_new(SNP_PRODUCT_TURIN, NULL, NULL);
    uint8_t n64[64];
    for (int i = 0; i < 64; i++)
        n64[i] = (uint8_t)(0xC0 ^ i);
    memcpy(g->rep.report_data, n64, 64);
    g->nonce = n64;
    g->nonce_len = 64;
    cachet_verify_result *r = gen_run(g);
    ev_assert_pass(r, "snp.report_data.nonce");
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    cachet_verify_result_free(r);
    n64[63] ^= 1; /* the last byte counts */
    gen_expect(g, "snp.report_data.nonce", true);
    gen_free(g);
}

static void test_versions(void **state)
{
    (void)state;
    gen_case *g = gen_new(SNP_PRODUCT_GENOA, NULL, NULL);
    g->rep.version = 5;
    g->rep.launch_mit_vector = 3;
    g->rep.current_mit_vector = 7;
    cachet_verify_result *r = gen_run(g);
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    assert_string_equal(ev_claim_str(r, "current_mit_vector"), "0x0000000000000007");
    cachet_verify_result_free(r);
    g->rep.version = 3; /* mitigation vectors are reserved before v5 */
    gen_expect(g, "snp.report.reserved", false);
    g->rep.version = 4;
    gen_expect(g, "snp.report.version", false);
    gen_free(g);
}

/* The result's JSON object has exactly the contract's keys. */
static void test_result_json(void **state)
{
    (void)state;
    gen_case *g = gen_new(SNP_PRODUCT_MILAN, NULL, NULL);
    cachet_verify_result *r = gen_run(g);
    json_t *j = cachet_verify_result_to_json(r);
    assert_non_null(j);
    assert_int_equal(json_object_size(j), 6);
    assert_string_equal(json_string_value(json_object_get(j, "tee")), "snp");
    assert_string_equal(json_string_value(json_object_get(j, "status")), "warning");
    assert_true(json_is_true(json_object_get(j, "verified")));
    json_t *claims = json_object_get(j, "claims");
    assert_true(json_is_string(json_object_get(claims, "measurement")));
    assert_true(json_is_string(json_object_get(claims, "report_data")));
    assert_true(json_is_boolean(json_object_get(claims, "debug")));
    assert_true(json_is_string(json_object_get(claims, "tcb_status")));
    json_t *checks = json_object_get(j, "checks");
    assert_true(json_array_size(checks) > 15);
    size_t i;
    json_t *c;
    json_array_foreach(checks, i, c) {
        assert_true(json_is_string(json_object_get(c, "id")));
        assert_true(json_is_string(json_object_get(c, "spec")));
        const char *res = json_string_value(json_object_get(c, "result"));
        assert_true(strcmp(res, "pass") == 0 || strcmp(res, "fail") == 0 ||
                    strcmp(res, "n/a") == 0);
    }
    assert_true(json_is_array(json_object_get(j, "errors")));
    json_decref(j);
    cachet_verify_result_free(r);
    gen_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generated_products),
        cmocka_unit_test(test_crl_good_affirming),
        cmocka_unit_test(test_crl_revoked_ask),
        cmocka_unit_test(test_crl_bad),
        cmocka_unit_test(test_vcek_wrong_tcb),
        cmocka_unit_test(test_turin_layout),
        cmocka_unit_test(test_hwid),
        cmocka_unit_test(test_leaf_profile),
        cmocka_unit_test(test_product_cross_check),
        cmocka_unit_test(test_root_posing_as_amd),
        cmocka_unit_test(test_supplied_ark_mismatch),
        cmocka_unit_test(test_intermediate_name),
        cmocka_unit_test(test_expired_chain),
        cmocka_unit_test(test_signing_key_field),
        cmocka_unit_test(test_policy_and_vmpl),
        cmocka_unit_test(test_tcb_relations),
        cmocka_unit_test(test_nonce_generated),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_result_json),
    };
    return cmocka_run_group_tests_name("snp_generated", tests, NULL, NULL);
}
