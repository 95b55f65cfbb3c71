/* Real AWS Nitro vectors (../shared/vectors/nitro, MANIFEST.md §5): each gets
 * its manifest verdict at its pinned time with the built-in AWS root, and
 * negative cases are made from them by mutation, each rejected with the
 * failing check named.  Skipped with a message when the vectors are absent. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "cachet/clock.h"
#include "cachet/encoding.h"
#include "cachet/evidence.h"
#include "ev_assert.h"
#include "evidence/nitro/nitro.h"
#include "evidence/registry.h"

#define PROD "nitro/nsm_prod_2025-12-25/attestation_doc.cose"
#define PROD_AT "2025-12-25T13:15:37.578Z"
#define DEBUG_DOC "nitro/invalid_debug_enclave/attestation_doc_debug.cose"
#define DEBUG_AT "2025-12-25T08:20:46.577Z"
#define PROD_PCR0 "5cb702954321826d7939d6da829a940d787fcf32357beb8eae1ddf33c28c17d36f3ac3ba6828fdf7edeed02889702da6"
#define PROD_PCR1 "0343b056cd8485ca7890ddd833476d78460aed2aa161548e4e26bedf321726696257d623e8805f3f605946b3d8b0c6aa"
#define PROD_PCR2 "743ea12db9aba9440a8197f7ac9aeda43cfbb1587473ff7577415ac5be116bc026dfa836db6713930474d1aa0d06b049"
#define PROD_PCR4 "7b3574ad9b7e88ec8335e8ce967315fac77218441e97eea9795de704d7f2678d0b298ecda39b544c1689669f48cba5e8"

static int64_t at(const char *s)
{
    int64_t t = 0;
    assert_int_equal(cachet_time_parse_rfc3339(s, &t), CACHET_OK);
    return t;
}

static uint8_t *load(const char *rel, size_t *len)
{
    uint8_t *b = tu_read_vector(rel, len);
    if (!b) {
        print_message("# SKIP %s not found (set CACHET_VECTORS)\n", rel);
        skip();
    }
    return b;
}

static cachet_verify_result *verify(const uint8_t *buf, size_t len, int64_t t, const char *tee,
                                    const uint8_t *nonce, size_t nonce_len)
{
    cachet_verify_request req = {
        .evidence = buf, .evidence_len = len, .tee = tee, .time = t,
        .nonce = nonce, .nonce_len = nonce_len,
    };
    cachet_verify_result *r = NULL;
    assert_int_equal(cachet_evidence_verify(&req, &r), CACHET_OK);
    assert_non_null(r);
    assert_string_equal(r->tee, "nitro");
    return r;
}

static void test_prod_valid(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    size_t len;
    uint8_t *doc = load(PROD, &len);
    /* Recognised by content (no --tee) and verified at the pinned time. */
    cachet_verify_result *r = verify(doc, len, at(PROD_AT), NULL, NULL, 0);
    assert_true(r->auto_detected);
    ev_assert_verdict(r, CACHET_EV_AFFIRMING, true);
    ev_assert_no_failures(r);
    ev_assert_pass(r, "nitro.cbor.envelope");
    ev_assert_pass(r, "nitro.cose.structure");
    ev_assert_pass(r, "nitro.cose.alg");
    ev_assert_pass(r, "nitro.cbor.payload");
    ev_assert_pass(r, "nitro.payload.fields");
    ev_assert_pass(r, "nitro.cert.leaf");
    ev_assert_pass(r, "nitro.cabundle.root");
    ev_assert_pass(r, "nitro.cert.chain");
    ev_assert_na(r, "nitro.cert.revocation");
    ev_assert_pass(r, "nitro.cose.signature");
    ev_assert_pass(r, "nitro.timestamp");
    ev_assert_na(r, "nitro.nonce");
    ev_assert_pass(r, "nitro.debug");
    assert_string_equal(ev_claim_str(r, "measurement"), PROD_PCR0);
    assert_string_equal(ev_claim_str(r, "pcr0"), PROD_PCR0);
    assert_string_equal(ev_claim_str(r, "pcr1"), PROD_PCR1);
    assert_string_equal(ev_claim_str(r, "pcr2"), PROD_PCR2);
    assert_string_equal(ev_claim_str(r, "pcr4"), PROD_PCR4);
    assert_string_equal(ev_claim_str(r, "module_id"), "i-0827e799ec9232d44-enc019b55a68bd2ed4b");
    assert_string_equal(ev_claim_str(r, "digest"), "SHA384");
    assert_int_equal(json_integer_value(json_object_get(r->claims, "timestamp")), 1766668537578);
    assert_string_equal(ev_claim_str(r, "timestamp_utc"), "2025-12-25T13:15:37.578Z");
    assert_true(json_is_false(json_object_get(r->claims, "debug")));
    char zeros[129];
    memset(zeros, '0', 128);
    zeros[128] = '\0';
    assert_string_equal(ev_claim_str(r, "user_data"), zeros);
    assert_true(json_is_null(json_object_get(r->claims, "nonce")));
    assert_true(json_is_null(json_object_get(r->claims, "public_key")));
    assert_int_equal(json_object_size(json_object_get(r->claims, "pcrs")), 16);
    assert_string_equal(ev_claim_str(r, "freshness"), "not-checked");
    cachet_verify_result_free(r);
    free(doc);
}

