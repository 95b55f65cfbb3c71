/* Parsing a policy document (docs/policy.md §2) into pol_rule conditions.
 *
 * Strict on purpose: unknown keys at any level, wrong types, duplicate
 * keys, malformed hex, unknown TEE names, empty names are errors naming the
 * JSON path, so that a misspelt key can never silently relax a rule. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appraisal/policy_int.h"
#include "cachet/fileio.h"

/* "policy: rules[2].gpu.count: must be an integer >= 1" */
static cachet_rc perr(cachet_rc code, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static cachet_rc perr(cachet_rc code, const char *path, const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cachet_err(code, "policy: %s%s%s", path && *path ? path : "",
                      path && *path ? ": " : "", msg);
}

#define PATH_MAX_LEN 256

static void subpath(char *dst, const char *base, const char *key)
{
    join_names(dst, PATH_MAX_LEN, base, ".", key);
}

/* Every key of obj must be one of allowed (NULL-terminated). */
static cachet_rc only_keys(const json_t *obj, const char *path, const char *const *allowed)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, k) == 0;
        if (!ok) {
            char p[PATH_MAX_LEN];
            subpath(p, path, k);
            return perr(AP_RC(FORMAT), p, "unknown key (allowed here: see docs/policy.md)");
        }
    }
    return CACHET_OK;
}

static bool printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

static cachet_rc get_text(const json_t *v, const char *path, size_t max, bool required,
                          char **out)
{
    *out = NULL;
    if (!v) {
        if (required)
            return perr(AP_RC(FORMAT), path, "required");
        return CACHET_OK;
    }
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max ||
        strlen(json_string_value(v)) != json_string_length(v) || !printable(json_string_value(v)))
        return perr(AP_RC(FORMAT), path, "must be a non-empty string of printable characters "
                                         "(at most %zu)", max);
    *out = strdup(json_string_value(v));
    return *out ? CACHET_OK : perr(AP_RC(NOMEM), path, "out of memory");
}

/* A JSON array of 0..POLICY_MAX_VALUES elements, each checked by the caller. */
static cachet_rc get_array(const json_t *v, const char *path, const json_t **out)
{
    *out = NULL; /* defined on every path */
    if (!json_is_array(v))
        return perr(AP_RC(FORMAT), path, "must be an array (of allowed values)");
    if (json_array_size(v) > POLICY_MAX_VALUES)
        return perr(AP_RC(LIMIT), path, "more than %d values", POLICY_MAX_VALUES);
    *out = v;
    return CACHET_OK;
}

static cachet_rc add_cond(pol_conds *c, const char *path, const pol_cond *proto)
{
    if (c->n >= POLICY_MAX_CONDS)
        return perr(AP_RC(LIMIT), path, "more than %d conditions in one rule", POLICY_MAX_CONDS);
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        pol_cond *v = realloc(c->v, cap * sizeof *v);
        if (!v)
            return perr(AP_RC(NOMEM), path, "out of memory");
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = *proto;
    return CACHET_OK;
}

/* A condition over candidate claim paths; takes ownership of allowed. */
static cachet_rc make_cond(pol_conds *c, const char *path, const char *id, pol_op op,
                           const char *const *claim_paths, size_t n_paths, json_t *allowed,
                           int64_t min, bool per_gpu, bool reference)
{
    pol_cond k;
    memset(&k, 0, sizeof k);
    join_names(k.id, sizeof k.id, id, "", "");
    k.op = op;
    k.allowed = allowed;
    k.min = min;
    k.per_gpu = per_gpu;
    k.reference = reference;
    for (size_t i = 0; i < n_paths && i < POLICY_MAX_PATHS; i++) {
        k.paths[i] = strdup(claim_paths[i]);
        if (!k.paths[i]) {
            for (size_t j = 0; j < i; j++)
                free(k.paths[j]);
            json_decref(allowed);
            return perr(AP_RC(NOMEM), path, "out of memory");
        }
        k.n_paths++;
    }
    cachet_rc rc = add_cond(c, path, &k);
    if (rc != CACHET_OK) {
        for (size_t j = 0; j < k.n_paths; j++)
            free(k.paths[j]);
        json_decref(allowed);
    }
    return rc;
}

