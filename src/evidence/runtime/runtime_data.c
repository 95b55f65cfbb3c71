/* The runtime-data binding (protocols.md §1.7): build the object a workload
 * binds into its evidence, hash it, and check one received from a peer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/encoding.h"
#include "cachet/evidence.h"
#include "cachet/runtime_data.h"

#define RD_RC(code) CACHET_RC(CACHET_SUB_EVIDENCE, CACHET_E_##code)

#define RD_NONCE "nonce"
#define RD_PUBKEY "tee-pubkey"
#define RD_ADDITIONAL "additional-evidence"
#define RD_USER_DATA "user-data"
#define RD_DEFAULT_KEY_ALG "ECDH-ES+A256KW"
#define RD_MAX_NONCE_TEXT 1024
#define RD_MAX_USER_DATA 4096

cachet_rc cachet_runtime_data_build(const cachet_runtime_data_params *p, json_t **out)
{
    if (!p || !out || !p->nonce)
        return cachet_err(RD_RC(INVALID_ARG), "runtime data: a nonce is required");
    *out = NULL;
    if (strlen(p->nonce) == 0 || strlen(p->nonce) > RD_MAX_NONCE_TEXT)
        return cachet_err(RD_RC(RANGE), "runtime data: nonce text must be 1..%d characters",
                          RD_MAX_NONCE_TEXT);
    if (p->user_data_len > RD_MAX_USER_DATA || (p->user_data_len && !p->user_data))
        return cachet_err(RD_RC(RANGE), "runtime data: user data must be 0..%d bytes",
                          RD_MAX_USER_DATA);
    const char *additional = p->additional_evidence ? p->additional_evidence : "";
    if (strlen(additional) > CACHET_RUNTIME_DATA_MAX / 2)
        return cachet_err(RD_RC(LIMIT), "runtime data: additional evidence over %zu bytes",
                          CACHET_RUNTIME_DATA_MAX / 2);
    json_t *rd = json_object();
    json_t *additional_json = json_string(additional);
    if (!rd || !additional_json || json_object_set_new(rd, RD_ADDITIONAL, additional_json) ||
        json_object_set_new(rd, RD_NONCE, json_string(p->nonce))) {
        if (!rd)
            json_decref(additional_json);
        json_decref(rd);
        /* json_string() also fails on text that is not UTF-8 */
        return cachet_err(RD_RC(FORMAT), "runtime data: nonce or additional evidence is not "
                                         "UTF-8 text (or out of memory)");
    }
    if (p->tee_pubkey) {
        json_t *jwk = NULL;
        cachet_rc rc = cachet_jwk_from_pkey(
            p->tee_pubkey, p->tee_pubkey_alg ? p->tee_pubkey_alg : RD_DEFAULT_KEY_ALG, &jwk);
        if (rc != CACHET_OK || json_object_set_new(rd, RD_PUBKEY, jwk)) {
            json_decref(rd);
            return rc != CACHET_OK ? rc : cachet_err(RD_RC(NOMEM), "runtime data: out of memory");
        }
    }
    if (p->user_data_len) {
        char *ud = cachet_base64url_string(p->user_data, p->user_data_len);
        if (!ud || json_object_set_new(rd, RD_USER_DATA, json_string(ud))) {
            free(ud);
            json_decref(rd);
            return cachet_err(RD_RC(NOMEM), "runtime data: out of memory");
        }
        free(ud);
    }
    *out = rd;
    return CACHET_OK;
}

char *cachet_runtime_data_nonce_text(const uint8_t *nonce, size_t len)
{
    if (!nonce || !len)
        return NULL;
    return cachet_base64_string(nonce, len);
}

static cachet_rc digest_of(const json_t *j, uint8_t out[CACHET_SHA384_LEN])
{
    char *text = NULL;
    size_t len = 0;
    cachet_rc rc = cachet_jcs_dump(j, &text, &len);
    if (rc == CACHET_OK)
        rc = cachet_sha384(text, len, out);
    free(text);
    return rc;
}

cachet_rc cachet_runtime_data_digest(const json_t *rd, uint8_t out[CACHET_SHA384_LEN])
{
    if (!json_is_object(rd) || !out)
        return cachet_err(RD_RC(INVALID_ARG), "runtime data: not an object");
    return digest_of(rd, out);
}

cachet_rc cachet_runtime_data_device_digest(const json_t *rd, uint8_t out[CACHET_SHA384_LEN])
{
    if (!json_is_object(rd) || !out)
        return cachet_err(RD_RC(INVALID_ARG), "runtime data: not an object");
    json_t *dev = json_object();
    const json_t *nonce = json_object_get(rd, RD_NONCE), *key = json_object_get(rd, RD_PUBKEY);
    if (!dev || !nonce || json_object_set(dev, RD_NONCE, (json_t *)nonce) ||
        (key && json_object_set(dev, RD_PUBKEY, (json_t *)key))) {
        json_decref(dev);
        return cachet_err(RD_RC(FORMAT), "runtime data: no nonce (or out of memory)");
    }
    cachet_rc rc = digest_of(dev, out);
    json_decref(dev);
    return rc;
}

