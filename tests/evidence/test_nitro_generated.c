/* Generated Nitro documents (nitro_gen: a test PKI whose root is handed to
 * the family through ops->config): every check is exercised without real
 * vectors, and each negative names the check that must fail. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "cachet/evidence.h"
#include "ev_assert.h"
#include "evidence/nitro/nitro.h"
#include "evidence/registry.h"
#include "nitro_gen.h"

static nitrogen_pki *pki;

static int setup(void **state)
{
    (void)state;
    pki = nitrogen_pki_new(NITROGEN_T0);
    return pki ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    nitrogen_pki_free(pki);
    return 0;
}

typedef struct vreq {
    int64_t time;
    const uint8_t *nonce;
    size_t nonce_len;
    const cachet_endorsements *endorsements;
    cachet_x509 *const *anchors;
    size_t n_anchors;
    cachet_verify_cache *cache;
    const cachet_evidence_ops *ops; /* NULL: the test PKI's */
} vreq;

static cachet_verify_result *verify_doc(const uint8_t *doc, size_t len, const vreq *v)
{
    cachet_verify_request req = {
        .evidence = doc,
        .evidence_len = len,
        .time = v && v->time ? v->time : NITROGEN_T0,
        .nonce = v ? v->nonce : NULL,
        .nonce_len = v ? v->nonce_len : 0,
        .endorsements = v ? v->endorsements : NULL,
        .trust_anchors = v ? v->anchors : NULL,
        .n_trust_anchors = v ? v->n_anchors : 0,
        .cache = v ? v->cache : NULL,
    };
    cachet_verify_result *r = NULL;
    const cachet_evidence_ops *ops = v && v->ops ? v->ops : &pki->ops;
    assert_int_equal(cachet_evidence_verify_with(ops, &req, &r), CACHET_OK);
    assert_non_null(r);
    return r;
}

static cachet_verify_result *run(const nitrogen_doc *d, const vreq *v)
{
    size_t len = 0;
    uint8_t *doc = nitrogen_encode(d, &len);
    assert_non_null(doc);
    cachet_verify_result *r = verify_doc(doc, len, v);
    free(doc);
    return r;
}

/* ---- valid documents ------------------------------------------------------------ */

static void test_valid_default(void **state)
{
    (void)state;
    nitrogen_doc d;
    nitrogen_doc_default(&d, pki, NITROGEN_T0);
    cachet_verify_result *r = run(&d, NULL);
    ev_assert_verdict(r, CACHET_EV_AFFIRMING, true);
    ev_assert_no_failures(r);
    static const char *const passes[] = {
        "nitro.cbor.envelope", "nitro.cose.structure", "nitro.cose.alg", "nitro.cbor.payload",
        "nitro.payload.fields", "nitro.cert.leaf", "nitro.cabundle.root", "nitro.cert.chain",
        "nitro.cose.signature", "nitro.timestamp", "nitro.debug",
    };
    for (size_t i = 0; i < sizeof passes / sizeof passes[0]; i++)
        ev_assert_pass(r, passes[i]);
    ev_assert_na(r, "nitro.cert.revocation");
    ev_assert_na(r, "nitro.nonce");
    char pcr0[97];
    memset(pcr0, '0', 96);
    for (int i = 0; i < 96; i += 2)
        pcr0[i + 1] = '0', pcr0[i] = '1';
    pcr0[96] = '\0';
    assert_string_equal(ev_claim_str(r, "measurement"), pcr0);
    assert_string_equal(ev_claim_str(r, "module_id"), d.module_id);
    assert_string_equal(ev_claim_str(r, "timestamp_utc"), "2027-01-15T08:00:00.250Z");
    assert_non_null(ev_claim_str(r, "pcr8"));
    assert_null(json_object_get(r->claims, "pcr9"));
    assert_non_null(json_object_get(json_object_get(r->claims, "pcrs"), "15"));
    cachet_verify_result_free(r);
}

/* Every optional field set, tag 18, a definite-length map, the nonce given
 * and matched. */
