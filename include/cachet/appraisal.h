/* Appraisal: the owner's policy over verified evidence (docs/policy.md).
 *
 * Verification says the evidence is authentic; appraisal says whether this
 * workload may have this secret.  A policy is a JSON document of named
 * rules; each rule names the TEE families it admits and the conditions the
 * verified claims must meet (reference values, minimum TCB/SVN, statuses,
 * flags that must be off, an optional GPU bound to the same CPU evidence).
 * Deny by default: evidence is admitted only when one rule's conditions all
 * hold; an empty policy admits nothing; the `sample` family only by a rule
 * that names it.  Unknown keys anywhere are an error.
 *
 *   cachet_policy *p;
 *   if (cachet_policy_load("policy.json", &p) != CACHET_OK) { cachet_err_detail(); ... }
 *   cachet_appraisal_input in = { .primary = verify_result };
 *   cachet_appraisal *a;
 *   cachet_policy_appraise(p, &in, &a);
 *   if (cachet_appraisal_admitted(a)) ...     // else cachet_appraisal_to_json(a) says why
 */
#ifndef CACHET_APPRAISAL_H
#define CACHET_APPRAISAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "cachet/evidence.h"
#include "cachet/rc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest policy document read. */
#define CACHET_POLICY_MAX_FILE ((size_t)1 << 20)

typedef struct cachet_policy cachet_policy;

/* Parse a policy (JSON text).  Errors (CACHET_E_FORMAT, _LIMIT, ...) carry
 * the JSON path of the offending key in the detail, e.g.
 * "rules[0].measurment: unknown key". */
cachet_rc cachet_policy_parse(const char *text, size_t len, cachet_policy **out);
cachet_rc cachet_policy_load(const char *path, cachet_policy **out);
void cachet_policy_free(cachet_policy *p);

/* The policy's "id" (the EAR appraisal-policy-id), "default" when absent. */
const char *cachet_policy_id(const cachet_policy *p);
size_t cachet_policy_rule_count(const cachet_policy *p);
/* What the policy admits, in words, with warnings about every relaxation
 * (`cachet policy check`).  Returns the number of warnings. */
size_t cachet_policy_describe(const cachet_policy *p, FILE *out);

/* What is appraised: the primary (CPU, or only) evidence's result and any
 * device (GPU) evidence verified alongside it. */
typedef struct cachet_appraisal_input {
    const cachet_verify_result *primary;
    const cachet_verify_result *const *devices; /* may be NULL */
    size_t n_devices;
    /* The caller checked that the device evidence is bound into the
     * primary evidence's report data (protocols.md §1.7: the CPU report
     * covers the exact device evidence text).  A rule's "gpu" requirement
     * fails without it. */
    bool devices_bound;
} cachet_appraisal_input;

typedef struct cachet_appraisal cachet_appraisal;

/* Evaluate every rule (all conditions of every rule, so that a denial says
 * why).  CACHET_OK with *out set whatever the decision; errors only for bad
 * arguments or allocation failure. */
cachet_rc cachet_policy_appraise(const cachet_policy *p, const cachet_appraisal_input *in,
                                 cachet_appraisal **out);
bool cachet_appraisal_admitted(const cachet_appraisal *a);
/* The first rule that admits, or NULL. */
const char *cachet_appraisal_rule(const cachet_appraisal *a);
const char *cachet_appraisal_policy_id(const cachet_appraisal *a);
/* {"id","decision":"admit"|"deny","rule":name|null,"rules":[{"name","admits",
 *  "conditions":[{"id","result":"pass"|"fail","detail",["claim","expected","actual"]}]}]}
 * (borrowed reference, valid while a lives). */
const json_t *cachet_appraisal_json(const cachet_appraisal *a);
/* The decision and, per rule, the conditions that failed. */
void cachet_appraisal_print(const cachet_appraisal *a, FILE *out);
void cachet_appraisal_free(cachet_appraisal *a);

#ifdef __cplusplus
}
#endif
#endif
