/* End to end on real software TPMs: two swtpm instances (A and B), each
 * manufactured with an EK certificate from swtpm's local CA, which is the
 * trust anchor.  The attester (ESAPI over the swtpm TCTI) measures a model
 * digest into PCR 15, answers the verifier's credential challenge and
 * quotes; the verifier accepts that, and rejects a wrong nonce, a changed
 * PCR, an AK from the other TPM, a replayed quote and an EK CRL that cannot
 * be trusted, each with the check that names it.  tpm2_checkquote
 * cross-checks one quote.  Skipped with a message when swtpm is absent;
 * every swtpm started here is stopped, whatever happens. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"

#include "cachet/encoding.h"
#include "cachet/fileio.h"
#include "cachet/tpm.h"
#include "swtpm_harness.h"
#include "tpm_assert.h"

#define MODEL_PCR 15

static struct {
    const char *skip;          /* why the tests are skipped, or NULL */
    char *dir, *ca_dir;
    swtpm a, b;
    cachet_tpm *ta;            /* A's handle for the whole group (its log follows PCR 15) */
    cachet_tpm *tb;            /* B's handle, one test at a time */
    cachet_x509 *anchor;       /* swtpm-localca root */
    char *anchor_path, *issuer_path;
    uint8_t *b_ek, *b_ak;      /* B's public areas (TPM2B_PUBLIC) */
    size_t b_ek_len, b_ak_len;
    uint8_t model_digest[32];
    bool model_measured;
} G;

#define REQUIRE_SWTPM()                                                                     \
    do {                                                                                    \
        if (G.skip) {                                                                       \
            print_message("# SKIP %s\n", G.skip);                                           \
            skip();                                                                         \
        }                                                                                   \
    } while (0)

static int group_setup(void **state)
{
    (void)state;
    const char *missing = swtpm_missing();
    if (missing) {
        static char why[128];
        snprintf(why, sizeof why, "%s is not installed (scripts/install-deps)", missing);
        G.skip = why;
        return 0;
    }
    G.skip = "swtpm could not be set up (see the log above)";
    G.dir = tu_mkdtemp();
    if (!G.dir)
        return 0;
    G.ca_dir = tu_asprintf("%s/ca", G.dir);
    char *sa = tu_asprintf("%s/tpm-a", G.dir), *sb = tu_asprintf("%s/tpm-b", G.dir);
    char *conf = NULL;
    bool ok = mkdir(G.ca_dir, 0700) == 0 && mkdir(sa, 0700) == 0 && mkdir(sb, 0700) == 0 &&
              (conf = swtpm_ca_config(G.ca_dir)) != NULL && swtpm_manufacture(sa, conf) == 0 &&
              swtpm_manufacture(sb, conf) == 0 && swtpm_start(&G.a, sa) == 0 &&
              swtpm_start(&G.b, sb) == 0;
    free(conf);
    free(sa);
    free(sb);
    if (!ok)
        return 0;
    G.anchor_path = tu_asprintf("%s/swtpm-localca-rootca-cert.pem", G.ca_dir);
    G.issuer_path = tu_asprintf("%s/issuercert.pem", G.ca_dir);
    size_t n;
    uint8_t *pem = NULL;
    if (cachet_file_read(G.anchor_path, 1 << 20, &pem, &n) != CACHET_OK ||
        cachet_x509_parse(pem, n, &G.anchor) != CACHET_OK) {
        free(pem);
        return 0;
    }
    free(pem);
    cachet_tpm *tb = NULL;
    if (cachet_tpm_open(&(cachet_tpm_opts){ .tcti = G.b.tcti }, &tb) != CACHET_OK ||
        cachet_tpm_ek_public(tb, &G.b_ek, &G.b_ek_len) != CACHET_OK ||
        cachet_tpm_ak_public(tb, &G.b_ak, &G.b_ak_len) != CACHET_OK) {
        fprintf(stderr, "tpm B: %s\n", cachet_err_detail());
        cachet_tpm_close(tb);
        return 0;
    }
    cachet_tpm_close(tb);
    if (cachet_tpm_open(&(cachet_tpm_opts){ .tcti = G.a.tcti }, &G.ta) != CACHET_OK) {
        fprintf(stderr, "tpm A: %s\n", cachet_err_detail());
        return 0;
    }
    G.skip = NULL;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    cachet_tpm_close(G.tb);
    cachet_tpm_close(G.ta);
    swtpm_stop(&G.a);
    swtpm_stop(&G.b);
    cachet_x509_free(G.anchor);
    free(G.b_ek);
    free(G.b_ak);
    free(G.anchor_path);
    free(G.issuer_path);
    if (G.dir)
        tu_rmtree(G.dir);
    free(G.dir);
    free(G.ca_dir);
    return 0;
}

