/* The Azure vTPM families' entries in the verifier core: az-snp-vtpm and
 * az-tdx-vtpm, spelled as the Confidential Containers key broker spells
 * them.  One procedure; the flavour says which hardware report to expect. */
#include <string.h>

#include "evidence/azure/azure.h"
#include "evidence/registry.h"

static const az_flavour snp_flavour = { AZ_REPORT_TYPE_SNP, "snp", "SEV-SNP report" };
static const az_flavour tdx_flavour = { AZ_REPORT_TYPE_TDX, "tdx", "TD quote" };

/* A JSON object with an HCL report whose report_type names the hardware. */
static int detect(const uint8_t *buf, size_t len, uint32_t want)
{
    size_t i = 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
        i++;
    if (!buf || i >= len || buf[i] != '{' || len > ((size_t)4 << 20))
        return 0;
    return az_evidence_report_type(buf, len) == want ? 85 : 0;
}

static int detect_snp(const uint8_t *buf, size_t len)
{
    return detect(buf, len, AZ_REPORT_TYPE_SNP);
}

static int detect_tdx(const uint8_t *buf, size_t len)
{
    return detect(buf, len, AZ_REPORT_TYPE_TDX);
}

static const char *const snp_aliases[] = { "azure-snp-vtpm", NULL };
static const char *const tdx_aliases[] = { "azure-tdx-vtpm", NULL };

static const char *const az_key_claims[] = {
    "hardware", "evidence_version", "measurement", "debug", "tcb_status", "report_data",
    "freshness", NULL,
};

const cachet_evidence_ops cachet_az_snp_vtpm_ops = {
    .name = "az-snp-vtpm",
    .aliases = snp_aliases,
    .description = "Azure confidential VM: vTPM quote bound to an SEV-SNP report (HCL)",
    .detect = detect_snp,
    .verify = az_verify,
    .key_claims = az_key_claims,
    .config = &snp_flavour,
};

const cachet_evidence_ops cachet_az_tdx_vtpm_ops = {
    .name = "az-tdx-vtpm",
    .aliases = tdx_aliases,
    .description = "Azure confidential VM: vTPM quote bound to a TDX quote (HCL)",
    .detect = detect_tdx,
    .verify = az_verify,
    .key_claims = az_key_claims,
    .config = &tdx_flavour,
};
