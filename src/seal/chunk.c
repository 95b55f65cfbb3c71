/* The STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár 2015) over
 * AES-256-GCM: each chunk's nonce and AAD carry its index and whether it is
 * the final chunk, and the AAD also carries the header digest.  So a chunk
 * only authenticates at its own position, in its own file, with its own
 * final-ness (docs/sealed-format.md §4). */
#include <string.h>

#include "cachet/reader.h"
#include "seal/seal_int.h"

enum { NONCE_KIND_CHUNK = 0x43 /* 'C' */, NONCE_KIND_HEADER = 0x48 /* 'H' */ };

/* nonce = kind(1) || final(1) || 0x0000 || index (u64 big-endian) */
static void make_nonce(uint8_t kind, uint64_t index, bool final, uint8_t nonce[CACHET_GCM_IV_LEN])
{
    nonce[0] = kind;
    nonce[1] = final ? 1 : 0;
    nonce[2] = 0;
    nonce[3] = 0;
    cachet_put_be64(nonce + 4, index);
}

void seal_header_nonce(uint8_t nonce[CACHET_GCM_IV_LEN])
{
    make_nonce(NONCE_KIND_HEADER, 0, false, nonce);
}

void seal_chunk_nonce(uint64_t index, bool final, uint8_t nonce[CACHET_GCM_IV_LEN])
{
    make_nonce(NONCE_KIND_CHUNK, index, final, nonce);
}

/* aad = SHA-256(header) || index (u64 big-endian) || final(1) */
void seal_chunk_aad(const uint8_t header_digest[CACHET_SHA256_LEN], uint64_t index, bool final,
                    uint8_t aad[SEAL_AAD_LEN])
{
    memcpy(aad, header_digest, CACHET_SHA256_LEN);
    cachet_put_be64(aad + CACHET_SHA256_LEN, index);
    aad[CACHET_SHA256_LEN + 8] = final ? 1 : 0;
}

cachet_rc seal_chunk_encrypt(cachet_aead *a, const uint8_t header_digest[CACHET_SHA256_LEN],
                             uint64_t index, bool final, uint8_t *buf, size_t len,
                             uint8_t tag[CACHET_SEAL_TAG_LEN])
{
    uint8_t nonce[CACHET_GCM_IV_LEN], aad[SEAL_AAD_LEN];
    seal_chunk_nonce(index, final, nonce);
    seal_chunk_aad(header_digest, index, final, aad);
    cachet_rc rc = cachet_aead_seal(a, nonce, aad, sizeof aad, buf, len, buf, tag);
    if (rc != CACHET_OK)
        return seal_wrap(rc, "encrypting a chunk");
    return CACHET_OK;
}

cachet_rc seal_chunk_decrypt_from(cachet_aead *a, const uint8_t header_digest[CACHET_SHA256_LEN],
                                  uint64_t index, bool final, const uint8_t *in, uint8_t *out,
                                  size_t len, const uint8_t tag[CACHET_SEAL_TAG_LEN])
{
    uint8_t nonce[CACHET_GCM_IV_LEN], aad[SEAL_AAD_LEN];
    seal_chunk_nonce(index, final, nonce);
    seal_chunk_aad(header_digest, index, final, aad);
    cachet_rc rc = cachet_aead_open(a, nonce, aad, sizeof aad, in, len, out, tag);
    if (rc == CACHET_OK)
        return CACHET_OK;
    if (cachet_rc_code(rc) == CACHET_E_AUTH)
        return seal_err(AUTH, "chunk %llu: authentication failed (the file was modified, "
                        "truncated, or its chunks reordered or swapped)",
                        (unsigned long long)index);
    return seal_wrap(rc, "decrypting a chunk");
}

cachet_rc seal_chunk_decrypt(cachet_aead *a, const uint8_t header_digest[CACHET_SHA256_LEN],
                             uint64_t index, bool final, uint8_t *buf, size_t len,
                             const uint8_t tag[CACHET_SEAL_TAG_LEN])
{
    return seal_chunk_decrypt_from(a, header_digest, index, final, buf, buf, len, tag);
}

/* ---- a chunk in pieces ---- */

cachet_rc seal_chunk_begin(cachet_aead *a, const uint8_t header_digest[CACHET_SHA256_LEN],
                           uint64_t index, bool final, bool encrypt)
{
    uint8_t nonce[CACHET_GCM_IV_LEN], aad[SEAL_AAD_LEN];
    seal_chunk_nonce(index, final, nonce);
    seal_chunk_aad(header_digest, index, final, aad);
    cachet_rc rc = encrypt ? cachet_aead_seal_begin(a, nonce, aad, sizeof aad)
                           : cachet_aead_open_begin(a, nonce, aad, sizeof aad);
    return rc == CACHET_OK ? CACHET_OK : seal_wrap(rc, "starting a chunk");
}

cachet_rc seal_chunk_piece(cachet_aead *a, bool encrypt, const uint8_t *in, uint8_t *out,
                           size_t len)
{
    cachet_rc rc = encrypt ? cachet_aead_seal_update(a, in, len, out)
                           : cachet_aead_open_update(a, in, len, out);
    return rc == CACHET_OK ? CACHET_OK : seal_wrap(rc, encrypt ? "encrypting" : "decrypting");
}

cachet_rc seal_chunk_seal_finish(cachet_aead *a, uint8_t tag[CACHET_SEAL_TAG_LEN])
{
    cachet_rc rc = cachet_aead_seal_finish(a, tag);
    return rc == CACHET_OK ? CACHET_OK : seal_wrap(rc, "encrypting a chunk");
}

cachet_rc seal_chunk_open_finish(cachet_aead *a, uint64_t index,
                                 const uint8_t tag[CACHET_SEAL_TAG_LEN])
{
    cachet_rc rc = cachet_aead_open_finish(a, tag);
    if (rc == CACHET_OK)
        return CACHET_OK;
    if (cachet_rc_code(rc) == CACHET_E_AUTH)
        return seal_err(AUTH, "chunk %llu: authentication failed (the file was modified, "
                        "truncated, or its chunks reordered or swapped)",
                        (unsigned long long)index);
    return seal_wrap(rc, "decrypting a chunk");
}