/* An any-of list of hex strings → OP_HEX_ANY over the given claim paths. */
static cachet_rc hex_list(pol_conds *c, const json_t *v, const char *path, const char *id,
                          const char *const *claim_paths, size_t n_paths, bool per_gpu)
{
    const json_t *arr;
    cachet_rc rc = get_array(v, path, &arr);
    if (rc != CACHET_OK)
        return rc;
    json_t *allowed = json_array();
    if (!allowed)
        return perr(AP_RC(NOMEM), path, "out of memory");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *e = json_array_get(arr, i);
        char *h = json_is_string(e) ? hex_normalize(json_string_value(e)) : NULL;
        if (!h || json_array_append_new(allowed, json_string(h))) {
            free(h);
            json_decref(allowed);
            return perr(AP_RC(FORMAT), path, "value %zu is not an even-length hex string", i);
        }
        free(h);
    }
    return make_cond(c, path, id, OP_HEX_ANY, claim_paths, n_paths, allowed, 0, per_gpu, true);
}

/* An any-of list of strings (versions, statuses) → OP_VALUE_ANY. */
static cachet_rc string_list(pol_conds *c, const json_t *v, const char *path, const char *id,
                             const char *claim_path, bool per_gpu, bool reference)
{
    const json_t *arr;
    cachet_rc rc = get_array(v, path, &arr);
    if (rc != CACHET_OK)
        return rc;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *e = json_array_get(arr, i);
        if (!json_is_string(e) || json_string_length(e) == 0 ||
            json_string_length(e) > POLICY_MAX_TEXT)
            return perr(AP_RC(FORMAT), path, "value %zu is not a non-empty string", i);
    }
    json_t *allowed = json_deep_copy(arr);
    if (!allowed)
        return perr(AP_RC(NOMEM), path, "out of memory");
    return make_cond(c, path, id, OP_VALUE_ANY, &claim_path, 1, allowed, 0, per_gpu, reference);
}

/* "claims": {"path": [values...]} → OP_VALUE_ANY (scalars only). */
static cachet_rc generic_claims(pol_conds *c, const json_t *v, const char *path, bool per_gpu)
{
    if (!json_is_object(v))
        return perr(AP_RC(FORMAT), path, "must be an object of claim path → allowed values");
    const char *k;
    json_t *vals;
    json_object_foreach((json_t *)v, k, vals) {
        char p[PATH_MAX_LEN], id[POLICY_MAX_ID];
        subpath(p, path, k);
        if (!claim_path_valid(k))
            return perr(AP_RC(FORMAT), p, "not a claim path ([a-z0-9_-] segments joined by '.')");
        const json_t *arr;
        cachet_rc rc = get_array(vals, p, &arr);
        if (rc != CACHET_OK)
            return rc;
        for (size_t i = 0; i < json_array_size(arr); i++) {
            const json_t *e = json_array_get(arr, i);
            if (!(json_is_string(e) || json_is_integer(e) || json_is_boolean(e)))
                return perr(AP_RC(FORMAT), p, "value %zu must be a string, integer or boolean",
                            i);
        }
        json_t *allowed = json_deep_copy(arr);
        if (!allowed)
            return perr(AP_RC(NOMEM), p, "out of memory");
        join_names(id, sizeof id, "claims", ".", k);
        const char *cp = k;
        if ((rc = make_cond(c, p, id, OP_VALUE_ANY, &cp, 1, allowed, 0, per_gpu, true)) !=
            CACHET_OK)
            return rc;
    }
    return CACHET_OK;
}

/* "min_svn": {"path": integer} → OP_MIN_INT. */
static cachet_rc minimums(pol_conds *c, const json_t *v, const char *path, const char *prefix,
                          const char *const *allowed_keys, const char *claim_prefix, bool per_gpu)
{
    if (!json_is_object(v))
        return perr(AP_RC(FORMAT), path, "must be an object of name → minimum integer");
    if (allowed_keys) {
        cachet_rc rc = only_keys(v, path, allowed_keys);
        if (rc != CACHET_OK)
            return rc;
    }
    const char *k;
    json_t *m;
    json_object_foreach((json_t *)v, k, m) {
        char p[PATH_MAX_LEN], id[POLICY_MAX_ID], claim[PATH_MAX_LEN];
        subpath(p, path, k);
        if (!allowed_keys && !claim_path_valid(k))
            return perr(AP_RC(FORMAT), p, "not a claim path ([a-z0-9_-] segments joined by '.')");
        if (!json_is_integer(m) || json_integer_value(m) < 0)
            return perr(AP_RC(FORMAT), p, "must be a non-negative integer");
        join_names(id, sizeof id, prefix, ".", k);
        join_names(claim, sizeof claim, claim_prefix, "", k);
        const char *cp = claim;
        cachet_rc rc = make_cond(c, p, id, OP_MIN_INT, &cp, 1, NULL, json_integer_value(m),
                                 per_gpu, false);
        if (rc != CACHET_OK)
            return rc;
    }
    return CACHET_OK;
}

