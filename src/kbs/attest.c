/* Evidence → verification → binding → appraisal, for /attest and the dry run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/runtime_data.h"
#include "kbs/kbs_int.h"

void kbs_outcome_clear(kbs_outcome *o)
{
    if (!o)
        return;
    cachet_verify_result_free(o->result);
    for (size_t i = 0; i < o->n_devices; i++)
        cachet_verify_result_free(o->devices[i]);
    cachet_appraisal_free(o->appraisal);
    json_decref(o->runtime_data);
    memset(o, 0, sizeof *o);
}

static const char *first_error(const cachet_verify_result *r)
{
    const char *e = json_string_value(json_array_get(r->errors, 0));
    return e ? e : "verification failed";
}

/* additional_evidence (protocols.md §1.6-1.7): the JSON text of
 * {"nvidia": <GPU evidence>}; the GPU's SPDM nonce must be the first 32 bytes
 * of the device digest of rd.  The text itself is covered by the CPU
 * evidence, whose report data hashes it byte for byte. */
static cachet_rc verify_devices(const kbs_verifier *v, const json_t *rd, const char *additional,
                                int64_t now, kbs_outcome *out)
{
    json_t *j = json_loads(additional, JSON_REJECT_DUPLICATES, NULL);
    const char *k;
    json_t *val;
    if (!json_is_object(j) || json_object_size(j) == 0 ||
        json_object_size(j) > KBS_MAX_DEVICES) {
        json_decref(j);
        snprintf(out->why, sizeof out->why,
                 "additional-evidence must be a JSON object with one device (\"nvidia\")");
        return CACHET_OK;
    }
    uint8_t dev[CACHET_SHA384_LEN];
    cachet_rc rc = cachet_runtime_data_device_digest(rd, dev);
    json_object_foreach(j, k, val) {
        if (rc != CACHET_OK)
            break;
        if (strcmp(k, "nvidia") != 0) {
            snprintf(out->why, sizeof out->why,
                     "additional evidence \"%.32s\" is not supported (only nvidia)", k);
            break;
        }
        const cachet_evidence_ops *ops = v->nvidia_ops ? v->nvidia_ops : cachet_evidence_find("nvgpu");
        char *text = json_dumps(val, JSON_COMPACT);
        if (!ops || !text) {
            free(text);
            rc = kbs_err(NOMEM, "attest: no GPU verifier");
            break;
        }
        cachet_verify_request req = {
            .evidence = (const uint8_t *)text,
            .evidence_len = strlen(text),
            .endorsements = v->endorsements,
            .time = now,
            .nonce = dev,
            .nonce_len = 32,
            .cache = v->cache,
        };
        cachet_verify_result *r = NULL;
        rc = cachet_evidence_verify_with(ops, &req, &r);
        free(text);
        if (rc != CACHET_OK) {
            snprintf(out->why, sizeof out->why, "GPU evidence: %s", cachet_err_detail());
            rc = CACHET_OK;
            break;
        }
        out->devices[out->n_devices++] = r;
        if (!r->verified || r->status == CACHET_EV_CONTRAINDICATED) {
            const char *e = json_string_value(json_array_get(r->errors, 0));
            snprintf(out->why, sizeof out->why, "GPU evidence not verified: %s",
                     e ? e : "verification failed");
            break;
        }
    }
    json_decref(j);
    return rc;
}

