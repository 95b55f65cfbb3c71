/* Key broker pieces: the JWE against the protocols.md §1.8 vector, the
 * request parsers, resource paths, the resource policy and the store
 * (KEK check, reopen, tampering, crash safety). */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cachet/encoding.h"
#include "cachet/kbs.h"
#include "cachet/runtime_data.h"
#include "cachet/secmem.h"
#include "testutil.h"

static uint8_t *b64u(const char *s, size_t *n)
{
    uint8_t *o;
    assert_int_equal(cachet_base64url_decode(s, strlen(s), &o, n), CACHET_OK);
    return o;
}

static cachet_pkey *vector_tee_key(void)
{
    size_t dn, xn, yn;
    uint8_t *d = b64u("HSw7Sllod4aVpLPC0eDwARIjNEVWZ3iJkAqrvM3e7_A", &dn);
    uint8_t *x = b64u("sU37EPOu1uQ-DR9hQZG_sJ84ow-vVEAikfBZy2UArZs", &xn);
    uint8_t *y = b64u("9FqGGqicK46mwf0-WPOxcJLqxgG0YfS8Q2hpIX8LjVQ", &yn);
    uint8_t xy[64];
    memcpy(xy, x, 32);
    memcpy(xy + 32, y, 32);
    cachet_pkey *k;
    assert_int_equal(cachet_pkey_from_ec_private(CACHET_CURVE_P256, d, dn, xy, 64, &k), CACHET_OK);
    free(d);
    free(x);
    free(y);
    return k;
}

#define V_HDR                                                                                  \
    "{\"alg\":\"ECDH-ES+A256KW\",\"enc\":\"A256GCM\",\"epk\":{\"crv\":\"P-256\",\"kty\":\"EC\"," \
    "\"x\":\"JKySO3IR3dHaWNGhusYF3JBgtNpVQshDLxvULEWVMnE\",\"y\":"                             \
    "\"aoGx5x0HA4429BAPsde8Wg5d8iy7JcyYwHkcBNPFrIY\"}}"

static void test_jwe_vector(void **state)
{
    (void)state;
    /* Concat KDF and key wrap from the vector's Z, KEK and CEK */
    uint8_t z[32], kek[32], want[32];
    size_t n;
    assert_int_equal(cachet_hex_decode(
        "f76feae75675ec2dca2e4d67c30037ca4200821950ac95fc794e027de0ad78a0", z, 32, &n), CACHET_OK);
    assert_int_equal(cachet_hex_decode(
        "7f926a7b34c5656eba9876bb1d936d1433796cdb878406d610ac71633839c0bc", want, 32, &n),
        CACHET_OK);
    assert_int_equal(cachet_concat_kdf_sha256(z, 32, "ECDH-ES+A256KW", kek), CACHET_OK);
    assert_memory_equal(kek, want, 32);
    uint8_t cek[32], wrapped[40];
    for (int i = 0; i < 32; i++)
        cek[i] = (uint8_t)(0x40 + i);
    size_t wl;
    assert_int_equal(cachet_aes256_kw_wrap(kek, cek, 32, wrapped, sizeof wrapped, &wl), CACHET_OK);
    char *ek = cachet_base64url_string(wrapped, wl);
    assert_string_equal(ek, "0ErEPW6RpqWG_NKFa0T4UJOzNLIoYhoWofoUJ_NfjjwWZiAArdRfhA");
    free(ek);
    /* the whole JWE decrypts with the TEE key */
    char *prot = cachet_base64url_string((const uint8_t *)V_HDR, strlen(V_HDR));
    json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s}", "protected", prot, "encrypted_key",
                          "0ErEPW6RpqWG_NKFa0T4UJOzNLIoYhoWofoUJ_NfjjwWZiAArdRfhA", "iv",
                          "oKGio6Slpqeoqaqr", "ciphertext", "tO5lV4efsVkcHDXT-tlThIpj", "tag",
                          "UIQYoeGssPv5glckyN0owA");
    char *jwe = json_dumps(j, JSON_COMPACT);
    cachet_pkey *tee = vector_tee_key();
    uint8_t *pt;
    size_t ptl;
    assert_int_equal(cachet_jwe_decrypt(tee, jwe, strlen(jwe), &pt, &ptl), CACHET_OK);
    assert_int_equal(ptl, 18);
    assert_memory_equal(pt, "cachet-test-secret", 18);
    cachet_secure_free(pt);
    /* a flipped tag is refused */
    json_object_set_new(j, "tag", json_string("UIQYoeGssPv5glckyN0owB"));
    free(jwe);
    jwe = json_dumps(j, JSON_COMPACT);
    assert_int_not_equal(cachet_jwe_decrypt(tee, jwe, strlen(jwe), &pt, &ptl), CACHET_OK);
    free(jwe);
    free(prot);
    json_decref(j);
    cachet_pkey_free(tee);
}

