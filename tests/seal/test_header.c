/* Header parsing, the STREAM nonce/AAD construction, and digest text. */
#include <stdlib.h>
#include <string.h>

#include "cachet/reader.h"
#include "seal/seal_int.h"
#include "sealtest.h"

static uint8_t *build(const cachet_seal_params *p, uint64_t len, size_t *n)
{
    uint8_t salt[CACHET_SEAL_SALT_LEN] = {1, 2, 3}, check[CACHET_SEAL_KEY_CHECK_LEN] = {4, 5, 6};
    uint8_t *h = NULL;
    assert_seal_ok(seal_header_build(p, ST_CHUNK, len, salt, check, &h, n));
    return h;
}

static void test_parse_built_header(void **state)
{
    (void)state;
    cachet_seal_params p = {.key_id = "default/model-key/llama", .media_type = "application/vnd.gguf",
                            .metadata = "meta", .metadata_len = 4};
    size_t n = 0;
    uint8_t *b = build(&p, 3 * ST_CHUNK + 1, &n);
    assert_int_equal(n, CACHET_SEAL_HEADER_FIXED + 23 + 20 + 4 + 16);
    cachet_seal_header h;
    assert_seal_ok(cachet_seal_header_parse(b, n, &h));
    assert_int_equal(h.version, 1);
    assert_int_equal(h.algorithm, 1);
    assert_int_equal(h.header_len, n);
    assert_int_equal(h.chunk_size, ST_CHUNK);
    assert_int_equal(h.plaintext_len, 3 * ST_CHUNK + 1);
    assert_int_equal(h.chunk_count, 4);
    assert_int_equal(h.sealed_size, n + 3 * ST_CHUNK + 1 + 4 * 16);
    assert_string_equal(h.key_id, "default/model-key/llama");
    assert_string_equal(h.media_type, "application/vnd.gguf");
    assert_int_equal(h.metadata_len, 4);
    assert_memory_equal(h.metadata, "meta", 4);
    assert_ptr_equal(h.tag, b + n - 16);
    assert_int_equal(h.salt[2], 3);
    assert_int_equal(h.key_check[2], 6);
    /* Bytes past the header (the chunks) do not matter to the parser. */
    uint8_t *longer = calloc(1, n + 100);
    memcpy(longer, b, n);
    assert_seal_ok(cachet_seal_header_parse(longer, n + 100, &h));
    free(longer);
    /* Every strict prefix is truncated (or, for a few bytes, still a magic prefix). */
    for (size_t k = 1; k < n; k++)
        assert_seal_rc(cachet_seal_header_parse(b, k, &h), TRUNCATED);
    free(b);
}

static void test_parse_minimal_header(void **state)
{
    (void)state;
    cachet_seal_params p = {0};
    size_t n = 0;
    uint8_t *b = build(&p, 0, &n);
    assert_int_equal(n, CACHET_SEAL_HEADER_FIXED + 16);
    cachet_seal_header h;
    assert_seal_ok(cachet_seal_header_parse(b, n, &h));
    assert_string_equal(h.key_id, "");
    assert_string_equal(h.media_type, "");
    assert_int_equal(h.metadata_len, 0);
    assert_int_equal(h.chunk_count, 1); /* the empty final chunk */
    assert_int_equal(h.sealed_size, n + 16);
    free(b);
}

