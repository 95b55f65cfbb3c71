/* Azure confidential VMs with a vTPM (internal to src/evidence/azure and
 * its tests): the evidence JSON the Confidential Containers attester sends
 * for az-snp-vtpm and az-tdx-vtpm, and the HCL report inside it.
 *
 * Sources: ../docs/evidence-formats.md §6.4 (HCL report layout, binding
 * chain), ../docs/protocols.md §1.7 (evidence JSON, user-data binding);
 * the quote checks are the tpm family's (src/evidence/tpm/tpm.h). */
#ifndef CACHET_EVIDENCE_AZURE_H
#define CACHET_EVIDENCE_AZURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cachet/evidence.h"
#include "evidence/tpm/tpm.h"

#define AZ_SPEC_EVIDENCE "CoCo attester az-snp-vtpm/az-tdx-vtpm evidence (protocols §1.7)"
#define AZ_SPEC_HCL "Azure HCL report (evidence-formats §6.4)"
#define AZ_SPEC_BINDING "Azure HCL report: REPORT_DATA = H(runtime data) (evidence-formats §6.4)"
#define AZ_SPEC_RUNTIME "Azure HCL runtime data: keys[HCLAkPub] (evidence-formats §6.4)"
#define AZ_SPEC_USER_DATA "Trustee az-*-vtpm evidence v2: HCL user-data (protocols §1.7)"

#define AZ_HCL_HEADER_LEN 0x20u
#define AZ_HW_REPORT_OFF 0x20u
#define AZ_HW_REPORT_LEN 1184u
#define AZ_RUNTIME_OFF 0x4C0u
#define AZ_VAR_OFF 0x4D4u
#define AZ_RUNTIME_HDR_LEN 20u
#define AZ_TDREPORT_LEN 1024u
#define AZ_REPORT_TYPE_SNP 2u
#define AZ_REPORT_TYPE_TDX 4u
#define AZ_MAX_VAR (64u << 10)
#define AZ_PCRS 24u

typedef struct az_hcl {
    uint32_t version, report_size, request_type, status;
    const uint8_t *hw;        /* AZ_HW_REPORT_LEN bytes */
    uint32_t data_size, rt_version, report_type, hash_type, var_size;
    const uint8_t *var;       /* var_size bytes of JSON, as hashed */
} az_hcl;

/* Parse an HCL report (all offsets fixed, lengths bounded, trailing bytes
 * zero).  Pointers are into buf. */
cachet_rc az_hcl_parse(const uint8_t *buf, size_t len, az_hcl *out);

typedef struct az_evidence {
    int version;              /* 0 (byte arrays), 1, 2 */
    tpm_blob quote_sig;       /* raw RSASSA signature */
    tpm_blob quote_msg;       /* TPMS_ATTEST */
    tpm_blob pcrs[AZ_PCRS];   /* SHA-256 PCR 0..23 */
    size_t n_pcrs;
    tpm_blob hcl;
    tpm_blob vcek;            /* SNP: DER or PEM, or empty */
    tpm_blob td_quote;        /* TDX, or empty */
} az_evidence;

/* The evidence JSON (v0 byte arrays, v1/v2 hex and base64url).  Unknown keys
 * are errors. */
cachet_rc az_evidence_parse(const uint8_t *buf, size_t len, az_evidence *out);
void az_evidence_free(az_evidence *e);
/* HCL report_type the JSON carries (0 when it cannot tell). */
uint32_t az_evidence_report_type(const uint8_t *buf, size_t len);

/* What distinguishes the two families. */
typedef struct az_flavour {
    uint32_t report_type;     /* AZ_REPORT_TYPE_SNP / _TDX */
    const char *hw_family;    /* "snp" / "tdx" */
    const char *hw_name;      /* "SEV-SNP report" / "TD quote" */
} az_flavour;

cachet_rc az_verify(const cachet_evidence_ops *self, const cachet_verify_request *req,
                    cachet_ev_ctx *ctx);

/* Run another family on embedded evidence through the public API and merge
 * its checks into ctx and its claims under claims[key]; returns the
 * sub-result (caller frees) or NULL when that family is not available (then
 * the layer is recorded as not verified, with a warning). */
/* expect: the REPORT_DATA the hardware evidence must carry (the runtime-data
 * hash), given to the sub-verification as its nonce; NULL when unknown. */
cachet_verify_result *az_run_family(cachet_ev_ctx *ctx, const cachet_verify_request *req,
                                    const char *family, const char *key, const uint8_t *ev,
                                    size_t len, const uint8_t *extra, size_t extra_len,
                                    const char *extra_name, const uint8_t *expect,
                                    size_t expect_len);

#endif