static int close_b(void **state)
{
    (void)state;
    cachet_tpm_close(G.tb);
    G.tb = NULL;
    return 0;
}

/* ---- the two sides --------------------------------------------------------------- */

/* The verifier's challenge for t's EK and AK (or for explicit publics). */
static void challenge(const uint8_t *ek, size_t ek_len, const uint8_t *ak, size_t ak_len,
                      uint8_t nonce[32], uint8_t **blob, size_t *bl, uint8_t **sec, size_t *sl)
{
    assert_int_equal(cachet_random(nonce, 32), CACHET_OK);
    assert_int_equal(cachet_tpm_credential_challenge(ek, ek_len, ak, ak_len, nonce, 32, blob, bl,
                                                     sec, sl),
                     CACHET_OK);
}

static void measure_model(void)
{
    if (G.model_measured)
        return;
    /* The content digest of a sealed model, as the workload would measure it. */
    static const char model[] = "pretend these are sealed model weights";
    assert_int_equal(cachet_sha256(model, sizeof model - 1, G.model_digest), CACHET_OK);
    char hex[65], event[96];
    cachet_hex_encode(G.model_digest, 32, hex);
    snprintf(event, sizeof event, "cachet-model sha256:%s", hex);
    assert_int_equal(cachet_tpm_extend(G.ta, MODEL_PCR, event, strlen(event)), CACHET_OK);
    G.model_measured = true;
}

/* A's bundle answering a fresh challenge; the nonce comes back in nonce. */
static char *attest_a(uint8_t nonce[32], size_t *len)
{
    uint8_t *ek, *ak, *blob, *sec;
    size_t ekl, akl, bl, sl;
    assert_int_equal(cachet_tpm_ek_public(G.ta, &ek, &ekl), CACHET_OK);
    assert_int_equal(cachet_tpm_ak_public(G.ta, &ak, &akl), CACHET_OK);
    challenge(ek, ekl, ak, akl, nonce, &blob, &bl, &sec, &sl);
    measure_model();
    char *bundle = NULL;
    cachet_rc rc = cachet_tpm_quote_activated(G.ta, blob, bl, sec, sl, &bundle, len);
    if (rc != CACHET_OK)
        fail_msg("quote_activated: %s", cachet_err_detail());
    free(ek);
    free(ak);
    free(blob);
    free(sec);
    return bundle;
}

static cachet_verify_result *verify(const char *bundle, size_t len, const uint8_t *nonce,
                                    const char *extra_endorsement)
{
    cachet_endorsements *e = cachet_endorsements_new();
    assert_int_equal(cachet_endorsements_add_path(e, G.issuer_path), CACHET_OK);
    if (extra_endorsement)
        assert_int_equal(cachet_endorsements_add_path(e, extra_endorsement), CACHET_OK);
    cachet_verify_result *r = tt_verify("tpm", (const uint8_t *)bundle, len, nonce,
                                        nonce ? 32 : 0, &G.anchor, 1, e, cachet_clock_now(NULL));
    cachet_endorsements_free(e);
    return r;
}

/* ---- the flow ------------------------------------------------------------------------ */

