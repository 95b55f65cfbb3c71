/* `cachet seal` and `cachet unseal` through the real binary: exit codes,
 * messages that name the problem, key creation, digest pinning. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sealtest.h"

static char *dir;

static int setup(void **state)
{
    (void)state;
    dir = tu_mkdtemp();
    uint8_t *data = st_pattern(3 * 4096 + 17, 77);
    char *in = tu_asprintf("%s/model.bin", dir);
    tu_write_file(in, data, 3 * 4096 + 17);
    free(in);
    free(data);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(dir);
    free(dir);
    return 0;
}

/* Run `cachet ARGS` in dir; stdout and stderr land in dir/stdout, dir/stderr. */
static int cachet(const char *args)
{
    return tu_system("cd '%s' && '%s' %s >stdout 2>stderr", dir, tu_cachet_exe(), args);
}

static char *slurp(const char *name)
{
    char *p = tu_asprintf("%s/%s", dir, name);
    size_t n = 0;
    char *s = (char *)tu_read_file(p, &n);
    free(p);
    return s;
}

static void assert_stderr_has(const char *needle)
{
    char *e = slurp("stderr");
    if (!strstr(e, needle))
        fail_msg("stderr lacks '%s': %s", needle, e);
    free(e);
}

static bool exists(const char *name)
{
    char *p = tu_asprintf("%s/%s", dir, name);
    bool r = st_exists(p);
    free(p);
    return r;
}

static bool same_files(const char *a, const char *b)
{
    return tu_system("cd '%s' && cmp -s '%s' '%s'", dir, a, b) == 0;
}

/* seal --new-key: a 0600 key; the digest seal prints is the one unseal
 * prints and accepts; the plaintext comes back 0600. */
