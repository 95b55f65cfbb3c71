/* Sealed files: models and datasets encrypted at rest, decrypted only into
 * protected memory (docs/sealed-format.md has the byte layout).
 *
 * A sealed file is a header followed by fixed-size chunks, each AES-256-GCM
 * encrypted under a per-file key (HKDF of the data key and a random salt)
 * with the STREAM construction: the chunk index and a final-chunk flag are
 * bound into every nonce and AAD, so truncation, reordering, chunk swaps
 * between files and bit flips all fail authentication.  The content digest
 * (SHA-256 over the header and every chunk tag) names one sealed file; an
 * owner pins it in policy as "the model that may be served".
 *
 * Use:
 *   seal:   cachet_seal_file(key, &params, "model.gguf", "model.sealed", digest)
 *   unseal: cachet_seal_reader_open() → header (unauthenticated: the key id
 *           says which key to ask the key broker for) → cachet_seal_reader_unlock()
 *           → _decrypt_memfd() / _decrypt_buffer() / _decrypt_fd() / _read_chunk().
 *
 * Every failure returns a CACHET_SUB_SEAL rc with a detail that names the
 * check (cachet_err_detail()), and never leaves unauthenticated or partial
 * plaintext behind. */
#ifndef CACHET_SEAL_H
#define CACHET_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cachet/rc.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CACHET_SEAL_VERSION 1
#define CACHET_SEAL_ALG_AES256GCM_HKDF_SHA256 1

#define CACHET_SEAL_KEY_LEN 32
#define CACHET_SEAL_SALT_LEN 32
#define CACHET_SEAL_KEY_CHECK_LEN 32
#define CACHET_SEAL_TAG_LEN 16
#define CACHET_SEAL_DIGEST_LEN 32
/* "sha256:" + 64 hex digits + NUL */
#define CACHET_SEAL_DIGEST_STR_LEN (7 + 64 + 1)

#define CACHET_SEAL_DEFAULT_CHUNK ((uint32_t)4 << 20)
#define CACHET_SEAL_MIN_CHUNK ((uint32_t)4096)
#define CACHET_SEAL_MAX_CHUNK ((uint32_t)256 << 20)
/* 1 PiB: far beyond any model, small enough that no size arithmetic overflows. */
#define CACHET_SEAL_MAX_PLAINTEXT ((uint64_t)1 << 50)
#define CACHET_SEAL_KEY_ID_MAX 255
#define CACHET_SEAL_MEDIA_TYPE_MAX 255
#define CACHET_SEAL_METADATA_MAX 65536
#define CACHET_SEAL_HEADER_FIXED 104
#define CACHET_SEAL_HEADER_MAX                                                              \
    (CACHET_SEAL_HEADER_FIXED + CACHET_SEAL_KEY_ID_MAX + CACHET_SEAL_MEDIA_TYPE_MAX +       \
     CACHET_SEAL_METADATA_MAX + CACHET_SEAL_TAG_LEN)
#define CACHET_SEAL_MAX_THREADS 256

/* ---- data keys ---------------------------------------------------------- */

/* A 32-byte data key, held in cachet_secure_alloc() memory and wiped on free.
 * Key files hold the 32 raw bytes (as a key broker serves them), or 64 hex
 * digits with an optional trailing newline; anything else is refused. */
typedef struct cachet_seal_key cachet_seal_key;

cachet_rc cachet_seal_key_generate(cachet_seal_key **out);
cachet_rc cachet_seal_key_from_bytes(const uint8_t *raw, size_t len, cachet_seal_key **out);
cachet_rc cachet_seal_key_load(const char *path, cachet_seal_key **out);
/* Writes the 32 raw bytes to a new file created 0600; refuses to replace an
 * existing file (a key is never silently overwritten). */
cachet_rc cachet_seal_key_save(const cachet_seal_key *key, const char *path);
void cachet_seal_key_free(cachet_seal_key *key);

/* ---- header ------------------------------------------------------------- */

/* A parsed header.  Until cachet_seal_reader_unlock() succeeds every field is
 * unauthenticated input; key_id and media_type are printable ASCII. */
