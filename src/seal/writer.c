/* Sealing: header, header tag, then the chunks, either streamed (any
 * input/output, pipes included) or encrypted in parallel with pread/pwrite
 * when both ends are seekable files.  Either way each chunk goes through a
 * small per-worker staging buffer a piece at a time (read, encrypt in place,
 * write), so the data stays in cache between the three. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cachet/fileio.h"
#include "cachet/secmem.h"
#include "seal/seal_int.h"

/* Parallel sealing keeps every tag (16 bytes a chunk) for the digest; past
 * this many chunks (64 MiB of tags) it streams instead. */
#define PARALLEL_MAX_CHUNKS ((uint64_t)1 << 22)

typedef struct writer {
    seal_geom g;
    uint8_t header_digest[CACHET_SHA256_LEN];
    uint8_t *file_key; /* secure memory */
    unsigned threads;
    cachet_aead **aead; /* one per worker */
    uint8_t **stage;    /* one piece + tag per worker, secure memory */
    int in_fd, out_fd;
    uint64_t in_base, out_base; /* offsets where input and output start (parallel) */
    uint8_t *tags;              /* parallel: all chunk tags, in order */
} writer;

static void writer_free(writer *w)
{
    for (unsigned i = 0; w->aead && i < w->threads; i++)
        cachet_aead_free(w->aead[i]);
    for (unsigned i = 0; w->stage && i < w->threads; i++)
        cachet_secure_free(w->stage[i]);
    free(w->aead);
    free(w->stage);
    free(w->tags);
    cachet_secure_free(w->file_key);
}

static cachet_rc writer_workers(writer *w)
{
    w->aead = calloc(w->threads, sizeof *w->aead);
    w->stage = calloc(w->threads, sizeof *w->stage);
    if (!w->aead || !w->stage)
        return seal_err(NOMEM, "out of memory");
    const size_t bufsize = SEAL_PIECE + CACHET_SEAL_TAG_LEN;
    for (unsigned i = 0; i < w->threads; i++) {
        w->aead[i] = cachet_aead_new(w->file_key);
        if (!w->aead[i])
            return seal_wrap(cachet_err_last(), "setting up AES-256-GCM");
        w->stage[i] = cachet_secure_alloc(bufsize);
        if (!w->stage[i])
            return seal_err(NOMEM, "no memory for a %zu-byte staging buffer", bufsize);
    }
    return CACHET_OK;
}

/* Salt, key check, file key, header bytes with their tag, header digest. */
static cachet_rc make_header(writer *w, const cachet_seal_key *key, const cachet_seal_params *p,
                             uint64_t in_len, uint8_t **header, size_t *header_len)
{
    uint8_t salt[CACHET_SEAL_SALT_LEN], check[CACHET_SEAL_KEY_CHECK_LEN];
    cachet_rc rc = cachet_random(salt, sizeof salt);
    if (rc != CACHET_OK)
        return seal_wrap(rc, "drawing the file salt");
    rc = seal_derive_key_check(key, check);
    if (rc != CACHET_OK)
        return rc;
    w->file_key = cachet_secure_alloc(CACHET_AES256_KEY_LEN);
    if (!w->file_key)
        return seal_err(NOMEM, "no secure memory for the file key");
    rc = seal_derive_file_key(key, salt, w->file_key);
    if (rc != CACHET_OK)
        return rc;
    rc = seal_header_build(p, w->g.chunk_size, in_len, salt, check, header, header_len);
    if (rc != CACHET_OK)
        return rc;
    w->g.header_len = *header_len;
    w->g.plaintext_len = in_len;
    w->g.chunk_count = seal_chunk_count(in_len, w->g.chunk_size);

    rc = writer_workers(w);
    if (rc != CACHET_OK)
        return rc;
    /* The header tag: GMAC over every header byte before it, under the file
     * key, with a nonce no chunk uses. */
    uint8_t nonce[CACHET_GCM_IV_LEN];
    seal_header_nonce(nonce);
    uint8_t *tag = *header + *header_len - CACHET_SEAL_TAG_LEN;
    rc = cachet_aead_seal(w->aead[0], nonce, *header, *header_len - CACHET_SEAL_TAG_LEN, NULL, 0,
                          NULL, tag);
    if (rc == CACHET_OK)
        rc = cachet_sha256(*header, *header_len, w->header_digest);
    return seal_wrap(rc, "authenticating the header");
}

