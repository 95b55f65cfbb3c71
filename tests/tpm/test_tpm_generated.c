/* Generated TPM quote bundles (tpm_gen): one valid bundle per AK kind and
 * signature scheme, then one broken variant per check, each rejected with
 * the check that names its fault. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include <tss2/tss2_mu.h>

#include "cachet/encoding.h"
#include "tpm_assert.h"
#include "tpm_gen.h"

static cachet_verify_result *run(const tpmgen *g, const uint8_t *nonce, size_t nonce_len,
                                 bool anchor, const cachet_endorsements *e)
{
    size_t len;
    char *b = tpmgen_bundle(g, &len);
    cachet_x509 *anchors[1] = { g->anchor };
    cachet_verify_result *r = tt_verify("tpm", (const uint8_t *)b, len, nonce, nonce_len,
                                        anchors, anchor ? 1 : 0, e, cachet_clock_now(NULL));
    free(b);
    return r;
}

static cachet_verify_result *run_ok(const tpmgen *g)
{
    return run(g, g->nonce, sizeof g->nonce, true, NULL);
}

/* ---- valid bundles ------------------------------------------------------------ */

static void assert_valid(cachet_verify_result *r)
{
    ev_assert_no_failures(r);
    ev_assert_verdict(r, CACHET_EV_WARNING, true); /* no CRL for the AK certificate */
    ev_assert_pass(r, "tpm.ak.cert.chain");
    ev_assert_pass(r, "tpm.quote.signature");
    ev_assert_pass(r, "tpm.quote.nonce");
    ev_assert_pass(r, "tpm.pcrs.digest");
    ev_assert_pass(r, "tpm.eventlog.replay");
    ev_assert_na(r, "tpm.ak.cert.crl");
    assert_string_equal(ev_claim_str(r, "freshness"), "nonce-matched");
    assert_string_equal(ev_claim_str(r, "ak_trust"), "certificate");
    assert_string_equal(ev_claim_str(r, "pcr_bank"), "sha256");
}

static void test_valid_rsassa(void **state)
{
    (void)state;
    tpmgen *g = tpmgen_new(NULL);
    cachet_verify_result *r = run_ok(g);
    assert_valid(r);
    /* The events are claims, vouched for by the quoted PCR 15 and 16. */
    const json_t *evs = tt_claim(r, "event_log", "events", NULL);
    assert_int_equal(json_array_size(evs), 4);
    const json_t *e1 = json_array_get(evs, 1);
    assert_int_equal(json_integer_value(json_object_get(e1, "pcr")), 15);
    assert_string_equal(json_string_value(json_object_get(e1, "type")), "EV_IPL");
    assert_true(json_is_true(json_object_get(e1, "verified")));
    assert_true(json_is_false(json_object_get(json_array_get(evs, 0), "extended")));
    cachet_verify_result_free(r);
    tpmgen_free(g);
}

static void test_valid_ecdsa(void **state)
{
    (void)state;
    tpmgen *g = tpmgen_new(&(tpmgen_opts){ .ecc = true });
    cachet_verify_result *r = run_ok(g);
    assert_valid(r);
    cachet_verify_result_free(r);
    tpmgen_free(g);
}

static void test_valid_rsapss(void **state)
{
    (void)state;
    tpmgen *g = tpmgen_new(&(tpmgen_opts){ .sig_alg = TPM2_ALG_RSAPSS });
    cachet_verify_result *r = run_ok(g);
    assert_valid(r);
    cachet_verify_result_free(r);
    tpmgen_free(g);
}

static void test_valid_sha384_signature(void **state)
{
    (void)state;
    /* The PCR digest is hashed with the signature's hash. */
    tpmgen *g = tpmgen_new(&(tpmgen_opts){ .sig_hash = TPM2_ALG_SHA384 });
    cachet_verify_result *r = run_ok(g);
    assert_valid(r);
    cachet_verify_result_free(r);
    tpmgen_free(g);
}