cachet_rc cachet_runtime_data_report_data(const json_t *rd, uint8_t out[CACHET_REPORT_DATA_LEN])
{
    if (!out)
        return cachet_err(RD_RC(INVALID_ARG), "runtime data: NULL output");
    memset(out, 0, CACHET_REPORT_DATA_LEN);
    return cachet_runtime_data_digest(rd, out);
}

size_t cachet_runtime_data_binding_len(const char *tee)
{
    const cachet_evidence_ops *ops = tee ? cachet_evidence_find(tee) : NULL;
    const char *name = ops ? ops->name : tee;
    if (name && (strcmp(name, "tpm") == 0 || strcmp(name, "nitro") == 0))
        return CACHET_SHA384_LEN;
    return CACHET_REPORT_DATA_LEN;
}

cachet_rc cachet_runtime_data_check(const json_t *rd)
{
    if (!json_is_object(rd))
        return cachet_err(RD_RC(FORMAT), "runtime data: not a JSON object");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)rd, k, v) {
        if (strcmp(k, RD_NONCE) != 0 && strcmp(k, RD_PUBKEY) != 0 &&
            strcmp(k, RD_ADDITIONAL) != 0 && strcmp(k, RD_USER_DATA) != 0)
            return cachet_err(RD_RC(FORMAT), "runtime data: unknown member \"%s\"", k);
    }
    const json_t *nonce = json_object_get(rd, RD_NONCE);
    if (!json_is_string(nonce) || json_string_length(nonce) == 0 ||
        json_string_length(nonce) > RD_MAX_NONCE_TEXT)
        return cachet_err(RD_RC(FORMAT), "runtime data: \"nonce\" must be a non-empty string");
    if (!json_is_string(json_object_get(rd, RD_ADDITIONAL)))
        return cachet_err(RD_RC(FORMAT),
                          "runtime data: \"additional-evidence\" must be a string (\"\" when "
                          "there is none)");
    const json_t *key = json_object_get(rd, RD_PUBKEY);
    if (key) {
        cachet_pkey *pk = NULL;
        cachet_rc rc = cachet_jwk_to_pkey(key, &pk);
        cachet_pkey_free(pk);
        if (rc != CACHET_OK) {
            char why[256];
            snprintf(why, sizeof why, "%s", cachet_err_detail());
            return cachet_err(RD_RC(FORMAT), "runtime data: \"tee-pubkey\": %s", why);
        }
    }
    const json_t *ud = json_object_get(rd, RD_USER_DATA);
    if (ud) {
        uint8_t *raw = NULL;
        size_t n = 0;
        if (!json_is_string(ud) ||
            cachet_base64url_decode(json_string_value(ud), json_string_length(ud), &raw, &n) !=
                CACHET_OK ||
            n > RD_MAX_USER_DATA) {
            free(raw);
            return cachet_err(RD_RC(FORMAT), "runtime data: \"user-data\" is not base64url of "
                                             "at most %d bytes",
                              RD_MAX_USER_DATA);
        }
        free(raw);
    }
    return CACHET_OK;
}

/* docs/serve.md §3.5: once the report data has matched SHA-384(JCS(rd)),
 * the runtime data is as authentic as the evidence, so its user-data can
 * stand as a claim a policy pins (cachet serve puts the model digest
 * there). */
cachet_rc cachet_runtime_data_annotate(cachet_verify_result *res, const json_t *rd)
{
    if (!res || !rd)
        return cachet_err(RD_RC(INVALID_ARG), "runtime data annotate: missing argument");
    if (!res->verified || !json_is_object(res->claims))
        return CACHET_OK; /* nothing to vouch for */
    const json_t *ud = json_object_get(rd, RD_USER_DATA);
    if (!json_is_string(ud))
        return CACHET_OK;
    uint8_t *raw = NULL;
    size_t n = 0;
    if (cachet_base64url_decode(json_string_value(ud), json_string_length(ud), &raw, &n) !=
            CACHET_OK ||
        n > RD_MAX_USER_DATA) {
        free(raw);
        return cachet_err(RD_RC(FORMAT), "runtime data: \"user-data\" is not base64url");
    }
    char *hex = malloc(2 * n + 1);
    if (!hex) {
        free(raw);
        return cachet_err(RD_RC(NOMEM), "runtime data annotate: out of memory");
    }
    cachet_hex_encode(raw, n, hex);
    free(raw);
    int bad = json_object_set_new(res->claims, "user_data", json_string(hex));
    free(hex);
    return bad ? cachet_err(RD_RC(NOMEM), "runtime data annotate: out of memory") : CACHET_OK;
}