cachet_rc kbs_verify_and_appraise(const kbs_verifier *v, const cachet_policy *policy,
                                  const char *tee, const uint8_t *ev, size_t len, const json_t *rd,
                                  const char *additional, const uint8_t *nonce, size_t nonce_len,
                                  int64_t now, kbs_outcome *out)
{
    if (!v || !policy || !tee || !ev || !out)
        return kbs_err(INVALID_ARG, "attest: missing argument");
    memset(out, 0, sizeof *out);
    const cachet_evidence_ops *ops = cachet_evidence_find(tee);
    if (!ops) {
        snprintf(out->why, sizeof out->why, "tee \"%s\" is not supported by this broker", tee);
        return CACHET_OK;
    }
    uint8_t report_data[CACHET_REPORT_DATA_LEN];
    if (rd) {
        out->runtime_data = json_deep_copy(rd);
        if (!out->runtime_data ||
            json_object_set_new(out->runtime_data, "additional-evidence",
                                json_string(additional ? additional : "")))
            return kbs_err(NOMEM, "attest: out of memory");
        if (cachet_runtime_data_check(out->runtime_data) != CACHET_OK ||
            cachet_runtime_data_report_data(out->runtime_data, report_data) != CACHET_OK) {
            snprintf(out->why, sizeof out->why, "runtime-data: %s", cachet_err_detail());
            return CACHET_OK;
        }
    }
    cachet_verify_request req = {
        .evidence = ev,
        .evidence_len = len,
        .endorsements = v->endorsements,
        .time = now,
        /* the family's share of the report data: TPM extraData and the Nitro
         * nonce carry the 48-byte digest alone, the others all 64 bytes */
        .nonce = rd ? report_data : nonce,
        .nonce_len = rd ? cachet_runtime_data_binding_len(ops->name) : nonce_len,
        .trust_anchors = v->trust_anchors,
        .n_trust_anchors = v->n_trust_anchors,
        .trust_keys = v->trust_keys,
        .n_trust_keys = v->n_trust_keys,
        .cache = v->cache,
    };
    cachet_rc rc = cachet_evidence_verify_with(ops, &req, &out->result);
    if (rc != CACHET_OK) {
        snprintf(out->why, sizeof out->why, "evidence: %s", cachet_err_detail());
        return CACHET_OK;
    }
    if (!out->result->verified || out->result->status == CACHET_EV_CONTRAINDICATED) {
        snprintf(out->why, sizeof out->why, "evidence not verified: %s",
                 first_error(out->result));
        return CACHET_OK;
    }
    if (rd && additional && additional[0]) {
        if ((rc = verify_devices(v, out->runtime_data, additional, now, out)) != CACHET_OK)
            return rc;
        if (out->why[0])
            return CACHET_OK;
    }
    /* The report data matched SHA-384(JCS(rd)): rd's user-data is vouched for. */
    if (rd && (rc = cachet_runtime_data_annotate(out->result, out->runtime_data)) != CACHET_OK)
        return rc;
    cachet_appraisal_input in = {
        .primary = out->result,
        .devices = (const cachet_verify_result *const *)out->devices,
        .n_devices = out->n_devices,
        .devices_bound = out->n_devices > 0, /* the CPU report data covers their text */
    };
    rc = cachet_policy_appraise(policy, &in, &out->appraisal);
    if (rc != CACHET_OK)
        return rc;
    out->admitted = cachet_appraisal_admitted(out->appraisal);
    if (!out->admitted)
        snprintf(out->why, sizeof out->why, "the attestation policy \"%s\" admits no rule",
                 cachet_appraisal_policy_id(out->appraisal));
    return CACHET_OK;
}

cachet_rc kbs_load_policy(cachet_kbs_store *s, cachet_policy **out)
{
    char *text = NULL;
    cachet_rc rc = cachet_kbs_store_get_policy(s, "attestation", &text);
    if (rc != CACHET_OK && cachet_rc_code(rc) != CACHET_E_NOT_FOUND)
        return rc;
    rc = text ? cachet_policy_parse(text, strlen(text), out) : cachet_policy_parse("{}", 2, out);
    free(text);
    return rc;
}

cachet_rc kbs_load_rpolicy(cachet_kbs_store *s, cachet_kbs_rpolicy **out)
{
    char *text = NULL;
    cachet_rc rc = cachet_kbs_store_get_policy(s, "resource", &text);
    if (rc != CACHET_OK && cachet_rc_code(rc) != CACHET_E_NOT_FOUND)
        return rc;
    rc = cachet_kbs_rpolicy_parse(text, text ? strlen(text) : 0, out);
    free(text);
    return rc;
}