static void test_crl_affirming_and_revoked(void **state)
{
    (void)state;
    tpmgen *g = tpmgen_new(NULL);
    size_t n;
    uint8_t *crl = testpki_crl(g->ica, NULL, &n);
    assert_non_null(crl);
    cachet_endorsements *e = cachet_endorsements_new();
    assert_int_equal(cachet_endorsements_add_bytes(e, "ica.crl", crl, n), CACHET_OK);
    cachet_verify_result *r = run(g, g->nonce, sizeof g->nonce, true, e);
    ev_assert_no_failures(r);
    ev_assert_pass(r, "tpm.ak.cert.crl");
    ev_assert_verdict(r, CACHET_EV_AFFIRMING, true);
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
    free(crl);

    const testpki_cert *revoked[1] = { g->leaf };
    crl = testpki_crl(g->ica, &(testpki_crl_opts){ .revoked = revoked, .n_revoked = 1 }, &n);
    e = cachet_endorsements_new();
    assert_int_equal(cachet_endorsements_add_bytes(e, "ica.crl", crl, n), CACHET_OK);
    r = run(g, g->nonce, sizeof g->nonce, true, e);
    ev_assert_fail(r, "tpm.ak.cert.crl");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
    free(crl);
    tpmgen_free(g);
}

/* ---- TPMS_ATTEST ---------------------------------------------------------------- */

static void expect_fail(tpmgen *g, const char *id, bool verified)
{
    cachet_verify_result *r = run_ok(g);
    ev_assert_fail(r, id);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, verified);
    cachet_verify_result_free(r);
}

static void test_wrong_magic(void **state)
{
    (void)state;
    tpmgen *g = tpmgen_new(NULL);
    g->ev.quotes[0].attest.p[0] ^= 0x01;
    tpmgen_sign(g); /* signed, and still refused: the magic is what a TPM adds */
    expect_fail(g, "tpm.quote.magic", false);
    tpmgen_free(g);
}

static void test_wrong_type(void **state)
{
    (void)state;
    tpmgen *g = tpmgen_new(NULL);
    g->ev.quotes[0].attest.p[5] = 0x17; /* TPM_ST_ATTEST_CERTIFY */
    tpmgen_sign(g);
    expect_fail(g, "tpm.quote.type", false);
    tpmgen_free(g);
}

static void test_truncated_attest(void **state)
{
    (void)state;
    tpmgen *g = tpmgen_new(NULL);
    size_t full = g->ev.quotes[0].attest.len;
    static const size_t cuts[] = { 1, 3, 5, 7, 20 };
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        g->ev.quotes[0].attest.len = cuts[i];
        cachet_verify_result *r = run_ok(g);
        const cachet_check *c = cachet_checklog_first_failure(r->checks);
        assert_non_null(c);
        assert_true(strcmp(c->id, "tpm.quote.magic") == 0 || strcmp(c->id, "tpm.quote.type") == 0 ||
                    strcmp(c->id, "tpm.quote.structure") == 0);
        ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
        cachet_verify_result_free(r);
    }
    g->ev.quotes[0].attest.len = full - 1;
    expect_fail(g, "tpm.quote.structure", false);
    tpmgen_free(g);
}

static void test_trailing_attest(void **state)
{
    (void)state;
    tpmgen *g = tpmgen_new(NULL);
    tpm_blob *a = &g->ev.quotes[0].attest;
    uint8_t *p = malloc(a->len + 1);
    memcpy(p, a->p, a->len);
    p[a->len] = 0;
    tpm_blob_set(a, p, a->len + 1);
    free(p);
    tpmgen_sign(g);
    expect_fail(g, "tpm.quote.structure", false);
    tpmgen_free(g);
}

/* ---- the signature -------------------------------------------------------------- */

static void test_bad_signature(void **state)
{
    (void)state;
    tpmgen *g = tpmgen_new(NULL);
    /* A byte of clockInfo changed after signing. */
    tpm_blob *a = &g->ev.quotes[0].attest;
    a->p[a->len - 60] ^= 0x40;
    expect_fail(g, "tpm.quote.signature", false);
    tpmgen_free(g);

    g = tpmgen_new(&(tpmgen_opts){ .ecc = true });
    tpm_blob *s = &g->ev.quotes[0].sig;
    s->p[s->len - 1] ^= 0x01;
    expect_fail(g, "tpm.quote.signature", false);
    tpmgen_free(g);
}

