/* The resource policy (docs/kbs.md §5): which admitting appraisal rules,
 * with which EAR statuses, may read which resources.  Deny by default; an
 * unknown key anywhere is an error. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/token.h"
#include "kbs/kbs_int.h"

#define MAX_GRANTS 256
#define MAX_ITEMS 64

typedef struct grant {
    json_t *resources; /* array of glob strings */
    json_t *rules;     /* array of rule names */
    json_t *status;    /* array of statuses */
    json_t *claims;    /* object: JSON pointer -> array of allowed values */
} grant;

struct cachet_kbs_rpolicy {
    json_t *doc;
    grant *grants;
    size_t n;
};

void cachet_kbs_rpolicy_free(cachet_kbs_rpolicy *p)
{
    if (!p)
        return;
    json_decref(p->doc);
    free(p->grants);
    free(p);
}

static cachet_rc string_list(json_t *a, size_t i, const char *key, bool required)
{
    if (!a)
        return required ? kbs_err(FORMAT, "resource policy: grants[%zu].%s: required", i, key)
                        : CACHET_OK;
    if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > MAX_ITEMS)
        return kbs_err(FORMAT, "resource policy: grants[%zu].%s: a list of 1..%d strings", i, key,
                       MAX_ITEMS);
    size_t k;
    json_t *v;
    json_array_foreach(a, k, v) {
        if (!json_is_string(v) || json_string_length(v) == 0 ||
            json_string_length(v) > CACHET_KBS_MAX_PATH)
            return kbs_err(FORMAT, "resource policy: grants[%zu].%s[%zu]: not a string", i, key, k);
        if (strcmp(key, "status") == 0) {
            const char *s = json_string_value(v);
            if (strcmp(s, "affirming") && strcmp(s, "warning"))
                return kbs_err(FORMAT, "resource policy: grants[%zu].status[%zu]: affirming or "
                               "warning", i, k);
        }
    }
    return CACHET_OK;
}

/* "claims": {"/submods/cpu0/...": [allowed values], ...}: pointers (RFC
 * 6901) into the verified token claims, each with 1..64 allowed values. */
static cachet_rc check_claims(const json_t *c, size_t i)
{
    if (!json_is_object(c) || json_object_size(c) == 0 || json_object_size(c) > MAX_ITEMS)
        return kbs_err(FORMAT, "resource policy: grants[%zu].claims: an object of 1..%d pointers",
                       i, MAX_ITEMS);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)c, k, v) {
        if (k[0] != '/' || strlen(k) > 512)
            return kbs_err(FORMAT, "resource policy: grants[%zu].claims: \"%.64s\" is not a JSON "
                           "pointer", i, k);
        if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > MAX_ITEMS)
            return kbs_err(FORMAT, "resource policy: grants[%zu].claims[%.64s]: a list of 1..%d "
                           "allowed values", i, k, MAX_ITEMS);
    }
    return CACHET_OK;
}

/* RFC 6901 evaluation (objects only; "~1" is "/", "~0" is "~"). */
static const json_t *pointer_get(const json_t *doc, const char *ptr)
{
    const json_t *cur = doc;
    char tok[256];
    while (cur && *ptr == '/') {
        ptr++;
        size_t n = 0;
        while (*ptr && *ptr != '/') {
            char ch = *ptr++;
            if (ch == '~') {
                if (*ptr == '0')
                    ch = '~';
                else if (*ptr == '1')
                    ch = '/';
                else
                    return NULL;
                ptr++;
            }
            if (n + 1 >= sizeof tok)
                return NULL;
            tok[n++] = ch;
        }
        tok[n] = 0;
        cur = json_is_object(cur) ? json_object_get(cur, tok) : NULL;
    }
    return *ptr ? NULL : cur;
}

static bool claims_ok(const json_t *claims, const json_t *want, const char **bad)
{
    const char *k;
    json_t *allowed;
    json_object_foreach((json_t *)want, k, allowed) {
        const json_t *have = pointer_get(claims, k);
        bool ok = false;
        size_t i;
        json_t *v;
        json_array_foreach(allowed, i, v)
            ok = ok || (have && json_equal(have, v));
        if (!ok) {
            *bad = k;
            return false;
        }
    }
    return true;
}

