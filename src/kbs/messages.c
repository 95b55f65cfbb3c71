/* Protocol messages of the KBS attestation protocol 0.4.0 (protocols.md
 * §1.4-1.6, §1.11): parsers of untrusted request bodies and the error body. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/encoding.h"
#include "kbs/kbs_int.h"

#define ERR_PREFIX "https://github.com/confidential-containers/kbs/errors/"
#define MAX_EVIDENCE ((size_t)1 << 21)

static const char *const error_names[] = {
    [CACHET_KBS_ERR_ATTESTATION] = "AttestationError",
    [CACHET_KBS_ERR_INVALID_PATH] = "InvalidRequestPath",
    [CACHET_KBS_ERR_JWE] = "JweError",
    [CACHET_KBS_ERR_PLUGIN_NOT_FOUND] = "PluginNotFound",
    [CACHET_KBS_ERR_PLUGIN_INTERNAL] = "PluginInternalError",
    [CACHET_KBS_ERR_POLICY_DENY] = "PolicyDeny",
    [CACHET_KBS_ERR_SERDE] = "SerdeError",
    [CACHET_KBS_ERR_TOKEN_NOT_FOUND] = "TokenNotFound",
    [CACHET_KBS_ERR_TOKEN_VERIFIER] = "TokenVerifierError",
    [CACHET_KBS_ERR_HTTP] = "HTTPFailed",
    [CACHET_KBS_ERR_ADMIN_AUTH] = "AdminAuthAccess",
    [CACHET_KBS_ERR_PARSE_POLICY] = "ParsePolicyError",
};

const char *cachet_kbs_error_name(cachet_kbs_error e)
{
    if ((size_t)e >= sizeof error_names / sizeof error_names[0] || !error_names[e])
        return "PluginInternalError";
    return error_names[e];
}

char *cachet_kbs_error_json(cachet_kbs_error e, const char *detail)
{
    char type[128];
    snprintf(type, sizeof type, ERR_PREFIX "%s", cachet_kbs_error_name(e));
    json_t *j = json_pack("{s:s,s:s}", "type", type, "detail", detail ? detail : "");
    if (!j)
        return NULL;
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    return s;
}

/* kbs-types 0.18 Tee names (protocols.md §1.4). */
static const char *const tee_names[] = {
    "az-snp-vtpm", "az-tdx-vtpm", "nvidia", "sgx", "snp", "tdx", "cca",
    "csv", "se", "hygondcu", "dpu", "tpm", "sample", "sampledevice",
};

static json_t *load_object(const char *text, size_t len, const char *what)
{
    if (!text || len == 0 || len > CACHET_KBS_MAX_BODY) {
        kbs_err(LIMIT, "%s: body empty or larger than %zu bytes", what, CACHET_KBS_MAX_BODY);
        return NULL;
    }
    json_error_t e;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        kbs_err(FORMAT, "%s: not a JSON object", what);
        return NULL;
    }
    return j;
}

cachet_rc cachet_kbs_parse_request(const char *text, size_t len, cachet_kbs_request *out)
{
    if (!out)
        return kbs_err(INVALID_ARG, "request: no output");
    memset(out, 0, sizeof *out);
    json_t *j = load_object(text, len, "request");
    if (!j)
        return cachet_err_last();
    cachet_rc rc = CACHET_OK;
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v) {
        if (strcmp(k, "version") && strcmp(k, "tee") && strcmp(k, "extra-params")) {
            rc = kbs_err(FORMAT, "request: unknown member \"%.32s\"", k);
            goto done;
        }
    }
    const char *ver = json_string_value(json_object_get(j, "version"));
    const char *tee = json_string_value(json_object_get(j, "tee"));
    if (!ver || !tee) {
        rc = kbs_err(FORMAT, "request: version and tee must be strings");
        goto done;
    }
    if (strcmp(ver, CACHET_KBS_PROTOCOL_VERSION) != 0) {
        rc = kbs_err(UNSUPPORTED, "request: protocol version \"%.15s\" is not " CACHET_KBS_PROTOCOL_VERSION,
                     ver);
        goto done;
    }
    bool known = false;
    for (size_t i = 0; i < sizeof tee_names / sizeof tee_names[0]; i++)
        known = known || strcmp(tee, tee_names[i]) == 0;
    if (!known) {
        rc = kbs_err(UNSUPPORTED, "request: unknown tee \"%.31s\"", tee);
        goto done;
    }
    snprintf(out->version, sizeof out->version, "%s", ver);
    snprintf(out->tee, sizeof out->tee, "%s", tee);
done:
    json_decref(j);
    return rc;
}

void cachet_kbs_attestation_clear(cachet_kbs_attestation *a)
{
    if (!a)
        return;
    json_decref(a->runtime_data);
    free(a->additional_evidence);
    free(a->evidence);
    cachet_endorsements_free(a->carried);
    memset(a, 0, sizeof *a);
}

/* Trustee's SNP serde form (protocols.md §1.7): the rebuilt native report,
 * and the certificate table as this request's endorsements. */
