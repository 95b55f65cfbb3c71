/* Appraising verified evidence against a policy (docs/policy.md §4).
 *
 * Every condition of every rule is evaluated and recorded (pass, fail or
 * n/a, with the claim read and the values compared), so that a denial says
 * exactly which conditions failed.  A rule admits when none of its
 * conditions failed; the policy admits when some rule does. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "appraisal/policy_int.h"

struct cachet_appraisal {
    json_t *json;
    bool admitted;
    const char *rule; /* points into json */
    const char *id;   /* points into json */
};

typedef struct rule_eval {
    json_t *conds; /* array of condition results */
    bool failed;
    bool oom;
} rule_eval;

static void record(rule_eval *e, const char *id, const char *result, const char *claim,
                   json_t *expected /* stolen */, const json_t *actual, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
static void record(rule_eval *e, const char *id, const char *result, const char *claim,
                   json_t *expected, const json_t *actual, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    if (strcmp(result, "fail") == 0)
        e->failed = true;
    json_t *o = json_pack("{s:s,s:s,s:s}", "id", id, "result", result, "detail", detail);
    if (!o || (claim && json_object_set_new(o, "claim", json_string(claim))) ||
        (expected && json_object_set(o, "expected", expected)) ||
        (actual && json_object_set_new(o, "actual", json_deep_copy(actual))) ||
        json_array_append_new(e->conds, o)) {
        e->oom = true;
        e->failed = true;
    }
    json_decref(expected);
}

static json_t *status_names(unsigned mask)
{
    json_t *a = json_array();
    for (int s = CACHET_EV_AFFIRMING; a && s <= CACHET_EV_CONTRAINDICATED; s++)
        if (mask & STATUS_BIT(s))
            json_array_append_new(a, json_string(cachet_ev_status_str((cachet_ev_status)s)));
    return a;
}

static bool hex_in(const json_t *allowed, const char *v)
{
    for (size_t i = 0; i < json_array_size(allowed); i++)
        if (strcasecmp(json_string_value(json_array_get(allowed, i)), v) == 0)
            return true;
    return false;
}

static bool value_in(const json_t *allowed, const json_t *v)
{
    for (size_t i = 0; i < json_array_size(allowed); i++)
        if (json_equal(json_array_get(allowed, i), (json_t *)v))
            return true;
    return false;
}

/* One primitive condition on one claims object. */
static void eval_cond(rule_eval *e, const pol_cond *c, const char *id, const json_t *claims)
{
    const char *used = NULL;
    const json_t *v = claims_lookup_any(claims, c->paths, c->n_paths, &used);
    json_t *expected = NULL;
    switch (c->op) {
    case OP_HEX_ANY:
    case OP_VALUE_ANY: expected = json_incref(c->allowed); break;
    case OP_MIN_INT: expected = json_pack("{s:I}", "at_least", (json_int_t)c->min); break;
    case OP_FALSE: expected = json_false(); break;
    }
    if (!v) {
        record(e, id, "fail", c->paths[0], expected, NULL,
               "the evidence has no claim %s%s", c->paths[0],
               c->n_paths > 1 ? " (nor any of its other spellings)" : "");
        return;
    }
    bool ok = false;
    const char *why = "";
    switch (c->op) {
    case OP_HEX_ANY:
        ok = json_is_string(v) && hex_in(c->allowed, json_string_value(v));
        why = json_array_size(c->allowed) ? "not one of the allowed values"
                                          : "the allowed list is empty";
        break;
    case OP_VALUE_ANY:
        ok = value_in(c->allowed, v);
        why = json_array_size(c->allowed) ? "not one of the allowed values"
                                          : "the allowed list is empty";
        break;
    case OP_MIN_INT:
        ok = json_is_integer(v) && json_integer_value(v) >= c->min;
        why = json_is_integer(v) ? "below the minimum" : "not an integer";
        break;
    case OP_FALSE:
        ok = json_is_false(v);
        why = json_is_boolean(v) ? "the flag is on" : "not a boolean";
        break;
    }
    if (ok)
        record(e, id, "pass", used, expected, v, "%s", "holds");
    else
        record(e, id, "fail", used, expected, v, "%s", why);
}

/* A condition on a subject: on each GPU entry when it is per-GPU and the
 * subject has them ("gpu0.driver_version"), else on the subject. */
static void eval_on_subject(rule_eval *e, const pol_cond *c, const json_t *claims)
{
    const json_t *gpus = c->per_gpu ? claims_gpus(claims) : NULL;
    if (!gpus) {
        if (c->gpu_only)
            record(e, c->id, "n/a", NULL, NULL, NULL, "%s",
                   "applies to GPU evidence only");
        else
            eval_cond(e, c, c->id, claims);
        return;
    }
    const char *label;
    json_t *g;
    json_object_foreach((json_t *)gpus, label, g) {
        char id[POLICY_MAX_ID + 64];
        join_names(id, sizeof id, label, ".", c->id);
        eval_cond(e, c, id, g);
    }
}

static void eval_freshness(rule_eval *e, const char *id, bool required, const json_t *claims)
{
    const json_t *f = json_object_get(claims, "freshness");
    const char *s = json_string_value(f);
    if (s && strcmp(s, "nonce-matched") == 0)
        record(e, id, "pass", "freshness", json_string("nonce-matched"), f, "%s",
               "the verifier's nonce is bound into the evidence");
    else if (!required && (!s || strcmp(s, "mismatch") != 0))
        record(e, id, "pass", "freshness", json_string("nonce-matched"), f, "%s",
               "not checked, and the rule says \"freshness\": \"optional\"");
    else
        record(e, id, "fail", "freshness", json_string("nonce-matched"), f, "%s",
               s && strcmp(s, "mismatch") == 0
                   ? "the evidence carries a different nonce (a replay?)"
                   : "freshness was not checked: give the verifier the nonce (--nonce)");
}

static void eval_debug(rule_eval *e, const char *id, const json_t *claims)
{
    const json_t *d = json_object_get(claims, "debug");
    if (json_is_false(d))
        record(e, id, "pass", "debug", json_false(), d, "%s", "not in a debug mode");
    else
        record(e, id, "fail", "debug", json_false(), d, "%s",
               d ? "the TEE runs in a debug mode" : "the evidence has no debug claim");
}

static void eval_result_basics(rule_eval *e, const char *prefix, const cachet_verify_result *r,
                               unsigned status_mask)
{
    char id[64];
    join_names(id, sizeof id, prefix, "", "verified");
    json_t *t = json_true();
    if (r->verified)
        record(e, id, "pass", NULL, t, json_true(), "%s", "every signature, chain and binding "
                                                          "check passed");
    else
        record(e, id, "fail", NULL, t, json_false(), "%s", "the evidence is not authentic");
    join_names(id, sizeof id, prefix, "", "status");
    json_t *st = json_string(cachet_ev_status_str(r->status));
    if (status_mask & STATUS_BIT(r->status))
        record(e, id, "pass", NULL, status_names(status_mask), st, "%s", "an admitted status");
    else
        record(e, id, "fail", NULL, status_names(status_mask), st, "%s",
               r->status == CACHET_EV_CONTRAINDICATED
                   ? "contraindicated evidence is never admitted"
                   : "the rule does not admit this status");
    json_decref(st);
}

/* The GPUs of the device results, labelled gpu0, gpu1, ... in order. */
typedef struct gpu_subject {
    const json_t *claims;
    const cachet_verify_result *res;
} gpu_subject;

static size_t collect_gpus(const cachet_appraisal_input *in, gpu_subject *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < in->n_devices; i++) {
        const cachet_verify_result *r = in->devices ? in->devices[i] : NULL;
        if (!r)
            continue;
        const json_t *gpus = claims_gpus(r->claims);
        if (!gpus) {
            if (n < cap)
                out[n] = (gpu_subject){r->claims, r};
            n++;
            continue;
        }
        const char *k;
        json_t *g;
        json_object_foreach((json_t *)gpus, k, g) {
            if (n < cap)
                out[n] = (gpu_subject){g, r};
            n++;
        }
    }
    return n;
}