static void test_truncated_signature(void **state)
{
    (void)state;
    tpmgen *g = tpmgen_new(NULL);
    g->ev.quotes[0].sig.len -= 7;
    expect_fail(g, "tpm.signature.structure", false);
    tpmgen_free(g);
}

static void test_sha1_signature_refused(void **state)
{
    (void)state;
    tpmgen *g = tpmgen_new(&(tpmgen_opts){ .sig_hash = TPM2_ALG_SHA1 });
    expect_fail(g, "tpm.signature.algorithm", false);
    tpmgen_free(g);
}

static void test_scheme_key_mismatch(void **state)
{
    (void)state;
    /* An ECDSA signature presented for an RSA AK. */
    tpmgen *g = tpmgen_new(NULL);
    tpmgen *e = tpmgen_new(&(tpmgen_opts){ .ecc = true });
    tpm_blob_set(&g->ev.quotes[0].sig, e->ev.quotes[0].sig.p, e->ev.quotes[0].sig.len);
    expect_fail(g, "tpm.signature.algorithm", false);
    tpmgen_free(e);
    tpmgen_free(g);
}

/* ---- extraData -------------------------------------------------------------------- */

static void test_wrong_nonce(void **state)
{
    (void)state;
    tpmgen *g = tpmgen_new(NULL);
    uint8_t other[32];
    memcpy(other, g->nonce, sizeof other);
    other[31] ^= 1;
    cachet_verify_result *r = run(g, other, sizeof other, true, NULL);
    ev_assert_fail(r, "tpm.quote.nonce");
    ev_assert_only_failures(r, "tpm.quote.nonce");
    /* Authentic, but not fresh. */
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    assert_string_equal(ev_claim_str(r, "freshness"), "mismatch");
    cachet_verify_result_free(r);
    /* A prefix of extraData is not a match. */
    r = run(g, g->nonce, 16, true, NULL);
    ev_assert_fail(r, "tpm.quote.nonce");
    cachet_verify_result_free(r);
    /* Without --nonce, freshness is reported as not checked. */
    r = run(g, NULL, 0, true, NULL);
    ev_assert_na(r, "tpm.quote.nonce");
    assert_string_equal(ev_claim_str(r, "freshness"), "not-checked");
    cachet_verify_result_free(r);
    tpmgen_free(g);
}

/* ---- PCRs ------------------------------------------------------------------------- */

static void test_pcr_digest_mismatch(void **state)
{
    (void)state;
    tpmgen *g = tpmgen_new(NULL);
    uint8_t bogus[32];
    memset(bogus, 0x5a, sizeof bogus);
    tpmgen_quote(g, g->nonce, sizeof g->nonce, 0xffffff, bogus, sizeof bogus);
    expect_fail(g, "tpm.pcrs.digest", false);
    tpmgen_free(g);
}

static void test_pcr_value_changed(void **state)
{
    (void)state;
    tpmgen *g = tpmgen_new(NULL);
    tpm_pcr_bank *b = (tpm_pcr_bank *)tpm_pcrs_find(&g->ev.pcrs, TPM2_ALG_SHA256);
    b->v[3][0] ^= 0x80; /* a PCR without events: only the digest notices */
    cachet_verify_result *r = run_ok(g);
    ev_assert_fail(r, "tpm.pcrs.digest");
    ev_assert_only_failures(r, "tpm.pcrs.digest");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);
    tpmgen_free(g);
}

static void test_selection_mismatch(void **state)
{
    (void)state;
    tpmgen *g = tpmgen_new(NULL);
    /* The quote covers PCRs 0-7; values for 0-23 are offered. */
    tpmgen_quote(g, g->nonce, sizeof g->nonce, 0xff, NULL, 0);
    expect_fail(g, "tpm.pcrs.selection", false);
    tpmgen_free(g);
}

