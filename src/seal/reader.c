/* Opening a sealed file: structure and size checks without a key, then
 * unlock (key check, header tag, content digest), then random access. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cachet/encoding.h"
#include "cachet/fileio.h"
#include "cachet/secmem.h"
#include "seal/seal_int.h"

static cachet_rc read_error(cachet_rc rc, const char *what)
{
    if (cachet_rc_code(rc) == CACHET_E_TRUNCATED)
        return seal_err(TRUNCATED, "%s: the sealed file shrank while being read", what);
    return seal_wrap(rc, what);
}

/* §5: the file must be exactly as long as its header says. */
static cachet_rc check_size(const cachet_seal_reader *r)
{
    const cachet_seal_header *h = &r->h;
    if (r->file_size == h->sealed_size)
        return CACHET_OK;
    if (r->file_size > h->sealed_size)
        return seal_err(FORMAT, "%llu trailing bytes after the final chunk (the file is %llu bytes, "
                        "its header accounts for %llu)",
                        (unsigned long long)(r->file_size - h->sealed_size),
                        (unsigned long long)r->file_size, (unsigned long long)h->sealed_size);
    if (r->file_size == h->header_len)
        return seal_err(TRUNCATED, "sealed file truncated: it ends after the header, with none of "
                        "its %llu chunks", (unsigned long long)h->chunk_count);
    const uint64_t stride = (uint64_t)h->chunk_size + CACHET_SEAL_TAG_LEN;
    return seal_err(TRUNCATED, "sealed file truncated: %llu bytes, but its header declares %llu "
                    "bytes of plaintext in %llu chunks, which need %llu bytes (%llu whole chunks "
                    "present)", (unsigned long long)r->file_size,
                    (unsigned long long)h->plaintext_len, (unsigned long long)h->chunk_count,
                    (unsigned long long)h->sealed_size,
                    (unsigned long long)((r->file_size - h->header_len) / stride));
}

static cachet_rc reader_load_header(cachet_seal_reader *r)
{
    struct stat st;
    if (fstat(r->fd, &st) != 0)
        return seal_err(IO, "fstat: %s", strerror(errno));
    if (!S_ISREG(st.st_mode))
        return seal_err(INVALID_ARG, "a sealed file must be a regular file (random access)");
    r->file_size = (uint64_t)st.st_size;
    /* Read at most the largest legal header: nothing is sized by a field
     * before the parser has bounded it. */
    size_t n = r->file_size < CACHET_SEAL_HEADER_MAX ? (size_t)r->file_size : CACHET_SEAL_HEADER_MAX;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return seal_err(NOMEM, "out of memory");
    cachet_rc rc = cachet_fd_pread_full(r->fd, buf, n, 0);
    if (rc != CACHET_OK) {
        free(buf);
        return read_error(rc, "reading the header");
    }
    rc = cachet_seal_header_parse(buf, n, &r->h);
    if (rc == CACHET_OK)
        rc = check_size(r);
    if (rc != CACHET_OK) {
        free(buf);
        return rc;
    }
    /* Keep exactly the header; re-parse so that h's pointers refer to it. */
    uint8_t *exact = realloc(buf, r->h.header_len);
    if (!exact) {
        free(buf);
        return seal_err(NOMEM, "out of memory");
    }
    r->header_bytes = exact;
    rc = cachet_seal_header_parse(exact, r->h.header_len, &r->h);
    if (rc != CACHET_OK)
        return rc;
    seal_geom_from_header(&r->h, &r->g);
    return CACHET_OK;
}

cachet_rc cachet_seal_reader_open_fd(int fd, cachet_seal_reader **out)
{
    if (!out || fd < 0)
        return seal_err(INVALID_ARG, "reader_open_fd: bad argument");
    *out = NULL;
    cachet_seal_reader *r = calloc(1, sizeof *r);
    if (!r)
        return seal_err(NOMEM, "out of memory");
    r->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (r->fd < 0) {
        free(r);
        return seal_err(IO, "dup: %s", strerror(errno));
    }
    cachet_rc rc = reader_load_header(r);
    if (rc != CACHET_OK) {
        cachet_seal_reader_free(r);
        return rc;
    }
    *out = r;
    return CACHET_OK;
}