#define MAX_GPU_SUBJECTS 64

static void eval_gpu(rule_eval *e, const pol_gpu *g, const cachet_appraisal_input *in)
{
    gpu_subject subj[MAX_GPU_SUBJECTS];
    size_t n = collect_gpus(in, subj, MAX_GPU_SUBJECTS);
    json_t *cnt = json_integer((json_int_t)n);
    if (n > MAX_GPU_SUBJECTS)
        record(e, "gpu.count", "fail", NULL, json_pack("{s:I}", "at_least", g->min_count), cnt,
               "more than %d GPUs", MAX_GPU_SUBJECTS);
    else if ((int64_t)n >= g->min_count)
        record(e, "gpu.count", "pass", NULL, json_pack("{s:I}", "at_least", g->min_count), cnt,
               "%zu GPU(s) attested", n);
    else
        record(e, "gpu.count", "fail", NULL, json_pack("{s:I}", "at_least", g->min_count), cnt,
               "%s", n ? "too few GPUs attested" : "no GPU evidence was verified with this "
                                                   "evidence");
    json_decref(cnt);
    if (n == 0 || n > MAX_GPU_SUBJECTS)
        return;
    if (in->devices_bound)
        record(e, "gpu.bound", "pass", NULL, json_true(), json_true(), "%s",
               "the CPU evidence's report data covers the GPU evidence");
    else
        record(e, "gpu.bound", "fail", NULL, json_true(), json_false(), "%s",
               "the GPU evidence is not shown to be bound to this CPU evidence");
    const cachet_verify_result *last = NULL;
    for (size_t i = 0; i < n; i++) {
        char prefix[32], id[POLICY_MAX_ID + 32];
        snprintf(prefix, sizeof prefix, "gpu%zu.", i);
        if (subj[i].res != last) { /* once per device result */
            eval_result_basics(e, prefix, subj[i].res, g->status_mask);
            last = subj[i].res;
        }
        const json_t *fresh_src = json_object_get(subj[i].claims, "freshness")
                                      ? subj[i].claims
                                      : subj[i].res->claims;
        join_names(id, sizeof id, prefix, "", "freshness");
        eval_freshness(e, id, g->freshness_required, fresh_src);
        join_names(id, sizeof id, prefix, "", "debug");
        eval_debug(e, id, json_object_get(subj[i].claims, "debug") ? subj[i].claims
                                                                   : subj[i].res->claims);
        for (size_t k = 0; k < g->conds.n; k++) {
            const char *base = g->conds.v[k].id;
            if (strncmp(base, "gpu.", 4) == 0)
                base += 4;
            join_names(id, sizeof id, prefix, "", base);
            eval_cond(e, &g->conds.v[k], id, subj[i].claims);
        }
    }
}

