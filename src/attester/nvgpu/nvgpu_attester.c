/* GPU evidence through NVML (evidence-formats §3.1, docs/evidence/nvgpu.md):
 *
 *   state    nvmlSystemGetConfComputeState (CC feature, devtools) and the
 *            GPUs' ready state
 *   collect  per GPU: nvmlDeviceGetConfComputeGpuAttestationReport with the
 *            caller's 32-byte nonce, nvmlDeviceGetConfComputeGpuCertificate
 *            (the attestation chain, PEM), UUID, architecture, VBIOS and
 *            driver versions, all in the JSON container `cachet verify` reads
 *   ready    nvmlSystemSetConfComputeGpusReadyState(1) only for a
 *            verification result of this session's latest evidence that
 *            passed (and never in devtools mode); until then the driver
 *            refuses CUDA work in CC mode
 *
 * Every size NVML returns is checked against its buffer before use; a
 * session is not thread-safe (NVML's CC calls are process-wide anyway). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "attester/attester_int.h"
#include "attester/nvgpu/nvml.h"
#include "cachet/encoding.h"
#include "cachet/evidence.h"

#define AT_RC(code) CACHET_RC(CACHET_SUB_ATTESTER, CACHET_E_##code)
#define MAX_GPUS 16

struct cachet_nvgpu_session {
    nvml_api api;
    bool initialised;
    /* what the latest collect() produced, for set_ready() */
    bool collected;
    uint8_t nonce[NVML_CC_NONCE_SIZE];
    unsigned n_gpus;
    char uuids[MAX_GPUS][NVML_UUID_BUFFER];
};

cachet_rc cachet_nvgpu_open(const char *library, cachet_nvgpu_session **out)
{
    if (!out)
        return cachet_err(AT_RC(INVALID_ARG), "nvgpu: NULL output");
    *out = NULL;
    cachet_nvgpu_session *s = calloc(1, sizeof *s);
    if (!s)
        return cachet_err(AT_RC(NOMEM), "nvgpu: out of memory");
    cachet_rc rc = nvml_load(library, &s->api);
    if (rc != CACHET_OK) {
        free(s);
        return rc;
    }
    nvml_return r = s->api.init();
    if (r != NVML_SUCCESS) {
        rc = cachet_err(AT_RC(IO), "nvmlInit failed: %s (%d): is the NVIDIA driver loaded?",
                        nvml_error(&s->api, r), r);
        nvml_unload(&s->api);
        free(s);
        return rc;
    }
    s->initialised = true;
    *out = s;
    return CACHET_OK;
}

void cachet_nvgpu_close(cachet_nvgpu_session *s)
{
    if (!s)
        return;
    if (s->initialised)
        s->api.shutdown();
    nvml_unload(&s->api);
    free(s);
}

cachet_rc cachet_nvgpu_cc_state(cachet_nvgpu_session *s, cachet_nvgpu_state *out)
{
    if (!s || !out)
        return cachet_err(AT_RC(INVALID_ARG), "nvgpu: NULL argument");
    memset(out, 0, sizeof *out);
    nvml_cc_system_state st = { 0 };
    nvml_return r = s->api.cc_state(&st);
    if (r != NVML_SUCCESS)
        return cachet_err(AT_RC(IO), "nvmlSystemGetConfComputeState: %s (%d)",
                          nvml_error(&s->api, r), r);
    out->environment = st.environment;
    out->cc_feature = st.cc_feature == NVML_CC_FEATURE_ENABLED;
    out->devtools = st.devtools_mode == NVML_CC_DEVTOOLS_ON;
    unsigned n = 0;
    r = s->api.device_count(&n);
    if (r != NVML_SUCCESS)
        return cachet_err(AT_RC(IO), "nvmlDeviceGetCount: %s (%d)", nvml_error(&s->api, r), r);
    out->gpu_count = n;
    unsigned ready = 0;
    if (s->api.cc_get_ready && s->api.cc_get_ready(&ready) == NVML_SUCCESS)
        out->ready = ready == NVML_CC_READY_TRUE;
    if (s->api.driver_version) {
        char v[NVML_DRIVER_VERSION_BUFFER] = "";
        if (s->api.driver_version(v, sizeof v) == NVML_SUCCESS) {
            v[sizeof v - 1] = 0;
            snprintf(out->driver_version, sizeof out->driver_version, "%s", v);
        }
    }
    return CACHET_OK;
}