typedef struct cachet_seal_header {
    uint16_t version;
    uint16_t algorithm;
    uint32_t header_len; /* bytes, including the header tag */
    uint32_t chunk_size;
    uint64_t plaintext_len;
    uint64_t chunk_count; /* derived: max(1, ceil(plaintext_len / chunk_size)) */
    uint64_t sealed_size; /* derived: the exact size the sealed file must have */
    uint8_t salt[CACHET_SEAL_SALT_LEN];
    uint8_t key_check[CACHET_SEAL_KEY_CHECK_LEN];
    char key_id[CACHET_SEAL_KEY_ID_MAX + 1];
    char media_type[CACHET_SEAL_MEDIA_TYPE_MAX + 1];
    const uint8_t *metadata; /* points into the parsed buffer */
    size_t metadata_len;
    const uint8_t *tag; /* the header tag, into the parsed buffer */
} cachet_seal_header;

/* Parse a header from the start of buf (bytes past header_len are ignored).
 * A pure function of the bytes: CACHET_E_TRUNCATED, _FORMAT, _UNSUPPORTED,
 * _RANGE or _LIMIT name what is wrong; no allocation. */
cachet_rc cachet_seal_header_parse(const uint8_t *buf, size_t len, cachet_seal_header *out);

/* ---- progress ------------------------------------------------------------ */

/* Called on the caller's thread with plaintext bytes done so far. */
typedef void (*cachet_seal_progress_fn)(void *arg, uint64_t done, uint64_t total);

/* ---- sealing ------------------------------------------------------------- */

typedef struct cachet_seal_params {
    uint32_t chunk_size;      /* 0: CACHET_SEAL_DEFAULT_CHUNK */
    const char *key_id;       /* key-broker resource path, e.g. "default/model-key/llama"; NULL: none */
    const char *media_type;   /* e.g. "application/vnd.gguf"; NULL: none */
    const void *metadata;     /* free-form bytes, up to CACHET_SEAL_METADATA_MAX */
    size_t metadata_len;
    unsigned threads;         /* 0 or 1: one thread */
    cachet_seal_progress_fn progress;
    void *progress_arg;
} cachet_seal_params;

/* Seal in_len bytes read from in_fd (from its current offset) to out_fd.
 * With threads > 1, a regular-file input and a seekable output, chunks are
 * encrypted in parallel with pread/pwrite; otherwise the data streams through
 * one chunk buffer (pipes work).  digest (may be NULL) receives the content
 * digest. */
cachet_rc cachet_seal_fd(const cachet_seal_key *key, const cachet_seal_params *params, int in_fd,
                         uint64_t in_len, int out_fd, uint8_t digest[CACHET_SEAL_DIGEST_LEN]);
/* Seal a regular file; out_path appears (atomically) only when complete. */
cachet_rc cachet_seal_file(const cachet_seal_key *key, const cachet_seal_params *params,
                           const char *in_path, const char *out_path,
                           uint8_t digest[CACHET_SEAL_DIGEST_LEN]);

/* ---- unsealing ----------------------------------------------------------- */

typedef struct cachet_seal_reader cachet_seal_reader;

typedef struct cachet_unseal_opts {
    unsigned threads; /* 0 or 1: one thread */
    cachet_seal_progress_fn progress;
    void *progress_arg;
    /* Decrypt straight from a shared read-only mapping of the sealed file
     * instead of first reading each chunk into private memory.  Saves a
     * kernel copy out of the page cache (about 15% of single-thread time
     * here, see docs/sealed-format.md §11), but AES-GCM may read the
     * ciphertext twice (once to authenticate, once to decrypt), so a writer
     * racing us could get plaintext accepted that was never authenticated.
     * Set it only when nobody can modify the file while it is unsealed: a
     * read-only or dm-verity image, a sealed memfd, a private tmpfs.  (A file
     * truncated under the mapping raises SIGBUS rather than an error.) */
    bool map_input;
} cachet_unseal_opts;

/* Open a sealed file and check its structure: header syntax, limits, and that
 * the file size is exactly what the header declares (truncation and trailing
 * bytes are caught here, before any key is needed or anything allocated by
 * the declared length).  The reader keeps its own descriptor (open_fd dups). */
cachet_rc cachet_seal_reader_open(const char *path, cachet_seal_reader **out);
cachet_rc cachet_seal_reader_open_fd(int fd, cachet_seal_reader **out);
void cachet_seal_reader_free(cachet_seal_reader *r);

/* The parsed header; unauthenticated until unlock succeeds. */
const cachet_seal_header *cachet_seal_reader_header(const cachet_seal_reader *r);
bool cachet_seal_reader_unlocked(const cachet_seal_reader *r);

