/* Whole-file decryption, in parallel.  Each worker has its own AES-GCM
 * context and a small staging buffer (SEAL_PIECE bytes, sized to stay in
 * L2).  A chunk is read with pread a piece at a time into the staging buffer
 * and each piece decrypted from there straight to its destination (caller
 * memory), or in place and then pwritten (fd output), so the ciphertext and
 * the plaintext each cross DRAM once; the chunk's tag is checked after its
 * last piece.  Until then the pieces written are unauthenticated, which is
 * why every failure wipes the destination memory or truncates the output
 * (whose file the callers unlink or close).  With map_input the chunk is
 * decrypted from a mapping of the sealed file instead.  Nothing is allocated
 * per chunk. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cachet/fileio.h"
#include "cachet/secmem.h"
#include "seal/seal_int.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22 /* Linux 5.14; older kernels just fault as usual */
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U /* Linux 6.3 */
#endif

typedef struct unsealer {
    cachet_seal_reader *r;
    unsigned threads;
    cachet_aead **aead;   /* one per worker */
    uint8_t **stage;      /* one piece + tag per worker, secure memory */
    int out_fd;           /* -1: authenticate only */
    uint8_t *out_mem;     /* decrypt straight into this memory instead */
    const uint8_t *map;   /* map_input: the whole sealed file */
    size_t map_len;
} unsealer;

static void unsealer_free(unsealer *u)
{
    for (unsigned i = 0; u->aead && i < u->threads; i++)
        cachet_aead_free(u->aead[i]);
    for (unsigned i = 0; u->stage && i < u->threads; i++)
        cachet_secure_free(u->stage[i]);
    free(u->aead);
    free(u->stage);
    if (u->map)
        munmap((void *)u->map, u->map_len);
}

static cachet_rc map_input(unsealer *u)
{
    const cachet_seal_reader *r = u->r;
    struct stat st;
    if (fstat(r->fd, &st) != 0)
        return seal_err(IO, "fstat: %s", strerror(errno));
    /* Mapped pages past the end of a shrunken file fault: check first. */
    if ((uint64_t)st.st_size != r->file_size)
        return seal_err(TRUNCATED, "the sealed file changed size while open (%llu, now %lld bytes)",
                        (unsigned long long)r->file_size, (long long)st.st_size);
    if (r->file_size > SIZE_MAX)
        return seal_err(LIMIT, "the sealed file is too large to map");
    void *m = mmap(NULL, (size_t)r->file_size, PROT_READ, MAP_SHARED, r->fd, 0);
    if (m == MAP_FAILED)
        return seal_err(IO, "mapping the sealed file: %s", strerror(errno));
    (void)madvise(m, (size_t)r->file_size, MADV_SEQUENTIAL);
    u->map = m;
    u->map_len = (size_t)r->file_size;
    return CACHET_OK;
}

static cachet_rc unsealer_init(unsealer *u, cachet_seal_reader *r, const cachet_unseal_opts *o)
{
    *u = (unsealer){.r = r, .out_fd = -1};
    if (!r)
        return seal_err(INVALID_ARG, "unseal: NULL reader");
    if (!r->unlocked)
        return seal_err(STATE, "unlock the sealed file before decrypting");
    u->threads = seal_pool_threads(o ? o->threads : 1, r->g.chunk_count);
    u->aead = calloc(u->threads, sizeof *u->aead);
    u->stage = calloc(u->threads, sizeof *u->stage);
    if (!u->aead || !u->stage)
        return seal_err(NOMEM, "out of memory");
    /* Secure memory: fd output decrypts in place there. */
    const size_t size = SEAL_PIECE + CACHET_SEAL_TAG_LEN;
    for (unsigned i = 0; i < u->threads; i++) {
        u->aead[i] = cachet_aead_new(r->file_key);
        if (!u->aead[i])
            return seal_wrap(cachet_err_last(), "setting up AES-256-GCM");
        u->stage[i] = cachet_secure_alloc(size);
        if (!u->stage[i])
            return seal_err(NOMEM, "no memory for a %zu-byte staging buffer", size);
    }
    if (o && o->map_input)
        return map_input(u);
    return CACHET_OK;
}

static cachet_rc chunk_read_error(cachet_rc rc, uint64_t i)
{
    if (cachet_rc_code(rc) == CACHET_E_TRUNCATED)
        return seal_err(TRUNCATED, "chunk %llu: the sealed file shrank while being read",
                        (unsigned long long)i);
    return seal_wrap(rc, "reading a chunk");
}

/* n bytes of chunk i's ciphertext at file offset pos (and, on the last
 * piece, the tag after them): from the mapping, or read into the staging
 * buffer. */