/* ---- collection --------------------------------------------------------------------- */

static const char *arch_name(unsigned a)
{
    return a == NVML_ARCH_HOPPER ? "HOPPER" : a == NVML_ARCH_BLACKWELL ? "BLACKWELL" : NULL;
}

static cachet_rc set_string(json_t *o, const char *key, const char *v)
{
    if (json_object_set_new(o, key, json_string(v)) != 0)
        return cachet_err(AT_RC(NOMEM), "nvgpu: out of memory");
    return CACHET_OK;
}

static cachet_rc set_b64(json_t *o, const char *key, const uint8_t *b, size_t n)
{
    char *s = cachet_base64_string(b, n);
    cachet_rc rc = s ? set_string(o, key, s) : cachet_err(AT_RC(NOMEM), "nvgpu: out of memory");
    free(s);
    return rc;
}

/* One GPU's entry of the container. */
static cachet_rc collect_gpu(cachet_nvgpu_session *s, unsigned i, const uint8_t *nonce,
                             const char *cc_mode, const char *driver, json_t *entry)
{
    nvml_device dev = NULL;
    nvml_return r = s->api.device_by_index(i, &dev);
    if (r != NVML_SUCCESS)
        return cachet_err(AT_RC(IO), "GPU %u: nvmlDeviceGetHandleByIndex: %s (%d)", i,
                          nvml_error(&s->api, r), r);
    /* Large structures: on the heap. */
    nvml_cc_attestation_report *rep = calloc(1, sizeof *rep);
    nvml_cc_certificate *cert = calloc(1, sizeof *cert);
    cachet_rc rc = CACHET_OK;
    if (!rep || !cert) {
        rc = cachet_err(AT_RC(NOMEM), "nvgpu: out of memory");
        goto out;
    }
    memcpy(rep->nonce, nonce, NVML_CC_NONCE_SIZE);
    r = s->api.cc_report(dev, rep);
    if (r != NVML_SUCCESS) {
        rc = cachet_err(AT_RC(IO), "GPU %u: nvmlDeviceGetConfComputeGpuAttestationReport: %s (%d)",
                        i, nvml_error(&s->api, r), r);
        goto out;
    }
    if (rep->report_size == 0 || rep->report_size > sizeof rep->report) {
        rc = cachet_err(AT_RC(IO), "GPU %u: NVML reports an attestation report of %u bytes "
                                   "(buffer %zu)", i, rep->report_size, sizeof rep->report);
        goto out;
    }
    r = s->api.cc_certificate(dev, cert);
    if (r != NVML_SUCCESS) {
        rc = cachet_err(AT_RC(IO), "GPU %u: nvmlDeviceGetConfComputeGpuCertificate: %s (%d)", i,
                        nvml_error(&s->api, r), r);
        goto out;
    }
    if (cert->attestation_chain_size == 0 ||
        cert->attestation_chain_size > sizeof cert->attestation_chain) {
        rc = cachet_err(AT_RC(IO), "GPU %u: NVML reports an attestation chain of %u bytes "
                                   "(buffer %zu)", i, cert->attestation_chain_size,
                        sizeof cert->attestation_chain);
        goto out;
    }
    char hex[2 * NVML_CC_NONCE_SIZE + 1];
    cachet_hex_encode(nonce, NVML_CC_NONCE_SIZE, hex);
    unsigned arch = 0;
    const char *an = s->api.device_arch && s->api.device_arch(dev, &arch) == NVML_SUCCESS
                         ? arch_name(arch) : NULL;
    char uuid[NVML_UUID_BUFFER] = "", vbios[NVML_VBIOS_VERSION_BUFFER] = "";
    if (s->api.device_uuid && s->api.device_uuid(dev, uuid, sizeof uuid) == NVML_SUCCESS)
        uuid[sizeof uuid - 1] = 0;
    else
        uuid[0] = 0;
    if (s->api.device_vbios && s->api.device_vbios(dev, vbios, sizeof vbios) == NVML_SUCCESS)
        vbios[sizeof vbios - 1] = 0;
    else
        vbios[0] = 0;
    if (i < MAX_GPUS)
        snprintf(s->uuids[i], sizeof s->uuids[i], "%s", uuid);
    if ((an && (rc = set_string(entry, "arch", an)) != CACHET_OK) ||
        (uuid[0] && (rc = set_string(entry, "uuid", uuid)) != CACHET_OK) ||
        (rc = set_string(entry, "nonce", hex)) != CACHET_OK ||
        (rc = set_b64(entry, "evidence", rep->report, rep->report_size)) != CACHET_OK ||
        (rc = set_b64(entry, "certificate", cert->attestation_chain,
                      cert->attestation_chain_size)) != CACHET_OK ||
        (driver[0] && (rc = set_string(entry, "driver_version", driver)) != CACHET_OK) ||
        (vbios[0] && (rc = set_string(entry, "vbios_version", vbios)) != CACHET_OK) ||
        (rc = set_string(entry, "cc_mode", cc_mode)) != CACHET_OK)
        goto out;
out:
    free(rep);
    free(cert);
    return rc;
}