static json_t *eval_rule(const pol_rule *r, const cachet_appraisal_input *in, bool *admits)
{
    rule_eval e = {.conds = json_array()};
    const cachet_verify_result *p = in->primary;
    json_t *tees = json_array();
    for (size_t i = 0; tees && i < r->n_tees; i++)
        json_array_append_new(tees, json_string(r->tees[i]));
    json_t *tee = json_string(p->tee ? p->tee : "");
    bool tee_ok = false;
    for (size_t i = 0; p->tee && i < r->n_tees; i++)
        tee_ok |= strcmp(p->tee, r->tees[i]) == 0;
    if (tee_ok)
        record(&e, "tee", "pass", NULL, tees, tee, "%s", "a family this rule admits");
    else
        record(&e, "tee", "fail", NULL, tees, tee, "%s", "this rule does not admit this family");
    json_decref(tee);
    eval_result_basics(&e, "", p, r->status_mask);
    eval_freshness(&e, "freshness", r->freshness_required, p->claims);
    eval_debug(&e, "debug", p->claims);
    for (size_t i = 0; i < r->conds.n; i++)
        eval_on_subject(&e, &r->conds.v[i], p->claims);
    if (r->gpu.present)
        eval_gpu(&e, &r->gpu, in);
    *admits = !e.failed && !e.oom;
    json_t *o = e.oom ? NULL : json_pack("{s:s,s:b,s:o}", "name", r->name, "admits", *admits,
                                         "conditions", e.conds);
    if (!o && !e.oom)
        return NULL;
    if (e.oom)
        json_decref(e.conds);
    return o;
}

cachet_rc cachet_policy_appraise(const cachet_policy *p, const cachet_appraisal_input *in,
                                 cachet_appraisal **out)
{
    if (!out)
        return cachet_err(AP_RC(INVALID_ARG), "appraise: NULL output");
    *out = NULL;
    if (!p || !in || !in->primary || !in->primary->claims || (in->n_devices && !in->devices))
        return cachet_err(AP_RC(INVALID_ARG), "appraise: incomplete input");
    cachet_appraisal *a = calloc(1, sizeof *a);
    json_t *rules = json_array();
    if (!a || !rules)
        goto oom;
    const char *admitting = NULL;
    for (size_t i = 0; i < p->n_rules; i++) {
        bool admits = false;
        json_t *r = eval_rule(&p->rules[i], in, &admits);
        if (!r || json_array_append_new(rules, r))
            goto oom;
        if (admits && !admitting)
            admitting = p->rules[i].name;
    }
    a->admitted = admitting != NULL;
    a->json = json_pack("{s:s,s:s,s:o?,s:o}", "id", cachet_policy_id(p), "decision",
                        a->admitted ? "admit" : "deny", "rule",
                        admitting ? json_string(admitting) : json_null(), "rules", rules);
    rules = NULL;
    if (!a->json)
        goto oom;
    a->rule = json_string_value(json_object_get(a->json, "rule"));
    a->id = json_string_value(json_object_get(a->json, "id"));
    *out = a;
    return CACHET_OK;
oom:
    json_decref(rules);
    cachet_appraisal_free(a);
    return cachet_err(AP_RC(NOMEM), "appraise: out of memory");
}

bool cachet_appraisal_admitted(const cachet_appraisal *a) { return a && a->admitted; }
const char *cachet_appraisal_rule(const cachet_appraisal *a) { return a ? a->rule : NULL; }
const char *cachet_appraisal_policy_id(const cachet_appraisal *a) { return a ? a->id : NULL; }
const json_t *cachet_appraisal_json(const cachet_appraisal *a) { return a ? a->json : NULL; }

void cachet_appraisal_free(cachet_appraisal *a)
{
    if (!a)
        return;
    json_decref(a->json);
    free(a);
}
