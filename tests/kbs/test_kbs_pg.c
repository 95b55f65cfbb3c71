/* The key broker on PostgreSQL: a private server started here (initdb +
 * pg_ctl on a Unix socket in a temp dir, never TCP), the store's operations
 * and KEK check, and two brokers sharing it: a session begun on one
 * completes on the other.  Skipped when no PostgreSQL server binaries are
 * installed (scripts/install-deps installs them). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cachet/encoding.h"
#include "cachet/runtime_data.h"
#include "cachet/secmem.h"
#include "kbs_fixture.h"
#include "testutil.h"

typedef struct pg {
    char *dir, *bin, *conninfo, *as;
    bool up;
} pg;

static char *find_bin(void)
{
    const char *cands[] = {"/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin",
                           "/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/14/bin",
                           "/usr/lib/postgresql/13/bin", "/usr/local/bin", "/usr/bin"};
    for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++) {
        char *p = tu_asprintf("%s/initdb", cands[i]);
        bool ok = access(p, X_OK) == 0;
        free(p);
        if (ok)
            return strdup(cands[i]);
    }
    return NULL;
}

static int pg_up(void **state)
{
    pg *p = calloc(1, sizeof *p);
    *state = p;
    p->bin = find_bin();
    if (!p->bin)
        return 0;
    p->dir = tu_mkdtemp();
    chmod(p->dir, 0755);
    /* postgres refuses to run as root: run it as the postgres user then */
    p->as = strdup(getuid() == 0 ? "runuser -u postgres --" : "");
    unsigned port = 20000 + (unsigned)(getpid() % 20000);
    int rc = tu_system("mkdir -p %s/data %s/sock", p->dir, p->dir);
    if (rc == 0 && getuid() == 0)
        rc = tu_system("chown postgres %s/data %s/sock", p->dir, p->dir);
    if (rc != 0)
        return 0;
    if (tu_system("%s %s/initdb -D %s/data -U postgres --auth=trust -E UTF8 >%s/initdb.log 2>&1",
                  p->as, p->bin, p->dir, p->dir) != 0)
        return 0;
    if (tu_system("%s %s/pg_ctl -D %s/data -w -t 30 -l %s/sock/pg.log -o \"-k %s/sock -p %u -c "
                  "listen_addresses=''\" start >/dev/null 2>&1",
                  p->as, p->bin, p->dir, p->dir, p->dir, port) != 0)
        return 0;
    p->up = true;
    p->conninfo = tu_asprintf("host=%s/sock port=%u user=postgres dbname=postgres", p->dir, port);
    return 0;
}

/* Brokers of the replica test: stopped here too, should an assertion end it early. */
static cachet_kbs *replica_a, *replica_b;

static int pg_down(void **state)
{
    pg *p = *state;
    cachet_kbs_stop(replica_a);
    cachet_kbs_stop(replica_b);
    replica_a = replica_b = NULL;
    if (p->up)
        tu_system("%s %s/pg_ctl -D %s/data -m immediate -w stop >/dev/null 2>&1", p->as, p->bin,
                  p->dir);
    if (p->dir)
        tu_rmtree(p->dir);
    free(p->dir);
    free(p->bin);
    free(p->as);
    free(p->conninfo);
    free(p);
    return 0;
}

#define REQUIRE_PG(p)                                                                       \
    do {                                                                                    \
        if (!(p)->up) {                                                                     \
            print_message("# SKIP no PostgreSQL server could be started\n");                \
            skip();                                                                         \
        }                                                                                   \
    } while (0)

