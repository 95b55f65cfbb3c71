/* The runtime-data binding (protocols.md §1.7): JCS (RFC 8785), EC JWKs and
 * thumbprints, the worked vector's digests, and the shape check a verifier
 * applies to received runtime data. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "cachet/encoding.h"
#include "cachet/runtime_data.h"

static char *jcs_of(const char *json)
{
    json_error_t e;
    json_t *j = json_loads(json, JSON_DECODE_ANY, &e);
    assert_non_null(j);
    char *out = NULL;
    size_t len = 0;
    cachet_rc rc = cachet_jcs_dump(j, &out, &len);
    json_decref(j);
    if (rc != CACHET_OK)
        return NULL;
    assert_int_equal(strlen(out), len);
    return out;
}

static void expect_jcs(const char *in, const char *want)
{
    char *got = jcs_of(in);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_jcs(void **state)
{
    (void)state;
    expect_jcs("{ \"b\" : 1, \"a\" : [ true, false, null ] }", "{\"a\":[true,false,null],\"b\":1}");
    expect_jcs("{\"z\":{\"y\":\"\",\"x\":-9007199254740992}}",
               "{\"z\":{\"x\":-9007199254740992,\"y\":\"\"}}");
    /* escapes: only ", \\ and controls; '/' and non-ASCII stay as they are */
    expect_jcs("[\"a\\\"b\\\\c/d\\u0001\\u001f\\b\\t\\n\\f\\r\\u00e9\\u20ac\"]",
               "[\"a\\\"b\\\\c/d\\u0001\\u001f\\b\\t\\n\\f\\r\xc3\xa9\xe2\x82\xac\"]");
    /* RFC 8785 §3.2.3 sorting is by UTF-16 code units: U+1F600 (surrogates
     * D83D DE00) sorts before U+FB33 although its UTF-8 is larger */
    expect_jcs("{\"\\ufb33\":1,\"\\ud83d\\ude00\":2,\"\\u00e9\":3,\"a\":4}",
               "{\"a\":4,\"\xc3\xa9\":3,\"\xf0\x9f\x98\x80\":2,\"\xef\xac\xb3\":1}");
    /* refused: non-integers and integers beyond 2^53 */
    assert_null(jcs_of("[1.5]"));
    assert_null(jcs_of("[9007199254740993]"));
    /* deep nesting is refused */
    char deep[300];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    deep[200] = '\0';
    assert_null(jcs_of(deep));
}

/* protocols.md §1.7 worked vector. */
#define WV_X "sU37EPOu1uQ-DR9hQZG_sJ84ow-vVEAikfBZy2UArZs"
#define WV_Y "9FqGGqicK46mwf0-WPOxcJLqxgG0YfS8Q2hpIX8LjVQ"
#define WV_CPU                                                                                  \
    "cfc747e1b467f449572320ca768c8253afac66f6e3e86acda50ca967cf983772c577c524b582a194d6705dc55" \
    "7ea6b30"
#define WV_DEV                                                                                  \
    "3d6c4a5e46d45dd4cd6153197ef0d60e6cd3b7e87d5d4b49f847f094f0f9f88da37825f5c77d7b0230dda85c7" \
    "d453917"

