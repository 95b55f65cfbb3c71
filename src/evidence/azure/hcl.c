/* The Azure HCL report (evidence-formats §6.4), little-endian, fixed
 * offsets: a 32-byte attestation header ("HCLA"), the hardware report slot
 * (1184 bytes: an SNP report, or a 1024-byte TDREPORT and zeros), the
 * runtime-data header (data_size, version, report_type, hash type,
 * variable-data size) and the variable data (JSON).  Whatever follows the
 * variable data must be zero. */
#include <string.h>

#include "cachet/reader.h"
#include "evidence/azure/azure.h"

#define EV_RC(code) CACHET_RC(CACHET_SUB_EVIDENCE, CACHET_E_##code)

static const uint8_t hcl_magic[4] = { 'H', 'C', 'L', 'A' };

cachet_rc az_hcl_parse(const uint8_t *buf, size_t len, az_hcl *out)
{
    memset(out, 0, sizeof *out);
    if (!buf || len < AZ_VAR_OFF)
        return cachet_err(EV_RC(TRUNCATED), "HCL report of %zu bytes (at least %u)", len,
                          AZ_VAR_OFF);
    if (memcmp(buf, hcl_magic, sizeof hcl_magic) != 0)
        return cachet_err(EV_RC(FORMAT), "HCL report does not start with \"HCLA\"");
    cachet_reader r;
    cachet_reader_init(&r, buf, len);
    cachet_read_skip(&r, 4);
    cachet_read_u32le(&r, &out->version);
    cachet_read_u32le(&r, &out->report_size);
    cachet_read_u32le(&r, &out->request_type);
    cachet_read_u32le(&r, &out->status);
    if (cachet_read_zeros(&r, 12) != CACHET_OK)
        return cachet_err(EV_RC(FORMAT), "HCL header reserved bytes are not zero");
    cachet_read_slice(&r, AZ_HW_REPORT_LEN, &out->hw);
    cachet_read_u32le(&r, &out->data_size);
    cachet_read_u32le(&r, &out->rt_version);
    cachet_read_u32le(&r, &out->report_type);
    cachet_read_u32le(&r, &out->hash_type);
    cachet_read_u32le(&r, &out->var_size);
    if (cachet_reader_status(&r) != CACHET_OK)
        return cachet_err(EV_RC(TRUNCATED), "HCL report: truncated header");
    if (out->version < 1 || out->version > 2)
        return cachet_err(EV_RC(UNSUPPORTED), "HCL report version %u (1 and 2 are known)",
                          out->version);
    if (out->request_type != 2)
        return cachet_err(EV_RC(FORMAT), "HCL request type %u (2 = attestation report)",
                          out->request_type);
    if (out->status != 0)
        return cachet_err(EV_RC(FORMAT), "HCL report status %u (0 = success)", out->status);
    if (out->var_size == 0 || out->var_size > AZ_MAX_VAR ||
        out->var_size > cachet_reader_remaining(&r))
        return cachet_err(EV_RC(FORMAT), "runtime data of %u bytes, %zu left", out->var_size,
                          cachet_reader_remaining(&r));
    if (out->data_size != AZ_RUNTIME_HDR_LEN + out->var_size)
        return cachet_err(EV_RC(FORMAT), "runtime data size %u is not 20 + %u", out->data_size,
                          out->var_size);
    if (out->report_size != AZ_RUNTIME_OFF + out->data_size)
        return cachet_err(EV_RC(FORMAT), "HCL report size %u is not 0x4c0 + %u",
                          out->report_size, out->data_size);
    cachet_read_slice(&r, out->var_size, &out->var);
    size_t tail = cachet_reader_remaining(&r);
    if (cachet_read_zeros(&r, tail) != CACHET_OK)
        return cachet_err(EV_RC(FORMAT), "%zu bytes after the runtime data are not zero", tail);
    if (out->report_type == AZ_REPORT_TYPE_TDX) {
        /* The TDREPORT is 1024 bytes; the rest of the slot is padding. */
        for (size_t i = AZ_TDREPORT_LEN; i < AZ_HW_REPORT_LEN; i++)
            if (out->hw[i])
                return cachet_err(EV_RC(FORMAT), "TDREPORT padding byte %zu is not zero", i);
    }
    return CACHET_OK;
}