static void test_attest_and_verify(void **state)
{
    (void)state;
    REQUIRE_SWTPM();
    uint8_t nonce[32];
    size_t len;
    char *bundle = attest_a(nonce, &len);
    cachet_verify_result *r = verify(bundle, len, nonce, NULL);
    ev_assert_no_failures(r);
    /* Verified; only the EK certificate's revocation is not known. */
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    ev_assert_pass(r, "tpm.ek.cert.chain");
    ev_assert_pass(r, "tpm.ek.cert.key");
    ev_assert_pass(r, "tpm.ek.cert.profile");
    ev_assert_pass(r, "tpm.ak.activation");
    ev_assert_pass(r, "tpm.ak.attributes");
    ev_assert_pass(r, "tpm.quote.signature");
    ev_assert_pass(r, "tpm.quote.nonce");
    ev_assert_pass(r, "tpm.pcrs.digest");
    ev_assert_pass(r, "tpm.eventlog.replay");
    ev_assert_na(r, "tpm.ek.cert.crl");
    assert_string_equal(ev_claim_str(r, "ak_trust"), "credential-activation");
    /* PCR 15 = H(0 || H(event)), and the event is a vouched-for claim. */
    char hex[65], event[96];
    cachet_hex_encode(G.model_digest, 32, hex);
    snprintf(event, sizeof event, "cachet-model sha256:%s", hex);
    uint8_t ext[64] = { 0 }, pcr[32];
    assert_int_equal(cachet_sha256(event, strlen(event), ext + 32), CACHET_OK);
    assert_int_equal(cachet_sha256(ext, 64, pcr), CACHET_OK);
    char pcr_hex[65];
    cachet_hex_encode(pcr, 32, pcr_hex);
    assert_string_equal(ev_claim_str(r, "pcr15"), pcr_hex);
    const json_t *evs = tt_claim(r, "event_log", "events", NULL);
    const json_t *last = json_array_get(evs, json_array_size(evs) - 1);
    assert_int_equal(json_integer_value(json_object_get(last, "pcr")), MODEL_PCR);
    assert_true(json_is_true(json_object_get(last, "verified")));
    char *b64 = cachet_base64_string((const uint8_t *)event, strlen(event));
    assert_string_equal(json_string_value(json_object_get(last, "data")), b64);
    free(b64);
    cachet_verify_result_free(r);
    free(bundle);
}

