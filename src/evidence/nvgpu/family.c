/* The NVIDIA GPU family's entry in the verifier core, and how it recognises
 * its evidence by content: an SPDM 1.x GET_MEASUREMENTS request followed by
 * a MEASUREMENTS response, raw or as hex text, or a JSON container whose
 * "evidence" holds one (base64 "EeAB..." or hex "11e001..."). */
#include <string.h>

#include "evidence/nvgpu/nvgpu.h"
#include "evidence/registry.h"

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* request[0..1] and response[0..1] (at offset 37) look like SPDM measurements. */
static bool spdm_shape(const uint8_t *b)
{
    return (b[0] >> 4) == 1 && b[1] == NVGPU_SPDM_GET_MEASUREMENTS && b[37] == b[0] &&
           b[38] == NVGPU_SPDM_MEASUREMENTS;
}

static bool is_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* The first 39 bytes of hex text (white space between digits allowed, as
 * in line-wrapped dumps). */
static bool hex_shape(const uint8_t *buf, size_t len)
{
    uint8_t b[39];
    size_t k = 0;
    int hi = -1;
    for (size_t i = 0; i < len && k < sizeof b; i++) {
        if (is_space(buf[i]))
            continue;
        int v = hexval(buf[i]);
        if (v < 0)
            return false;
        if (hi < 0) {
            hi = v;
        } else {
            b[k++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    return k == sizeof b && spdm_shape(b);
}

static const uint8_t *find(const uint8_t *buf, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; n <= len && i <= len - n; i++)
        if (buf[i] == (uint8_t)needle[0] && memcmp(buf + i, needle, n) == 0)
            return buf + i;
    return NULL;
}

static bool container_shape(const uint8_t *buf, size_t len)
{
    const uint8_t *end = buf + len;
    const uint8_t *p = find(buf, len, "\"evidence\"");
    if (!p || !find(buf, len, "\"certificate\""))
        return false;
    p += 10;
    while (p < end && (is_space(*p) || *p == ':'))
        p++;
    if (end - p < 7 || *p != '"')
        return false;
    p++;
    return memcmp(p, "EeAB", 4) == 0 || memcmp(p, "11e001", 6) == 0 ||
           memcmp(p, "11E001", 6) == 0;
}

int nvgpu_detect(const uint8_t *buf, size_t len)
{
    if (!buf || len < 40)
        return 0;
    if (len <= NVGPU_REPORT_MAX && spdm_shape(buf))
        return 70;
    size_t s = 0;
    while (s < len && is_space(buf[s]))
        s++;
    if (s < len && (buf[s] == '[' || buf[s] == '{'))
        return len <= NVGPU_CONTAINER_MAX && container_shape(buf, len) ? 70 : 0;
    return hex_shape(buf, len) ? 70 : 0;
}

static const char *const nvgpu_aliases[] = { "nvidia", "nvidia-gpu", NULL };

static const char *const nvgpu_key_claims[] = {
    "gpu_count", "arch", "hwmodel", "ueid", "driver_version", "vbios_version", "measurement",
    "measres", "mismatched_indices", "freshness", "cc_mode", "debug", "cert_ocsp", NULL,
};

const cachet_evidence_ops cachet_nvgpu_ops = {
    .name = "nvgpu",
    .aliases = nvgpu_aliases,
    .description = "NVIDIA H100/H200/Blackwell GPU attestation report (SPDM 1.1)",
    .detect = nvgpu_detect,
    .verify = nvgpu_verify,
    .key_claims = nvgpu_key_claims,
    .config = NULL,
};