/* "flags_off": ["debug", "policy.migrate_ma"] → OP_FALSE each. */
static cachet_rc flags_off(pol_conds *c, const json_t *v, const char *path, bool per_gpu)
{
    const json_t *arr;
    cachet_rc rc = get_array(v, path, &arr);
    if (rc != CACHET_OK)
        return rc;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *e = json_array_get(arr, i);
        if (!json_is_string(e) || !claim_path_valid(json_string_value(e)))
            return perr(AP_RC(FORMAT), path, "value %zu is not a claim path", i);
        char id[POLICY_MAX_ID];
        join_names(id, sizeof id, "flags_off", ".", json_string_value(e));
        const char *cp = json_string_value(e);
        if ((rc = make_cond(c, path, id, OP_FALSE, &cp, 1, NULL, 0, per_gpu, false)) !=
            CACHET_OK)
            return rc;
    }
    return CACHET_OK;
}

/* "rtmr": {"1": [hex...]} (TDX RTMR0..3). */
static cachet_rc rtmrs(pol_conds *c, const json_t *v, const char *path)
{
    static const char *const idx[] = {"0", "1", "2", "3", NULL};
    if (!json_is_object(v))
        return perr(AP_RC(FORMAT), path, "must be an object of RTMR index (0..3) → hex values");
    cachet_rc rc = only_keys(v, path, idx);
    const char *k;
    json_t *vals;
    json_object_foreach((json_t *)v, k, vals) {
        if (rc != CACHET_OK)
            break;
        char p[PATH_MAX_LEN], id[POLICY_MAX_ID], claim[16];
        subpath(p, path, k);
        join_names(id, sizeof id, "rtmr", ".", k);
        join_names(claim, sizeof claim, "rtmr", "", k);
        const char *cp = claim;
        rc = hex_list(c, vals, p, id, &cp, 1, false);
    }
    return rc;
}

/* "pcr": {"11": [hex...]}, bank from "pcr_bank" (docs/policy.md §3.4). */
static cachet_rc pcrs(pol_conds *c, const json_t *v, const json_t *bank_v, const char *path,
                      const char *bank_path)
{
    static const char *const banks[] = {"sha1", "sha256", "sha384", "sha512", NULL};
    const char *bank = NULL;
    if (bank_v) {
        bool ok = json_is_string(bank_v);
        for (const char *const *b = banks; ok && *b; b++)
            if (strcmp(*b, json_string_value(bank_v)) == 0)
                bank = *b;
        if (!bank)
            return perr(AP_RC(FORMAT), bank_path, "must be one of sha1, sha256, sha384, sha512");
    }
    if (!json_is_object(v))
        return perr(AP_RC(FORMAT), path, "must be an object of PCR index (0..23) → hex values");
    const char *k;
    json_t *vals;
    json_object_foreach((json_t *)v, k, vals) {
        char p[PATH_MAX_LEN], id[POLICY_MAX_ID];
        subpath(p, path, k);
        char *end = NULL;
        long n = strtol(k, &end, 10);
        if (!*k || *end || n < 0 || n > 23 || (k[0] == '0' && k[1]))
            return perr(AP_RC(FORMAT), p, "PCR index must be 0..23 (no leading zeros)");
        char c1[32], c2[32], c3[32], c4[32];
        const char *cand[4];
        size_t nc = 0;
        if (bank) {
            snprintf(c1, sizeof c1, "pcrs.%s.pcr%02ld", bank, n);
            cand[nc++] = c1;
            if (strcmp(bank, "sha256") == 0) { /* Azure vTPM: tpm.pcrNN is SHA-256 */
                snprintf(c2, sizeof c2, "tpm.pcr%02ld", n);
                cand[nc++] = c2;
            }
        } else {
            snprintf(c1, sizeof c1, "pcr%02ld", n); /* TPM: the preferred bank */
            snprintf(c2, sizeof c2, "pcr%ld", n);   /* Nitro */
            snprintf(c3, sizeof c3, "tpm.pcr%02ld", n);
            snprintf(c4, sizeof c4, "pcrs.%ld", n);
            cand[nc++] = c1;
            if (n < 10)
                cand[nc++] = c2;
            cand[nc++] = c3;
            cand[nc++] = c4;
        }
        snprintf(id, sizeof id, "pcr.%ld", n);
        cachet_rc rc = hex_list(c, vals, p, id, cand, nc, false);
        if (rc != CACHET_OK)
            return rc;
    }
    return CACHET_OK;
}

