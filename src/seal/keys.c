/* Data keys: key files, generation, and the key schedule that turns one data
 * key into a key check value and a per-file key (docs/sealed-format.md §3). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cachet/encoding.h"
#include "cachet/fileio.h"
#include "cachet/reader.h"
#include "cachet/secmem.h"
#include "seal/seal_int.h"

static const char KEY_CHECK_LABEL[] = "cachet-seal/v1 key-check";
static const char FILE_KEY_LABEL[] = "cachet-seal/v1 file-key";

cachet_rc seal_derive_key_check(const cachet_seal_key *key, uint8_t out[CACHET_SEAL_KEY_CHECK_LEN])
{
    /* Salt-independent on purpose: a mismatch then means "wrong key" and
     * nothing else, and it commits the file to one data key (GCM alone is
     * not key-committing). */
    static const uint8_t zero_salt[CACHET_SHA256_LEN];
    cachet_rc rc = cachet_hkdf_sha256(zero_salt, sizeof zero_salt, key->bytes, sizeof key->bytes,
                                      KEY_CHECK_LABEL, sizeof KEY_CHECK_LABEL - 1, out,
                                      CACHET_SEAL_KEY_CHECK_LEN);
    return seal_wrap(rc, "deriving the key check value");
}

cachet_rc seal_derive_file_key(const cachet_seal_key *key, const uint8_t salt[CACHET_SEAL_SALT_LEN],
                               uint8_t out[CACHET_AES256_KEY_LEN])
{
    /* info binds label, format version, algorithm and salt, so a key derived
     * for one file, version or algorithm is never reused for another. */
    uint8_t info[sizeof FILE_KEY_LABEL + 4 + CACHET_SEAL_SALT_LEN];
    uint8_t *p = info;
    memcpy(p, FILE_KEY_LABEL, sizeof FILE_KEY_LABEL); /* with its NUL as separator */
    p += sizeof FILE_KEY_LABEL;
    p[0] = 0;
    p[1] = CACHET_SEAL_VERSION;
    p[2] = 0;
    p[3] = CACHET_SEAL_ALG_AES256GCM_HKDF_SHA256;
    p += 4;
    memcpy(p, salt, CACHET_SEAL_SALT_LEN);
    cachet_rc rc = cachet_hkdf_sha256(salt, CACHET_SEAL_SALT_LEN, key->bytes, sizeof key->bytes,
                                      info, sizeof info, out, CACHET_AES256_KEY_LEN);
    return seal_wrap(rc, "deriving the file key");
}

static cachet_seal_key *key_alloc(void)
{
    cachet_seal_key *k = cachet_secure_alloc(sizeof *k);
    if (!k)
        seal_err(NOMEM, "no secure memory for a key");
    return k;
}

cachet_rc cachet_seal_key_generate(cachet_seal_key **out)
{
    if (!out)
        return seal_err(INVALID_ARG, "key_generate: NULL argument");
    *out = NULL;
    cachet_seal_key *k = key_alloc();
    if (!k)
        return SEAL_RC(NOMEM);
    cachet_rc rc = cachet_random(k->bytes, sizeof k->bytes);
    if (rc != CACHET_OK) {
        cachet_secure_free(k);
        return seal_wrap(rc, "generating a key");
    }
    *out = k;
    return CACHET_OK;
}

cachet_rc cachet_seal_key_from_bytes(const uint8_t *raw, size_t len, cachet_seal_key **out)
{
    if (!out || !raw)
        return seal_err(INVALID_ARG, "key_from_bytes: NULL argument");
    *out = NULL;
    if (len != CACHET_SEAL_KEY_LEN)
        return seal_err(INVALID_ARG, "a data key is %d bytes, not %zu", CACHET_SEAL_KEY_LEN, len);
    cachet_seal_key *k = key_alloc();
    if (!k)
        return SEAL_RC(NOMEM);
    memcpy(k->bytes, raw, CACHET_SEAL_KEY_LEN);
    *out = k;
    return CACHET_OK;
}