static void test_valid_variants(void **state)
{
    (void)state;
    static const uint8_t nonce[32] = { 1, 2, 3, 4, 5 };
    static const uint8_t user[512] = { 9 };
    static const uint8_t pub[91] = { 0x30, 0x59 };
    for (int variant = 0; variant < 4; variant++) {
        nitrogen_doc d;
        nitrogen_doc_default(&d, pki, NITROGEN_T0);
        d.nonce = (nitrogen_bytes){ nonce, sizeof nonce };
        d.user_data = (nitrogen_bytes){ user, sizeof user };
        d.public_key = (nitrogen_bytes){ pub, sizeof pub };
        d.tagged = variant & 1;
        d.definite_map = variant & 2;
        vreq v = { .nonce = nonce, .nonce_len = sizeof nonce };
        cachet_verify_result *r = run(&d, &v);
        ev_assert_verdict(r, CACHET_EV_AFFIRMING, true);
        ev_assert_pass(r, "nitro.nonce");
        assert_string_equal(ev_claim_str(r, "freshness"), "nonce-matched");
        assert_int_equal(strlen(ev_claim_str(r, "user_data")), 1024);
        assert_int_equal(strlen(ev_claim_str(r, "public_key")), 182);
        assert_string_equal(ev_claim_str(r, "nonce"),
                            "0102030405000000000000000000000000000000000000000000000000000000");
        cachet_verify_result_free(r);
    }
}

/* Optional fields left out altogether (rather than null); an empty nonce. */
static void test_valid_absent_optional(void **state)
{
    (void)state;
    nitrogen_doc d;
    nitrogen_doc_default(&d, pki, NITROGEN_T0);
    d.omit_optional = true;
    d.user_data = (nitrogen_bytes){ NULL, 0 };
    cachet_verify_result *r = run(&d, NULL);
    ev_assert_verdict(r, CACHET_EV_AFFIRMING, true);
    assert_true(json_is_null(json_object_get(r->claims, "user_data")));
    cachet_verify_result_free(r);

    static const uint8_t empty[1] = { 0 };
    nitrogen_doc_default(&d, pki, NITROGEN_T0);
    d.nonce = (nitrogen_bytes){ empty, 0 };
    vreq v = { .nonce = empty, .nonce_len = 0 };
    r = run(&d, &v);
    ev_assert_verdict(r, CACHET_EV_AFFIRMING, true);
    ev_assert_pass(r, "nitro.nonce");
    cachet_verify_result_free(r);
}

/* ---- generated negatives ------------------------------------------------------------ */

static void test_flipped_payload_byte(void **state)
{
    (void)state;
    nitrogen_doc d;
    nitrogen_doc_default(&d, pki, NITROGEN_T0);
    size_t len;
    uint8_t *doc = nitrogen_encode(&d, &len);
    assert_non_null(doc);
    size_t off = nitrogen_find(doc, len, d.module_id, strlen(d.module_id));
    assert_true(off != SIZE_MAX);
    doc[off + 3] ^= 0x01; /* still ASCII: the CBOR stays valid */
    cachet_verify_result *r = verify_doc(doc, len, NULL);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    ev_assert_only_failures(r, "nitro.cose.signature");
    ev_assert_fail(r, "nitro.cose.signature");
    cachet_verify_result_free(r);
    free(doc);
}

/* The certificate field names a different (valid) leaf than the key that
 * signed. */
