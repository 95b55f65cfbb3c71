/* NVML loaded at run time: cachet never links against libnvidia-ml, so a
 * machine without an NVIDIA driver builds, runs, and gets a clear error. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "attester/nvgpu/nvml.h"

#define AT_RC(code) CACHET_RC(CACHET_SUB_ATTESTER, CACHET_E_##code)
#define DEFAULT_LIBRARY "libnvidia-ml.so.1"

/* dlsym returns void *; converting it to a function pointer is what POSIX
 * requires to work.  The copy through memcpy keeps ISO C quiet about it. */
static void *sym(void *h, const char *name)
{
    dlerror();
    return dlsym(h, name);
}

#define BIND(field, name)                                                                   \
    do {                                                                                    \
        void *p_ = sym(api->handle, name);                                                  \
        memcpy(&api->field, &p_, sizeof api->field);                                        \
    } while (0)

cachet_rc nvml_load(const char *library, nvml_api *api)
{
    memset(api, 0, sizeof *api);
    const char *lib = library ? library : DEFAULT_LIBRARY;
    api->handle = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!api->handle) {
        const char *why = dlerror();
        return cachet_err(AT_RC(NOT_FOUND),
                          "no NVIDIA driver: %s cannot be loaded (%s); GPU attestation needs the "
                          "NVIDIA driver with confidential computing",
                          lib, why ? why : "unknown reason");
    }
    BIND(init, "nvmlInit_v2");
    BIND(shutdown, "nvmlShutdown");
    BIND(error_string, "nvmlErrorString");
    BIND(device_count, "nvmlDeviceGetCount_v2");
    BIND(device_by_index, "nvmlDeviceGetHandleByIndex_v2");
    BIND(device_uuid, "nvmlDeviceGetUUID");
    BIND(device_vbios, "nvmlDeviceGetVbiosVersion");
    BIND(device_arch, "nvmlDeviceGetArchitecture");
    BIND(driver_version, "nvmlSystemGetDriverVersion");
    BIND(cc_state, "nvmlSystemGetConfComputeState");
    BIND(cc_report, "nvmlDeviceGetConfComputeGpuAttestationReport");
    BIND(cc_certificate, "nvmlDeviceGetConfComputeGpuCertificate");
    BIND(cc_set_ready, "nvmlSystemSetConfComputeGpusReadyState");
    BIND(cc_get_ready, "nvmlSystemGetConfComputeGpusReadyState");
    const char *missing = !api->init             ? "nvmlInit_v2"
                          : !api->shutdown        ? "nvmlShutdown"
                          : !api->device_count    ? "nvmlDeviceGetCount_v2"
                          : !api->device_by_index ? "nvmlDeviceGetHandleByIndex_v2"
                          : !api->cc_state        ? "nvmlSystemGetConfComputeState"
                          : !api->cc_report       ? "nvmlDeviceGetConfComputeGpuAttestationReport"
                          : !api->cc_certificate  ? "nvmlDeviceGetConfComputeGpuCertificate"
                          : !api->cc_set_ready    ? "nvmlSystemSetConfComputeGpusReadyState"
                                                  : NULL;
    if (missing) {
        cachet_rc rc = cachet_err(AT_RC(UNSUPPORTED),
                                  "%s has no %s: the NVIDIA driver predates confidential "
                                  "computing (R535 or later is needed)", lib, missing);
        nvml_unload(api);
        return rc;
    }
    return CACHET_OK;
}

void nvml_unload(nvml_api *api)
{
    if (api && api->handle)
        dlclose(api->handle);
    if (api)
        memset(api, 0, sizeof *api);
}

const char *nvml_error(const nvml_api *api, nvml_return r)
{
    const char *s = api && api->error_string ? api->error_string(r) : NULL;
    return s ? s : "NVML error";
}