static void test_checkquote_cross_check(void **state)
{
    (void)state;
    REQUIRE_SWTPM();
    if (tu_system("command -v tpm2_checkquote >/dev/null 2>&1") != 0) {
        print_message("# SKIP tpm2_checkquote (tpm2-tools) is not installed\n");
        skip();
    }
    /* tpm2-tools 5.4 cannot hash a raw PCR file for larger selections
     * ("Failed to hash PCR values"), so this quote is taken on B over PCRs
     * 0, 1 and 15. */
    assert_int_equal(cachet_tpm_open(&(cachet_tpm_opts){ .tcti = G.b.tcti, .pcr_mask = 0x8003 },
                                     &G.tb),
                     CACHET_OK);
    uint8_t *ek, *ak, *blob, *sec, nonce[32];
    size_t ekl, akl, bl, sl, len;
    assert_int_equal(cachet_tpm_ek_public(G.tb, &ek, &ekl), CACHET_OK);
    assert_int_equal(cachet_tpm_ak_public(G.tb, &ak, &akl), CACHET_OK);
    challenge(ek, ekl, ak, akl, nonce, &blob, &bl, &sec, &sl);
    char *bundle = NULL;
    assert_int_equal(cachet_tpm_quote_activated(G.tb, blob, bl, sec, sl, &bundle, &len),
                     CACHET_OK);
    free(ek);
    free(ak);
    free(blob);
    free(sec);
    cachet_verify_result *r = verify(bundle, len, nonce, NULL);
    ev_assert_no_failures(r);
    cachet_verify_result_free(r);
    json_t *j = json_loads(bundle, 0, NULL);
    assert_non_null(j);
    /* The bundle's fields as tpm2-tools files. */
    static const char *const names[] = { "ak_public", "ak.pub", "attest", "quote.msg",
                                         "signature", "quote.sig" };
    const json_t *q = json_array_get(json_object_get(j, "quotes"), 0);
    for (size_t i = 0; i < 6; i += 2) {
        const json_t *v = i == 0 ? json_object_get(j, names[i]) : json_object_get(q, names[i]);
        uint8_t *b;
        size_t n;
        assert_int_equal(cachet_base64_decode(json_string_value(v), json_string_length(v), &b,
                                              &n),
                         CACHET_OK);
        char *p = tu_asprintf("%s/%s", G.dir, names[i + 1]);
        tu_write_file(p, b, n);
        free(p);
        free(b);
    }
    /* PCR values concatenated (tpm2_pcrread's raw form). */
    static const char *const keys[] = { "0", "1", "15" };
    uint8_t pcrs[3 * 32];
    const json_t *bank = json_object_get(json_object_get(j, "pcrs"), "sha256");
    assert_int_equal(json_object_size(bank), 3);
    for (int i = 0; i < 3; i++) {
        size_t n;
        assert_int_equal(cachet_hex_decode(json_string_value(json_object_get(bank, keys[i])),
                                           pcrs + 32 * i, 32, &n),
                         CACHET_OK);
    }
    char *pp = tu_asprintf("%s/pcrs.bin", G.dir);
    tu_write_file(pp, pcrs, sizeof pcrs);
    char nhex[65];
    cachet_hex_encode(nonce, 32, nhex);
    const char *list = "sha256:0,1,15";
    int st = tu_system("cd '%s' && tpm2_checkquote -u ak.pub -m quote.msg -s quote.sig -g sha256 "
                       "-f pcrs.bin -l %s -q %s >checkquote.log 2>&1",
                       G.dir, list, nhex);
    assert_int_equal(st, 0);
    /* And it refuses the wrong qualifying data. */
    nhex[0] = nhex[0] == '0' ? '1' : '0';
    st = tu_system("cd '%s' && tpm2_checkquote -u ak.pub -m quote.msg -s quote.sig -g sha256 "
                   "-f pcrs.bin -l %s -q %s >>checkquote.log 2>&1",
                   G.dir, list, nhex);
    assert_int_not_equal(st, 0);
    free(pp);
    json_decref(j);
    free(bundle);
}

static void test_wrong_nonce(void **state)
{
    (void)state;
    REQUIRE_SWTPM();
    uint8_t nonce[32];
    size_t len;
    char *bundle = attest_a(nonce, &len);
    nonce[0] ^= 1;
    cachet_verify_result *r = verify(bundle, len, nonce, NULL);
    ev_assert_fail(r, "tpm.quote.nonce");
    ev_assert_fail(r, "tpm.ak.activation");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);
    free(bundle);
}

static void test_replayed_quote(void **state)
{
    (void)state;
    REQUIRE_SWTPM();
    uint8_t old[32], fresh[32];
    size_t len, len2;
    char *bundle = attest_a(old, &len);
    char *second = attest_a(fresh, &len2);
    /* The first answer replayed to the second challenge. */
    cachet_verify_result *r = verify(bundle, len, fresh, NULL);
    ev_assert_fail(r, "tpm.quote.nonce");
    ev_assert_fail(r, "tpm.ak.activation.quote");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);
    r = verify(second, len2, fresh, NULL);
    ev_assert_no_failures(r);
    cachet_verify_result_free(r);
    free(bundle);
    free(second);
}

/* The bundle with one field (a TPM2B_PUBLIC or a PCR value) replaced. */
static char *edit_bundle(const char *bundle, const char *key, const char *pcr, const char *val)
{
    json_t *j = json_loads(bundle, 0, NULL);
    assert_non_null(j);
    if (pcr)
        json_object_set_new(json_object_get(json_object_get(j, "pcrs"), "sha256"), pcr,
                            json_string(val));
    else
        json_object_set_new(j, key, json_string(val));
    char *s = json_dumps(j, 0);
    json_decref(j);
    return s;
}

