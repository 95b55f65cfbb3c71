/* TCG PC Client event logs (TCG PC Client Platform Firmware Profile §10):
 * the legacy TCG_PCClientPCREvent header (for a crypto-agile log: an
 * EV_NO_ACTION event carrying TCG_EfiSpecIDEvent "Spec ID Event03"), then
 * TCG_PCR_EVENT2 records with one digest per algorithm the header lists.
 * A log without that header is a SHA-1-only log of TCG_PCClientPCREvent
 * records.  All integers are little-endian (this is not a TPM structure,
 * so libtss2-mu does not apply); every length is bounded by what is left. */
#include <stdlib.h>
#include <string.h>

#include "cachet/reader.h"
#include "evidence/tpm/tpm.h"

#define EV_RC(code) CACHET_RC(CACHET_SUB_EVIDENCE, CACHET_E_##code)

static const char spec_id03[16] = "Spec ID Event03"; /* includes the NUL */
static const char locality_sig[16] = "StartupLocality";

static const struct {
    uint32_t type;
    const char *name;
} event_names[] = {
    { 0x00000000, "EV_PREBOOT_CERT" },
    { 0x00000001, "EV_POST_CODE" },
    { 0x00000002, "EV_UNUSED" },
    { 0x00000003, "EV_NO_ACTION" },
    { 0x00000004, "EV_SEPARATOR" },
    { 0x00000005, "EV_ACTION" },
    { 0x00000006, "EV_EVENT_TAG" },
    { 0x00000007, "EV_S_CRTM_CONTENTS" },
    { 0x00000008, "EV_S_CRTM_VERSION" },
    { 0x00000009, "EV_CPU_MICROCODE" },
    { 0x0000000A, "EV_PLATFORM_CONFIG_FLAGS" },
    { 0x0000000B, "EV_TABLE_OF_DEVICES" },
    { 0x0000000C, "EV_COMPACT_HASH" },
    { 0x0000000D, "EV_IPL" },
    { 0x0000000E, "EV_IPL_PARTITION_DATA" },
    { 0x0000000F, "EV_NONHOST_CODE" },
    { 0x00000010, "EV_NONHOST_CONFIG" },
    { 0x00000011, "EV_NONHOST_INFO" },
    { 0x00000012, "EV_OMIT_BOOT_DEVICE_EVENTS" },
    { 0x00000013, "EV_POST_CODE2" },
    { 0x80000001, "EV_EFI_VARIABLE_DRIVER_CONFIG" },
    { 0x80000002, "EV_EFI_VARIABLE_BOOT" },
    { 0x80000003, "EV_EFI_BOOT_SERVICES_APPLICATION" },
    { 0x80000004, "EV_EFI_BOOT_SERVICES_DRIVER" },
    { 0x80000005, "EV_EFI_RUNTIME_SERVICES_DRIVER" },
    { 0x80000006, "EV_EFI_GPT_EVENT" },
    { 0x80000007, "EV_EFI_ACTION" },
    { 0x80000008, "EV_EFI_PLATFORM_FIRMWARE_BLOB" },
    { 0x80000009, "EV_EFI_HANDOFF_TABLES" },
    { 0x8000000A, "EV_EFI_PLATFORM_FIRMWARE_BLOB2" },
    { 0x8000000B, "EV_EFI_HANDOFF_TABLES2" },
    { 0x8000000C, "EV_EFI_VARIABLE_BOOT2" },
    { 0x8000000D, "EV_EFI_GPT_EVENT2" },
    { 0x80000010, "EV_EFI_HCRTM_EVENT" },
    { 0x800000E0, "EV_EFI_VARIABLE_AUTHORITY" },
    { 0x800000E1, "EV_EFI_SPDM_FIRMWARE_BLOB" },
    { 0x800000E2, "EV_EFI_SPDM_FIRMWARE_CONFIG" },
};

const char *tpm_event_type_name(uint32_t type)
{
    for (size_t i = 0; i < sizeof event_names / sizeof event_names[0]; i++)
        if (event_names[i].type == type)
            return event_names[i].name;
    return NULL;
}