static void test_wrong_leaf(void **state)
{
    (void)state;
    testpki_cert *other = testpki_mint(
        &(testpki_cert_opts){ .cn = "i-0-enc1.r.test", .key = TESTPKI_KEY_P384,
                              .not_before = NITROGEN_T0 - 3600, .not_after = NITROGEN_T0 + 7200,
                              .no_akid = true, .sig_hash = CACHET_HASH_SHA384 },
        pki->instance);
    assert_non_null(other);
    nitrogen_doc d;
    nitrogen_doc_default(&d, pki, NITROGEN_T0);
    d.certificate = other;
    cachet_verify_result *r = run(&d, NULL);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    ev_assert_only_failures(r, "nitro.cose.signature");
    ev_assert_fail(r, "nitro.cose.signature");
    ev_assert_pass(r, "nitro.cert.chain");
    cachet_verify_result_free(r);

    /* A leaf that is a P-256 key cannot sign ES384. */
    testpki_cert *p256 = testpki_mint(
        &(testpki_cert_opts){ .cn = "p256", .key = TESTPKI_KEY_P256,
                              .not_before = NITROGEN_T0 - 3600, .not_after = NITROGEN_T0 + 7200,
                              .sig_hash = CACHET_HASH_SHA384 },
        pki->instance);
    assert_non_null(p256);
    d.certificate = p256;
    r = run(&d, NULL);
    ev_assert_fail(r, "nitro.cert.leaf");
    ev_assert_na(r, "nitro.cert.chain");
    ev_assert_na(r, "nitro.cose.signature");
    assert_false(r->verified);
    cachet_verify_result_free(r);

    /* A P-384 leaf without keyUsage (so without digitalSignature). */
    testpki_cert *noku = testpki_mint(
        &(testpki_cert_opts){ .cn = "noku", .key = TESTPKI_KEY_P384, .no_key_usage = true,
                              .not_before = NITROGEN_T0 - 3600, .not_after = NITROGEN_T0 + 7200,
                              .no_akid = true, .sig_hash = CACHET_HASH_SHA384 },
        pki->instance);
    assert_non_null(noku);
    d.certificate = noku;
    d.signer = noku;
    r = run(&d, NULL);
    ev_assert_fail(r, "nitro.cert.leaf");
    assert_false(r->verified);
    cachet_verify_result_free(r);
    testpki_free(noku);

    /* A CA certificate as the leaf. */
    d.certificate = pki->instance;
    d.signer = pki->instance;
    r = run(&d, NULL);
    ev_assert_fail(r, "nitro.cert.leaf");
    assert_false(r->verified);
    cachet_verify_result_free(r);
    testpki_free(other);
    testpki_free(p256);
}

/* A whole chain under another root: cabundle[0] is not the anchor and the
 * path does not reach it. */
static void test_substituted_root(void **state)
{
    (void)state;
    nitrogen_pki *evil = nitrogen_pki_new(NITROGEN_T0);
    assert_non_null(evil);
    nitrogen_doc d;
    nitrogen_doc_default(&d, evil, NITROGEN_T0);
    cachet_verify_result *r = run(&d, NULL);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    ev_assert_only_failures(r, "nitro.cabundle.root", "nitro.cert.chain");
    ev_assert_fail(r, "nitro.cabundle.root");
    ev_assert_fail(r, "nitro.cert.chain");
    cachet_verify_result_free(r);

    /* Even offered as --trust-anchor, the other root is not used. */
    vreq v = { .anchors = &evil->anchor, .n_anchors = 1 };
    r = run(&d, &v);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    ev_assert_fail(r, "nitro.cert.chain");
    ev_assert_na(r, "nitro.cert.trust_anchors");
    cachet_verify_result_free(r);

    /* The genuine root named in cabundle[0] of the other chain: the path
     * still does not reach the anchor. */
    d.cabundle[0] = pki->root;
    r = run(&d, NULL);
    ev_assert_only_failures(r, "nitro.cert.chain");
    ev_assert_pass(r, "nitro.cabundle.root");
    cachet_verify_result_free(r);

    /* The genuine chain with another root in cabundle[0]: cabundle[0] is
     * compared with the pin, never trusted, so only that check fails. */
    nitrogen_doc_default(&d, pki, NITROGEN_T0);
    d.cabundle[0] = evil->root;
    r = run(&d, NULL);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    ev_assert_only_failures(r, "nitro.cabundle.root");
    ev_assert_pass(r, "nitro.cert.chain");
    cachet_verify_result_free(r);

    /* A generated document against the built-in AWS root. */
    nitrogen_doc_default(&d, pki, NITROGEN_T0);
    vreq builtin = { .ops = &cachet_nitro_ops };
    r = run(&d, &builtin);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    ev_assert_only_failures(r, "nitro.cabundle.root", "nitro.cert.chain");
    cachet_verify_result_free(r);
    nitrogen_pki_free(evil);
}

static void test_expired(void **state)
{
    (void)state;
    nitrogen_doc d;
    nitrogen_doc_default(&d, pki, NITROGEN_T0);
    /* After the leaf's validity: the chain fails. */
    vreq late = { .time = NITROGEN_T0 + 3 * 3600 };
    cachet_verify_result *r = run(&d, &late);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    ev_assert_only_failures(r, "nitro.cert.chain");
    cachet_verify_result_free(r);
    /* After the intermediates' validity too. */
    vreq later = { .time = NITROGEN_T0 + 30 * 86400 };
    r = run(&d, &later);
    ev_assert_only_failures(r, "nitro.cert.chain");
    cachet_verify_result_free(r);
    /* Before the leaf: chain and timestamp (made after the time). */
    vreq early = { .time = NITROGEN_T0 - 2 * 3600 };
    r = run(&d, &early);
    ev_assert_only_failures(r, "nitro.cert.chain", "nitro.timestamp");
    ev_assert_fail(r, "nitro.timestamp");
    cachet_verify_result_free(r);
}