static void test_worked_vector(void **state)
{
    (void)state;
    json_t *jwk = json_pack("{s:s,s:s,s:s,s:s}", "kty", "EC", "crv", "P-256", "x", WV_X, "y", WV_Y);
    cachet_pkey *k = NULL;
    assert_int_equal(cachet_jwk_to_pkey(jwk, &k), CACHET_OK);
    uint8_t nonce[32];
    for (int i = 0; i < 32; i++)
        nonce[i] = (uint8_t)i;
    char *text = cachet_runtime_data_nonce_text(nonce, sizeof nonce);
    assert_string_equal(text, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
    cachet_runtime_data_params p = {.nonce = text, .tee_pubkey = k};
    json_t *rd = NULL;
    assert_int_equal(cachet_runtime_data_build(&p, &rd), CACHET_OK);
    assert_int_equal(cachet_runtime_data_check(rd), CACHET_OK);
    const json_t *tk = json_object_get(rd, "tee-pubkey");
    assert_string_equal(json_string_value(json_object_get(tk, "x")), WV_X);
    assert_string_equal(json_string_value(json_object_get(tk, "y")), WV_Y);
    assert_string_equal(json_string_value(json_object_get(tk, "alg")), "ECDH-ES+A256KW");
    uint8_t d[48], rdata[64];
    char hex[129];
    assert_int_equal(cachet_runtime_data_digest(rd, d), CACHET_OK);
    cachet_hex_encode(d, 48, hex);
    assert_string_equal(hex, WV_CPU);
    assert_int_equal(cachet_runtime_data_report_data(rd, rdata), CACHET_OK);
    assert_memory_equal(rdata, d, 48);
    for (int i = 48; i < 64; i++)
        assert_int_equal(rdata[i], 0);
    assert_int_equal(cachet_runtime_data_device_digest(rd, d), CACHET_OK);
    cachet_hex_encode(d, 48, hex);
    assert_string_equal(hex, WV_DEV);
    /* sample's report_data in the document is the base64 of cpu_digest */
    assert_int_equal(cachet_runtime_data_digest(rd, d), CACHET_OK);
    char *b64 = cachet_base64_string(d, 48);
    assert_string_equal(b64, "z8dH4bRn9ElXIyDKdoyCU6+sZvbj6GrNpQypZ8+YN3LFd8UktYKhlNZwXcVX6msw");
    free(b64);
    /* additional evidence changes the CPU digest but not the device digest */
    p.additional_evidence = "{\"nvidia\":{}}";
    json_t *rd2 = NULL;
    assert_int_equal(cachet_runtime_data_build(&p, &rd2), CACHET_OK);
    uint8_t d2[48];
    assert_int_equal(cachet_runtime_data_digest(rd2, d2), CACHET_OK);
    assert_memory_not_equal(d2, rdata, 48);
    assert_int_equal(cachet_runtime_data_device_digest(rd2, d2), CACHET_OK);
    assert_int_equal(cachet_runtime_data_device_digest(rd, d), CACHET_OK);
    assert_memory_equal(d2, d, 48);
    json_decref(rd2);
    json_decref(rd);
    free(text);
    cachet_pkey_free(k);
    json_decref(jwk);
}

static void test_jwk(void **state)
{
    (void)state;
    cachet_pkey *k = NULL;
    assert_int_equal(cachet_pkey_generate_ec(CACHET_CURVE_P384, &k), CACHET_OK);
    json_t *j = NULL;
    assert_int_equal(cachet_jwk_from_pkey(k, NULL, &j), CACHET_OK);
    assert_string_equal(json_string_value(json_object_get(j, "crv")), "P-384");
    assert_null(json_object_get(j, "alg"));
    cachet_pkey *back = NULL;
    assert_int_equal(cachet_jwk_to_pkey(j, &back), CACHET_OK);
    uint8_t *a = NULL, *b = NULL;
    size_t al = 0, bl = 0;
    assert_int_equal(cachet_pkey_spki_der(k, &a, &al), CACHET_OK);
    assert_int_equal(cachet_pkey_spki_der(back, &b, &bl), CACHET_OK);
    assert_int_equal(al, bl);
    assert_memory_equal(a, b, al);
    cachet_pkey_free(back);
    back = NULL;
    uint8_t t1[32], t2[32];
    assert_int_equal(cachet_jwk_thumbprint(j, t1), CACHET_OK);
    json_object_set_new(j, "use", json_string("enc")); /* optional members do not count */
    assert_int_equal(cachet_jwk_thumbprint(j, t2), CACHET_OK);
    assert_memory_equal(t1, t2, 32);
    /* bad JWKs */
    json_object_set_new(j, "d", json_string("AAAA"));
    assert_int_not_equal(cachet_jwk_to_pkey(j, &back), CACHET_OK);
    json_object_del(j, "d");
    json_object_set_new(j, "x", json_string("AAAA")); /* wrong length */
    assert_int_not_equal(cachet_jwk_to_pkey(j, &back), CACHET_OK);
    json_object_set_new(j, "crv", json_string("secp256k1"));
    assert_int_not_equal(cachet_jwk_to_pkey(j, &back), CACHET_OK);
    json_object_set_new(j, "kty", json_string("OKP"));
    assert_int_not_equal(cachet_jwk_to_pkey(j, &back), CACHET_OK);
    /* a point off the curve */
    json_t *off = json_pack("{s:s,s:s,s:s,s:s}", "kty", "EC", "crv", "P-256", "x", WV_X, "y", WV_X);
    assert_int_not_equal(cachet_jwk_to_pkey(off, &back), CACHET_OK);
    json_decref(off);
    free(a);
    free(b);
    cachet_pkey_free(back);
    cachet_pkey_free(k);
    json_decref(j);
}

static void test_runtime_data_check(void **state)
{
    (void)state;
    const char *bad[] = {
        "[]",
        "{\"additional-evidence\":\"\"}",
        "{\"nonce\":\"\",\"additional-evidence\":\"\"}",
        "{\"nonce\":\"n\"}",
        "{\"nonce\":\"n\",\"additional-evidence\":\"\",\"extra\":1}",
        "{\"nonce\":\"n\",\"additional-evidence\":\"\",\"tee-pubkey\":{\"kty\":\"EC\"}}",
        "{\"nonce\":\"n\",\"additional-evidence\":\"\",\"user-data\":\"!!\"}",
        "{\"nonce\":5,\"additional-evidence\":\"\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_error_t e;
        json_t *j = json_loads(bad[i], 0, &e);
        assert_non_null(j);
        if (cachet_runtime_data_check(j) == CACHET_OK)
            fail_msg("accepted %s", bad[i]);
        json_decref(j);
    }
    uint8_t ud[5] = {1, 2, 3, 4, 5};
    cachet_runtime_data_params p = {.nonce = "abc", .user_data = ud, .user_data_len = sizeof ud};
    json_t *rd = NULL;
    assert_int_equal(cachet_runtime_data_build(&p, &rd), CACHET_OK);
    assert_int_equal(cachet_runtime_data_check(rd), CACHET_OK);
    assert_string_equal(json_string_value(json_object_get(rd, "user-data")), "AQIDBAU");
    assert_string_equal(json_string_value(json_object_get(rd, "additional-evidence")), "");
    json_decref(rd);
    cachet_runtime_data_params none = {0};
    assert_int_not_equal(cachet_runtime_data_build(&none, &rd), CACHET_OK);
    p.additional_evidence = "\xff\xfe"; /* not UTF-8 */
    assert_int_not_equal(cachet_runtime_data_build(&p, &rd), CACHET_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jcs),
        cmocka_unit_test(test_worked_vector),
        cmocka_unit_test(test_jwk),
        cmocka_unit_test(test_runtime_data_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