cachet_rc cachet_seal_reader_open(const char *path, cachet_seal_reader **out)
{
    if (!out || !path)
        return seal_err(INVALID_ARG, "reader_open: NULL argument");
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cachet_err(CACHET_RC(CACHET_SUB_SEAL, errno == ENOENT ? CACHET_E_NOT_FOUND : CACHET_E_IO),
                          "%s: %s", path, strerror(errno));
    cachet_rc rc = cachet_seal_reader_open_fd(fd, out);
    close(fd);
    return rc;
}

void cachet_seal_reader_free(cachet_seal_reader *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    cachet_aead_free(r->aead);
    cachet_secure_free(r->file_key);
    free(r->header_bytes);
    free(r);
}

const cachet_seal_header *cachet_seal_reader_header(const cachet_seal_reader *r)
{
    return r ? &r->h : NULL;
}

bool cachet_seal_reader_unlocked(const cachet_seal_reader *r) { return r && r->unlocked; }

/* §6: SHA-256(header || tag_0 || ... || tag_{n-1}). */
static cachet_rc compute_content_digest(const cachet_seal_reader *r,
                                        uint8_t out[CACHET_SEAL_DIGEST_LEN])
{
    cachet_hash_ctx *hc = cachet_hash_new(CACHET_HASH_SHA256);
    if (!hc)
        return seal_wrap(cachet_err_last(), "hashing");
    cachet_rc rc = cachet_hash_update(hc, r->header_bytes, r->h.header_len);
    /* One small pread a tag: a 10 GB model at the default chunk size has
     * about 2,400 of them. */
    for (uint64_t i = 0; rc == CACHET_OK && i < r->g.chunk_count; i++) {
        uint8_t tag[CACHET_SEAL_TAG_LEN];
        uint64_t off = seal_geom_chunk_offset(&r->g, i) + seal_geom_chunk_len(&r->g, i);
        rc = cachet_fd_pread_full(r->fd, tag, sizeof tag, off);
        if (rc != CACHET_OK)
            rc = read_error(rc, "reading the chunk tags");
        else
            rc = cachet_hash_update(hc, tag, sizeof tag);
    }
    if (rc == CACHET_OK)
        rc = cachet_hash_final(hc, out);
    cachet_hash_free(hc);
    return seal_wrap(rc, "computing the content digest");
}

cachet_rc cachet_seal_reader_unlock(cachet_seal_reader *r, const cachet_seal_key *key)
{
    if (!r || !key)
        return seal_err(INVALID_ARG, "reader_unlock: NULL argument");
    if (r->unlocked)
        return seal_err(STATE, "the sealed file is already unlocked");
    uint8_t check[CACHET_SEAL_KEY_CHECK_LEN];
    cachet_rc rc = seal_derive_key_check(key, check);
    if (rc != CACHET_OK)
        return rc;
    if (cachet_memeq_ct(check, r->h.key_check, sizeof check) != 0)
        return seal_err(AUTH, "wrong key: this file was sealed with a different key (key check "
                        "value differs%s%s%s)", r->h.key_id[0] ? "; the file names key '" : "",
                        r->h.key_id, r->h.key_id[0] ? "'" : "");

    r->file_key = cachet_secure_alloc(CACHET_AES256_KEY_LEN);
    if (!r->file_key)
        return seal_err(NOMEM, "no secure memory for the file key");
    rc = seal_derive_file_key(key, r->h.salt, r->file_key);
    if (rc != CACHET_OK)
        goto fail;
    r->aead = cachet_aead_new(r->file_key);
    if (!r->aead) {
        rc = seal_wrap(cachet_err_last(), "setting up AES-256-GCM");
        goto fail;
    }
    uint8_t nonce[CACHET_GCM_IV_LEN];
    seal_header_nonce(nonce);
    rc = cachet_aead_open(r->aead, nonce, r->header_bytes, r->h.header_len - CACHET_SEAL_TAG_LEN,
                          NULL, 0, NULL, r->h.tag);
    if (rc != CACHET_OK) {
        rc = cachet_rc_code(rc) == CACHET_E_AUTH
                 ? seal_err(AUTH, "header authentication failed: the header was modified")
                 : seal_wrap(rc, "authenticating the header");
        goto fail;
    }
    rc = seal_wrap(cachet_sha256(r->header_bytes, r->h.header_len, r->header_digest),
                   "hashing the header");
    if (rc == CACHET_OK)
        rc = compute_content_digest(r, r->content_digest);
    if (rc != CACHET_OK)
        goto fail;
    r->unlocked = true;
    return CACHET_OK;
fail:
    cachet_aead_free(r->aead);
    r->aead = NULL;
    cachet_secure_free(r->file_key);
    r->file_key = NULL;
    return rc;
}

