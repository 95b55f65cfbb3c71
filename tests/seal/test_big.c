/* One round trip of more than 1 GiB, streamed: the input is generated on
 * the fly into tmpfs while being hashed, sealed and unsealed with the
 * default 4 MiB chunks on two threads, and the output checked by digest.
 * Peak memory must stay far below the file size. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cachet/crypto.h"
#include "cachet/fileio.h"
#include "sealtest.h"

#define BIG_LEN (((uint64_t)1 << 30) + 12345)
#define BLOCK ((size_t)1 << 20)

static char *big_dir(void)
{
    /* tmpfs keeps this off the disk; fall back to $TMPDIR. */
    if (access("/dev/shm", W_OK) == 0) {
        char *d = strdup("/dev/shm/cachet-test-XXXXXX");
        if (mkdtemp(d))
            return d;
        free(d);
    }
    return tu_mkdtemp();
}

/* Pattern: a fixed pseudo-random block with each 4 KiB page stamped with its
 * page number, so misplaced or repeated data cannot go unnoticed. */
static void stamp(uint8_t *block, const uint8_t *base, uint64_t first_page, size_t len)
{
    memcpy(block, base, len);
    for (size_t off = 0; off + 8 <= len; off += 4096) {
        uint64_t page = first_page + off / 4096;
        memcpy(block + off, &page, 8);
    }
}

static void hash_file(const char *path, uint8_t out[CACHET_SHA256_LEN], uint64_t *len)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    uint8_t *buf = malloc(BLOCK);
    cachet_hash_ctx *h = cachet_hash_new(CACHET_HASH_SHA256);
    assert_non_null(h);
    *len = 0;
    for (;;) {
        ssize_t n = read(fd, buf, BLOCK);
        assert_true(n >= 0);
        if (n == 0)
            break;
        assert_int_equal(cachet_hash_update(h, buf, (size_t)n), CACHET_OK);
        *len += (uint64_t)n;
    }
    assert_int_equal(cachet_hash_final(h, out), CACHET_OK);
    cachet_hash_free(h);
    free(buf);
    close(fd);
}

static void test_over_1gib(void **state)
{
    (void)state;
    char *dir = big_dir();
    char *in = tu_asprintf("%s/big.in", dir), *sealed = tu_asprintf("%s/big.sealed", dir),
         *out = tu_asprintf("%s/big.out", dir);

    uint8_t want[CACHET_SHA256_LEN];
    {
        uint8_t *base = st_pattern(BLOCK, 2024), *block = malloc(BLOCK);
        int fd = open(in, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        assert_true(fd >= 0);
        cachet_hash_ctx *h = cachet_hash_new(CACHET_HASH_SHA256);
        for (uint64_t off = 0; off < BIG_LEN; off += BLOCK) {
            size_t n = BIG_LEN - off < BLOCK ? (size_t)(BIG_LEN - off) : BLOCK;
            stamp(block, base, off / 4096, n);
            assert_int_equal(cachet_fd_write_full(fd, block, n), CACHET_OK);
            assert_int_equal(cachet_hash_update(h, block, n), CACHET_OK);
        }
        assert_int_equal(cachet_hash_final(h, want), CACHET_OK);
        cachet_hash_free(h);
        close(fd);
        free(base);
        free(block);
    }

    cachet_seal_key *key = st_key(3);
    cachet_seal_params p = {.threads = 2, .key_id = "default/model-key/big"};
    uint8_t d1[CACHET_SEAL_DIGEST_LEN], d2[CACHET_SEAL_DIGEST_LEN];
    assert_seal_ok(cachet_seal_file(key, &p, in, sealed, d1));
    unlink(in); /* keep tmpfs use down */
    struct stat st;
    assert_int_equal(stat(sealed, &st), 0);
    uint64_t chunks = (BIG_LEN + CACHET_SEAL_DEFAULT_CHUNK - 1) / CACHET_SEAL_DEFAULT_CHUNK;
    assert_true((uint64_t)st.st_size > BIG_LEN + 16 * chunks);

    cachet_unseal_opts o = {.threads = 2};
    assert_seal_ok(cachet_seal_unseal_file(sealed, out, key, d1, &o, d2));
    assert_memory_equal(d1, d2, sizeof d1);
    unlink(sealed);

    uint8_t got[CACHET_SHA256_LEN];
    uint64_t got_len = 0;
    hash_file(out, got, &got_len);
    assert_int_equal(got_len, BIG_LEN);
    assert_memory_equal(got, want, sizeof got);

    /* Streaming: the process never held anything like the file in memory. */
    struct rusage ru;
    assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
    print_message("# peak RSS %ld MiB for a %llu MiB round trip\n", ru.ru_maxrss / 1024,
                  (unsigned long long)(BIG_LEN >> 20));
    assert_true(ru.ru_maxrss < 256 * 1024);

    unlink(out);
    rmdir(dir);
    cachet_seal_key_free(key);
    free(in);
    free(sealed);
    free(out);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_over_1gib),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