static void test_timestamp(void **state)
{
    (void)state;
    nitrogen_doc d;
    nitrogen_doc_default(&d, pki, NITROGEN_T0);
    /* Within the allowed clock skew of the verification time. */
    d.timestamp_ms = (uint64_t)(NITROGEN_T0 + 30) * 1000u;
    cachet_verify_result *r = run(&d, NULL);
    ev_assert_pass(r, "nitro.timestamp");
    ev_assert_verdict(r, CACHET_EV_AFFIRMING, true);
    cachet_verify_result_free(r);
    /* Beyond it. */
    d.timestamp_ms = (uint64_t)(NITROGEN_T0 + 120) * 1000u;
    r = run(&d, NULL);
    ev_assert_only_failures(r, "nitro.timestamp");
    assert_false(r->verified);
    cachet_verify_result_free(r);
    /* Made outside the leaf's validity (before it was issued). */
    d.timestamp_ms = (uint64_t)(NITROGEN_T0 - 2 * 3600) * 1000u;
    r = run(&d, NULL);
    ev_assert_only_failures(r, "nitro.timestamp");
    cachet_verify_result_free(r);
    /* Zero is refused by the field rules. */
    d.timestamp_ms = 0;
    r = run(&d, NULL);
    ev_assert_fail(r, "nitro.payload.fields");
    cachet_verify_result_free(r);
}

static void test_wrong_nonce(void **state)
{
    (void)state;
    static const uint8_t nonce[16] = { 0xAA, 0xBB };
    static const uint8_t other[16] = { 0xAA, 0xBC };
    nitrogen_doc d;
    nitrogen_doc_default(&d, pki, NITROGEN_T0);
    d.nonce = (nitrogen_bytes){ nonce, sizeof nonce };
    vreq v = { .nonce = other, .nonce_len = sizeof other };
    cachet_verify_result *r = run(&d, &v);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    ev_assert_only_failures(r, "nitro.nonce");
    assert_string_equal(ev_claim_str(r, "freshness"), "mismatch");
    cachet_verify_result_free(r);
    /* A prefix of the document's nonce is not a match. */
    vreq prefix = { .nonce = nonce, .nonce_len = 8 };
    r = run(&d, &prefix);
    ev_assert_only_failures(r, "nitro.nonce");
    cachet_verify_result_free(r);
    /* A nonce asked for, none in the document. */
    nitrogen_doc_default(&d, pki, NITROGEN_T0);
    vreq asked = { .nonce = nonce, .nonce_len = sizeof nonce };
    r = run(&d, &asked);
    ev_assert_only_failures(r, "nitro.nonce");
    cachet_verify_result_free(r);
}

/* Every truncation of a valid document fails the envelope check. */
static void test_truncated(void **state)
{
    (void)state;
    nitrogen_doc d;
    nitrogen_doc_default(&d, pki, NITROGEN_T0);
    size_t len;
    uint8_t *doc = nitrogen_encode(&d, &len);
    assert_non_null(doc);
    for (size_t cut = 0; cut < len; cut += (cut < 64 || len - cut < 128) ? 1 : 37) {
        uint8_t *copy = malloc(cut ? cut : 1); /* exact size: ASan sees over-reads */
        assert_non_null(copy);
        memcpy(copy, doc, cut);
        cachet_verify_result *r = verify_doc(copy, cut, NULL);
        if (r->status != CACHET_EV_CONTRAINDICATED || r->verified)
            fail_msg("truncation at %zu accepted", cut);
        ev_assert_fail(r, "nitro.cbor.envelope");
        cachet_verify_result_free(r);
        free(copy);
    }
    /* And a byte appended. */
    uint8_t *more = malloc(len + 1);
    assert_non_null(more);
    memcpy(more, doc, len);
    more[len] = 0x00;
    cachet_verify_result *r = verify_doc(more, len + 1, NULL);
    ev_assert_fail(r, "nitro.cbor.envelope");
    cachet_verify_result_free(r);
    free(more);
    free(doc);
}