cachet_rc cachet_nvgpu_collect(cachet_nvgpu_session *s, const uint8_t nonce[32],
                               uint8_t **evidence, size_t *len)
{
    if (evidence)
        *evidence = NULL;
    if (len)
        *len = 0;
    if (!s || !nonce || !evidence || !len)
        return cachet_err(AT_RC(INVALID_ARG), "nvgpu: NULL argument");
    s->collected = false;
    cachet_nvgpu_state st;
    cachet_rc rc = cachet_nvgpu_cc_state(s, &st);
    if (rc != CACHET_OK)
        return rc;
    if (!st.cc_feature)
        return cachet_err(AT_RC(STATE), "confidential computing is off on this system's GPUs: "
                                        "no attestation report can be made");
    if (st.gpu_count == 0)
        return cachet_err(AT_RC(NOT_FOUND), "no NVIDIA GPU found");
    if (st.gpu_count > MAX_GPUS)
        return cachet_err(AT_RC(LIMIT), "%u GPUs (at most %d)", st.gpu_count, MAX_GPUS);
    const char *cc_mode = st.devtools ? "devtools" : "on";
    json_t *arr = json_array();
    if (!arr)
        return cachet_err(AT_RC(NOMEM), "nvgpu: out of memory");
    for (unsigned i = 0; i < st.gpu_count && rc == CACHET_OK; i++) {
        json_t *entry = json_object();
        if (!entry || json_array_append_new(arr, entry) != 0) {
            rc = cachet_err(AT_RC(NOMEM), "nvgpu: out of memory");
            break;
        }
        rc = collect_gpu(s, i, nonce, cc_mode, st.driver_version, entry);
    }
    char *text = rc == CACHET_OK ? json_dumps(arr, JSON_INDENT(2)) : NULL;
    json_decref(arr);
    if (rc != CACHET_OK)
        return rc;
    if (!text)
        return cachet_err(AT_RC(NOMEM), "nvgpu: out of memory");
    memcpy(s->nonce, nonce, sizeof s->nonce);
    s->n_gpus = st.gpu_count;
    s->collected = true;
    *evidence = (uint8_t *)text;
    *len = strlen(text);
    return CACHET_OK;
}

/* ---- ready state: only after a passing verification ------------------------------------- */

static cachet_rc refuse(const char *why)
{
    return cachet_err(AT_RC(POLICY), "GPU ready state not set: %s", why);
}