static void test_new_key_roundtrip(void **state)
{
    (void)state;
    assert_int_equal(cachet("seal model.bin model.sealed --new-key model.key "
                            "--key-id default/model-key/llama --media-type application/vnd.gguf "
                            "--chunk-size 4K"), 0);
    char *digest = slurp("stdout");
    assert_int_equal(strlen(digest), 7 + 64 + 1);
    assert_memory_equal(digest, "sha256:", 7);
    char *key = tu_asprintf("%s/model.key", dir);
    struct stat st;
    assert_int_equal(stat(key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 32);

    digest[strlen(digest) - 1] = '\0';
    char *args = tu_asprintf("unseal model.sealed model.out --key model.key --expect-digest %s",
                             digest);
    assert_int_equal(cachet(args), 0);
    char *digest2 = slurp("stdout");
    assert_memory_equal(digest, digest2, 7 + 64);
    assert_true(same_files("model.bin", "model.out"));
    char *out = tu_asprintf("%s/model.out", dir);
    assert_int_equal(stat(out, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    /* The bare hex form is accepted too, and --check writes nothing. */
    free(args);
    args = tu_asprintf("unseal model.sealed --check --key model.key --expect-digest %s --threads 2",
                       digest + 7);
    assert_int_equal(cachet(args), 0);
    /* --info needs no key and shows the key id a server would ask for. */
    assert_int_equal(cachet("unseal model.sealed --info"), 0);
    char *info = slurp("stdout");
    assert_non_null(strstr(info, "default/model-key/llama"));
    assert_non_null(strstr(info, "authenticated:  no"));
    free(info);
    assert_int_equal(cachet("unseal model.sealed --info --key model.key"), 0);
    info = slurp("stdout");
    assert_non_null(strstr(info, digest));
    free(info);
    free(out);
    free(args);
    free(key);
    free(digest);
    free(digest2);
}

static void test_new_key_never_overwrites(void **state)
{
    (void)state;
    char *key = tu_asprintf("%s/existing.key", dir);
    tu_write_file(key, "0123456789abcdef0123456789abcdef", 32);
    assert_int_equal(cachet("seal model.bin x.sealed --new-key existing.key"), 2);
    assert_stderr_has("already exists");
    size_t n = 0;
    uint8_t *k = tu_read_file(key, &n);
    assert_memory_equal(k, "0123456789abcdef0123456789abcdef", 32);
    assert_false(exists("x.sealed"));
    free(k);
    free(key);
}

static void test_expect_digest_refuses_other_file(void **state)
{
    (void)state;
    assert_int_equal(cachet("seal model.bin a.sealed --new-key k --chunk-size 4096"), 0);
    char *da = slurp("stdout");
    assert_int_equal(cachet("seal model.bin b.sealed --key k --chunk-size 4096"), 0);
    da[strlen(da) - 1] = '\0';
    char *args = tu_asprintf("unseal b.sealed b.out --key k --expect-digest %s", da);
    assert_int_equal(cachet(args), 1);
    assert_stderr_has("content digest mismatch");
    assert_false(exists("b.out"));
    assert_int_equal(cachet("unseal b.sealed b.out --key k --expect-digest sha256:1234"), 2);
    free(args);
    free(da);
}

static void test_tampered_file(void **state)
{
    (void)state;
    assert_int_equal(cachet("seal model.bin t.sealed --new-key k --chunk-size 4K -q"), 0);
    char *p = tu_asprintf("%s/t.sealed", dir);
    st_flip_bit(p, 300 + 4096, 3); /* inside chunk 1 */
    assert_int_equal(cachet("unseal t.sealed t.out --key k"), 1);
    assert_stderr_has("chunk 1: authentication failed");
    assert_false(exists("t.out"));
    free(p);
}

static void test_wrong_key_and_truncation(void **state)
{
    (void)state;
    assert_int_equal(cachet("seal model.bin w.sealed --new-key k --chunk-size 4K"), 0);
    assert_int_equal(cachet("seal model.bin w2.sealed --new-key k2 --chunk-size 4K"), 0);
    assert_int_equal(cachet("unseal w.sealed w.out --key k2"), 1);
    assert_stderr_has("wrong key");
    assert_false(exists("w.out"));
    assert_int_equal(tu_system("cd '%s' && head -c 5000 w.sealed > cut.sealed", dir), 0);
    assert_int_equal(cachet("unseal cut.sealed w.out --key k"), 1);
    assert_stderr_has("truncated");
    assert_false(exists("w.out"));
    assert_int_equal(cachet("unseal model.bin w.out --key k"), 1);
    assert_stderr_has("not a cachet sealed file");
    assert_false(exists("w.out"));
}

static void test_usage_and_input_errors(void **state)
{
    (void)state;
    assert_int_equal(cachet("seal"), 2);
    assert_int_equal(cachet("seal model.bin"), 2);
    assert_int_equal(cachet("seal model.bin out --key a --new-key b"), 2);
    assert_stderr_has("exactly one of");
    assert_int_equal(cachet("seal model.bin out --new-key b --chunk-size 100"), 2);
    assert_int_equal(cachet("unseal x y"), 2);
    assert_stderr_has("--key");
    assert_int_equal(cachet("seal --help"), 0);
    /* A missing input is unusable input. */
    assert_int_equal(cachet("seal nope.bin out --new-key fresh.key"), 2);
    assert_stderr_has("nope.bin");
    assert_false(exists("fresh.key")); /* a key that sealed nothing is not kept */
    /* A key file of the wrong size is named as such. */
    char *bad = tu_asprintf("%s/bad.key", dir);
    tu_write_file(bad, "short", 5);
    assert_int_equal(cachet("seal model.bin out --key bad.key"), 2);
    assert_stderr_has("32 raw bytes");
    assert_false(exists("out"));
    free(bad);
}

static void test_hex_key_file(void **state)
{
    (void)state;
    char *key = tu_asprintf("%s/hex.key", dir);
    tu_write_file(key, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", 65);
    chmod(key, 0600);
    assert_int_equal(cachet("seal model.bin h.sealed --key hex.key --metadata '{\"a\":1}'"), 0);
    assert_int_equal(cachet("unseal h.sealed h.out --key hex.key --threads 1"), 0);
    assert_true(same_files("model.bin", "h.out"));
    assert_int_equal(cachet("unseal h.sealed h2.out --key hex.key --map-input"), 0);
    assert_true(same_files("model.bin", "h2.out"));
    char *e = slurp("stderr");
    assert_string_equal(e, ""); /* quiet when not on a terminal */
    free(e);
    free(key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_key_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_key_never_overwrites, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expect_digest_refuses_other_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampered_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_key_and_truncation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage_and_input_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hex_key_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
