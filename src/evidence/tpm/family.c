/* The TPM family's entry in the verifier core. */
#include "evidence/registry.h"
#include "evidence/tpm/tpm.h"

/* cachet's bundle names its format in its first bytes; the protobuf starts
 * with a TPMT_PUBLIC in field 1; a bare crypto-agile event log starts with
 * the Spec ID Event03 header. */
int tpm_detect(const uint8_t *buf, size_t len)
{
    if (!buf || !len)
        return 0;
    if (tpm_bundle_looks(buf, len))
        return 90;
    if (tpm_looks_like_eventlog(buf, len))
        return 50;
    if (tpm_gce_looks(buf, len))
        return 40;
    return 0;
}

static const char *const tpm_aliases[] = { "tpm2", "vtpm", NULL };

static const char *const tpm_key_claims[] = {
    "evidence_format", "ak_trust", "ak_name", "pcr_bank", "report_data", "freshness",
    "pcr00", "pcr04", "pcr07", "init_data", NULL,
};

const cachet_evidence_ops cachet_tpm_ops = {
    .name = "tpm",
    .aliases = tpm_aliases,
    .description = "TPM 2.0 quote (cachet bundle, go-tpm-tools Attestation, TCG event log)",
    .detect = tpm_detect,
    .verify = tpm_verify,
    .key_claims = tpm_key_claims,
    .config = NULL,
};
