/* The sealed-file header: parsing untrusted bytes (with the bounded reader,
 * never by overlaying a struct) and serialising a new one.
 * Layout: docs/sealed-format.md §2. */
#include <stdlib.h>
#include <string.h>

#include "cachet/reader.h"
#include "seal/seal_int.h"

uint64_t seal_chunk_count(uint64_t plaintext_len, uint32_t chunk_size)
{
    /* An empty file is one empty final chunk, so that cutting a file down to
     * its header never looks like a valid empty file. */
    if (plaintext_len == 0)
        return 1;
    return (plaintext_len + chunk_size - 1) / chunk_size;
}

void seal_geom_from_header(const cachet_seal_header *h, seal_geom *g)
{
    g->header_len = h->header_len;
    g->plaintext_len = h->plaintext_len;
    g->chunk_count = h->chunk_count;
    g->chunk_size = h->chunk_size;
}

/* Key ids and media types are printable ASCII without spaces: they end up in
 * logs, URLs and policy files, where control bytes would be trouble. */
static bool printable_token(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e)
            return false;
    return true;
}

static cachet_rc parse_text(cachet_reader *r, size_t n, char *dst, const char *what)
{
    const uint8_t *s = NULL;
    if (cachet_read_slice(r, n, &s) != CACHET_OK)
        return seal_err(TRUNCATED, "header: %s runs past the header", what);
    if (!printable_token(s, n))
        return seal_err(FORMAT, "header: %s holds a byte outside printable ASCII", what);
    memcpy(dst, s, n);
    dst[n] = '\0';
    return CACHET_OK;
}

cachet_rc cachet_seal_header_parse(const uint8_t *buf, size_t len, cachet_seal_header *h)
{
    if (!h || (!buf && len))
        return seal_err(INVALID_ARG, "header_parse: NULL argument");
    memset(h, 0, sizeof *h);
    if (len == 0)
        return seal_err(TRUNCATED, "the sealed file is empty (0 bytes)");

    /* §2.1 magic first: a foreign file is named as such, not as truncated. */
    size_t m = len < SEAL_MAGIC_LEN ? len : SEAL_MAGIC_LEN;
    if (memcmp(buf, SEAL_MAGIC, m) != 0)
        return seal_err(FORMAT, "not a cachet sealed file (bad magic)");
    if (len < CACHET_SEAL_HEADER_FIXED)
        return seal_err(TRUNCATED, "header truncated: %zu bytes, the fixed part alone is %d", len,
                        CACHET_SEAL_HEADER_FIXED);

    cachet_reader r;
    cachet_reader_init(&r, buf, len);
    uint32_t reserved = 0, metadata_len = 0;
    uint16_t key_id_len = 0, media_type_len = 0;
    cachet_read_skip(&r, SEAL_MAGIC_LEN);
    cachet_read_u16le(&r, &h->version);
    cachet_read_u16le(&r, &h->algorithm);
    cachet_read_u32le(&r, &h->header_len);
    cachet_read_u32le(&r, &h->chunk_size);
    cachet_read_u32le(&r, &reserved);
    cachet_read_u64le(&r, &h->plaintext_len);
    cachet_read_copy(&r, h->salt, sizeof h->salt);
    cachet_read_copy(&r, h->key_check, sizeof h->key_check);
    cachet_read_u16le(&r, &key_id_len);
    cachet_read_u16le(&r, &media_type_len);
    cachet_read_u32le(&r, &metadata_len);
    if (cachet_reader_status(&r) != CACHET_OK) /* cannot happen after the length check */
        return seal_err(TRUNCATED, "header truncated in its fixed part");

    /* §2.2 version and algorithm before anything whose meaning they define. */
    if (h->version != CACHET_SEAL_VERSION)
        return seal_err(UNSUPPORTED, "sealed format version %u is not supported (this build reads %d)",
                        h->version, CACHET_SEAL_VERSION);
    if (h->algorithm != CACHET_SEAL_ALG_AES256GCM_HKDF_SHA256)
        return seal_err(UNSUPPORTED, "sealing algorithm %u is not supported (this build knows %d, "
                        "AES-256-GCM with HKDF-SHA256)", h->algorithm,
                        CACHET_SEAL_ALG_AES256GCM_HKDF_SHA256);
    if (reserved != 0)
        return seal_err(FORMAT, "header: reserved field is 0x%08x, must be zero", reserved);

    /* §2.3 limits, before any size arithmetic or allocation uses them. */
    if (h->chunk_size < CACHET_SEAL_MIN_CHUNK || h->chunk_size > CACHET_SEAL_MAX_CHUNK)
        return seal_err(RANGE, "header: chunk size %u is outside %u..%u", h->chunk_size,
                        CACHET_SEAL_MIN_CHUNK, CACHET_SEAL_MAX_CHUNK);
    if (h->plaintext_len > CACHET_SEAL_MAX_PLAINTEXT)
        return seal_err(LIMIT, "header: declared plaintext length %llu exceeds the limit of %llu bytes",
                        (unsigned long long)h->plaintext_len,
                        (unsigned long long)CACHET_SEAL_MAX_PLAINTEXT);
    if (key_id_len > CACHET_SEAL_KEY_ID_MAX || media_type_len > CACHET_SEAL_MEDIA_TYPE_MAX ||
        metadata_len > CACHET_SEAL_METADATA_MAX)
        return seal_err(LIMIT, "header: key id (%u), media type (%u) or metadata (%u) longer than "
                        "%d/%d/%d bytes", key_id_len, media_type_len, metadata_len,
                        CACHET_SEAL_KEY_ID_MAX, CACHET_SEAL_MEDIA_TYPE_MAX, CACHET_SEAL_METADATA_MAX);
    /* The header's own length must be exactly its parts: no slack to hide bytes in. */
    const uint64_t want = (uint64_t)CACHET_SEAL_HEADER_FIXED + key_id_len + media_type_len +
                          metadata_len + CACHET_SEAL_TAG_LEN;
    if (h->header_len != want)
        return seal_err(FORMAT, "header: length field says %u bytes but its fields take %llu",
                        h->header_len, (unsigned long long)want);
    if (len < h->header_len)
        return seal_err(TRUNCATED, "header truncated: %zu of its %u bytes present", len,
                        h->header_len);

    cachet_rc rc = parse_text(&r, key_id_len, h->key_id, "key id");
    if (rc == CACHET_OK)
        rc = parse_text(&r, media_type_len, h->media_type, "media type");
    if (rc != CACHET_OK)
        return rc;
    h->metadata_len = metadata_len;
    cachet_read_slice(&r, metadata_len, &h->metadata);
    cachet_read_slice(&r, CACHET_SEAL_TAG_LEN, &h->tag);
    if (cachet_reader_status(&r) != CACHET_OK || r.off != h->header_len)
        return seal_err(FORMAT, "header: fields do not end at the declared length");

    h->chunk_count = seal_chunk_count(h->plaintext_len, h->chunk_size);
    /* Cannot overflow: plaintext <= 2^50, chunk count <= 2^38. */
    h->sealed_size = h->header_len + h->plaintext_len + h->chunk_count * CACHET_SEAL_TAG_LEN;
    return CACHET_OK;
}

