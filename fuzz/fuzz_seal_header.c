/* libFuzzer: the sealed-file header parser, which reads the first bytes of
 * a file anyone may hand us.  On success, checks the invariants the rest of
 * src/seal relies on: the header fits the input, its parts add up, the
 * strings are terminated printable ASCII, and the size arithmetic holds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/seal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int printable(const char *s, size_t max)
{
    size_t n = strnlen(s, max + 1);
    if (n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e)
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cachet_seal_header h;
    if (cachet_seal_header_parse(data, size, &h) != CACHET_OK)
        return 0;
    if (h.header_len > size || h.header_len > CACHET_SEAL_HEADER_MAX ||
        h.header_len < CACHET_SEAL_HEADER_FIXED + CACHET_SEAL_TAG_LEN)
        abort();
    if (h.version != CACHET_SEAL_VERSION || h.chunk_size < CACHET_SEAL_MIN_CHUNK ||
        h.chunk_size > CACHET_SEAL_MAX_CHUNK || h.plaintext_len > CACHET_SEAL_MAX_PLAINTEXT)
        abort();
    if (!printable(h.key_id, CACHET_SEAL_KEY_ID_MAX) ||
        !printable(h.media_type, CACHET_SEAL_MEDIA_TYPE_MAX))
        abort();
    if (h.metadata_len > CACHET_SEAL_METADATA_MAX ||
        CACHET_SEAL_HEADER_FIXED + strlen(h.key_id) + strlen(h.media_type) + h.metadata_len +
                CACHET_SEAL_TAG_LEN != h.header_len)
        abort();
    /* Pointers stay inside the header (touch every byte for the sanitizers). */
    if (h.tag != data + h.header_len - CACHET_SEAL_TAG_LEN)
        abort();
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < h.metadata_len; i++)
        sink ^= h.metadata[i];
    (void)sink;
    uint64_t chunks = h.plaintext_len == 0 ? 1 : (h.plaintext_len + h.chunk_size - 1) / h.chunk_size;
    if (h.chunk_count != chunks ||
        h.sealed_size != h.header_len + h.plaintext_len + CACHET_SEAL_TAG_LEN * chunks)
        abort();
    /* Parsing is a pure function of the header bytes. */
    cachet_seal_header again;
    if (cachet_seal_header_parse(data, h.header_len, &again) != CACHET_OK ||
        again.plaintext_len != h.plaintext_len || strcmp(again.key_id, h.key_id) != 0)
        abort();
    return 0;
}