static cachet_rc input_error(cachet_rc rc, const writer *w, uint64_t index)
{
    if (cachet_rc_code(rc) == CACHET_E_TRUNCATED)
        return seal_err(TRUNCATED, "the input ended early: chunk %llu of %llu is short of its %llu "
                        "bytes (the input shrank while being sealed?)",
                        (unsigned long long)index, (unsigned long long)w->g.chunk_count,
                        (unsigned long long)w->g.plaintext_len);
    return seal_wrap(rc, "reading the input");
}

/* Encrypt chunk i a piece at a time in worker's staging buffer: read it
 * (pread at its offset when positioned, else the next bytes), encrypt in
 * place, write it (pwrite at its offset, else append); the tag goes out with
 * the last piece and is copied to tag. */
static cachet_rc seal_one(writer *w, unsigned worker, uint64_t i, bool positioned,
                          uint8_t tag[CACHET_SEAL_TAG_LEN])
{
    const size_t len = seal_geom_chunk_len(&w->g, i);
    const uint64_t in_off = w->in_base + i * w->g.chunk_size;
    const uint64_t out_off = w->out_base + seal_geom_chunk_offset(&w->g, i);
    cachet_aead *a = w->aead[worker];
    uint8_t *stage = w->stage[worker];
    cachet_rc rc = seal_chunk_begin(a, w->header_digest, i, seal_geom_is_final(&w->g, i), true);
    size_t done = 0;
    while (rc == CACHET_OK) {
        const size_t n = len - done < SEAL_PIECE ? len - done : SEAL_PIECE;
        const bool last = done + n == len;
        rc = positioned ? cachet_fd_pread_full(w->in_fd, stage, n, in_off + done)
                        : cachet_fd_read_full(w->in_fd, stage, n);
        if (rc != CACHET_OK)
            return input_error(rc, w, i);
        rc = seal_chunk_piece(a, true, stage, stage, n);
        if (rc == CACHET_OK && last)
            rc = seal_chunk_seal_finish(a, stage + n);
        if (rc != CACHET_OK)
            return rc;
        const size_t wlen = n + (last ? CACHET_SEAL_TAG_LEN : 0);
        rc = positioned ? cachet_fd_pwrite_full(w->out_fd, stage, wlen, out_off + done)
                        : cachet_fd_write_full(w->out_fd, stage, wlen);
        if (rc != CACHET_OK)
            return seal_wrap(rc, "writing the sealed file");
        done += n;
        if (last) {
            memcpy(tag, stage + n, CACHET_SEAL_TAG_LEN);
            return CACHET_OK;
        }
    }
    return rc;
}

static cachet_rc seal_stream(writer *w, cachet_hash_ctx *digest, const cachet_seal_params *p)
{
    for (uint64_t i = 0; i < w->g.chunk_count; i++) {
        uint8_t tag[CACHET_SEAL_TAG_LEN];
        cachet_rc rc = seal_one(w, 0, i, false, tag);
        if (rc != CACHET_OK)
            return rc;
        rc = cachet_hash_update(digest, tag, CACHET_SEAL_TAG_LEN);
        if (rc != CACHET_OK)
            return seal_wrap(rc, "hashing");
        if (p->progress)
            p->progress(p->progress_arg,
                        i + 1 == w->g.chunk_count ? w->g.plaintext_len : (i + 1) * w->g.chunk_size,
                        w->g.plaintext_len);
    }
    return CACHET_OK;
}