static cachet_rc status_list(const json_t *v, const char *path, unsigned *mask)
{
    *mask = STATUS_BIT(CACHET_EV_AFFIRMING); /* default: only affirming */
    if (!v)
        return CACHET_OK;
    const json_t *arr;
    cachet_rc rc = get_array(v, path, &arr);
    if (rc != CACHET_OK)
        return rc;
    if (json_array_size(arr) == 0)
        return perr(AP_RC(FORMAT), path, "empty: list the statuses admitted (\"affirming\", "
                                         "\"warning\")");
    *mask = 0;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *s = json_string_value(json_array_get(arr, i));
        if (s && strcmp(s, "affirming") == 0)
            *mask |= STATUS_BIT(CACHET_EV_AFFIRMING);
        else if (s && strcmp(s, "warning") == 0)
            *mask |= STATUS_BIT(CACHET_EV_WARNING);
        else if (s && strcmp(s, "contraindicated") == 0)
            return perr(AP_RC(POLICY), path, "\"contraindicated\" evidence can never be admitted");
        else
            return perr(AP_RC(FORMAT), path, "value %zu must be \"affirming\" or \"warning\"", i);
    }
    return CACHET_OK;
}

static cachet_rc freshness(const json_t *v, const char *path, bool *required)
{
    *required = true;
    if (!v)
        return CACHET_OK;
    const char *s = json_string_value(v);
    if (s && strcmp(s, "required") == 0)
        return CACHET_OK;
    if (s && strcmp(s, "optional") == 0) {
        *required = false;
        return CACHET_OK;
    }
    return perr(AP_RC(FORMAT), path, "must be \"required\" (the default) or \"optional\"");
}

static cachet_rc tee_list(const json_t *v, const char *path, pol_rule *r)
{
    const json_t *arr;
    if (!v)
        return perr(AP_RC(FORMAT), path, "required: the TEE families this rule admits");
    cachet_rc rc = get_array(v, path, &arr);
    if (rc != CACHET_OK)
        return rc;
    if (json_array_size(arr) == 0)
        return perr(AP_RC(FORMAT), path, "empty: name at least one TEE family");
    r->tees = calloc(json_array_size(arr), sizeof *r->tees);
    if (!r->tees)
        return perr(AP_RC(NOMEM), path, "out of memory");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *s = json_string_value(json_array_get(arr, i));
        const cachet_evidence_ops *ops = s ? cachet_evidence_find(s) : NULL;
        if (!ops)
            return perr(AP_RC(FORMAT), path, "value %zu (%s) is not an evidence family cachet "
                                             "knows (see 'cachet verify --help')",
                        i, s ? s : "not a string");
        for (size_t j = 0; j < r->n_tees; j++)
            if (strcmp(r->tees[j], ops->name) == 0)
                return perr(AP_RC(FORMAT), path, "\"%s\" is listed twice", ops->name);
        r->tees[r->n_tees++] = ops->name;
    }
    return CACHET_OK;
}

static const char *const gpu_keys[] = {
    "count", "status", "freshness", "measurement", "driver_version", "vbios_version",
    "cc_mode", "flags_off", "claims", "min_svn", NULL,
};