static void test_duplicate_keys(void **state)
{
    (void)state;
    nitrogen_doc d;
    nitrogen_doc_default(&d, pki, NITROGEN_T0);
    d.duplicate_nonce = true;
    cachet_verify_result *r = run(&d, NULL);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    ev_assert_fail(r, "nitro.cbor.payload");
    ev_assert_na(r, "nitro.payload.fields");
    ev_assert_na(r, "nitro.cose.signature");
    cachet_verify_result_free(r);
    /* The same with a definite-length map. */
    d.definite_map = true;
    r = run(&d, NULL);
    ev_assert_fail(r, "nitro.cbor.payload");
    cachet_verify_result_free(r);
}

static void test_deep_nesting(void **state)
{
    (void)state;
    nitrogen_doc d;
    nitrogen_doc_default(&d, pki, NITROGEN_T0);
    d.nest_depth = 200;
    cachet_verify_result *r = run(&d, NULL);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    ev_assert_fail(r, "nitro.cbor.payload");
    cachet_verify_result_free(r);
    d.nest_depth = NITRO_CBOR_MAX_DEPTH; /* payload map + 4 arrays: one too deep */
    r = run(&d, NULL);
    ev_assert_fail(r, "nitro.cbor.payload");
    cachet_verify_result_free(r);
    /* Nesting within the limit reaches the field rules (user_data is not a
     * byte string). */
    d.nest_depth = 2;
    r = run(&d, NULL);
    ev_assert_pass(r, "nitro.cbor.payload");
    ev_assert_fail(r, "nitro.payload.fields");
    cachet_verify_result_free(r);
}

static void test_wrong_alg(void **state)
{
    (void)state;
    static const int64_t algs[] = { -7, -36, -37, 1, 0 };
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        nitrogen_doc d;
        nitrogen_doc_default(&d, pki, NITROGEN_T0);
        d.alg = algs[i];
        cachet_verify_result *r = run(&d, NULL);
        ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
        ev_assert_fail(r, "nitro.cose.alg");
        ev_assert_na(r, "nitro.cose.signature");
        cachet_verify_result_free(r);
    }
}

static void test_field_rules(void **state)
{
    (void)state;
    static const uint8_t big[NITRO_USER_DATA_MAX + 1];
    for (int c = 0; c < 8; c++) {
        nitrogen_doc d;
        nitrogen_doc_default(&d, pki, NITROGEN_T0);
        const char *want = "nitro.payload.fields";
        switch (c) {
        case 0: d.digest = "SHA256"; break;
        case 1: d.pcr_len = 32; break;
        case 2: d.unknown_field = true; break;
        case 3: d.module_id = ""; break;
        case 4: d.user_data = (nitrogen_bytes){ big, sizeof big }; break;
        case 5: d.n_pcrs = 2; break;                 /* PCR2 missing */
        case 6: d.n_cabundle = 0; break;             /* empty cabundle */
        case 7: d.nonempty_unprotected = true; want = "nitro.cose.structure"; break;
        }
        cachet_verify_result *r = run(&d, NULL);
        if (r->verified)
            fail_msg("case %d verified", c);
        ev_assert_fail(r, want);
        cachet_verify_result_free(r);
    }
}

static void test_debug_pcrs(void **state)
{
    (void)state;
    nitrogen_doc d;
    nitrogen_doc_default(&d, pki, NITROGEN_T0);
    memset(d.pcrs, 0, sizeof d.pcrs);
    memset(d.pcrs[4], 0x44, NITRO_PCR_LEN);
    cachet_verify_result *r = run(&d, NULL);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    ev_assert_only_failures(r, "nitro.debug");
    assert_true(json_is_true(json_object_get(r->claims, "debug")));
    cachet_verify_result_free(r);
    /* Only PCR0 zero is not debug mode. */
    nitrogen_doc_default(&d, pki, NITROGEN_T0);
    memset(d.pcrs[0], 0, NITRO_PCR_LEN);
    r = run(&d, NULL);
    ev_assert_pass(r, "nitro.debug");
    cachet_verify_result_free(r);
}

