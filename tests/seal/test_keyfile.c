/* Key files: raw and hex forms, wrong lengths refused, new keys 0600 and
 * never overwritten, keys in secure memory. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cachet/secmem.h"
#include "seal/seal_int.h"
#include "sealtest.h"

static char *dir;

static int setup(void **state)
{
    (void)state;
    dir = tu_mkdtemp();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(dir);
    free(dir);
    return 0;
}

static cachet_rc load_text(const char *name, const void *content, size_t len, cachet_seal_key **k)
{
    char *p = tu_asprintf("%s/%s", dir, name);
    tu_write_file(p, content, len);
    cachet_rc rc = cachet_seal_key_load(p, k);
    free(p);
    return rc;
}

static void test_raw_and_hex_agree(void **state)
{
    (void)state;
    uint8_t raw[32];
    for (int i = 0; i < 32; i++)
        raw[i] = (uint8_t)(0xc0 + i);
    const char *hex = "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf";
    cachet_seal_key *a = NULL, *b = NULL, *c = NULL;
    assert_seal_ok(load_text("raw", raw, 32, &a));
    assert_seal_ok(load_text("hex", hex, 64, &b));
    char *nl = tu_asprintf("%s\n", hex);
    assert_seal_ok(load_text("hexnl", nl, 65, &c));
    assert_memory_equal(a->bytes, raw, 32);
    assert_memory_equal(b->bytes, raw, 32);
    assert_memory_equal(c->bytes, raw, 32);
    assert_true(cachet_secure_size(a) >= sizeof *a); /* lives in secure memory */
    free(nl);
    cachet_seal_key_free(a);
    cachet_seal_key_free(b);
    cachet_seal_key_free(c);
}

static void test_wrong_lengths(void **state)
{
    (void)state;
    cachet_seal_key *k = NULL;
    uint8_t raw[40] = {0xff};
    assert_seal_rc(load_text("empty", "", 0, &k), FORMAT);
    assert_seal_rc(load_text("short", raw, 31, &k), FORMAT);
    assert_seal_rc(load_text("long", raw, 33, &k), FORMAT);
    assert_non_null(strstr(cachet_err_detail(), "32 raw bytes or 64 hex digits"));
    /* 32 hex digits is a 16-byte key: refused rather than used as ASCII. */
    assert_seal_rc(load_text("hex16", "00112233445566778899aabbccddeeff", 32, &k), FORMAT);
    assert_non_null(strstr(cachet_err_detail(), "16-byte key"));
    assert_seal_rc(load_text("hexbad",
                             "zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", 64, &k),
                   FORMAT);
    assert_seal_rc(load_text("hex2nl",
                             "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n\n",
                             66, &k), FORMAT);
    uint8_t big[5000] = {0};
    assert_seal_rc(load_text("big", big, sizeof big, &k), FORMAT);
    assert_null(k);
    char *missing = tu_asprintf("%s/missing", dir);
    assert_seal_rc(cachet_seal_key_load(missing, &k), NOT_FOUND);
    free(missing);
    assert_seal_rc(cachet_seal_key_from_bytes(raw, 16, &k), INVALID_ARG);
}

static void test_generate_and_save(void **state)
{
    (void)state;
    cachet_seal_key *k = NULL, *k2 = NULL, *back = NULL;
    assert_seal_ok(cachet_seal_key_generate(&k));
    assert_seal_ok(cachet_seal_key_generate(&k2));
    assert_memory_not_equal(k->bytes, k2->bytes, 32);
    char *p = tu_asprintf("%s/new.key", dir);
    mode_t old = umask(0); /* the key must be 0600 whatever the umask */
    assert_seal_ok(cachet_seal_key_save(k, p));
    umask(old);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 32);
    assert_seal_ok(cachet_seal_key_load(p, &back));
    assert_memory_equal(back->bytes, k->bytes, 32);
    /* Never overwrite an existing key. */
    assert_seal_rc(cachet_seal_key_save(k2, p), INVALID_ARG);
    assert_non_null(strstr(cachet_err_detail(), "already exists"));
    cachet_seal_key_free(back);
    assert_seal_ok(cachet_seal_key_load(p, &back));
    assert_memory_equal(back->bytes, k->bytes, 32);
    /* Nor write through a symlink. */
    char *link = tu_asprintf("%s/link.key", dir), *target = tu_asprintf("%s/target", dir);
    assert_int_equal(symlink(target, link), 0);
    assert_int_not_equal(cachet_seal_key_save(k, link), CACHET_OK);
    assert_false(st_exists(target));
    free(link);
    free(target);
    free(p);
    cachet_seal_key_free(k);
    cachet_seal_key_free(k2);
    cachet_seal_key_free(back);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_raw_and_hex_agree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_lengths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_generate_and_save, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
