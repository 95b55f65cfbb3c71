/* "Would this evidence get that resource, and if not, why?" — the whole
 * decision of /attest and GET /resource without a session, a nonce or a
 * release.  Freshness is not checked (there is no challenge). */
#include <stdio.h>
#include <string.h>

#include "cachet/token.h"
#include "kbs/kbs_int.h"

static cachet_rc finish(json_t *rep, const char *decision, const char *reason, json_t **out)
{
    if (json_object_set_new(rep, "decision", json_string(decision)) ||
        json_object_set_new(rep, "reason", json_string(reason))) {
        json_decref(rep);
        return kbs_err(NOMEM, "dry run: out of memory");
    }
    *out = rep;
    return CACHET_OK;
}

cachet_rc cachet_kbs_dry_run(cachet_kbs_store *s, const cachet_kbs_config *cfg,
                             const uint8_t *evidence, size_t len, const char *tee,
                             const char *path, const uint8_t *nonce, size_t nonce_len,
                             json_t **report)
{
    if (!s || !cfg || !evidence || !tee || !path || !report)
        return kbs_err(INVALID_ARG, "dry run: missing argument");
    *report = NULL;
    json_t *rep = json_pack("{s:s,s:s}", "tee", tee, "resource", path);
    if (!rep)
        return kbs_err(NOMEM, "dry run: out of memory");
    if (!cachet_kbs_resource_path_valid(path))
        return finish(rep, "refuse", "resource path must be repo/type/tag", report);
    kbs_verifier v = {.trust_keys = cfg->trust_keys, .n_trust_keys = cfg->n_trust_keys,
                      .trust_anchors = cfg->trust_anchors,
                      .n_trust_anchors = cfg->n_trust_anchors};
    cachet_policy *policy = NULL;
    cachet_kbs_rpolicy *rp = NULL;
    kbs_outcome o;
    memset(&o, 0, sizeof o);
    json_t *claims = NULL;
    cachet_rc rc = kbs_load_policy(s, &policy);
    if (rc == CACHET_OK)
        rc = kbs_load_rpolicy(s, &rp);
    int64_t now = cachet_clock_now(cfg->clock);
    if (rc == CACHET_OK)
        rc = kbs_verify_and_appraise(&v, policy, tee, evidence, len, NULL, NULL, nonce, nonce_len,
                                     now, &o);
    if (rc != CACHET_OK) {
        json_decref(rep);
        goto done;
    }
    if (o.result) {
        json_object_set_new(rep, "verified", json_boolean(o.result->verified));
        json_object_set_new(rep, "status", json_string(cachet_ev_status_str(o.result->status)));
        json_object_set_new(rep, "errors", json_incref(o.result->errors));
    }
    if (o.appraisal)
        json_object_set_new(rep, "appraisal", json_deep_copy(cachet_appraisal_json(o.appraisal)));
    if (!o.admitted) {
        rc = finish(rep, "refuse", o.why, report);
        goto done;
    }
    cachet_ear_params p = {.primary = o.result, .appraisal = o.appraisal, .iat = now};
    if ((rc = cachet_ear_claims(&p, &claims)) != CACHET_OK) {
        json_decref(rep);
        goto done;
    }
    char why[512];
    bool ok = cachet_kbs_rpolicy_allows(rp, claims, path, why, sizeof why);
    rc = finish(rep, ok ? "release" : "refuse", why, report);
done:
    json_decref(claims);
    kbs_outcome_clear(&o);
    cachet_kbs_rpolicy_free(rp);
    cachet_policy_free(policy);
    return rc;
}