/* Check the key against the header's key check value ("wrong key"), derive
 * the file key, authenticate the header, and compute the content digest from
 * the header and the chunk tags.  Required before any decryption. */
cachet_rc cachet_seal_reader_unlock(cachet_seal_reader *r, const cachet_seal_key *key);
/* The content digest (after unlock; CACHET_E_STATE before). */
cachet_rc cachet_seal_reader_digest(const cachet_seal_reader *r,
                                    uint8_t out[CACHET_SEAL_DIGEST_LEN]);
/* The content digest the file claims, before unlock: the header and the
 * chunk tags it hashes are public, so anyone can compute it (a server binds
 * it into evidence before it has the key).  Unauthenticated: unlock then
 * recomputes it, and a file whose chunks do not authenticate fails later. */
cachet_rc cachet_seal_reader_claimed_digest(const cachet_seal_reader *r,
                                            uint8_t out[CACHET_SEAL_DIGEST_LEN]);
/* CACHET_E_MISMATCH unless the content digest equals expected. */
cachet_rc cachet_seal_reader_expect_digest(const cachet_seal_reader *r,
                                           const uint8_t expected[CACHET_SEAL_DIGEST_LEN]);

/* Random access: authenticate and decrypt chunk `index` into out (cap must
 * hold the chunk; *outlen gets its plaintext length).  Not safe to call
 * concurrently on one reader; open one reader per thread for that. */
cachet_rc cachet_seal_reader_read_chunk(cachet_seal_reader *r, uint64_t index, void *out,
                                        size_t cap, size_t *outlen);

/* Whole-file decryption with opts->threads workers (each its own AES-GCM
 * context and chunk buffer).  Every chunk is authenticated; on any failure
 * the destination is wiped/truncated and the first failing chunk named. */
/* Into a seekable fd (regular file or memfd) at offsets 0..plaintext_len;
 * out_fd -1 authenticates every chunk and writes nothing (a check). */
cachet_rc cachet_seal_reader_decrypt_fd(cachet_seal_reader *r, int out_fd,
                                        const cachet_unseal_opts *opts);
/* Into caller memory of at least plaintext_len bytes (e.g. cachet_secure_alloc). */
cachet_rc cachet_seal_reader_decrypt_buffer(cachet_seal_reader *r, void *buf, size_t cap,
                                            const cachet_unseal_opts *opts);
/* Into a new memfd (MFD_CLOEXEC | MFD_ALLOW_SEALING), sealed against writes,
 * growth and shrinking once complete, offset 0; a server loads it from
 * /proc/self/fd/N.  *memfd_out is -1 on failure. */
cachet_rc cachet_seal_reader_decrypt_memfd(cachet_seal_reader *r, const cachet_unseal_opts *opts,
                                           int *memfd_out);

/* One call: open, unlock, optionally check the digest, decrypt to out_path
 * through an unnamed temporary file in its directory, fsync, then link it
 * into place; nothing appears at out_path unless every chunk authenticated.
 * expect_digest and digest_out may be NULL. */
cachet_rc cachet_seal_unseal_file(const char *in_path, const char *out_path,
                                  const cachet_seal_key *key,
                                  const uint8_t expect_digest[CACHET_SEAL_DIGEST_LEN],
                                  const cachet_unseal_opts *opts,
                                  uint8_t digest_out[CACHET_SEAL_DIGEST_LEN]);
/* One call into a sealed memfd (see cachet_seal_reader_decrypt_memfd). */
cachet_rc cachet_seal_unseal_memfd(const char *in_path, const cachet_seal_key *key,
                                   const uint8_t expect_digest[CACHET_SEAL_DIGEST_LEN],
                                   const cachet_unseal_opts *opts, int *memfd_out,
                                   uint8_t digest_out[CACHET_SEAL_DIGEST_LEN]);

/* ---- digests as text ------------------------------------------------------ */

/* "sha256:<64 lower-case hex digits>" */
void cachet_seal_digest_format(const uint8_t digest[CACHET_SEAL_DIGEST_LEN],
                               char out[CACHET_SEAL_DIGEST_STR_LEN]);
/* Accepts that form or the bare 64 hex digits. */
cachet_rc cachet_seal_digest_parse(const char *text, uint8_t out[CACHET_SEAL_DIGEST_LEN]);

#ifdef __cplusplus
}
#endif
#endif