static cachet_rc fetch_piece(unsealer *u, uint8_t *stage, uint64_t i, uint64_t pos, size_t n,
                             bool last, const uint8_t **src, uint8_t tag[CACHET_SEAL_TAG_LEN])
{
    const size_t want = n + (last ? CACHET_SEAL_TAG_LEN : 0);
    if (u->map) {
        *src = u->map + pos;
    } else {
        cachet_rc rc = cachet_fd_pread_full(u->r->fd, stage, want, pos);
        if (rc != CACHET_OK)
            return chunk_read_error(rc, i);
        *src = stage;
    }
    if (last)
        memcpy(tag, *src + n, CACHET_SEAL_TAG_LEN);
    return CACHET_OK;
}

/* Decrypt chunk i a piece at a time, to dst + done, or (no dst) in the
 * staging buffer and on to out_fd when there is one. */
static cachet_rc unseal_one(void *ctx, unsigned worker, uint64_t i)
{
    unsealer *u = ctx;
    const seal_geom *g = &u->r->g;
    const size_t len = seal_geom_chunk_len(g, i);
    const uint64_t off = seal_geom_chunk_offset(g, i);
    const uint64_t out_off = i * (uint64_t)g->chunk_size;
    uint8_t *dst = u->out_mem ? u->out_mem + out_off : NULL;
    cachet_aead *a = u->aead[worker];
    uint8_t *stage = u->stage[worker];
    uint8_t tag[CACHET_SEAL_TAG_LEN];
    if (u->map) {
        /* Map the chunk's pages in one call rather than a fault per 64 KiB. */
        const uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
        const uint64_t start = off / page * page;
        (void)madvise((void *)(u->map + start), (size_t)(off + len + sizeof tag - start),
                      MADV_POPULATE_READ);
    }
    cachet_rc rc = seal_chunk_begin(a, u->r->header_digest, i, seal_geom_is_final(g, i), false);
    size_t done = 0;
    while (rc == CACHET_OK) {
        const size_t n = len - done < SEAL_PIECE ? len - done : SEAL_PIECE;
        const bool last = done + n == len;
        const uint8_t *src = NULL;
        uint8_t *out = dst ? dst + done : stage;
        rc = fetch_piece(u, stage, i, off + done, n, last, &src, tag);
        if (rc == CACHET_OK)
            rc = seal_chunk_piece(a, false, src, out, n);
        if (rc == CACHET_OK && !dst && u->out_fd >= 0) {
            rc = cachet_fd_pwrite_full(u->out_fd, out, n, out_off + done);
            if (rc != CACHET_OK)
                rc = seal_wrap(rc, "writing the plaintext");
        }
        done += n;
        if (rc == CACHET_OK && last)
            return seal_chunk_open_finish(a, i, tag);
    }
    return rc;
}

static cachet_rc unsealer_run(unsealer *u, const cachet_unseal_opts *o)
{
    seal_pool_job job = {
        .chunk_count = u->r->g.chunk_count, .chunk_size = u->r->g.chunk_size,
        .total_bytes = u->r->g.plaintext_len, .threads = u->threads, .fn = unseal_one, .ctx = u,
        .progress = o ? o->progress : NULL, .progress_arg = o ? o->progress_arg : NULL,
    };
    return seal_pool_run(&job);
}

cachet_rc cachet_seal_reader_decrypt_fd(cachet_seal_reader *r, int out_fd,
                                        const cachet_unseal_opts *opts)
{
    unsealer u;
    cachet_rc rc = unsealer_init(&u, r, opts);
    u.out_fd = out_fd;
    /* Size the output first: pwrite may then land anywhere, and whatever the
     * file held before is gone. */
    bool written = false;
    if (rc == CACHET_OK && out_fd >= 0) {
        if (ftruncate(out_fd, (off_t)r->g.plaintext_len) != 0)
            rc = seal_err(IO, "sizing the output to %llu bytes: %s (it must be a regular file or "
                          "memfd)", (unsigned long long)r->g.plaintext_len, strerror(errno));
        written = rc == CACHET_OK;
    }
    if (rc == CACHET_OK)
        rc = unsealer_run(&u, opts);
    if (rc != CACHET_OK && written && ftruncate(out_fd, 0) != 0) {
        /* Cannot drop the partial plaintext: the caller must discard the fd. */
    }
    unsealer_free(&u);
    return rc;
}

cachet_rc cachet_seal_reader_decrypt_buffer(cachet_seal_reader *r, void *buf, size_t cap,
                                            const cachet_unseal_opts *opts)
{
    if (r && (uint64_t)cap < r->g.plaintext_len)
        return seal_err(INVALID_ARG, "buffer of %zu bytes cannot hold %llu bytes of plaintext", cap,
                        (unsigned long long)r->g.plaintext_len);
    if (r && r->g.plaintext_len && !buf)
        return seal_err(INVALID_ARG, "decrypt_buffer: NULL buffer");
    unsealer u;
    cachet_rc rc = unsealer_init(&u, r, opts);
    if (r && r->g.plaintext_len) /* the one empty chunk needs no destination */
        u.out_mem = buf;
    if (rc == CACHET_OK)
        rc = unsealer_run(&u, opts);
    if (rc != CACHET_OK && buf && r)
        cachet_wipe(buf, (size_t)r->g.plaintext_len);
    unsealer_free(&u);
    return rc;
}