static void test_debug_enclave(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    size_t len;
    uint8_t *doc = load(DEBUG_DOC, &len);
    cachet_verify_result *r = verify(doc, len, at(DEBUG_AT), "nitro", NULL, 0);
    /* Authentic, but a debug-mode enclave: contraindicated. */
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    ev_assert_only_failures(r, "nitro.debug");
    ev_assert_fail(r, "nitro.debug");
    ev_assert_pass(r, "nitro.cose.signature");
    ev_assert_pass(r, "nitro.cert.chain");
    assert_true(json_is_true(json_object_get(r->claims, "debug")));
    char zeros[97];
    memset(zeros, '0', 96);
    zeros[96] = '\0';
    assert_string_equal(ev_claim_str(r, "measurement"), zeros);
    cachet_verify_result_free(r);
    free(doc);
}

/* Outside the leaf's three hours (and today, when the intermediates have
 * expired too) the chain does not verify. */
static void test_prod_expired(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    size_t len;
    uint8_t *doc = load(PROD, &len);
    int64_t times[] = { at(PROD_AT) + 4 * 3600, at("2026-11-29T00:00:00Z") };
    for (size_t i = 0; i < 2; i++) {
        cachet_verify_result *r = verify(doc, len, times[i], "nitro", NULL, 0);
        ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
        ev_assert_only_failures(r, "nitro.cert.chain");
        ev_assert_fail(r, "nitro.cert.chain");
        cachet_verify_result_free(r);
    }
    /* Before the leaf existed: chain and timestamp both fail. */
    cachet_verify_result *r = verify(doc, len, at(PROD_AT) - 3600, "nitro", NULL, 0);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    ev_assert_only_failures(r, "nitro.cert.chain", "nitro.timestamp");
    ev_assert_fail(r, "nitro.timestamp");
    cachet_verify_result_free(r);
    free(doc);
}

/* A flipped payload byte (inside PCR3's zeros: the CBOR stays valid) breaks
 * only the COSE signature. */
static void test_prod_flipped_payload(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    size_t len;
    uint8_t *doc = load(PROD, &len);
    static const uint8_t pcr3[] = { 0x03, 0x58, 0x30 };
    size_t off = 0;
    for (size_t i = 0; i + sizeof pcr3 < len; i++)
        if (memcmp(doc + i, pcr3, sizeof pcr3) == 0) {
            off = i + sizeof pcr3 + 7;
            break;
        }
    assert_true(off > 0);
    doc[off] ^= 0x01;
    cachet_verify_result *r = verify(doc, len, at(PROD_AT), "nitro", NULL, 0);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    ev_assert_only_failures(r, "nitro.cose.signature");
    ev_assert_fail(r, "nitro.cose.signature");
    cachet_verify_result_free(r);

    /* And a flipped signature byte (the last byte of the document). */
    doc[off] ^= 0x01;
    doc[len - 1] ^= 0x80;
    r = verify(doc, len, at(PROD_AT), "nitro", NULL, 0);
    ev_assert_only_failures(r, "nitro.cose.signature");
    ev_assert_fail(r, "nitro.cose.signature");
    cachet_verify_result_free(r);
    free(doc);
}

/* cabundle[0] is compared with the pin, never trusted: a damaged root in
 * the bundle fails nitro.cabundle.root (and the signature over the changed
 * payload), while the chain still ends at the built-in root. */
