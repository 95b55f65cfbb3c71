/* Real NVIDIA GPU vectors (../shared/vectors/nvgpu, MANIFEST.md §3): every
 * vector and every invalid/ case gets its manifest verdict at its pinned
 * time, with the facts the manifest states (versions, FWID, UEID, the
 * mismatching indices).  Skipped with a message when the vectors are absent. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "cachet/clock.h"
#include "cachet/encoding.h"
#include "cachet/evidence.h"
#include "ev_assert.h"
#include "evidence/nvgpu/nvgpu.h"
#include "evidence/registry.h"
#include "nvgpu_gen.h"

#define N545 "4cff7f5380ead8fad8ec2c531c110aca4302a88f603792801a8ca29ee151af2e"
#define N931 "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb"
#define N580 "87d8e24ab336adafe228d49e83d745f6dba4ae505372b6a5704820856b343fec"
#define N590 "e97b23a1718095a0e9e35edca810768c70a6a5a389b705e753b197912bc11576"
#define N535 "27a328247bf7935c993341cf587be6f05986ccce4fe7ba2c54100bd616a58f66"

#define D545 "nvgpu/h100_545.00_nvtrust_2023_fullrim/"
#define D550 "nvgpu/h100_550.90.07_nvtrust_2025/"
#define D580 "nvgpu/h100_580.95.05_trustee_coco/"
#define D590 "nvgpu/h100_590.12_nvsdk_serialized/"
#define DBW "nvgpu/blackwell_gb100_575.32_nvsdk/"
#define D535 "nvgpu/h100_535.86.09_nvsdk/"
#define D570 "nvgpu/h100_570.124.03_nvsdk_expired_rim/"
#define DINV "nvgpu/invalid/"

/* ---- helpers ---------------------------------------------------------------------- */

static int64_t at(const char *s)
{
    int64_t t = 0;
    assert_int_equal(cachet_time_parse_rfc3339(s, &t), CACHET_OK);
    return t;
}

static uint8_t *read_vec(const char *rel, size_t *len)
{
    TU_REQUIRE_VECTORS();
    uint8_t *b = tu_read_vector(rel, len);
    if (!b) {
        print_message("# SKIP vector %s not found\n", rel);
        skip();
    }
    return b;
}

