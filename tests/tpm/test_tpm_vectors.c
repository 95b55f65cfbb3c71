/* Real TPM vectors (../shared/vectors/tpm, MANIFEST.md §4): the Google
 * Compute Engine vTPM attestation (go-tpm-tools protobuf) verified to the
 * GCE EK/AK CA, the peer's negative cases reproduced by mutation, and the
 * bare event logs replayed to the values go-tpm-tools asserts. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "cachet/encoding.h"
#include "tpm_assert.h"
#include "tpm_gen.h"

#define GCE "tpm/gce_vtpm_cos85_nonce9009/attestation.pb"
#define ROOT "tpm/gce_ek_ak_roots/tpm_ek_root_1.cer"
#define ICA "tpm/gce_ek_ak_roots/tpm_ek_intermediate_2.crt"

static const uint8_t nonce9009[2] = { 0x90, 0x09 };

static uint8_t *need(const char *rel, size_t *len)
{
    TU_REQUIRE_VECTORS();
    uint8_t *b = tu_read_vector(rel, len);
    if (!b) {
        print_message("# SKIP vector %s not found\n", rel);
        skip();
    }
    return b;
}

static cachet_x509 *cert(const char *rel)
{
    size_t n;
    uint8_t *b = need(rel, &n);
    cachet_x509 *c = NULL;
    assert_int_equal(cachet_x509_parse(b, n, &c), CACHET_OK);
    free(b);
    return c;
}

static cachet_endorsements *endorse(const char *rel)
{
    cachet_endorsements *e = cachet_endorsements_new();
    assert_non_null(e);
    if (rel) {
        char *p = tu_vector_path(rel);
        assert_non_null(p);
        assert_int_equal(cachet_endorsements_add_path(e, p), CACHET_OK);
        free(p);
    }
    return e;
}

static cachet_verify_result *gce(const uint8_t *ev, size_t len, const uint8_t *nonce,
                                 size_t nonce_len, bool anchor, const char *ica, int64_t t)
{
    cachet_x509 *root = anchor ? cert(ROOT) : NULL;
    cachet_endorsements *e = endorse(ica);
    cachet_verify_result *r =
        tt_verify(NULL, ev, len, nonce, nonce_len, &root, anchor ? 1 : 0, e, t);
    cachet_endorsements_free(e);
    cachet_x509_free(root);
    return r;
}

/* ---- the protobuf, rebuilt field by field -------------------------------------------- */

typedef struct pbuf {
    uint8_t *p;
    size_t len;
} pbuf;

static void pb_put(pbuf *o, const uint8_t *p, size_t n)
{
    o->p = realloc(o->p, o->len + n);
    assert_non_null(o->p);
    memcpy(o->p + o->len, p, n);
    o->len += n;
}