static void test_different_pcr(void **state)
{
    (void)state;
    REQUIRE_SWTPM();
    uint8_t nonce[32];
    size_t len;
    char *bundle = attest_a(nonce, &len);
    /* The model PCR claimed as something else. */
    char *m = edit_bundle(bundle, NULL, "15",
                          "1111111111111111111111111111111111111111111111111111111111111111");
    cachet_verify_result *r = verify(m, strlen(m), nonce, NULL);
    ev_assert_fail(r, "tpm.pcrs.digest");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);
    free(m);
    /* A PCR the log does not touch. */
    m = edit_bundle(bundle, NULL, "7",
                    "0000000000000000000000000000000000000000000000000000000000000001");
    r = verify(m, strlen(m), nonce, NULL);
    ev_assert_fail(r, "tpm.pcrs.digest");
    ev_assert_only_failures(r, "tpm.pcrs.digest");
    cachet_verify_result_free(r);
    free(m);
    free(bundle);
}

static void test_ak_from_other_tpm(void **state)
{
    (void)state;
    REQUIRE_SWTPM();
    uint8_t nonce[32];
    size_t len;
    char *bundle = attest_a(nonce, &len);
    /* B's AK offered for A's quote. */
    char *b64 = cachet_base64_string(G.b_ak, G.b_ak_len);
    char *m = edit_bundle(bundle, "ak_public", NULL, b64);
    cachet_verify_result *r = verify(m, strlen(m), nonce, NULL);
    ev_assert_fail(r, "tpm.quote.signature");
    ev_assert_fail(r, "tpm.ak.activation");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);
    free(m);
    free(b64);
    free(bundle);

    /* A challenge bound to B's AK cannot be answered by A (its AK has
     * another Name), and one for A's EK cannot be answered by B. */
    uint8_t *ek, *ak, *blob, *sec;
    size_t ekl, akl, bl, sl;
    char *out = NULL;
    assert_int_equal(cachet_tpm_ek_public(G.ta, &ek, &ekl), CACHET_OK);
    challenge(ek, ekl, G.b_ak, G.b_ak_len, nonce, &blob, &bl, &sec, &sl);
    assert_int_not_equal(cachet_tpm_quote_activated(G.ta, blob, bl, sec, sl, &out, &len),
                         CACHET_OK);
    assert_null(out);
    free(blob);
    free(sec);
    assert_int_equal(cachet_tpm_ak_public(G.ta, &ak, &akl), CACHET_OK);
    challenge(ek, ekl, ak, akl, nonce, &blob, &bl, &sec, &sl);
    assert_int_equal(cachet_tpm_open(&(cachet_tpm_opts){ .tcti = G.b.tcti }, &G.tb), CACHET_OK);
    assert_int_not_equal(cachet_tpm_quote_activated(G.tb, blob, bl, sec, sl, &out, &len),
                         CACHET_OK);
    /* B answering its own challenge is fine, and is B's evidence, not A's. */
    free(blob);
    free(sec);
    challenge(G.b_ek, G.b_ek_len, G.b_ak, G.b_ak_len, nonce, &blob, &bl, &sec, &sl);
    assert_int_equal(cachet_tpm_quote_activated(G.tb, blob, bl, sec, sl, &out, &len), CACHET_OK);
    r = verify(out, len, nonce, NULL);
    ev_assert_no_failures(r);
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    cachet_verify_result_free(r);
    free(out);
    free(blob);
    free(sec);
    free(ek);
    free(ak);
}

