/* The GPU attestation report: an SPDM 1.1 GET_MEASUREMENTS request followed
 * by the MEASUREMENTS response (DSP0274 1.1 §10.11, evidence-formats §3.2).
 * Parsed by structure with the bounded reader: every length is checked
 * against what remains, the measurement record must parse exactly to its
 * declared length, and nothing but zero bytes may follow the signature (one
 * real capture carries a trailing 0x00; the signature never covers it). */
#include <string.h>

#include "cachet/reader.h"
#include "evidence/nvgpu/nvgpu.h"

#define EV_RC(code) CACHET_RC(CACHET_SUB_EVIDENCE, CACHET_E_##code)

static cachet_rc stage_fail(nvgpu_parse_stage *stage, nvgpu_parse_stage s, cachet_rc rc)
{
    if (stage)
        *stage = s;
    return rc;
}

const char *nvgpu_parse_stage_check(nvgpu_parse_stage s)
{
    switch (s) {
    case NVGPU_PARSE_OK: return "report";
    case NVGPU_PARSE_SIZE: return "report.size";
    case NVGPU_PARSE_REQUEST: return "report.request";
    case NVGPU_PARSE_RESPONSE: return "report.response";
    case NVGPU_PARSE_MEASUREMENTS: return "report.measurements";
    case NVGPU_PARSE_OPAQUE: return "report.opaque";
    case NVGPU_PARSE_SIGNATURE: return "report.signature_field";
    case NVGPU_PARSE_TRAILING: return "report.trailing";
    }
    return "report";
}

const nvgpu_block *nvgpu_report_block(const nvgpu_report *r, unsigned index)
{
    if (!r || index > 255 || r->by_index[index] == 0)
        return NULL;
    return &r->blocks[r->by_index[index] - 1];
}

/* GET_MEASUREMENTS: version, code 0xE0, Param1 bit 0 (signature requested),
 * Param2 (operation), 32-byte nonce, SlotIDParam. */
static cachet_rc parse_request(cachet_reader *rd, nvgpu_report *r)
{
    uint8_t code = 0;
    cachet_read_u8(rd, &r->spdm_version);
    cachet_read_u8(rd, &code);
    cachet_read_u8(rd, &r->req_param1);
    cachet_read_u8(rd, &r->req_param2);
    cachet_read_slice(rd, NVGPU_NONCE_LEN, &r->nonce);
    cachet_read_u8(rd, &r->slot);
    if (cachet_reader_status(rd) != CACHET_OK)
        return cachet_err(EV_RC(TRUNCATED), "the report ends inside the %u-byte request",
                          NVGPU_REQUEST_LEN);
    if (code != NVGPU_SPDM_GET_MEASUREMENTS)
        return cachet_err(EV_RC(FORMAT), "request code 0x%02x is not GET_MEASUREMENTS (0xe0)",
                          code);
    if ((r->spdm_version >> 4) != 1)
        return cachet_err(EV_RC(FORMAT), "SPDMVersion 0x%02x is not an SPDM 1.x version",
                          r->spdm_version);
    /* SPDM 1.2 adds a signing context to the signed hash (evidence-formats
     * §3.3, pitfall 9); cachet implements the 1.1 transcript only. */
    if (r->spdm_version != NVGPU_SPDM_VERSION_11)
        return cachet_err(EV_RC(UNSUPPORTED),
                          "SPDMVersion 0x%02x: only SPDM 1.1 (0x11) measurement signatures are "
                          "implemented", r->spdm_version);
    if (!(r->req_param1 & 0x01))
        return cachet_err(EV_RC(FORMAT),
                          "request Param1 0x%02x does not ask for a signature (bit 0)",
                          r->req_param1);
    if (r->req_param1 & 0xFE)
        return cachet_err(EV_RC(FORMAT), "request Param1 0x%02x has reserved bits set",
                          r->req_param1);
    if (r->req_param2 == 0)
        return cachet_err(EV_RC(FORMAT),
                          "request Param2 0 asks for the number of measurements, not for them");
    if (r->slot > 7)
        return cachet_err(EV_RC(FORMAT), "SlotIDParam %u is not a slot (0-7)", r->slot);
    return CACHET_OK;
}

/* One measurement block: Index, MeasurementSpecification, MeasurementSize,
 * then the DMTF measurement (type, size, value) filling exactly that size. */
