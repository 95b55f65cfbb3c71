/* What `cachet verify` accepts as NVIDIA GPU evidence (docs/evidence/nvgpu.md):
 *
 *   - the raw report bytes (NVML's attestationReport, request || response);
 *   - the same as hex text (how NVIDIA's and Trustee's samples store it);
 *   - a JSON container of one or more GPUs, in the shapes the peers send:
 *       [ {"evidence", "certificate", ...}, ... ]           attestation SDK
 *       {"evidences": [ ... ]}                               nvattest collect-evidence
 *       {"evidence_list": [ ... ]}                            NRAS request body
 *       {"device_evidence_list": [ ... ]}                     Trustee additional evidence
 *     where "evidence" is base64 (or hex) of the raw report and "certificate"
 *     is base64 of the PEM chain (or the PEM text itself).  Optional,
 *     host-reported fields: "arch", "uuid", "nonce", "driver_version",
 *     "vbios_version", "cc_mode".  They are compared with the signed report,
 *     never trusted.
 *
 * Everything here is untrusted text: sizes are bounded, unknown keys are
 * ignored, duplicate keys rejected (jansson JSON_REJECT_DUPLICATES). */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cachet/encoding.h"
#include "evidence/nvgpu/nvgpu.h"

#define EV_RC(code) CACHET_RC(CACHET_SUB_EVIDENCE, CACHET_E_##code)

const char *nvgpu_input_kind_str(nvgpu_input_kind k)
{
    switch (k) {
    case NVGPU_INPUT_RAW: return "raw report";
    case NVGPU_INPUT_HEX: return "hex text";
    case NVGPU_INPUT_CONTAINER: return "JSON container";
    }
    return "?";
}

void nvgpu_input_clear(nvgpu_input *in)
{
    if (!in)
        return;
    for (size_t i = 0; i < in->n; i++) {
        free(in->items[i].report);
        free(in->items[i].chain);
    }
    memset(in, 0, sizeof *in);
}