static void test_eventlog_does_not_replay(void **state)
{
    (void)state;
    tpmgen *g = tpmgen_new(NULL);
    /* Another log, same shape, different events on PCR 15. */
    static const unsigned pcrs[] = { 15, 16 };
    static const char *const events[] = { "cachet-model sha256:2222", "cachet-runtime v2" };
    tpm_pcrs other;
    memset(&other, 0, sizeof other);
    tpm_blob_free(&g->ev.event_log);
    tpmgen_log(&g->ev.event_log, &other, pcrs, events, 2);
    cachet_verify_result *r = run_ok(g);
    ev_assert_fail(r, "tpm.eventlog.replay");
    ev_assert_only_failures(r, "tpm.eventlog.replay");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    /* No event is reported as vouched for by a log that does not replay. */
    const json_t *evs = tt_claim(r, "event_log", "events", NULL);
    size_t i;
    const json_t *e;
    json_array_foreach(evs, i, e)
        assert_false(json_is_true(json_object_get(e, "verified")));
    cachet_verify_result_free(r);
    tpmgen_free(g);
}

static void test_eventlog_malformed(void **state)
{
    (void)state;
    tpmgen *g = tpmgen_new(NULL);
    g->ev.event_log.len -= 3;
    expect_fail(g, "tpm.eventlog.structure", false);
    tpmgen_free(g);
}

static void test_no_eventlog(void **state)
{
    (void)state;
    tpmgen *g = tpmgen_new(&(tpmgen_opts){ .no_log = true });
    cachet_verify_result *r = run_ok(g);
    ev_assert_no_failures(r);
    ev_assert_na(r, "tpm.eventlog.replay");
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    cachet_verify_result_free(r);
    tpmgen_free(g);
}

/* ---- the AK --------------------------------------------------------------------------- */

static void test_unrestricted_ak(void **state)
{
    (void)state;
    tpmgen *g = tpmgen_new(&(tpmgen_opts){
        .ak_attributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                         TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                         TPMA_OBJECT_SIGN_ENCRYPT });
    expect_fail(g, "tpm.ak.attributes", false);
    tpmgen_free(g);
}

static void test_truncated_ak_public(void **state)
{
    (void)state;
    tpmgen *g = tpmgen_new(NULL);
    g->ev.ak_public.len -= 10;
    expect_fail(g, "tpm.ak.public", false);
    tpmgen_free(g);
}

static void test_ak_cert_for_another_key(void **state)
{
    (void)state;
    /* The certificate of another AK grafted onto this quote. */
    tpmgen *g = tpmgen_new(NULL);
    tpmgen *h = tpmgen_new(NULL);
    tpm_blob_set(&g->ev.ak_cert, h->ev.ak_cert.p, h->ev.ak_cert.len);
    tpm_blob_set(&g->ev.ak_chain[0], h->ev.ak_chain[0].p, h->ev.ak_chain[0].len);
    cachet_x509 *anchors[1] = { h->anchor };
    size_t len;
    char *b = tpmgen_bundle(g, &len);
    cachet_verify_result *r = tt_verify("tpm", (const uint8_t *)b, len, g->nonce, 32, anchors, 1,
                                        NULL, cachet_clock_now(NULL));
    ev_assert_fail(r, "tpm.ak.cert.key");
    ev_assert_pass(r, "tpm.ak.cert.chain");
    ev_assert_fail(r, "tpm.ak.trust");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);
    free(b);
    tpmgen_free(h);
    tpmgen_free(g);
}

static void test_no_or_wrong_anchor(void **state)
{
    (void)state;
    tpmgen *g = tpmgen_new(NULL);
    cachet_verify_result *r = run(g, g->nonce, sizeof g->nonce, false, NULL);
    ev_assert_fail(r, "tpm.ak.cert.chain");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);

    tpmgen *h = tpmgen_new(NULL);
    cachet_x509 *anchors[1] = { h->anchor };
    size_t len;
    char *b = tpmgen_bundle(g, &len);
    r = tt_verify("tpm", (const uint8_t *)b, len, g->nonce, 32, anchors, 1, NULL,
                  cachet_clock_now(NULL));
    ev_assert_fail(r, "tpm.ak.cert.chain");
    cachet_verify_result_free(r);
    free(b);

    /* Without the intermediate, in the bundle or as an endorsement. */
    tpm_blob_free(&g->ev.ak_chain[0]);
    g->ev.n_ak_chain = 0;
    expect_fail(g, "tpm.ak.cert.chain", false);
    size_t n;
    const uint8_t *der = testpki_der(g->ica, &n);
    cachet_endorsements *e = cachet_endorsements_new();
    assert_int_equal(cachet_endorsements_add_bytes(e, "ica.der", der, n), CACHET_OK);
    r = run(g, g->nonce, sizeof g->nonce, true, e);
    ev_assert_pass(r, "tpm.ak.cert.chain");
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
    tpmgen_free(h);
    tpmgen_free(g);
}

