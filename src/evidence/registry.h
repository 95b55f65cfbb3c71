/* Family ops tables, one per evidence family (internal). */
#ifndef CACHET_EVIDENCE_REGISTRY_H
#define CACHET_EVIDENCE_REGISTRY_H

#include "cachet/evidence.h"

extern const cachet_evidence_ops cachet_snp_ops;
extern const cachet_evidence_ops cachet_nitro_ops;
extern const cachet_evidence_ops cachet_tdx_ops;
extern const cachet_evidence_ops cachet_sgx_ops;
extern const cachet_evidence_ops cachet_tpm_ops;
extern const cachet_evidence_ops cachet_az_snp_vtpm_ops;
extern const cachet_evidence_ops cachet_az_tdx_vtpm_ops;
extern const cachet_evidence_ops cachet_nvgpu_ops;
extern const cachet_evidence_ops cachet_sample_ops;

#endif