/* Revocation from CRL endorsements. */
static void test_crl(void **state)
{
    (void)state;
    nitrogen_doc d;
    nitrogen_doc_default(&d, pki, NITROGEN_T0);
    testpki_crl_opts ok_opts = { .this_update = NITROGEN_T0 - 3600,
                                 .next_update = NITROGEN_T0 + 86400,
                                 .sig_hash = CACHET_HASH_SHA384 };
    const testpki_cert *revoked[] = { pki->leaf };
    testpki_crl_opts rev_opts = ok_opts;
    rev_opts.revoked = revoked;
    rev_opts.n_revoked = 1;
    testpki_crl_opts old_opts = ok_opts;
    old_opts.this_update = NITROGEN_T0 - 7 * 86400;
    old_opts.next_update = NITROGEN_T0 - 86400;
    const testpki_crl_opts *cases[] = { &ok_opts, &rev_opts, &old_opts };
    for (int c = 0; c < 3; c++) {
        size_t crl_len = 0;
        uint8_t *crl = testpki_crl(pki->instance, cases[c], &crl_len);
        assert_non_null(crl);
        cachet_endorsements *e = cachet_endorsements_new();
        assert_non_null(e);
        assert_int_equal(cachet_endorsements_add_bytes(e, "instance.crl", crl, crl_len),
                         CACHET_OK);
        vreq v = { .endorsements = e };
        cachet_verify_result *r = run(&d, &v);
        if (c == 0) {
            ev_assert_pass(r, "nitro.cert.revocation");
            ev_assert_verdict(r, CACHET_EV_AFFIRMING, true);
        } else {
            ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
            ev_assert_only_failures(r, "nitro.cert.revocation");
        }
        cachet_verify_result_free(r);
        cachet_endorsements_free(e);
        free(crl);
    }
}

/* A verified path is remembered: the second document from the same leaf
 * skips the chain, but only inside the path's validity. */
static void test_chain_cache(void **state)
{
    (void)state;
    cachet_verify_cache *cache = cachet_verify_cache_new(16);
    assert_non_null(cache);
    nitrogen_doc d;
    nitrogen_doc_default(&d, pki, NITROGEN_T0);
    vreq v = { .cache = cache };
    cachet_verify_result *r = run(&d, &v);
    ev_assert_verdict(r, CACHET_EV_AFFIRMING, true);
    cachet_verify_result_free(r);
    assert_int_equal(cachet_verify_cache_hits(cache), 0);
    r = run(&d, &v);
    ev_assert_verdict(r, CACHET_EV_AFFIRMING, true);
    const cachet_check *c = cachet_checklog_find(r->checks, "nitro.cert.chain");
    assert_non_null(c);
    assert_non_null(strstr(c->detail, "cached"));
    cachet_verify_result_free(r);
    assert_int_equal(cachet_verify_cache_hits(cache), 1);
    /* Outside the leaf's validity the cache does not answer. */
    vreq late = { .cache = cache, .time = NITROGEN_T0 + 3 * 3600 };
    r = run(&d, &late);
    ev_assert_fail(r, "nitro.cert.chain");
    cachet_verify_result_free(r);
    /* A different (bad) signature on a cached path still fails. */
    d.signer = pki->instance;
    r = run(&d, &v);
    ev_assert_only_failures(r, "nitro.cose.signature");
    cachet_verify_result_free(r);
    cachet_verify_cache_free(cache);
}

static void test_registry(void **state)
{
    (void)state;
    assert_ptr_equal(cachet_evidence_find("nitro"), &cachet_nitro_ops);
    assert_ptr_equal(cachet_evidence_find("aws-nitro"), &cachet_nitro_ops);
    nitrogen_doc d;
    nitrogen_doc_default(&d, pki, NITROGEN_T0);
    for (int tagged = 0; tagged < 2; tagged++) {
        d.tagged = tagged;
        size_t len;
        uint8_t *doc = nitrogen_encode(&d, &len);
        assert_non_null(doc);
        assert_ptr_equal(cachet_evidence_detect(doc, len), &cachet_nitro_ops);
        free(doc);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_default),
        cmocka_unit_test(test_valid_variants),
        cmocka_unit_test(test_valid_absent_optional),
        cmocka_unit_test(test_flipped_payload_byte),
        cmocka_unit_test(test_wrong_leaf),
        cmocka_unit_test(test_substituted_root),
        cmocka_unit_test(test_expired),
        cmocka_unit_test(test_timestamp),
        cmocka_unit_test(test_wrong_nonce),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_wrong_alg),
        cmocka_unit_test(test_field_rules),
        cmocka_unit_test(test_debug_pcrs),
        cmocka_unit_test(test_crl),
        cmocka_unit_test(test_chain_cache),
        cmocka_unit_test(test_registry),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