static void pb_varint(pbuf *o, uint64_t v)
{
    uint8_t b[10];
    size_t n = 0;
    do {
        b[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    pb_put(o, b, n);
}

static void pb_field(pbuf *o, unsigned num, const uint8_t *p, size_t n)
{
    pb_varint(o, (uint64_t)num << 3 | 2);
    pb_varint(o, n);
    pb_put(o, p, n);
}

static uint64_t rd_varint(const uint8_t *b, size_t *off)
{
    uint64_t v = 0;
    for (unsigned s = 0;; s += 7) {
        uint8_t c = b[(*off)++];
        v |= (uint64_t)(c & 0x7f) << s;
        if (!(c & 0x80))
            return v;
    }
}

/* The attestation with top-level field `num` replaced (NULL: removed), and
 * `add` appended as field add_num when given. */
static pbuf rebuild(const uint8_t *in, size_t len, unsigned num, const uint8_t *repl,
                    size_t repl_len, unsigned add_num, const uint8_t *add, size_t add_len)
{
    pbuf o = { 0 };
    size_t off = 0;
    while (off < len) {
        uint64_t key = rd_varint(in, &off);
        assert_int_equal(key & 7, 2); /* every top-level field is bytes here */
        uint64_t n = rd_varint(in, &off);
        if ((key >> 3) == num) {
            if (repl)
                pb_field(&o, num, repl, repl_len);
        } else {
            pb_field(&o, (unsigned)(key >> 3), in + off, (size_t)n);
        }
        off += (size_t)n;
    }
    if (add)
        pb_field(&o, add_num, add, add_len);
    return o;
}

/* ---- GCE ---------------------------------------------------------------------------- */

static void test_gce_valid(void **state)
{
    (void)state;
    size_t len;
    uint8_t *ev = need(GCE, &len);
    cachet_verify_result *r = gce(ev, len, nonce9009, 2, true, ICA, cachet_clock_now(NULL));
    assert_string_equal(r->tee, "tpm");
    assert_true(r->auto_detected);
    ev_assert_no_failures(r);
    /* Valid; the AK certificate's CRL (pki.goog) is not supplied. */
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    ev_assert_pass(r, "tpm.ak.cert.chain");
    ev_assert_pass(r, "tpm.quote.signature");
    ev_assert_pass(r, "tpm.pcrs.digest");
    ev_assert_pass(r, "tpm.eventlog.replay");
    ev_assert_na(r, "tpm.ak.cert.crl");
    assert_string_equal(ev_claim_str(r, "report_data"), "9009");
    assert_string_equal(ev_claim_str(r, "ak_trust"), "certificate");
    assert_string_equal(ev_claim_str(r, "pcr00"),
                        "0f35c214608d93c7a6e68ae7359b4a8be5a0e99eea9107ece427c4dea4e439cf");
    assert_string_equal(ev_claim_str(r, "pcr04"),
                        "d690bdac2aa8b73a1d718cb91990df07d0747b07ea57b3b2d0f0d511f0d90491");
    assert_string_equal(ev_claim_str(r, "pcr07"),
                        "3365d7fa2b024c852913c06e04ffbfa6ea5289f743bbf1a76f7ffdf21ed84793");
    /* Three quotes (SHA-1, SHA-256, SHA-384 banks), each verified. */
    const json_t *q = json_object_get(r->claims, "quotes");
    assert_int_equal(json_array_size(q), 3);
    for (size_t i = 0; i < 3; i++)
        assert_true(json_is_true(json_object_get(json_array_get(q, i), "verified")));
    assert_non_null(tt_claim(r, "pcrs", "sha384", "pcr00"));
    const json_t *evs = tt_claim(r, "event_log", "events", NULL);
    assert_true(json_array_size(evs) > 10);
    assert_true(json_is_true(json_object_get(json_array_get(evs, 1), "verified")));
    cachet_verify_result_free(r);
    free(ev);
}

static void test_gce_intermediate_inside(void **state)
{
    (void)state;
    size_t len, n;
    uint8_t *ev = need(GCE, &len);
    uint8_t *ica = need(ICA, &n);
    pbuf o = rebuild(ev, len, 0, NULL, 0, 7, ica, n);
    cachet_verify_result *r = gce(o.p, o.len, nonce9009, 2, true, NULL, cachet_clock_now(NULL));
    ev_assert_no_failures(r);
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    cachet_verify_result_free(r);
    free(o.p);
    free(ica);
    free(ev);
}

static void test_gce_missing_roots_or_intermediate(void **state)
{
    (void)state;
    size_t len;
    uint8_t *ev = need(GCE, &len);
    int64_t now = cachet_clock_now(NULL);
    cachet_verify_result *r = gce(ev, len, nonce9009, 2, false, ICA, now);
    ev_assert_fail(r, "tpm.ak.cert.chain");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);
    r = gce(ev, len, nonce9009, 2, true, NULL, now);
    ev_assert_fail(r, "tpm.ak.cert.chain");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);
    /* The newer GCE CA is not this AK's root. */
    cachet_x509 *other = cert("tpm/gce_ek_ak_roots/gcp_ek_ak_ca_root.crt");
    cachet_endorsements *e = endorse(ICA);
    r = tt_verify(NULL, ev, len, nonce9009, 2, &other, 1, e, now);
    ev_assert_fail(r, "tpm.ak.cert.chain");
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
    cachet_x509_free(other);
    free(ev);
}

static void test_gce_malformed_intermediate(void **state)
{
    (void)state;
    size_t len, n;
    uint8_t *ev = need(GCE, &len);
    uint8_t *ica = need(ICA, &n);
    ica[n / 2] ^= 0xff; /* breaks the DER or the signature */
    pbuf o = rebuild(ev, len, 0, NULL, 0, 7, ica, n);
    cachet_verify_result *r = gce(o.p, o.len, nonce9009, 2, true, NULL, cachet_clock_now(NULL));
    ev_assert_fail(r, "tpm.ak.cert.chain");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);
    free(o.p);
    free(ica);
    free(ev);
}

static void test_gce_before_ak_cert(void **state)
{
    (void)state;
    size_t len;
    uint8_t *ev = need(GCE, &len);
    cachet_verify_result *r = gce(ev, len, nonce9009, 2, true, ICA, tt_at("2021-01-01T00:00:00Z"));
    ev_assert_fail(r, "tpm.ak.cert.chain");
    cachet_verify_result_free(r);
    free(ev);
}

static void test_gce_wrong_nonce(void **state)
{
    (void)state;
    size_t len;
    uint8_t *ev = need(GCE, &len);
    static const uint8_t other[2] = { 0x90, 0x0a };
    cachet_verify_result *r = gce(ev, len, other, 2, true, ICA, cachet_clock_now(NULL));
    ev_assert_fail(r, "tpm.quote.nonce");
    ev_assert_only_failures(r, "tpm.quote.nonce");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    cachet_verify_result_free(r);
    free(ev);
}