static cachet_endorsements *endorse(const char *const *rels)
{
    cachet_endorsements *e = cachet_endorsements_new();
    assert_non_null(e);
    for (size_t i = 0; rels && rels[i]; i++) {
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

typedef struct run_opts {
    const char *nonce_hex;
    const char *at;
    const cachet_evidence_ops *ops;
    cachet_x509 *const *anchors;
    size_t n_anchors;
} run_opts;

static cachet_verify_result *verify_bytes(const uint8_t *ev, size_t len,
                                          const cachet_endorsements *e, const run_opts *o)
{
    uint8_t nonce[64];
    size_t nl = 0;
    if (o->nonce_hex)
        assert_int_equal(cachet_hex_decode(o->nonce_hex, nonce, sizeof nonce, &nl), CACHET_OK);
    cachet_verify_request req = {
        .evidence = ev, .evidence_len = len, .endorsements = e,
        .time = o->at ? at(o->at) : at("2025-06-01T00:00:00Z"),
        .nonce = o->nonce_hex ? nonce : NULL, .nonce_len = nl,
        .trust_anchors = o->anchors, .n_trust_anchors = o->n_anchors,
    };
    cachet_verify_result *r = NULL;
    cachet_rc rc = o->ops ? cachet_evidence_verify_with(o->ops, &req, &r)
                          : cachet_evidence_verify(&req, &r);
    assert_int_equal(rc, CACHET_OK);
    assert_non_null(r);
    return r;
}

static cachet_verify_result *verify_vec(const char *evidence, const char *const *endorsements,
                                        const run_opts *o)
{
    size_t len;
    uint8_t *ev = read_vec(evidence, &len);
    cachet_endorsements *e = endorse(endorsements);
    cachet_verify_result *r = verify_bytes(ev, len, e, o);
    cachet_endorsements_free(e);
    free(ev);
    return r;
}

static const char *gclaim(const cachet_verify_result *r, const char *gpu, const char *key)
{
    json_t *g = json_object_get(json_object_get(r->claims, "gpus"), gpu);
    return json_string_value(json_object_get(g, key));
}

static void assert_mismatched(const cachet_verify_result *r, const int *want, size_t n)
{
    json_t *m = json_object_get(r->claims, "mismatched_indices");
    assert_int_equal(json_array_size(m), n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(json_integer_value(json_array_get(m, i)), want[i]);
}

static void report(const char *name, const cachet_verify_result *r)
{
    print_message("# %s: %s, verified=%s, measres=%s\n", name, cachet_ev_status_str(r->status),
                  r->verified ? "true" : "false", ev_claim_str(r, "measres"));
}

/* ---- the one fully offline-verifiable vector ----------------------------------------- */

static void test_545_fullrim(void **state)
{
    (void)state;
    const char *e[] = { D545 "device_cert_chain.pem", D545 "driver_rim_545.00_test_no_gpu.swidtag",
                        D545 "vbios_rim_1010_0200_882_96005E0001_test_no_gpu.swidtag", NULL };
    run_opts o = { .nonce_hex = N545, .at = "2024-01-15T00:00:00Z" };
    cachet_verify_result *r = verify_vec(D545 "attestation_report.hex", e, &o);
    report("h100_545.00_nvtrust_2023_fullrim", r);
    assert_true(r->auto_detected);
    assert_string_equal(r->tee, "nvgpu");
    /* Verified, every measurement matches; warning only because OCSP data
     * cannot exist offline (verify-contract: never silently affirming). */
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    ev_assert_no_failures(r);
    ev_assert_pass(r, "nvgpu.report.signature");
    ev_assert_pass(r, "nvgpu.cert_chain");
    ev_assert_pass(r, "nvgpu.cert_chain.root");
    ev_assert_pass(r, "nvgpu.report.nonce");
    ev_assert_na(r, "nvgpu.cert_chain.fwid"); /* no FWID TLV in this old report */
    ev_assert_na(r, "nvgpu.cert_chain.ocsp");
    ev_assert_pass(r, "nvgpu.rim.driver.signature");
    ev_assert_pass(r, "nvgpu.rim.vbios.signature");
    ev_assert_pass(r, "nvgpu.rim.driver.cert_chain");
    ev_assert_pass(r, "nvgpu.rim.index_conflict");
    ev_assert_pass(r, "nvgpu.measurements");
    ev_assert_na(r, "nvgpu.measurement.index35"); /* NVDEC0 disabled */
    assert_string_equal(ev_claim_str(r, "measres"), "success");
    assert_string_equal(ev_claim_str(r, "driver_version"), "545.00");
    assert_string_equal(ev_claim_str(r, "vbios_version"), "96.00.5E.00.01");
    assert_string_equal(ev_claim_str(r, "project"), "1010");
    assert_string_equal(ev_claim_str(r, "project_sku"), "0200");
    assert_string_equal(ev_claim_str(r, "chip_sku"), "882");
    assert_string_equal(ev_claim_str(r, "arch"), "HOPPER");
    assert_string_equal(ev_claim_str(r, "freshness"), "nonce-matched");
    assert_false(json_is_true(json_object_get(r->claims, "debug")));
    json_t *rims = json_object_get(r->claims, "rims");
    assert_string_equal(json_string_value(json_object_get(json_object_get(rims, "driver"), "id")),
                        "NV_GPU_DRIVER_GH100_545.00");
    assert_string_equal(json_string_value(json_object_get(json_object_get(rims, "vbios"), "id")),
                        "NV_GPU_VBIOS_1010_0200_882_96005E0001");
    assert_int_equal(json_array_size(r->warnings), 3); /* device, driver RIM, VBIOS RIM OCSP */
    cachet_verify_result_free(r);
}

static void test_545_prod_vbios_mismatch(void **state)
{
    (void)state;
    const char *e[] = { D545 "device_cert_chain.pem", D545 "driver_rim_545.00_test_no_gpu.swidtag",
                        D545 "vbios_rim_1010_0200_882_96005E0001_PROD_MISMATCH_for_this_report.swidtag",
                        NULL };
    run_opts o = { .nonce_hex = N545, .at = "2024-01-15T00:00:00Z" };
    cachet_verify_result *r = verify_vec(D545 "attestation_report.hex", e, &o);
    report("h100_545.00 + PROD VBIOS RIM", r);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    ev_assert_only_failures(r, "nvgpu.measurement.index1", "nvgpu.measurement.index2",
                            "nvgpu.measurement.index3", "nvgpu.measurement.index9",
                            "nvgpu.measurements");
    ev_assert_pass(r, "nvgpu.rim.vbios.signature"); /* validly signed, just not for this GPU */
    static const int want[] = { 1, 2, 3, 9 };
    assert_mismatched(r, want, 4);
    assert_string_equal(ev_claim_str(r, "measres"), "fail");
    cachet_verify_result_free(r);
}

static void test_545_wrong_time(void **state)
{
    (void)state;
    /* After the RIM signers expired (2025-06-26) the RIMs no longer verify. */
    const char *e[] = { D545 "device_cert_chain.pem", D545 "driver_rim_545.00_test_no_gpu.swidtag",
                        NULL };
    run_opts o = { .nonce_hex = N545, .at = "2025-07-01T00:00:00Z" };
    cachet_verify_result *r = verify_vec(D545 "attestation_report.hex", e, &o);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    ev_assert_fail(r, "nvgpu.rim.driver.cert_chain");
    cachet_verify_result_free(r);
}

/* ---- signature/chain-valid reports without usable RIMs --------------------------------- */

typedef struct plain_vector {
    const char *name, *report, *chain, *nonce;
    const char *driver, *vbios, *project, *project_sku, *chip_sku, *arch, *hwmodel, *ueid;
    bool fwid;
    size_t trailing;
} plain_vector;

static const plain_vector plain[] = {
    { "h100_550.90.07_nvtrust_2025", D550 "attestation_report.hex", D550 "device_cert_chain.pem",
      N931, "550.90.07", "96.00.9F.00.01", "1010", "0200", "882", "HOPPER", "GH100 A01 GSP BROM",
      NULL, true, 0 },
    { "h100_580.95.05_trustee_coco", D580 "attestation_report_trailing00.hex",
      D580 "device_cert_chain.pem", N580, "580.95.05", "96.00.74.00.1A", "1010", "0200", "882",
      "HOPPER", "GH100 A01 GSP BROM", NULL, true, 1 },
    { "blackwell_gb100_575.32_nvsdk", DBW "attestation_report.hex", DBW "device_cert_chain.pem",
      N931, "575.32", "97.00.88.00.0F", "G525", "0220", "886", "BLACKWELL", "GB100 A01 GSP BROM",
      "474146966256510137525212816567191319424869109849", true, 0 },
    { "h100_535.86.09_nvsdk", D535 "attestation_report.hex", D535 "device_cert_chain.pem", N535,
      "535.86.09", "96.00.5E.00.01", "1010", "0200", "882", "HOPPER", "GH100 A01 GSP BROM", NULL,
      false, 0 },
    { "h100_570.124.03_nvsdk_expired_rim", D570 "attestation_report.hex",
      D570 "device_cert_chain.pem", N931, "570.124.03", "96.00.5E.00.04", "1010", "0205", "862",
      "HOPPER", "GH100 A01 GSP BROM", NULL, true, 0 },
};

static void test_plain_vector(void **state)
{
    const plain_vector *v = *state;
    const char *e[] = { v->chain, NULL };
    /* Device certificates are valid until 9999: any time, here the
     * collection date. */
    run_opts o = { .nonce_hex = v->nonce, .at = "2026-11-29T00:00:00Z" };
    cachet_verify_result *r = verify_vec(v->report, e, &o);
    report(v->name, r);
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    ev_assert_no_failures(r);
    ev_assert_pass(r, "nvgpu.report.signature");
    ev_assert_pass(r, "nvgpu.cert_chain");
    ev_assert_pass(r, "nvgpu.report.nonce");
    ev_assert_pass(r, "nvgpu.report.trailing");
    if (v->fwid)
        ev_assert_pass(r, "nvgpu.cert_chain.fwid");
    else
        ev_assert_na(r, "nvgpu.cert_chain.fwid"); /* no FWID TLV in the report */
    ev_assert_na(r, "nvgpu.rim.driver.version");
    ev_assert_na(r, "nvgpu.rim.vbios.version");
    ev_assert_na(r, "nvgpu.measurements");
    assert_string_equal(ev_claim_str(r, "driver_version"), v->driver);
    assert_string_equal(ev_claim_str(r, "vbios_version"), v->vbios);
    assert_string_equal(ev_claim_str(r, "project"), v->project);
    assert_string_equal(ev_claim_str(r, "project_sku"), v->project_sku);
    assert_string_equal(ev_claim_str(r, "chip_sku"), v->chip_sku);
    assert_string_equal(ev_claim_str(r, "arch"), v->arch);
    assert_string_equal(ev_claim_str(r, "hwmodel"), v->hwmodel);
    assert_string_equal(ev_claim_str(r, "measres"), "not-checked");
    if (v->ueid)
        assert_string_equal(ev_claim_str(r, "ueid"), v->ueid);
    if (v->trailing)
        assert_non_null(strstr(cachet_checklog_find(r->checks, "nvgpu.report.trailing")->detail,
                               "1 zero byte"));
    cachet_verify_result_free(r);
}

static void test_550_facts(void **state)
{
    (void)state;
    const char *e[] = { D550 "device_cert_chain.pem", NULL };
    run_opts o = { .nonce_hex = N931 };
    cachet_verify_result *r = verify_vec(D550 "attestation_report.hex", e, &o);
    /* MANIFEST: FWID f5c384ae...62b1f75d = the leaf's; Trustee's claims. */
    const char *fwid = ev_claim_str(r, "fwid");
    assert_non_null(fwid);
    assert_int_equal(strncmp(fwid, "f5c384ae", 8), 0);
    assert_string_equal(fwid + strlen(fwid) - 8, "62b1f75d");
    assert_string_equal(ev_claim_str(r, "board_id"), "b1030000");
    assert_int_equal(json_integer_value(json_object_get(r->claims, "measurement_count")), 64);
    assert_int_equal(strlen(ev_claim_str(r, "measurement")), 96);
    cachet_verify_result_free(r);
}

/* ---- the attestation SDK's serialized evidence (JSON containers) ------------------------ */

static void test_590_single(void **state)
{
    (void)state;
    run_opts o = { .nonce_hex = N590 };
    cachet_verify_result *r = verify_vec(D590 "hopper_evidence_590.12.json", NULL, &o);
    report("h100_590.12_nvsdk_serialized (1 GPU)", r);
    assert_true(r->auto_detected);
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    ev_assert_no_failures(r);
    ev_assert_pass(r, "nvgpu.evidence.format");
    ev_assert_pass(r, "nvgpu.cert_chain");
    ev_assert_pass(r, "nvgpu.arch");
    ev_assert_pass(r, "nvgpu.evidence.nonce");
    assert_string_equal(ev_claim_str(r, "driver_version"), "590.12");
    assert_string_equal(ev_claim_str(r, "vbios_version"), "96.00.A5.00.01");
    assert_string_equal(ev_claim_str(r, "project"), "G520");
    assert_string_equal(ev_claim_str(r, "chip_sku"), "885");
    assert_int_equal(json_integer_value(json_object_get(r->claims, "gpu_count")), 1);
    assert_string_equal(gclaim(r, "gpu0", "driver_version"), "590.12");
    cachet_verify_result_free(r);
}

static void test_590_multi(void **state)
{
    (void)state;
    run_opts o = { .nonce_hex = N590 };
    cachet_verify_result *r = verify_vec(D590 "multi_gpu_hopper_4x_590.12.json", NULL, &o);
    report("h100_590.12_nvsdk_serialized (4 GPUs)", r);
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    ev_assert_no_failures(r);
    const char *gpus[] = { "gpu0", "gpu1", "gpu2", "gpu3" };
    for (size_t i = 0; i < 4; i++) {
        char id[64];
        snprintf(id, sizeof id, "nvgpu.%s.report.signature", gpus[i]);
        ev_assert_pass(r, id);
        snprintf(id, sizeof id, "nvgpu.%s.cert_chain", gpus[i]);
        ev_assert_pass(r, id);
        snprintf(id, sizeof id, "nvgpu.%s.report.nonce", gpus[i]);
        ev_assert_pass(r, id);
        assert_string_equal(gclaim(r, gpus[i], "driver_version"), "590.12");
        assert_non_null(gclaim(r, gpus[i], "ueid"));
    }
    ev_assert_pass(r, "nvgpu.gpus.distinct");
    assert_int_equal(json_integer_value(json_object_get(r->claims, "gpu_count")), 4);
    assert_string_equal(ev_claim_str(r, "freshness"), "nonce-matched");
    assert_int_equal(strlen(ev_claim_str(r, "measurement")), 96);
    assert_null(ev_claim_str(r, "driver_version")); /* per GPU only */
    cachet_verify_result_free(r);
}

static void test_570_cert_hold(void **state)
{
    (void)state;
    /* The SDK expects OCSP certificate_hold, which only NVIDIA's responder
     * can say: offline the chain verifies and revocation stays unchecked. */
    run_opts o = { .nonce_hex = N931 };
    cachet_verify_result *r = verify_vec(D590 "hopper_evidence_570.86.10_cert_hold.json", NULL, &o);
    report("hopper_evidence_570.86.10_cert_hold", r);
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    ev_assert_no_failures(r);
    ev_assert_na(r, "nvgpu.cert_chain.ocsp");
    assert_string_equal(ev_claim_str(r, "vbios_version"), "96.00.AF.00.01");
    assert_string_equal(ev_claim_str(r, "cert_ocsp"), "not-checked");
    cachet_verify_result_free(r);
}

/* ---- partial RIMs: the SDK's 535 and 570 cases ------------------------------------------ */

static void test_535_vbios_prod_matches(void **state)
{
    (void)state;
    const char *e[] = { D535 "device_cert_chain.pem",
                        D535 "vbios_rim_1010_0200_882_96005E0001_PROD.swidtag", NULL };
    run_opts o = { .nonce_hex = N535, .at = "2024-06-01T00:00:00Z" };
    cachet_verify_result *r = verify_vec(D535 "attestation_report.hex", e, &o);
    report("h100_535.86.09 + VBIOS PROD RIM", r);
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    ev_assert_no_failures(r);
    ev_assert_pass(r, "nvgpu.rim.vbios.signature");
    ev_assert_pass(r, "nvgpu.measurements");
    ev_assert_na(r, "nvgpu.rim.driver.version");
    assert_string_equal(ev_claim_str(r, "measres"), "partial");
    cachet_verify_result_free(r);
}

static void test_535_tampered_driver_rim(void **state)
{
    (void)state;
    const char *e[] = { D535 "device_cert_chain.pem",
                        D535 "driver_rim_535.86.09_TAMPERED_measurement_mismatch.xml",
                        D535 "vbios_rim_1010_0200_882_96005E0001_PROD.swidtag", NULL };
    run_opts o = { .nonce_hex = N535, .at = "2024-06-01T00:00:00Z" };
    cachet_verify_result *r = verify_vec(D535 "attestation_report.hex", e, &o);
    report("h100_535.86.09 + TAMPERED driver RIM", r);
    /* The GPU evidence is authentic; its reference values are not. */
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    ev_assert_fail(r, "nvgpu.rim.driver.signature");
    ev_assert_pass(r, "nvgpu.rim.driver.version");
    ev_assert_pass(r, "nvgpu.rim.vbios.signature");
    json_t *d = json_object_get(json_object_get(r->claims, "rims"), "driver");
    assert_string_equal(json_string_value(json_object_get(d, "status")), "failed");
    cachet_verify_result_free(r);
}

static void test_535_sdk_vbios_mismatch(void **state)
{
    (void)state;
    const char *e[] = { D535 "device_cert_chain.pem",
                        D535 "vbios_rim_96005E0001_measurement_mismatch.xml", NULL };
    run_opts o = { .nonce_hex = N535, .at = "2024-06-01T00:00:00Z" };
    cachet_verify_result *r = verify_vec(D535 "attestation_report.hex", e, &o);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    ev_assert_only_failures(r, "nvgpu.measurement.index9", "nvgpu.measurements");
    static const int want[] = { 9 };
    assert_mismatched(r, want, 1);
    cachet_verify_result_free(r);
}

static void test_535_zero_nonce(void **state)
{
    (void)state;
    const char *e[] = { D535 "device_cert_chain.pem", NULL };
    run_opts o = { .nonce_hex = "0000000000000000000000000000000000000000000000000000000000000000" };
    cachet_verify_result *r = verify_vec(D535 "attestation_report.hex", e, &o);
    /* SDK: GpuEvidenceNonceMismatch. */
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    ev_assert_only_failures(r, "nvgpu.report.nonce");
    assert_string_equal(ev_claim_str(r, "freshness"), "mismatch");
    cachet_verify_result_free(r);
}

static void test_570_expired_rims(void **state)
{
    (void)state;
    const char *e[] = { D570 "device_cert_chain.pem", D570 "driver_rim_570.124.03_expired_badsig.xml",
                        D570 "vbios_rim_1010_0205_862_96005E0004_PROD.swidtag", NULL };
    run_opts o = { .nonce_hex = N931, .at = "2025-06-01T00:00:00Z" };
    cachet_verify_result *r = verify_vec(D570 "attestation_report.hex", e, &o);
    report("h100_570.124.03 + expired driver RIM + VBIOS RIM", r);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    ev_assert_only_failures(r, "nvgpu.rim.driver.cert_chain", "nvgpu.rim.driver.signature",
                            "nvgpu.measurement.index9", "nvgpu.measurements");
    assert_non_null(strstr(cachet_checklog_find(r->checks, "nvgpu.rim.driver.cert_chain")->detail,
                           "expired"));
    static const int want[] = { 9 };
    assert_mismatched(r, want, 1);
    cachet_verify_result_free(r);
}

/* ---- invalid/ --------------------------------------------------------------------------- */

static void test_invalid_report_signature(void **state)
{
    (void)state;
    const char *e[] = { D570 "device_cert_chain.pem", NULL };
    run_opts o = { .nonce_hex = N931 };
    cachet_verify_result *r = verify_vec(DINV "h100_report_INVALID_SIGNATURE.hex", e, &o);
    report("invalid/h100_report_INVALID_SIGNATURE", r);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    ev_assert_fail(r, "nvgpu.report.signature");
    ev_assert_pass(r, "nvgpu.cert_chain"); /* the chain itself is fine */
    cachet_verify_result_free(r);
}

static void test_invalid_missing_intermediate(void **state)
{
    (void)state;
    const char *e[] = { DINV "h100_chain_MISSING_INTERMEDIATE.pem", NULL };
    run_opts o = { .nonce_hex = N931 };
    cachet_verify_result *r = verify_vec(D550 "attestation_report.hex", e, &o);
    report("invalid/h100_chain_MISSING_INTERMEDIATE", r);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    ev_assert_fail(r, "nvgpu.cert_chain");
    ev_assert_fail(r, "nvgpu.cert_chain.length");
    ev_assert_na(r, "nvgpu.report.signature");
    cachet_verify_result_free(r);
}

static void test_invalid_missing_leaf(void **state)
{
    (void)state;
    const char *e[] = { DINV "h100_chain_MISSING_LEAF.pem", NULL };
    run_opts o = { .nonce_hex = N931 };
    cachet_verify_result *r = verify_vec(D550 "attestation_report.hex", e, &o);
    report("invalid/h100_chain_MISSING_LEAF", r);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    ev_assert_fail(r, "nvgpu.cert_chain.leaf");
    ev_assert_na(r, "nvgpu.report.signature");
    cachet_verify_result_free(r);
}

/* A generated report for driver 550.144.03 whose measurements are the real
 * RIM's golden values: the only way to exercise these two real RIMs. */
static uint8_t *report_for_rim(nvgen_pki *p, const char *rim_rel, size_t *len)
{
    size_t rl;
    uint8_t *xml = read_vec(rim_rel, &rl);
    nvgpu_rim *rim = NULL;
    assert_int_equal(nvgpu_rim_read(xml, rl, &rim, NULL), CACHET_OK);
    nvgen_report o;
    nvgen_report_defaults(&o);
    o.driver_version = rim->version;
    for (size_t i = 0; i < rim->n; i++) {
        const nvgpu_rim_entry *en = &rim->entries[i];
        if (en->active && en->index < NVGEN_BLOCKS)
            memcpy(o.values[en->index], en->alt, 48); /* block index+1 */
    }
    uint8_t *rep = nvgen_report_build(p, &o, len);
    nvgpu_rim_free(rim);
    free(xml);
    assert_non_null(rep);
    return rep;
}

static void test_rims_extra_550_144(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    int64_t t = at("2025-06-01T00:00:00Z");
    nvgen_pki *p = nvgen_pki_new(t, true);
    assert_non_null(p);
    size_t len;
    uint8_t *rep = report_for_rim(p, "nvgpu/rims_extra/NV_GPU_DRIVER_GH100_550.144.03.xml", &len);
    const char *e[] = { "nvgpu/rims_extra/NV_GPU_DRIVER_GH100_550.144.03.xml", NULL };
    cachet_endorsements *en = endorse(e);
    char *chain = nvgen_chain_pem(p, true);
    assert_int_equal(cachet_endorsements_add_bytes(en, "chain.pem", chain, strlen(chain)),
                     CACHET_OK);
    run_opts o = { .ops = &p->ops, .at = "2025-06-01T00:00:00Z" };
    cachet_verify_result *r = verify_bytes(rep, len, en, &o);
    report("rims_extra/NV_GPU_DRIVER_GH100_550.144.03 (generated report)", r);
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    ev_assert_no_failures(r);
    ev_assert_pass(r, "nvgpu.rim.driver.signature");
    ev_assert_pass(r, "nvgpu.rim.driver.cert_chain");
    ev_assert_pass(r, "nvgpu.measurements");
    assert_string_equal(ev_claim_str(r, "measres"), "partial");
    cachet_verify_result_free(r);
    cachet_endorsements_free(en);

    /* invalid/: the same RIM with a broken signature. */
    const char *bad[] = { DINV "driver_rim_550.144.03_INVALID_SIGNATURE.xml", NULL };
    en = endorse(bad);
    assert_int_equal(cachet_endorsements_add_bytes(en, "chain.pem", chain, strlen(chain)),
                     CACHET_OK);
    r = verify_bytes(rep, len, en, &o);
    report("invalid/driver_rim_550.144.03_INVALID_SIGNATURE", r);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    ev_assert_only_failures(r, "nvgpu.rim.driver.signature");
    ev_assert_pass(r, "nvgpu.rim.driver.cert_chain");
    ev_assert_na(r, "nvgpu.measurements"); /* values of an unverified RIM are not used */
    cachet_verify_result_free(r);
    cachet_endorsements_free(en);
    free(chain);
    free(rep);
    nvgen_pki_free(p);
}

static void test_invalid_rim_chain(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    int64_t t = at("2025-06-01T00:00:00Z");
    nvgen_pki *p = nvgen_pki_new(t, true);
    assert_non_null(p);
    /* A GB100 VBIOS RIM 97.00.83.00.09 whose chain ends at a "Debug Only"
     * CA: offered the wrong root as endorsement and as --trust-anchor, it
     * still must not verify. */
    nvgen_report o;
    nvgen_report_defaults(&o);
    const uint8_t vb[8] = { 0x00, 0x83, 0x00, 0x97, 0x09, 0, 0, 0 };
    memcpy(o.vbios, vb, 8);
    size_t len;
    uint8_t *rep = nvgen_report_build(p, &o, &len);
    const char *e[] = { DINV "rim_INCORRECT_CERT_CHAIN.xml", DINV "incorrect_rim_root.crt", NULL };
    cachet_endorsements *en = endorse(e);
    char *chain = nvgen_chain_pem(p, true);
    assert_int_equal(cachet_endorsements_add_bytes(en, "chain.pem", chain, strlen(chain)),
                     CACHET_OK);
    size_t al;
    uint8_t *wrong_root = read_vec(DINV "incorrect_rim_root.crt", &al);
    cachet_x509 *anchor = NULL;
    assert_int_equal(cachet_x509_parse(wrong_root, al, &anchor), CACHET_OK);
    run_opts ro = { .ops = &p->ops, .at = "2025-06-01T00:00:00Z", .anchors = &anchor,
                    .n_anchors = 1 };
    cachet_verify_result *r = verify_bytes(rep, len, en, &ro);
    report("invalid/rim_INCORRECT_CERT_CHAIN", r);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    ev_assert_pass(r, "nvgpu.rim.vbios.version");
    ev_assert_fail(r, "nvgpu.rim.vbios.cert_chain");
    cachet_verify_result_free(r);
    cachet_x509_free(anchor);
    cachet_endorsements_free(en);
    free(wrong_root);
    free(chain);
    free(rep);
    nvgen_pki_free(p);
}

static void test_rim_content_of_vectors(void **state)
{
    (void)state;
    /* The reader's view of each real RIM (signed content only). */
    static const struct {
        const char *rel, *version;
        size_t active, certs;
    } rims[] = {
        { D545 "driver_rim_545.00_test_no_gpu.swidtag", "545.00", 21, 4 },
        { D545 "vbios_rim_1010_0200_882_96005E0001_test_no_gpu.swidtag", "96.00.5E.00.01", 12, 4 },
        { "nvgpu/rims_extra/NV_GPU_DRIVER_GH100_550.144.03.xml", "550.144.03", 21, 4 },
        { DINV "rim_INCORRECT_CERT_CHAIN.xml", "97.00.83.00.09", 20, 2 },
    };
    for (size_t i = 0; i < sizeof rims / sizeof rims[0]; i++) {
        size_t len;
        uint8_t *xml = read_vec(rims[i].rel, &len);
        nvgpu_rim *rim = NULL;
        assert_int_equal(nvgpu_rim_read(xml, len, &rim, NULL), CACHET_OK);
        assert_string_equal(rim->version, rims[i].version);
        assert_int_equal(rim->n, 64);
        assert_int_equal(rim->n_active, rims[i].active);
        assert_int_equal(rim->n_certs, rims[i].certs);
        nvgpu_rim_free(rim);
        free(xml);
    }
}

int main(void)
{
    struct CMUnitTest tests[32];
    size_t n = 0;
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_545_fullrim);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_545_prod_vbios_mismatch);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_545_wrong_time);
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        tests[n++] = (struct CMUnitTest){ plain[i].name, test_plain_vector, NULL, NULL,
                                          (void *)&plain[i] };
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_550_facts);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_590_single);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_590_multi);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_570_cert_hold);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_535_vbios_prod_matches);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_535_tampered_driver_rim);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_535_sdk_vbios_mismatch);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_535_zero_nonce);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_570_expired_rims);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_invalid_report_signature);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_invalid_missing_intermediate);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_invalid_missing_leaf);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_rims_extra_550_144);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_invalid_rim_chain);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_rim_content_of_vectors);
    return _cmocka_run_group_tests("nvgpu_vectors", tests, n, NULL, NULL);
}
