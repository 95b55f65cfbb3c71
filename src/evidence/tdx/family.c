/* The TDX and SGX families' entries in the verifier core. */
#include <string.h>

#include "cachet/reader.h"
#include "evidence/registry.h"
#include "evidence/tdx/tdx.h"

/* A DCAP quote starts with version 3/4/5, attestation key type 2 (or 3,
 * reported as unsupported by the parser) and Intel's QE vendor ID at 12.
 * Only shape is looked at: the parser decides everything else. */
static int detect(const uint8_t *buf, size_t len, bool want_tdx)
{
    if (!buf || len < TDX_HEADER_LEN + TDX_ENCLAVE_REPORT_LEN + 4)
        return 0;
    uint16_t version = cachet_le16(buf), akt = cachet_le16(buf + 2);
    uint32_t tee = cachet_le32(buf + 4);
    if (akt != 2 && akt != 3)
        return 0;
    bool tdx = (version == 4 || version == 5) && tee == TDX_TEE_TYPE_TDX;
    bool sgx = (version >= 3 && version <= 5) && tee == TDX_TEE_TYPE_SGX;
    if (want_tdx ? !tdx : !sgx)
        return 0;
    return memcmp(buf + 12, tdx_intel_qe_vendor_id, 16) == 0 ? 90 : 50;
}

int tdx_detect_tdx(const uint8_t *buf, size_t len) { return detect(buf, len, true); }
int tdx_detect_sgx(const uint8_t *buf, size_t len) { return detect(buf, len, false); }

static const char *const tdx_aliases[] = { "intel-tdx", NULL };
static const char *const sgx_aliases[] = { "intel-sgx", NULL };

static const char *const tdx_key_claims[] = {
    "quote_version", "quote_body", "measurement", "report_data", "rtmr0", "rtmr1", "rtmr2",
    "rtmr3", "mrconfigid", "td_attributes", "debug", "fmspc", "pck_ca", "tcb_status",
    "advisory_ids", "freshness", NULL,
};

static const char *const sgx_key_claims[] = {
    "quote_version", "quote_body", "measurement", "mrsigner", "isvprodid", "isvsvn",
    "report_data", "debug", "fmspc", "pck_ca", "tcb_status", "advisory_ids", "freshness", NULL,
};

const cachet_evidence_ops cachet_tdx_ops = {
    .name = "tdx",
    .aliases = tdx_aliases,
    .description = "Intel TDX quote (DCAP, v4/v5)",
    .detect = tdx_detect_tdx,
    .verify = tdx_verify_tdx,
    .key_claims = tdx_key_claims,
    .config = NULL,
};

const cachet_evidence_ops cachet_sgx_ops = {
    .name = "sgx",
    .aliases = sgx_aliases,
    .description = "Intel SGX quote (DCAP ECDSA, v3/v4/v5)",
    .detect = tdx_detect_sgx,
    .verify = tdx_verify_sgx,
    .key_claims = sgx_key_claims,
    .config = NULL,
};