/* The per-GPU conditions shared by a rule and its "gpu" block. */
static cachet_rc gpu_conditions(pol_conds *c, const json_t *obj, const char *path, bool in_block)
{
    char p[PATH_MAX_LEN];
    const json_t *v;
    cachet_rc rc = CACHET_OK;
    if ((v = json_object_get(obj, "driver_version"))) {
        subpath(p, path, "driver_version");
        rc = string_list(c, v, p, in_block ? "gpu.driver_version" : "driver_version",
                         "driver_version", true, true);
    }
    if (rc == CACHET_OK && (v = json_object_get(obj, "vbios_version"))) {
        subpath(p, path, "vbios_version");
        rc = string_list(c, v, p, in_block ? "gpu.vbios_version" : "vbios_version",
                         "vbios_version", true, true);
    }
    /* A GPU must be in confidential-computing mode unless cc_mode relaxes it. */
    subpath(p, path, "cc_mode");
    if (rc == CACHET_OK && (v = json_object_get(obj, "cc_mode"))) {
        rc = string_list(c, v, p, in_block ? "gpu.cc_mode" : "cc_mode", "cc_mode", true, false);
    } else if (rc == CACHET_OK) {
        json_t *on = json_pack("[s]", "on");
        const char *cp = "cc_mode";
        rc = on ? make_cond(c, p, in_block ? "gpu.cc_mode" : "cc_mode", OP_VALUE_ANY, &cp, 1, on,
                            0, true, false)
                : perr(AP_RC(NOMEM), p, "out of memory");
        /* the default applies to GPUs only, never to CPU evidence */
        if (rc == CACHET_OK && !in_block)
            c->v[c->n - 1].gpu_only = true;
    }
    return rc;
}

static cachet_rc parse_gpu(const json_t *v, const char *path, pol_gpu *g)
{
    if (!json_is_object(v))
        return perr(AP_RC(FORMAT), path, "must be an object (the GPU requirement)");
    cachet_rc rc = only_keys(v, path, gpu_keys);
    if (rc != CACHET_OK)
        return rc;
    g->present = true;
    g->min_count = 1;
    char p[PATH_MAX_LEN];
    const json_t *x;
    if ((x = json_object_get(v, "count"))) {
        subpath(p, path, "count");
        if (!json_is_integer(x) || json_integer_value(x) < 1 || json_integer_value(x) > 64)
            return perr(AP_RC(FORMAT), p, "must be an integer 1..64 (the least number of GPUs)");
        g->min_count = json_integer_value(x);
    }
    subpath(p, path, "status");
    if ((rc = status_list(json_object_get(v, "status"), p, &g->status_mask)) != CACHET_OK)
        return rc;
    subpath(p, path, "freshness");
    if ((rc = freshness(json_object_get(v, "freshness"), p, &g->freshness_required)) !=
        CACHET_OK)
        return rc;
    if ((x = json_object_get(v, "measurement"))) {
        static const char *const m[] = {"measurement"};
        subpath(p, path, "measurement");
        if ((rc = hex_list(&g->conds, x, p, "gpu.measurement", m, 1, true)) != CACHET_OK)
            return rc;
    }
    if ((rc = gpu_conditions(&g->conds, v, path, true)) != CACHET_OK)
        return rc;
    if ((x = json_object_get(v, "flags_off"))) {
        subpath(p, path, "flags_off");
        if ((rc = flags_off(&g->conds, x, p, true)) != CACHET_OK)
            return rc;
    }
    if ((x = json_object_get(v, "claims"))) {
        subpath(p, path, "claims");
        if ((rc = generic_claims(&g->conds, x, p, true)) != CACHET_OK)
            return rc;
    }
    if ((x = json_object_get(v, "min_svn"))) {
        subpath(p, path, "min_svn");
        if ((rc = minimums(&g->conds, x, p, "gpu.min_svn", NULL, "", true)) != CACHET_OK)
            return rc;
    }
    return CACHET_OK;
}

static const char *const rule_keys[] = {
    "name", "description", "tee", "status", "freshness", "any_workload", "measurement",
    "host_data", "rtmr", "pcr", "pcr_bank", "min_tcb", "min_svn", "tcb_status", "flags_off",
    "claims", "driver_version", "vbios_version", "cc_mode", "gpu", NULL,
};

static const char *const tcb_components[] = {
    "bootloader", "tee", "snp", "microcode", "fmc", NULL,
};