static void test_jwe_roundtrip_canonical_header(void **state)
{
    (void)state;
    cachet_pkey *k;
    assert_int_equal(cachet_pkey_generate_ec(CACHET_CURVE_P256, &k), CACHET_OK);
    json_t *jwk;
    assert_int_equal(cachet_jwk_from_pkey(k, "ECDH-ES+A256KW", &jwk), CACHET_OK);
    char *jwe;
    assert_int_equal(cachet_jwe_encrypt(jwk, (const uint8_t *)"hello model", 11, &jwe), CACHET_OK);
    json_t *j = json_loads(jwe, 0, NULL);
    assert_int_equal(json_object_size(j), 5);
    const char *p = json_string_value(json_object_get(j, "protected"));
    size_t hl;
    uint8_t *h = b64u(p, &hl);
    const char *prefix = "{\"alg\":\"ECDH-ES+A256KW\",\"enc\":\"A256GCM\",\"epk\":{\"crv\":\"P-256\","
                         "\"kty\":\"EC\",\"x\":\"";
    assert_true(hl > strlen(prefix) && memcmp(h, prefix, strlen(prefix)) == 0);
    assert_int_equal(h[hl - 1], '}');
    assert_null(memchr(h, ' ', hl));
    free(h);
    uint8_t *pt;
    size_t ptl;
    assert_int_equal(cachet_jwe_decrypt(k, jwe, strlen(jwe), &pt, &ptl), CACHET_OK);
    assert_int_equal(ptl, 11);
    assert_memory_equal(pt, "hello model", 11);
    cachet_secure_free(pt);
    /* another key cannot open it */
    cachet_pkey *k2;
    assert_int_equal(cachet_pkey_generate_ec(CACHET_CURVE_P256, &k2), CACHET_OK);
    assert_int_not_equal(cachet_jwe_decrypt(k2, jwe, strlen(jwe), &pt, &ptl), CACHET_OK);
    cachet_pkey_free(k2);
    json_decref(j);
    json_decref(jwk);
    free(jwe);
    cachet_pkey_free(k);
}