static void test_no_trust_mechanism(void **state)
{
    (void)state;
    tpmgen *g = tpmgen_new(NULL);
    tpm_blob_free(&g->ev.ak_cert);
    tpm_blob_free(&g->ev.ak_chain[0]);
    g->ev.n_ak_chain = 0;
    cachet_verify_result *r = run_ok(g);
    ev_assert_fail(r, "tpm.ak.trust");
    ev_assert_only_failures(r, "tpm.ak.trust");
    ev_assert_pass(r, "tpm.quote.signature");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    assert_string_equal(ev_claim_str(r, "ak_trust"), "none");
    cachet_verify_result_free(r);
    tpmgen_free(g);
}

/* ---- the bundle container -------------------------------------------------------------- */

static void expect_structure_fail(const char *text)
{
    cachet_verify_result *r = tt_verify("tpm", (const uint8_t *)text, strlen(text), NULL, 0,
                                        NULL, 0, NULL, cachet_clock_now(NULL));
    ev_assert_fail(r, "tpm.evidence.structure");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);
}

static void test_bundle_container(void **state)
{
    (void)state;
    tpmgen *g = tpmgen_new(NULL);
    size_t len;
    char *b = tpmgen_bundle(g, &len);
    json_t *j = json_loads(b, 0, NULL);
    assert_non_null(j);

    /* Every mutation of a valid bundle. */
    static const char *const edits[] = { "unknown", "format", "version", "quotes", "pcrs",
                                         "ak_public", "b64", "pcrindex", "pcrbank", "pcrhex",
                                         "activation" };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        json_t *c = json_deep_copy(j);
        const char *e = edits[i];
        if (!strcmp(e, "unknown"))
            json_object_set_new(c, "extra", json_string("x"));
        else if (!strcmp(e, "format"))
            json_object_set_new(c, "format", json_string("other"));
        else if (!strcmp(e, "version"))
            json_object_set_new(c, "version", json_integer(2));
        else if (!strcmp(e, "quotes"))
            json_object_set_new(c, "quotes", json_array());
        else if (!strcmp(e, "pcrs"))
            json_object_del(c, "pcrs");
        else if (!strcmp(e, "ak_public"))
            json_object_set_new(c, "ak_public", json_string("AAE="));
        else if (!strcmp(e, "b64"))
            json_object_set_new(c, "event_log", json_string("not base64!"));
        else if (!strcmp(e, "pcrindex"))
            json_object_set_new(json_object_get(json_object_get(c, "pcrs"), "sha256"), "24",
                                json_string("00"));
        else if (!strcmp(e, "pcrbank"))
            json_object_set_new(json_object_get(c, "pcrs"), "md5", json_object());
        else if (!strcmp(e, "pcrhex"))
            json_object_set_new(json_object_get(json_object_get(c, "pcrs"), "sha256"), "1",
                                json_string("abcd"));
        else if (!strcmp(e, "activation"))
            json_object_set_new(c, "activation",
                                json_pack("{s:s,s:s}", "credential_blob", "AAE=",
                                          "encrypted_secret", "AAE="));
        char *t = json_dumps(c, 0);
        expect_structure_fail(t);
        free(t);
        json_decref(c);
    }
    /* Duplicate keys and truncation. */
    expect_structure_fail("{\"format\":\"cachet-tpm-quote-bundle\",\"format\":\"cachet-tpm-quote-bundle\"}");
    b[len / 2] = 0;
    expect_structure_fail(b);
    json_decref(j);
    free(b);
    tpmgen_free(g);
}

/* ---- credential activation (generated EK) ------------------------------------------ */

/* An EK: a testpki RSA leaf with the EK certificate's EKU, and its public
 * area in the EK template's shape. */
