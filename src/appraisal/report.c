/* Printing appraisals ("why was I denied") and describing policies in
 * words (`cachet policy check`). */
#include <stdlib.h>
#include <string.h>

#include "appraisal/policy_int.h"

static void print_value(FILE *out, const json_t *v)
{
    if (!v) {
        fputs("(absent)", out);
        return;
    }
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s) {
        fputs("?", out);
        return;
    }
    /* long allow-lists are summarised; the JSON output has them all */
    if (strlen(s) > 160)
        fprintf(out, "%.150s...", s);
    else
        fputs(s, out);
    free(s);
}

void cachet_appraisal_print(const cachet_appraisal *a, FILE *out)
{
    const json_t *j = cachet_appraisal_json(a);
    if (!j || !out)
        return;
    const char *id = json_string_value(json_object_get(j, "id"));
    if (cachet_appraisal_admitted(a))
        fprintf(out, "policy \"%s\": ADMIT (rule \"%s\")\n", id, cachet_appraisal_rule(a));
    else
        fprintf(out, "policy \"%s\": DENY (%s)\n", id,
                json_array_size(json_object_get(j, "rules")) ? "no rule admits this evidence"
                                                             : "the policy has no rules");
    const json_t *rules = json_object_get(j, "rules");
    for (size_t i = 0; i < json_array_size(rules); i++) {
        const json_t *r = json_array_get(rules, i);
        const json_t *conds = json_object_get(r, "conditions");
        bool admits = json_is_true(json_object_get(r, "admits"));
        fprintf(out, "  rule \"%s\": %s\n", json_string_value(json_object_get(r, "name")),
                admits ? "admits" : "does not admit");
        size_t n_pass = 0;
        for (size_t k = 0; k < json_array_size(conds); k++) {
            const json_t *c = json_array_get(conds, k);
            const char *res = json_string_value(json_object_get(c, "result"));
            if (res && strcmp(res, "pass") == 0) {
                n_pass++;
                continue;
            }
            if (res && strcmp(res, "n/a") == 0)
                continue;
            fprintf(out, "    fail  %-24s %s", json_string_value(json_object_get(c, "id")),
                    json_string_value(json_object_get(c, "detail")));
            if (json_object_get(c, "expected")) {
                fputs("\n          expected ", out);
                print_value(out, json_object_get(c, "expected"));
                fputs(", got ", out);
                print_value(out, json_object_get(c, "actual"));
            }
            fputc('\n', out);
        }
        fprintf(out, "    %zu condition(s) hold\n", n_pass);
    }
}

/* ---- policy description ------------------------------------------------ */

static void describe_cond(const pol_cond *c, FILE *out)
{
    fprintf(out, "      - %s: ", c->id);
    switch (c->op) {
    case OP_HEX_ANY:
    case OP_VALUE_ANY: {
        size_t n = json_array_size(c->allowed);
        fprintf(out, "%s is %s", c->paths[0],
                n == 0 ? "(no value allowed: this condition always fails)"
                       : n == 1 ? "" : "any of ");
        print_value(out, c->allowed);
        break;
    }
    case OP_MIN_INT: fprintf(out, "%s >= %lld", c->paths[0], (long long)c->min); break;
    case OP_FALSE: fprintf(out, "%s is false", c->paths[0]); break;
    }
    if (c->gpu_only)
        fputs(" (GPU evidence only)", out);
    else if (c->per_gpu)
        fputs(" (for every GPU)", out);
    fputc('\n', out);
}

static void describe_status(unsigned mask, FILE *out)
{
    fprintf(out, "%s%s%s", (mask & STATUS_BIT(CACHET_EV_AFFIRMING)) ? "affirming" : "",
            (mask & STATUS_BIT(CACHET_EV_AFFIRMING)) && (mask & STATUS_BIT(CACHET_EV_WARNING))
                ? " or "
                : "",
            (mask & STATUS_BIT(CACHET_EV_WARNING)) ? "warning" : "");
}

static size_t warn(FILE *out, const char *rule, const char *what)
{
    fprintf(out, "    warning: rule \"%s\" %s\n", rule, what);
    return 1;
}

size_t cachet_policy_describe(const cachet_policy *p, FILE *out)
{
    if (!p || !out)
        return 0;
    size_t warnings = 0;
    fprintf(out, "policy \"%s\": %zu rule(s); evidence no rule admits is denied\n",
            cachet_policy_id(p), p->n_rules);
    if (p->description)
        fprintf(out, "  %s\n", p->description);
    if (p->n_rules == 0) {
        fprintf(out, "  this policy admits nothing\n");
        return 1;
    }
    for (size_t i = 0; i < p->n_rules; i++) {
        const pol_rule *r = &p->rules[i];
        fprintf(out, "  rule \"%s\" admits ", r->name);
        for (size_t t = 0; t < r->n_tees; t++)
            fprintf(out, "%s%s", t ? (t + 1 == r->n_tees ? " or " : ", ") : "", r->tees[t]);
        fprintf(out, " evidence when:\n");
        if (r->description)
            fprintf(out, "    (%s)\n", r->description);
        fprintf(out, "      - it verified (signatures, chains, bindings) and is not in a debug "
                     "mode\n      - the verifier's status is ");
        describe_status(r->status_mask, out);
        fputc('\n', out);
        fprintf(out, "      - %s\n", r->freshness_required
                                         ? "it is fresh: the verifier's nonce is bound into it"
                                         : "freshness is optional (a mismatching nonce still "
                                           "denies)");
        bool gpu_family = false;
        for (size_t t = 0; t < r->n_tees; t++)
            gpu_family |= strcmp(r->tees[t], "nvgpu") == 0;
        for (size_t k = 0; k < r->conds.n; k++)
            if (!r->conds.v[k].gpu_only || gpu_family)
                describe_cond(&r->conds.v[k], out);
        if (r->gpu.present) {
            fprintf(out, "      - at least %lld GPU(s) attested with it, bound to this evidence, "
                         "each verified, not in debug mode, status ",
                    (long long)r->gpu.min_count);
            describe_status(r->gpu.status_mask, out);
            fprintf(out, "%s, and:\n", r->gpu.freshness_required ? ", fresh" : "");
            for (size_t k = 0; k < r->gpu.conds.n; k++) {
                fputs("  ", out);
                describe_cond(&r->gpu.conds.v[k], out);
            }
        }
        for (size_t t = 0; t < r->n_tees; t++)
            if (strcmp(r->tees[t], "sample") == 0)
                warnings += warn(out, r->name, "admits \"sample\" evidence: software only, no "
                                               "hardware protects it (development only)");
        if (r->status_mask & STATUS_BIT(CACHET_EV_WARNING))
            warnings += warn(out, r->name, "admits evidence the verifier flagged \"warning\" "
                                           "(e.g. TCB out of date, revocation not checked)");
        if (!r->freshness_required)
            warnings += warn(out, r->name, "does not require fresh evidence (replays possible)");
        if (r->any_workload)
            warnings += warn(out, r->name, "admits any workload (\"any_workload\": true)");
        for (size_t k = 0; k < r->conds.n; k++)
            if ((r->conds.v[k].op == OP_HEX_ANY || r->conds.v[k].op == OP_VALUE_ANY) &&
                json_array_size(r->conds.v[k].allowed) == 0)
                warnings += warn(out, r->name, "has an empty allowed list: it admits nothing");
    }
    return warnings;
}
