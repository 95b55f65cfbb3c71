/* The KBS protocol from the workload's side (protocols.md §1.3-1.8). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cachet/encoding.h"
#include "cachet/kbs.h"
#include "cachet/runtime_data.h"
#include "cachet/secmem.h"
#include "client/client_int.h"

/* A non-200 answer as an error carrying the broker's detail. */
static cachet_rc http_refusal(long status, const char *what, const char *resp)
{
    json_t *j = resp ? json_loads(resp, 0, NULL) : NULL;
    const char *type = json_string_value(json_object_get(j, "type"));
    const char *detail = json_string_value(json_object_get(j, "detail"));
    const char *t = type ? strrchr(type, '/') : NULL;
    cachet_rc rc = cachet_err(status == 404 ? CL_RC(NOT_FOUND) : CL_RC(POLICY), "%s: HTTP %ld %s: %s",
                              what, status, t ? t + 1 : "", detail ? detail : "(no detail)");
    json_decref(j);
    return rc;
}

cachet_rc cachet_kbs_client_auth(cachet_kbs_client *c, const char *tee, char **nonce)
{
    if (!c || !tee || !nonce)
        return cl_err(INVALID_ARG, "auth: missing argument");
    *nonce = NULL;
    c->session[0] = 0;
    json_t *rq = json_pack("{s:s,s:s,s:{s:[s]}}", "version", CACHET_KBS_PROTOCOL_VERSION, "tee", tee,
                           "extra-params", "supported-hash-algorithms", "sha384");
    char *body = rq ? json_dumps(rq, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(rq);
    if (!body)
        return cl_err(NOMEM, "auth: out of memory");
    long st = 0;
    char *resp = NULL;
    cachet_rc rc = cachet_kbs_client_request(c, "POST", "/kbs/v0/auth", body, strlen(body), NULL,
                                             &st, &resp, NULL);
    free(body);
    if (rc != CACHET_OK)
        return rc;
    if (st != 200) {
        rc = http_refusal(st, "auth", resp);
        free(resp);
        return rc;
    }
    json_t *ch = json_loads(resp, JSON_REJECT_DUPLICATES, NULL);
    free(resp);
    const json_t *n = json_object_get(ch, "nonce");
    const json_t *ep = json_object_get(ch, "extra-params");
    const char *sel = json_string_value(json_object_get(ep, "selected-hash-algorithm"));
    if (!json_is_string(n) || json_string_length(n) == 0 || json_string_length(n) > 1024) {
        rc = cl_err(FORMAT, "auth: the challenge has no usable nonce");
    } else if (sel && strcmp(sel, "sha384") != 0) {
        rc = cl_err(UNSUPPORTED, "auth: the broker selected %.16s; only sha384 is supported", sel);
    } else if (!c->session[0]) {
        rc = cl_err(FORMAT, "auth: the broker set no kbs-session-id cookie");
    } else {
        *nonce = strdup(json_string_value(n));
        rc = *nonce ? CACHET_OK : cl_err(NOMEM, "auth: out of memory");
    }
    json_decref(ch);
    return rc;
}

static char *attestation_body(const json_t *rd, const uint8_t *ev, size_t len)
{
    char *b64 = cachet_base64_string(ev, len);
    if (!b64)
        return NULL;
    json_t *j = json_pack("{s:n,s:O,s:{s:{s:s},s:s}}", "init-data", "runtime-data", rd,
                          "tee-evidence", "primary_evidence", "evidence", b64,
                          "additional_evidence", "");
    free(b64);
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    return s;
}

cachet_rc cachet_kbs_client_attest(cachet_kbs_client *c, cachet_attester *a)
{
    if (!c || !a)
        return cl_err(INVALID_ARG, "attest: missing argument");
    free(c->token);
    c->token = NULL;
    cachet_pkey_free(c->key);
    c->key = NULL;
    char *nonce = NULL, *rdtext = NULL, *body = NULL, *resp = NULL;
    json_t *rd = NULL, *answer = NULL;
    uint8_t *ev = NULL, report_data[CACHET_REPORT_DATA_LEN];
    size_t evlen = 0, rdlen = 0;
    cachet_rc rc = cachet_kbs_client_auth(c, cachet_attester_tee(a), &nonce);
    if (rc != CACHET_OK)
        goto done;
    if ((rc = cachet_pkey_generate_ec(CACHET_CURVE_P256, &c->key)) != CACHET_OK)
        goto done;
    cachet_runtime_data_params p = {.nonce = nonce, .tee_pubkey = c->key,
                                    .user_data = c->user_data_len ? c->user_data : NULL,
                                    .user_data_len = c->user_data_len};
    if ((rc = cachet_runtime_data_build(&p, &rd)) != CACHET_OK ||
        (rc = cachet_runtime_data_report_data(rd, report_data)) != CACHET_OK ||
        (rc = cachet_jcs_dump(rd, &rdtext, &rdlen)) != CACHET_OK ||
        (rc = cachet_attester_collect_bound(a, report_data, rdtext, rdlen, &ev, &evlen)) !=
            CACHET_OK)
        goto done;
    /* The wire carries runtime-data without additional-evidence (§1.6). */
    json_object_del(rd, "additional-evidence");
    body = attestation_body(rd, ev, evlen);
    if (!body) {
        rc = cl_err(NOMEM, "attest: out of memory");
        goto done;
    }
    long st = 0;
    if ((rc = cachet_kbs_client_request(c, "POST", "/kbs/v0/attest", body, strlen(body), NULL, &st,
                                        &resp, NULL)) != CACHET_OK)
        goto done;
    if (st != 200) {
        rc = http_refusal(st, "attest", resp);
        goto done;
    }
    answer = resp ? json_loads(resp, JSON_REJECT_DUPLICATES, NULL) : NULL;
    const char *tok = json_string_value(json_object_get(answer, "token"));
    if (!tok) {
        rc = cl_err(FORMAT, "attest: the broker's answer has no token");
        goto done;
    }
    c->token = strdup(tok);
    rc = c->token ? CACHET_OK : cl_err(NOMEM, "attest: out of memory");
done:
    json_decref(answer);
    json_decref(rd);
    free(nonce);
    free(rdtext);
    free(body);
    free(resp);
    free(ev);
    return rc;
}

const char *cachet_kbs_client_token(const cachet_kbs_client *c)
{
    return c ? c->token : NULL;
}

cachet_rc cachet_kbs_client_get_resource(cachet_kbs_client *c, const char *path,
                                         uint8_t **secret, size_t *len)
{
    if (!c || !secret || !len || !cachet_kbs_resource_path_valid(path))
        return cl_err(INVALID_ARG, "resource: path must be repo/type/tag");
    if (!c->key)
        return cl_err(STATE, "resource: attest first");
    char url[CACHET_KBS_MAX_PATH + 32];
    snprintf(url, sizeof url, "/kbs/v0/resource/%s", path);
    long st = 0;
    char *resp = NULL;
    size_t rl = 0;
    cachet_rc rc = cachet_kbs_client_request(c, "GET", url, NULL, 0, NULL, &st, &resp, &rl);
    if (rc != CACHET_OK)
        return rc;
    if (st != 200)
        rc = http_refusal(st, "resource", resp);
    else if (!resp)
        rc = cl_err(FORMAT, "resource: empty answer");
    else
        rc = cachet_jwe_decrypt(c->key, resp, rl, secret, len);
    free(resp);
    return rc;
}

cachet_rc cachet_kbs_fetch(const char *url, cachet_attester *a, const char *path,
                           const cachet_kbs_client_opts *opts, uint8_t **secret, size_t *len)
{
    cachet_kbs_client *c = NULL;
    cachet_rc rc = cachet_kbs_client_new(url, opts, &c);
    if (rc == CACHET_OK)
        rc = cachet_kbs_client_attest(c, a);
    if (rc == CACHET_OK)
        rc = cachet_kbs_client_get_resource(c, path, secret, len);
    cachet_kbs_client_free(c);
    return rc;
}
