/* Bounded parser of the SEV-SNP ATTESTATION_REPORT (AMD 56860 §7.3; layout in
 * evidence-formats §1.1).  Every field is read through the bounded reader in
 * order; reserved ranges must be zero for the report's version, so a report
 * parsed with the wrong version's layout, or one with smuggled bytes, fails
 * here and never reaches the signature check. */
#include <string.h>

#include "cachet/reader.h"
#include "evidence/snp/snp.h"

#define SNP_ERR(code) CACHET_RC(CACHET_SUB_EVIDENCE, code)

const char *snp_parse_stage_check(snp_parse_stage s)
{
    switch (s) {
    case SNP_PARSE_OK: return "snp.report.parse";
    case SNP_PARSE_SIZE: return "snp.report.size";
    case SNP_PARSE_VERSION: return "snp.report.version";
    case SNP_PARSE_SIG_ALGO: return "snp.report.signature_algo";
    case SNP_PARSE_RESERVED: return "snp.report.reserved";
    case SNP_PARSE_POLICY: return "snp.report.policy";
    case SNP_PARSE_SIGNER: return "snp.report.signer_info";
    case SNP_PARSE_PLATFORM: return "snp.report.platform_info";
    }
    return "snp.report.parse";
}

unsigned snp_report_signing_key(const snp_report *r)
{
    return (r->signer_info >> SNP_SIGNER_KEY_SHIFT) & SNP_SIGNER_KEY_MASK;
}

static bool version_known(uint32_t v) { return v == 2 || v == 3 || v == 5; }

/* Read n reserved bytes at the reader's position; on a non-zero byte report
 * its offset. */
static cachet_rc reserved(cachet_reader *r, size_t n, const char *what, snp_parse_stage *stage)
{
    size_t at = r->off;
    const uint8_t *p = NULL;
    cachet_rc rc = cachet_read_slice(r, n, &p);
    if (rc != CACHET_OK) {
        *stage = SNP_PARSE_SIZE;
        return cachet_err(SNP_ERR(CACHET_E_TRUNCATED), "report truncated at 0x%03zx", at);
    }
    for (size_t i = 0; i < n; i++) {
        if (p[i] != 0) {
            *stage = SNP_PARSE_RESERVED;
            return cachet_err(SNP_ERR(CACHET_E_FORMAT),
                              "reserved byte 0x%03zx (%s) is 0x%02x, must be zero", at + i, what,
                              p[i]);
        }
    }
    return CACHET_OK;
}

static void slice(cachet_reader *r, size_t n, const uint8_t **out)
{
    (void)cachet_read_slice(r, n, out); /* sticky; checked once below */
}

static void u8(cachet_reader *r, uint8_t *out) { (void)cachet_read_u8(r, out); }
static void u32(cachet_reader *r, uint32_t *out) { (void)cachet_read_u32le(r, out); }
static void u64(cachet_reader *r, uint64_t *out) { (void)cachet_read_u64le(r, out); }

