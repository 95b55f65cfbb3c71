/* Secure memory: dump-excluded, locked where allowed, wiped, guarded. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#include "cachet/secmem.h"

/* The VmFlags line of /proc/self/smaps for the mapping holding p. */
static int smaps_has_flag(const void *p, const char *flag)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    assert_non_null(f);
    char line[512];
    int in = 0, found = 0;
    unsigned long lo, hi;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, ' ') == line + strcspn(line, " ") &&
            strchr(line, '-') < strchr(line, ' ')) {
            in = (unsigned long)p >= lo && (unsigned long)p < hi;
            continue;
        }
        if (in && strncmp(line, "VmFlags:", 8) == 0) {
            char pat[8];
            snprintf(pat, sizeof pat, " %s", flag);
            found = strstr(line, pat) != NULL;
            break;
        }
    }
    fclose(f);
    return found;
}

static void test_alloc_is_zeroed_dontdump(void **state)
{
    (void)state;
    uint8_t *p = cachet_secure_alloc(100);
    assert_non_null(p);
    for (int i = 0; i < 100; i++)
        assert_int_equal(p[i], 0);
    memset(p, 0xa5, 100);
    assert_int_equal(cachet_secure_size(p), 100);
    /* "dd" = VM_DONTDUMP in smaps VmFlags. */
    assert_true(smaps_has_flag(p, "dd"));
#ifndef __SANITIZE_ADDRESS__ /* ASan turns mlock() into a no-op that reports success */
    if (cachet_secure_is_locked(p))
        assert_true(smaps_has_flag(p, "lo"));
#endif
    cachet_secure_free(p);
    cachet_secure_free(NULL);
}

static void test_large_alloc_falls_back_unlocked(void **state)
{
    (void)state;
    /* Bigger than a typical RLIMIT_MEMLOCK: still works, reports unlocked
     * unless the process may lock that much; REQUIRE_LOCK refuses instead. */
    struct rlimit rl;
    getrlimit(RLIMIT_MEMLOCK, &rl);
    struct rlimit small = {64 * 1024, rl.rlim_max};
    if (setrlimit(RLIMIT_MEMLOCK, &small) != 0)
        skip();
    size_t big = 4u << 20;
    uint8_t *p = cachet_secure_alloc(big);
    assert_non_null(p);
    p[big - 1] = 1;
    if (geteuid() != 0) /* root ignores RLIMIT_MEMLOCK (CAP_IPC_LOCK) */
        assert_false(cachet_secure_is_locked(p));
    cachet_secure_free(p);
    if (geteuid() != 0)
        assert_null(cachet_secure_alloc_flags(big, CACHET_SECURE_REQUIRE_LOCK));
    setrlimit(RLIMIT_MEMLOCK, &rl);
}

static void test_secretmem_when_available(void **state)
{
    (void)state;
    uint8_t *p = cachet_secure_alloc_flags(4096, CACHET_SECURE_PREFER_SECRETMEM);
    assert_non_null(p);
    memcpy(p, "key", 3);
    assert_int_equal(cachet_secure_is_secretmem(p), cachet_secretmem_available());
    if (!cachet_secretmem_available())
        print_message("# memfd_secret not available on this kernel: fallback path tested\n");
    assert_true(cachet_secure_is_locked(p) || !cachet_secure_is_secretmem(p));
    cachet_secure_free(p);
}

/* Freed small allocations are pooled for reuse (src/util/secmem.c): a reused
 * one comes back zeroed, with its size, dump exclusion and guard intact, and
 * a double free aborts. */
static void test_pool_reuse_is_wiped(void **state)
{
    (void)state;
    uint8_t *p = cachet_secure_alloc(64);
    assert_non_null(p);
    memset(p, 0x5a, 64);
    bool locked = cachet_secure_is_locked(p);
    cachet_secure_free(p);
    uint8_t *q = cachet_secure_alloc(200);
    assert_non_null(q);
    for (int i = 0; i < 4096; i++)
        assert_int_equal(q[i], 0);
    assert_int_equal(cachet_secure_size(q), 200);
    assert_true(smaps_has_flag(q, "dd"));
    assert_int_equal(cachet_secure_is_locked(q), locked);
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit none = {0, 0};
        setrlimit(RLIMIT_CORE, &none);
        signal(SIGABRT, SIG_DFL);
        cachet_secure_free(q);
        cachet_secure_free(q); /* double free: must abort */
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    cachet_secure_free(q);
}

static void test_guard_page_faults(void **state)
{
    (void)state;
    uint8_t *p = cachet_secure_alloc(4096);
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit none = {0, 0};
        setrlimit(RLIMIT_CORE, &none);
        signal(SIGSEGV, SIG_DFL); /* cmocka traps SIGSEGV; we want the real fault */
        volatile uint8_t *q = p;
        q[4096] = 1; /* one past the data region: guard page */
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
    cachet_secure_free(p);
}

static void test_wipe_and_ct_compare(void **state)
{
    (void)state;
    uint8_t a[16], b[16];
    memset(a, 7, sizeof a);
    memcpy(b, a, sizeof b);
    assert_int_equal(cachet_memeq_ct(a, b, 16), 0);
    b[15] ^= 1;
    assert_int_not_equal(cachet_memeq_ct(a, b, 16), 0);
    cachet_wipe(a, sizeof a);
    for (int i = 0; i < 16; i++)
        assert_int_equal(a[i], 0);
}

static void test_process_protect(void **state)
{
    (void)state;
    pid_t pid = fork();
    if (pid == 0) {
        if (cachet_process_protect() != CACHET_OK)
            _exit(10);
        struct rlimit rl;
        getrlimit(RLIMIT_CORE, &rl);
        _exit(prctl(PR_GET_DUMPABLE) == 0 && rl.rlim_cur == 0 ? 0 : 11);
    }
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_is_zeroed_dontdump),
        cmocka_unit_test(test_large_alloc_falls_back_unlocked),
        cmocka_unit_test(test_secretmem_when_available),
        cmocka_unit_test(test_pool_reuse_is_wiped),
        cmocka_unit_test(test_guard_page_faults),
        cmocka_unit_test(test_wipe_and_ct_compare),
        cmocka_unit_test(test_process_protect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
