/* Internal to src/seal: the key struct, the STREAM nonce/AAD construction,
 * chunk geometry, the worker pool and the output-file helper shared by the
 * files of this module. */
#ifndef CACHET_SEAL_INT_H
#define CACHET_SEAL_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cachet/crypto.h"
#include "cachet/seal.h"

#define SEAL_RC(code) CACHET_RC(CACHET_SUB_SEAL, CACHET_E_##code)
#define seal_err(code, ...) cachet_err(SEAL_RC(code), __VA_ARGS__)

/* Re-label a util/crypto failure as a seal one, keeping its class and detail
 * and prefixing what we were doing. */
cachet_rc seal_wrap(cachet_rc rc, const char *what);

#define SEAL_MAGIC "CACHETSL"
#define SEAL_MAGIC_LEN 8

/* Offsets of the fixed header fields (docs/sealed-format.md §2). */
enum {
    SEAL_OFF_MAGIC = 0,
    SEAL_OFF_VERSION = 8,
    SEAL_OFF_ALGORITHM = 10,
    SEAL_OFF_HEADER_LEN = 12,
    SEAL_OFF_CHUNK_SIZE = 16,
    SEAL_OFF_RESERVED = 20,
    SEAL_OFF_PLAINTEXT_LEN = 24,
    SEAL_OFF_SALT = 32,
    SEAL_OFF_KEY_CHECK = 64,
    SEAL_OFF_KEY_ID_LEN = 96,
    SEAL_OFF_MEDIA_TYPE_LEN = 98,
    SEAL_OFF_METADATA_LEN = 100,
    SEAL_OFF_VARIABLE = 104,
};

struct cachet_seal_key {
    uint8_t bytes[CACHET_SEAL_KEY_LEN];
};

/* ---- key schedule (keys.c) ---- */
/* key_check = HKDF-SHA256(salt = 32 zero bytes, ikm = K, info = "cachet-seal/v1 key-check") */
cachet_rc seal_derive_key_check(const cachet_seal_key *key,
                                uint8_t out[CACHET_SEAL_KEY_CHECK_LEN]);
/* file key = HKDF-SHA256(salt, K, "cachet-seal/v1 file-key" || 0 || version || alg || salt) */
cachet_rc seal_derive_file_key(const cachet_seal_key *key, const uint8_t salt[CACHET_SEAL_SALT_LEN],
                               uint8_t out[CACHET_AES256_KEY_LEN]);

/* ---- geometry ---- */
typedef struct seal_geom {
    uint64_t header_len;
    uint64_t plaintext_len;
    uint64_t chunk_count;
    uint32_t chunk_size;
} seal_geom;

uint64_t seal_chunk_count(uint64_t plaintext_len, uint32_t chunk_size);
void seal_geom_from_header(const cachet_seal_header *h, seal_geom *g);

static inline bool seal_geom_is_final(const seal_geom *g, uint64_t i)
{
    return i + 1 == g->chunk_count;
}
/* Plaintext (= ciphertext) bytes of chunk i. */
static inline size_t seal_geom_chunk_len(const seal_geom *g, uint64_t i)
{
    if (!seal_geom_is_final(g, i))
        return g->chunk_size;
    return (size_t)(g->plaintext_len - i * (uint64_t)g->chunk_size);
}
/* Where chunk i's ciphertext starts in the sealed file; its tag follows it. */
static inline uint64_t seal_geom_chunk_offset(const seal_geom *g, uint64_t i)
{
    return g->header_len + i * ((uint64_t)g->chunk_size + CACHET_SEAL_TAG_LEN);
}

/* ---- STREAM construction (chunk.c) ---- */
#define SEAL_AAD_LEN (CACHET_SHA256_LEN + 8 + 1)
void seal_header_nonce(uint8_t nonce[CACHET_GCM_IV_LEN]);
void seal_chunk_nonce(uint64_t index, bool final, uint8_t nonce[CACHET_GCM_IV_LEN]);
void seal_chunk_aad(const uint8_t header_digest[CACHET_SHA256_LEN], uint64_t index, bool final,
                    uint8_t aad[SEAL_AAD_LEN]);
/* Encrypt/decrypt chunk i in place (len = its plaintext length). */
cachet_rc seal_chunk_encrypt(cachet_aead *a, const uint8_t header_digest[CACHET_SHA256_LEN],
                             uint64_t index, bool final, uint8_t *buf, size_t len,
                             uint8_t tag[CACHET_SEAL_TAG_LEN]);
