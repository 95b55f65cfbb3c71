/* The SNP certificate table (GHCB specification 56421 §4.1.8.1): what
 * SNP_GET_EXT_REPORT and configfs-tsm's auxblob return next to a report.
 *
 *   entries: { GUID (16 bytes, RFC 4122 mixed-endian), offset u32, length u32 }
 *   ...      ended by an all-zero entry; offsets are from the table start */
#include <string.h>

#include "attester/binding.h"
#include "cachet/reader.h"

#define ENTRY_LEN 24

static const struct {
    const char *name;
    uint8_t guid[16];
} known[] = {
    /* 63da758d-e664-4564-adc5-f4b93be8accd */
    {"vcek", {0x8d, 0x75, 0xda, 0x63, 0x64, 0xe6, 0x64, 0x45, 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8,
              0xac, 0xcd}},
    /* a8074bc2-a25a-483e-aae6-39c045a0b8a1 */
    {"vlek", {0xc2, 0x4b, 0x07, 0xa8, 0x5a, 0xa2, 0x3e, 0x48, 0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0,
              0xb8, 0xa1}},
    /* 4ab7b379-bbac-4fe4-a02f-05aef327c782 */
    {"ask", {0x79, 0xb3, 0xb7, 0x4a, 0xac, 0xbb, 0xe4, 0x4f, 0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27,
             0xc7, 0x82}},
    /* c0b406a4-a803-4952-9743-3fb6014cd0ae */
    {"ark", {0xa4, 0x06, 0xb4, 0xc0, 0x03, 0xa8, 0x52, 0x49, 0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c,
             0xd0, 0xae}},
};

cachet_rc cachet_snp_cert_table_parse(const uint8_t *buf, size_t len, cachet_snp_cert *certs,
                                      size_t cap, size_t *n)
{
    if (!buf || !certs || !n)
        return cachet_err(AT_RC(INVALID_ARG), "cert table: NULL argument");
    *n = 0;
    static const uint8_t zero[ENTRY_LEN];
    cachet_reader r;
    cachet_reader_init(&r, buf, len);
    for (;;) {
        const uint8_t *e = NULL;
        if (cachet_read_slice(&r, ENTRY_LEN, &e) != CACHET_OK)
            return cachet_err(AT_RC(TRUNCATED), "cert table: no terminating entry in %zu bytes",
                              len);
        if (memcmp(e, zero, ENTRY_LEN) == 0)
            return CACHET_OK;
        uint32_t off = cachet_le32(e + 16), clen = cachet_le32(e + 20);
        if (off > len || clen > len - off || clen == 0)
            return cachet_err(AT_RC(FORMAT), "cert table: entry %zu (offset %u, length %u) lies "
                                             "outside the %zu-byte table", *n, off, clen, len);
        if (*n >= cap)
            return cachet_err(AT_RC(LIMIT), "cert table: more than %zu entries", cap);
        cachet_snp_cert *c = &certs[(*n)++];
        c->name = "unknown";
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
            if (memcmp(e, known[i].guid, 16) == 0)
                c->name = known[i].name;
        c->data = buf + off;
        c->len = clen;
    }
}