static cachet_rc take_trustee_snp(const json_t *prim, cachet_kbs_attestation *out)
{
    cachet_snp_trustee t;
    cachet_rc rc = cachet_snp_from_trustee_json(prim, &t);
    if (rc != CACHET_OK)
        return kbs_err(FORMAT, "attestation: %s", cachet_err_detail());
    out->evidence = malloc(sizeof t.report);
    out->carried = t.n_certs ? cachet_endorsements_new() : NULL;
    if (!out->evidence || (t.n_certs && !out->carried)) {
        cachet_snp_trustee_clear(&t);
        return kbs_err(NOMEM, "attestation: out of memory");
    }
    memcpy(out->evidence, t.report, sizeof t.report);
    out->evidence_len = sizeof t.report;
    for (size_t i = 0; rc == CACHET_OK && i < t.n_certs; i++) {
        char name[48 + sizeof t.cert_type[0]]; /* "cert_chain[%zu] (%s)" */
        snprintf(name, sizeof name, "cert_chain[%zu] (%s)", i, t.cert_type[i]);
        rc = cachet_endorsements_add_bytes(out->carried, name, t.certs[i], t.cert_len[i]);
    }
    cachet_snp_trustee_clear(&t);
    return rc == CACHET_OK ? CACHET_OK
                           : kbs_err(FORMAT, "attestation: cert_chain: %s", cachet_err_detail());
}

static cachet_rc take_evidence(const json_t *prim, cachet_kbs_attestation *out)
{
    if (!json_is_object(prim))
        return kbs_err(FORMAT, "attestation: primary_evidence must be an object");
    if (json_object_get(prim, "attestation_report"))
        return take_trustee_snp(prim, out);
    const json_t *ev = json_object_get(prim, "evidence");
    if (!ev)
        ev = json_object_get(prim, "quote");
    const char *b64 = json_string_value(ev);
    if (!b64)
        return kbs_err(UNSUPPORTED,
                       "attestation: primary_evidence needs \"evidence\" or \"quote\" (base64)");
    size_t n = json_string_length(ev);
    if (n == 0 || n > MAX_EVIDENCE)
        return kbs_err(LIMIT, "attestation: evidence empty or too large");
    cachet_rc rc = cachet_base64_decode(b64, n, &out->evidence, &out->evidence_len);
    if (rc != CACHET_OK)
        return kbs_err(FORMAT, "attestation: evidence is not base64");
    return CACHET_OK;
}

cachet_rc cachet_kbs_parse_attestation(const char *text, size_t len, cachet_kbs_attestation *out)
{
    if (!out)
        return kbs_err(INVALID_ARG, "attestation: no output");
    memset(out, 0, sizeof *out);
    json_t *j = load_object(text, len, "attestation");
    if (!j)
        return cachet_err_last();
    cachet_rc rc = CACHET_OK;
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v) {
        if (strcmp(k, "init-data") && strcmp(k, "runtime-data") && strcmp(k, "tee-evidence")) {
            rc = kbs_err(FORMAT, "attestation: unknown member \"%.32s\"", k);
            goto fail;
        }
    }
    json_t *init = json_object_get(j, "init-data");
    if (init && !json_is_null(init)) {
        rc = kbs_err(UNSUPPORTED, "attestation: init-data is not supported (send null)");
        goto fail;
    }
    json_t *rd = json_object_get(j, "runtime-data");
    json_t *te = json_object_get(j, "tee-evidence");
    if (!json_is_object(rd) || !json_is_object(te)) {
        rc = kbs_err(FORMAT, "attestation: runtime-data and tee-evidence must be objects");
        goto fail;
    }
    json_object_foreach(rd, k, v) {
        if (strcmp(k, "nonce") && strcmp(k, "tee-pubkey") && strcmp(k, "user-data")) {
            rc = kbs_err(FORMAT, "attestation: runtime-data: unknown member \"%.32s\"", k);
            goto fail;
        }
    }
    if (!json_is_string(json_object_get(rd, "nonce")) ||
        !json_is_object(json_object_get(rd, "tee-pubkey"))) {
        rc = kbs_err(FORMAT, "attestation: runtime-data needs a string nonce and a tee-pubkey");
        goto fail;
    }
    json_object_foreach(te, k, v) {
        if (strcmp(k, "primary_evidence") && strcmp(k, "additional_evidence")) {
            rc = kbs_err(FORMAT, "attestation: tee-evidence: unknown member \"%.32s\"", k);
            goto fail;
        }
    }
    json_t *add = json_object_get(te, "additional_evidence");
    if (add && !json_is_string(add)) {
        rc = kbs_err(FORMAT, "attestation: additional_evidence must be a string");
        goto fail;
    }
    out->additional_evidence = strdup(add ? json_string_value(add) : "");
    if (!out->additional_evidence) {
        rc = kbs_err(NOMEM, "attestation: out of memory");
        goto fail;
    }
    rc = take_evidence(json_object_get(te, "primary_evidence"), out);
    if (rc != CACHET_OK)
        goto fail;
    out->runtime_data = json_incref(rd);
    out->nonce = json_string_value(json_object_get(rd, "nonce"));
    out->tee_pubkey = json_object_get(rd, "tee-pubkey");
    json_decref(j);
    return CACHET_OK;
fail:
    json_decref(j);
    cachet_kbs_attestation_clear(out);
    return rc;
}

static bool seg_char(char c, bool first)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
        c == '-')
        return true;
    return !first && c == '.';
}

bool cachet_kbs_resource_path_valid(const char *path)
{
    if (!path)
        return false;
    size_t n = strlen(path);
    if (n == 0 || n > CACHET_KBS_MAX_PATH)
        return false;
    int segs = 0;
    bool at_start = true;
    for (size_t i = 0; i < n; i++) {
        if (path[i] == '/') {
            if (at_start)
                return false;
            at_start = true;
            continue;
        }
        if (!seg_char(path[i], at_start))
            return false;
        if (at_start)
            segs++;
        at_start = false;
    }
    return !at_start && segs == 3;
}