static void test_parse_rejects(void **state)
{
    (void)state;
    cachet_seal_params p = {.key_id = "k"};
    size_t n = 0;
    uint8_t *b = build(&p, 10, &n);
    cachet_seal_header h;
    uint8_t *c = malloc(n);

    assert_seal_rc(cachet_seal_header_parse(b, 0, &h), TRUNCATED);
    assert_seal_rc(cachet_seal_header_parse((const uint8_t *)"PK\3\4", 4, &h), FORMAT);

    memcpy(c, b, n);
    c[CACHET_SEAL_HEADER_FIXED] = '\n'; /* control byte in the key id */
    assert_seal_rc(cachet_seal_header_parse(c, n, &h), FORMAT);

    memcpy(c, b, n);
    cachet_put_le16(c + SEAL_OFF_KEY_ID_LEN, 300);
    assert_seal_rc(cachet_seal_header_parse(c, n, &h), LIMIT);

    memcpy(c, b, n);
    cachet_put_le32(c + SEAL_OFF_METADATA_LEN, 70000);
    assert_seal_rc(cachet_seal_header_parse(c, n, &h), LIMIT);

    memcpy(c, b, n);
    cachet_put_le32(c + SEAL_OFF_METADATA_LEN, 5); /* parts no longer add up */
    assert_seal_rc(cachet_seal_header_parse(c, n, &h), FORMAT);

    memcpy(c, b, n);
    cachet_put_le32(c + SEAL_OFF_CHUNK_SIZE, CACHET_SEAL_MAX_CHUNK + 1);
    assert_seal_rc(cachet_seal_header_parse(c, n, &h), RANGE);

    memcpy(c, b, n);
    cachet_put_le64(c + SEAL_OFF_PLAINTEXT_LEN, CACHET_SEAL_MAX_PLAINTEXT + 1);
    assert_seal_rc(cachet_seal_header_parse(c, n, &h), LIMIT);

    memcpy(c, b, n);
    cachet_put_le16(c + SEAL_OFF_VERSION, 0);
    assert_seal_rc(cachet_seal_header_parse(c, n, &h), UNSUPPORTED);
    free(c);
    free(b);
}

static void test_build_rejects(void **state)
{
    (void)state;
    uint8_t salt[CACHET_SEAL_SALT_LEN] = {0}, check[CACHET_SEAL_KEY_CHECK_LEN] = {0};
    uint8_t *h = NULL;
    size_t n = 0;
    cachet_seal_params p = {.key_id = "has space"};
    assert_seal_rc(seal_header_build(&p, ST_CHUNK, 1, salt, check, &h, &n), INVALID_ARG);
    p = (cachet_seal_params){.media_type = "bad\x01"};
    assert_seal_rc(seal_header_build(&p, ST_CHUNK, 1, salt, check, &h, &n), INVALID_ARG);
    p = (cachet_seal_params){.metadata = "x", .metadata_len = CACHET_SEAL_METADATA_MAX + 1};
    assert_seal_rc(seal_header_build(&p, ST_CHUNK, 1, salt, check, &h, &n), INVALID_ARG);
    p = (cachet_seal_params){0};
    assert_seal_rc(seal_header_build(&p, 100, 1, salt, check, &h, &n), INVALID_ARG);
    assert_null(h);
}

static void test_chunk_count(void **state)
{
    (void)state;
    assert_int_equal(seal_chunk_count(0, 4096), 1);
    assert_int_equal(seal_chunk_count(1, 4096), 1);
    assert_int_equal(seal_chunk_count(4095, 4096), 1);
    assert_int_equal(seal_chunk_count(4096, 4096), 1);
    assert_int_equal(seal_chunk_count(4097, 4096), 2);
    assert_int_equal(seal_chunk_count(CACHET_SEAL_MAX_PLAINTEXT, CACHET_SEAL_MIN_CHUNK),
                     CACHET_SEAL_MAX_PLAINTEXT / CACHET_SEAL_MIN_CHUNK);
}

/* Nonces differ by index, final flag and kind; the AAD carries all three. */
static void test_nonce_and_aad(void **state)
{
    (void)state;
    uint8_t a[CACHET_GCM_IV_LEN], b[CACHET_GCM_IV_LEN], hn[CACHET_GCM_IV_LEN];
    seal_chunk_nonce(5, false, a);
    seal_chunk_nonce(5, true, b);
    assert_memory_not_equal(a, b, sizeof a);
    seal_chunk_nonce(6, false, b);
    assert_memory_not_equal(a, b, sizeof a);
    seal_header_nonce(hn);
    seal_chunk_nonce(0, false, a);
    assert_memory_not_equal(a, hn, sizeof a);
    assert_int_equal(b[CACHET_GCM_IV_LEN - 1], 6); /* index big-endian at the end */

    uint8_t hd[CACHET_SHA256_LEN];
    memset(hd, 0x5a, sizeof hd);
    uint8_t aad[SEAL_AAD_LEN];
    seal_chunk_aad(hd, 0x0102, true, aad);
    assert_memory_equal(aad, hd, sizeof hd);
    assert_int_equal(aad[32 + 6], 0x01);
    assert_int_equal(aad[32 + 7], 0x02);
    assert_int_equal(aad[40], 1);
}