static void test_ecc_ak_and_generic_attester(void **state)
{
    (void)state;
    REQUIRE_SWTPM();
    /* An ECDSA P-256 AK on B. */
    assert_int_equal(cachet_tpm_open(&(cachet_tpm_opts){ .tcti = G.b.tcti,
                                                         .ak_type = CACHET_TPM_AK_ECC,
                                                         .pcr_mask = 0x00ffff },
                                     &G.tb),
                     CACHET_OK);
    uint8_t *ek, *ak, *blob, *sec, nonce[32];
    size_t ekl, akl, bl, sl, len;
    assert_int_equal(cachet_tpm_ek_public(G.tb, &ek, &ekl), CACHET_OK);
    assert_int_equal(cachet_tpm_ak_public(G.tb, &ak, &akl), CACHET_OK);
    challenge(ek, ekl, ak, akl, nonce, &blob, &bl, &sec, &sl);
    char *out = NULL;
    assert_int_equal(cachet_tpm_quote_activated(G.tb, blob, bl, sec, sl, &out, &len), CACHET_OK);
    cachet_verify_result *r = verify(out, len, nonce, NULL);
    ev_assert_no_failures(r);
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    cachet_verify_result_free(r);
    free(out);
    free(ek);
    free(ak);
    free(blob);
    free(sec);
    cachet_tpm_close(G.tb);
    G.tb = NULL;

    /* The generic attester interface: a quote without a challenge is
     * genuine TPM output, but nothing makes its AK trusted. */
    cachet_attester *at = NULL;
    assert_int_equal(cachet_attester_tpm_new(&(cachet_tpm_opts){ .tcti = G.b.tcti }, &at),
                     CACHET_OK);
    assert_string_equal(cachet_attester_tee(at), "tpm");
    static const uint8_t n2[20] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
    uint8_t *ev = NULL;
    cachet_attest_request rq = { .nonce = n2, .nonce_len = sizeof n2 };
    assert_int_equal(cachet_attester_collect(at, &rq, &ev, &len), CACHET_OK);
    cachet_attest_request bad = { .nonce = n2, .nonce_len = 4, .user_data = n2, .user_data_len = 4 };
    uint8_t *ev2 = NULL;
    assert_int_not_equal(cachet_attester_collect(at, &bad, &ev2, &len), CACHET_OK);
    cachet_attester_free(at);
    cachet_verify_request req = { .evidence = ev, .evidence_len = strlen((char *)ev),
                                  .trust_anchors = &G.anchor, .n_trust_anchors = 1,
                                  .time = cachet_clock_now(NULL), .nonce = n2,
                                  .nonce_len = sizeof n2 };
    assert_int_equal(cachet_evidence_verify(&req, &r), CACHET_OK);
    ev_assert_pass(r, "tpm.quote.signature");
    ev_assert_pass(r, "tpm.quote.nonce");
    ev_assert_fail(r, "tpm.ak.trust");
    ev_assert_only_failures(r, "tpm.ak.trust");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);
    free(ev);
}

static void test_ek_crl_refused(void **state)
{
    (void)state;
    REQUIRE_SWTPM();
    if (tu_system("command -v certtool >/dev/null 2>&1") != 0) {
        print_message("# SKIP certtool (GnuTLS) is not installed: no CRL for the local CA\n");
        skip();
    }
    /* swtpm's local CA has no cRLSign: a CRL it signs (here with certtool,
     * revoking A's EK certificate, and an empty one) cannot be trusted, and
     * an untrustworthy CRL from a CA on the EK's path fails closed. */
    uint8_t *ek_der = NULL;
    size_t ek_len = 0;
    assert_int_equal(cachet_tpm_ek_cert(G.ta, &ek_der, &ek_len), CACHET_OK);
    char *ek_path = tu_asprintf("%s/ek.der", G.dir);
    tu_write_file(ek_path, ek_der, ek_len);
    char *tmpl = tu_asprintf("%s/crl.tmpl", G.dir);
    tu_write_file(tmpl, "crl_next_update = 30\ncrl_number = 1\n", 36);
    assert_int_equal(tu_system("cd '%s' && certtool --generate-crl --load-ca-privkey ca/signkey.pem "
                               "--load-ca-certificate ca/issuercert.pem --template crl.tmpl "
                               "--outfile empty.crl >crl.log 2>&1",
                               G.dir),
                     0);
    assert_int_equal(tu_system("cd '%s' && certtool --certificate-info --inder --infile ek.der "
                               "--outfile ek.pem >>crl.log 2>&1 && certtool --generate-crl "
                               "--load-ca-privkey ca/signkey.pem --load-ca-certificate "
                               "ca/issuercert.pem --load-certificate ek.pem --template crl.tmpl "
                               "--outfile revoked.crl >>crl.log 2>&1",
                               G.dir),
                     0);
    uint8_t nonce[32];
    size_t len;
    char *bundle = attest_a(nonce, &len);
    static const char *const crls[] = { "empty.crl", "revoked.crl" };
    for (size_t i = 0; i < 2; i++) {
        char *p = tu_asprintf("%s/%s", G.dir, crls[i]);
        cachet_verify_result *r = verify(bundle, len, nonce, p);
        ev_assert_fail(r, "tpm.ek.cert.crl");
        ev_assert_only_failures(r, "tpm.ek.cert.crl", "tpm.ak.trust");
        ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
        cachet_verify_result_free(r);
        free(p);
    }
    free(bundle);
    free(tmpl);
    free(ek_path);
    free(ek_der);
}

