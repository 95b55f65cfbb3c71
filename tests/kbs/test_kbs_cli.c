/* `cachet kbs`, `kbs-admin` and `kbs-client` through the real binary on
 * loopback; every server started here is stopped by its pid. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#define KEK "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static unsigned free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t l = sizeof a;
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &l), 0);
    close(s);
    return ntohs(a.sin_port);
}

/* Write dir/name. */
static void write_in(const char *dir, const char *name, const void *data, size_t len)
{
    char *p = tu_asprintf("%s/%s", dir, name);
    tu_write_file(p, data, len);
    free(p);
}

typedef struct srv {
    pid_t pid;
    char *out;
} srv;

/* Start `cachet kbs ARGS` (stdout to a file) and wait for its ready line. */
static bool start(srv *s, const char *dir, const char *args)
{
    s->out = tu_asprintf("%s/srv.out", dir);
    unlink(s->out);
    s->pid = fork();
    assert_true(s->pid >= 0);
    if (s->pid == 0) {
        char *cmd = tu_asprintf("exec env CACHET_KBS_KEK=" KEK " %s kbs %s >%s 2>&1",
                                tu_cachet_exe(), args, s->out);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100; i++) {
        size_t n = 0;
        FILE *f = fopen(s->out, "r");
        char line[256] = "";
        if (f) {
            n = fread(line, 1, sizeof line - 1, f);
            line[n] = 0;
            fclose(f);
        }
        if (strstr(line, "listening on"))
            return true;
        int st;
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            s->pid = 0;
            print_message("# server exited: %s\n", line);
            return false;
        }
        usleep(50000);
    }
    return false;
}

static void stop(srv *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        int st;
        waitpid(s->pid, &st, 0);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    s->pid = 0;
    free(s->out);
}

static void test_exact_form_deny_all_then_release(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *store = tu_asprintf("%s/store", dir);
    tu_system("mkdir -p %s", store);
    char *db = tu_asprintf("%s/kbs.db", store);
    char *key = tu_asprintf("%s/sample.pem", dir);
    const char *exe = tu_cachet_exe();
    /* the sample key (cachet attest creates it) */
    assert_int_equal(tu_system("%s attest --tee sample --sample-key %s --nonce 00112233 --out "
                               "%s/ev >/dev/null 2>&1", exe, key, dir), 0);
    unsigned port = free_port();
    char *args = tu_asprintf("--listen 127.0.0.1:%u --http --db %s", port, db);
    srv s = {0};
    assert_true(start(&s, dir, args));
    /* empty deny-all policy */
    int rc = tu_system("%s kbs-client get-resource --url http://127.0.0.1:%u --tee sample "
                       "--sample-key %s default/model-key/llama --out %s/got 2>%s/err",
                       exe, port, key, dir, dir);
    stop(&s);
    assert_int_equal(rc, 1);
    assert_int_equal(tu_system("grep -q AttestationError %s/err", dir), 0);
    /* policies, a resource, and the broker trusting the sample key */
    const char *pol = "{\"rules\":[{\"name\":\"dev\",\"tee\":[\"sample\"],\"status\":"
                      "[\"affirming\",\"warning\"],\"any_workload\":true}]}";
    write_in(dir, "pol.json", pol, strlen(pol));
    const char *rp = "{\"grants\":[{\"resources\":[\"default/model-key/*\"],\"rules\":[\"dev\"],"
                     "\"status\":[\"affirming\",\"warning\"]}]}";
    write_in(dir, "rpol.json", rp, strlen(rp));
    write_in(dir, "secret", "the-model-key", 13);
    const char *envk = "env CACHET_KBS_KEK=" KEK;
    assert_int_equal(tu_system("%s %s kbs-admin --db %s set-policy attestation %s/pol.json", envk,
                               exe, db, dir), 0);
    assert_int_equal(tu_system("%s %s kbs-admin --db %s set-policy resource %s/rpol.json", envk,
                               exe, db, dir), 0);
    assert_int_equal(tu_system("%s %s kbs-admin --db %s set-resource default/model-key/llama "
                               "%s/secret", envk, exe, db, dir), 0);
    /* dry run: the evidence names nonce 00112233 */
    assert_int_equal(tu_system("%s %s kbs-admin --db %s dry-run --tee sample --nonce 00112233 "
                               "--sample-trust-key %s %s/ev default/model-key/llama >/dev/null",
                               envk, exe, db, key, dir), 0);
    assert_int_equal(tu_system("%s %s kbs-admin --db %s dry-run --tee sample --nonce 00112233 "
                               "--sample-trust-key %s %s/ev default/other/x >/dev/null",
                               envk, exe, db, key, dir), 1);
    /* a wrong policy is refused before it is stored */
    write_in(dir, "bad.json", "{\"grants\":[{\"resourcez\":[]}]}", 28);
    assert_int_equal(tu_system("%s %s kbs-admin --db %s set-policy resource %s/bad.json 2>/dev/null",
                               envk, exe, db, dir), 1);
    free(args);
    port = free_port();
    args = tu_asprintf("--listen 127.0.0.1:%u --http --db %s --sample-trust-key %s", port, db, key);
    assert_true(start(&s, dir, args));
    rc = tu_system("%s get-resource --kbs http://127.0.0.1:%u --path default/model-key/llama "
                   "--tee sample --sample-key %s --out %s/got 2>/dev/null",
                   exe, port, key, dir);
    stop(&s);
    assert_int_equal(rc, 0);
    assert_int_equal(tu_system("cmp -s %s/got %s/secret", dir, dir), 0);
    /* wrong KEK: the store does not open */
    assert_int_equal(tu_system("env CACHET_KBS_KEK=%064d %s kbs-admin --db %s list-resources "
                               "2>/dev/null", 0, exe, db), 1);
    free(args);
    free(db);
    free(key);
    free(store);
    tu_rmtree(dir);
    free(dir);
}

