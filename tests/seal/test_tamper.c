/* Every way a sealed file can be damaged or attacked is rejected with the
 * specific error, and leaves no plaintext behind: no output file, no
 * temporary file, no memfd, and a wiped caller buffer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cachet/reader.h"
#include "sealtest.h"

#define N_FULL 4
#define LAST_LEN 100
#define DATA_LEN (N_FULL * ST_CHUNK + LAST_LEN) /* 5 chunks, the last one short */
#define STRIDE (ST_CHUNK + CACHET_SEAL_TAG_LEN)

typedef struct fixture {
    char *dir;
    cachet_seal_key *key;
    uint8_t *data;
    char *sealed;      /* a good sealed file */
    uint8_t *bytes;    /* its bytes */
    size_t len;
    cachet_seal_header h;
    char *bad;         /* where each test writes its damaged copy */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = tu_mkdtemp();
    f->key = st_key(1);
    f->data = st_pattern(DATA_LEN, 5);
    uint8_t d[CACHET_SEAL_DIGEST_LEN];
    f->sealed = st_seal_buffer(f->dir, "model", f->data, DATA_LEN, f->key, ST_CHUNK, 1, d);
    st_read_header(f->sealed, &f->h, &f->bytes, &f->len);
    f->bad = tu_asprintf("%s/bad.sealed", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tu_rmtree(f->dir);
    free(f->dir);
    cachet_seal_key_free(f->key);
    free(f->data);
    free(f->sealed);
    free(f->bytes);
    free(f->bad);
    free(f);
    return 0;
}

static uint64_t chunk_off(const fixture *f, uint64_t i) { return f->h.header_len + i * STRIDE; }
static uint64_t tag_off(const fixture *f, uint64_t i)
{
    return chunk_off(f, i) + (i == N_FULL ? LAST_LEN : ST_CHUNK);
}

/* A copy of the good file's bytes to damage. */
static uint8_t *copy_bytes(const fixture *f)
{
    uint8_t *c = malloc(f->len + 64);
    assert_non_null(c);
    memcpy(c, f->bytes, f->len);
    return c;
}

static void write_bad(const fixture *f, const uint8_t *buf, size_t len)
{
    tu_write_file(f->bad, buf, len);
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* The core assertion: every unseal path rejects `path` with `code` and a
 * detail naming `what`, and leaves nothing behind. */
static void expect_rejected_with(fixture *f, const char *path, const cachet_seal_key *key,
                                 uint32_t code, const char *what)
{
    const cachet_rc want = CACHET_RC(CACHET_SUB_SEAL, code);
    const int entries = st_count_entries(f->dir);
    char *out = tu_asprintf("%s/plain.out", f->dir);

    /* 1. to a path, in parallel */
    cachet_unseal_opts o2 = {.threads = 2};
    cachet_rc rc = cachet_seal_unseal_file(path, out, key, NULL, &o2, NULL);
    if (rc != want)
        fail_msg("unseal_file: expected %s, got %s (%s)", cachet_rc_str(want), cachet_rc_str(rc),
                 cachet_err_detail());
    if (!strstr(cachet_err_detail(), what))
        fail_msg("detail '%s' does not mention '%s'", cachet_err_detail(), what);
    assert_false(st_exists(out));
    assert_int_equal(st_count_entries(f->dir), entries); /* no temporary left either */

    /* 2. to a memfd */
    int fd = 12345;
    rc = cachet_seal_unseal_memfd(path, key, NULL, NULL, &fd, NULL);
    assert_int_equal(rc, want);
    assert_int_equal(fd, -1);

    /* 3. into a caller buffer, reading chunks or mapping the file: whatever
     * stage fails, the buffer ends up wiped */
    for (int mapped = 0; mapped <= 1; mapped++) {
        cachet_seal_reader *r = NULL;
        cachet_unseal_opts o = {.threads = 2, .map_input = mapped};
        rc = cachet_seal_reader_open(path, &r);
        if (rc == CACHET_OK)
            rc = cachet_seal_reader_unlock(r, key);
        if (rc == CACHET_OK) {
            size_t n = (size_t)cachet_seal_reader_header(r)->plaintext_len;
            uint8_t *buf = malloc(n + 1);
            memset(buf, 0xAA, n + 1);
            rc = cachet_seal_reader_decrypt_buffer(r, buf, n, &o);
            assert_true(all_zero(buf, n));
            free(buf);
        }
        assert_int_equal(rc, want);
        cachet_seal_reader_free(r);
    }
    free(out);
}

static void expect_rejected(fixture *f, uint32_t code, const char *what)
{
    expect_rejected_with(f, f->bad, f->key, code, what);
}

/* ---- keys ---- */

static void test_wrong_key(void **state)
{
    fixture *f = *state;
    cachet_seal_key *other = st_key(2);
    expect_rejected_with(f, f->sealed, other, CACHET_E_AUTH, "wrong key");
    cachet_seal_key_free(other);
}

/* ---- truncation ---- */

static void test_truncated_mid_chunk(void **state)
{
    fixture *f = *state;
    write_bad(f, f->bytes, chunk_off(f, 2) + 1000);
    expect_rejected(f, CACHET_E_TRUNCATED, "truncated");
}

static void test_truncated_drop_final_chunk(void **state)
{
    fixture *f = *state;
    write_bad(f, f->bytes, chunk_off(f, N_FULL)); /* ends exactly at a chunk boundary */
    expect_rejected(f, CACHET_E_TRUNCATED, "4 whole chunks present");
}

static void test_truncated_final_tag(void **state)
{
    fixture *f = *state;
    write_bad(f, f->bytes, f->len - 1);
    expect_rejected(f, CACHET_E_TRUNCATED, "truncated");
}

static void test_truncated_to_zero_chunks(void **state)
{
    fixture *f = *state;
    write_bad(f, f->bytes, f->h.header_len);
    expect_rejected(f, CACHET_E_TRUNCATED, "none of its 5 chunks");
}

/* An empty plaintext still has one (empty, final) chunk: cutting it off is caught. */
static void test_truncated_empty_plaintext_to_header(void **state)
{
    fixture *f = *state;
    uint8_t d[CACHET_SEAL_DIGEST_LEN];
    char *empty = st_seal_buffer(f->dir, "empty", f->data, 0, f->key, ST_CHUNK, 1, d);
    size_t n = 0;
    uint8_t *b = tu_read_file(empty, &n);
    cachet_seal_header h;
    assert_seal_ok(cachet_seal_header_parse(b, n, &h));
    assert_int_equal(n, h.header_len + CACHET_SEAL_TAG_LEN);
    write_bad(f, b, h.header_len);
    expect_rejected(f, CACHET_E_TRUNCATED, "none of its 1 chunks");
    free(b);
    free(empty);
}

static void test_truncated_in_header(void **state)
{
    fixture *f = *state;
    write_bad(f, f->bytes, 50);
    expect_rejected(f, CACHET_E_TRUNCATED, "header truncated");
    write_bad(f, f->bytes, f->h.header_len - 3);
    expect_rejected(f, CACHET_E_TRUNCATED, "header truncated");
}

static void test_zero_length_sealed_file(void **state)
{
    fixture *f = *state;
    write_bad(f, (const uint8_t *)"", 0);
    expect_rejected(f, CACHET_E_TRUNCATED, "empty");
}

/* ---- bit flips ---- */

static void test_flip_header_metadata(void **state)
{
    fixture *f = *state;
    uint8_t *c = copy_bytes(f);
    c[f->h.header_len - CACHET_SEAL_TAG_LEN - 3] ^= 0x04; /* inside the metadata */
    write_bad(f, c, f->len);
    expect_rejected(f, CACHET_E_AUTH, "header authentication failed");
    free(c);
}

static void test_flip_header_key_id(void **state)
{
    fixture *f = *state;
    uint8_t *c = copy_bytes(f);
    c[CACHET_SEAL_HEADER_FIXED + 2] ^= 0x01; /* 'f' -> 'g' in the key id */
    write_bad(f, c, f->len);
    expect_rejected(f, CACHET_E_AUTH, "header authentication failed");
    free(c);
}

static void test_flip_header_salt(void **state)
{
    fixture *f = *state;
    uint8_t *c = copy_bytes(f);
    c[40] ^= 0x80; /* salt: a different file key, so the header tag fails */
    write_bad(f, c, f->len);
    expect_rejected(f, CACHET_E_AUTH, "header authentication failed");
    free(c);
}

static void test_flip_header_tag(void **state)
{
    fixture *f = *state;
    uint8_t *c = copy_bytes(f);
    c[f->h.header_len - 1] ^= 0x01;
    write_bad(f, c, f->len);
    expect_rejected(f, CACHET_E_AUTH, "header authentication failed");
    free(c);
}

static void test_flip_key_check(void **state)
{
    fixture *f = *state;
    uint8_t *c = copy_bytes(f);
    c[70] ^= 0x10; /* the key check value: indistinguishable from a wrong key */
    write_bad(f, c, f->len);
    expect_rejected(f, CACHET_E_AUTH, "wrong key");
    free(c);
}

static void test_flip_ciphertext(void **state)
{
    fixture *f = *state;
    uint8_t *c = copy_bytes(f);
    c[chunk_off(f, 2) + 1234] ^= 0x01;
    write_bad(f, c, f->len);
    expect_rejected(f, CACHET_E_AUTH, "chunk 2: authentication failed");
    free(c);
}

static void test_flip_final_chunk(void **state)
{
    fixture *f = *state;
    uint8_t *c = copy_bytes(f);
    c[chunk_off(f, N_FULL) + LAST_LEN - 1] ^= 0x40;
    write_bad(f, c, f->len);
    expect_rejected(f, CACHET_E_AUTH, "chunk 4: authentication failed");
    free(c);
}

static void test_flip_tag(void **state)
{
    fixture *f = *state;
    uint8_t *c = copy_bytes(f);
    c[tag_off(f, 1) + 15] ^= 0x01;
    write_bad(f, c, f->len);
    expect_rejected(f, CACHET_E_AUTH, "chunk 1: authentication failed");
    free(c);
}

/* Every single-bit flip anywhere in the header is rejected, one way or another. */
static void test_flip_every_header_bit(void **state)
{
    fixture *f = *state;
    tu_write_file(f->bad, f->bytes, f->len);
    for (uint64_t off = 0; off < f->h.header_len; off++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            st_flip_bit(f->bad, off, bit);
            cachet_seal_reader *r = NULL;
            cachet_rc rc = cachet_seal_reader_open(f->bad, &r);
            if (rc == CACHET_OK)
                rc = cachet_seal_reader_unlock(r, f->key);
            if (rc == CACHET_OK)
                rc = cachet_seal_reader_decrypt_fd(r, -1, NULL);
            if (rc == CACHET_OK)
                fail_msg("flipping bit %u of header byte %llu went unnoticed", bit,
                         (unsigned long long)off);
            cachet_seal_reader_free(r);
            st_flip_bit(f->bad, off, bit);
        }
    }
}

/* ---- reordering and splicing ---- */

static void test_swapped_chunks(void **state)
{
    fixture *f = *state;
    uint8_t *c = copy_bytes(f);
    memcpy(c + chunk_off(f, 1), f->bytes + chunk_off(f, 2), STRIDE);
    memcpy(c + chunk_off(f, 2), f->bytes + chunk_off(f, 1), STRIDE);
    write_bad(f, c, f->len);
    expect_rejected(f, CACHET_E_AUTH, "chunk 1: authentication failed");
    free(c);
}

/* A chunk (with its tag) copied from another file sealed with the same key
 * and the same geometry, at the same index. */
static void test_chunk_from_other_file(void **state)
{
    fixture *f = *state;
    uint8_t d[CACHET_SEAL_DIGEST_LEN];
    uint8_t *other_data = st_pattern(DATA_LEN, 99);
    char *other = st_seal_buffer(f->dir, "other", other_data, DATA_LEN, f->key, ST_CHUNK, 1, d);
    size_t n = 0;
    uint8_t *ob = tu_read_file(other, &n);
    assert_int_equal(n, f->len);
    uint8_t *c = copy_bytes(f);
    memcpy(c + chunk_off(f, 3), ob + chunk_off(f, 3), STRIDE);
    write_bad(f, c, f->len);
    expect_rejected(f, CACHET_E_AUTH, "chunk 3: authentication failed");
    free(c);
    free(ob);
    free(other);
    free(other_data);
}

/* Another file's (valid, same-key) header in front of this file's chunks. */
static void test_foreign_header(void **state)
{
    fixture *f = *state;
    uint8_t d[CACHET_SEAL_DIGEST_LEN];
    char *other = st_seal_buffer(f->dir, "other", f->data, DATA_LEN, f->key, ST_CHUNK, 1, d);
    size_t n = 0;
    uint8_t *ob = tu_read_file(other, &n);
    assert_int_equal(n, f->len);
    uint8_t *c = copy_bytes(f);
    memcpy(c, ob, f->h.header_len);
    write_bad(f, c, f->len);
    expect_rejected(f, CACHET_E_AUTH, "chunk 0: authentication failed");
    free(c);
    free(ob);
    free(other);
}

/* ---- foreign or malformed headers ---- */

static void test_garbage_file(void **state)
{
    fixture *f = *state;
    uint8_t *g = st_pattern(5000, 1234);
    write_bad(f, g, 5000);
    expect_rejected(f, CACHET_E_FORMAT, "bad magic");
    free(g);
}

static void test_bad_magic(void **state)
{
    fixture *f = *state;
    uint8_t *c = copy_bytes(f);
    c[3] = 'X';
    write_bad(f, c, f->len);
    expect_rejected(f, CACHET_E_FORMAT, "bad magic");
    free(c);
}

static void test_unsupported_version(void **state)
{
    fixture *f = *state;
    uint8_t *c = copy_bytes(f);
    cachet_put_le16(c + 8, 2);
    write_bad(f, c, f->len);
    expect_rejected(f, CACHET_E_UNSUPPORTED, "version 2");
    free(c);
}

static void test_unsupported_algorithm(void **state)
{
    fixture *f = *state;
    uint8_t *c = copy_bytes(f);
    cachet_put_le16(c + 10, 7);
    write_bad(f, c, f->len);
    expect_rejected(f, CACHET_E_UNSUPPORTED, "algorithm 7");
    free(c);
}

static void test_huge_declared_length(void **state)
{
    fixture *f = *state;
    uint8_t *c = copy_bytes(f);
    cachet_put_le64(c + 24, UINT64_MAX - 5);
    write_bad(f, c, f->len);
    expect_rejected(f, CACHET_E_LIMIT, "declared plaintext length");
    free(c);
}

/* Within the limit but far beyond the file: caught by size, before any key. */
static void test_declared_length_beyond_file(void **state)
{
    fixture *f = *state;
    uint8_t *c = copy_bytes(f);
    cachet_put_le64(c + 24, (uint64_t)1 << 40);
    write_bad(f, c, f->len);
    expect_rejected(f, CACHET_E_TRUNCATED, "truncated");
    free(c);
}

static void test_trailing_garbage(void **state)
{
    fixture *f = *state;
    uint8_t *c = copy_bytes(f);
    memcpy(c + f->len, "extra", 5);
    write_bad(f, c, f->len + 5);
    expect_rejected(f, CACHET_E_FORMAT, "5 trailing bytes");
    free(c);
}

static void test_reserved_bits(void **state)
{
    fixture *f = *state;
    uint8_t *c = copy_bytes(f);
    c[20] = 1;
    write_bad(f, c, f->len);
    expect_rejected(f, CACHET_E_FORMAT, "reserved");
    free(c);
}

static void test_header_length_field(void **state)
{
    fixture *f = *state;
    uint8_t *c = copy_bytes(f);
    cachet_put_le32(c + 12, f->h.header_len + 16);
    write_bad(f, c, f->len);
    expect_rejected(f, CACHET_E_FORMAT, "length field");
    free(c);
}

static void test_chunk_size_out_of_range(void **state)
{
    fixture *f = *state;
    uint8_t *c = copy_bytes(f);
    cachet_put_le32(c + 16, 16);
    write_bad(f, c, f->len);
    expect_rejected(f, CACHET_E_RANGE, "chunk size 16");
    free(c);
}

/* ---- pinned digest ---- */

static void test_expect_digest_mismatch(void **state)
{
    fixture *f = *state;
    uint8_t d[CACHET_SEAL_DIGEST_LEN];
    char *other = st_seal_buffer(f->dir, "other", f->data, DATA_LEN, f->key, ST_CHUNK, 1, d);
    char *out = tu_asprintf("%s/plain.out", f->dir);
    int entries = st_count_entries(f->dir);
    /* The same plaintext sealed again is a different file, with a different digest. */
    assert_seal_rc(cachet_seal_unseal_file(f->sealed, out, f->key, d, NULL, NULL), MISMATCH);
    assert_non_null(strstr(cachet_err_detail(), "content digest mismatch"));
    assert_false(st_exists(out));
    assert_int_equal(st_count_entries(f->dir), entries);
    int fd = 0;
    assert_seal_rc(cachet_seal_unseal_memfd(f->sealed, f->key, d, NULL, &fd, NULL), MISMATCH);
    assert_int_equal(fd, -1);
    free(out);
    free(other);
}

/* A failed decrypt into an fd leaves it empty, not holding a prefix. */
static void test_fd_truncated_on_failure(void **state)
{
    fixture *f = *state;
    uint8_t *c = copy_bytes(f);
    c[chunk_off(f, 3) + 7] ^= 0x02;
    write_bad(f, c, f->len);
    char *out = tu_asprintf("%s/fd.out", f->dir);
    FILE *fp = fopen(out, "w+");
    assert_non_null(fp);
    cachet_seal_reader *r = NULL;
    assert_seal_ok(cachet_seal_reader_open(f->bad, &r));
    assert_seal_ok(cachet_seal_reader_unlock(r, f->key));
    assert_seal_rc(cachet_seal_reader_decrypt_fd(r, fileno(fp), NULL), AUTH);
    fclose(fp);
    size_t n = 99;
    uint8_t *got = tu_read_file(out, &n);
    assert_int_equal(n, 0);
    free(got);
    cachet_seal_reader_free(r);
    free(out);
    free(c);
}

/* Chunks bigger than the unsealer's staging piece (256 KiB) and not a
 * multiple of it are decrypted a piece at a time with the tag checked last: a
 * flip in any piece still fails the whole chunk and leaves nothing behind,
 * and the good file still round-trips on every path. */
#define BIG_CHUNK ((4u << 18) + 1001u)
#define BIG_LEN (2 * (size_t)BIG_CHUNK + 300007)

static void test_flip_in_multi_piece_chunks(void **state)
{
    fixture *f = *state;
    uint8_t *data = st_pattern(BIG_LEN, 77);
    char *good = st_seal_buffer(f->dir, "big", data, BIG_LEN, f->key, BIG_CHUNK, 2, NULL);
    cachet_seal_header h;
    uint8_t *bytes;
    size_t len;
    st_read_header(good, &h, &bytes, &len);
    const uint64_t stride = (uint64_t)BIG_CHUNK + CACHET_SEAL_TAG_LEN;

    /* Good: buffer (read or mapped, 1 or 2 threads), memfd, file. */
    for (unsigned t = 1; t <= 2; t++) {
        for (int mapped = 0; mapped <= 1; mapped++) {
            cachet_unseal_opts o = {.threads = t, .map_input = mapped};
            cachet_seal_reader *r = NULL;
            assert_seal_ok(cachet_seal_reader_open(good, &r));
            assert_seal_ok(cachet_seal_reader_unlock(r, f->key));
            uint8_t *buf = malloc(BIG_LEN);
            assert_seal_ok(cachet_seal_reader_decrypt_buffer(r, buf, BIG_LEN, &o));
            assert_memory_equal(buf, data, BIG_LEN);
            free(buf);
            int fd = -1;
            assert_seal_ok(cachet_seal_reader_decrypt_memfd(r, &o, &fd));
            size_t n = 0;
            uint8_t *got = malloc(BIG_LEN + 1);
            ssize_t k;
            while ((k = read(fd, got + n, BIG_LEN + 1 - n)) > 0)
                n += (size_t)k;
            assert_int_equal(n, BIG_LEN);
            assert_memory_equal(got, data, BIG_LEN);
            free(got);
            close(fd);
            cachet_seal_reader_free(r);
        }
    }
    char *out = tu_asprintf("%s/big.out", f->dir);
    cachet_unseal_opts o2 = {.threads = 2};
    assert_seal_ok(cachet_seal_unseal_file(good, out, f->key, NULL, &o2, NULL));
    size_t n = 0;
    uint8_t *got = tu_read_file(out, &n);
    assert_int_equal(n, BIG_LEN);
    assert_memory_equal(got, data, BIG_LEN);
    free(got);
    unlink(out);

    /* Bad: a flip in the first, a middle and the last piece of a chunk, and
     * in the final (short, two-piece) chunk's second piece. */
    const struct {
        uint64_t off;
        const char *what;
    } flips[] = {
        {h.header_len + 5, "chunk 0: authentication failed"},
        {h.header_len + stride + (600u << 10), "chunk 1: authentication failed"},
        {h.header_len + stride + BIG_CHUNK - 1, "chunk 1: authentication failed"},
        {h.header_len + 2 * stride + 300000, "chunk 2: authentication failed"},
    };
    for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
        uint8_t *c = malloc(len);
        memcpy(c, bytes, len);
        c[flips[i].off] ^= 0x10;
        write_bad(f, c, len);
        expect_rejected(f, CACHET_E_AUTH, flips[i].what);
        free(c);
    }
    unlink(good);
    free(out);
    free(good);
    free(bytes);
    free(data);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_wrong_key),
        T(test_truncated_mid_chunk),
        T(test_truncated_drop_final_chunk),
        T(test_truncated_final_tag),
        T(test_truncated_to_zero_chunks),
        T(test_truncated_empty_plaintext_to_header),
        T(test_truncated_in_header),
        T(test_zero_length_sealed_file),
        T(test_flip_header_metadata),
        T(test_flip_header_key_id),
        T(test_flip_header_salt),
        T(test_flip_header_tag),
        T(test_flip_key_check),
        T(test_flip_ciphertext),
        T(test_flip_final_chunk),
        T(test_flip_tag),
        T(test_flip_every_header_bit),
        T(test_swapped_chunks),
        T(test_chunk_from_other_file),
        T(test_foreign_header),
        T(test_garbage_file),
        T(test_bad_magic),
        T(test_unsupported_version),
        T(test_unsupported_algorithm),
        T(test_huge_declared_length),
        T(test_declared_length_beyond_file),
        T(test_trailing_garbage),
        T(test_reserved_bits),
        T(test_header_length_field),
        T(test_chunk_size_out_of_range),
        T(test_expect_digest_mismatch),
        T(test_fd_truncated_on_failure),
        T(test_flip_in_multi_piece_chunks),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