static void test_pg_store(void **state)
{
    pg *p = *state;
    REQUIRE_PG(p);
    uint8_t kek[32], bad[32];
    memset(kek, 5, 32);
    memset(bad, 6, 32);
    cachet_kbs_store *s;
    cachet_rc rc = cachet_kbs_store_open(p->conninfo, kek, &s);
    if (rc != CACHET_OK)
        print_message("# %s\n", cachet_err_detail());
    assert_int_equal(rc, CACHET_OK);
    assert_int_equal(cachet_kbs_store_put(s, "pg/t/a", (const uint8_t *)"alpha", 5), CACHET_OK);
    assert_int_equal(cachet_kbs_store_put(s, "pg/t/a", (const uint8_t *)"alpha2", 6), CACHET_OK);
    uint8_t *v;
    size_t n;
    assert_int_equal(cachet_kbs_store_get(s, "pg/t/a", &v, &n), CACHET_OK);
    assert_int_equal(n, 6);
    assert_memory_equal(v, "alpha2", 6);
    cachet_secure_free(v);
    assert_int_equal(cachet_rc_code(cachet_kbs_store_get(s, "pg/t/zz", &v, &n)), CACHET_E_NOT_FOUND);
    json_t *l;
    assert_int_equal(cachet_kbs_store_list(s, &l), CACHET_OK);
    assert_true(json_array_size(l) >= 1);
    json_decref(l);
    assert_int_equal(cachet_kbs_store_set_policy(s, "resource", "{}"), CACHET_OK);
    char *t;
    assert_int_equal(cachet_kbs_store_get_policy(s, "resource", &t), CACHET_OK);
    assert_string_equal(t, "{}");
    free(t);
    assert_int_equal(cachet_kbs_store_audit(s, "admin", "test", "x", "allow", NULL, NULL), CACHET_OK);
    assert_int_equal(cachet_kbs_store_audit(s, "admin", "test", "y", "deny", NULL, "why"), CACHET_OK);
    assert_int_equal(cachet_kbs_store_audit_verify(s, &n), CACHET_OK);
    assert_true(n >= 2);
    assert_int_equal(cachet_kbs_store_delete(s, "pg/t/a"), CACHET_OK);
    assert_int_equal(cachet_rc_code(cachet_kbs_store_delete(s, "pg/t/a")), CACHET_E_NOT_FOUND);
    cachet_kbs_store_close(s);
    rc = cachet_kbs_store_open(p->conninfo, bad, &s);
    assert_int_equal(cachet_rc_code(rc), CACHET_E_AUTH);
}

static char *attestation(cachet_attester *a, const char *nonce, const cachet_pkey *key)
{
    json_t *rd;
    cachet_runtime_data_params prm = {.nonce = nonce, .tee_pubkey = key};
    assert_int_equal(cachet_runtime_data_build(&prm, &rd), CACHET_OK);
    uint8_t report[CACHET_REPORT_DATA_LEN];
    assert_int_equal(cachet_runtime_data_report_data(rd, report), CACHET_OK);
    char *text;
    size_t tl;
    assert_int_equal(cachet_jcs_dump(rd, &text, &tl), CACHET_OK);
    uint8_t *ev;
    size_t evl;
    assert_int_equal(cachet_attester_collect_bound(a, report, text, tl, &ev, &evl), CACHET_OK);
    json_object_del(rd, "additional-evidence");
    char *b64 = cachet_base64_string(ev, evl);
    json_t *j = json_pack("{s:n,s:o,s:{s:{s:s},s:s}}", "init-data", "runtime-data", rd,
                          "tee-evidence", "primary_evidence", "evidence", b64,
                          "additional_evidence", "");
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    free(b64);
    free(ev);
    free(text);
    return s;
}

