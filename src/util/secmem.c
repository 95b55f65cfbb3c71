/* Secure memory for keys and plaintext models.
 *
 * Layout of one allocation (all page-aligned):
 *   [guard, PROT_NONE][header page][data pages][guard, PROT_NONE]
 * The guards turn linear overruns into faults; the header records what the
 * allocation got so that free can wipe and unmap exactly. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdlib.h>
#include <pthread.h>

#include "cachet/secmem.h"

#define SECMEM_MAGIC 0x6361636865744d4dULL /* "cachetMM" */
#define SECMEM_POOLED 0x6361636865744646ULL /* "cachetFF": wiped, in the pool */

struct secmem_header {
    uint64_t magic;
    size_t len;      /* bytes the caller asked for */
    size_t data_len; /* page-rounded data region */
    size_t total;    /* whole reservation including guards */
    bool locked;
    bool secretmem;
};

static size_t page_size(void)
{
    static size_t ps;
    if (!ps)
        ps = (size_t)sysconf(_SC_PAGESIZE);
    return ps;
}

void cachet_wipe(void *p, size_t len)
{
    if (p && len)
        explicit_bzero(p, len);
}

int cachet_memeq_ct(const void *a, const void *b, size_t len)
{
    const volatile uint8_t *x = a, *y = b;
    uint8_t acc = 0;
    for (size_t i = 0; i < len; i++)
        acc |= x[i] ^ y[i];
    return acc != 0;
}

static int secretmem_fd(void)
{
#ifdef SYS_memfd_secret
    return (int)syscall(SYS_memfd_secret, (unsigned)O_CLOEXEC);
#else
    errno = ENOSYS;
    return -1;
#endif
}

static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static bool secretmem_ok;

static void probe_secretmem(void)
{
    int fd = secretmem_fd();
    if (fd < 0)
        return;
    /* Creating the fd can succeed while mapping fails (secretmem disabled). */
    size_t ps = page_size();
    if (ftruncate(fd, (off_t)ps) == 0) {
        void *m = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (m != MAP_FAILED) {
            secretmem_ok = true;
            munmap(m, ps);
        }
    }
    close(fd);
}

bool cachet_secretmem_available(void)
{
    pthread_once(&probe_once, probe_secretmem);
    return secretmem_ok;
}

