/* The sample evidence format: bounded parsing and signed serialization
 * (layout in sample.h and docs/evidence/sample.md §1). */
#include <stdlib.h>
#include <string.h>

#include "cachet/reader.h"
#include "evidence/sample/sample.h"

#define SAMPLE_RC(code) CACHET_RC(CACHET_SUB_EVIDENCE, CACHET_E_##code)

cachet_rc sample_parse(const uint8_t *buf, size_t len, sample_report *out)
{
    if (!buf || !out)
        return cachet_err(SAMPLE_RC(INVALID_ARG), "sample: NULL argument");
    memset(out, 0, sizeof *out);
    if (len > SAMPLE_MAX_LEN)
        return cachet_err(SAMPLE_RC(LIMIT), "sample: %zu bytes is more than the %zu a report "
                                            "can have", len, (size_t)SAMPLE_MAX_LEN);
    cachet_reader r;
    cachet_reader_init(&r, buf, len);
    const uint8_t *magic = NULL;
    if (cachet_read_slice(&r, SAMPLE_MAGIC_LEN, &magic) != CACHET_OK ||
        memcmp(magic, SAMPLE_MAGIC, SAMPLE_MAGIC_LEN) != 0)
        return cachet_err(SAMPLE_RC(FORMAT), "sample: no \"%s\" magic at offset 0", SAMPLE_MAGIC);
    cachet_read_u16le(&r, &out->version);
    cachet_read_u16le(&r, &out->sig_alg);
    cachet_read_u32le(&r, &out->flags);
    cachet_read_u32le(&r, &out->svn);
    cachet_read_u32le(&r, &out->runtime_data_len);
    cachet_read_u64le(&r, &out->timestamp);
    cachet_read_copy(&r, out->report_data, sizeof out->report_data);
    cachet_read_copy(&r, out->measurement, sizeof out->measurement);
    cachet_read_copy(&r, out->key_id, sizeof out->key_id);
    if (cachet_reader_status(&r) != CACHET_OK)
        return cachet_err(SAMPLE_RC(TRUNCATED), "sample: %zu bytes end inside the %d-byte header",
                          len, SAMPLE_HEADER_LEN);
    if (out->version != SAMPLE_VERSION)
        return cachet_err(SAMPLE_RC(UNSUPPORTED), "sample: version %u (only %d is defined)",
                          out->version, SAMPLE_VERSION);
    if (out->sig_alg != SAMPLE_SIG_ES256)
        return cachet_err(SAMPLE_RC(UNSUPPORTED), "sample: sig_alg %u (only 1, ES256)",
                          out->sig_alg);
    if (out->flags & ~SAMPLE_FLAG_DEBUG)
        return cachet_err(SAMPLE_RC(FORMAT), "sample: reserved flag bits set (0x%08x)",
                          out->flags);
    if (out->runtime_data_len > SAMPLE_MAX_RUNTIME)
        return cachet_err(SAMPLE_RC(LIMIT), "sample: runtime_data_len %u over %u",
                          out->runtime_data_len, SAMPLE_MAX_RUNTIME);
    const uint8_t *rt = NULL;
    if (cachet_read_slice(&r, out->runtime_data_len, &rt) != CACHET_OK)
        return cachet_err(SAMPLE_RC(TRUNCATED), "sample: runtime data (%u bytes) runs past the "
                                                "end", out->runtime_data_len);
    out->runtime_data = out->runtime_data_len ? rt : NULL;
    out->signed_part = buf;
    out->signed_len = r.off;
    if (cachet_read_slice(&r, SAMPLE_SIG_LEN, &out->signature) != CACHET_OK)
        return cachet_err(SAMPLE_RC(TRUNCATED), "sample: the %d-byte signature is cut short",
                          SAMPLE_SIG_LEN);
    if (!cachet_reader_done(&r))
        return cachet_err(SAMPLE_RC(FORMAT), "sample: %zu trailing bytes after the signature",
                          cachet_reader_remaining(&r));
    return CACHET_OK;
}

cachet_rc sample_key_id(const cachet_pkey *key, uint8_t out[SAMPLE_KEY_ID_LEN])
{
    uint8_t *der = NULL;
    size_t n = 0;
    cachet_rc rc = cachet_pkey_spki_der(key, &der, &n);
    if (rc == CACHET_OK)
        rc = cachet_sha256(der, n, out);
    free(der);
    return rc;
}

cachet_rc sample_build(const sample_report *in, const cachet_pkey *key, uint8_t **out,
                       size_t *len)
{
    if (!in || !key || !out || !len)
        return cachet_err(SAMPLE_RC(INVALID_ARG), "sample: NULL argument");
    *out = NULL;
    *len = 0;
    if (!cachet_pkey_is_ec(key, CACHET_CURVE_P256))
        return cachet_err(SAMPLE_RC(UNSUPPORTED), "sample: the key must be EC P-256");
    if (in->runtime_data_len > SAMPLE_MAX_RUNTIME || (in->runtime_data_len && !in->runtime_data))
        return cachet_err(SAMPLE_RC(LIMIT), "sample: runtime data must be 0..%u bytes",
                          SAMPLE_MAX_RUNTIME);
    if (in->flags & ~SAMPLE_FLAG_DEBUG)
        return cachet_err(SAMPLE_RC(INVALID_ARG), "sample: unknown flags 0x%08x", in->flags);
    size_t signed_len = SAMPLE_HEADER_LEN + in->runtime_data_len;
    uint8_t *buf = calloc(1, signed_len + SAMPLE_SIG_LEN);
    if (!buf)
        return cachet_err(SAMPLE_RC(NOMEM), "sample: out of memory");
    memcpy(buf, SAMPLE_MAGIC, SAMPLE_MAGIC_LEN);
    cachet_put_le16(buf + 0x08, SAMPLE_VERSION);
    cachet_put_le16(buf + 0x0A, SAMPLE_SIG_ES256);
    cachet_put_le32(buf + 0x0C, in->flags);
    cachet_put_le32(buf + 0x10, in->svn);
    cachet_put_le32(buf + 0x14, in->runtime_data_len);
    cachet_put_le64(buf + 0x18, in->timestamp);
    memcpy(buf + 0x20, in->report_data, SAMPLE_REPORT_DATA_LEN);
    memcpy(buf + 0x60, in->measurement, SAMPLE_MEASUREMENT_LEN);
    cachet_rc rc = sample_key_id(key, buf + 0x90);
    if (rc == CACHET_OK && in->runtime_data_len)
        memcpy(buf + SAMPLE_HEADER_LEN, in->runtime_data, in->runtime_data_len);
    if (rc == CACHET_OK)
        rc = cachet_ecdsa_sign_raw(key, CACHET_HASH_SHA256, buf, signed_len, buf + signed_len,
                                   32, CACHET_BIG_ENDIAN);
    if (rc != CACHET_OK) {
        free(buf);
        return rc;
    }
    *out = buf;
    *len = signed_len + SAMPLE_SIG_LEN;
    return CACHET_OK;
}