cachet_rc snp_report_parse(const uint8_t *buf, size_t len, snp_report *out, snp_parse_stage *stage)
{
    snp_parse_stage dummy;
    cachet_rc rc;
    if (!stage)
        stage = &dummy;
    *stage = SNP_PARSE_SIZE;
    if (!out || (!buf && len))
        return cachet_err(SNP_ERR(CACHET_E_INVALID_ARG), "snp: bad arguments");
    memset(out, 0, sizeof *out);
    if (len != SNP_REPORT_SIZE)
        return cachet_err(SNP_ERR(len < SNP_REPORT_SIZE ? CACHET_E_TRUNCATED : CACHET_E_FORMAT),
                          "report is %zu bytes, an ATTESTATION_REPORT is exactly %u", len,
                          SNP_REPORT_SIZE);

    cachet_reader r;
    cachet_reader_init(&r, buf, len);
    out->bytes = buf;

    /* 0x000 */
    u32(&r, &out->version);
    *stage = SNP_PARSE_VERSION;
    if (!version_known(out->version))
        return cachet_err(SNP_ERR(CACHET_E_UNSUPPORTED),
                          "report version %u is not supported (2, 3 and 5 are)", out->version);
    u32(&r, &out->guest_svn);
    u64(&r, &out->policy);
    slice(&r, 16, &out->family_id);
    slice(&r, 16, &out->image_id);
    u32(&r, &out->vmpl);
    /* 0x034 */
    u32(&r, &out->sig_algo);
    *stage = SNP_PARSE_SIG_ALGO;
    if (out->sig_algo != 1)
        return cachet_err(SNP_ERR(CACHET_E_UNSUPPORTED),
                          "SIGNATURE_ALGO is %u; 1 (ECDSA P-384 with SHA-384) is the only one",
                          out->sig_algo);
    u64(&r, &out->current_tcb);
    u64(&r, &out->platform_info);
    /* 0x048 */
    u32(&r, &out->signer_info);
    if ((rc = reserved(&r, 4, "after SIGNER_INFO", stage)) != CACHET_OK)
        return rc;
    /* 0x050 */
    slice(&r, 64, &out->report_data);
    slice(&r, 48, &out->measurement);
    slice(&r, 32, &out->host_data);
    slice(&r, 48, &out->id_key_digest);
    slice(&r, 48, &out->author_key_digest);
    slice(&r, 32, &out->report_id);
    slice(&r, 32, &out->report_id_ma);
    /* 0x180 */
    u64(&r, &out->reported_tcb);
    if (out->version >= 3) {
        u8(&r, &out->cpuid_fam);
        u8(&r, &out->cpuid_mod);
        u8(&r, &out->cpuid_step);
        rc = reserved(&r, 0x1A0 - 0x18B, "after CPUID", stage);
    } else {
        rc = reserved(&r, 0x1A0 - 0x188, "v2: 0x188-0x19f", stage);
    }
    if (rc != CACHET_OK)
        return rc;
    /* 0x1A0 */
    slice(&r, 64, &out->chip_id);
    u64(&r, &out->committed_tcb);
    u8(&r, &out->current_build);
    u8(&r, &out->current_minor);
    u8(&r, &out->current_major);
    if ((rc = reserved(&r, 1, "after CURRENT_MAJOR", stage)) != CACHET_OK)
        return rc;
    u8(&r, &out->committed_build);
    u8(&r, &out->committed_minor);
    u8(&r, &out->committed_major);
    if ((rc = reserved(&r, 1, "after COMMITTED_MAJOR", stage)) != CACHET_OK)
        return rc;
    /* 0x1F0 */
    u64(&r, &out->launch_tcb);
    if (out->version >= 5) {
        u64(&r, &out->launch_mit_vector);
        u64(&r, &out->current_mit_vector);
        rc = reserved(&r, SNP_SIGNED_SIZE - 0x208, "0x208-0x29f", stage);
    } else {
        rc = reserved(&r, SNP_SIGNED_SIZE - 0x1F8, "0x1f8-0x29f", stage);
    }
    if (rc != CACHET_OK)
        return rc;
    /* 0x2A0: signature R, S (72 bytes each, little-endian), then reserved. */
    slice(&r, SNP_SIG_COMP_LEN, &out->sig_r);
    slice(&r, SNP_SIG_COMP_LEN, &out->sig_s);
    if ((rc = reserved(&r, SNP_REPORT_SIZE - 0x330, "signature 0x330-0x49f", stage)) !=
        CACHET_OK)
        return rc;
    if (cachet_reader_status(&r) != CACHET_OK || !cachet_reader_done(&r)) {
        *stage = SNP_PARSE_SIZE;
        return cachet_err(SNP_ERR(CACHET_E_FORMAT), "report layout did not consume %u bytes",
                          SNP_REPORT_SIZE);
    }

    /* Field-level structure. */
    *stage = SNP_PARSE_POLICY;
    if (!(out->policy & SNP_POLICY_RESERVED1))
        return cachet_err(SNP_ERR(CACHET_E_FORMAT),
                          "POLICY 0x%016llx: bit 17 is reserved and must be 1",
                          (unsigned long long)out->policy);
    if (out->policy & SNP_POLICY_MBZ)
        return cachet_err(SNP_ERR(CACHET_E_FORMAT),
                          "POLICY 0x%016llx: reserved bits 63:26 must be zero",
                          (unsigned long long)out->policy);
    *stage = SNP_PARSE_SIGNER;
    if (out->signer_info & SNP_SIGNER_MBZ)
        return cachet_err(SNP_ERR(CACHET_E_FORMAT),
                          "SIGNER_INFO 0x%08x: reserved bits 31:5 must be zero", out->signer_info);
    *stage = SNP_PARSE_PLATFORM;
    if (out->platform_info & SNP_PLAT_MBZ)
        return cachet_err(SNP_ERR(CACHET_E_FORMAT),
                          "PLATFORM_INFO 0x%016llx: reserved bits 63:8 must be zero",
                          (unsigned long long)out->platform_info);
    *stage = SNP_PARSE_OK;
    return CACHET_OK;
}