static cachet_rc parse_block(cachet_reader *rec, size_t i, nvgpu_report *r)
{
    uint8_t index = 0, spec = 0, type = 0;
    uint16_t size = 0, vsize = 0;
    cachet_read_u8(rec, &index);
    cachet_read_u8(rec, &spec);
    cachet_read_u16le(rec, &size);
    if (cachet_reader_status(rec) != CACHET_OK)
        return cachet_err(EV_RC(TRUNCATED), "block %zu: header runs past the record", i + 1);
    if (spec != NVGPU_DMTF_SPEC)
        return cachet_err(EV_RC(FORMAT),
                          "block %zu (index %u): MeasurementSpecification 0x%02x is not DMTF "
                          "(0x01)", i + 1, index, spec);
    if (index == 0 || index == 0xFF)
        return cachet_err(EV_RC(FORMAT), "block %zu: index %u is reserved", i + 1, index);
    if (r->by_index[index])
        return cachet_err(EV_RC(FORMAT), "block %zu: index %u appears twice", i + 1, index);
    cachet_reader m;
    if (cachet_read_sub(rec, size, &m) != CACHET_OK)
        return cachet_err(EV_RC(TRUNCATED),
                          "block %zu (index %u): MeasurementSize %u runs past the record", i + 1,
                          index, size);
    cachet_read_u8(&m, &type);
    cachet_read_u16le(&m, &vsize);
    if (cachet_reader_status(&m) != CACHET_OK || (size_t)vsize + 3u != size)
        return cachet_err(EV_RC(FORMAT),
                          "block %zu (index %u): DMTF value size %u does not fill MeasurementSize "
                          "%u", i + 1, index, vsize, size);
    if (vsize == 0 || vsize > NVGPU_MEAS_VALUE_MAX)
        return cachet_err(EV_RC(FORMAT), "block %zu (index %u): value of %u bytes (1..%u)",
                          i + 1, index, vsize, NVGPU_MEAS_VALUE_MAX);
    nvgpu_block *b = &r->blocks[i];
    b->index = index;
    b->value_type = type;
    b->value_len = vsize;
    cachet_read_slice(&m, vsize, &b->value);
    r->by_index[index] = (uint8_t)(i + 1);
    return CACHET_OK;
}