void tpm_eventlog_free(tpm_eventlog *l)
{
    if (!l)
        return;
    free(l->ev);
    memset(l, 0, sizeof *l);
}

int tpm_eventlog_alg_index(const tpm_eventlog *l, uint16_t alg)
{
    for (size_t i = 0; i < l->n_algs; i++)
        if (l->algs[i] == alg)
            return (int)i;
    return -1;
}

static cachet_rc push(tpm_eventlog *l, size_t *cap, const tpm_event *e)
{
    if (l->n >= TPM_EVENTLOG_MAX_EVENTS)
        return cachet_err(EV_RC(LIMIT), "more than %u events", TPM_EVENTLOG_MAX_EVENTS);
    if (l->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        tpm_event *ne = realloc(l->ev, nc * sizeof *ne);
        if (!ne)
            return cachet_err(EV_RC(NOMEM), "event log: out of memory");
        l->ev = ne;
        *cap = nc;
    }
    l->ev[l->n++] = *e;
    return CACHET_OK;
}

/* The legacy record: pcrIndex, eventType, SHA-1 digest, eventSize, event. */
static cachet_rc read_legacy(cachet_reader *r, tpm_event *e)
{
    uint32_t size = 0;
    memset(e, 0, sizeof *e);
    e->offset = r->off;
    cachet_read_u32le(r, &e->pcr);
    cachet_read_u32le(r, &e->type);
    cachet_read_slice(r, 20, &e->digest[0]);
    cachet_read_u32le(r, &size);
    if (cachet_reader_status(r) != CACHET_OK)
        return cachet_err(EV_RC(TRUNCATED), "event at offset %zu: truncated header", e->offset);
    if (size > cachet_reader_remaining(r))
        return cachet_err(EV_RC(TRUNCATED), "event at offset %zu: %u data bytes, %zu left",
                          e->offset, size, cachet_reader_remaining(r));
    cachet_read_slice(r, size, &e->data);
    e->data_len = size;
    return CACHET_OK;
}

/* TCG_EfiSpecIDEvent: the algorithms and digest sizes of a crypto-agile log. */
static cachet_rc read_spec_id(tpm_eventlog *l, const tpm_event *hdr)
{
    cachet_reader r;
    cachet_reader_init(&r, hdr->data, hdr->data_len);
    uint32_t platform_class = 0, n = 0;
    uint8_t uintn = 0, vendor = 0;
    cachet_read_skip(&r, 16);
    cachet_read_u32le(&r, &platform_class);
    cachet_read_u8(&r, &l->spec_minor);
    cachet_read_u8(&r, &l->spec_major);
    cachet_read_u8(&r, &l->spec_errata);
    cachet_read_u8(&r, &uintn);
    cachet_read_u32le(&r, &n);
    if (cachet_reader_status(&r) != CACHET_OK)
        return cachet_err(EV_RC(TRUNCATED), "Spec ID Event03: truncated");
    if (n == 0 || n > TPM_EVENTLOG_MAX_ALGS)
        return cachet_err(EV_RC(FORMAT), "Spec ID Event03 lists %u algorithms (1..%u allowed)",
                          n, TPM_EVENTLOG_MAX_ALGS);
    for (uint32_t i = 0; i < n; i++) {
        uint16_t alg = 0, size = 0;
        cachet_read_u16le(&r, &alg);
        cachet_read_u16le(&r, &size);
        if (cachet_reader_status(&r) != CACHET_OK)
            return cachet_err(EV_RC(TRUNCATED), "Spec ID Event03: truncated digest sizes");
        size_t known = tpm_alg_digest_len(alg);
        if (size == 0 || size > TPM_MAX_DIGEST || (known && known != size))
            return cachet_err(EV_RC(FORMAT), "Spec ID Event03: algorithm 0x%04x with %u-byte "
                              "digests", alg, size);
        for (uint32_t j = 0; j < i; j++)
            if (l->algs[j] == alg)
                return cachet_err(EV_RC(FORMAT), "Spec ID Event03 lists 0x%04x twice", alg);
        l->algs[i] = alg;
        l->sizes[i] = size;
    }
    l->n_algs = n;
    cachet_read_u8(&r, &vendor);
    cachet_read_skip(&r, vendor);
    if (cachet_reader_status(&r) != CACHET_OK)
        return cachet_err(EV_RC(TRUNCATED), "Spec ID Event03: truncated vendor info");
    if (!cachet_reader_done(&r))
        return cachet_err(EV_RC(FORMAT), "Spec ID Event03: %zu bytes after the vendor info",
                          cachet_reader_remaining(&r));
    (void)platform_class;
    (void)uintn;
    return CACHET_OK;
}