cachet_rc seal_chunk_decrypt(cachet_aead *a, const uint8_t header_digest[CACHET_SHA256_LEN],
                             uint64_t index, bool final, uint8_t *buf, size_t len,
                             const uint8_t tag[CACHET_SEAL_TAG_LEN]);
/* The same, from in to out (out of place). */
cachet_rc seal_chunk_decrypt_from(cachet_aead *a, const uint8_t header_digest[CACHET_SHA256_LEN],
                                  uint64_t index, bool final, const uint8_t *in, uint8_t *out,
                                  size_t len, const uint8_t tag[CACHET_SEAL_TAG_LEN]);

/* The same in pieces, for streaming a chunk through a small cache-resident
 * buffer: begin, seal_chunk_piece() over its bytes in order, then finish.
 * Decrypted pieces are unauthenticated until open_finish succeeds: they may
 * only go where the caller wipes or discards them on failure. */
#ifndef SEAL_PIECE /* overridable to measure other sizes */
#define SEAL_PIECE ((size_t)256 << 10)
#endif
cachet_rc seal_chunk_begin(cachet_aead *a, const uint8_t header_digest[CACHET_SHA256_LEN],
                           uint64_t index, bool final, bool encrypt);
cachet_rc seal_chunk_piece(cachet_aead *a, bool encrypt, const uint8_t *in, uint8_t *out,
                           size_t len);
cachet_rc seal_chunk_seal_finish(cachet_aead *a, uint8_t tag[CACHET_SEAL_TAG_LEN]);
cachet_rc seal_chunk_open_finish(cachet_aead *a, uint64_t index,
                                 const uint8_t tag[CACHET_SEAL_TAG_LEN]);

/* ---- header writing (header.c) ---- */
/* Serialise a header for these parameters; the final 16 bytes (the header
 * tag) are left zero for the caller to fill.  *out is malloc'd. */
cachet_rc seal_header_build(const cachet_seal_params *p, uint32_t chunk_size,
                            uint64_t plaintext_len, const uint8_t salt[CACHET_SEAL_SALT_LEN],
                            const uint8_t key_check[CACHET_SEAL_KEY_CHECK_LEN], uint8_t **out,
                            size_t *len);

/* ---- worker pool (pool.c) ---- */
/* Process chunk `index` on worker `worker` (0 = the caller's thread). */
typedef cachet_rc (*seal_chunk_fn)(void *ctx, unsigned worker, uint64_t index);

typedef struct seal_pool_job {
    uint64_t chunk_count;
    uint64_t chunk_size;    /* for progress in bytes */
    uint64_t total_bytes;
    unsigned threads;       /* already clamped by seal_pool_threads() */
    seal_chunk_fn fn;
    void *ctx;
    cachet_seal_progress_fn progress;
    void *progress_arg;
} seal_pool_job;

/* How many workers make sense: requested (0 → 1), at most one per chunk. */
unsigned seal_pool_threads(unsigned requested, uint64_t chunk_count);
/* Runs fn over every chunk index; workers claim indices in increasing order.
 * The first failure stops the others; its rc and detail are re-raised on the
 * caller's thread (the lowest failing index wins). */
cachet_rc seal_pool_run(const seal_pool_job *job);

/* ---- an open sealed file (reader.c; decrypted by unseal.c) ---- */
struct cachet_seal_reader {
    int fd;
    uint64_t file_size;
    uint8_t *header_bytes; /* exactly header_len bytes; h points into it */
    cachet_seal_header h;
    seal_geom g;
    bool unlocked;
    uint8_t header_digest[CACHET_SHA256_LEN];
    uint8_t content_digest[CACHET_SEAL_DIGEST_LEN];
    uint8_t *file_key;  /* secure memory, after unlock */
    cachet_aead *aead;  /* for random access */
};

/* ---- output files (outfile.c) ---- */
/* A file that gets its name only on commit: O_TMPFILE where the filesystem
 * has it, else a hidden temporary name that abort unlinks. */
typedef struct seal_outfile {
    int fd;
    char *path;     /* final name */
    char *tmp_path; /* named temporary (fallback), or NULL */
} seal_outfile;

cachet_rc seal_outfile_create(seal_outfile *o, const char *path, mode_t mode);
/* fsync, then give the file its name (replacing any previous file). */
cachet_rc seal_outfile_commit(seal_outfile *o);
/* Close and remove; safe after commit (does nothing then) and after a failed create. */
void seal_outfile_abort(seal_outfile *o);

#endif