static size_t text_len(const char *s) { return s ? strlen(s) : 0; }

cachet_rc seal_header_build(const cachet_seal_params *p, uint32_t chunk_size,
                            uint64_t plaintext_len, const uint8_t salt[CACHET_SEAL_SALT_LEN],
                            const uint8_t key_check[CACHET_SEAL_KEY_CHECK_LEN], uint8_t **out,
                            size_t *len)
{
    *out = NULL;
    *len = 0;
    const size_t kl = text_len(p->key_id), ml = text_len(p->media_type);
    if (kl > CACHET_SEAL_KEY_ID_MAX || !printable_token((const uint8_t *)(kl ? p->key_id : ""), kl))
        return seal_err(INVALID_ARG, "key id must be at most %d printable ASCII characters, no spaces",
                        CACHET_SEAL_KEY_ID_MAX);
    if (ml > CACHET_SEAL_MEDIA_TYPE_MAX ||
        !printable_token((const uint8_t *)(ml ? p->media_type : ""), ml))
        return seal_err(INVALID_ARG, "media type must be at most %d printable ASCII characters, "
                        "no spaces", CACHET_SEAL_MEDIA_TYPE_MAX);
    if (p->metadata_len > CACHET_SEAL_METADATA_MAX || (!p->metadata && p->metadata_len))
        return seal_err(INVALID_ARG, "metadata must be at most %d bytes", CACHET_SEAL_METADATA_MAX);
    if (chunk_size < CACHET_SEAL_MIN_CHUNK || chunk_size > CACHET_SEAL_MAX_CHUNK)
        return seal_err(INVALID_ARG, "chunk size %u is outside %u..%u", chunk_size,
                        CACHET_SEAL_MIN_CHUNK, CACHET_SEAL_MAX_CHUNK);
    if (plaintext_len > CACHET_SEAL_MAX_PLAINTEXT)
        return seal_err(LIMIT, "input of %llu bytes exceeds the limit of %llu bytes",
                        (unsigned long long)plaintext_len,
                        (unsigned long long)CACHET_SEAL_MAX_PLAINTEXT);

    const size_t n = CACHET_SEAL_HEADER_FIXED + kl + ml + p->metadata_len + CACHET_SEAL_TAG_LEN;
    uint8_t *h = calloc(1, n);
    if (!h)
        return seal_err(NOMEM, "header: out of memory");
    memcpy(h + SEAL_OFF_MAGIC, SEAL_MAGIC, SEAL_MAGIC_LEN);
    cachet_put_le16(h + SEAL_OFF_VERSION, CACHET_SEAL_VERSION);
    cachet_put_le16(h + SEAL_OFF_ALGORITHM, CACHET_SEAL_ALG_AES256GCM_HKDF_SHA256);
    cachet_put_le32(h + SEAL_OFF_HEADER_LEN, (uint32_t)n);
    cachet_put_le32(h + SEAL_OFF_CHUNK_SIZE, chunk_size);
    cachet_put_le32(h + SEAL_OFF_RESERVED, 0);
    cachet_put_le64(h + SEAL_OFF_PLAINTEXT_LEN, plaintext_len);
    memcpy(h + SEAL_OFF_SALT, salt, CACHET_SEAL_SALT_LEN);
    memcpy(h + SEAL_OFF_KEY_CHECK, key_check, CACHET_SEAL_KEY_CHECK_LEN);
    cachet_put_le16(h + SEAL_OFF_KEY_ID_LEN, (uint16_t)kl);
    cachet_put_le16(h + SEAL_OFF_MEDIA_TYPE_LEN, (uint16_t)ml);
    cachet_put_le32(h + SEAL_OFF_METADATA_LEN, (uint32_t)p->metadata_len);
    uint8_t *v = h + SEAL_OFF_VARIABLE;
    if (kl)
        memcpy(v, p->key_id, kl);
    v += kl;
    if (ml)
        memcpy(v, p->media_type, ml);
    v += ml;
    if (p->metadata_len)
        memcpy(v, p->metadata, p->metadata_len);
    *out = h;
    *len = n;
    return CACHET_OK;
}