static void test_two_replicas(void **state)
{
    pg *p = *state;
    REQUIRE_PG(p);
    kbs_fix f;
    kbs_fix_setup(&f, false); /* temp dir, sample key, attester, admin key */
    memset(f.kek, 5, sizeof f.kek); /* the database's KEK (test_pg_store created it) */
    cachet_kbs_store *s;
    assert_int_equal(cachet_kbs_store_open(p->conninfo, f.kek, &s), CACHET_OK);
    assert_int_equal(cachet_kbs_store_set_policy(s, "attestation", FIX_POLICY), CACHET_OK);
    assert_int_equal(cachet_kbs_store_set_policy(s, "resource", FIX_RPOLICY), CACHET_OK);
    assert_int_equal(cachet_kbs_store_put(s, "default/model-key/pg", (const uint8_t *)"pg-key", 6),
                     CACHET_OK);
    cachet_kbs_store_close(s);
    char *tk = tu_asprintf("%s/token.pem", f.dir);
    cachet_pkey *keys[1] = {f.trust};
    cachet_kbs_config cfg = {.listen = "127.0.0.1:0", .http = true, .db_path = p->conninfo,
                             .kek = f.kek, .token_key_path = tk, .trust_keys = keys,
                             .n_trust_keys = 1};
    assert_int_equal(cachet_kbs_start(&cfg, &replica_a), CACHET_OK);
    assert_int_equal(cachet_kbs_start(&cfg, &replica_b), CACHET_OK);
    cachet_kbs *a = replica_a, *b = replica_b;
    char ua[64], ub[64];
    snprintf(ua, sizeof ua, "http://127.0.0.1:%u", cachet_kbs_port(a));
    snprintf(ub, sizeof ub, "http://127.0.0.1:%u", cachet_kbs_port(b));
    cachet_kbs_client *ca, *cb;
    assert_int_equal(cachet_kbs_client_new(ua, NULL, &ca), CACHET_OK);
    assert_int_equal(cachet_kbs_client_new(ub, NULL, &cb), CACHET_OK);
    cachet_pkey *k;
    assert_int_equal(cachet_pkey_generate_ec(CACHET_CURVE_P256, &k), CACHET_OK);
    /* auth on A, attest on B, resource on A */
    char *nonce = NULL, *resp = NULL;
    assert_int_equal(cachet_kbs_client_auth(ca, "sample", &nonce), CACHET_OK);
    cachet_kbs_client_set_session(cb, cachet_kbs_client_session(ca));
    char *body = attestation(f.attester, nonce, k);
    long st = 0;
    assert_int_equal(cachet_kbs_client_request(cb, "POST", "/kbs/v0/attest", body, strlen(body),
                                               NULL, &st, &resp, NULL),
                     CACHET_OK);
    if (st != 200)
        print_message("# attest on B: %ld %s\n", st, resp ? resp : "");
    assert_int_equal(st, 200);
    free(resp);
    assert_int_equal(cachet_kbs_client_request(ca, "GET", "/kbs/v0/resource/default/model-key/pg",
                                               NULL, 0, NULL, &st, &resp, NULL),
                     CACHET_OK);
    assert_int_equal(st, 200);
    uint8_t *pt;
    size_t ptl;
    assert_int_equal(cachet_jwe_decrypt(k, resp, strlen(resp), &pt, &ptl), CACHET_OK);
    assert_int_equal(ptl, 6);
    assert_memory_equal(pt, "pg-key", 6);
    cachet_secure_free(pt);
    free(resp);
    /* the same evidence on a new session (begun on B) is refused on A */
    char *n2 = NULL;
    assert_int_equal(cachet_kbs_client_auth(cb, "sample", &n2), CACHET_OK);
    cachet_kbs_client_set_session(ca, cachet_kbs_client_session(cb));
    assert_int_equal(cachet_kbs_client_request(ca, "POST", "/kbs/v0/attest", body, strlen(body),
                                               NULL, &st, &resp, NULL),
                     CACHET_OK);
    assert_int_equal(st, 401);
    free(resp);
    /* the shared audit chain is intact */
    assert_int_equal(cachet_kbs_store_open(p->conninfo, f.kek, &s), CACHET_OK);
    size_t n;
    assert_int_equal(cachet_kbs_store_audit_verify(s, &n), CACHET_OK);
    assert_true(n >= 3);
    cachet_kbs_store_close(s);
    free(n2);
    free(body);
    free(nonce);
    free(tk);
    cachet_pkey_free(k);
    cachet_kbs_client_free(ca);
    cachet_kbs_client_free(cb);
    cachet_kbs_stop(a);
    cachet_kbs_stop(b);
    replica_a = replica_b = NULL;
    kbs_fix_teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pg_store),
        cmocka_unit_test(test_two_replicas),
    };
    return cmocka_run_group_tests(tests, pg_up, pg_down);
}
