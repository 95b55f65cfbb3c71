/* EAR tokens: issue → verify round trip, JWKS, and every rejection:
 * tampered payload, wrong key, a key in the header (jwk, x5c, jku), alg
 * none / HS256 / ES384, expired, not yet valid, issued in the future,
 * wrong profile, malformed compact serialization. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"

#include "cachet/encoding.h"
#include "cachet/runtime_data.h"
#include "cachet/token.h"
#include "sample_fixture.h"

#define IAT 1767225600 /* 2026-01-01 */

static cachet_token_issuer *issuer;
static cachet_token_keys *keys;

static int setup(void **state)
{
    (void)state;
    if (cachet_token_issuer_generate(&issuer) != CACHET_OK ||
        cachet_token_keys_from_issuer(issuer, &keys) != CACHET_OK)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cachet_token_keys_free(keys);
    cachet_token_issuer_free(issuer);
    return 0;
}

static cachet_rc verify_at(const cachet_token_keys *k, const char *jwt, int64_t now,
                           json_t **claims)
{
    cachet_clock clk = cachet_clock_fixed(now);
    cachet_token_verify_opts o = {.clock = &clk};
    json_t *c = NULL;
    cachet_rc rc = cachet_token_verify(k, jwt, strlen(jwt), &o, &c);
    if (claims)
        *claims = c;
    else
        json_decref(c);
    return rc;
}

/* An EAR for a sample result (with a workload key) under an admitting policy. */
static char *issue_sample(bool with_policy, json_t **claims_out)
{
    sfx_opts o = {.with_pubkey = true};
    cachet_verify_result *r = sfx_result(&o, true);
    cachet_policy *p = with_policy ? sfx_policy("{\"id\":\"dev\",\"rules\":[{\"name\":\"dev\","
                                                "\"tee\":[\"sample\"],\"status\":[\"affirming\","
                                                "\"warning\"],\"measurement\":[\"" SFX_MEASUREMENT_HEX
                                                "\"]}]}")
                                   : NULL;
    cachet_appraisal *a = NULL;
    if (p)
        assert_true(sfx_admits(p, r, &a));
    cachet_ear_params ep = {.primary = r, .appraisal = a, .iat = IAT, .nonce = sfx_default_nonce,
                            .nonce_len = sizeof sfx_default_nonce};
    char *jwt = NULL;
    assert_int_equal(cachet_ear_issue(issuer, &ep, &jwt), CACHET_OK);
    if (claims_out)
        assert_int_equal(cachet_ear_claims(&ep, claims_out), CACHET_OK);
    cachet_appraisal_free(a);
    cachet_policy_free(p);
    cachet_verify_result_free(r);
    return jwt;
}

static void test_round_trip(void **state)
{
    (void)state;
    char *jwt = issue_sample(true, NULL);
    json_t *c = NULL;
    assert_int_equal(verify_at(keys, jwt, IAT + 10, &c), CACHET_OK);
    assert_string_equal(json_string_value(json_object_get(c, "eat_profile")), CACHET_EAR_PROFILE);
    assert_int_equal(json_integer_value(json_object_get(c, "iat")), IAT);
    assert_int_equal(json_integer_value(json_object_get(c, "exp")),
                     IAT + CACHET_TOKEN_DEFAULT_LIFETIME);
    assert_string_equal(json_string_value(json_object_get(c, "iss")), CACHET_EAR_ISSUER);
    const json_t *vid = json_object_get(c, "ear.verifier-id");
    assert_non_null(json_object_get(vid, "developer"));
    assert_non_null(json_object_get(vid, "build"));
    /* eat_nonce: base64url of the 32-byte nonce */
    char nb[64];
    cachet_base64url_encode(sfx_default_nonce, 32, nb);
    assert_string_equal(json_string_value(json_object_get(c, "eat_nonce")), nb);
    const json_t *cpu = json_object_get(json_object_get(c, "submods"), "cpu0");
    assert_non_null(cpu);
    /* sample evidence is at best a warning: the verifier flags it as software only */
    assert_string_equal(cachet_ear_submod_status(c, "cpu0"), "warning");
    const json_t *tv = json_object_get(cpu, "ear.trustworthiness-vector");
    assert_int_equal(json_integer_value(json_object_get(tv, "executables")), 2);
    assert_int_equal(json_integer_value(json_object_get(tv, "hardware")), 32);
    assert_string_equal(json_string_value(json_object_get(cpu, "ear.appraisal-policy-id")), "dev");
    const json_t *ann = json_object_get(cpu, "ear.veraison.annotated-evidence");
    const json_t *sample = json_object_get(ann, "sample");
    assert_non_null(sample);
    assert_true(json_is_false(json_object_get(sample, "hardware")));
    assert_string_equal(json_string_value(json_object_get(sample, "measurement")),
                        SFX_MEASUREMENT_HEX);
    /* the workload key, where the key broker looks for it, and as Veraison's akpub */
    const json_t *jwk = cachet_ear_tee_pubkey(c);
    assert_non_null(jwk);
    assert_string_equal(json_string_value(json_object_get(jwk, "kty")), "EC");
    assert_string_equal(json_string_value(json_object_get(jwk, "alg")), "ECDH-ES+A256KW");
    assert_non_null(json_object_get(json_object_get(cpu, "ear.veraison.key-attestation"), "akpub"));
    const json_t *ap = json_object_get(c, "cachet.appraisal");
    assert_string_equal(json_string_value(json_object_get(ap, "decision")), "admit");
    json_decref(c);
    free(jwt);
}

