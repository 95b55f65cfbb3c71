/* Seal/unseal round trips: the boundary sizes, thread counts, random access,
 * memfd and buffer destinations, and the header fields carried along. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cachet/secmem.h"
#include "sealtest.h"

typedef struct fixture {
    char *dir;
    cachet_seal_key *key;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = tu_mkdtemp();
    f->key = st_key(1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tu_rmtree(f->dir);
    free(f->dir);
    cachet_seal_key_free(f->key);
    free(f);
    return 0;
}

/* Seal len bytes, unseal to a file, compare; also check size arithmetic. */
static void roundtrip(fixture *f, size_t len, unsigned threads)
{
    uint8_t *data = st_pattern(len, (uint32_t)len);
    uint8_t d_seal[CACHET_SEAL_DIGEST_LEN], d_unseal[CACHET_SEAL_DIGEST_LEN];
    char *sealed = st_seal_buffer(f->dir, "in", data, len, f->key, ST_CHUNK, threads, d_seal);

    struct stat st;
    assert_int_equal(stat(sealed, &st), 0);
    uint64_t chunks = len == 0 ? 1 : (len + ST_CHUNK - 1) / ST_CHUNK;
    cachet_seal_reader *r = NULL;
    assert_seal_ok(cachet_seal_reader_open(sealed, &r));
    const cachet_seal_header *h = cachet_seal_reader_header(r);
    assert_int_equal(h->chunk_count, chunks);
    assert_int_equal(h->plaintext_len, len);
    assert_int_equal((uint64_t)st.st_size, h->header_len + len + 16 * chunks);
    cachet_seal_reader_free(r);

    char *out = tu_asprintf("%s/out", f->dir);
    cachet_unseal_opts o = {.threads = threads};
    assert_seal_ok(cachet_seal_unseal_file(sealed, out, f->key, d_seal, &o, d_unseal));
    assert_memory_equal(d_seal, d_unseal, sizeof d_seal);
    size_t got_len = 0;
    uint8_t *got = tu_read_file(out, &got_len);
    assert_int_equal(got_len, len);
    if (len)
        assert_memory_equal(got, data, len);
    assert_int_equal(stat(out, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600); /* plaintext is owner-only */
    free(got);
    free(out);
    free(sealed);
    free(data);
}

/* Unsealing onto a device path must not replace the device (root renames
 * onto anything): /dev/null stays a character device. */
static void test_refuses_device_output(void **state)
{
    fixture *f = *state;
    uint8_t *data = st_pattern(100, 7);
    char *sealed = st_seal_buffer(f->dir, "plain", data, 100, f->key, ST_CHUNK, 1, NULL);
    assert_seal_rc(cachet_seal_unseal_file(sealed, "/dev/null", f->key, NULL, NULL, NULL), IO);
    assert_non_null(strstr(cachet_err_detail(), "not a regular file"));
    struct stat st;
    assert_int_equal(stat("/dev/null", &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    free(sealed);
    free(data);
}

static void test_empty(void **state) { roundtrip(*state, 0, 1); }
static void test_one_byte(void **state) { roundtrip(*state, 1, 1); }
static void test_chunk_minus_one(void **state) { roundtrip(*state, ST_CHUNK - 1, 1); }
static void test_exact_chunk(void **state) { roundtrip(*state, ST_CHUNK, 1); }
static void test_chunk_plus_one(void **state) { roundtrip(*state, ST_CHUNK + 1, 1); }
static void test_multi_chunk(void **state) { roundtrip(*state, 7 * ST_CHUNK + 123, 2); }
static void test_multi_exact(void **state) { roundtrip(*state, 5 * ST_CHUNK, 3); }

/* The same sealed file decrypts to identical bytes with 1, 2 and 4 threads,
 * and parallel sealing produces a file that unseals like a streamed one. */
static void test_thread_counts(void **state)
{
    fixture *f = *state;
    const size_t len = 37 * ST_CHUNK + 1000;
    uint8_t *data = st_pattern(len, 42);
    uint8_t d[CACHET_SEAL_DIGEST_LEN];
    for (unsigned seal_threads = 1; seal_threads <= 4; seal_threads *= 2) {
        char *sealed = st_seal_buffer(f->dir, "t", data, len, f->key, ST_CHUNK, seal_threads, d);
        for (unsigned t = 1; t <= 4; t *= 2) {
            char *out = tu_asprintf("%s/out-%u-%u", f->dir, seal_threads, t);
            cachet_unseal_opts o = {.threads = t, .map_input = t == 4};
            assert_seal_ok(cachet_seal_unseal_file(sealed, out, f->key, d, &o, NULL));
            size_t n = 0;
            uint8_t *got = tu_read_file(out, &n);
            assert_int_equal(n, len);
            assert_memory_equal(got, data, len);
            free(got);
            free(out);
        }
        free(sealed);
    }
    free(data);
}

/* Chunk k alone, without touching the others; and out-of-range indices. */
static void test_random_access(void **state)
{
    fixture *f = *state;
    const size_t len = 9 * ST_CHUNK + 77;
    uint8_t *data = st_pattern(len, 7);
    uint8_t d[CACHET_SEAL_DIGEST_LEN];
    char *sealed = st_seal_buffer(f->dir, "ra", data, len, f->key, ST_CHUNK, 1, d);
    cachet_seal_reader *r = NULL;
    assert_seal_ok(cachet_seal_reader_open(sealed, &r));
    uint8_t buf[ST_CHUNK];
    size_t n = 0;
    assert_seal_rc(cachet_seal_reader_read_chunk(r, 0, buf, sizeof buf, &n), STATE);
    assert_seal_ok(cachet_seal_reader_unlock(r, f->key));
    const uint64_t order[] = {6, 0, 9, 3};
    for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
        uint64_t k = order[i];
        assert_seal_ok(cachet_seal_reader_read_chunk(r, k, buf, sizeof buf, &n));
        size_t want = k == 9 ? 77 : ST_CHUNK;
        assert_int_equal(n, want);
        assert_memory_equal(buf, data + k * ST_CHUNK, want);
    }
    assert_seal_rc(cachet_seal_reader_read_chunk(r, 10, buf, sizeof buf, &n), RANGE);
    assert_seal_rc(cachet_seal_reader_read_chunk(r, 1, buf, ST_CHUNK - 1, &n), INVALID_ARG);
    cachet_seal_reader_free(r);
    free(sealed);
    free(data);
}

/* The server path: a sealed, read-only memfd that /proc/self/fd/N can load. */
static void test_memfd(void **state)
{
    fixture *f = *state;
    const size_t len = 6 * ST_CHUNK + 5;
    uint8_t *data = st_pattern(len, 9);
    uint8_t d[CACHET_SEAL_DIGEST_LEN], d2[CACHET_SEAL_DIGEST_LEN];
    char *sealed = st_seal_buffer(f->dir, "m", data, len, f->key, ST_CHUNK, 1, d);
    int fd = -1;
    cachet_unseal_opts o = {.threads = 2};
    assert_seal_ok(cachet_seal_unseal_memfd(sealed, f->key, d, &o, &fd, d2));
    assert_true(fd >= 0);
    assert_memory_equal(d, d2, sizeof d);
    int seals = fcntl(fd, F_GET_SEALS);
    assert_true(seals & F_SEAL_WRITE);
    assert_true(seals & F_SEAL_SHRINK);
    assert_true(seals & F_SEAL_GROW);
    assert_true(seals & F_SEAL_SEAL);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    assert_true(write(fd, "x", 1) < 0); /* sealed against writes */

    char *proc = tu_asprintf("/proc/self/fd/%d", fd);
    size_t n = 0;
    uint8_t *got = tu_read_file(proc, &n);
    assert_int_equal(n, len);
    assert_memory_equal(got, data, len);
    free(got);
    free(proc);
    close(fd);

    /* An empty file gives an empty memfd. */
    char *empty = st_seal_buffer(f->dir, "e", data, 0, f->key, ST_CHUNK, 1, d);
    assert_seal_ok(cachet_seal_unseal_memfd(empty, f->key, NULL, NULL, &fd, NULL));
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_size, 0);
    close(fd);
    free(empty);
    free(sealed);
    free(data);
}

/* Straight into caller memory (secure memory, as a server would). */
static void test_buffer(void **state)
{
    fixture *f = *state;
    const size_t len = 11 * ST_CHUNK + 3;
    uint8_t *data = st_pattern(len, 11);
    uint8_t d[CACHET_SEAL_DIGEST_LEN];
    char *sealed = st_seal_buffer(f->dir, "b", data, len, f->key, ST_CHUNK, 2, d);
    cachet_seal_reader *r = NULL;
    assert_seal_ok(cachet_seal_reader_open(sealed, &r));
    assert_seal_ok(cachet_seal_reader_unlock(r, f->key));
    uint8_t *buf = cachet_secure_alloc(len);
    assert_non_null(buf);
    assert_seal_rc(cachet_seal_reader_decrypt_buffer(r, buf, len - 1, NULL), INVALID_ARG);
    cachet_unseal_opts o = {.threads = 4};
    assert_seal_ok(cachet_seal_reader_decrypt_buffer(r, buf, len, &o));
    assert_memory_equal(buf, data, len);
    memset(buf, 0, len);
    o.map_input = true; /* straight from a mapping of the sealed file */
    assert_seal_ok(cachet_seal_reader_decrypt_buffer(r, buf, len, &o));
    assert_memory_equal(buf, data, len);
    o.map_input = false;
    /* --check style: authenticate everything, write nothing. */
    assert_seal_ok(cachet_seal_reader_decrypt_fd(r, -1, &o));
    cachet_secure_free(buf);
    cachet_seal_reader_free(r);
    free(sealed);
    free(data);
}

/* Key id, media type and metadata come back as sealed; the digest from
 * seal equals the reader's; two seals of the same input differ (fresh salt). */
static void test_header_fields(void **state)
{
    fixture *f = *state;
    uint8_t *data = st_pattern(100, 1);
    uint8_t d1[CACHET_SEAL_DIGEST_LEN], d2[CACHET_SEAL_DIGEST_LEN], d3[CACHET_SEAL_DIGEST_LEN];
    char *s1 = st_seal_buffer(f->dir, "h1", data, 100, f->key, ST_CHUNK, 1, d1);
    char *s2 = st_seal_buffer(f->dir, "h2", data, 100, f->key, ST_CHUNK, 1, d2);
    assert_memory_not_equal(d1, d2, sizeof d1);
    cachet_seal_reader *r = NULL;
    assert_seal_ok(cachet_seal_reader_open(s1, &r));
    assert_false(cachet_seal_reader_unlocked(r));
    assert_seal_rc(cachet_seal_reader_digest(r, d3), STATE);
    /* the digest a server binds into evidence before it has the key */
    assert_seal_ok(cachet_seal_reader_claimed_digest(r, d3));
    assert_memory_equal(d1, d3, sizeof d1);
    memset(d3, 0, sizeof d3);
    assert_seal_ok(cachet_seal_reader_unlock(r, f->key));
    assert_seal_rc(cachet_seal_reader_unlock(r, f->key), STATE);
    assert_seal_ok(cachet_seal_reader_digest(r, d3));
    assert_memory_equal(d1, d3, sizeof d1);
    assert_seal_ok(cachet_seal_reader_expect_digest(r, d1));
    assert_seal_rc(cachet_seal_reader_expect_digest(r, d2), MISMATCH);
    const cachet_seal_header *h = cachet_seal_reader_header(r);
    assert_string_equal(h->key_id, "default/model-key/test");
    assert_string_equal(h->media_type, "application/octet-stream");
    assert_int_equal(h->metadata_len, 15);
    assert_memory_equal(h->metadata, "{\"name\":\"test\"}", 15);
    assert_int_equal(h->chunk_size, ST_CHUNK);
    assert_int_equal(h->version, CACHET_SEAL_VERSION);
    cachet_seal_reader_free(r);
    free(s1);
    free(s2);
    free(data);
}

/* Sealing from a pipe streams (length given up front) and round-trips. */
static void test_seal_from_pipe(void **state)
{
    fixture *f = *state;
    const size_t len = 3 * ST_CHUNK + 10;
    uint8_t *data = st_pattern(len, 3);
    int p[2];
    assert_int_equal(pipe(p), 0);
    char *sealed = tu_asprintf("%s/pipe.sealed", f->dir);
    int out = open(sealed, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(out >= 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        ssize_t w = write(p[1], data, len);
        _exit(w == (ssize_t)len ? 0 : 1);
    }
    close(p[1]);
    cachet_seal_params prm = {.chunk_size = ST_CHUNK, .threads = 4};
    uint8_t d[CACHET_SEAL_DIGEST_LEN];
    assert_seal_ok(cachet_seal_fd(f->key, &prm, p[0], len, out, d));
    close(p[0]);
    close(out);
    int status = 0;
    waitpid(pid, &status, 0);

    char *plain = tu_asprintf("%s/pipe.out", f->dir);
    assert_seal_ok(cachet_seal_unseal_file(sealed, plain, f->key, d, NULL, NULL));
    size_t n = 0;
    uint8_t *got = tu_read_file(plain, &n);
    assert_int_equal(n, len);
    assert_memory_equal(got, data, len);

    /* A pipe that delivers less than declared is an error, not a short file. */
    assert_int_equal(pipe(p), 0);
    assert_int_equal(write(p[1], data, 100), 100);
    close(p[1]);
    int out2 = open(sealed, O_WRONLY | O_TRUNC);
    assert_seal_rc(cachet_seal_fd(f->key, &prm, p[0], 200, out2, d), TRUNCATED);
    close(p[0]);
    close(out2);
    free(got);
    free(plain);
    free(sealed);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_device_output, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chunk_minus_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exact_chunk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chunk_plus_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multi_chunk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multi_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_thread_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_access, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memfd, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buffer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seal_from_pipe, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