cachet_rc cachet_nvgpu_set_ready(cachet_nvgpu_session *s, const cachet_verify_result *res,
                                 bool accept_warning)
{
    if (!s || !res)
        return cachet_err(AT_RC(INVALID_ARG), "nvgpu: NULL argument");
    if (!s->collected)
        return refuse("no evidence was collected in this session");
    if (!res->tee || strcmp(res->tee, "nvgpu") != 0)
        return refuse("the result is not an NVIDIA GPU verification");
    if (!res->verified)
        return refuse("the evidence was not verified");
    if (res->status == CACHET_EV_CONTRAINDICATED ||
        (res->status == CACHET_EV_WARNING && !accept_warning))
        return refuse(res->status == CACHET_EV_WARNING
                          ? "the result is a warning and the policy does not accept warnings"
                          : "the result is contraindicated");
    /* The result must be about this session's latest evidence. */
    json_t *gpus = json_object_get(res->claims, "gpus");
    if (json_integer_value(json_object_get(res->claims, "gpu_count")) != (json_int_t)s->n_gpus ||
        json_object_size(gpus) != s->n_gpus)
        return refuse("the result covers another number of GPUs than were collected");
    char hex[2 * NVML_CC_NONCE_SIZE + 1];
    cachet_hex_encode(s->nonce, sizeof s->nonce, hex);
    for (unsigned i = 0; i < s->n_gpus; i++) {
        char name[16];
        snprintf(name, sizeof name, "gpu%u", i);
        json_t *g = json_object_get(gpus, name);
        const char *n = json_string_value(json_object_get(g, "nonce"));
        const char *fr = json_string_value(json_object_get(g, "freshness"));
        const char *uuid = json_string_value(json_object_get(g, "uuid"));
        if (!n || strcmp(n, hex) != 0 || !fr || strcmp(fr, "nonce-matched") != 0)
            return refuse("the result is not for the nonce this session collected with (or "
                          "was verified without it)");
        if (i < MAX_GPUS && s->uuids[i][0] && (!uuid || strcmp(uuid, s->uuids[i]) != 0))
            return refuse("the result names other GPUs than this session collected from");
    }
    /* And the GPUs must not have moved into devtools mode since. */
    cachet_nvgpu_state st;
    cachet_rc rc = cachet_nvgpu_cc_state(s, &st);
    if (rc != CACHET_OK)
        return rc;
    if (!st.cc_feature || st.devtools)
        return refuse("the GPUs are not in production CC mode (CC off or devtools)");
    nvml_return r = s->api.cc_set_ready(NVML_CC_READY_TRUE);
    if (r != NVML_SUCCESS)
        return cachet_err(AT_RC(IO), "nvmlSystemSetConfComputeGpusReadyState: %s (%d)",
                          nvml_error(&s->api, r), r);
    return CACHET_OK;
}

/* ---- the generic attester interface --------------------------------------------------- */

static cachet_rc nvgpu_collect_op(void *impl, const cachet_attest_request *req,
                                  uint8_t **evidence, size_t *len)
{
    if (req->user_data_len || req->public_key_len)
        return cachet_err(AT_RC(INVALID_ARG),
                          "a GPU report carries only a 32-byte nonce: bind user data and keys "
                          "into it (e.g. the first 32 bytes of a SHA-384 over them)");
    if (!req->nonce || req->nonce_len != NVML_CC_NONCE_SIZE)
        return cachet_err(AT_RC(INVALID_ARG), "GPU attestation needs a nonce of exactly %d "
                                              "bytes (got %zu)", NVML_CC_NONCE_SIZE,
                          req->nonce_len);
    return cachet_nvgpu_collect(impl, req->nonce, evidence, len);
}

static void nvgpu_close_op(void *impl) { cachet_nvgpu_close(impl); }

static const cachet_attester_ops nvgpu_ops = {
    .tee = "nvgpu",
    .collect = nvgpu_collect_op,
    .close = nvgpu_close_op,
};

cachet_rc cachet_attester_nvgpu_new(const char *library, cachet_attester **out)
{
    if (!out)
        return cachet_err(AT_RC(INVALID_ARG), "nvgpu: NULL output");
    *out = NULL;
    cachet_nvgpu_session *s = NULL;
    cachet_rc rc = cachet_nvgpu_open(library, &s);
    if (rc != CACHET_OK)
        return rc;
    return cachet_attester_wrap(&nvgpu_ops, s, out);
}