static void add_ek(tpmgen *g, testpki_cert **ek_out, bool eku)
{
    static const uint8_t eku_ek[] = { 0x30, 0x07, 0x06, 0x05, 0x67, 0x81, 0x05, 0x08, 0x01 };
    testpki_ext ext = { .oid = "2.5.29.37", .value = eku_ek, .len = sizeof eku_ek };
    testpki_cert *ek = testpki_mint(&(testpki_cert_opts){ .cn = "Test EK", .key = TESTPKI_KEY_RSA,
                                                          .exts = eku ? &ext : NULL,
                                                          .n_exts = eku ? 1 : 0 },
                                    g->ica);
    assert_non_null(ek);
    cachet_pkey *k = NULL;
    cachet_x509 *x = testpki_x509(ek);
    assert_int_equal(cachet_x509_public_key(x, &k), CACHET_OK);
    uint8_t *spki;
    size_t spki_len;
    assert_int_equal(cachet_pkey_spki_der(k, &spki, &spki_len), CACHET_OK);
    /* The modulus: the last 256+5 bytes of an RSA-2048 SPKI are
     * 00 <n:256> 02 03 01 00 01 with e = 65537. */
    assert_true(spki_len > 261);
    TPMT_PUBLIC p;
    memset(&p, 0, sizeof p);
    p.type = TPM2_ALG_RSA;
    p.nameAlg = TPM2_ALG_SHA256;
    p.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                         TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_ADMINWITHPOLICY |
                         TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
    p.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES;
    p.parameters.rsaDetail.symmetric.keyBits.aes = 128;
    p.parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CFB;
    p.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
    p.parameters.rsaDetail.keyBits = 2048;
    p.unique.rsa.size = 256;
    memcpy(p.unique.rsa.buffer, spki + spki_len - 5 - 256, 256);
    uint8_t buf[sizeof(TPMT_PUBLIC)];
    size_t off = 0;
    assert_int_equal(Tss2_MU_TPMT_PUBLIC_Marshal(&p, buf, sizeof buf, &off), TSS2_RC_SUCCESS);
    tpm_blob_set(&g->ev.ek_public, buf, off);
    size_t n;
    const uint8_t *der = testpki_der(ek, &n);
    tpm_blob_set(&g->ev.ek_cert, der, n);
    free(spki);
    cachet_pkey_free(k);
    cachet_x509_free(x);
    *ek_out = ek;
}

static void make_activation(tpmgen *g)
{
    TPMT_PUBLIC ek, ak;
    uint8_t name[TPM_MAX_NAME];
    size_t nl;
    assert_int_equal(tpm_public_parse(g->ev.ek_public.p, g->ev.ek_public.len, &ek), CACHET_OK);
    assert_int_equal(tpm_public_parse(g->ev.ak_public.p, g->ev.ak_public.len, &ak), CACHET_OK);
    assert_int_equal(tpm_public_name(&ak, g->ev.ak_public.p, g->ev.ak_public.len, name, &nl),
                     CACHET_OK);
    assert_int_equal(tpm_make_credential(&ek, name, nl, g->nonce, 32, g->nonce, 32,
                                         &g->ev.cred_blob, &g->ev.enc_secret),
                     CACHET_OK);
}

static tpmgen *activation_bundle(testpki_cert **ek, bool eku)
{
    tpmgen *g = tpmgen_new(NULL);
    tpm_blob_free(&g->ev.ak_cert);
    add_ek(g, ek, eku);
    g->ev.n_ek_chain = g->ev.n_ak_chain;
    g->ev.ek_chain[0] = g->ev.ak_chain[0];
    g->ev.ak_chain[0] = (tpm_blob){ 0 };
    g->ev.n_ak_chain = 0;
    make_activation(g);
    return g;
}