cachet_rc cachet_seal_reader_digest(const cachet_seal_reader *r, uint8_t out[CACHET_SEAL_DIGEST_LEN])
{
    if (!r || !out)
        return seal_err(INVALID_ARG, "reader_digest: NULL argument");
    if (!r->unlocked)
        return seal_err(STATE, "the content digest is known only after unlock");
    memcpy(out, r->content_digest, CACHET_SEAL_DIGEST_LEN);
    return CACHET_OK;
}

cachet_rc cachet_seal_reader_claimed_digest(const cachet_seal_reader *r,
                                            uint8_t out[CACHET_SEAL_DIGEST_LEN])
{
    if (!r || !out)
        return seal_err(INVALID_ARG, "reader_claimed_digest: NULL argument");
    return compute_content_digest(r, out);
}

cachet_rc cachet_seal_reader_expect_digest(const cachet_seal_reader *r,
                                           const uint8_t expected[CACHET_SEAL_DIGEST_LEN])
{
    uint8_t d[CACHET_SEAL_DIGEST_LEN];
    cachet_rc rc = cachet_seal_reader_digest(r, d);
    if (rc != CACHET_OK || !expected)
        return rc;
    if (memcmp(d, expected, sizeof d) == 0)
        return CACHET_OK;
    char got[CACHET_SEAL_DIGEST_STR_LEN], want[CACHET_SEAL_DIGEST_STR_LEN];
    cachet_seal_digest_format(d, got);
    cachet_seal_digest_format(expected, want);
    return seal_err(MISMATCH, "content digest mismatch: the file is %s, expected %s", got, want);
}

cachet_rc cachet_seal_reader_read_chunk(cachet_seal_reader *r, uint64_t index, void *out,
                                        size_t cap, size_t *outlen)
{
    if (!r || !out || !outlen)
        return seal_err(INVALID_ARG, "read_chunk: NULL argument");
    *outlen = 0;
    if (!r->unlocked)
        return seal_err(STATE, "unlock the sealed file before decrypting");
    if (index >= r->g.chunk_count)
        return seal_err(RANGE, "chunk %llu does not exist (the file has %llu)",
                        (unsigned long long)index, (unsigned long long)r->g.chunk_count);
    const size_t len = seal_geom_chunk_len(&r->g, index);
    if (cap < len)
        return seal_err(INVALID_ARG, "chunk %llu needs %zu bytes, buffer holds %zu",
                        (unsigned long long)index, len, cap);
    const uint64_t off = seal_geom_chunk_offset(&r->g, index);
    uint8_t tag[CACHET_SEAL_TAG_LEN];
    cachet_rc rc = cachet_fd_pread_full(r->fd, out, len, off);
    if (rc == CACHET_OK)
        rc = cachet_fd_pread_full(r->fd, tag, sizeof tag, off + len);
    if (rc != CACHET_OK) {
        cachet_wipe(out, len);
        return read_error(rc, "reading a chunk");
    }
    rc = seal_chunk_decrypt(r->aead, r->header_digest, index, seal_geom_is_final(&r->g, index), out,
                            len, tag);
    if (rc == CACHET_OK)
        *outlen = len;
    return rc;
}

void cachet_seal_digest_format(const uint8_t digest[CACHET_SEAL_DIGEST_LEN],
                               char out[CACHET_SEAL_DIGEST_STR_LEN])
{
    memcpy(out, "sha256:", 7);
    cachet_hex_encode(digest, CACHET_SEAL_DIGEST_LEN, out + 7);
}

cachet_rc cachet_seal_digest_parse(const char *text, uint8_t out[CACHET_SEAL_DIGEST_LEN])
{
    if (!text || !out)
        return seal_err(INVALID_ARG, "digest_parse: NULL argument");
    const char *hex = strncmp(text, "sha256:", 7) == 0 ? text + 7 : text;
    size_t got = 0;
    if (strlen(hex) != 2 * CACHET_SEAL_DIGEST_LEN ||
        cachet_hex_decode(hex, out, CACHET_SEAL_DIGEST_LEN, &got) != CACHET_OK ||
        got != CACHET_SEAL_DIGEST_LEN)
        return seal_err(FORMAT, "'%s' is not a content digest (sha256: and 64 hex digits)", text);
    return CACHET_OK;
}