static cachet_rc parse_response(cachet_reader *rd, nvgpu_report *r, nvgpu_parse_stage *stage)
{
    uint8_t version = 0, code = 0;
    uint32_t l1 = 0;
    cachet_read_u8(rd, &version);
    cachet_read_u8(rd, &code);
    cachet_read_u8(rd, &r->resp_param1);
    cachet_read_u8(rd, &r->resp_param2);
    cachet_read_u8(rd, &r->n_blocks);
    cachet_read_u24le(rd, &l1);
    if (cachet_reader_status(rd) != CACHET_OK)
        return stage_fail(stage, NVGPU_PARSE_RESPONSE,
                          cachet_err(EV_RC(TRUNCATED), "the report ends inside the response header"));
    if (code != NVGPU_SPDM_MEASUREMENTS)
        return stage_fail(stage, NVGPU_PARSE_RESPONSE,
                          cachet_err(EV_RC(FORMAT), "response code 0x%02x is not MEASUREMENTS (0x60)",
                                     code));
    if (version != r->spdm_version)
        return stage_fail(stage, NVGPU_PARSE_RESPONSE,
                          cachet_err(EV_RC(FORMAT),
                                     "response SPDMVersion 0x%02x differs from the request's 0x%02x",
                                     version, r->spdm_version));
    if ((r->resp_param2 & 0x0F) != r->slot)
        return stage_fail(stage, NVGPU_PARSE_RESPONSE,
                          cachet_err(EV_RC(FORMAT),
                                     "response slot %u differs from the requested slot %u",
                                     r->resp_param2 & 0x0F, r->slot));
    if (r->n_blocks == 0)
        return stage_fail(stage, NVGPU_PARSE_MEASUREMENTS,
                          cachet_err(EV_RC(FORMAT), "the response carries no measurement block"));
    if (r->req_param2 != 0xFF && r->n_blocks != 1)
        return stage_fail(stage, NVGPU_PARSE_MEASUREMENTS,
                          cachet_err(EV_RC(FORMAT),
                                     "one measurement (index %u) was requested but %u blocks "
                                     "came back", r->req_param2, r->n_blocks));

    cachet_reader rec;
    if (cachet_read_sub(rd, l1, &rec) != CACHET_OK)
        return stage_fail(stage, NVGPU_PARSE_MEASUREMENTS,
                          cachet_err(EV_RC(TRUNCATED),
                                     "MeasurementRecordLength %u runs past the report", l1));
    r->record = rec.buf;
    r->record_len = l1;
    for (size_t i = 0; i < r->n_blocks; i++) {
        if (cachet_reader_remaining(&rec) == 0)
            return stage_fail(stage, NVGPU_PARSE_MEASUREMENTS,
                              cachet_err(EV_RC(FORMAT),
                                         "NumberOfBlocks is %u but the record holds %zu", r->n_blocks,
                                         i));
        cachet_rc rc = parse_block(&rec, i, r);
        if (rc != CACHET_OK)
            return stage_fail(stage, NVGPU_PARSE_MEASUREMENTS, rc);
    }
    if (!cachet_reader_done(&rec))
        return stage_fail(stage, NVGPU_PARSE_MEASUREMENTS,
                          cachet_err(EV_RC(FORMAT),
                                     "%zu bytes of the measurement record follow the last of %u "
                                     "blocks", cachet_reader_remaining(&rec), r->n_blocks));

    uint16_t l2 = 0;
    cachet_read_slice(rd, NVGPU_NONCE_LEN, &r->responder_nonce);
    cachet_read_u16le(rd, &l2);
    if (cachet_reader_status(rd) != CACHET_OK)
        return stage_fail(stage, NVGPU_PARSE_OPAQUE,
                          cachet_err(EV_RC(TRUNCATED),
                                     "the report ends before the responder nonce and OpaqueLength"));
    if (l2 > NVGPU_OPAQUE_MAX)
        return stage_fail(stage, NVGPU_PARSE_OPAQUE,
                          cachet_err(EV_RC(FORMAT), "OpaqueLength %u exceeds %u", l2,
                                     NVGPU_OPAQUE_MAX));
    if (cachet_read_slice(rd, l2, &r->opaque) != CACHET_OK)
        return stage_fail(stage, NVGPU_PARSE_OPAQUE,
                          cachet_err(EV_RC(TRUNCATED), "OpaqueLength %u runs past the report", l2));
    r->opaque_len = l2;
    cachet_rc rc = nvgpu_opaque_parse(r->opaque, r->opaque_len, &r->od);
    if (rc != CACHET_OK)
        return stage_fail(stage, NVGPU_PARSE_OPAQUE, rc);
    return CACHET_OK;
}

cachet_rc nvgpu_report_parse(const uint8_t *buf, size_t len, nvgpu_report *out,
                             nvgpu_parse_stage *stage)
{
    if (stage)
        *stage = NVGPU_PARSE_OK;
    if (!out)
        return cachet_err(EV_RC(INVALID_ARG), "nvgpu: no report struct");
    memset(out, 0, sizeof *out);
    out->od.nvdec0 = -1;
    if (!buf || len == 0)
        return stage_fail(stage, NVGPU_PARSE_SIZE, cachet_err(EV_RC(TRUNCATED), "empty report"));
    if (len > NVGPU_REPORT_MAX)
        return stage_fail(stage, NVGPU_PARSE_SIZE,
                          cachet_err(EV_RC(FORMAT),
                                     "%zu bytes: larger than NVML's %u-byte report buffer", len,
                                     NVGPU_REPORT_MAX));
    out->bytes = buf;
    out->len = len;

    cachet_reader rd;
    cachet_reader_init(&rd, buf, len);
    cachet_rc rc = parse_request(&rd, out);
    if (rc != CACHET_OK)
        return stage_fail(stage, NVGPU_PARSE_REQUEST, rc);
    rc = parse_response(&rd, out, stage);
    if (rc != CACHET_OK)
        return rc;
    out->signed_len = rd.off;
    if (cachet_read_slice(&rd, NVGPU_SIG_LEN, &out->signature) != CACHET_OK)
        return stage_fail(stage, NVGPU_PARSE_SIGNATURE,
                          cachet_err(EV_RC(TRUNCATED),
                                     "%zu bytes remain where the %u-byte signature belongs",
                                     len - out->signed_len, NVGPU_SIG_LEN));
    out->trailing = cachet_reader_remaining(&rd);
    if (out->trailing && cachet_read_zeros(&rd, out->trailing) != CACHET_OK)
        return stage_fail(stage, NVGPU_PARSE_TRAILING,
                          cachet_err(EV_RC(FORMAT),
                                     "%zu bytes after the signature are not all zero",
                                     out->trailing));
    return CACHET_OK;
}