static void test_jwks_and_pem_keys(void **state)
{
    (void)state;
    char *jwt = issue_sample(false, NULL);
    char *jwks = NULL;
    assert_int_equal(cachet_token_issuer_jwks(issuer, &jwks), CACHET_OK);
    json_error_t e;
    json_t *doc = json_loads(jwks, 0, &e);
    const json_t *k0 = json_array_get(json_object_get(doc, "keys"), 0);
    assert_string_equal(json_string_value(json_object_get(k0, "kid")),
                        cachet_token_issuer_kid(issuer));
    assert_string_equal(json_string_value(json_object_get(k0, "alg")), "ES256");
    assert_null(json_object_get(k0, "d"));
    json_decref(doc);
    cachet_token_keys *jk = NULL;
    assert_int_equal(cachet_token_keys_from_jwks(jwks, strlen(jwks), &jk), CACHET_OK);
    assert_int_equal(verify_at(jk, jwt, IAT + 1, NULL), CACHET_OK);
    cachet_token_keys_free(jk);
    /* a JWKS with nothing usable */
    const char *rsa = "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}";
    assert_int_not_equal(cachet_token_keys_from_jwks(rsa, strlen(rsa), &jk), CACHET_OK);
    assert_int_not_equal(cachet_token_keys_from_jwks("[]", 2, &jk), CACHET_OK);
    free(jwks);
    free(jwt);
}

static void test_issuer_key_file(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = tu_asprintf("%s/issuer.pem", dir);
    cachet_token_issuer *a = NULL, *b = NULL;
    bool created = false;
    assert_int_not_equal(cachet_token_issuer_load(path, false, &a, &created), CACHET_OK);
    assert_int_equal(cachet_token_issuer_load(path, true, &a, &created), CACHET_OK);
    assert_true(created);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(cachet_token_issuer_load(path, true, &b, &created), CACHET_OK);
    assert_false(created);
    assert_string_equal(cachet_token_issuer_kid(a), cachet_token_issuer_kid(b));
    /* a PEM file pins the key for verification (private or public) */
    size_t len = 0;
    uint8_t *pem = tu_read_file(path, &len);
    cachet_token_keys *k = NULL;
    assert_int_equal(cachet_token_keys_from_pem(pem, len, &k), CACHET_OK);
    cachet_token_keys_free(k);
    free(pem);
    cachet_token_issuer_free(a);
    cachet_token_issuer_free(b);
    tu_rmtree(dir);
    free(path);
    free(dir);
}

/* ---- forging --------------------------------------------------------------------- */

static char *b64url_text(const char *s) { return cachet_base64url_string((const uint8_t *)s, strlen(s)); }

/* header.payload signed with key (ES256), or with sig_text as the third part. */
static char *forge(const char *header, const char *payload, const cachet_pkey *key,
                   const char *sig_text)
{
    char *h = b64url_text(header), *p = b64url_text(payload);
    char *signing = tu_asprintf("%s.%s", h, p);
    char *out;
    if (key) {
        uint8_t sig[64];
        assert_int_equal(cachet_ecdsa_sign_raw(key, CACHET_HASH_SHA256, signing, strlen(signing),
                                               sig, 32, CACHET_BIG_ENDIAN),
                         CACHET_OK);
        char *s = cachet_base64url_string(sig, sizeof sig);
        out = tu_asprintf("%s.%s", signing, s);
        free(s);
    } else {
        out = tu_asprintf("%s.%s", signing, sig_text);
    }
    free(h);
    free(p);
    free(signing);
    return out;
}

