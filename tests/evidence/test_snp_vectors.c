/* Real SEV-SNP vectors (../shared/vectors/snp, MANIFEST.md §1): each gets its
 * manifest verdict at its pinned time, and negative cases are made from them
 * by mutation, each rejected with the failing check named. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "cachet/clock.h"
#include "cachet/encoding.h"
#include "cachet/evidence.h"
#include "ev_assert.h"
#include "evidence/registry.h"
#include "evidence/snp/snp.h"

typedef struct vector {
    const char *name;
    const char *report;
    const char *certs[3];
    const char *at;
    cachet_ev_status status;
    bool verified;
    const char *product;
    const char *signing_key;
    const char *tcb_status;
    const char *fail; /* the one failing check, or NULL */
} vector;

/* Every valid vector is `warning`: none comes with an AMD CRL, so revocation
 * of the ASK/ASVK cannot be checked (verify-contract: "revocation data not
 * available"). */
static const vector vectors[] = {
    { "milan_gsg_2022", "snp/milan_gsg_2022/report.bin", { "snp/milan_gsg_2022/vcek.der" },
      "2022-09-24T01:00:00Z", CACHET_EV_CONTRAINDICATED, true, "Milan", "vcek", "UpToDate",
      "snp.policy.debug" },
    { "milan_vlek_aws_trustee", "snp/milan_vlek_aws_trustee/report.bin",
      { "snp/milan_vlek_aws_trustee/vlek.der" }, "2025-06-01T00:00:00Z", CACHET_EV_WARNING, true,
      "Milan", "vlek", "OutOfDate", NULL },
    { "genoa_trustee_e2e", "snp/genoa_trustee_e2e/report.derived.bin",
      { "snp/genoa_trustee_e2e/vcek.derived.der" }, "2025-06-01T00:00:00Z", CACHET_EV_WARNING,
      true, "Genoa", "vcek", "UpToDate", NULL },
    { "milan_dstack_2026", "snp/milan_dstack_2026/report.derived.bin",
      { "snp/milan_dstack_2026/vcek.pem", "snp/milan_dstack_2026/ask.pem" },
      "2026-07-01T00:00:00Z", CACHET_EV_WARNING, true, "Milan", "vcek", "OutOfDate", NULL },
    { "turin_oak_2025", "snp/turin_oak_2025/report.derived.bin",
      { "snp/turin_oak_2025/vcek.derived.der" }, "2025-10-01T08:00:00Z", CACHET_EV_WARNING, true,
      "Turin", "vcek", "UpToDate", NULL },
    { "genoa_v5_oak_2025", "snp/genoa_v5_oak_2025/report.derived.bin",
      { "snp/genoa_v5_oak_2025/vcek.derived.der" }, "2025-10-01T08:00:00Z", CACHET_EV_WARNING,
      true, "Genoa", "vcek", "UpToDate", NULL },
    { "milan_oak_oc_release_2025", "snp/milan_oak_oc_release_2025/report.derived.bin",
      { "snp/milan_oak_oc_release_2025/vcek.derived.der" }, "2025-10-01T08:00:00Z",
      CACHET_EV_WARNING, true, "Milan", "vcek", "UpToDate", NULL },
};

/* ---- helpers ------------------------------------------------------------------ */

static int64_t at(const char *s)
{
    int64_t t = 0;
    assert_int_equal(cachet_time_parse_rfc3339(s, &t), CACHET_OK);
    return t;
}

static uint8_t *read_vec(const char *rel, size_t *len)
{
    uint8_t *b = tu_read_vector(rel, len);
    if (!b) {
        print_message("# SKIP vector %s not found\n", rel);
        skip();
    }
    return b;
}

static cachet_endorsements *endorse(const char *const *rels, size_t n)
{
    cachet_endorsements *e = cachet_endorsements_new();
    assert_non_null(e);
    for (size_t i = 0; i < n && rels[i]; i++) {
        char *p = tu_vector_path(rels[i]);
        if (!p) {
            print_message("# SKIP vector %s not found\n", rels[i]);
            cachet_endorsements_free(e);
            skip();
        }
        assert_int_equal(cachet_endorsements_add_path(e, p), CACHET_OK);
        free(p);
    }
    return e;
}

/* Load a vector's report (copy) and endorsements. */
static uint8_t *load(const vector *v, size_t *len, cachet_endorsements **e)
{
    TU_REQUIRE_VECTORS();
    uint8_t *rep = read_vec(v->report, len);
    size_t n = 0;
    while (n < 3 && v->certs[n])
        n++;
    *e = endorse(v->certs, n);
    return rep;
}

