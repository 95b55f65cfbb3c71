/* The SEV-SNP family's entry in the verifier core. */
#include "cachet/reader.h"
#include "evidence/registry.h"
#include "evidence/snp/snp.h"

/* A raw ATTESTATION_REPORT is exactly 0x4A0 bytes with SIGNATURE_ALGO 1 at
 * 0x034; the version is left to the parser so that an unknown version is
 * reported as such instead of as an unrecognised format. */
int snp_detect(const uint8_t *buf, size_t len)
{
    if (!buf || len != SNP_REPORT_SIZE)
        return 0;
    uint32_t version = cachet_le32(buf);
    uint32_t algo = cachet_le32(buf + 0x34);
    if (algo != 1 || version == 0 || version > 255)
        return 0;
    return 60;
}

static const char *const snp_aliases[] = { "sev-snp", "amd-snp", NULL };

static const char *const snp_key_claims[] = {
    "product", "signing_key", "report_version", "measurement", "report_data", "host_data",
    "chip_id", "vmpl", "debug", "tcb_status", "freshness", "csp_id", NULL,
};

const cachet_evidence_ops cachet_snp_ops = {
    .name = "snp",
    .aliases = snp_aliases,
    .description = "AMD SEV-SNP attestation report",
    .detect = snp_detect,
    .verify = snp_verify,
    .key_claims = snp_key_claims,
    .config = NULL,
};