static cachet_rc parse_rule(const json_t *v, const char *path, pol_rule *r)
{
    if (!json_is_object(v))
        return perr(AP_RC(FORMAT), path, "a rule must be an object");
    cachet_rc rc = only_keys(v, path, rule_keys);
    char p[PATH_MAX_LEN];
    const json_t *x;
    if (rc != CACHET_OK)
        return rc;
    subpath(p, path, "name");
    if ((rc = get_text(json_object_get(v, "name"), p, POLICY_MAX_NAME, true, &r->name)))
        return rc;
    subpath(p, path, "description");
    if ((rc = get_text(json_object_get(v, "description"), p, POLICY_MAX_TEXT, false,
                       &r->description)))
        return rc;
    subpath(p, path, "tee");
    if ((rc = tee_list(json_object_get(v, "tee"), p, r)))
        return rc;
    subpath(p, path, "status");
    if ((rc = status_list(json_object_get(v, "status"), p, &r->status_mask)))
        return rc;
    subpath(p, path, "freshness");
    if ((rc = freshness(json_object_get(v, "freshness"), p, &r->freshness_required)))
        return rc;
    if ((x = json_object_get(v, "any_workload"))) {
        subpath(p, path, "any_workload");
        if (!json_is_boolean(x))
            return perr(AP_RC(FORMAT), p, "must be true or false");
        r->any_workload = json_is_true(x);
    }
    if ((x = json_object_get(v, "measurement"))) {
        static const char *const m[] = {"measurement"};
        subpath(p, path, "measurement");
        if ((rc = hex_list(&r->conds, x, p, "measurement", m, 1, false)))
            return rc;
    }
    if ((x = json_object_get(v, "host_data"))) {
        static const char *const m[] = {"host_data"};
        subpath(p, path, "host_data");
        if ((rc = hex_list(&r->conds, x, p, "host_data", m, 1, false)))
            return rc;
    }
    if ((x = json_object_get(v, "rtmr"))) {
        subpath(p, path, "rtmr");
        if ((rc = rtmrs(&r->conds, x, p)))
            return rc;
    }
    if ((x = json_object_get(v, "pcr")) || json_object_get(v, "pcr_bank")) {
        char bp[PATH_MAX_LEN];
        subpath(p, path, "pcr");
        subpath(bp, path, "pcr_bank");
        if (!x)
            return perr(AP_RC(FORMAT), bp, "given without pcr values");
        if ((rc = pcrs(&r->conds, x, json_object_get(v, "pcr_bank"), p, bp)))
            return rc;
    }
    if ((x = json_object_get(v, "min_tcb"))) {
        subpath(p, path, "min_tcb");
        if ((rc = minimums(&r->conds, x, p, "min_tcb", tcb_components, "reported_tcb.", false)))
            return rc;
    }
    if ((x = json_object_get(v, "min_svn"))) {
        subpath(p, path, "min_svn");
        if ((rc = minimums(&r->conds, x, p, "min_svn", NULL, "", false)))
            return rc;
    }
    if ((x = json_object_get(v, "tcb_status"))) {
        subpath(p, path, "tcb_status");
        if ((rc = string_list(&r->conds, x, p, "tcb_status", "tcb_status", false, false)))
            return rc;
    }
    if ((x = json_object_get(v, "flags_off"))) {
        subpath(p, path, "flags_off");
        if ((rc = flags_off(&r->conds, x, p, false)))
            return rc;
    }
    if ((x = json_object_get(v, "claims"))) {
        subpath(p, path, "claims");
        if ((rc = generic_claims(&r->conds, x, p, false)))
            return rc;
    }
    if ((rc = gpu_conditions(&r->conds, v, path, false)))
        return rc;
    if ((x = json_object_get(v, "gpu"))) {
        subpath(p, path, "gpu");
        if ((rc = parse_gpu(x, p, &r->gpu)))
            return rc;
    }
    bool names_workload = false;
    for (size_t i = 0; i < r->conds.n; i++)
        names_workload |= r->conds.v[i].reference;
    if (!names_workload && !r->any_workload)
        return perr(AP_RC(POLICY), path,
                    "rule \"%s\" names no reference value (measurement, host_data, rtmr, pcr, "
                    "claims, driver_version, vbios_version), so it would admit any workload; "
                    "say \"any_workload\": true if that is what you mean",
                    r->name);
    return CACHET_OK;
}