static int memfd_new(void)
{
    const unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
    /* Not executable, and sealed so: plaintext weights are data. */
    int fd = memfd_create("cachet-unsealed", flags | MFD_NOEXEC_SEAL);
    if (fd < 0 && errno == EINVAL)
        fd = memfd_create("cachet-unsealed", flags);
    return fd;
}

cachet_rc cachet_seal_reader_decrypt_memfd(cachet_seal_reader *r, const cachet_unseal_opts *opts,
                                           int *memfd_out)
{
    if (!memfd_out)
        return seal_err(INVALID_ARG, "decrypt_memfd: NULL argument");
    *memfd_out = -1;
    if (!r || !r->unlocked)
        return seal_err(STATE, "unlock the sealed file before decrypting");
    int fd = memfd_new();
    if (fd < 0)
        return seal_err(IO, "memfd_create: %s", strerror(errno));
    /* pwrite from the per-worker staging buffers: shmem pages written whole
     * need no zeroing, which makes this cheaper than faulting in a mapping. */
    cachet_rc rc = cachet_seal_reader_decrypt_fd(r, fd, opts);
    /* Freeze the contents: the server maps what was authenticated, and
     * nobody holding the fd can change it afterwards. */
    if (rc == CACHET_OK &&
        fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0)
        rc = seal_err(IO, "sealing the memfd: %s", strerror(errno));
    if (rc == CACHET_OK && lseek(fd, 0, SEEK_SET) != 0)
        rc = seal_err(IO, "lseek: %s", strerror(errno));
    if (rc != CACHET_OK) {
        close(fd);
        return rc;
    }
    *memfd_out = fd;
    return CACHET_OK;
}

static cachet_rc open_unlocked(const char *in_path, const cachet_seal_key *key,
                               const uint8_t *expect_digest, cachet_seal_reader **r)
{
    cachet_rc rc = cachet_seal_reader_open(in_path, r);
    if (rc == CACHET_OK)
        rc = cachet_seal_reader_unlock(*r, key);
    if (rc == CACHET_OK && expect_digest)
        rc = cachet_seal_reader_expect_digest(*r, expect_digest);
    return rc;
}

cachet_rc cachet_seal_unseal_file(const char *in_path, const char *out_path,
                                  const cachet_seal_key *key,
                                  const uint8_t expect_digest[CACHET_SEAL_DIGEST_LEN],
                                  const cachet_unseal_opts *opts,
                                  uint8_t digest_out[CACHET_SEAL_DIGEST_LEN])
{
    if (!in_path || !out_path || !key)
        return seal_err(INVALID_ARG, "unseal_file: NULL argument");
    cachet_seal_reader *r = NULL;
    seal_outfile out = {.fd = -1};
    cachet_rc rc = open_unlocked(in_path, key, expect_digest, &r);
    if (rc == CACHET_OK)
        rc = seal_outfile_create(&out, out_path, 0600); /* plaintext: owner only */
    if (rc == CACHET_OK)
        rc = cachet_seal_reader_decrypt_fd(r, out.fd, opts);
    if (rc == CACHET_OK)
        rc = seal_outfile_commit(&out);
    if (rc == CACHET_OK && digest_out)
        memcpy(digest_out, r->content_digest, CACHET_SEAL_DIGEST_LEN);
    seal_outfile_abort(&out);
    cachet_seal_reader_free(r);
    return rc;
}

cachet_rc cachet_seal_unseal_memfd(const char *in_path, const cachet_seal_key *key,
                                   const uint8_t expect_digest[CACHET_SEAL_DIGEST_LEN],
                                   const cachet_unseal_opts *opts, int *memfd_out,
                                   uint8_t digest_out[CACHET_SEAL_DIGEST_LEN])
{
    if (!in_path || !key || !memfd_out)
        return seal_err(INVALID_ARG, "unseal_memfd: NULL argument");
    *memfd_out = -1;
    cachet_seal_reader *r = NULL;
    cachet_rc rc = open_unlocked(in_path, key, expect_digest, &r);
    if (rc == CACHET_OK)
        rc = cachet_seal_reader_decrypt_memfd(r, opts, memfd_out);
    if (rc == CACHET_OK && digest_out)
        memcpy(digest_out, r->content_digest, CACHET_SEAL_DIGEST_LEN);
    cachet_seal_reader_free(r);
    return rc;
}
