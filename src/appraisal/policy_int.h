/* The compiled form of a policy (internal to src/appraisal).
 *
 * Every policy key becomes one or more primitive conditions over the
 * verifier's claims: "any of these hex values", "any of these JSON
 * values", "at least this integer", "present and false".  The built-in
 * conditions (TEE family, verified, status, freshness, debug off) are
 * fields of the rule. */
#ifndef CACHET_APPRAISAL_POLICY_INT_H
#define CACHET_APPRAISAL_POLICY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cachet/appraisal.h"

#define AP_RC(code) CACHET_RC(CACHET_SUB_APPRAISAL, CACHET_E_##code)

#define POLICY_VERSION 1
#define POLICY_MAX_RULES 256
#define POLICY_MAX_VALUES 1024   /* per any-of list */
#define POLICY_MAX_NAME 128
#define POLICY_MAX_TEXT 1024     /* descriptions */
#define POLICY_MAX_PATH 128      /* a claim path */
#define POLICY_MAX_CONDS 256     /* per rule */
#define POLICY_MAX_PATHS 5       /* candidate claim paths of one condition */
#define POLICY_MAX_ID 96

typedef enum pol_op {
    OP_HEX_ANY,   /* the claim is a hex string equal (ignoring case) to one of `allowed` */
    OP_VALUE_ANY, /* the claim equals (as JSON) one of `allowed` */
    OP_MIN_INT,   /* the claim is an integer >= min */
    OP_FALSE,     /* the claim is present and false */
} pol_op;

typedef struct pol_cond {
    char id[POLICY_MAX_ID];          /* shown in results: "measurement", "rtmr.1", ... */
    pol_op op;
    char *paths[POLICY_MAX_PATHS];   /* candidate claim paths; the first present is used */
    size_t n_paths;
    json_t *allowed;                 /* array, for the *_ANY ops (hex lower-cased) */
    int64_t min;
    bool per_gpu;                    /* evaluated on each GPU entry of a "gpus" claim */
    bool gpu_only;                   /* not applicable to evidence without GPU entries */
    bool reference;                  /* a reference value (counts towards "names a workload") */
} pol_cond;

typedef struct pol_conds {
    pol_cond *v;
    size_t n, cap;
} pol_conds;

/* Bit i set: cachet_ev_status i is accepted. */
#define STATUS_BIT(s) (1u << (unsigned)(s))

typedef struct pol_gpu {
    bool present;
    int64_t min_count;
    unsigned status_mask;
    bool freshness_required;
    pol_conds conds;
} pol_gpu;

typedef struct pol_rule {
    char *name;
    char *description;
    const char **tees;          /* canonical family names (static strings of the registry) */
    size_t n_tees;
    unsigned status_mask;
    bool freshness_required;
    bool any_workload;          /* explicit: no reference values needed */
    pol_conds conds;
    pol_gpu gpu;
} pol_rule;

struct cachet_policy {
    char *id;
    char *description;
    pol_rule *rules;
    size_t n_rules;
};

void pol_conds_free(pol_conds *c);

/* ---- claims.c ---------------------------------------------------------- */

/* The value at a dotted path ("policy.migrate_ma") in a claims object, or NULL. */
const json_t *claims_lookup(const json_t *claims, const char *path);
/* The first present candidate path; *used receives it (or NULL). */
const json_t *claims_lookup_any(const json_t *claims, char *const *paths, size_t n,
                                const char **used);
/* A claim path is [a-z0-9_-] segments joined by '.', 1..POLICY_MAX_PATH chars. */
bool claim_path_valid(const char *path);
/* Even-length non-empty hex; lower-cases into a malloc'd string. */
char *hex_normalize(const char *s);
/* dst = a + sep + b (sep only when both are non-empty), truncated to cap-1
 * characters: ids and paths are bounded by the parser's limits anyway. */
void join_names(char *dst, size_t cap, const char *a, const char *sep, const char *b);
/* The GPU entries of a claims object: the members of its "gpus" object, or
 * NULL when it has none. */
const json_t *claims_gpus(const json_t *claims);

#endif