static const vector *find(const char *name)
{
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++)
        if (strcmp(vectors[i].name, name) == 0)
            return &vectors[i];
    fail_msg("no vector %s", name);
    return NULL;
}

/* ---- every vector's verdict ---------------------------------------------------- */

static void test_vector_verdict(void **state)
{
    const vector *v = *state;
    size_t len;
    cachet_endorsements *e;
    uint8_t *rep = load(v, &len, &e);
    cachet_verify_result *r = ev_verify(rep, len, e, at(v->at), NULL);

    assert_true(r->auto_detected);
    assert_string_equal(r->tee, "snp");
    ev_assert_verdict(r, v->status, v->verified);
    if (v->fail) {
        ev_assert_fail(r, v->fail);
        ev_assert_only_failures(r, v->fail);
    } else {
        ev_assert_no_failures(r);
    }
    ev_assert_pass(r, "snp.report.signature");
    ev_assert_pass(r, "snp.chain");
    ev_assert_pass(r, "snp.chain.ark");
    ev_assert_pass(r, "snp.vcek.tcb");
    ev_assert_na(r, "snp.crl"); /* no AMD CRL in any vector */
    assert_string_equal(ev_claim_str(r, "product"), v->product);
    assert_string_equal(ev_claim_str(r, "signing_key"), v->signing_key);
    assert_string_equal(ev_claim_str(r, "tcb_status"), v->tcb_status);
    assert_string_equal(ev_claim_str(r, "freshness"), "not-checked");
    assert_int_equal(cachet_checklog_count(r->checks) > 15, 1);
    print_message("# %s: %s, verified=%s, product %s, tcb %s\n", v->name,
                  cachet_ev_status_str(r->status), r->verified ? "true" : "false", v->product,
                  v->tcb_status);
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
    free(rep);
}

/* Specific facts the manifest states about individual vectors. */
static void test_vector_facts(void **state)
{
    (void)state;
    size_t len;
    cachet_endorsements *e;
    uint8_t *rep = load(find("turin_oak_2025"), &len, &e);
    cachet_verify_result *r = ev_verify(rep, len, e, at("2025-10-01T08:00:00Z"), NULL);
    /* Turin layout: 0x4700000002000100 = fmc 0, bl 1, tee 0, snp 2, ucode 71. */
    json_t *t = json_object_get(r->claims, "reported_tcb");
    assert_int_equal(json_integer_value(json_object_get(t, "fmc")), 0);
    assert_int_equal(json_integer_value(json_object_get(t, "bootloader")), 1);
    assert_int_equal(json_integer_value(json_object_get(t, "snp")), 2);
    assert_int_equal(json_integer_value(json_object_get(t, "microcode")), 71);
    assert_string_equal(json_string_value(json_object_get(t, "raw")), "4700000002000100");
    assert_string_equal(ev_claim_str(r, "current_firmware"), "1.55.61");
    assert_string_equal(ev_claim_str(r, "measurement"),
                        "f924dd18f168df60fbea937f0b086284d51b1b376de872bac43694f61134d57967c318018de7335503023dbb50dee624");
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
    free(rep);

    /* VLEK: VMPL 1, cspID, no chip id. */
    rep = load(find("milan_vlek_aws_trustee"), &len, &e);
    r = ev_verify(rep, len, e, at("2025-06-01T00:00:00Z"), NULL);
    assert_int_equal(json_integer_value(json_object_get(r->claims, "vmpl")), 1);
    assert_string_equal(ev_claim_str(r, "csp_id"), "CN=cc-us-east-2.amazonaws.com");
    ev_assert_na(r, "snp.vcek.hwid");
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
    free(rep);

    /* dstack: REPORTED_TCB (snp 23) lags CURRENT_TCB (snp 24); the VCEK is for 23. */
    rep = load(find("milan_dstack_2026"), &len, &e);
    r = ev_verify(rep, len, e, at("2026-07-01T00:00:00Z"), NULL);
    t = json_object_get(r->claims, "reported_tcb");
    assert_int_equal(json_integer_value(json_object_get(t, "snp")), 23);
    t = json_object_get(r->claims, "current_tcb");
    assert_int_equal(json_integer_value(json_object_get(t, "snp")), 24);
    assert_true(strncmp(ev_claim_str(r, "host_data"), "783f0057820acb99", 16) == 0);
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
    free(rep);

    /* Genoa v5: mitigation vectors = 1. */
    rep = load(find("genoa_v5_oak_2025"), &len, &e);
    r = ev_verify(rep, len, e, at("2025-10-01T08:00:00Z"), NULL);
    assert_string_equal(ev_claim_str(r, "launch_mit_vector"), "0x0000000000000001");
    assert_string_equal(ev_claim_str(r, "current_mit_vector"), "0x0000000000000001");
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
    free(rep);
}