/* Map header+data over the middle of the reservation from a secretmem fd. */
static bool map_secret(uint8_t *at, size_t len)
{
    int fd = secretmem_fd();
    if (fd < 0)
        return false;
    bool ok = false;
    if (ftruncate(fd, (off_t)len) == 0) {
        void *m = mmap(at, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
        ok = m != MAP_FAILED;
    }
    close(fd); /* the mapping keeps the memory alive */
    return ok;
}

/* Freed one-page allocations (locked, not secretmem) kept for reuse: a key
 * broker allocates and frees a few small secrets per request, and every
 * fresh allocation costs four system calls (mmap, mmap, madvise, mlock) and
 * a TLB shootdown at munmap.  A pooled allocation keeps its guards, its
 * lock and its madvise flags; its data page and header are wiped before it
 * enters the pool (so it comes back zeroed, like a fresh one), and its
 * header is marked so that a double free or use through free aborts. */
#define SECMEM_POOL_MAX 32
static void *secmem_pool[SECMEM_POOL_MAX];
static size_t secmem_pool_n;
static pthread_mutex_t secmem_pool_mu = PTHREAD_MUTEX_INITIALIZER;

/* MADV_WIPEONFORK zeroes the pooled pages (headers included) in a child:
 * the child starts with an empty pool (the mappings stay, unused). */
static void pool_prepare(void) { pthread_mutex_lock(&secmem_pool_mu); }
static void pool_parent(void) { pthread_mutex_unlock(&secmem_pool_mu); }
static void pool_child(void)
{
    secmem_pool_n = 0;
    pthread_mutex_init(&secmem_pool_mu, NULL);
}
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static bool pool_ok;
static void pool_init(void) { pool_ok = pthread_atfork(pool_prepare, pool_parent, pool_child) == 0; }

static void *pool_take(size_t len)
{
    void *p = NULL;
    pthread_mutex_lock(&secmem_pool_mu);
    if (secmem_pool_n)
        p = secmem_pool[--secmem_pool_n];
    pthread_mutex_unlock(&secmem_pool_mu);
    if (!p)
        return NULL;
    struct secmem_header *h = (struct secmem_header *)((uintptr_t)p - page_size());
    if (h->magic != SECMEM_POOLED)
        abort();
    h->magic = SECMEM_MAGIC;
    h->len = len;
    return p;
}

static bool pool_give(void *p, struct secmem_header *h)
{
    pthread_once(&pool_once, pool_init);
    if (!pool_ok || h->data_len != page_size() || !h->locked || h->secretmem)
        return false;
    bool kept = false;
    pthread_mutex_lock(&secmem_pool_mu);
    if (secmem_pool_n < SECMEM_POOL_MAX) {
        h->magic = SECMEM_POOLED;
        h->len = 0;
        secmem_pool[secmem_pool_n++] = p;
        kept = true;
    }
    pthread_mutex_unlock(&secmem_pool_mu);
    return kept;
}

void *cachet_secure_alloc_flags(size_t len, unsigned flags)
{
    const size_t ps = page_size();
    if (len == 0)
        len = 1;
    if (len > SIZE_MAX - 4 * ps)
        return NULL;
    /* Pooled pages are locked and never secretmem: they serve a request
     * that does not ask for secretmem (or cannot get it anyway). */
    if (len <= ps &&
        (!(flags & CACHET_SECURE_PREFER_SECRETMEM) || !cachet_secretmem_available())) {
        void *p = pool_take(len);
        if (p)
            return p;
    }
    const size_t data_len = (len + ps - 1) / ps * ps;
    const size_t total = data_len + 3 * ps;
    uint8_t *base = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED)
        return NULL;
    uint8_t *hdr_page = base + ps;
    const size_t inner = ps + data_len;
    bool secret = false;
    if ((flags & CACHET_SECURE_PREFER_SECRETMEM) && cachet_secretmem_available())
        secret = map_secret(hdr_page, inner);
    if (!secret) {
        void *m = mmap(hdr_page, inner, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (m == MAP_FAILED) {
            munmap(base, total);
            return NULL;
        }
        /* Not inherited by children; not in core dumps. */
        (void)madvise(hdr_page, inner, MADV_WIPEONFORK);
    }
    (void)madvise(hdr_page, inner, MADV_DONTDUMP);
    /* secretmem pages are already unevictable; lock the rest when allowed. */
    bool locked = secret || mlock(hdr_page, inner) == 0;
    if (!locked && (flags & CACHET_SECURE_REQUIRE_LOCK)) {
        munmap(base, total);
        return NULL;
    }
    struct secmem_header *h = (struct secmem_header *)hdr_page;
    *h = (struct secmem_header){SECMEM_MAGIC, len, data_len, total, locked, secret};
    return hdr_page + ps;
}

void *cachet_secure_alloc(size_t len) { return cachet_secure_alloc_flags(len, CACHET_SECURE_DEFAULT); }

static struct secmem_header *header_of(const void *p)
{
    struct secmem_header *h = (struct secmem_header *)((uintptr_t)p - page_size());
    if ((uintptr_t)p % page_size() != 0 || h->magic != SECMEM_MAGIC)
        abort(); /* not ours, or corrupted: never continue with secrets in doubt */
    return h;
}

void cachet_secure_free(void *p)
{
    if (!p)
        return;
    struct secmem_header *h = header_of(p);
    const size_t total = h->total, data_len = h->data_len;
    cachet_wipe(p, data_len);
    if (pool_give(p, h))
        return;
    cachet_wipe(h, sizeof *h);
    uint8_t *base = (uint8_t *)p - 2 * page_size();
    munmap(base, total); /* also drops the lock */
}

bool cachet_secure_is_locked(const void *p) { return p && header_of(p)->locked; }
bool cachet_secure_is_secretmem(const void *p) { return p && header_of(p)->secretmem; }
size_t cachet_secure_size(const void *p) { return p ? header_of(p)->len : 0; }

cachet_rc cachet_process_protect(void)
{
    struct rlimit none = {0, 0};
    if (setrlimit(RLIMIT_CORE, &none) != 0)
        return cachet_err(CACHET_RC(CACHET_SUB_UTIL, CACHET_E_IO), "setrlimit(RLIMIT_CORE): %s",
                          strerror(errno));
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        return cachet_err(CACHET_RC(CACHET_SUB_UTIL, CACHET_E_IO), "prctl(PR_SET_DUMPABLE): %s",
                          strerror(errno));
    return CACHET_OK;
}
