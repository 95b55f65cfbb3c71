/* Building EAR claims-sets (protocols.md §3, docs/token.md): one submod per
 * attested component with its status, AR4SI trustworthiness vector, the
 * policy it was appraised under and the verified claims. */
#include <stdlib.h>
#include <string.h>

#include "cachet/encoding.h"
#include "cachet/runtime_data.h"
#include "token/token_int.h"

#ifndef CACHET_VERSION
#define CACHET_VERSION "0.1.0"
#endif

#define EAR_NONCE_MIN 8
#define EAR_NONCE_MAX 64
#define MAX_SUBMODS 64

/* AR4SI values (protocols.md §3.2). */
enum {
    AR_NO_CLAIM = 0,
    AR_APPROVED = 2,
    AR_GENUINE_VULNERABLE = 32,
    AR_CONTRAINDICATED = 96,
    AR_UNRECOGNIZED = 97,
    AR_CRYPTO_FAILED = 99,
};

static int tier_of(json_int_t v)
{
    if (v >= -1 && v <= 1)
        return 0;
    if (v >= -32 && v <= 31)
        return 1;
    if (v >= -96 && v <= 95)
        return 2;
    return 3;
}

const char *cachet_ear_status_of_vector(const json_t *vector)
{
    static const char *const names[] = {"none", "affirming", "warning", "contraindicated"};
    int worst = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)vector, k, v) {
        if (!json_is_integer(v))
            return names[3];
        int t = tier_of(json_integer_value(v));
        if (t > worst)
            worst = t;
    }
    return names[worst];
}

cachet_rc cachet_ear_appraise_result(const cachet_verify_result *r, const cachet_appraisal *a,
                                     json_t **vector, const char **status)
{
    if (!r || !vector || !status)
        return cachet_err(TK_RC(INVALID_ARG), "ear: NULL argument");
    *vector = NULL;
    *status = NULL;
    int identity = AR_NO_CLAIM, hardware = AR_NO_CLAIM, configuration = AR_NO_CLAIM,
        executables = AR_NO_CLAIM;
    if (!r->verified) {
        hardware = AR_CRYPTO_FAILED; /* the evidence is not authentic */
    } else {
        identity = AR_APPROVED;
        if (r->status == CACHET_EV_AFFIRMING)
            hardware = AR_APPROVED;
        else if (r->status == CACHET_EV_WARNING)
            hardware = AR_GENUINE_VULNERABLE;
        else
            configuration = AR_CONTRAINDICATED; /* authentic, unacceptable state (debug, nonce) */
    }
    if (a) {
        if (cachet_appraisal_admitted(a)) {
            executables = AR_APPROVED;
            if (configuration == AR_NO_CLAIM)
                configuration = AR_APPROVED;
        } else {
            executables = AR_CONTRAINDICATED; /* the owner's policy denies it */
        }
    }
    json_t *v = json_pack("{s:i,s:i,s:i,s:i}", "instance-identity", identity, "configuration",
                          configuration, "executables", executables, "hardware", hardware);
    if (!v)
        return cachet_err(TK_RC(NOMEM), "ear: out of memory");
    *vector = v;
    *status = cachet_ear_status_of_vector(v);
    return CACHET_OK;
}

/* The claims minus what the annotated evidence carries on its own. */
static json_t *tee_claims(const json_t *claims)
{
    json_t *c = json_deep_copy(claims);
    if (c)
        json_object_del(c, "runtime_data_claims");
    return c;
}

typedef struct submod_spec {
    char label[16];
    const cachet_verify_result *res;
    const json_t *claims; /* the component's claims (a GPU entry, or the result's) */
    bool primary;
} submod_spec;

static json_t *build_submod(const submod_spec *s, const cachet_appraisal *a,
                            const json_t *runtime_data)
{
    json_t *vector = NULL;
    const char *status = NULL;
    if (cachet_ear_appraise_result(s->res, a, &vector, &status) != CACHET_OK)
        return NULL;
    json_t *ann = json_object();
    json_t *sm = json_object();
    json_t *tc = tee_claims(s->claims);
    bool ok = ann && sm && tc && !json_object_set_new(ann, s->res->tee, tc);
    tc = NULL;
    if (ok && s->primary) {
        const json_t *rd = json_object_get(s->claims, "report_data");
        if (rd)
            ok = !json_object_set(ann, "report_data", (json_t *)rd);
        ok = ok && !json_object_set_new(ann, "runtime_data_claims",
                                        runtime_data ? json_deep_copy(runtime_data)
                                                     : json_null());
        ok = ok && !json_object_set_new(ann, "init_data_claims", json_null());
    }
    ok = ok && !json_object_set_new(sm, "ear.status", json_string(status)) &&
         !json_object_set_new(sm, "ear.trustworthiness-vector", vector);
    vector = NULL;
    if (ok && a)
        ok = !json_object_set_new(sm, "ear.appraisal-policy-id",
                                  json_string(cachet_appraisal_policy_id(a)));
    ok = ok && !json_object_set_new(sm, "ear.veraison.annotated-evidence", ann);
    ann = NULL;
    /* Veraison's key attestation: the workload key as DER SPKI */
    const json_t *jwk = runtime_data && s->primary ? json_object_get(runtime_data, "tee-pubkey")
                                                   : NULL;
    if (ok && jwk) {
        cachet_pkey *pk = NULL;
        uint8_t *der = NULL;
        size_t n = 0;
        if (cachet_jwk_to_pkey(jwk, &pk) == CACHET_OK &&
            cachet_pkey_spki_der(pk, &der, &n) == CACHET_OK) {
            char *b = cachet_base64url_string(der, n);
            ok = b && !json_object_set_new(sm, "ear.veraison.key-attestation",
                                           json_pack("{s:s}", "akpub", b));
            free(b);
        }
        free(der);
        cachet_pkey_free(pk);
    }
    json_decref(vector);
    json_decref(ann);
    json_decref(tc);
    if (!ok) {
        json_decref(sm);
        return NULL;
    }
    return sm;
}

