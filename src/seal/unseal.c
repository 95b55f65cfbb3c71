/* Whole-file decryption, in parallel.  Each worker has its own AES-GCM
 * context and (for fd output) its own chunk buffer; it reads its chunk with
 * pread into private memory (straight into the destination when that is
 * memory) and decrypts in place, or, with map_input, decrypts from a
 * mapping of the sealed file.  Nothing is allocated per chunk.  On failure
 * the destination is wiped or truncated. */
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
    uint8_t **buf;        /* one chunk + tag per worker (fd output only) */
    int out_fd;           /* -1: authenticate only */
    uint8_t *out_mem;     /* decrypt straight into this memory instead */
    const uint8_t *map;   /* map_input: the whole sealed file */
    size_t map_len;
} unsealer;

static void unsealer_free(unsealer *u)
{
    for (unsigned i = 0; u->aead && i < u->threads; i++)
        cachet_aead_free(u->aead[i]);
    for (unsigned i = 0; u->buf && i < u->threads; i++)
        cachet_secure_free(u->buf[i]);
    free(u->aead);
    free(u->buf);
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
    u->buf = calloc(u->threads, sizeof *u->buf);
    if (!u->aead || !u->buf)
        return seal_err(NOMEM, "out of memory");
    for (unsigned i = 0; i < u->threads; i++) {
        u->aead[i] = cachet_aead_new(r->file_key);
        if (!u->aead[i])
            return seal_wrap(cachet_err_last(), "setting up AES-256-GCM");
    }
    if (o && o->map_input)
        return map_input(u);
    return CACHET_OK;
}

/* Chunk buffers in secure memory: they hold plaintext. */
static cachet_rc unsealer_buffers(unsealer *u)
{
    const size_t size = (size_t)u->r->g.chunk_size + CACHET_SEAL_TAG_LEN;
    for (unsigned i = 0; i < u->threads; i++) {
        u->buf[i] = cachet_secure_alloc(size);
        if (!u->buf[i])
            return seal_err(NOMEM, "no memory for a %zu-byte chunk buffer", size);
    }
    return CACHET_OK;
}

static cachet_rc chunk_read_error(cachet_rc rc, uint64_t i)
{
    if (cachet_rc_code(rc) == CACHET_E_TRUNCATED)
        return seal_err(TRUNCATED, "chunk %llu: the sealed file shrank while being read",
                        (unsigned long long)i);
    return seal_wrap(rc, "reading a chunk");
}

/* Decrypt chunk i into dst (len bytes): from the mapping, or by reading the
 * ciphertext into dst and decrypting in place. */
static cachet_rc decrypt_chunk_to(unsealer *u, unsigned worker, uint64_t i, uint8_t *dst)
{
    const seal_geom *g = &u->r->g;
    const size_t len = seal_geom_chunk_len(g, i);
    const uint64_t off = seal_geom_chunk_offset(g, i);
    const bool final = seal_geom_is_final(g, i);
    uint8_t tag[CACHET_SEAL_TAG_LEN];
    if (u->map) {
        /* Map the chunk's pages in one call rather than a fault per 64 KiB. */
        const uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
        const uint64_t start = off / page * page;
        (void)madvise((void *)(u->map + start), (size_t)(off + len + sizeof tag - start),
                      MADV_POPULATE_READ);
        memcpy(tag, u->map + off + len, sizeof tag);
        return seal_chunk_decrypt_from(u->aead[worker], u->r->header_digest, i, final,
                                       u->map + off, dst, len, tag);
    }
    cachet_rc rc = cachet_fd_pread_full(u->r->fd, dst, len, off);
    if (rc == CACHET_OK)
        rc = cachet_fd_pread_full(u->r->fd, tag, sizeof tag, off + len);
    if (rc != CACHET_OK)
        return chunk_read_error(rc, i);
    return seal_chunk_decrypt(u->aead[worker], u->r->header_digest, i, final, dst, len, tag);
}

static cachet_rc unseal_one(void *ctx, unsigned worker, uint64_t i)
{
    unsealer *u = ctx;
    const seal_geom *g = &u->r->g;
    if (u->out_mem)
        return decrypt_chunk_to(u, worker, i, u->out_mem + i * (uint64_t)g->chunk_size);
    cachet_rc rc = decrypt_chunk_to(u, worker, i, u->buf[worker]);
    if (rc != CACHET_OK || u->out_fd < 0)
        return rc;
    rc = cachet_fd_pwrite_full(u->out_fd, u->buf[worker], seal_geom_chunk_len(g, i),
                               i * (uint64_t)g->chunk_size);
    return rc == CACHET_OK ? CACHET_OK : seal_wrap(rc, "writing the plaintext");
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
    if (rc == CACHET_OK)
        rc = unsealer_buffers(&u);
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
    if (rc == CACHET_OK && r->g.plaintext_len == 0) /* the one empty chunk: nowhere to put it */
        rc = unsealer_buffers(&u);
    else
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
    /* pwrite from the per-worker buffers: shmem pages written whole need no
     * zeroing, which makes this cheaper than faulting in a mapping. */
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