/* turin_vcek_only_virtee: a real Turin VCEK without a report; its chain and
 * extensions are all there is to check. */
static void test_turin_vcek_only(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    size_t len;
    uint8_t *der = read_vec("snp/turin_vcek_only_virtee/vcek.der", &len);
    cachet_x509 *vcek = NULL;
    assert_int_equal(cachet_x509_parse(der, len, &vcek), CACHET_OK);
    snp_vcek_info info;
    assert_int_equal(snp_vcek_info_from_cert(vcek, &info), CACHET_OK);
    assert_string_equal(info.product_name, "Turin");
    assert_true(info.has_struct_version);
    assert_int_equal(info.struct_version, 1);
    assert_int_equal(info.hwid_len, 8);
    uint8_t want[8];
    size_t n;
    assert_int_equal(cachet_hex_decode("1e550a8ee5cf9f4d", want, sizeof want, &n), CACHET_OK);
    assert_memory_equal(info.hwid, want, 8);
    assert_int_equal(info.spl[SNP_SPL_UCODE], 9);
    assert_true(info.has_spl[SNP_SPL_FMC]);

    const snp_trust *tr = snp_trust_builtin();
    assert_non_null(tr);
    cachet_x509 *inter[] = { tr->products[SNP_PRODUCT_TURIN].ask };
    cachet_x509 *roots[] = { tr->products[SNP_PRODUCT_TURIN].ark };
    cachet_chain_params p = { .leaf = vcek, .intermediates = inter, .n_intermediates = 1,
                              .roots = roots, .n_roots = 1, .time = at("2025-01-01T00:00:00Z") };
    cachet_chain_result res;
    memset(&res, 0, sizeof res);
    assert_int_equal(cachet_x509_verify_chain(&p, &res), CACHET_OK);
    assert_int_equal(res.depth, 3);
    cachet_chain_result_clear(&res);
    /* The Milan ARK does not anchor it. */
    roots[0] = tr->products[SNP_PRODUCT_MILAN].ark;
    memset(&res, 0, sizeof res);
    assert_int_not_equal(cachet_x509_verify_chain(&p, &res), CACHET_OK);
    cachet_chain_result_clear(&res);
    cachet_x509_free(vcek);
    free(der);
}

/* invalid/: tampered KDS certificates: both hwID encodings parse, the chain
 * does not verify. */
static void test_invalid_vceks(void **state)
{
    (void)state;
    static const char *const files[] = { "snp/invalid/vcek_badsig_fakehwid_legacy.der",
                                         "snp/invalid/vcek_badsig_fakehwid_octetstring.der" };
    TU_REQUIRE_VECTORS();
    const vector *v = find("milan_gsg_2022");
    size_t len;
    uint8_t *rep = read_vec(v->report, &len);
    for (size_t i = 0; i < 2; i++) {
        size_t dl;
        uint8_t *der = read_vec(files[i], &dl);
        cachet_x509 *c = NULL;
        assert_int_equal(cachet_x509_parse(der, dl, &c), CACHET_OK);
        snp_vcek_info info;
        assert_int_equal(snp_vcek_info_from_cert(c, &info), CACHET_OK);
        assert_int_equal(info.hwid_len, 64);
        assert_int_equal(info.hwid_was_octet_string, i == 1);
        for (int k = 0; k < 64; k++)
            assert_int_equal(info.hwid[k], k);
        cachet_x509_free(c);
        free(der);

        cachet_endorsements *e = endorse(&files[i], 1);
        cachet_verify_result *r = ev_verify(rep, len, e, at(v->at), NULL);
        ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
        ev_assert_fail(r, "snp.chain");
        ev_assert_fail(r, "snp.vcek.hwid");
        cachet_verify_result_free(r);
        cachet_endorsements_free(e);
    }
    free(rep);
}

/* ---- negatives made from the real vectors ----------------------------------------- */