static void test_refusals_at_start(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    const char *exe = tu_cachet_exe();
    /* plain HTTP off loopback */
    assert_int_equal(tu_system("env CACHET_KBS_KEK=" KEK " %s kbs --listen 0.0.0.0:0 --http --db "
                               "%s/x.db 2>/dev/null", exe, dir), 1);
    /* HTTPS without a certificate */
    assert_int_equal(tu_system("env CACHET_KBS_KEK=" KEK " %s kbs --listen 127.0.0.1:0 --db "
                               "%s/x.db 2>/dev/null", exe, dir), 2);
    /* a KEK file beside the database */
    write_in(dir, "kek", KEK, 64);
    assert_int_equal(tu_system("%s kbs --listen 127.0.0.1:0 --http --db %s/x.db --kek-file %s/kek "
                               "2>/dev/null", exe, dir, dir), 1);
    tu_rmtree(dir);
    free(dir);
}

static void test_admin_online(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    const char *exe = tu_cachet_exe();
    tu_system("mkdir -p %s/store", dir);
    assert_int_equal(tu_system("%s kbs-admin keygen --out %s/admin.pem", exe, dir), 0);
    assert_int_equal(tu_system("%s kbs-admin keygen --out %s/other.pem", exe, dir), 0);
    assert_int_equal(tu_system("%s attest --tee sample --sample-key %s/sample.pem --nonce 0011 "
                               "--out %s/ev >/dev/null 2>&1", exe, dir, dir), 0);
    const char *pol = "{\"rules\":[{\"name\":\"dev\",\"tee\":[\"sample\"],\"status\":"
                      "[\"affirming\",\"warning\"],\"any_workload\":true}]}";
    const char *rp = "{\"grants\":[{\"resources\":[\"default/*/*\"],\"rules\":[\"dev\"],"
                     "\"status\":[\"affirming\",\"warning\"]}]}";
    write_in(dir, "pol.json", pol, strlen(pol));
    write_in(dir, "rpol.json", rp, strlen(rp));
    write_in(dir, "secret", "online-secret", 13);
    unsigned port = free_port();
    char *args = tu_asprintf("--listen 127.0.0.1:%u --http --db %s/store/kbs.db "
                             "--sample-trust-key %s/sample.pem --admin-public-key %s/admin.pem.pub",
                             port, dir, dir, dir);
    srv s = {0};
    assert_true(start(&s, dir, args));
    char *adm = tu_asprintf("%s kbs-admin --url http://127.0.0.1:%u --admin-key %s/admin.pem", exe,
                            port, dir);
    int r1 = tu_system("%s set-policy attestation %s/pol.json", adm, dir);
    int r2 = tu_system("%s set-policy resource %s/rpol.json", adm, dir);
    int r3 = tu_system("%s set-resource default/key/k1 %s/secret", adm, dir);
    int r4 = tu_system("%s list-resources | grep -q default/key/k1", adm);
    int r5 = tu_system("%s kbs-admin --url http://127.0.0.1:%u --admin-key %s/other.pem "
                       "set-resource default/key/k2 %s/secret 2>/dev/null", exe, port, dir, dir);
    int r7 = tu_system("%s audit | grep -q '\"event\":\"admin\"'", adm);
    int r6 = tu_system("%s kbs-client get-resource --url http://127.0.0.1:%u --tee sample "
                       "--sample-key %s/sample.pem default/key/k1 --out %s/got 2>/dev/null",
                       exe, port, dir, dir);
    stop(&s);
    assert_int_equal(r1, 0);
    assert_int_equal(r2, 0);
    assert_int_equal(r3, 0);
    assert_int_equal(r4, 0);
    assert_int_equal(r5, 1);
    assert_int_equal(r6, 0);
    assert_int_equal(r7, 0);
    assert_int_equal(tu_system("cmp -s %s/got %s/secret", dir, dir), 0);
    assert_int_equal(tu_system("env CACHET_KBS_KEK=" KEK " %s kbs-admin --db %s/store/kbs.db audit "
                               "--verify | grep -q intact", exe, dir), 0);
    free(adm);
    free(args);
    tu_rmtree(dir);
    free(dir);
}