cachet_rc cachet_kbs_rpolicy_parse(const char *text, size_t len, cachet_kbs_rpolicy **out)
{
    if (!out)
        return kbs_err(INVALID_ARG, "resource policy: no output");
    *out = NULL;
    cachet_kbs_rpolicy *p = calloc(1, sizeof *p);
    if (!p)
        return kbs_err(NOMEM, "resource policy: out of memory");
    if (!text || len == 0) {
        *out = p;
        return CACHET_OK;
    }
    if (len > ((size_t)1 << 20)) {
        free(p);
        return kbs_err(LIMIT, "resource policy: larger than 1 MiB");
    }
    cachet_rc rc = CACHET_OK;
    p->doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(p->doc)) {
        rc = kbs_err(FORMAT, "resource policy: not a JSON object");
        goto fail;
    }
    const char *k;
    json_t *v;
    json_object_foreach(p->doc, k, v) {
        if (strcmp(k, "version") && strcmp(k, "grants") && strcmp(k, "description")) {
            rc = kbs_err(FORMAT, "resource policy: %.32s: unknown key", k);
            goto fail;
        }
    }
    json_t *ver = json_object_get(p->doc, "version");
    if (ver && (!json_is_integer(ver) || json_integer_value(ver) != 1)) {
        rc = kbs_err(UNSUPPORTED, "resource policy: version must be 1");
        goto fail;
    }
    json_t *g = json_object_get(p->doc, "grants");
    if (!g) {
        *out = p;
        return CACHET_OK;
    }
    if (!json_is_array(g) || json_array_size(g) > MAX_GRANTS) {
        rc = kbs_err(FORMAT, "resource policy: grants: a list of at most %d", MAX_GRANTS);
        goto fail;
    }
    p->grants = calloc(json_array_size(g) + 1, sizeof *p->grants);
    if (!p->grants) {
        rc = kbs_err(NOMEM, "resource policy: out of memory");
        goto fail;
    }
    size_t i;
    json_array_foreach(g, i, v) {
        if (!json_is_object(v)) {
            rc = kbs_err(FORMAT, "resource policy: grants[%zu]: not an object", i);
            goto fail;
        }
        const char *gk;
        json_t *gv;
        json_object_foreach(v, gk, gv) {
            if (strcmp(gk, "resources") && strcmp(gk, "rules") && strcmp(gk, "status") &&
                strcmp(gk, "claims")) {
                rc = kbs_err(FORMAT, "resource policy: grants[%zu].%.32s: unknown key", i, gk);
                goto fail;
            }
        }
        grant *gr = &p->grants[i];
        gr->resources = json_object_get(v, "resources");
        gr->rules = json_object_get(v, "rules");
        gr->status = json_object_get(v, "status");
        gr->claims = json_object_get(v, "claims");
        if (gr->claims && (rc = check_claims(gr->claims, i)) != CACHET_OK)
            goto fail;
        if ((rc = string_list(gr->resources, i, "resources", true)) != CACHET_OK ||
            (rc = string_list(gr->rules, i, "rules", true)) != CACHET_OK ||
            (rc = string_list(gr->status, i, "status", false)) != CACHET_OK)
            goto fail;
        p->n++;
    }
    *out = p;
    return CACHET_OK;
fail:
    cachet_kbs_rpolicy_free(p);
    return rc;
}

static bool in_list(const json_t *a, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
        if (strcmp(json_string_value(v), s) == 0)
            return true;
    return false;
}

static bool path_matches(const json_t *a, const char *path)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
        if (fnmatch(json_string_value(v), path, FNM_PATHNAME) == 0)
            return true;
    return false;
}

/* Every submod's ear.status in the grant's list (default: affirming). */
static bool statuses_ok(const json_t *claims, const json_t *allowed, const char **bad)
{
    const json_t *subs = json_object_get(claims, "submods");
    if (!json_is_object(subs) || json_object_size(subs) == 0) {
        *bad = "(no submods)";
        return false;
    }
    const char *label;
    json_t *sm;
    json_object_foreach((json_t *)subs, label, sm) {
        const char *st = cachet_ear_submod_status(claims, label);
        bool ok = st && (allowed ? in_list(allowed, st) : strcmp(st, "affirming") == 0);
        if (!ok) {
            *bad = label;
            return false;
        }
    }
    return true;
}

bool cachet_kbs_rpolicy_allows(const cachet_kbs_rpolicy *p, const json_t *claims,
                               const char *path, char *why, size_t why_cap)
{
    char dummy[8];
    if (!why || why_cap == 0) {
        why = dummy;
        why_cap = sizeof dummy;
    }
    if (!p || !claims || !path) {
        snprintf(why, why_cap, "no policy");
        return false;
    }
    const json_t *ap = json_object_get(claims, "cachet.appraisal");
    const char *decision = json_string_value(json_object_get(ap, "decision"));
    const char *rule = json_string_value(json_object_get(ap, "rule"));
    if (!decision || strcmp(decision, "admit") != 0 || !rule) {
        snprintf(why, why_cap, "the attestation result names no admitting appraisal rule");
        return false;
    }
    bool path_seen = false;
    const char *bad = NULL, *bad_claim = NULL;
    for (size_t i = 0; i < p->n; i++) {
        const grant *g = &p->grants[i];
        if (!path_matches(g->resources, path))
            continue;
        path_seen = true;
        if (!in_list(g->rules, rule))
            continue;
        if (!statuses_ok(claims, g->status, &bad))
            continue;
        if (g->claims && !claims_ok(claims, g->claims, &bad_claim))
            continue;
        snprintf(why, why_cap, "grants[%zu] allows rule \"%s\" to read %s", i, rule, path);
        return true;
    }
    if (p->n == 0)
        snprintf(why, why_cap, "the resource policy is empty (deny all)");
    else if (!path_seen)
        snprintf(why, why_cap, "no grant covers %s", path);
    else if (bad_claim)
        snprintf(why, why_cap, "a grant covers %s for rule \"%s\" but claim %.128s has a value "
                 "it does not allow", path, rule, bad_claim);
    else if (bad)
        snprintf(why, why_cap, "a grant covers %s for rule \"%s\" but submod %s's status is not "
                 "allowed", path, rule, bad);
    else
        snprintf(why, why_cap, "no grant covering %s names rule \"%s\"", path, rule);
    return false;
}