static cachet_rc seal_one_parallel(void *ctx, unsigned worker, uint64_t i)
{
    writer *w = ctx;
    return seal_one(w, worker, i, true, w->tags + i * CACHET_SEAL_TAG_LEN);
}

static cachet_rc seal_parallel(writer *w, cachet_hash_ctx *digest, const cachet_seal_params *p)
{
    w->tags = malloc(w->g.chunk_count * CACHET_SEAL_TAG_LEN);
    if (!w->tags)
        return seal_err(NOMEM, "no memory for %llu chunk tags", (unsigned long long)w->g.chunk_count);
    seal_pool_job job = {
        .chunk_count = w->g.chunk_count, .chunk_size = w->g.chunk_size,
        .total_bytes = w->g.plaintext_len, .threads = w->threads, .fn = seal_one_parallel,
        .ctx = w, .progress = p->progress, .progress_arg = p->progress_arg,
    };
    cachet_rc rc = seal_pool_run(&job);
    if (rc == CACHET_OK)
        rc = seal_wrap(cachet_hash_update(digest, w->tags, w->g.chunk_count * CACHET_SEAL_TAG_LEN),
                       "hashing");
    /* Leave both descriptors where the streaming path would have. */
    if (rc == CACHET_OK &&
        (lseek(w->in_fd, (off_t)(w->in_base + w->g.plaintext_len), SEEK_SET) < 0 ||
         lseek(w->out_fd, (off_t)(w->out_base + seal_geom_chunk_offset(&w->g, w->g.chunk_count)),
               SEEK_SET) < 0))
        rc = seal_err(IO, "seek after sealing: %s", strerror(errno));
    return rc;
}

static bool is_regular(int fd, struct stat *st)
{
    return fstat(fd, st) == 0 && S_ISREG(st->st_mode);
}

/* A regular-file input must be exactly in_len bytes from where we started. */
static cachet_rc check_input_unchanged(const writer *w, uint64_t in_len)
{
    struct stat st;
    if (is_regular(w->in_fd, &st)) {
        off_t pos = lseek(w->in_fd, 0, SEEK_CUR);
        if (pos >= 0 && (uint64_t)st.st_size != (uint64_t)pos)
            return seal_err(MISMATCH, "the input is %lld bytes, not the %llu sealed (it changed "
                            "while being sealed?)", (long long)st.st_size - (long long)pos +
                            (long long)in_len, (unsigned long long)in_len);
        return CACHET_OK;
    }
    uint8_t extra;
    ssize_t n;
    do
        n = read(w->in_fd, &extra, 1);
    while (n < 0 && errno == EINTR);
    if (n > 0)
        return seal_err(MISMATCH, "the input is longer than the %llu bytes declared",
                        (unsigned long long)in_len);
    return CACHET_OK;
}