static bool all_hex(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

/* Interpret a key file's bytes: 32 raw bytes, or 64 hex digits and at most
 * one trailing newline. */
static cachet_rc key_parse(const char *path, const uint8_t *buf, size_t len, cachet_seal_key *k)
{
    const size_t hexlen = 2 * CACHET_SEAL_KEY_LEN;
    if (len == CACHET_SEAL_KEY_LEN) {
        /* 32 hex digits would be a 16-byte key written as text: taking its
         * ASCII as a key would silently use the wrong key. */
        if (all_hex(buf, len))
            return seal_err(FORMAT, "%s: holds 32 hex digits (a 16-byte key); a data key is 32 "
                            "bytes: 32 raw bytes or 64 hex digits", path);
        memcpy(k->bytes, buf, CACHET_SEAL_KEY_LEN);
        return CACHET_OK;
    }
    size_t n = len;
    if (n == hexlen + 1 && buf[hexlen] == '\n')
        n = hexlen;
    if (n == hexlen && all_hex(buf, hexlen)) {
        char text[2 * CACHET_SEAL_KEY_LEN + 1];
        memcpy(text, buf, hexlen);
        text[hexlen] = '\0';
        size_t got = 0;
        cachet_rc rc = cachet_hex_decode(text, k->bytes, sizeof k->bytes, &got);
        cachet_wipe(text, sizeof text);
        if (rc != CACHET_OK || got != CACHET_SEAL_KEY_LEN)
            return seal_err(FORMAT, "%s: bad hex key", path);
        return CACHET_OK;
    }
    return seal_err(FORMAT, "%s: %zu bytes is not a data key: a key file holds 32 raw bytes or "
                    "64 hex digits (and an optional newline)", path, len);
}

cachet_rc cachet_seal_key_load(const char *path, cachet_seal_key **out)
{
    if (!out || !path)
        return seal_err(INVALID_ARG, "key_load: NULL argument");
    *out = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    /* Larger than any valid key file, so that a wrong file is named as such
     * rather than read whole. */
    cachet_rc rc = cachet_file_read(path, 4096, &buf, &len);
    if (rc != CACHET_OK) {
        if (cachet_rc_code(rc) == CACHET_E_LIMIT)
            return seal_err(FORMAT, "%s: far too large for a key file (a key is 32 bytes)", path);
        return seal_wrap(rc, "reading the key file");
    }
    cachet_seal_key *k = key_alloc();
    if (!k) {
        cachet_wipe(buf, len);
        free(buf);
        return SEAL_RC(NOMEM);
    }
    rc = key_parse(path, buf, len, k);
    cachet_wipe(buf, len);
    free(buf);
    if (rc != CACHET_OK) {
        cachet_secure_free(k);
        return rc;
    }
    *out = k;
    return CACHET_OK;
}

cachet_rc cachet_seal_key_save(const cachet_seal_key *key, const char *path)
{
    if (!key || !path)
        return seal_err(INVALID_ARG, "key_save: NULL argument");
    /* O_EXCL: never replace an existing key (it may be the only copy);
     * O_NOFOLLOW: never write a key through a planted symlink. */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            return seal_err(INVALID_ARG, "%s: already exists; refusing to overwrite a key file", path);
        return seal_err(IO, "%s: cannot create key file: %s", path, strerror(errno));
    }
    cachet_rc rc = CACHET_OK;
    if (fchmod(fd, 0600) != 0)
        rc = seal_err(IO, "%s: chmod 0600: %s", path, strerror(errno));
    if (rc == CACHET_OK) {
        rc = cachet_fd_write_full(fd, key->bytes, sizeof key->bytes);
        if (rc != CACHET_OK)
            rc = seal_wrap(rc, "writing the key file");
    }
    if (rc == CACHET_OK && fsync(fd) != 0)
        rc = seal_err(IO, "%s: fsync: %s", path, strerror(errno));
    if (close(fd) != 0 && rc == CACHET_OK)
        rc = seal_err(IO, "%s: close: %s", path, strerror(errno));
    if (rc != CACHET_OK)
        unlink(path);
    return rc;
}

void cachet_seal_key_free(cachet_seal_key *key)
{
    cachet_secure_free(key); /* wipes */
}