static char *payload_of(const char *jwt)
{
    const char *d1 = strchr(jwt, '.'), *d2 = strrchr(jwt, '.');
    uint8_t *raw = NULL;
    size_t n = 0;
    assert_int_equal(cachet_base64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &raw, &n), CACHET_OK);
    char *s = malloc(n + 1);
    memcpy(s, raw, n);
    s[n] = '\0';
    free(raw);
    return s;
}

static void expect_rejected(const char *jwt, uint32_t code, const char *words)
{
    cachet_rc rc = verify_at(keys, jwt, IAT + 10, NULL);
    if (rc == CACHET_OK)
        fail_msg("accepted a token that must be refused (%s)", words);
    if (cachet_rc_code(rc) != code)
        fail_msg("rc %s (%s), want code %u", cachet_rc_str(rc), cachet_err_detail(), code);
    if (words && !strstr(cachet_err_detail(), words))
        fail_msg("detail \"%s\" lacks \"%s\"", cachet_err_detail(), words);
}

static const cachet_pkey *issuer_key(void)
{
    /* the issuer's own key, through a PEM round trip of the fixture API */
    static cachet_pkey *k;
    if (!k) {
        char *dir = tu_mkdtemp();
        char *path = tu_asprintf("%s/k.pem", dir);
        cachet_token_issuer *iss = NULL;
        assert_int_equal(cachet_token_issuer_load(path, true, &iss, NULL), CACHET_OK);
        size_t len = 0;
        uint8_t *pem = tu_read_file(path, &len);
        assert_int_equal(cachet_pkey_parse_private(pem, len, &k), CACHET_OK);
        /* re-pin the suite's keys and issuer to this key */
        cachet_token_keys_free(keys);
        cachet_token_issuer_free(issuer);
        issuer = iss;
        assert_int_equal(cachet_token_keys_from_issuer(issuer, &keys), CACHET_OK);
        free(pem);
        tu_rmtree(dir);
        free(path);
        free(dir);
    }
    return k;
}

static void test_tampered_payload(void **state)
{
    (void)state;
    char *jwt = issue_sample(true, NULL);
    char *payload = payload_of(jwt);
    char *evil = strstr(payload, "\"warning\"");
    assert_non_null(evil);
    memcpy(evil, "\"affirm\" ", 9); /* same length, different claims */
    char *p64 = b64url_text(payload);
    const char *d1 = strchr(jwt, '.'), *d2 = strrchr(jwt, '.');
    char *forged = tu_asprintf("%.*s.%s%s", (int)(d1 - jwt), jwt, p64, d2);
    expect_rejected(forged, CACHET_E_SIGNATURE, "signature");
    /* one flipped signature bit */
    char *flip = strdup(jwt);
    flip[strlen(flip) - 2] = flip[strlen(flip) - 2] == 'A' ? 'B' : 'A';
    expect_rejected(flip, CACHET_E_SIGNATURE, NULL);
    free(flip);
    free(forged);
    free(p64);
    free(payload);
    free(jwt);
}

static void test_wrong_key(void **state)
{
    (void)state;
    cachet_token_issuer *other = NULL;
    assert_int_equal(cachet_token_issuer_generate(&other), CACHET_OK);
    sfx_opts o = {0};
    cachet_verify_result *r = sfx_result(&o, true);
    cachet_ear_params ep = {.primary = r, .iat = IAT};
    char *jwt = NULL;
    assert_int_equal(cachet_ear_issue(other, &ep, &jwt), CACHET_OK);
    expect_rejected(jwt, CACHET_E_POLICY, "kid"); /* its kid is not pinned */
    /* the same without a kid: the signature does not verify with the pinned key */
    json_t *claims = NULL;
    assert_int_equal(cachet_ear_claims(&ep, &claims), CACHET_OK);
    char *payload = json_dumps(claims, JSON_COMPACT);
    cachet_pkey *ok = NULL;
    assert_int_equal(cachet_pkey_generate_ec(CACHET_CURVE_P256, &ok), CACHET_OK);
    char *nokid = forge("{\"alg\":\"ES256\",\"typ\":\"JWT\"}", payload, ok, NULL);
    expect_rejected(nokid, CACHET_E_SIGNATURE, "signature");
    /* and signed by the right key without a kid: accepted */
    char *right = forge("{\"alg\":\"ES256\"}", payload, issuer_key(), NULL);
    assert_int_equal(verify_at(keys, right, IAT + 1, NULL), CACHET_OK);
    free(right);
    free(nokid);
    cachet_pkey_free(ok);
    free(payload);
    json_decref(claims);
    free(jwt);
    cachet_verify_result_free(r);
    cachet_token_issuer_free(other);
}