static void test_event_log_survives_restart(void **state)
{
    (void)state;
    REQUIRE_SWTPM();
    measure_model();
    /* The attester restarts on a TPM that kept its PCRs: it continues the
     * saved log, measures again, and the log still replays. */
    uint8_t *log;
    size_t log_len;
    assert_int_equal(cachet_tpm_event_log(G.ta, &log, &log_len), CACHET_OK);
    char *path = tu_asprintf("%s/saved.log", G.dir);
    tu_write_file(path, log, log_len);
    cachet_tpm_close(G.ta);
    G.ta = NULL;
    assert_int_equal(cachet_tpm_open(&(cachet_tpm_opts){ .tcti = G.a.tcti, .event_log_path = path },
                                     &G.ta),
                     CACHET_OK);
    static const char again[] = "cachet-config sha256:abcd";
    assert_int_equal(cachet_tpm_extend(G.ta, 16, again, sizeof again - 1), CACHET_OK);
    uint8_t nonce[32];
    size_t len;
    char *bundle = attest_a(nonce, &len);
    cachet_verify_result *r = verify(bundle, len, nonce, NULL);
    ev_assert_no_failures(r);
    ev_assert_pass(r, "tpm.eventlog.replay");
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    cachet_verify_result_free(r);
    free(bundle);
    free(path);
    free(log);
}

static void test_cli(void **state)
{
    (void)state;
    REQUIRE_SWTPM();
    uint8_t nonce[32];
    size_t len;
    char *bundle = attest_a(nonce, &len);
    char *bp = tu_asprintf("%s/bundle.json", G.dir), *op = tu_asprintf("%s/out.json", G.dir);
    tu_write_file(bp, bundle, len);
    char nhex[65];
    cachet_hex_encode(nonce, 32, nhex);
    int st = tu_system("'%s' verify --json --nonce %s --trust-anchor '%s' '%s' '%s' > '%s' "
                       "2>/dev/null",
                       tu_cachet_exe(), nhex, G.anchor_path, bp, G.issuer_path, op);
    assert_int_equal(st, 0);
    json_t *j = json_load_file(op, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "tee")), "tpm");
    assert_true(json_is_true(json_object_get(j, "verified")));
    json_decref(j);
    nhex[1] = nhex[1] == '0' ? '1' : '0';
    st = tu_system("'%s' verify --json --nonce %s --trust-anchor '%s' '%s' '%s' > '%s' 2>/dev/null",
                   tu_cachet_exe(), nhex, G.anchor_path, bp, G.issuer_path, op);
    assert_int_equal(st, 1);
    free(bp);
    free(op);
    free(bundle);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_attest_and_verify, close_b),
        cmocka_unit_test_teardown(test_checkquote_cross_check, close_b),
        cmocka_unit_test_teardown(test_wrong_nonce, close_b),
        cmocka_unit_test_teardown(test_replayed_quote, close_b),
        cmocka_unit_test_teardown(test_different_pcr, close_b),
        cmocka_unit_test_teardown(test_ak_from_other_tpm, close_b),
        cmocka_unit_test_teardown(test_ecc_ak_and_generic_attester, close_b),
        cmocka_unit_test_teardown(test_ek_crl_refused, close_b),
        cmocka_unit_test_teardown(test_event_log_survives_restart, close_b),
        cmocka_unit_test_teardown(test_cli, close_b),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