static cachet_rc read_event2(const tpm_eventlog *l, cachet_reader *r, tpm_event *e)
{
    uint32_t count = 0, size = 0;
    memset(e, 0, sizeof *e);
    e->offset = r->off;
    cachet_read_u32le(r, &e->pcr);
    cachet_read_u32le(r, &e->type);
    cachet_read_u32le(r, &count);
    if (cachet_reader_status(r) != CACHET_OK)
        return cachet_err(EV_RC(TRUNCATED), "event at offset %zu: truncated header", e->offset);
    if (count != l->n_algs)
        return cachet_err(EV_RC(FORMAT), "event at offset %zu carries %u digests; the log "
                          "declares %zu algorithms", e->offset, count, l->n_algs);
    for (uint32_t i = 0; i < count; i++) {
        uint16_t alg = 0;
        cachet_read_u16le(r, &alg);
        int k = tpm_eventlog_alg_index(l, alg);
        if (cachet_reader_status(r) != CACHET_OK)
            return cachet_err(EV_RC(TRUNCATED), "event at offset %zu: truncated digests",
                              e->offset);
        if (k < 0)
            return cachet_err(EV_RC(FORMAT), "event at offset %zu: algorithm 0x%04x is not "
                              "declared in Spec ID Event03", e->offset, alg);
        if (e->digest[k])
            return cachet_err(EV_RC(FORMAT), "event at offset %zu: algorithm 0x%04x twice",
                              e->offset, alg);
        if (cachet_read_slice(r, l->sizes[k], &e->digest[k]) != CACHET_OK)
            return cachet_err(EV_RC(TRUNCATED), "event at offset %zu: truncated digest",
                              e->offset);
    }
    cachet_read_u32le(r, &size);
    if (cachet_reader_status(r) != CACHET_OK)
        return cachet_err(EV_RC(TRUNCATED), "event at offset %zu: truncated size", e->offset);
    if (size > cachet_reader_remaining(r))
        return cachet_err(EV_RC(TRUNCATED), "event at offset %zu: %u data bytes, %zu left",
                          e->offset, size, cachet_reader_remaining(r));
    cachet_read_slice(r, size, &e->data);
    e->data_len = size;
    return CACHET_OK;
}

static bool rest_is_zero(const cachet_reader *r)
{
    for (size_t i = r->off; i < r->len; i++)
        if (r->buf[i])
            return false;
    return true;
}

static cachet_rc check_event(tpm_eventlog *l, const tpm_event *e)
{
    if (e->type == TPM_EV_NO_ACTION) {
        /* StartupLocality (PFP §10.4.5.3): 16-byte signature, locality u8. */
        if (e->pcr == 0 && e->data_len == 17 && memcmp(e->data, locality_sig, 16) == 0) {
            l->has_locality = true;
            l->startup_locality = e->data[16];
        }
        return CACHET_OK;
    }
    if (e->pcr >= TPM_PCR_COUNT)
        return cachet_err(EV_RC(FORMAT), "event at offset %zu extends PCR %u", e->offset, e->pcr);
    return CACHET_OK;
}