static void test_parse_request(void **state)
{
    (void)state;
    cachet_kbs_request r;
    const char *ok = "{\"version\":\"0.4.0\",\"tee\":\"tdx\",\"extra-params\":{\"supported-hash-"
                     "algorithms\":[\"sha384\"]}}";
    assert_int_equal(cachet_kbs_parse_request(ok, strlen(ok), &r), CACHET_OK);
    assert_string_equal(r.tee, "tdx");
    const char *bad[] = {
        "{\"version\":\"0.3.0\",\"tee\":\"tdx\"}",
        "{\"version\":\"0.4.0\",\"tee\":\"nope\"}",
        "{\"version\":\"0.4.0\"}",
        "{\"version\":\"0.4.0\",\"tee\":\"tdx\",\"x\":1}",
        "{\"version\":\"0.4.0\",\"tee\":\"tdx\",\"tee\":\"snp\"}",
        "[]",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_not_equal(cachet_kbs_parse_request(bad[i], strlen(bad[i]), &r), CACHET_OK);
}

static void test_parse_attestation(void **state)
{
    (void)state;
    cachet_kbs_attestation a;
    const char *ok = "{\"init-data\":null,\"runtime-data\":{\"nonce\":\"abc\",\"tee-pubkey\":{}},"
                     "\"tee-evidence\":{\"primary_evidence\":{\"evidence\":\"AAEC\"},"
                     "\"additional_evidence\":\"\"}}";
    assert_int_equal(cachet_kbs_parse_attestation(ok, strlen(ok), &a), CACHET_OK);
    assert_string_equal(a.nonce, "abc");
    assert_int_equal(a.evidence_len, 3);
    cachet_kbs_attestation_clear(&a);
    const char *bad[] = {
        "{\"runtime-data\":{\"nonce\":\"abc\"},\"tee-evidence\":{\"primary_evidence\":{\"evidence\":"
        "\"AAEC\"}}}",
        "{\"init-data\":{\"format\":\"toml\"},\"runtime-data\":{\"nonce\":\"a\",\"tee-pubkey\":{}},"
        "\"tee-evidence\":{\"primary_evidence\":{\"evidence\":\"AAEC\"}}}",
        "{\"runtime-data\":{\"nonce\":\"a\",\"tee-pubkey\":{}},\"tee-evidence\":{\"primary_evidence\":"
        "{\"evidence\":\"!!\"}}}",
        "{\"runtime-data\":{\"nonce\":\"a\",\"tee-pubkey\":{}},\"tee-evidence\":{\"primary_evidence\":"
        "{\"svn\":\"1\"}}}",
        "{\"runtime-data\":{\"nonce\":\"a\",\"tee-pubkey\":{},\"z\":1},\"tee-evidence\":{}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_not_equal(cachet_kbs_parse_attestation(bad[i], strlen(bad[i]), &a), CACHET_OK);
}

static void test_paths(void **state)
{
    (void)state;
    assert_true(cachet_kbs_resource_path_valid("default/model-key/llama"));
    assert_true(cachet_kbs_resource_path_valid("a/b/c.d"));
    assert_false(cachet_kbs_resource_path_valid("a/b"));
    assert_false(cachet_kbs_resource_path_valid("a/b/c/d"));
    assert_false(cachet_kbs_resource_path_valid("a/../c"));
    assert_false(cachet_kbs_resource_path_valid("a//c"));
    assert_false(cachet_kbs_resource_path_valid("/a/b/c"));
    assert_false(cachet_kbs_resource_path_valid("a/b/c/"));
    assert_false(cachet_kbs_resource_path_valid("a/b/c%2f"));
    assert_false(cachet_kbs_resource_path_valid(""));
}

static json_t *claims(const char *rule, const char *status)
{
    return json_pack("{s:{s:s,s:s},s:{s:{s:s}}}", "cachet.appraisal", "decision", "admit", "rule",
                     rule, "submods", "cpu0", "ear.status", status);
}

static void test_rpolicy(void **state)
{
    (void)state;
    cachet_kbs_rpolicy *p;
    char why[256];
    json_t *c = claims("dev", "affirming");
    assert_int_equal(cachet_kbs_rpolicy_parse(NULL, 0, &p), CACHET_OK);
    assert_false(cachet_kbs_rpolicy_allows(p, c, "a/b/c", why, sizeof why));
    cachet_kbs_rpolicy_free(p);
    const char *t = "{\"grants\":[{\"resources\":[\"a/keys/*\"],\"rules\":[\"dev\"]}]}";
    assert_int_equal(cachet_kbs_rpolicy_parse(t, strlen(t), &p), CACHET_OK);
    assert_true(cachet_kbs_rpolicy_allows(p, c, "a/keys/x", why, sizeof why));
    assert_false(cachet_kbs_rpolicy_allows(p, c, "a/other/x", why, sizeof why));
    json_t *w = claims("dev", "warning");
    assert_false(cachet_kbs_rpolicy_allows(p, w, "a/keys/x", why, sizeof why));
    json_t *o = claims("prod", "affirming");
    assert_false(cachet_kbs_rpolicy_allows(p, o, "a/keys/x", why, sizeof why));
    assert_non_null(strstr(why, "prod"));
    cachet_kbs_rpolicy_free(p);
    /* a claims condition (JSON pointer into the token) */
    t = "{\"grants\":[{\"resources\":[\"a/*/*\"],\"rules\":[\"dev\"],\"claims\":"
        "{\"/submods/cpu0/ear.status\":[\"affirming\"],\"/x~1y\":[1,2]}}]}";
    assert_int_equal(cachet_kbs_rpolicy_parse(t, strlen(t), &p), CACHET_OK);
    assert_false(cachet_kbs_rpolicy_allows(p, c, "a/keys/x", why, sizeof why));
    assert_non_null(strstr(why, "/x~1y"));
    json_object_set_new(c, "x/y", json_integer(2));
    assert_true(cachet_kbs_rpolicy_allows(p, c, "a/keys/x", why, sizeof why));
    json_object_set_new(c, "x/y", json_integer(3));
    assert_false(cachet_kbs_rpolicy_allows(p, c, "a/keys/x", why, sizeof why));
    cachet_kbs_rpolicy_free(p);
    const char *bad[] = {"{\"grants\":[{\"resources\":[\"a/*/*\"]}]}",
                         "{\"grants\":[{\"resources\":[\"x\"],\"rules\":[\"r\"],\"claims\":{\"x\":[1]}}]}",
                         "{\"grants\":[{\"resources\":[\"x\"],\"rules\":[\"r\"],\"claims\":{\"/x\":[]}}]}",
                         "{\"grant\":[]}",
                         "{\"grants\":[{\"resources\":[\"x\"],\"rules\":[\"r\"],\"status\":[\"ok\"]}]}",
                         "{\"version\":2}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_not_equal(cachet_kbs_rpolicy_parse(bad[i], strlen(bad[i]), &p), CACHET_OK);
    json_decref(c);
    json_decref(w);
    json_decref(o);
}

static void test_store_kek_and_reopen(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *db = tu_asprintf("%s/s.db", dir);
    uint8_t kek[32], bad[32];
    memset(kek, 7, 32);
    memset(bad, 8, 32);
    cachet_kbs_store *s;
    assert_int_equal(cachet_kbs_store_open(db, kek, &s), CACHET_OK);
    assert_int_equal(cachet_kbs_store_put(s, "r/t/a", (const uint8_t *)"alpha", 5), CACHET_OK);
    assert_int_equal(cachet_kbs_store_put(s, "r/t/a", (const uint8_t *)"alpha2", 6), CACHET_OK);
    assert_int_equal(cachet_kbs_store_put(s, "r/t/b", (const uint8_t *)"beta", 4), CACHET_OK);
    assert_int_not_equal(cachet_kbs_store_put(s, "r/t", (const uint8_t *)"x", 1), CACHET_OK);
    assert_int_equal(cachet_kbs_store_delete(s, "r/t/b"), CACHET_OK);
    assert_int_not_equal(cachet_kbs_store_delete(s, "r/t/b"), CACHET_OK);
    cachet_kbs_store_close(s);
    /* wrong KEK: unreadable */
    cachet_rc rc = cachet_kbs_store_open(db, bad, &s);
    assert_int_equal(cachet_rc_code(rc), CACHET_E_AUTH);
    assert_null(s);
    /* reopen */
    assert_int_equal(cachet_kbs_store_open(db, kek, &s), CACHET_OK);
    uint8_t *v;
    size_t n;
    assert_int_equal(cachet_kbs_store_get(s, "r/t/a", &v, &n), CACHET_OK);
    assert_int_equal(n, 6);
    assert_memory_equal(v, "alpha2", 6);
    cachet_secure_free(v);
    assert_int_equal(cachet_rc_code(cachet_kbs_store_get(s, "r/t/b", &v, &n)), CACHET_E_NOT_FOUND);
    json_t *l;
    assert_int_equal(cachet_kbs_store_list(s, &l), CACHET_OK);
    assert_int_equal(json_array_size(l), 1);
    json_decref(l);
    cachet_kbs_store_close(s);
    /* the secret is not in the file in clear; a moved record does not open */
    uint8_t *file;
    size_t fl;
    file = tu_read_file(db, &fl);
    assert_null(memmem(file, fl, "alpha2", 6));
    free(file);
    sqlite3 *raw;
    assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw,
                                  "INSERT INTO resources(path, sealed) SELECT 'r/t/c', sealed FROM "
                                  "resources WHERE path='r/t/a'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(raw);
    assert_int_equal(cachet_kbs_store_open(db, kek, &s), CACHET_OK);
    assert_int_equal(cachet_rc_code(cachet_kbs_store_get(s, "r/t/c", &v, &n)), CACHET_E_AUTH);
    cachet_kbs_store_close(s);
    tu_rmtree(dir);
    free(db);
    free(dir);
}

/* A child writes and acknowledges records, then dies by SIGKILL without
 * closing; every acknowledged record is there after reopening, and the
 * database passes integrity_check. */
static void test_store_crash_safety(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *db = tu_asprintf("%s/c.db", dir);
    char *ack = tu_asprintf("%s/acked", dir);
    uint8_t kek[32];
    memset(kek, 9, 32);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        cachet_kbs_store *s;
        if (cachet_kbs_store_open(db, kek, &s) != CACHET_OK)
            _exit(3);
        FILE *a = fopen(ack, "w");
        for (int i = 0; i < 40; i++) {
            char p[32], v[32];
            snprintf(p, sizeof p, "crash/rec/r%d", i);
            snprintf(v, sizeof v, "value-%d", i);
            if (cachet_kbs_store_put(s, p, (const uint8_t *)v, strlen(v)) != CACHET_OK)
                _exit(4);
            fprintf(a, "%d\n", i);
            fflush(a);
        }
        raise(SIGKILL);
        _exit(5);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    FILE *a = fopen(ack, "r");
    assert_non_null(a);
    int last = -1, i;
    while (fscanf(a, "%d", &i) == 1)
        last = i;
    fclose(a);
    assert_int_equal(last, 39);
    cachet_kbs_store *s;
    assert_int_equal(cachet_kbs_store_open(db, kek, &s), CACHET_OK);
    for (i = 0; i <= last; i++) {
        char p[32], v[32];
        snprintf(p, sizeof p, "crash/rec/r%d", i);
        snprintf(v, sizeof v, "value-%d", i);
        uint8_t *got;
        size_t n;
        assert_int_equal(cachet_kbs_store_get(s, p, &got, &n), CACHET_OK);
        assert_int_equal(n, strlen(v));
        assert_memory_equal(got, v, n);
        cachet_secure_free(got);
    }
    cachet_kbs_store_close(s);
    sqlite3 *raw;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(raw, "PRAGMA integrity_check", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "ok");
    sqlite3_finalize(q);
    assert_int_equal(sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
    sqlite3_close(raw);
    tu_rmtree(dir);
    free(db);
    free(ack);
    free(dir);
}

static void test_audit_chain(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *db = tu_asprintf("%s/a.db", dir);
    uint8_t kek[32];
    memset(kek, 3, 32);
    cachet_kbs_store *s;
    assert_int_equal(cachet_kbs_store_open(db, kek, &s), CACHET_OK);
    for (int i = 0; i < 5; i++)
        assert_int_equal(cachet_kbs_store_audit(s, "resource", "127.0.0.1", "a/b/c",
                                                i % 2 ? "allow" : "deny", "dev", NULL),
                         CACHET_OK);
    size_t n;
    assert_int_equal(cachet_kbs_store_audit_verify(s, &n), CACHET_OK);
    assert_int_equal(n, 5);
    json_t *l;
    assert_int_equal(cachet_kbs_store_audit_read(s, 2, 10, &l), CACHET_OK);
    assert_int_equal(json_array_size(l), 3);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(l, 0), "seq")), 3);
    json_decref(l);
    cachet_kbs_store_close(s);
    const char *attacks[] = {
        "UPDATE audit SET record = replace(record, 'deny', 'allow') WHERE seq = 3",
        "DELETE FROM audit WHERE seq = 2",
        "UPDATE audit SET seq = 9 WHERE seq = 5; INSERT INTO audit(seq, record, mac) SELECT 5, "
        "record, mac FROM audit WHERE seq = 4",
    };
    for (size_t i = 0; i < sizeof attacks / sizeof attacks[0]; i++) {
        char *copy = tu_asprintf("%s/copy%zu.db", dir, i);
        assert_int_equal(tu_system("cp %s %s", db, copy), 0);
        sqlite3 *raw;
        assert_int_equal(sqlite3_open(copy, &raw), SQLITE_OK);
        assert_int_equal(sqlite3_exec(raw, attacks[i], NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(raw);
        assert_int_equal(cachet_kbs_store_open(copy, kek, &s), CACHET_OK);
        cachet_rc rc = cachet_kbs_store_audit_verify(s, &n);
        assert_int_equal(cachet_rc_code(rc), CACHET_E_MISMATCH);
        cachet_kbs_store_close(s);
        free(copy);
    }
    tu_rmtree(dir);
    free(db);
    free(dir);
}

static void test_kek_load(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *p = tu_asprintf("%s/kek", dir);
    uint8_t kek[32];
    tu_write_file(p, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", 65);
    assert_int_equal(cachet_kbs_kek_load(p, kek), CACHET_OK);
    assert_int_equal(kek[1], 0x11);
    tu_write_file(p, "short", 5);
    assert_int_not_equal(cachet_kbs_kek_load(p, kek), CACHET_OK);
    setenv(CACHET_KBS_KEK_ENV, "ff112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", 1);
    assert_int_equal(cachet_kbs_kek_load(NULL, kek), CACHET_OK);
    assert_int_equal(kek[0], 0xff);
    unsetenv(CACHET_KBS_KEK_ENV);
    assert_int_not_equal(cachet_kbs_kek_load(NULL, kek), CACHET_OK);
    tu_rmtree(dir);
    free(p);
    free(dir);
}

static void test_error_json(void **state)
{
    (void)state;
    char *s = cachet_kbs_error_json(CACHET_KBS_ERR_POLICY_DENY, "Access denied by policy");
    assert_string_equal(s, "{\"type\":\"https://github.com/confidential-containers/kbs/errors/"
                           "PolicyDeny\",\"detail\":\"Access denied by policy\"}");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jwe_vector),
        cmocka_unit_test(test_jwe_roundtrip_canonical_header),
        cmocka_unit_test(test_parse_request),
        cmocka_unit_test(test_parse_attestation),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_rpolicy),
        cmocka_unit_test(test_store_kek_and_reopen),
        cmocka_unit_test(test_store_crash_safety),
        cmocka_unit_test(test_kek_load),
        cmocka_unit_test(test_audit_chain),
        cmocka_unit_test(test_error_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