static void test_prod_tampered_bundle_root(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    size_t len;
    uint8_t *doc = load(PROD, &len);
    static const char key[] = "\x68" "cabundle";
    size_t off = SIZE_MAX;
    for (size_t i = 0; i + 9 < len; i++)
        if (memcmp(doc + i, key, 9) == 0) {
            off = i;
            break;
        }
    assert_true(off != SIZE_MAX);
    /* 68 'cabundle' 84 59 LL LL <root DER>: change a byte in its signature. */
    size_t root = off + 9 + 1 + 3;
    size_t root_len = ((size_t)doc[off + 11] << 8) | doc[off + 12];
    assert_int_equal(root_len, 533);
    doc[root + root_len - 2] ^= 0x01;
    cachet_verify_result *r = verify(doc, len, at(PROD_AT), "nitro", NULL, 0);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    ev_assert_only_failures(r, "nitro.cabundle.root", "nitro.cose.signature");
    ev_assert_fail(r, "nitro.cabundle.root");
    ev_assert_pass(r, "nitro.cert.chain");
    cachet_verify_result_free(r);
    free(doc);
}

static void test_prod_truncated(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    size_t len;
    uint8_t *doc = load(PROD, &len);
    size_t cuts[] = { 1, 2, 6, 10, 100, 2000, len / 2, len - 97, len - 1 };
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        cachet_verify_result *r = verify(doc, cuts[i], at(PROD_AT), "nitro", NULL, 0);
        ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
        ev_assert_fail(r, "nitro.cbor.envelope");
        ev_assert_na(r, "nitro.cose.signature");
        cachet_verify_result_free(r);
    }
    free(doc);
}

/* --nonce: the real document carries none, so any nonce is a mismatch (the
 * evidence stays authentic: a content failure). */
static void test_prod_nonce(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    size_t len;
    uint8_t *doc = load(PROD, &len);
    static const uint8_t nonce[] = { 0xde, 0xad, 0xbe, 0xef };
    cachet_verify_result *r = verify(doc, len, at(PROD_AT), "nitro", nonce, sizeof nonce);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    ev_assert_only_failures(r, "nitro.nonce");
    ev_assert_fail(r, "nitro.nonce");
    assert_string_equal(ev_claim_str(r, "freshness"), "mismatch");
    cachet_verify_result_free(r);
    free(doc);
}

/* dstack's SCALE-wrapped copy (4-byte prefix, trailer) is not a document. */
static void test_prod_wrapped(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    size_t len;
    uint8_t *doc = load("nitro/nsm_prod_2025-12-25/nsm_response_with_prefix.bin", &len);
    assert_null(cachet_evidence_detect(doc, len));
    cachet_verify_result *r = verify(doc, len, at(PROD_AT), "nitro", NULL, 0);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    ev_assert_fail(r, "nitro.cbor.envelope");
    cachet_verify_result_free(r);
    free(doc);
}

/* The vectors' copy of the AWS root is the certificate cachet embeds. */
static void test_root_matches_vector(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    size_t len;
    uint8_t *pem = load("nitro/aws_root/AWS_NitroEnclaves_Root-G1.pem", &len);
    cachet_x509 *c = NULL;
    assert_int_equal(cachet_x509_parse(pem, len, &c), CACHET_OK);
    uint8_t a[CACHET_SHA256_LEN], b[CACHET_SHA256_LEN];
    assert_int_equal(cachet_x509_fingerprint(c, a), CACHET_OK);
    const cachet_x509 *builtin = nitro_root_builtin();
    assert_non_null(builtin);
    assert_int_equal(cachet_x509_fingerprint(builtin, b), CACHET_OK);
    assert_memory_equal(a, b, sizeof a);
    assert_memory_equal(a, nitro_root_g1_sha256, sizeof a);
    cachet_x509_free(c);
    free(pem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prod_valid),
        cmocka_unit_test(test_debug_enclave),
        cmocka_unit_test(test_prod_expired),
        cmocka_unit_test(test_prod_flipped_payload),
        cmocka_unit_test(test_prod_tampered_bundle_root),
        cmocka_unit_test(test_prod_truncated),
        cmocka_unit_test(test_prod_nonce),
        cmocka_unit_test(test_prod_wrapped),
        cmocka_unit_test(test_root_matches_vector),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
