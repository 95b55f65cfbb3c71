/* Hex and base64: RFC 4648 §10 test vectors and strict rejection. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "cachet/encoding.h"

static const char *const rfc_plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
static const char *const rfc_b64[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};

static void test_base64_rfc4648_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < 7; i++) {
        const char *p = rfc_plain[i];
        char *enc = cachet_base64_string((const uint8_t *)p, strlen(p));
        assert_string_equal(enc, rfc_b64[i]);
        uint8_t *dec;
        size_t n;
        assert_int_equal(cachet_base64_decode(enc, strlen(enc), &dec, &n), CACHET_OK);
        assert_int_equal(n, strlen(p));
        assert_memory_equal(dec, p, n);
        free(dec);
        free(enc);
    }
}

static void test_base64url_unpadded(void **state)
{
    (void)state;
    const uint8_t bin[] = {0xfb, 0xff, 0xfe};
    char *s = cachet_base64url_string(bin, 3);
    assert_string_equal(s, "-__-");
    free(s);
    s = cachet_base64url_string((const uint8_t *)"fo", 2);
    assert_string_equal(s, "Zm8");
    uint8_t *dec;
    size_t n;
    assert_int_equal(cachet_base64url_decode("Zm8", 3, &dec, &n), CACHET_OK);
    assert_int_equal(n, 2);
    free(dec);
    assert_int_equal(cachet_base64url_decode("Zm8=", 4, &dec, &n), CACHET_OK); /* padding tolerated */
    free(dec);
    free(s);
}

static void test_base64_rejects(void **state)
{
    (void)state;
    uint8_t *dec = (uint8_t *)1;
    size_t n;
    const char *bad[] = {"Zm9v\n", "Zm9", "Z===", "Zm+v_", "Zh==", "A", "Zm9v===="};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_not_equal(cachet_base64_decode(bad[i], strlen(bad[i]), &dec, &n), CACHET_OK);
        assert_null(dec);
    }
    assert_int_not_equal(cachet_base64url_decode("Zm+v", 4, &dec, &n), CACHET_OK);
}

static void test_hex(void **state)
{
    (void)state;
    uint8_t out[4];
    size_t n;
    assert_int_equal(cachet_hex_decode("0xDEADbeef", out, sizeof out, &n), CACHET_OK);
    assert_int_equal(n, 4);
    char *s = cachet_hex_string(out, n);
    assert_string_equal(s, "deadbeef");
    free(s);
    assert_int_equal(cachet_rc_code(cachet_hex_decode("abc", out, 4, &n)), CACHET_E_FORMAT);
    assert_int_equal(cachet_rc_code(cachet_hex_decode("zz", out, 4, &n)), CACHET_E_FORMAT);
    assert_int_equal(cachet_rc_code(cachet_hex_decode("0011223344", out, 4, &n)), CACHET_E_LIMIT);
    assert_int_equal(cachet_hex_decode("", out, 4, &n), CACHET_OK);
    assert_int_equal(n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64_rfc4648_vectors),
        cmocka_unit_test(test_base64url_unpadded),
        cmocka_unit_test(test_base64_rejects),
        cmocka_unit_test(test_hex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