static void test_gce_grafted_ak_cert(void **state)
{
    (void)state;
    /* The GCE AK certificate on quotes of another AK (the peer's case). */
    size_t len;
    uint8_t *ev = need(GCE, &len);
    tpmgen *g = tpmgen_new(NULL);
    pbuf o = rebuild(ev, len, 1, g->ev.ak_public.p, g->ev.ak_public.len, 0, NULL, 0);
    cachet_verify_result *r = gce(o.p, o.len, nonce9009, 2, true, ICA, cachet_clock_now(NULL));
    ev_assert_fail(r, "tpm.ak.cert.key");
    ev_assert_fail(r, "tpm.quote.signature");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);
    free(o.p);
    tpmgen_free(g);
    free(ev);
}

static void test_gce_truncated(void **state)
{
    (void)state;
    size_t len;
    uint8_t *ev = need(GCE, &len);
    /* Never a pass, whatever the cut. */
    for (size_t cut = 1; cut < len; cut += 257) {
        cachet_verify_result *r = tt_verify("tpm", ev, cut, nonce9009, 2, NULL, 0, NULL,
                                            cachet_clock_now(NULL));
        assert_false(r->verified);
        assert_int_equal(r->status, CACHET_EV_CONTRAINDICATED);
        cachet_verify_result_free(r);
    }
    free(ev);
}

/* ---- bare event logs ----------------------------------------------------------------- */

static void check_log(const char *rel, const char *const *want)
{
    size_t len;
    uint8_t *ev = need(rel, &len);
    cachet_verify_result *r = tt_verify(NULL, ev, len, NULL, 0, NULL, 0, NULL,
                                        cachet_clock_now(NULL));
    assert_string_equal(r->tee, "tpm");
    ev_assert_pass(r, "tpm.eventlog.structure");
    ev_assert_fail(r, "tpm.quote.present");
    ev_assert_only_failures(r, "tpm.quote.present");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    for (const char *const *w = want; *w; w += 2) {
        const json_t *v = tt_claim(r, "replayed_pcrs", "sha256", w[0]);
        if (!v || strcmp(json_string_value(v), w[1]) != 0) {
            ev_dump(r);
            fail_msg("%s %s: got %s", rel, w[0], v ? json_string_value(v) : "(none)");
        }
    }
    cachet_verify_result_free(r);
    free(ev);
}

static void test_eventlog_ubuntu(void **state)
{
    (void)state;
    static const char *const want[] = {
        "pcr00", "50597a27846e91d025eef597abbc89f72bff9af849094db97b0684d8bc4c515e",
        "pcr04", "abe8b3fa6aecb36c2fd93c6f6edde661c21b353d007410a2739d69bfa7e1b9be",
        "pcr07", "33ad69850fb2c7f30b4f8b4bc10ed93fc954dc07fa726e84f50f3d192dc1c140",
        "pcr09", "ce08798b283c7a0ddc5e9ad1d602304b945b741fc60c20e254eafa0f4782512b",
        "pcr14", "306f9d8b94f17d93dc6e7cf8f5c79d652eb4c6c4d13de2dddc24af416e13ecaf",
        NULL,
    };
    check_log("tpm/eventlogs_only/ubuntu-2404-amd-sevsnp.bin", want);
}

static void test_eventlog_cos85(void **state)
{
    (void)state;
    /* The same boot chain as the GCE attestation: PCR 0, 4 and 7 agree. */
    static const char *const want[] = {
        "pcr00", "0f35c214608d93c7a6e68ae7359b4a8be5a0e99eea9107ece427c4dea4e439cf",
        "pcr04", "d690bdac2aa8b73a1d718cb91990df07d0747b07ea57b3b2d0f0d511f0d90491",
        "pcr07", "3365d7fa2b024c852913c06e04ffbfa6ea5289f743bbf1a76f7ffdf21ed84793",
        NULL,
    };
    check_log("tpm/eventlogs_only/cos-85-amd-sev.bin", want);
}

static void test_eventlog_arch(void **state)
{
    (void)state;
    /* go-tpm-tools server/eventlog_test.go ArchLinuxWorkstation, SHA-256. */
    static const char *const want[] = {
        "pcr00", "758b773d94feabf52ef5a4c00a7ad2c80d8d6e6d9d58756150be9bc973da9087",
        "pcr01", "bfda688a5d320123fddb3fc70b746bc17647e2e7f2f96e130d429542bf4622d5",
        NULL,
    };
    check_log("tpm/eventlogs_only/arch-linux-workstation.bin", want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gce_valid),
        cmocka_unit_test(test_gce_intermediate_inside),
        cmocka_unit_test(test_gce_missing_roots_or_intermediate),
        cmocka_unit_test(test_gce_malformed_intermediate),
        cmocka_unit_test(test_gce_before_ak_cert),
        cmocka_unit_test(test_gce_wrong_nonce),
        cmocka_unit_test(test_gce_grafted_ak_cert),
        cmocka_unit_test(test_gce_truncated),
        cmocka_unit_test(test_eventlog_ubuntu),
        cmocka_unit_test(test_eventlog_cos85),
        cmocka_unit_test(test_eventlog_arch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