static char *valid_payload(void)
{
    return tu_asprintf("{\"eat_profile\":\"%s\",\"iat\":%d,\"exp\":%d,\"submods\":{\"cpu0\":"
                       "{\"ear.status\":\"affirming\"}}}",
                       CACHET_EAR_PROFILE, IAT, IAT + 300);
}

static void test_header_keys_are_never_trusted(void **state)
{
    (void)state;
    const cachet_pkey *good = issuer_key();
    cachet_pkey *attacker = NULL;
    assert_int_equal(cachet_pkey_generate_ec(CACHET_CURVE_P256, &attacker), CACHET_OK);
    json_t *jwk = NULL;
    assert_int_equal(cachet_jwk_from_pkey(attacker, "ES256", &jwk), CACHET_OK);
    char *jwk_text = json_dumps(jwk, JSON_COMPACT);
    char *payload = valid_payload();
    char *h = tu_asprintf("{\"alg\":\"ES256\",\"jwk\":%s}", jwk_text);
    char *t = forge(h, payload, attacker, NULL);
    expect_rejected(t, CACHET_E_POLICY, "jwk");
    free(t);
    /* even when the pinned key signed it: a header key is refused outright */
    t = forge(h, payload, good, NULL);
    expect_rejected(t, CACHET_E_POLICY, "jwk");
    free(t);
    free(h);
    t = forge("{\"alg\":\"ES256\",\"x5c\":[\"MIIB\"]}", payload, attacker, NULL);
    expect_rejected(t, CACHET_E_POLICY, "x5c");
    free(t);
    t = forge("{\"alg\":\"ES256\",\"jku\":\"https://evil.example/jwks\"}", payload, attacker, NULL);
    expect_rejected(t, CACHET_E_POLICY, "jku");
    free(t);
    t = forge("{\"alg\":\"ES256\",\"x5u\":\"https://evil.example/c.pem\"}", payload, attacker, NULL);
    expect_rejected(t, CACHET_E_POLICY, "x5u");
    free(t);
    free(payload);
    free(jwk_text);
    json_decref(jwk);
    cachet_pkey_free(attacker);
}

static void test_algorithm_confusion(void **state)
{
    (void)state;
    char *payload = valid_payload();
    char *t = forge("{\"alg\":\"none\"}", payload, NULL, "");
    expect_rejected(t, CACHET_E_UNSUPPORTED, "ES256");
    free(t);
    t = forge("{\"alg\":\"None\",\"typ\":\"JWT\"}", payload, NULL, "");
    expect_rejected(t, CACHET_E_UNSUPPORTED, "ES256");
    free(t);
    /* HS256 keyed with the public key's bytes (the classic confusion) */
    uint8_t *spki = NULL;
    size_t spki_len = 0;
    assert_int_equal(cachet_pkey_spki_der(issuer_key(), &spki, &spki_len), CACHET_OK);
    char *h = b64url_text("{\"alg\":\"HS256\"}"), *p = b64url_text(payload);
    char *signing = tu_asprintf("%s.%s", h, p);
    uint8_t mac[32];
    assert_int_equal(cachet_hmac_sha256(spki, spki_len, signing, strlen(signing), mac), CACHET_OK);
    char *m = cachet_base64url_string(mac, sizeof mac);
    t = tu_asprintf("%s.%s", signing, m);
    expect_rejected(t, CACHET_E_UNSUPPORTED, "HS256");
    free(t);
    free(m);
    free(signing);
    free(h);
    free(p);
    free(spki);
    t = forge("{\"alg\":\"ES384\"}", payload, issuer_key(), NULL);
    expect_rejected(t, CACHET_E_UNSUPPORTED, "ES384");
    free(t);
    t = forge("{\"typ\":\"JWT\"}", payload, issuer_key(), NULL);
    expect_rejected(t, CACHET_E_UNSUPPORTED, "missing");
    free(t);
    t = forge("{\"alg\":\"ES256\",\"crit\":[\"exp\"]}", payload, issuer_key(), NULL);
    expect_rejected(t, CACHET_E_UNSUPPORTED, "critical");
    free(t);
    t = forge("{\"alg\":\"ES256\",\"typ\":\"JOSE\"}", payload, issuer_key(), NULL);
    expect_rejected(t, CACHET_E_UNSUPPORTED, "typ");
    free(t);
    free(payload);
}