static bool is_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static bool is_hex(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int hex_nibble(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Hex text with ASCII white space anywhere (line-wrapped dumps); anything
 * else is not hex text.  One counting pass, one decoding pass. */
static cachet_rc decode_hex_text(const uint8_t *buf, size_t len, uint8_t **out, size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    size_t digits = 0;
    for (size_t i = 0; i < len; i++) {
        if (is_hex(buf[i]))
            digits++;
        else if (!is_space(buf[i]))
            return cachet_err(EV_RC(FORMAT), "hex text: byte 0x%02x at offset %zu", buf[i], i);
    }
    if (digits == 0 || digits % 2)
        return cachet_err(EV_RC(FORMAT), "hex text: %zu hex digits", digits);
    if (digits / 2 > NVGPU_REPORT_MAX)
        return cachet_err(EV_RC(LIMIT), "hex text: %zu bytes exceed the %u-byte report limit",
                          digits / 2, NVGPU_REPORT_MAX);
    uint8_t *bytes = malloc(digits / 2);
    if (!bytes)
        return cachet_err(EV_RC(NOMEM), "nvgpu: out of memory");
    size_t k = 0;
    int hi = -1;
    for (size_t i = 0; i < len; i++) {
        int v = hex_nibble(buf[i]);
        if (v < 0)
            continue; /* white space, checked above */
        if (hi < 0) {
            hi = v;
        } else {
            bytes[k++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    *out = bytes;
    *outlen = k;
    return CACHET_OK;
}

/* A report starts with an SPDM 1.x GET_MEASUREMENTS request. */
static bool looks_like_report(const uint8_t *b, size_t n)
{
    return n >= 2 && (b[0] >> 4) == 1 && b[1] == NVGPU_SPDM_GET_MEASUREMENTS;
}

cachet_rc nvgpu_decode_report_text(const char *s, size_t len, uint8_t **out, size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    if (len == 0)
        return cachet_err(EV_RC(FORMAT), "empty evidence string");
    if (len > 4 * (size_t)NVGPU_REPORT_MAX)
        return cachet_err(EV_RC(LIMIT), "evidence string of %zu characters", len);
    /* Hex first (Trustee accepts both): only when every character is a hex
     * digit and the bytes start like a report; otherwise base64. */
    bool all_hex = true;
    for (size_t i = 0; i < len && all_hex; i++)
        all_hex = is_hex((uint8_t)s[i]);
    if (all_hex) {
        uint8_t *b = NULL;
        size_t n = 0;
        if (decode_hex_text((const uint8_t *)s, len, &b, &n) == CACHET_OK &&
            looks_like_report(b, n)) {
            *out = b;
            *outlen = n;
            return CACHET_OK;
        }
        free(b);
    }
    uint8_t *b = NULL;
    size_t n = 0;
    if (cachet_base64_decode(s, len, &b, &n) != CACHET_OK)
        return cachet_err(EV_RC(FORMAT), "\"evidence\" is neither hex nor base64");
    if (n > NVGPU_REPORT_MAX) {
        free(b);
        return cachet_err(EV_RC(LIMIT), "\"evidence\" decodes to %zu bytes (limit %u)", n,
                          NVGPU_REPORT_MAX);
    }
    *out = b;
    *outlen = n;
    return CACHET_OK;
}

/* "certificate": base64 of the PEM chain, or PEM text. */
static cachet_rc decode_chain(const char *s, size_t len, uint8_t **out, size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    if (len == 0 || len > 64 * 1024)
        return cachet_err(EV_RC(LIMIT), "\"certificate\" of %zu characters", len);
    if (len > 10 && memcmp(s, "-----BEGIN", 10) == 0) {
        uint8_t *b = malloc(len);
        if (!b)
            return cachet_err(EV_RC(NOMEM), "nvgpu: out of memory");
        memcpy(b, s, len);
        *out = b;
        *outlen = len;
        return CACHET_OK;
    }
    if (cachet_base64_decode(s, len, out, outlen) != CACHET_OK)
        return cachet_err(EV_RC(FORMAT), "\"certificate\" is neither PEM nor base64");
    return CACHET_OK;
}

static cachet_rc copy_str(json_t *entry, const char *key, char *dst, size_t cap, size_t i)
{
    json_t *v = json_object_get(entry, key);
    if (!v || json_is_null(v))
        return CACHET_OK;
    if (!json_is_string(v))
        return cachet_err(EV_RC(FORMAT), "GPU %zu: \"%s\" is not a string", i, key);
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n == 0 || n >= cap || memchr(s, 0, n))
        return cachet_err(EV_RC(FORMAT), "GPU %zu: \"%s\" is empty, too long or holds NUL", i,
                          key);
    memcpy(dst, s, n + 1);
    return CACHET_OK;
}

static cachet_rc take_entry(json_t *entry, size_t i, nvgpu_item *it)
{
    if (!json_is_object(entry))
        return cachet_err(EV_RC(FORMAT), "GPU %zu: not a JSON object", i);
    json_t *ev = json_object_get(entry, "evidence");
    if (!json_is_string(ev))
        return cachet_err(EV_RC(FORMAT), "GPU %zu: no \"evidence\" string", i);
    cachet_rc rc = nvgpu_decode_report_text(json_string_value(ev), json_string_length(ev),
                                            &it->report, &it->report_len);
    if (rc != CACHET_OK)
        return cachet_err(rc, "GPU %zu: %s", i, cachet_err_detail());
    json_t *cert = json_object_get(entry, "certificate");
    if (cert && !json_is_null(cert)) {
        if (!json_is_string(cert))
            return cachet_err(EV_RC(FORMAT), "GPU %zu: \"certificate\" is not a string", i);
        rc = decode_chain(json_string_value(cert), json_string_length(cert), &it->chain,
                          &it->chain_len);
        if (rc != CACHET_OK)
            return cachet_err(rc, "GPU %zu: %s", i, cachet_err_detail());
    }
    if ((rc = copy_str(entry, "arch", it->arch, sizeof it->arch, i)) != CACHET_OK ||
        (rc = copy_str(entry, "uuid", it->uuid, sizeof it->uuid, i)) != CACHET_OK ||
        (rc = copy_str(entry, "driver_version", it->driver_version, sizeof it->driver_version,
                       i)) != CACHET_OK ||
        (rc = copy_str(entry, "vbios_version", it->vbios_version, sizeof it->vbios_version,
                       i)) != CACHET_OK ||
        (rc = copy_str(entry, "cc_mode", it->cc_mode, sizeof it->cc_mode, i)) != CACHET_OK)
        return rc;
    json_t *nonce = json_object_get(entry, "nonce");
    if (nonce && !json_is_null(nonce)) {
        size_t n = 0;
        if (!json_is_string(nonce) ||
            cachet_hex_decode(json_string_value(nonce), it->nonce, sizeof it->nonce, &n) !=
                CACHET_OK ||
            n != NVGPU_NONCE_LEN)
            return cachet_err(EV_RC(FORMAT), "GPU %zu: \"nonce\" is not 32 bytes of hex", i);
        it->has_nonce = true;
    }
    return CACHET_OK;
}

static cachet_rc decode_container(const uint8_t *buf, size_t len, nvgpu_input *out)
{
    json_error_t jerr;
    json_t *root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return cachet_err(EV_RC(FORMAT), "JSON container: %s (line %d)", jerr.text, jerr.line);
    json_t *list = NULL;
    static const char *const keys[] = { "evidences", "evidence_list", "device_evidence_list" };
    if (json_is_array(root)) {
        list = root;
        out->container_shape = "array";
    } else if (json_is_object(root)) {
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            json_t *l = json_object_get(root, keys[k]);
            if (!l)
                continue;
            if (list) {
                json_decref(root);
                return cachet_err(EV_RC(FORMAT), "JSON container: more than one evidence list");
            }
            list = l;
            out->container_shape = keys[k];
        }
    }
    if (!json_is_array(list)) {
        json_decref(root);
        return cachet_err(EV_RC(FORMAT),
                          "JSON container: expected an array of GPU evidence, or an object with "
                          "\"evidences\", \"evidence_list\" or \"device_evidence_list\"");
    }
    size_t n = json_array_size(list);
    if (n == 0 || n > NVGPU_MAX_GPUS) {
        json_decref(root);
        return cachet_err(EV_RC(LIMIT), "JSON container: %zu GPUs (1..%u)", n, NVGPU_MAX_GPUS);
    }
    cachet_rc rc = CACHET_OK;
    for (size_t i = 0; i < n && rc == CACHET_OK; i++) {
        out->n = i + 1; /* so that clear() frees what this entry allocated */
        rc = take_entry(json_array_get(list, i), i, &out->items[i]);
    }
    json_decref(root);
    return rc;
}

cachet_rc nvgpu_input_decode(const uint8_t *buf, size_t len, nvgpu_input *out)
{
    memset(out, 0, sizeof *out);
    if (!buf || len == 0)
        return cachet_err(EV_RC(FORMAT), "empty evidence");
    size_t s = 0;
    if (len >= 3 && buf[0] == 0xEF && buf[1] == 0xBB && buf[2] == 0xBF)
        s = 3;
    while (s < len && is_space(buf[s]))
        s++;
    cachet_rc rc;
    if (s < len && (buf[s] == '[' || buf[s] == '{')) {
        if (len > NVGPU_CONTAINER_MAX)
            return cachet_err(EV_RC(LIMIT), "JSON container of %zu bytes (limit %zu)", len,
                              NVGPU_CONTAINER_MAX);
        out->kind = NVGPU_INPUT_CONTAINER;
        rc = decode_container(buf, len, out);
    } else if (looks_like_report(buf, len)) {
        out->kind = NVGPU_INPUT_RAW;
        out->n = 1;
        out->items[0].report = malloc(len);
        if (!out->items[0].report)
            return cachet_err(EV_RC(NOMEM), "nvgpu: out of memory");
        memcpy(out->items[0].report, buf, len);
        out->items[0].report_len = len;
        rc = CACHET_OK;
    } else {
        out->kind = NVGPU_INPUT_HEX;
        out->n = 1;
        rc = decode_hex_text(buf + s, len - s, &out->items[0].report, &out->items[0].report_len);
        if (rc == CACHET_OK && !looks_like_report(out->items[0].report,
                                                  out->items[0].report_len))
            rc = cachet_err(EV_RC(FORMAT),
                            "not an SPDM GET_MEASUREMENTS request (raw, hex or JSON container)");
    }
    if (rc != CACHET_OK)
        nvgpu_input_clear(out);
    return rc;
}