static void expect_failure(const vector *v, uint8_t *rep, size_t len, cachet_endorsements *e,
                           const char *when, const ev_opts *o, const char *check, bool verified)
{
    cachet_verify_result *r = ev_verify(rep, len, e, at(when ? when : v->at), o);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, verified);
    ev_assert_fail(r, check);
    assert_true(json_array_size(r->errors) > 0);
    cachet_verify_result_free(r);
}

static void test_flipped_signature_bit(void **state)
{
    (void)state;
    const vector *v = find("genoa_trustee_e2e");
    size_t len;
    cachet_endorsements *e;
    uint8_t *rep = load(v, &len, &e);
    rep[0x2A0 + 5] ^= 0x01; /* R */
    expect_failure(v, rep, len, e, NULL, NULL, "snp.report.signature", false);
    rep[0x2A0 + 5] ^= 0x01;
    rep[0x2E8] ^= 0x80; /* S */
    expect_failure(v, rep, len, e, NULL, NULL, "snp.report.signature", false);
    cachet_endorsements_free(e);
    free(rep);
}

/* Trustee's SNP evidence form (protocols.md §1.7, the sev crate's serde
 * JSON): rebuilt byte for byte into the report the firmware signed, its
 * VCEK carried along; then it verifies like the binary report.  Wrong
 * shapes are refused by name, a moved byte fails the signature. */
static void test_trustee_json_form(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    size_t jlen = 0, blen = 0;
    uint8_t *jtext = tu_read_vector("snp/genoa_trustee_e2e/evidence.json", &jlen);
    uint8_t *bin = tu_read_vector("snp/genoa_trustee_e2e/report.derived.bin", &blen);
    assert_non_null(jtext);
    assert_non_null(bin);
    json_t *j = json_loadb((const char *)jtext, jlen, 0, NULL);
    assert_non_null(j);
    cachet_snp_trustee t;
    assert_int_equal(cachet_snp_from_trustee_json(j, &t), CACHET_OK);
    assert_int_equal(blen, sizeof t.report);
    assert_memory_equal(t.report, bin, blen);
    assert_int_equal(t.n_certs, 1);
    assert_string_equal(t.cert_type[0], "VCEK");
    cachet_endorsements *e = cachet_endorsements_new();
    assert_int_equal(cachet_endorsements_add_bytes(e, "cert_chain[0]", t.certs[0], t.cert_len[0]),
                     CACHET_OK);
    cachet_verify_result *r = ev_verify(t.report, sizeof t.report, e, at("2025-06-01T00:00:00Z"),
                                        NULL);
    assert_true(r->verified);
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
    cachet_snp_trustee_clear(&t);

    json_t *rep = json_object_get(j, "attestation_report");
    /* an unknown member, a byte out of range, a missing field, a TCB with fmc on Genoa */
    json_object_set_new(rep, "surprise", json_integer(1));
    assert_int_not_equal(cachet_snp_from_trustee_json(j, &t), CACHET_OK);
    assert_non_null(strstr(cachet_err_detail(), "surprise"));
    json_object_del(rep, "surprise");
    json_array_set_new(json_object_get(rep, "measurement"), 3, json_integer(256));
    assert_int_not_equal(cachet_snp_from_trustee_json(j, &t), CACHET_OK);
    assert_non_null(strstr(cachet_err_detail(), "measurement[3]"));
    json_array_set_new(json_object_get(rep, "measurement"), 3, json_integer(bin[0x93] ^ 1));
    assert_int_equal(cachet_snp_from_trustee_json(j, &t), CACHET_OK);
    e = cachet_endorsements_new();
    assert_int_equal(cachet_endorsements_add_bytes(e, "vcek", t.certs[0], t.cert_len[0]), CACHET_OK);
    r = ev_verify(t.report, sizeof t.report, e, at("2025-06-01T00:00:00Z"), NULL);
    ev_assert_fail(r, "snp.report.signature");
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
    cachet_snp_trustee_clear(&t);
    json_object_set_new(json_object_get(rep, "current_tcb"), "fmc", json_integer(1));
    assert_int_not_equal(cachet_snp_from_trustee_json(j, &t), CACHET_OK);
    assert_non_null(strstr(cachet_err_detail(), "fmc"));
    json_object_del(rep, "current_tcb");
    assert_int_not_equal(cachet_snp_from_trustee_json(j, &t), CACHET_OK);
    assert_non_null(strstr(cachet_err_detail(), "current_tcb"));
    json_decref(j);
    free(jtext);
    free(bin);
}