/* cpu0 for CPU evidence; one gpuN per GPU entry of GPU evidence. */
static size_t plan_submods(const cachet_ear_params *p, submod_spec *out, size_t cap)
{
    size_t n = 0, n_cpu = 0, n_gpu = 0;
    for (size_t i = 0; i <= p->n_devices; i++) {
        const cachet_verify_result *r = i == 0 ? p->primary : p->devices[i - 1];
        if (!r)
            continue;
        const json_t *gpus = json_object_get(r->claims, "gpus");
        if (json_is_object(gpus) && json_object_size(gpus)) {
            const char *k;
            json_t *g;
            json_object_foreach((json_t *)gpus, k, g) {
                if (n < cap) {
                    out[n] = (submod_spec){.res = r, .claims = g, .primary = i == 0};
                    snprintf(out[n].label, sizeof out[n].label, "gpu%zu", n_gpu);
                }
                n++;
                n_gpu++;
            }
        } else {
            if (n < cap) {
                out[n] = (submod_spec){.res = r, .claims = r->claims, .primary = i == 0};
                snprintf(out[n].label, sizeof out[n].label, "cpu%zu", n_cpu);
            }
            n++;
            n_cpu++;
        }
    }
    return n;
}

cachet_rc cachet_ear_claims(const cachet_ear_params *p, json_t **out)
{
    if (!out)
        return cachet_err(TK_RC(INVALID_ARG), "ear: NULL output");
    *out = NULL;
    if (!p || !p->primary || !p->primary->claims || (p->n_devices && !p->devices) || p->iat < 0 ||
        p->lifetime < 0)
        return cachet_err(TK_RC(INVALID_ARG), "ear: incomplete parameters");
    submod_spec specs[MAX_SUBMODS];
    size_t n = plan_submods(p, specs, MAX_SUBMODS);
    if (n > MAX_SUBMODS)
        return cachet_err(TK_RC(LIMIT), "ear: more than %d components", MAX_SUBMODS);
    const json_t *rd = p->runtime_data;
    if (!rd && p->primary->verified)
        rd = json_object_get(p->primary->claims, "runtime_data_claims");
    int64_t lifetime = p->lifetime ? p->lifetime : CACHET_TOKEN_DEFAULT_LIFETIME;
    json_t *c = json_pack("{s:s,s:I,s:I,s:s,s:{s:s,s:s}}", "eat_profile", CACHET_EAR_PROFILE,
                          "iat", (json_int_t)p->iat, "exp", (json_int_t)(p->iat + lifetime), "iss",
                          p->issuer ? p->issuer : CACHET_EAR_ISSUER, "ear.verifier-id",
                          "developer", CACHET_EAR_DEVELOPER, "build",
                          "cachet-verifier " CACHET_VERSION);
    json_t *subs = json_object();
    bool ok = c && subs;
    if (ok && p->nonce && p->nonce_len >= EAR_NONCE_MIN && p->nonce_len <= EAR_NONCE_MAX) {
        char *b = cachet_base64url_string(p->nonce, p->nonce_len);
        ok = b && !json_object_set_new(c, "eat_nonce", json_string(b));
        free(b);
    }
    for (size_t i = 0; ok && i < n; i++) {
        json_t *sm = build_submod(&specs[i], p->appraisal, specs[i].primary ? rd : NULL);
        ok = sm && !json_object_set_new(subs, specs[i].label, sm);
    }
    ok = ok && !json_object_set_new(c, "submods", subs);
    subs = NULL;
    if (ok && p->appraisal)
        ok = !json_object_set_new(
            c, "cachet.appraisal",
            json_pack("{s:s,s:s,s:s?}", "policy", cachet_appraisal_policy_id(p->appraisal),
                      "decision", cachet_appraisal_admitted(p->appraisal) ? "admit" : "deny",
                      "rule", cachet_appraisal_rule(p->appraisal)));
    json_decref(subs);
    if (!ok) {
        json_decref(c);
        return cachet_err(TK_RC(NOMEM), "ear: out of memory");
    }
    *out = c;
    return CACHET_OK;
}

cachet_rc cachet_ear_issue(const cachet_token_issuer *iss, const cachet_ear_params *p,
                           char **jwt)
{
    if (!jwt)
        return cachet_err(TK_RC(INVALID_ARG), "ear: NULL output");
    *jwt = NULL;
    json_t *c = NULL;
    cachet_rc rc = cachet_ear_claims(p, &c);
    if (rc == CACHET_OK)
        rc = cachet_token_sign(iss, c, jwt);
    json_decref(c);
    return rc;
}

/* ---- reading ----------------------------------------------------------------------- */

static const json_t *either(const json_t *o, const char *dotted, const char *underscored)
{
    const json_t *v = json_object_get(o, dotted);
    return v ? v : json_object_get(o, underscored);
}

const char *cachet_ear_submod_status(const json_t *claims, const char *label)
{
    const json_t *sm = json_object_get(json_object_get(claims, "submods"), label);
    return json_string_value(either(sm, "ear.status", "ear_status"));
}

const json_t *cachet_ear_tee_pubkey(const json_t *claims)
{
    const json_t *sm = json_object_get(json_object_get(claims, "submods"), "cpu0");
    const json_t *ann =
        either(sm, "ear.veraison.annotated-evidence", "ear_veraison_annotated_evidence");
    const json_t *k = json_object_get(json_object_get(ann, "runtime_data_claims"), "tee-pubkey");
    return json_is_object(k) ? k : NULL;
}