static void test_activation(void **state)
{
    (void)state;
    testpki_cert *ek;
    tpmgen *g = activation_bundle(&ek, true);
    cachet_verify_result *r = run_ok(g);
    ev_assert_no_failures(r);
    ev_assert_pass(r, "tpm.ek.cert.chain");
    ev_assert_pass(r, "tpm.ek.cert.profile");
    ev_assert_pass(r, "tpm.ak.activation");
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    assert_string_equal(ev_claim_str(r, "ak_trust"), "credential-activation");
    cachet_verify_result_free(r);

    /* Deterministic: the same inputs give the same challenge. */
    tpm_blob b1 = g->ev.cred_blob, s1 = g->ev.enc_secret;
    g->ev.cred_blob = (tpm_blob){ 0 };
    g->ev.enc_secret = (tpm_blob){ 0 };
    make_activation(g);
    assert_int_equal(b1.len, g->ev.cred_blob.len);
    assert_memory_equal(b1.p, g->ev.cred_blob.p, b1.len);
    assert_memory_equal(s1.p, g->ev.enc_secret.p, s1.len);
    tpm_blob_free(&b1);
    tpm_blob_free(&s1);

    /* Without --nonce the record cannot be checked. */
    r = run(g, NULL, 0, true, NULL);
    ev_assert_fail(r, "tpm.ak.activation");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);

    /* A tampered record. */
    g->ev.cred_blob.p[g->ev.cred_blob.len - 1] ^= 1;
    expect_fail(g, "tpm.ak.activation", false);
    testpki_free(ek);
    tpmgen_free(g);
}

static void test_activation_wrong_nonce(void **state)
{
    (void)state;
    testpki_cert *ek;
    tpmgen *g = activation_bundle(&ek, true);
    uint8_t other[32];
    memset(other, 0x33, sizeof other);
    cachet_verify_result *r = run(g, other, sizeof other, true, NULL);
    ev_assert_fail(r, "tpm.ak.activation");
    ev_assert_fail(r, "tpm.quote.nonce");
    ev_assert_fail(r, "tpm.ak.activation.quote");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);
    testpki_free(ek);
    tpmgen_free(g);
}

static void test_activation_ek_cert_checks(void **state)
{
    (void)state;
    testpki_cert *ek;
    tpmgen *g = activation_bundle(&ek, false);
    /* No EKU naming an EK certificate: accepted with a warning. */
    cachet_verify_result *r = run_ok(g);
    ev_assert_na(r, "tpm.ek.cert.profile");
    ev_assert_verdict(r, CACHET_EV_WARNING, true);
    cachet_verify_result_free(r);
    /* The EK certificate of another key. */
    tpm_blob_set(&g->ev.ek_cert, g->ev.ak_cert.p ? g->ev.ak_cert.p : g->ev.ek_chain[0].p,
                 g->ev.ak_cert.p ? g->ev.ak_cert.len : g->ev.ek_chain[0].len);
    r = run_ok(g);
    ev_assert_fail(r, "tpm.ek.cert.key");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);
    testpki_free(ek);
    tpmgen_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_rsassa),
        cmocka_unit_test(test_valid_ecdsa),
        cmocka_unit_test(test_valid_rsapss),
        cmocka_unit_test(test_valid_sha384_signature),
        cmocka_unit_test(test_crl_affirming_and_revoked),
        cmocka_unit_test(test_wrong_magic),
        cmocka_unit_test(test_wrong_type),
        cmocka_unit_test(test_truncated_attest),
        cmocka_unit_test(test_trailing_attest),
        cmocka_unit_test(test_bad_signature),
        cmocka_unit_test(test_truncated_signature),
        cmocka_unit_test(test_sha1_signature_refused),
        cmocka_unit_test(test_scheme_key_mismatch),
        cmocka_unit_test(test_wrong_nonce),
        cmocka_unit_test(test_pcr_digest_mismatch),
        cmocka_unit_test(test_pcr_value_changed),
        cmocka_unit_test(test_selection_mismatch),
        cmocka_unit_test(test_eventlog_does_not_replay),
        cmocka_unit_test(test_eventlog_malformed),
        cmocka_unit_test(test_no_eventlog),
        cmocka_unit_test(test_unrestricted_ak),
        cmocka_unit_test(test_truncated_ak_public),
        cmocka_unit_test(test_ak_cert_for_another_key),
        cmocka_unit_test(test_no_or_wrong_anchor),
        cmocka_unit_test(test_no_trust_mechanism),
        cmocka_unit_test(test_bundle_container),
        cmocka_unit_test(test_activation),
        cmocka_unit_test(test_activation_wrong_nonce),
        cmocka_unit_test(test_activation_ek_cert_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