static void test_flipped_measurement_bit(void **state)
{
    (void)state;
    const vector *v = find("turin_oak_2025");
    size_t len;
    cachet_endorsements *e;
    uint8_t *rep = load(v, &len, &e);
    rep[0x090 + 17] ^= 0x04;
    expect_failure(v, rep, len, e, NULL, NULL, "snp.report.signature", false);
    cachet_endorsements_free(e);
    free(rep);
}

/* Another Genoa chip's VCEK: its key does not verify the report, its hwID
 * and TCB do not match. */
static void test_wrong_vcek(void **state)
{
    (void)state;
    const vector *v = find("genoa_v5_oak_2025");
    size_t len;
    cachet_endorsements *e;
    uint8_t *rep = load(v, &len, &e);
    cachet_endorsements_free(e);
    static const char *const other[] = { "snp/genoa_trustee_e2e/vcek.derived.der" };
    e = endorse(other, 1);
    cachet_verify_result *r = ev_verify(rep, len, e, at(v->at), NULL);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    ev_assert_pass(r, "snp.chain"); /* a genuine VCEK... */
    ev_assert_fail(r, "snp.vcek.hwid"); /* ...of another chip */
    ev_assert_fail(r, "snp.report.signature");
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
    free(rep);
}

/* REPORTED_TCB changed (trustee's byte-0x180 test): the VCEK's TCB no longer
 * matches (and the signature breaks). */
static void test_vcek_tcb_mismatch(void **state)
{
    (void)state;
    const vector *v = find("milan_vlek_aws_trustee");
    size_t len;
    cachet_endorsements *e;
    uint8_t *rep = load(v, &len, &e);
    rep[0x180] += 1;
    expect_failure(v, rep, len, e, NULL, NULL, "snp.vcek.tcb", false);
    expect_failure(v, rep, len, e, NULL, NULL, "snp.report.signature", false);
    cachet_endorsements_free(e);
    free(rep);

    /* dstack: the VCEK for REPORTED_TCB verifies; checking it against
     * CURRENT_TCB would be the classic mistake.  Make REPORTED == CURRENT. */
    v = find("milan_dstack_2026");
    rep = load(v, &len, &e);
    memcpy(rep + 0x180, rep + 0x038, 8);
    expect_failure(v, rep, len, e, NULL, NULL, "snp.vcek.tcb", false);
    cachet_endorsements_free(e);
    free(rep);
}

/* The product's roots swapped: a trust store whose Milan slot holds Genoa's
 * ARK cannot anchor a Milan VCEK; a Genoa VCEK cannot vouch for a Milan report. */
static void test_swapped_product_roots(void **state)
{
    (void)state;
    const vector *v = find("milan_oak_oc_release_2025");
    size_t len;
    cachet_endorsements *e;
    uint8_t *rep = load(v, &len, &e);
    const snp_trust *bt = snp_trust_builtin();
    assert_non_null(bt);
    snp_trust swapped = *bt;
    swapped.products[SNP_PRODUCT_MILAN] = bt->products[SNP_PRODUCT_GENOA];
    swapped.products[SNP_PRODUCT_GENOA] = bt->products[SNP_PRODUCT_MILAN];
    cachet_evidence_ops ops = cachet_snp_ops;
    ops.config = &swapped;
    ev_opts o = { .ops = &ops };
    expect_failure(v, rep, len, e, NULL, &o, "snp.chain", false);
    cachet_endorsements_free(e);

    static const char *const genoa[] = { "snp/genoa_v5_oak_2025/vcek.derived.der" };
    e = endorse(genoa, 1);
    expect_failure(v, rep, len, e, NULL, NULL, "snp.product", false);
    cachet_endorsements_free(e);
    free(rep);
}

/* A root given on the command line (or among the endorsements) that poses
 * as AMD's never anchors an SNP chain.  The real ARK-Milan given as an
 * extra trust anchor changes nothing either. */
static void test_command_line_root(void **state)
{
    (void)state;
    const vector *v = find("milan_gsg_2022");
    size_t len;
    cachet_endorsements *e;
    uint8_t *rep = load(v, &len, &e);
    const snp_trust *bt = snp_trust_builtin();
    cachet_x509 *anchors[] = { bt->products[SNP_PRODUCT_GENOA].ark };
    ev_opts o = { .anchors = anchors, .n_anchors = 1 };
    cachet_verify_result *r = ev_verify(rep, len, e, at(v->at), &o);
    ev_assert_na(r, "snp.chain.trust_anchors");
    ev_assert_pass(r, "snp.chain");
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
    free(rep);
}

