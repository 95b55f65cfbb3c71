/* Known-answer tests: SHA-2 (FIPS 180-4 examples), HMAC-SHA256 (RFC 4231),
 * HKDF-SHA256 (RFC 5869 appendix A, cases 1-3), and cachet_random. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "cachet/crypto.h"
#include "tc_hex.h"

#define ABC "abc"
#define TWO_BLOCK "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"

static void test_sha2_fips180(void **state)
{
    (void)state;
    uint8_t out[CACHET_HASH_MAX_LEN];
    assert_int_equal(cachet_sha256(ABC, 3, out), CACHET_OK);
    tc_assert_hex(out, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(cachet_sha256(TWO_BLOCK, strlen(TWO_BLOCK), out), CACHET_OK);
    tc_assert_hex(out, 32, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    assert_int_equal(cachet_sha256(NULL, 0, out), CACHET_OK);
    tc_assert_hex(out, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_int_equal(cachet_sha384(ABC, 3, out), CACHET_OK);
    tc_assert_hex(out, 48,
                  "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
                  "8086072ba1e7cc2358baeca134c825a7");
    assert_int_equal(cachet_sha512(ABC, 3, out), CACHET_OK);
    tc_assert_hex(out, 64,
                  "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                  "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
    assert_int_equal(cachet_hash_len(CACHET_HASH_SHA384), 48);
    assert_int_equal(cachet_hash_len((cachet_hash_alg)99), 0);
}

static void test_sha2_incremental(void **state)
{
    (void)state;
    static const cachet_hash_alg algs[] = {CACHET_HASH_SHA256, CACHET_HASH_SHA384,
                                           CACHET_HASH_SHA512};
    uint8_t msg[1000];
    tc_fill_seq(msg, sizeof msg, 7);
    for (size_t a = 0; a < 3; a++) {
        uint8_t one[CACHET_HASH_MAX_LEN], inc[CACHET_HASH_MAX_LEN];
        assert_int_equal(cachet_hash(algs[a], msg, sizeof msg, one), CACHET_OK);
        cachet_hash_ctx *h = cachet_hash_new(algs[a]);
        assert_non_null(h);
        /* Odd-sized pieces cross block boundaries. */
        for (size_t off = 0; off < sizeof msg; off += 37) {
            size_t n = sizeof msg - off < 37 ? sizeof msg - off : 37;
            assert_int_equal(cachet_hash_update(h, msg + off, n), CACHET_OK);
        }
        assert_int_equal(cachet_hash_update(h, NULL, 0), CACHET_OK);
        assert_int_equal(cachet_hash_final(h, inc), CACHET_OK);
        assert_memory_equal(one, inc, cachet_hash_len(algs[a]));
        /* Final is one-shot: further use is a state error. */
        assert_int_equal(cachet_rc_code(cachet_hash_update(h, msg, 1)), CACHET_E_STATE);
        assert_int_equal(cachet_rc_code(cachet_hash_final(h, inc)), CACHET_E_STATE);
        cachet_hash_free(h);
    }
    assert_null(cachet_hash_new((cachet_hash_alg)42));
    cachet_hash_free(NULL);
}

static void test_hash_bad_args(void **state)
{
    (void)state;
    uint8_t out[64];
    cachet_rc rc = cachet_hash((cachet_hash_alg)7, "x", 1, out);
    assert_int_equal(cachet_rc_subsys(rc), CACHET_SUB_CRYPTO);
    assert_int_equal(cachet_rc_code(rc), CACHET_E_INVALID_ARG);
    assert_int_equal(cachet_rc_code(cachet_sha256(NULL, 5, out)), CACHET_E_INVALID_ARG);
}

