/* GET /cachet/v1/attestation?nonce=N, POST {"nonce":N} (docs/serve.md §2):
 * fresh evidence whose report data is SHA-384(JCS(runtime_data)) || 0^16,
 * runtime_data = {"additional-evidence": "", "nonce": N, "tee-pubkey": the
 * TLS key as a JWK, "user-data": b64url(model digest)}. */
#include <stdlib.h>
#include <string.h>

#include "cachet/encoding.h"
#include "cachet/log.h"
#include "cachet/runtime_data.h"
#include "serve/serve_int.h"

#define NONCE_MIN 16
#define NONCE_MAX 64

char *serve_attest_nonce_from_body(const char *body, size_t len)
{
    json_t *j = body ? json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
    const char *n = json_string_value(json_object_get(j, "nonce"));
    char *out = n ? strdup(n) : NULL;
    json_decref(j);
    return out;
}

static bool nonce_ok(const char *n)
{
    size_t len = strlen(n);
    if (len < 22 || len > 86) /* 16..64 bytes as unpadded base64url */
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = n[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    uint8_t *raw = NULL;
    size_t rl = 0;
    bool ok = cachet_base64url_decode(n, len, &raw, &rl) == CACHET_OK && rl >= NONCE_MIN &&
              rl <= NONCE_MAX;
    free(raw);
    return ok;
}

unsigned serve_attest_answer(const serve_attest_ctx *c, const char *nonce, char **body)
{
    *body = NULL;
    if (!nonce || !nonce_ok(nonce)) {
        *body = oai_error_json("invalid_request_error",
                               "nonce must be 16 to 64 bytes as base64url without padding",
                               "nonce", NULL);
        return 400;
    }
    json_t *rd = NULL, *doc = NULL;
    char *jcs = NULL, *ev64 = NULL;
    size_t jcs_len = 0, ev_len = 0;
    uint8_t *ev = NULL, report_data[CACHET_REPORT_DATA_LEN];
    unsigned status = 200;
    cachet_runtime_data_params p = {
        .nonce = nonce,
        .tee_pubkey = c->tls_key,
        .tee_pubkey_alg = "ES256",
        .user_data = c->model_digest,
        .user_data_len = CACHET_SEAL_DIGEST_LEN,
    };
    cachet_rc rc;
    if ((rc = cachet_runtime_data_build(&p, &rd)) != CACHET_OK ||
        (rc = cachet_runtime_data_report_data(rd, report_data)) != CACHET_OK ||
        (rc = cachet_jcs_dump(rd, &jcs, &jcs_len)) != CACHET_OK) {
        *body = oai_error_json("server_error", "cannot build the runtime data", NULL, NULL);
        status = 500;
        goto out;
    }
    pthread_mutex_lock(c->lock);
    rc = cachet_attester_collect_bound(c->attester, report_data, jcs, jcs_len, &ev, &ev_len);
    pthread_mutex_unlock(c->lock);
    if (rc != CACHET_OK) {
        char why[300];
        snprintf(why, sizeof why, "attester: %.280s", cachet_err_detail());
        cachet_log(CACHET_LOG_WARN, "serve: attestation: %s", why);
        *body = oai_error_json("server_error", why, NULL, "attester_failed");
        status = 503;
        goto out;
    }
    ev64 = cachet_base64url_string(ev, ev_len);
    doc = ev64 ? json_pack("{s:s,s:s,s:s,s:O,s:{s:s,s:s}}", "profile", SERVE_PROFILE, "tee",
                           cachet_attester_tee(c->attester), "evidence", ev64, "runtime_data", rd,
                           "model", "id", c->model_id, "digest", c->model_digest_str)
               : NULL;
    *body = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (!*body) {
        *body = oai_error_json("server_error", "out of memory", NULL, NULL);
        status = 500;
    }
out:
    json_decref(doc);
    json_decref(rd);
    free(jcs);
    free(ev);
    free(ev64);
    return status;
}
