/* `cachet attest --tee sample` → `cachet verify --trust-anchor KEY --nonce HEX`
 * through the real binary: nonce and key binding, key file creation,
 * tampering, wrong key, wrong nonce, and the usage errors. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"

#include <jansson.h>

#include "cachet/encoding.h"
#include "cachet/runtime_data.h"

#define NONCE "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define NONCE_B64 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

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

/* `cachet ARGS` in dir; *out / *err (when given) get its stdout / stderr. */
static int cachet_io(char **out, char **err, const char *args)
{
    return tu_run_cachet_in(dir, out, err, "%s", args);
}

static int cachet(const char *args) { return cachet_io(NULL, NULL, args); }

static char *path_of(const char *name) { return tu_asprintf("%s/%s", dir, name); }

static json_t *json_file(const char *name)
{
    char *p = path_of(name);
    json_error_t e;
    json_t *j = json_load_file(p, 0, &e);
    free(p);
    return j;
}

static void flip_byte(const char *name, size_t off)
{
    char *p = path_of(name);
    size_t len = 0;
    uint8_t *b = tu_read_file(p, &len);
    assert_true(off < len);
    b[off] ^= 0x01;
    tu_write_file(p, b, len);
    free(b);
    free(p);
}

static void test_attest_then_verify(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(cachet_io(&out, NULL,
                               "attest --tee sample --sample-key k.pem --nonce " NONCE " --out ev"),
                     0);
    char *kp = path_of("k.pem");
    struct stat st;
    assert_int_equal(stat(kp, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    free(kp);
    assert_non_null(strstr(out, "sources found"));
    assert_non_null(strstr(out, "using: sample"));
    assert_non_null(strstr(out, "NOT a TEE"));
    free(out);
    /* the runtime data written next to the evidence is what the report binds */
    json_t *rd = json_file("ev.runtime-data.json");
    assert_non_null(rd);
    assert_string_equal(json_string_value(json_object_get(rd, "nonce")), NONCE_B64);
    assert_int_equal(cachet_runtime_data_check(rd), CACHET_OK);

    assert_int_equal(tu_system("cd '%s' && '%s' verify --json --trust-anchor k.pem --nonce " NONCE
                               " ev > v.json 2>/dev/null",
                               dir, tu_cachet_exe()),
                     0);
    json_t *v = json_file("v.json");
    assert_non_null(v);
    assert_string_equal(json_string_value(json_object_get(v, "tee")), "sample");
    assert_true(json_is_true(json_object_get(v, "verified")));
    assert_string_equal(json_string_value(json_object_get(v, "status")), "warning");
    json_t *claims = json_object_get(v, "claims");
    assert_true(json_is_false(json_object_get(claims, "hardware")));
    assert_string_equal(json_string_value(json_object_get(claims, "freshness")), "nonce-matched");
    /* report_data = SHA-384(JCS(runtime data)) || 0^16 */
    uint8_t want[64];
    char hex[129];
    assert_int_equal(cachet_runtime_data_report_data(rd, want), CACHET_OK);
    cachet_hex_encode(want, sizeof want, hex);
    assert_string_equal(json_string_value(json_object_get(claims, "report_data")), hex);
    json_decref(v);
    json_decref(rd);

    /* --tee sample explicitly, and a second attest reuses the key */
    assert_int_equal(cachet("verify --tee sample --trust-anchor k.pem --nonce " NONCE " ev"), 0);
    assert_int_equal(cachet("attest --quiet --tee sample --sample-key k.pem --nonce " NONCE
                            " --out ev2"),
                     0);
    assert_int_equal(cachet("verify --trust-anchor k.pem --nonce " NONCE " ev2"), 0);
}

static void test_public_key_anchor(void **state)
{
    (void)state;
    assert_int_equal(cachet("attest --quiet --tee sample --sample-key k2.pem --nonce " NONCE
                            " --out ev"),
                     0);
    char *kp = path_of("k2.pem");
    size_t len = 0;
    uint8_t *pem = tu_read_file(kp, &len);
    cachet_pkey *k = NULL;
    assert_int_equal(cachet_pkey_parse_private(pem, len, &k), CACHET_OK);
    char *pub = NULL;
    assert_int_equal(cachet_pkey_public_pem(k, &pub), CACHET_OK);
    char *pp = path_of("k2.pub");
    tu_write_file(pp, pub, strlen(pub));
    assert_int_equal(cachet("verify --trust-anchor k2.pub --nonce " NONCE " ev"), 0);
    free(pp);
    free(pub);
    cachet_pkey_free(k);
    free(pem);
    free(kp);
}

static void test_rejections(void **state)
{
    (void)state;
    assert_int_equal(cachet("attest --quiet --tee sample --sample-key k.pem --nonce " NONCE
                            " --out ev"),
                     0);
    assert_int_equal(cachet("attest --quiet --tee sample --sample-key other.pem --nonce " NONCE
                            " --out other"),
                     0);
    /* wrong nonce, no anchor, another key */
    assert_int_equal(cachet("verify --trust-anchor k.pem --nonce 00ff ev"), 1);
    assert_int_equal(cachet("verify --nonce " NONCE " ev"), 1);
    assert_int_equal(cachet("verify --trust-anchor other.pem --nonce " NONCE " ev"), 1);
    /* tampered: measurement, runtime data, signature */
    assert_int_equal(tu_system("cd '%s' && cp ev t1 && cp ev t2 && cp ev t3", dir), 0);
    flip_byte("t1", 0x60);
    flip_byte("t2", 0xB0 + 5);
    flip_byte("t3", 0xB0 + 90);
    assert_int_equal(cachet("verify --trust-anchor k.pem --nonce " NONCE " t1"), 1);
    assert_int_equal(cachet("verify --trust-anchor k.pem --nonce " NONCE " t2"), 1);
    assert_int_equal(cachet("verify --trust-anchor k.pem --nonce " NONCE " t3"), 1);
    /* truncated */
    assert_int_equal(tu_system("cd '%s' && head -c 200 ev > t4", dir), 0);
    assert_int_equal(cachet("verify --tee sample --trust-anchor k.pem --nonce " NONCE " t4"), 1);
    /* a trust anchor that is neither a certificate nor a key */
    assert_int_equal(tu_system("cd '%s' && echo junk > junk.pem", dir), 0);
    assert_int_equal(cachet("verify --trust-anchor junk.pem --nonce " NONCE " ev"), 2);
}

static void test_key_binding(void **state)
{
    (void)state;
    /* a workload key (PEM private key: its public half is bound) and user data */
    cachet_pkey *wk = NULL;
    assert_int_equal(cachet_pkey_generate_ec(CACHET_CURVE_P256, &wk), CACHET_OK);
    char *pem = NULL;
    assert_int_equal(cachet_pkey_private_pem(wk, &pem), CACHET_OK);
    char *wp = path_of("workload.pem"), *up = path_of("ud.bin");
    tu_write_file(wp, pem, strlen(pem));
    tu_write_file(up, "hello", 5);
    assert_int_equal(cachet("attest --quiet --tee sample --sample-key k.pem --nonce " NONCE
                            " --pubkey workload.pem --user-data ud.bin --out ev"),
                     0);
    json_t *rd = json_file("ev.runtime-data.json");
    json_t *want = NULL;
    assert_int_equal(cachet_jwk_from_pkey(wk, "ECDH-ES+A256KW", &want), CACHET_OK);
    assert_true(json_equal(json_object_get(rd, "tee-pubkey"), want));
    assert_string_equal(json_string_value(json_object_get(rd, "user-data")), "aGVsbG8");
    assert_int_equal(tu_system("cd '%s' && '%s' verify --json --trust-anchor k.pem --nonce " NONCE
                               " ev > v.json 2>/dev/null",
                               dir, tu_cachet_exe()),
                     0);
    json_t *v = json_file("v.json");
    json_t *bound = json_object_get(json_object_get(json_object_get(v, "claims"),
                                                    "runtime_data_claims"),
                                    "tee-pubkey");
    assert_true(json_equal(bound, want));
    json_decref(v);
    json_decref(want);
    json_decref(rd);
    free(wp);
    free(up);
    free(pem);
    cachet_pkey_free(wk);
}

static void test_usage(void **state)
{
    (void)state;
    assert_int_equal(cachet("attest --tee sample --nonce " NONCE " --out ev"), 2); /* no key */
    assert_int_equal(cachet("attest --tee sample --sample-key k.pem --out ev"), 2); /* no nonce */
    assert_int_equal(cachet("attest --tee sample --sample-key k.pem --nonce zz --out ev"), 2);
    assert_int_equal(cachet("attest --tee sample --sample-key k.pem --nonce " NONCE), 2);
    assert_int_equal(cachet("attest --tee sgx --nonce " NONCE " --out ev"), 2);
    assert_int_equal(cachet("attest --source bogus --nonce " NONCE " --out ev"), 2);
    assert_int_equal(cachet("attest --tee snp --source tsm --nonce " NONCE " --out ev"), 2);
    assert_int_equal(cachet("attest --help"), 0);
    /* nothing to collect from: exit 1, saying so */
    char *err = NULL;
    assert_int_equal(cachet_io(NULL, &err,
                               "attest --tee snp --tsm-root /nonexistent --sev-guest /nonexistent "
                               "--no-gpu --nonce " NONCE " --out ev"),
                     1);
    assert_non_null(strstr(err, "no usable evidence source"));
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attest_then_verify),
        cmocka_unit_test(test_public_key_anchor),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_key_binding),
        cmocka_unit_test(test_usage),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