/* RFC 4231 §4.2, 4.3, 4.4, 4.7 (HMAC-SHA-256 column). */
static void test_hmac_rfc4231(void **state)
{
    (void)state;
    uint8_t key[131], data[50], out[32];
    memset(key, 0x0b, 20);
    assert_int_equal(cachet_hmac_sha256(key, 20, "Hi There", 8, out), CACHET_OK);
    tc_assert_hex(out, 32, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");

    const char *q = "what do ya want for nothing?";
    assert_int_equal(cachet_hmac_sha256("Jefe", 4, q, strlen(q), out), CACHET_OK);
    tc_assert_hex(out, 32, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

    memset(key, 0xaa, 20);
    memset(data, 0xdd, 50);
    assert_int_equal(cachet_hmac_sha256(key, 20, data, 50, out), CACHET_OK);
    tc_assert_hex(out, 32, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");

    /* Key longer than the block: hashed first. */
    memset(key, 0xaa, 131);
    const char *big = "Test Using Larger Than Block-Size Key - Hash Key First";
    assert_int_equal(cachet_hmac_sha256(key, 131, big, strlen(big), out), CACHET_OK);
    tc_assert_hex(out, 32, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");

    /* Empty key and message are legal. */
    assert_int_equal(cachet_hmac_sha256(NULL, 0, NULL, 0, out), CACHET_OK);
    tc_assert_hex(out, 32, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
    assert_int_equal(cachet_rc_code(cachet_hmac_sha256(NULL, 3, "x", 1, out)),
                     CACHET_E_INVALID_ARG);
}

/* RFC 5869 appendix A.1-A.3. */
static void test_hkdf_rfc5869(void **state)
{
    (void)state;
    uint8_t ikm[80], salt[80], info[80], okm[82];

    memset(ikm, 0x0b, 22);
    tc_fill_seq(salt, 13, 0x00);
    tc_fill_seq(info, 10, 0xf0);
    assert_int_equal(cachet_hkdf_sha256(salt, 13, ikm, 22, info, 10, okm, 42), CACHET_OK);
    tc_assert_hex(okm, 42,
                  "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
                  "34007208d5b887185865");

    tc_fill_seq(ikm, 80, 0x00);
    tc_fill_seq(salt, 80, 0x60);
    tc_fill_seq(info, 80, 0xb0);
    assert_int_equal(cachet_hkdf_sha256(salt, 80, ikm, 80, info, 80, okm, 82), CACHET_OK);
    tc_assert_hex(okm, 82,
                  "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
                  "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
                  "cc30c58179ec3e87c14c01d5c1f3434f1d87");

    memset(ikm, 0x0b, 22);
    assert_int_equal(cachet_hkdf_sha256(NULL, 0, ikm, 22, NULL, 0, okm, 42), CACHET_OK);
    tc_assert_hex(okm, 42,
                  "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
                  "9d201395faa4b61a96c8");
}

static void test_hkdf_limits(void **state)
{
    (void)state;
    uint8_t ikm[32] = {1}, out[255 * 32 + 1];
    assert_int_equal(cachet_hkdf_sha256(NULL, 0, ikm, 32, "i", 1, out, 255 * 32), CACHET_OK);
    assert_int_equal(cachet_rc_code(cachet_hkdf_sha256(NULL, 0, ikm, 32, "i", 1, out,
                                                       255 * 32 + 1)),
                     CACHET_E_RANGE);
    assert_int_equal(cachet_rc_code(cachet_hkdf_sha256(NULL, 0, ikm, 32, NULL, 0, out, 0)),
                     CACHET_E_RANGE);
    assert_int_equal(cachet_rc_code(cachet_hkdf_sha256(NULL, 4, ikm, 32, NULL, 0, out, 32)),
                     CACHET_E_INVALID_ARG);
    /* A prefix of a longer output equals the shorter output (T(1) || T(2) ...). */
    uint8_t a[100], b[40];
    assert_int_equal(cachet_hkdf_sha256("s", 1, ikm, 32, "ctx", 3, a, sizeof a), CACHET_OK);
    assert_int_equal(cachet_hkdf_sha256("s", 1, ikm, 32, "ctx", 3, b, sizeof b), CACHET_OK);
    assert_memory_equal(a, b, sizeof b);
    /* Different info → different key (domain separation). */
    assert_int_equal(cachet_hkdf_sha256("s", 1, ikm, 32, "ctY", 3, b, sizeof b), CACHET_OK);
    assert_memory_not_equal(a, b, sizeof b);
}

static void test_random(void **state)
{
    (void)state;
    uint8_t a[64] = {0}, b[64] = {0};
    assert_int_equal(cachet_random(a, sizeof a), CACHET_OK);
    assert_int_equal(cachet_random(b, sizeof b), CACHET_OK);
    assert_memory_not_equal(a, b, sizeof a);
    assert_false(tc_all_zero(a, sizeof a));
    assert_int_equal(cachet_random(NULL, 0), CACHET_OK);
    assert_int_equal(cachet_rc_code(cachet_random(NULL, 1)), CACHET_E_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha2_fips180),  cmocka_unit_test(test_sha2_incremental),
        cmocka_unit_test(test_hash_bad_args), cmocka_unit_test(test_hmac_rfc4231),
        cmocka_unit_test(test_hkdf_rfc5869),  cmocka_unit_test(test_hkdf_limits),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