/* STREAM's final flag: a chunk sealed as non-final does not open as the
 * final chunk (and vice versa), nor at another index or under another header. */
static void test_final_flag_and_position(void **state)
{
    (void)state;
    uint8_t key[CACHET_AES256_KEY_LEN] = {9};
    cachet_aead *a = cachet_aead_new(key);
    assert_non_null(a);
    uint8_t hd[CACHET_SHA256_LEN] = {1}, hd2[CACHET_SHA256_LEN] = {2};
    uint8_t msg[64], buf[64], tag[16];
    memset(msg, 'm', sizeof msg);

    memcpy(buf, msg, sizeof buf);
    assert_seal_ok(seal_chunk_encrypt(a, hd, 3, false, buf, sizeof buf, tag));
    uint8_t ct[64];
    memcpy(ct, buf, sizeof ct);
    assert_seal_rc(seal_chunk_decrypt(a, hd, 3, true, buf, sizeof buf, tag), AUTH);
    memcpy(buf, ct, sizeof buf);
    assert_seal_rc(seal_chunk_decrypt(a, hd, 4, false, buf, sizeof buf, tag), AUTH);
    memcpy(buf, ct, sizeof buf);
    assert_seal_rc(seal_chunk_decrypt(a, hd2, 3, false, buf, sizeof buf, tag), AUTH);
    memcpy(buf, ct, sizeof buf);
    assert_seal_ok(seal_chunk_decrypt(a, hd, 3, false, buf, sizeof buf, tag));
    assert_memory_equal(buf, msg, sizeof msg);
    cachet_aead_free(a);
}

/* The key schedule is deterministic, salt-separated, and the key check does
 * not depend on the salt. */
static void test_key_schedule(void **state)
{
    (void)state;
    cachet_seal_key *k1 = st_key(1), *k2 = st_key(2);
    uint8_t s1[CACHET_SEAL_SALT_LEN] = {1}, s2[CACHET_SEAL_SALT_LEN] = {2};
    uint8_t a[32], b[32];
    assert_seal_ok(seal_derive_file_key(k1, s1, a));
    assert_seal_ok(seal_derive_file_key(k1, s1, b));
    assert_memory_equal(a, b, 32);
    assert_seal_ok(seal_derive_file_key(k1, s2, b));
    assert_memory_not_equal(a, b, 32);
    assert_seal_ok(seal_derive_file_key(k2, s1, b));
    assert_memory_not_equal(a, b, 32);
    assert_seal_ok(seal_derive_key_check(k1, a));
    assert_seal_ok(seal_derive_key_check(k2, b));
    assert_memory_not_equal(a, b, 32);
    assert_seal_ok(seal_derive_file_key(k1, s1, b));
    assert_memory_not_equal(a, b, 32); /* check value is not the file key */
    cachet_seal_key_free(k1);
    cachet_seal_key_free(k2);
}

static void test_digest_text(void **state)
{
    (void)state;
    uint8_t d[CACHET_SEAL_DIGEST_LEN], e[CACHET_SEAL_DIGEST_LEN];
    for (size_t i = 0; i < sizeof d; i++)
        d[i] = (uint8_t)(i * 9);
    char s[CACHET_SEAL_DIGEST_STR_LEN];
    cachet_seal_digest_format(d, s);
    assert_int_equal(strlen(s), CACHET_SEAL_DIGEST_STR_LEN - 1);
    assert_memory_equal(s, "sha256:000912", 13);
    assert_seal_ok(cachet_seal_digest_parse(s, e));
    assert_memory_equal(d, e, sizeof d);
    assert_seal_ok(cachet_seal_digest_parse(s + 7, e));
    assert_memory_equal(d, e, sizeof d);
    assert_seal_rc(cachet_seal_digest_parse("sha256:00", e), FORMAT);
    assert_seal_rc(cachet_seal_digest_parse("sha384:00091b", e), FORMAT);
    s[20] = 'z';
    assert_seal_rc(cachet_seal_digest_parse(s, e), FORMAT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_built_header),
        cmocka_unit_test(test_parse_minimal_header),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_build_rejects),
        cmocka_unit_test(test_chunk_count),
        cmocka_unit_test(test_nonce_and_aad),
        cmocka_unit_test(test_final_flag_and_position),
        cmocka_unit_test(test_key_schedule),
        cmocka_unit_test(test_digest_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