cachet_rc tpm_eventlog_parse(const uint8_t *buf, size_t len, tpm_eventlog *out)
{
    memset(out, 0, sizeof *out);
    if (!buf || !len)
        return cachet_err(EV_RC(TRUNCATED), "empty event log");
    cachet_reader r;
    cachet_reader_init(&r, buf, len);
    size_t cap = 0;
    tpm_event hdr;
    cachet_rc rc = read_legacy(&r, &hdr);
    if (rc != CACHET_OK)
        return rc;
    bool agile = hdr.type == TPM_EV_NO_ACTION && hdr.pcr == 0 && hdr.data_len >= 16 &&
                 memcmp(hdr.data, spec_id03, 16) == 0;
    if (agile) {
        for (size_t i = 0; i < 20; i++)
            if (hdr.digest[0][i])
                return cachet_err(EV_RC(FORMAT), "Spec ID Event03 header with a non-zero digest");
        /* Its 20 zero bytes are a legacy SHA-1 field, not a digest of the
         * log's first bank: nobody may read them at that bank's size. */
        hdr.digest[0] = NULL;
        out->crypto_agile = true;
        if ((rc = read_spec_id(out, &hdr)) != CACHET_OK)
            return rc;
    } else {
        out->n_algs = 1;
        out->algs[0] = TPM2_ALG_SHA1;
        out->sizes[0] = 20;
        if ((rc = check_event(out, &hdr)) != CACHET_OK)
            return rc;
    }
    if ((rc = push(out, &cap, &hdr)) != CACHET_OK)
        goto fail;
    while (!cachet_reader_done(&r)) {
        /* Firmware may leave the rest of a fixed-size log area zeroed. */
        if (cachet_reader_remaining(&r) >= 8 && rest_is_zero(&r))
            break;
        tpm_event e;
        rc = agile ? read_event2(out, &r, &e) : read_legacy(&r, &e);
        if (rc == CACHET_OK)
            rc = check_event(out, &e);
        if (rc == CACHET_OK)
            rc = push(out, &cap, &e);
        if (rc != CACHET_OK)
            goto fail;
    }
    return CACHET_OK;
fail:
    tpm_eventlog_free(out);
    return rc;
}

cachet_rc tpm_eventlog_replay(const tpm_eventlog *l, uint16_t alg,
                              uint8_t pcr[TPM_PCR_COUNT][TPM_MAX_DIGEST], uint32_t *touched)
{
    cachet_hash_alg h;
    int k = tpm_eventlog_alg_index(l, alg);
    *touched = 0;
    if (k < 0)
        return cachet_err(EV_RC(UNSUPPORTED), "the log has no %s digests",
                          tpm_alg_name(alg) ? tpm_alg_name(alg) : "such");
    if (!tpm_alg_hash(alg, &h))
        return cachet_err(EV_RC(UNSUPPORTED), "bank %s is not replayed (SHA-1 is not accepted)",
                          tpm_alg_name(alg) ? tpm_alg_name(alg) : "unknown");
    size_t dl = cachet_hash_len(h);
    /* Reset values (PC Client PTP): PCRs 17-22 start at all ones. */
    for (unsigned i = 0; i < TPM_PCR_COUNT; i++)
        memset(pcr[i], i >= 17 && i <= 22 ? 0xff : 0x00, TPM_MAX_DIGEST);
    if (l->has_locality)
        pcr[0][dl - 1] = l->startup_locality;
    uint8_t buf[2 * TPM_MAX_DIGEST];
    for (size_t i = 0; i < l->n; i++) {
        const tpm_event *e = &l->ev[i];
        if (e->type == TPM_EV_NO_ACTION || (i == 0 && l->crypto_agile))
            continue;
        memcpy(buf, pcr[e->pcr], dl);
        memcpy(buf + dl, e->digest[k], dl);
        cachet_rc rc = cachet_hash(h, buf, 2 * dl, pcr[e->pcr]);
        if (rc != CACHET_OK)
            return rc;
        *touched |= 1u << e->pcr;
    }
    return CACHET_OK;
}

bool tpm_looks_like_eventlog(const uint8_t *buf, size_t len)
{
    /* The crypto-agile header: PCR 0, EV_NO_ACTION, zero digest, then the
     * Spec ID Event03 signature at offset 32. */
    if (!buf || len < 32 + 16)
        return false;
    if (cachet_le32(buf) != 0 || cachet_le32(buf + 4) != TPM_EV_NO_ACTION)
        return false;
    return memcmp(buf + 32, spec_id03, 16) == 0;
}