static void test_truncated_report(void **state)
{
    (void)state;
    const vector *v = find("milan_gsg_2022");
    size_t len;
    cachet_endorsements *e;
    uint8_t *rep = load(v, &len, &e);
    ev_opts o = { .tee = "snp" };
    expect_failure(v, rep, len - 1, e, NULL, &o, "snp.report.size", false);
    expect_failure(v, rep, 0x2A0, e, NULL, &o, "snp.report.size", false);
    /* Without --tee a truncated report is not recognised at all. */
    cachet_verify_request req = { .evidence = rep, .evidence_len = len - 1, .endorsements = e };
    cachet_verify_result *r = NULL;
    assert_int_equal(cachet_rc_code(cachet_evidence_verify(&req, &r)), CACHET_E_NOT_FOUND);
    assert_null(r);
    cachet_endorsements_free(e);
    free(rep);
}

static void test_unknown_version(void **state)
{
    (void)state;
    static const uint32_t bad[] = { 1, 4, 6, 0x100 };
    const vector *v = find("genoa_trustee_e2e");
    size_t len;
    cachet_endorsements *e;
    uint8_t *rep = load(v, &len, &e);
    ev_opts o = { .tee = "snp" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rep[0] = (uint8_t)bad[i];
        rep[1] = (uint8_t)(bad[i] >> 8);
        expect_failure(v, rep, len, e, NULL, &o, "snp.report.version", false);
    }
    cachet_endorsements_free(e);
    free(rep);
}

static void test_reserved_abuse(void **state)
{
    (void)state;
    static const size_t offs[] = { 0x04C, 0x18B, 0x19F, 0x1EB, 0x1EF, 0x208, 0x29F, 0x330, 0x49F };
    const vector *v = find("genoa_trustee_e2e");
    size_t len;
    cachet_endorsements *e;
    uint8_t *rep = load(v, &len, &e);
    ev_opts o = { .tee = "snp" };
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        rep[offs[i]] ^= 0x20;
        expect_failure(v, rep, len, e, NULL, &o, "snp.report.reserved", false);
        rep[offs[i]] ^= 0x20;
    }
    /* A v2 report has no CPUID bytes: non-zero there is reserved abuse. */
    cachet_endorsements_free(e);
    free(rep);
    v = find("milan_gsg_2022");
    rep = load(v, &len, &e);
    rep[0x188] = 0x19;
    expect_failure(v, rep, len, e, NULL, &o, "snp.report.reserved", false);
    rep[0x188] = 0;
    rep[0x1F8] = 1; /* mitigation vector: v5 only */
    expect_failure(v, rep, len, e, NULL, &o, "snp.report.reserved", false);
    rep[0x1F8] = 0;
    rep[0x008 + 2] &= (uint8_t)~0x02; /* POLICY bit 17 must be 1 */
    expect_failure(v, rep, len, e, NULL, &o, "snp.report.policy", false);
    rep[0x008 + 2] |= 0x02;
    rep[0x008 + 3] |= 0x04; /* POLICY bit 26 */
    expect_failure(v, rep, len, e, NULL, &o, "snp.report.policy", false);
    rep[0x008 + 3] &= (uint8_t)~0x04;
    rep[0x048] |= 0x20; /* SIGNER_INFO bit 5 */
    expect_failure(v, rep, len, e, NULL, &o, "snp.report.signer_info", false);
    rep[0x048] &= (uint8_t)~0x20;
    rep[0x040 + 1] = 1; /* PLATFORM_INFO bit 8 */
    expect_failure(v, rep, len, e, NULL, &o, "snp.report.platform_info", false);
    rep[0x040 + 1] = 0;
    rep[0x034] = 2; /* SIGNATURE_ALGO */
    expect_failure(v, rep, len, e, NULL, &o, "snp.report.signature_algo", false);
    rep[0x034] = 1;
    rep[0x048] = 7 << 2; /* SIGNING_KEY none */
    expect_failure(v, rep, len, e, NULL, &o, "snp.report.signing_key", false);
    rep[0x048] = 0x02; /* MASK_CHIP_KEY */
    expect_failure(v, rep, len, e, NULL, &o, "snp.report.signing_key", false);
    rep[0x048] = 0;
    cachet_endorsements_free(e);
    free(rep);
}

