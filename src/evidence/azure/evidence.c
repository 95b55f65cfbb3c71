/* The Azure vTPM evidence JSON as the Confidential Containers attester sends
 * it (Trustee deps/verifier az-snp-vtpm / az-tdx-vtpm):
 *
 *   v1/v2: {"version": N, "tpm_quote": {"signature": hex, "message": hex,
 *           "pcrs": [24 x hex]}, "hcl_report": b64url,
 *           "vcek": b64url DER (SNP) | "td_quote": b64url (TDX)}
 *   v0:    SNP {"quote": {...byte arrays...}, "report": [bytes], "vcek": PEM}
 *          TDX {"tpm_quote": {...byte arrays...}, "hcl_report": [bytes],
 *               "td_quote": [bytes]}
 *
 * A byte field is accepted in the one encoding its version uses; unknown
 * keys, duplicate keys and oversize fields are errors. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cachet/encoding.h"
#include "cachet/reader.h"
#include "evidence/azure/azure.h"

#define EV_RC(code) CACHET_RC(CACHET_SUB_EVIDENCE, CACHET_E_##code)
#define MAX_FIELD (64u << 10)

typedef enum enc { ENC_HEX, ENC_B64URL, ENC_ARRAY, ENC_CERT } enc;

void az_evidence_free(az_evidence *e)
{
    if (!e)
        return;
    tpm_blob_free(&e->quote_sig);
    tpm_blob_free(&e->quote_msg);
    for (size_t i = 0; i < AZ_PCRS; i++)
        tpm_blob_free(&e->pcrs[i]);
    tpm_blob_free(&e->hcl);
    tpm_blob_free(&e->vcek);
    tpm_blob_free(&e->td_quote);
    memset(e, 0, sizeof *e);
}

static cachet_rc from_array(const json_t *v, const char *what, tpm_blob *out)
{
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > MAX_FIELD)
        return cachet_err(EV_RC(FORMAT), "%s: not a byte array of 1..%u entries", what,
                          MAX_FIELD);
    size_t n = json_array_size(v), i;
    uint8_t *p = malloc(n);
    if (!p)
        return cachet_err(EV_RC(NOMEM), "azure: out of memory");
    const json_t *x;
    json_array_foreach(v, i, x) {
        json_int_t b = json_is_integer(x) ? json_integer_value(x) : -1;
        if (b < 0 || b > 255) {
            free(p);
            return cachet_err(EV_RC(FORMAT), "%s[%zu]: not a byte", what, i);
        }
        p[i] = (uint8_t)b;
    }
    tpm_blob_free(out);
    out->p = p;
    out->len = n;
    return CACHET_OK;
}

static cachet_rc bytes_field(const json_t *v, const char *what, enc e, tpm_blob *out)
{
    if (e == ENC_ARRAY)
        return from_array(v, what, out);
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        json_string_length(v) > 2 * MAX_FIELD)
        return cachet_err(EV_RC(FORMAT), "%s: not a non-empty string", what);
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (e == ENC_HEX) {
        uint8_t *p = malloc(n / 2 + 1);
        size_t len = 0;
        if (!p)
            return cachet_err(EV_RC(NOMEM), "azure: out of memory");
        if (cachet_hex_decode(s, p, n / 2 + 1, &len) != CACHET_OK || len == 0) {
            free(p);
            return cachet_err(EV_RC(FORMAT), "%s: not hex", what);
        }
        tpm_blob_free(out);
        out->p = p;
        out->len = len;
        return CACHET_OK;
    }
    if (e == ENC_CERT && strncmp(s, "-----BEGIN", 10) == 0)
        return tpm_blob_set(out, (const uint8_t *)s, n); /* PEM: parsed as a certificate later */
    uint8_t *p = NULL;
    size_t len = 0;
    if (cachet_base64url_decode(s, n, &p, &len) != CACHET_OK || len == 0) {
        free(p);
        return cachet_err(EV_RC(FORMAT), "%s: not base64url", what);
    }
    tpm_blob_free(out);
    out->p = p;
    out->len = len;
    return CACHET_OK;
}

