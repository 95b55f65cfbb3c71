/* A fake libnvidia-ml for the GPU attester's tests: there is no NVIDIA GPU
 * or driver on the build machine.  It exports the NVML functions the
 * attester resolves with dlsym and serves real vector bytes:
 *
 *   FAKE_NVML_REPORT<i> / FAKE_NVML_CHAIN<i>  GPU i's report (hex text file,
 *                        as in ../shared/vectors/nvgpu) and PEM chain
 *   FAKE_NVML_GPUS       number of GPUs (default 1)
 *   FAKE_NVML_MODE       on (default) | off | devtools | noinit | oversize |
 *                        reportfail | badchain
 *   FAKE_NVML_LOG        a file the fake appends its observations to:
 *                        "nonce <hex>" per report request, "ready <v>" per
 *                        ready-state change
 *
 * Built without FAKE_NVML_CC the CC functions are absent (an old driver).
 * The report returned is the vector's, whatever nonce was asked for: the
 * verifier, not the fake, decides whether it is fresh. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int nvml_return;
typedef struct nvml_device_st *nvml_device;

/* Exported symbols need prototypes under -Wmissing-prototypes. */
nvml_return nvmlInit_v2(void);
nvml_return nvmlShutdown(void);
const char *nvmlErrorString(nvml_return r);
nvml_return nvmlDeviceGetCount_v2(unsigned int *n);
nvml_return nvmlDeviceGetHandleByIndex_v2(unsigned int i, nvml_device *d);
nvml_return nvmlDeviceGetUUID(nvml_device d, char *buf, unsigned int len);
nvml_return nvmlDeviceGetVbiosVersion(nvml_device d, char *buf, unsigned int len);
nvml_return nvmlDeviceGetArchitecture(nvml_device d, unsigned int *arch);
nvml_return nvmlSystemGetDriverVersion(char *buf, unsigned int len);

static const char *env(const char *k, const char *def)
{
    const char *v = getenv(k);
    return v && *v ? v : def;
}

static int mode_is(const char *m) { return strcmp(env("FAKE_NVML_MODE", "on"), m) == 0; }

static unsigned gpus(void) { return (unsigned)atoi(env("FAKE_NVML_GPUS", "1")); }

static size_t index_of(nvml_device d) { return (size_t)(uintptr_t)d - 1; }

nvml_return nvmlInit_v2(void) { return mode_is("noinit") ? 9 /* driver not loaded */ : 0; }
nvml_return nvmlShutdown(void) { return 0; }

const char *nvmlErrorString(nvml_return r)
{
    return r == 9 ? "Driver Not Loaded" : r == 3 ? "Not Supported" : "Unknown Error";
}

nvml_return nvmlDeviceGetCount_v2(unsigned int *n)
{
    *n = gpus();
    return 0;
}

nvml_return nvmlDeviceGetHandleByIndex_v2(unsigned int i, nvml_device *d)
{
    if (i >= gpus())
        return 2; /* invalid argument */
    *d = (nvml_device)(uintptr_t)(i + 1);
    return 0;
}

nvml_return nvmlDeviceGetUUID(nvml_device d, char *buf, unsigned int len)
{
    snprintf(buf, len, "GPU-fake-%04zu-0000-0000-0000-000000000000", index_of(d));
    return 0;
}

nvml_return nvmlDeviceGetVbiosVersion(nvml_device d, char *buf, unsigned int len)
{
    (void)d;
    snprintf(buf, len, "%s", env("FAKE_NVML_VBIOS", ""));
    return buf[0] ? 0 : 3;
}

nvml_return nvmlDeviceGetArchitecture(nvml_device d, unsigned int *arch)
{
    (void)d;
    *arch = 9; /* Hopper */
    return 0;
}

nvml_return nvmlSystemGetDriverVersion(char *buf, unsigned int len)
{
    snprintf(buf, len, "%s", env("FAKE_NVML_DRIVER", ""));
    return buf[0] ? 0 : 3;
}

#ifdef FAKE_NVML_CC

static int ready_state;

/* "<what> <arg>" as one line of the log. */
static void log_line(const char *what, const char *arg)
{
    const char *p = getenv("FAKE_NVML_LOG");
    FILE *f = p ? fopen(p, "a") : NULL;
    if (!f)
        return;
    fprintf(f, "%s %s\n", what, arg);
    fclose(f);
}


typedef struct {
    unsigned int environment, cc_feature, devtools_mode;
} cc_state;

typedef struct {
    unsigned int is_cec_report_present, report_size, cec_report_size;
    unsigned char nonce[32];
    unsigned char report[0x2000];
    unsigned char cec_report[0x1000];
} cc_report;

typedef struct {
    unsigned int cert_chain_size, attestation_chain_size;
    unsigned char cert_chain[0x1000];
    unsigned char attestation_chain[0x1400];
} cc_cert;

nvml_return nvmlSystemGetConfComputeState(cc_state *s);
nvml_return nvmlDeviceGetConfComputeGpuAttestationReport(nvml_device d, cc_report *r);
nvml_return nvmlDeviceGetConfComputeGpuCertificate(nvml_device d, cc_cert *c);
nvml_return nvmlSystemSetConfComputeGpusReadyState(unsigned int v);
nvml_return nvmlSystemGetConfComputeGpusReadyState(unsigned int *v);

static size_t read_file(const char *path, unsigned char *buf, size_t cap)
{
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (!f)
        return 0;
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

nvml_return nvmlSystemGetConfComputeState(cc_state *s)
{
    s->environment = 2;
    s->cc_feature = mode_is("off") ? 0 : 1;
    s->devtools_mode = mode_is("devtools") ? 1 : 0;
    return 0;
}

nvml_return nvmlDeviceGetConfComputeGpuAttestationReport(nvml_device d, cc_report *r)
{
    char key[32], hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", r->nonce[i]);
    log_line("nonce", hex);
    if (mode_is("reportfail"))
        return 3;
    snprintf(key, sizeof key, "FAKE_NVML_REPORT%zu", index_of(d));
    static unsigned char text[2 * 0x2000 + 64];
    size_t n = read_file(getenv(key), text, sizeof text), k = 0;
    for (size_t i = 0; i + 1 < n && k < sizeof r->report; ) {
        int hi = hexval(text[i]), lo = hexval(text[i + 1]);
        if (hi < 0 || lo < 0) {
            i++;
            continue;
        }
        r->report[k++] = (unsigned char)(hi << 4 | lo);
        i += 2;
    }
    if (k == 0)
        return 999;
    r->report_size = mode_is("oversize") ? 0x2001 : (unsigned)k;
    return 0;
}

nvml_return nvmlDeviceGetConfComputeGpuCertificate(nvml_device d, cc_cert *c)
{
    char key[32];
    snprintf(key, sizeof key, "FAKE_NVML_CHAIN%zu", index_of(d));
    size_t n = read_file(getenv(key), c->attestation_chain, sizeof c->attestation_chain);
    c->attestation_chain_size = mode_is("badchain") ? 0 : (unsigned)n;
    return n ? 0 : 999;
}

nvml_return nvmlSystemSetConfComputeGpusReadyState(unsigned int v)
{
    ready_state = (int)v;
    log_line("ready", v ? "1" : "0");
    return 0;
}

nvml_return nvmlSystemGetConfComputeGpusReadyState(unsigned int *v)
{
    *v = (unsigned)ready_state;
    return 0;
}

#endif