/* The real debug-policy report: authentic, contraindicated. */
static void test_debug_policy(void **state)
{
    (void)state;
    const vector *v = find("milan_gsg_2022");
    size_t len;
    cachet_endorsements *e;
    uint8_t *rep = load(v, &len, &e);
    cachet_verify_result *r = ev_verify(rep, len, e, at(v->at), NULL);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    ev_assert_fail(r, "snp.policy.debug");
    assert_true(json_is_true(json_object_get(r->claims, "debug")));
    assert_true(json_is_true(json_object_get(json_object_get(r->claims, "policy"), "debug")));
    cachet_verify_result_free(r);
    /* Clearing the bit breaks the signature: the debug bit is signed. */
    rep[0x008 + 2] &= (uint8_t)~0x08;
    expect_failure(v, rep, len, e, NULL, NULL, "snp.report.signature", false);
    cachet_endorsements_free(e);
    free(rep);
}

static void test_nonce(void **state)
{
    (void)state;
    const vector *v = find("milan_gsg_2022");
    size_t len;
    cachet_endorsements *e;
    uint8_t *rep = load(v, &len, &e);

    uint8_t good[] = { 1, 2, 3, 4, 5 }; /* zero-padded to 64 bytes */
    ev_opts o = { .nonce = good, .nonce_len = sizeof good };
    cachet_verify_result *r = ev_verify(rep, len, e, at(v->at), &o);
    ev_assert_pass(r, "snp.report_data.nonce");
    assert_string_equal(ev_claim_str(r, "freshness"), "nonce-matched");
    cachet_verify_result_free(r);

    uint8_t wrong[] = { 1, 2, 3, 4, 6 };
    o.nonce = wrong;
    expect_failure(v, rep, len, e, NULL, &o, "snp.report_data.nonce", true);
    /* A prefix of the real value is not the value. */
    o.nonce = good;
    o.nonce_len = 4;
    expect_failure(v, rep, len, e, NULL, &o, "snp.report_data.nonce", true);
    uint8_t full[64] = { 1, 2, 3, 4, 5 };
    o.nonce = full;
    o.nonce_len = 64;
    r = ev_verify(rep, len, e, at(v->at), &o);
    ev_assert_pass(r, "snp.report_data.nonce");
    cachet_verify_result_free(r);
    uint8_t too_long[65] = { 1, 2, 3, 4, 5 };
    o.nonce = too_long;
    o.nonce_len = 65;
    expect_failure(v, rep, len, e, NULL, &o, "snp.report_data.nonce", true);
    cachet_endorsements_free(e);
    free(rep);

    /* Turin: 32-byte nonce in the first half of REPORT_DATA. */
    v = find("turin_oak_2025");
    rep = load(v, &len, &e);
    uint8_t n32[32];
    size_t n;
    assert_int_equal(cachet_hex_decode("e0fd0bdb6aa4030a6ddea9073e1fcec5be6c782a2c8075a0825dfb3d9a81b924",
                                       n32, sizeof n32, &n), CACHET_OK);
    o = (ev_opts){ .nonce = n32, .nonce_len = 32 };
    r = ev_verify(rep, len, e, at(v->at), &o);
    ev_assert_pass(r, "snp.report_data.nonce");
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
    free(rep);
}

static void test_expired_time(void **state)
{
    (void)state;
    const vector *v = find("milan_vlek_aws_trustee");
    size_t len;
    cachet_endorsements *e;
    uint8_t *rep = load(v, &len, &e);
    /* The VLEK is valid 2024-12-10..2025-12-10 only. */
    expect_failure(v, rep, len, e, "2026-01-01T00:00:00Z", NULL, "snp.chain", false);
    expect_failure(v, rep, len, e, "2024-12-01T00:00:00Z", NULL, "snp.chain", false);
    cachet_endorsements_free(e);
    free(rep);
    v = find("genoa_trustee_e2e"); /* VCEK from 2025-05-27T17:57:03Z */
    rep = load(v, &len, &e);
    expect_failure(v, rep, len, e, "2025-05-27T17:57:02Z", NULL, "snp.chain", false);
    cachet_verify_result *r = ev_verify(rep, len, e, at("2025-05-27T17:57:03Z"), NULL);
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
    free(rep);
}

