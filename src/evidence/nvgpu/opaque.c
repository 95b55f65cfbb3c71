/* The MEASUREMENTS response's OpaqueData as NVIDIA fills it: a run of
 * (type u16 LE, length u16 LE, value) entries (evidence-formats §3.4).
 * nvtrust reads them into a dictionary, so a repeated type silently wins;
 * here a known type may appear once, its size is checked, the run must end
 * exactly at OpaqueLength, and unknown types are counted and skipped. */
#include <stdio.h>
#include <string.h>

#include "cachet/reader.h"
#include "evidence/nvgpu/nvgpu.h"

#define EV_RC(code) CACHET_RC(CACHET_SUB_EVIDENCE, CACHET_E_##code)

/* An ASCII field: printable characters, then only NUL padding (at least
 * none); at most cap-1 characters. */
static cachet_rc read_ascii(uint16_t type, const uint8_t *v, size_t n, char *out, size_t cap)
{
    size_t len = 0;
    while (len < n && v[len] != 0)
        len++;
    for (size_t i = len; i < n; i++)
        if (v[i] != 0)
            return cachet_err(EV_RC(FORMAT), "opaque type %u: bytes after the terminating NUL",
                              type);
    if (len == 0)
        return cachet_err(EV_RC(FORMAT), "opaque type %u: empty string", type);
    if (len >= cap)
        return cachet_err(EV_RC(FORMAT), "opaque type %u: string of %zu bytes exceeds %zu", type,
                          len, cap - 1);
    for (size_t i = 0; i < len; i++)
        if (v[i] < 0x20 || v[i] > 0x7E)
            return cachet_err(EV_RC(FORMAT), "opaque type %u: non-printable byte 0x%02x", type,
                              v[i]);
    memcpy(out, v, len);
    out[len] = 0;
    return CACHET_OK;
}

void nvgpu_vbios_format(const uint8_t v[8], char out[20])
{
    /* nvtrust format_vbios_version: 009f009601000000 -> 96.00.9F.00.01. */
    snprintf(out, 20, "%02X.%02X.%02X.%02X.%02X", v[3], v[2], v[1], v[0], v[4]);
}

static cachet_rc take_value(nvgpu_opaque *o, uint16_t type, const uint8_t *v, uint16_t n)
{
    switch (type) {
    case NVGPU_TLV_DRIVER_VERSION:
        return read_ascii(type, v, n, o->driver_version, sizeof o->driver_version);
    case NVGPU_TLV_PROJECT:
        return read_ascii(type, v, n, o->project, sizeof o->project);
    case NVGPU_TLV_PROJECT_SKU:
        return read_ascii(type, v, n, o->project_sku, sizeof o->project_sku);
    case NVGPU_TLV_CHIP_SKU:
        return read_ascii(type, v, n, o->chip_sku, sizeof o->chip_sku);
    case NVGPU_TLV_CHIP_INFO:
        return read_ascii(type, v, n, o->chip_info, sizeof o->chip_info);
    case NVGPU_TLV_VBIOS_VERSION:
        if (n != 8)
            return cachet_err(EV_RC(FORMAT), "VBIOS_VERSION is %u bytes, not 8", n);
        memcpy(o->vbios, v, 8);
        o->has_vbios = true;
        nvgpu_vbios_format(o->vbios, o->vbios_version);
        return CACHET_OK;
    case NVGPU_TLV_FWID:
        if (n != NVGPU_FWID_LEN)
            return cachet_err(EV_RC(FORMAT), "FWID is %u bytes, not %u", n, NVGPU_FWID_LEN);
        o->fwid = v;
        return CACHET_OK;
    case NVGPU_TLV_NVDEC0_STATUS:
        if (n != 1 || (v[0] != NVGPU_NVDEC0_ENABLED && v[0] != NVGPU_NVDEC0_DISABLED))
            return cachet_err(EV_RC(FORMAT),
                              "NVDEC0_STATUS must be one byte 0xAA or 0x55 (%u bytes)", n);
        o->nvdec0 = v[0] == NVGPU_NVDEC0_ENABLED;
        return CACHET_OK;
    case NVGPU_TLV_MSRSCNT:
        if (n == 0 || n % 4)
            return cachet_err(EV_RC(FORMAT), "MSRSCNT of %u bytes is not a run of u32", n);
        o->msrscnt = v;
        o->msrscnt_len = n;
        return CACHET_OK;
    case NVGPU_TLV_BOARD_ID:
        if (n == 0 || n > 16)
            return cachet_err(EV_RC(FORMAT), "BOARD_ID of %u bytes", n);
        o->board_id = v;
        o->board_id_len = n;
        return CACHET_OK;
    case NVGPU_TLV_OPAQUE_DATA_VERSION:
        if (n == 0 || n > 4)
            return cachet_err(EV_RC(FORMAT), "OPAQUE_DATA_VERSION of %u bytes", n);
        o->opaque_version = 0;
        for (unsigned i = 0; i < n; i++)
            o->opaque_version |= (uint32_t)v[i] << (8 * i);
        o->has_opaque_version = true;
        return CACHET_OK;
    default:
        return CACHET_OK; /* known but not interpreted, or unknown: kept as bytes only */
    }
}

static bool known_type(uint16_t t)
{
    return (t >= NVGPU_TLV_CERT_ISSUER_NAME && t <= NVGPU_TLV_LOCK_SWITCH_STATUS) ||
           (t >= NVGPU_TLV_GPU_LINK_CONN && t <= NVGPU_TLV_FEATURE_FLAG);
}

cachet_rc nvgpu_opaque_parse(const uint8_t *buf, size_t len, nvgpu_opaque *out)
{
    memset(out, 0, sizeof *out);
    out->nvdec0 = -1;
    cachet_reader rd;
    cachet_reader_init(&rd, buf, len);
    while (!cachet_reader_done(&rd)) {
        uint16_t type = 0, n = 0;
        const uint8_t *v = NULL;
        cachet_read_u16le(&rd, &type);
        cachet_read_u16le(&rd, &n);
        if (cachet_reader_status(&rd) != CACHET_OK)
            return cachet_err(EV_RC(TRUNCATED), "opaque entry %zu: header cut short",
                              out->n_tlvs + 1);
        if (cachet_read_slice(&rd, n, &v) != CACHET_OK)
            return cachet_err(EV_RC(TRUNCATED),
                              "opaque entry %zu (type %u): length %u runs past OpaqueLength",
                              out->n_tlvs + 1, type, n);
        out->n_tlvs++;
        if (!known_type(type)) {
            if (type == NVGPU_TLV_MAX)
                return cachet_err(EV_RC(FORMAT), "opaque entry %zu has the INVALID type 255",
                                  out->n_tlvs);
            out->n_unknown++;
            continue;
        }
        if (out->seen[type])
            return cachet_err(EV_RC(FORMAT), "opaque type %u appears twice", type);
        out->seen[type] = true;
        cachet_rc rc = take_value(out, type, v, n);
        if (rc != CACHET_OK)
            return rc;
    }
    return CACHET_OK;
}