static void rule_free(pol_rule *r)
{
    free(r->name);
    free(r->description);
    free(r->tees);
    pol_conds_free(&r->conds);
    pol_conds_free(&r->gpu.conds);
}

void cachet_policy_free(cachet_policy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_rules; i++)
        rule_free(&p->rules[i]);
    free(p->rules);
    free(p->id);
    free(p->description);
    free(p);
}

static const char *const top_keys[] = {"version", "id", "description", "rules", NULL};

static cachet_rc parse_document(const json_t *doc, cachet_policy *p)
{
    if (!json_is_object(doc))
        return perr(AP_RC(FORMAT), "", "the policy must be a JSON object");
    cachet_rc rc = only_keys(doc, "", top_keys);
    if (rc != CACHET_OK)
        return rc;
    const json_t *ver = json_object_get(doc, "version");
    if (ver && (!json_is_integer(ver) || json_integer_value(ver) != POLICY_VERSION))
        return perr(AP_RC(UNSUPPORTED), "version", "must be %d", POLICY_VERSION);
    if ((rc = get_text(json_object_get(doc, "id"), "id", POLICY_MAX_NAME, false, &p->id)))
        return rc;
    if ((rc = get_text(json_object_get(doc, "description"), "description", POLICY_MAX_TEXT,
                       false, &p->description)))
        return rc;
    const json_t *rules = json_object_get(doc, "rules");
    if (!rules)
        return CACHET_OK; /* no rules: admits nothing */
    if (!json_is_array(rules))
        return perr(AP_RC(FORMAT), "rules", "must be an array of rules");
    if (json_array_size(rules) > POLICY_MAX_RULES)
        return perr(AP_RC(LIMIT), "rules", "more than %d rules", POLICY_MAX_RULES);
    size_t n = json_array_size(rules);
    p->rules = n ? calloc(n, sizeof *p->rules) : NULL;
    if (n && !p->rules)
        return perr(AP_RC(NOMEM), "rules", "out of memory");
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX_LEN];
        snprintf(path, sizeof path, "rules[%zu]", i);
        p->n_rules = i + 1;
        if ((rc = parse_rule(json_array_get(rules, i), path, &p->rules[i])))
            return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp(p->rules[j].name, p->rules[i].name) == 0)
                return perr(AP_RC(FORMAT), path, "rule name \"%s\" is used twice",
                            p->rules[i].name);
    }
    return CACHET_OK;
}

cachet_rc cachet_policy_parse(const char *text, size_t len, cachet_policy **out)
{
    if (!out || (!text && len))
        return cachet_err(AP_RC(INVALID_ARG), "policy: NULL argument");
    *out = NULL;
    if (len > CACHET_POLICY_MAX_FILE)
        return cachet_err(AP_RC(LIMIT), "policy: %zu bytes is over the %zu-byte limit", len,
                          CACHET_POLICY_MAX_FILE);
    json_error_t err;
    json_t *doc = json_loadb(text ? text : "", len, JSON_REJECT_DUPLICATES, &err);
    if (!doc)
        return cachet_err(AP_RC(FORMAT), "policy: not valid JSON (line %d, column %d): %s",
                          err.line, err.column, err.text);
    cachet_policy *p = calloc(1, sizeof *p);
    if (!p) {
        json_decref(doc);
        return cachet_err(AP_RC(NOMEM), "policy: out of memory");
    }
    cachet_rc rc = parse_document(doc, p);
    json_decref(doc);
    if (rc != CACHET_OK) {
        cachet_policy_free(p);
        return rc;
    }
    *out = p;
    return CACHET_OK;
}

cachet_rc cachet_policy_load(const char *path, cachet_policy **out)
{
    if (!path || !out)
        return cachet_err(AP_RC(INVALID_ARG), "policy: NULL argument");
    *out = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    cachet_rc rc = cachet_file_read(path, CACHET_POLICY_MAX_FILE, &buf, &len);
    if (rc != CACHET_OK)
        return rc;
    rc = cachet_policy_parse((const char *)buf, len, out);
    free(buf);
    return rc;
}

const char *cachet_policy_id(const cachet_policy *p)
{
    return p && p->id ? p->id : "default";
}

size_t cachet_policy_rule_count(const cachet_policy *p) { return p ? p->n_rules : 0; }