/* No certificate at all; the wrong kind of certificate for SIGNING_KEY. */
static void test_missing_or_wrong_kind(void **state)
{
    (void)state;
    const vector *v = find("milan_vlek_aws_trustee");
    size_t len;
    cachet_endorsements *e;
    uint8_t *rep = load(v, &len, &e);
    cachet_endorsements *none = cachet_endorsements_new();
    cachet_verify_result *r = ev_verify(rep, len, none, at(v->at), NULL);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    ev_assert_fail(r, "snp.vcek.present");
    ev_assert_na(r, "snp.report.signature");
    /* Claims are still reported (from unverified evidence: verified=false). */
    assert_string_equal(ev_claim_str(r, "product"), "Milan");
    cachet_verify_result_free(r);
    cachet_endorsements_free(none);
    /* The report says VLEK: a VCEK is not even considered. */
    static const char *const vcek[] = { "snp/milan_oak_oc_release_2025/vcek.derived.der" };
    cachet_endorsements *w = endorse(vcek, 1);
    expect_failure(v, rep, len, w, NULL, NULL, "snp.vcek.present", false);
    cachet_endorsements_free(w);
    cachet_endorsements_free(e);
    free(rep);
}

/* Endorsements given as whole directories: AMD chains are used, the rest
 * is listed as unused; an ARK among them must be the pinned one. */
static void test_directories(void **state)
{
    (void)state;
    const vector *v = find("milan_oak_oc_release_2025");
    TU_REQUIRE_VECTORS();
    size_t len;
    uint8_t *rep = read_vec(v->report, &len);
    static const char *const dirs[] = { "snp/milan_oak_oc_release_2025", "snp/amd_roots" };
    cachet_endorsements *e = endorse(dirs, 2);
    cachet_verify_result *r = ev_verify(rep, len, e, at(v->at), NULL);
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    ev_assert_pass(r, "snp.chain.supplied_ark");
    ev_assert_na(r, "evidence.endorsement.unused"); /* the .binarypb files */
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
    free(rep);
}

/* The chain is verified once and then served from the cache within its
 * validity window; outside it, the chain is verified (and fails) again. */
static void test_chain_cache(void **state)
{
    (void)state;
    const vector *v = find("milan_vlek_aws_trustee");
    size_t len;
    cachet_endorsements *e;
    uint8_t *rep = load(v, &len, &e);
    cachet_verify_cache *cache = cachet_verify_cache_new(8);
    ev_opts o = { .cache = cache };
    for (int i = 0; i < 3; i++) {
        cachet_verify_result *r = ev_verify(rep, len, e, at(v->at), &o);
        ev_assert_verdict(r, CACHET_EV_WARNING, true);
        const cachet_check *c = cachet_checklog_find(r->checks, "snp.chain");
        assert_non_null(c);
        assert_int_equal(strstr(c->detail, "cached") != NULL, i > 0);
        cachet_verify_result_free(r);
    }
    assert_int_equal(cachet_verify_cache_hits(cache), 2);
    expect_failure(v, rep, len, e, "2026-01-01T00:00:00Z", &o, "snp.chain", false);
    /* A tampered report still fails its signature with a cached chain. */
    rep[0x90] ^= 1;
    expect_failure(v, rep, len, e, NULL, &o, "snp.report.signature", false);
    cachet_verify_cache_free(cache);
    cachet_endorsements_free(e);
    free(rep);
}

int main(void)
{
    struct CMUnitTest tests[sizeof vectors / sizeof vectors[0] + 20];
    size_t n = 0;
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        tests[n] = (struct CMUnitTest)cmocka_unit_test_prestate(test_vector_verdict,
                                                                (void *)&vectors[i]);
        tests[n].name = vectors[i].name;
        n++;
    }
    const struct CMUnitTest more[] = {
        cmocka_unit_test(test_vector_facts),
        cmocka_unit_test(test_turin_vcek_only),
        cmocka_unit_test(test_invalid_vceks),
        cmocka_unit_test(test_flipped_signature_bit),
        cmocka_unit_test(test_flipped_measurement_bit),
        cmocka_unit_test(test_wrong_vcek),
        cmocka_unit_test(test_vcek_tcb_mismatch),
        cmocka_unit_test(test_swapped_product_roots),
        cmocka_unit_test(test_command_line_root),
        cmocka_unit_test(test_truncated_report),
        cmocka_unit_test(test_unknown_version),
        cmocka_unit_test(test_reserved_abuse),
        cmocka_unit_test(test_debug_policy),
        cmocka_unit_test(test_nonce),
        cmocka_unit_test(test_expired_time),
        cmocka_unit_test(test_missing_or_wrong_kind),
        cmocka_unit_test(test_directories),
        cmocka_unit_test(test_chain_cache),
        cmocka_unit_test(test_trustee_json_form),
    };
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++)
        tests[n++] = more[i];
    return _cmocka_run_group_tests("snp_vectors", tests, n, NULL, NULL);
}