/* kill -9 the broker during a burst of admin writes: after a restart every
 * acknowledged write is there, the database is intact and so is the audit chain. */
static void test_kill9_during_admin_writes(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    const char *exe = tu_cachet_exe();
    tu_system("mkdir -p %s/store", dir);
    assert_int_equal(tu_system("%s kbs-admin keygen --out %s/admin.pem", exe, dir), 0);
    write_in(dir, "secret", "burst-secret", 12);
    unsigned port = free_port();
    char *args = tu_asprintf("--listen 127.0.0.1:%u --http --db %s/store/kbs.db "
                             "--admin-public-key %s/admin.pem.pub --rate-limit 1000",
                             port, dir, dir);
    srv s = {0};
    assert_true(start(&s, dir, args));
    /* a bounded burst in the background; each acknowledged path is appended to acked */
    assert_int_equal(tu_system("(for i in $(seq 1 60); do %s kbs-admin --url http://127.0.0.1:%u "
                               "--admin-key %s/admin.pem set-resource burst/r/r$i %s/secret "
                               ">/dev/null 2>&1 && echo burst/r/r$i >> %s/acked; done) & "
                               "echo $! > %s/loop.pid", exe, port, dir, dir, dir, dir), 0);
    usleep(400000);
    kill(s.pid, SIGKILL);
    int st;
    waitpid(s.pid, &st, 0);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    s.pid = 0;
    free(s.out);
    tu_system("while kill -0 $(cat %s/loop.pid) 2>/dev/null; do sleep 0.05; done", dir);
    const char *envk = "env CACHET_KBS_KEK=" KEK;
    /* at least one write was acknowledged, and each one is there after the crash */
    assert_int_equal(tu_system("test -s %s/acked", dir), 0);
    assert_int_equal(tu_system("%s %s kbs-admin --db %s/store/kbs.db list-resources > %s/listed",
                               envk, exe, dir, dir), 0);
    assert_int_equal(tu_system("sort %s/acked > %s/a.s && sort %s/listed > %s/l.s && "
                               "test -z \"$(comm -23 %s/a.s %s/l.s)\"",
                               dir, dir, dir, dir, dir, dir), 0);
    assert_int_equal(tu_system("%s %s kbs-admin --db %s/store/kbs.db audit --verify >/dev/null",
                               envk, exe, dir), 0);
    /* and the broker starts again on it */
    free(args);
    args = tu_asprintf("--listen 127.0.0.1:%u --http --db %s/store/kbs.db", free_port(), dir);
    assert_true(start(&s, dir, args));
    stop(&s);
    free(args);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_form_deny_all_then_release),
        cmocka_unit_test(test_refusals_at_start),
        cmocka_unit_test(test_admin_online),
        cmocka_unit_test(test_kill9_during_admin_writes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