cachet_rc cachet_seal_fd(const cachet_seal_key *key, const cachet_seal_params *params, int in_fd,
                         uint64_t in_len, int out_fd, uint8_t digest_out[CACHET_SEAL_DIGEST_LEN])
{
    static const cachet_seal_params defaults;
    const cachet_seal_params *p = params ? params : &defaults;
    if (!key || in_fd < 0 || out_fd < 0)
        return seal_err(INVALID_ARG, "seal: missing key or descriptor");

    writer w = {.in_fd = in_fd, .out_fd = out_fd};
    w.g.chunk_size = p->chunk_size ? p->chunk_size : CACHET_SEAL_DEFAULT_CHUNK;
    if (w.g.chunk_size < CACHET_SEAL_MIN_CHUNK || w.g.chunk_size > CACHET_SEAL_MAX_CHUNK)
        return seal_err(INVALID_ARG, "chunk size %u is outside %u..%u", w.g.chunk_size,
                        CACHET_SEAL_MIN_CHUNK, CACHET_SEAL_MAX_CHUNK);
    if (in_len > CACHET_SEAL_MAX_PLAINTEXT)
        return seal_err(LIMIT, "input of %llu bytes exceeds the limit of %llu bytes",
                        (unsigned long long)in_len, (unsigned long long)CACHET_SEAL_MAX_PLAINTEXT);

    /* Parallel only where pread/pwrite work: a regular input and output. */
    struct stat ist, ost;
    off_t in_pos = lseek(in_fd, 0, SEEK_CUR), out_pos = lseek(out_fd, 0, SEEK_CUR);
    const uint64_t chunks = seal_chunk_count(in_len, w.g.chunk_size);
    w.threads = seal_pool_threads(p->threads, chunks);
    const bool parallel = w.threads > 1 && chunks <= PARALLEL_MAX_CHUNKS && in_pos >= 0 &&
                          out_pos >= 0 && is_regular(in_fd, &ist) && is_regular(out_fd, &ost);
    if (!parallel)
        w.threads = 1;
    w.in_base = in_pos >= 0 ? (uint64_t)in_pos : 0;
    w.out_base = out_pos >= 0 ? (uint64_t)out_pos : 0;

    uint8_t *header = NULL;
    size_t header_len = 0;
    cachet_hash_ctx *digest = NULL;
    cachet_rc rc = make_header(&w, key, p, in_len, &header, &header_len);
    if (rc == CACHET_OK) {
        digest = cachet_hash_new(CACHET_HASH_SHA256);
        if (!digest)
            rc = seal_wrap(cachet_err_last(), "hashing");
    }
    if (rc == CACHET_OK && cachet_hash_update(digest, header, header_len) != CACHET_OK)
        rc = seal_wrap(cachet_err_last(), "hashing");
    if (rc == CACHET_OK) {
        rc = parallel ? cachet_fd_pwrite_full(out_fd, header, header_len, w.out_base)
                      : cachet_fd_write_full(out_fd, header, header_len);
        if (rc != CACHET_OK)
            rc = seal_wrap(rc, "writing the sealed file");
    }
    if (rc == CACHET_OK)
        rc = parallel ? seal_parallel(&w, digest, p) : seal_stream(&w, digest, p);
    if (rc == CACHET_OK)
        rc = check_input_unchanged(&w, in_len);
    uint8_t d[CACHET_SEAL_DIGEST_LEN];
    if (rc == CACHET_OK)
        rc = seal_wrap(cachet_hash_final(digest, d), "hashing");
    if (rc == CACHET_OK && digest_out)
        memcpy(digest_out, d, sizeof d);
    cachet_hash_free(digest);
    free(header);
    writer_free(&w);
    return rc;
}

cachet_rc cachet_seal_file(const cachet_seal_key *key, const cachet_seal_params *params,
                           const char *in_path, const char *out_path,
                           uint8_t digest[CACHET_SEAL_DIGEST_LEN])
{
    if (!key || !in_path || !out_path)
        return seal_err(INVALID_ARG, "seal_file: NULL argument");
    int in = open(in_path, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return cachet_err(CACHET_RC(CACHET_SUB_SEAL, errno == ENOENT ? CACHET_E_NOT_FOUND : CACHET_E_IO),
                          "%s: %s", in_path, strerror(errno));
    struct stat st;
    if (!is_regular(in, &st)) {
        close(in);
        return seal_err(INVALID_ARG, "%s: not a regular file (its length must be known up front)",
                        in_path);
    }
    seal_outfile out;
    cachet_rc rc = seal_outfile_create(&out, out_path, 0644);
    if (rc == CACHET_OK)
        rc = cachet_seal_fd(key, params, in, (uint64_t)st.st_size, out.fd, digest);
    if (rc == CACHET_OK)
        rc = seal_outfile_commit(&out);
    seal_outfile_abort(&out);
    close(in);
    return rc;
}