static cachet_rc quote_field(const json_t *q, enc e, az_evidence *out)
{
    if (!json_is_object(q) || json_object_size(q) != 3)
        return cachet_err(EV_RC(FORMAT), "tpm_quote: not {signature, message, pcrs}");
    cachet_rc rc = bytes_field(json_object_get(q, "signature"), "tpm_quote.signature", e,
                               &out->quote_sig);
    if (rc == CACHET_OK)
        rc = bytes_field(json_object_get(q, "message"), "tpm_quote.message", e, &out->quote_msg);
    if (rc != CACHET_OK)
        return rc;
    const json_t *pcrs = json_object_get(q, "pcrs");
    if (!json_is_array(pcrs) || json_array_size(pcrs) != AZ_PCRS)
        return cachet_err(EV_RC(FORMAT), "tpm_quote.pcrs: not an array of %u PCRs", AZ_PCRS);
    size_t i;
    const json_t *p;
    json_array_foreach(pcrs, i, p) {
        if ((rc = bytes_field(p, "tpm_quote.pcrs[]", e, &out->pcrs[i])) != CACHET_OK)
            return rc;
        out->n_pcrs = i + 1;
        if (out->pcrs[i].len != CACHET_SHA256_LEN)
            return cachet_err(EV_RC(FORMAT), "tpm_quote.pcrs[%zu]: %zu bytes, not 32", i,
                              out->pcrs[i].len);
    }
    return CACHET_OK;
}

static cachet_rc parse_root(const json_t *root, az_evidence *out)
{
    if (!json_is_object(root))
        return cachet_err(EV_RC(FORMAT), "not a JSON object");
    const json_t *ver = json_object_get(root, "version");
    bool v0 = ver == NULL;
    if (!v0) {
        if (!json_is_integer(ver) || json_integer_value(ver) < 1 || json_integer_value(ver) > 2)
            return cachet_err(EV_RC(UNSUPPORTED), "evidence version is not 1 or 2");
        out->version = (int)json_integer_value(ver);
    }
    enc bytes = v0 ? ENC_ARRAY : ENC_B64URL;
    const char *key;
    const json_t *v;
    cachet_rc rc = CACHET_OK;
    bool have_quote = false, have_hcl = false;
    json_object_foreach((json_t *)root, key, v) {
        if (strcmp(key, "version") == 0)
            continue;
        if (strcmp(key, "tpm_quote") == 0 || (v0 && strcmp(key, "quote") == 0)) {
            if (have_quote)
                return cachet_err(EV_RC(FORMAT), "two TPM quotes");
            have_quote = true;
            rc = quote_field(v, v0 ? ENC_ARRAY : ENC_HEX, out);
        } else if (strcmp(key, "hcl_report") == 0 || (v0 && strcmp(key, "report") == 0)) {
            if (have_hcl)
                return cachet_err(EV_RC(FORMAT), "two HCL reports");
            have_hcl = true;
            rc = bytes_field(v, key, bytes, &out->hcl);
        } else if (strcmp(key, "vcek") == 0) {
            rc = bytes_field(v, key, v0 ? ENC_CERT : ENC_B64URL, &out->vcek);
            if (rc != CACHET_OK && !v0)
                rc = bytes_field(v, key, ENC_CERT, &out->vcek);
        } else if (strcmp(key, "td_quote") == 0) {
            rc = bytes_field(v, key, bytes, &out->td_quote);
        } else {
            rc = cachet_err(EV_RC(FORMAT), "unknown key \"%s\"", key);
        }
        if (rc != CACHET_OK)
            return rc;
    }
    if (!have_quote || !have_hcl)
        return cachet_err(EV_RC(FORMAT), "a TPM quote and an HCL report are required");
    if (out->vcek.len && out->td_quote.len)
        return cachet_err(EV_RC(FORMAT), "both a VCEK and a TD quote");
    return CACHET_OK;
}

cachet_rc az_evidence_parse(const uint8_t *buf, size_t len, az_evidence *out)
{
    memset(out, 0, sizeof *out);
    if (!buf || !len)
        return cachet_err(EV_RC(TRUNCATED), "empty evidence");
    json_error_t jerr;
    json_t *root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return cachet_err(EV_RC(FORMAT), "evidence JSON: %s (line %d)", jerr.text, jerr.line);
    cachet_rc rc = parse_root(root, out);
    json_decref(root);
    if (rc != CACHET_OK)
        az_evidence_free(out);
    return rc;
}

uint32_t az_evidence_report_type(const uint8_t *buf, size_t len)
{
    az_evidence e;
    if (az_evidence_parse(buf, len, &e) != CACHET_OK)
        return 0;
    uint32_t t = 0;
    if (e.hcl.len >= AZ_VAR_OFF)
        t = cachet_le32(e.hcl.p + 0x4C8);
    az_evidence_free(&e);
    return t;
}