static void test_time_window(void **state)
{
    (void)state;
    char *jwt = issue_sample(false, NULL);
    assert_int_equal(verify_at(keys, jwt, IAT, NULL), CACHET_OK);
    assert_int_equal(verify_at(keys, jwt, IAT + 299, NULL), CACHET_OK);
    cachet_rc rc = verify_at(keys, jwt, IAT + 300, NULL);
    assert_int_equal(cachet_rc_code(rc), CACHET_E_EXPIRED);
    assert_non_null(strstr(cachet_err_detail(), "expired"));
    rc = verify_at(keys, jwt, IAT - 5, NULL); /* issued in the future */
    assert_int_equal(cachet_rc_code(rc), CACHET_E_EXPIRED);
    /* leeway covers small skews only */
    cachet_clock clk = cachet_clock_fixed(IAT - 5);
    cachet_token_verify_opts o = {.clock = &clk, .leeway = 10};
    json_t *c = NULL;
    assert_int_equal(cachet_token_verify(keys, jwt, strlen(jwt), &o, &c), CACHET_OK);
    json_decref(c);
    o.leeway = 1000;
    assert_int_not_equal(cachet_token_verify(keys, jwt, strlen(jwt), &o, &c), CACHET_OK);
    free(jwt);
    /* nbf in the future */
    char *p = tu_asprintf("{\"eat_profile\":\"%s\",\"iat\":%d,\"nbf\":%d,\"exp\":%d,\"submods\":"
                          "{\"cpu0\":{}}}",
                          CACHET_EAR_PROFILE, IAT, IAT + 100, IAT + 300);
    char *t = forge("{\"alg\":\"ES256\"}", p, issuer_key(), NULL);
    expect_rejected(t, CACHET_E_EXPIRED, "not valid before");
    free(t);
    free(p);
    /* missing exp / iat, exp not after iat */
    const char *bad[] = {
        "{\"eat_profile\":\"" CACHET_EAR_PROFILE "\",\"iat\":1767225600,\"submods\":{\"a\":{}}}",
        "{\"eat_profile\":\"" CACHET_EAR_PROFILE "\",\"exp\":1767225900,\"submods\":{\"a\":{}}}",
        "{\"eat_profile\":\"" CACHET_EAR_PROFILE "\",\"iat\":1767225600,\"exp\":1767225600,"
        "\"submods\":{\"a\":{}}}",
        "{\"eat_profile\":\"" CACHET_EAR_PROFILE "\",\"iat\":\"1767225600\",\"exp\":1767225900,"
        "\"submods\":{\"a\":{}}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t = forge("{\"alg\":\"ES256\"}", bad[i], issuer_key(), NULL);
        expect_rejected(t, CACHET_E_FORMAT, NULL);
        free(t);
    }
}

static void test_profile_and_shape(void **state)
{
    (void)state;
    char *p = tu_asprintf("{\"eat_profile\":\"tag:github.com,2023:veraison/ear\",\"iat\":%d,"
                          "\"exp\":%d,\"submods\":{\"cpu0\":{}}}",
                          IAT, IAT + 300);
    char *t = forge("{\"alg\":\"ES256\"}", p, issuer_key(), NULL);
    expect_rejected(t, CACHET_E_POLICY, "eat_profile");
    /* unless the caller asks for that profile */
    cachet_clock clk = cachet_clock_fixed(IAT + 1);
    cachet_token_verify_opts o = {.clock = &clk, .profile = "tag:github.com,2023:veraison/ear"};
    json_t *c = NULL;
    assert_int_equal(cachet_token_verify(keys, t, strlen(t), &o, &c), CACHET_OK);
    json_decref(c);
    free(t);
    free(p);
    p = tu_asprintf("{\"eat_profile\":\"%s\",\"iat\":%d,\"exp\":%d,\"submods\":{}}",
                    CACHET_EAR_PROFILE, IAT, IAT + 300);
    t = forge("{\"alg\":\"ES256\"}", p, issuer_key(), NULL);
    expect_rejected(t, CACHET_E_FORMAT, "submods");
    free(t);
    free(p);
    char *payload = valid_payload();
    char *good = forge("{\"alg\":\"ES256\"}", payload, issuer_key(), NULL);
    assert_int_equal(verify_at(keys, good, IAT + 1, NULL), CACHET_OK);
    char *two = strdup(good);
    *strrchr(two, '.') = '\0';
    expect_rejected(two, CACHET_E_FORMAT, "three");
    char *four = tu_asprintf("%s.x", good);
    expect_rejected(four, CACHET_E_FORMAT, "three");
    char *padded = tu_asprintf("%s=", good);
    expect_rejected(padded, CACHET_E_FORMAT, "padded");
    char *short_sig = forge("{\"alg\":\"ES256\"}", payload, NULL, "AAAA");
    expect_rejected(short_sig, CACHET_E_FORMAT, "64 bytes");
    char *dup = forge("{\"alg\":\"ES256\",\"alg\":\"none\"}", payload, issuer_key(), NULL);
    expect_rejected(dup, CACHET_E_FORMAT, "header");
    char *notjson = forge("{\"alg\":\"ES256\"}", "[1,2]", issuer_key(), NULL);
    expect_rejected(notjson, CACHET_E_FORMAT, "payload");
    free(notjson);
    free(dup);
    free(short_sig);
    free(padded);
    free(four);
    free(two);
    free(good);
    free(payload);
}

