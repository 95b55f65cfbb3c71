/* The part of NVML (NVIDIA Management Library) the GPU attester uses,
 * loaded at run time with dlopen so that cachet builds and runs without an
 * NVIDIA driver (internal to src/attester/nvgpu and its tests).
 *
 * Declared here from NVML's public API documentation (the types and
 * functions named in evidence-formats §3.1): the structure layouts are the
 * ABI of nvml.h (r535 and later), written out field by field. */
#ifndef CACHET_ATTESTER_NVGPU_NVML_H
#define CACHET_ATTESTER_NVGPU_NVML_H

#include <stddef.h>

#include "cachet/rc.h"

typedef int nvml_return;                  /* nvmlReturn_t */
typedef struct nvml_device_st *nvml_device; /* nvmlDevice_t */

#define NVML_SUCCESS 0
#define NVML_ERROR_NOT_SUPPORTED 3

#define NVML_CC_ENV_UNAVAILABLE 0
#define NVML_CC_ENV_SIM 1
#define NVML_CC_ENV_PROD 2
#define NVML_CC_FEATURE_ENABLED 1
#define NVML_CC_DEVTOOLS_ON 1
#define NVML_CC_READY_TRUE 1

#define NVML_ARCH_HOPPER 9
#define NVML_ARCH_BLACKWELL 10

#define NVML_CC_REPORT_SIZE 0x2000
#define NVML_CC_CEC_REPORT_SIZE 0x1000
#define NVML_CC_CERT_CHAIN_SIZE 0x1000
#define NVML_CC_ATTESTATION_CHAIN_SIZE 0x1400
#define NVML_CC_NONCE_SIZE 32

#define NVML_UUID_BUFFER 96
#define NVML_DRIVER_VERSION_BUFFER 80
#define NVML_VBIOS_VERSION_BUFFER 32

/* nvmlConfComputeSystemState_t */
typedef struct nvml_cc_system_state {
    unsigned int environment;
    unsigned int cc_feature;
    unsigned int devtools_mode;
} nvml_cc_system_state;

/* nvmlConfComputeGpuAttestationReport_t: the caller writes nonce. */
typedef struct nvml_cc_attestation_report {
    unsigned int is_cec_report_present;
    unsigned int report_size;
    unsigned int cec_report_size;
    unsigned char nonce[NVML_CC_NONCE_SIZE];
    unsigned char report[NVML_CC_REPORT_SIZE];
    unsigned char cec_report[NVML_CC_CEC_REPORT_SIZE];
} nvml_cc_attestation_report;

/* nvmlConfComputeGpuCertificate_t: attestation_chain is PEM, leaf first. */
typedef struct nvml_cc_certificate {
    unsigned int cert_chain_size;
    unsigned int attestation_chain_size;
    unsigned char cert_chain[NVML_CC_CERT_CHAIN_SIZE];
    unsigned char attestation_chain[NVML_CC_ATTESTATION_CHAIN_SIZE];
} nvml_cc_certificate;

/* The function table, filled by nvml_load().  Optional entries may be NULL. */
typedef struct nvml_api {
    void *handle; /* dlopen handle */
    nvml_return (*init)(void);                                   /* nvmlInit_v2 */
    nvml_return (*shutdown)(void);                               /* nvmlShutdown */
    const char *(*error_string)(nvml_return);                    /* nvmlErrorString (optional) */
    nvml_return (*device_count)(unsigned int *);                 /* nvmlDeviceGetCount_v2 */
    nvml_return (*device_by_index)(unsigned int, nvml_device *); /* nvmlDeviceGetHandleByIndex_v2 */
    nvml_return (*device_uuid)(nvml_device, char *, unsigned int);       /* optional */
    nvml_return (*device_vbios)(nvml_device, char *, unsigned int);      /* optional */
    nvml_return (*device_arch)(nvml_device, unsigned int *);             /* optional */
    nvml_return (*driver_version)(char *, unsigned int);                 /* optional */
    nvml_return (*cc_state)(nvml_cc_system_state *);             /* nvmlSystemGetConfComputeState */
    nvml_return (*cc_report)(nvml_device, nvml_cc_attestation_report *);
    nvml_return (*cc_certificate)(nvml_device, nvml_cc_certificate *);
    nvml_return (*cc_set_ready)(unsigned int);        /* nvmlSystemSetConfComputeGpusReadyState */
    nvml_return (*cc_get_ready)(unsigned int *);      /* nvmlSystemGetConfComputeGpusReadyState */
} nvml_api;

/* dlopen(library) and resolve the table.  CACHET_E_NOT_FOUND ("no NVIDIA
 * driver") when the library cannot be loaded; CACHET_E_UNSUPPORTED when a
 * required function (the confidential-computing API) is missing. */
cachet_rc nvml_load(const char *library, nvml_api *api);
void nvml_unload(nvml_api *api);
/* NVML's text for an error code (never NULL). */
const char *nvml_error(const nvml_api *api, nvml_return r);

#endif