static void test_trust_vector(void **state)
{
    (void)state;
    json_t *v = NULL;
    const char *st = NULL;
    /* unverified: contraindicated */
    size_t len = 0;
    uint8_t *ev = sfx_evidence(NULL, &len);
    cachet_verify_result *bad = sfx_verify(ev, len, NULL, 0, NULL);
    assert_int_equal(cachet_ear_appraise_result(bad, NULL, &v, &st), CACHET_OK);
    assert_string_equal(st, "contraindicated");
    assert_int_equal(json_integer_value(json_object_get(v, "hardware")), 99);
    json_decref(v);
    /* verified sample, no policy: warning; denied by a policy: contraindicated */
    cachet_verify_result *r = sfx_result(NULL, true);
    assert_int_equal(cachet_ear_appraise_result(r, NULL, &v, &st), CACHET_OK);
    assert_string_equal(st, "warning");
    json_decref(v);
    cachet_policy *p = sfx_policy("{}");
    cachet_appraisal *a = NULL;
    assert_false(sfx_admits(p, r, &a));
    assert_int_equal(cachet_ear_appraise_result(r, a, &v, &st), CACHET_OK);
    assert_string_equal(st, "contraindicated");
    assert_int_equal(json_integer_value(json_object_get(v, "executables")), 96);
    json_decref(v);
    cachet_appraisal_free(a);
    cachet_policy_free(p);
    /* tiers */
    json_t *t = json_pack("{s:i,s:i}", "a", 0, "b", 1);
    assert_string_equal(cachet_ear_status_of_vector(t), "none");
    json_object_set_new(t, "c", json_integer(2));
    assert_string_equal(cachet_ear_status_of_vector(t), "affirming");
    json_object_set_new(t, "d", json_integer(32));
    assert_string_equal(cachet_ear_status_of_vector(t), "warning");
    json_object_set_new(t, "e", json_integer(-97));
    assert_string_equal(cachet_ear_status_of_vector(t), "contraindicated");
    json_decref(t);
    cachet_verify_result_free(r);
    cachet_verify_result_free(bad);
    free(ev);
}

static void test_reading_both_spellings(void **state)
{
    (void)state;
    json_error_t e;
    json_t *c = json_loads("{\"submods\":{\"cpu0\":{\"ear_status\":\"affirming\","
                           "\"ear_veraison_annotated_evidence\":{\"runtime_data_claims\":"
                           "{\"tee-pubkey\":{\"kty\":\"EC\"}}}},\"gpu0\":{\"ear.status\":"
                           "\"warning\"}}}",
                           0, &e);
    assert_string_equal(cachet_ear_submod_status(c, "cpu0"), "affirming");
    assert_string_equal(cachet_ear_submod_status(c, "gpu0"), "warning");
    assert_null(cachet_ear_submod_status(c, "gpu1"));
    assert_non_null(cachet_ear_tee_pubkey(c));
    json_decref(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_jwks_and_pem_keys),
        cmocka_unit_test(test_issuer_key_file),
        cmocka_unit_test(test_tampered_payload),
        cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_header_keys_are_never_trusted),
        cmocka_unit_test(test_algorithm_confusion),
        cmocka_unit_test(test_time_window),
        cmocka_unit_test(test_profile_and_shape),
        cmocka_unit_test(test_trust_vector),
        cmocka_unit_test(test_reading_both_spellings),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
