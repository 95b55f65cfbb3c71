/* TCB info (v2/v3) and QE identity (v2) from their signed JSON text (Intel
 * PCS API v4; evidence-formats §2.6).  Only the exact signed bytes are ever
 * handed here, so everything interpreted is covered by the signature.
 * Strict: every field the evaluation relies on must be present with the
 * right type and size; unknown status strings are an error (fail closed). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cachet/clock.h"
#include "evidence/tdx/tdx.h"

#define MAX_LEVELS 1024
#define MAX_IDENTITIES 64
#define MAX_ADVISORIES 512

/* ---- field helpers -------------------------------------------------------- */

static cachet_rc bad(const char *what, const char *key, const char *why)
{
    return cachet_err(TDX_RC(FORMAT), "%s: \"%s\" %s", what, key, why);
}

static cachet_rc get_str(const json_t *o, const char *key, const char *what, const char **out)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        return bad(what, key, v ? "is not a string" : "is missing");
    *out = json_string_value(v);
    return CACHET_OK;
}

static cachet_rc get_int(const json_t *o, const char *key, const char *what, int64_t min,
                         int64_t max, int64_t *out)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        return bad(what, key, v ? "is not an integer" : "is missing");
    json_int_t x = json_integer_value(v);
    if (x < min || x > max)
        return bad(what, key, "is out of range");
    *out = (int64_t)x;
    return CACHET_OK;
}

static cachet_rc get_hex(const json_t *o, const char *key, const char *what, uint8_t *out, size_t n)
{
    const char *s = NULL;
    cachet_rc rc = get_str(o, key, what, &s);
    if (rc != CACHET_OK)
        return rc;
    if (tdx_hex_fixed(s, out, n) != CACHET_OK)
        return cachet_err(TDX_RC(FORMAT), "%s: \"%s\" is not %zu hex bytes", what, key, n);
    return CACHET_OK;
}

static cachet_rc get_time(const json_t *o, const char *key, const char *what, int64_t *out)
{
    const char *s = NULL;
    cachet_rc rc = get_str(o, key, what, &s);
    if (rc != CACHET_OK)
        return rc;
    if (cachet_time_parse_rfc3339(s, out) != CACHET_OK)
        return bad(what, key, "is not an RFC 3339 time");
    return CACHET_OK;
}

static cachet_rc get_status(const json_t *o, const char *what, tdx_tcb_status *out)
{
    const char *s = NULL;
    cachet_rc rc = get_str(o, "tcbStatus", what, &s);
    if (rc != CACHET_OK)
        return rc;
    *out = tdx_tcb_status_parse(s);
    if (*out == TDX_TCB_UNKNOWN)
        return cachet_err(TDX_RC(FORMAT), "%s: unknown tcbStatus \"%.40s\"", what, s);
    return CACHET_OK;
}

static void advisories_clear(tdx_advisories *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->ids[i]);
    free(a->ids);
    a->ids = NULL;
    a->n = 0;
}

static cachet_rc get_advisories(const json_t *o, const char *what, tdx_advisories *out)
{
    memset(out, 0, sizeof *out);
    const json_t *arr = json_object_get(o, "advisoryIDs");
    if (!arr)
        return CACHET_OK;
    if (!json_is_array(arr) || json_array_size(arr) > MAX_ADVISORIES)
        return bad(what, "advisoryIDs", "is not a (bounded) array");
    size_t n = json_array_size(arr);
    if (!n)
        return CACHET_OK;
    out->ids = calloc(n, sizeof *out->ids);
    if (!out->ids)
        return cachet_err(TDX_RC(NOMEM), "%s: out of memory", what);
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(arr, i);
        if (!json_is_string(v) || json_string_length(v) > 64) {
            advisories_clear(out);
            return bad(what, "advisoryIDs", "holds a non-string");
        }
        out->ids[i] = strdup(json_string_value(v));
        if (!out->ids[i]) {
            advisories_clear(out);
            return cachet_err(TDX_RC(NOMEM), "%s: out of memory", what);
        }
        out->n++;
    }
    return CACHET_OK;
}

static const json_t *get_array(const json_t *o, const char *key, size_t max)
{
    const json_t *v = json_object_get(o, key);
    return json_is_array(v) && json_array_size(v) <= max ? v : NULL;
}

/* ---- TCB levels --------------------------------------------------------------- */

int tdx_tcb_level_cmp(const tdx_tcb_level *a, const tdx_tcb_level *b, bool tdx)
{
    int c = memcmp(a->sgx, b->sgx, sizeof a->sgx);
    if (c)
        return c;
    if (tdx && a->pcesvn == b->pcesvn)
        return memcmp(a->tdx, b->tdx, sizeof a->tdx);
    return (int)a->pcesvn - (int)b->pcesvn;
}

static cachet_rc components(const json_t *tcb, const char *key, uint8_t out[16], const char *what)
{
    const json_t *arr = json_object_get(tcb, key);
    if (!json_is_array(arr))
        return bad(what, key, "is missing or not an array");
    if (json_array_size(arr) != 16)
        return cachet_err(TDX_RC(FORMAT), "%s: \"%s\" has %zu components, expected 16", what, key,
                          json_array_size(arr));
    for (size_t i = 0; i < 16; i++) {
        int64_t svn = 0;
        cachet_rc rc = get_int(json_array_get(arr, i), "svn", what, 0, 255, &svn);
        if (rc != CACHET_OK)
            return rc;
        out[i] = (uint8_t)svn;
    }
    return CACHET_OK;
}

static cachet_rc parse_level(const json_t *lv, const tdx_tcb_info *t, tdx_tcb_level *out)
{
    const char *what = "TCB info level";
    memset(out, 0, sizeof *out);
    const json_t *tcb = json_object_get(lv, "tcb");
    if (!json_is_object(tcb))
        return bad(what, "tcb", "is missing or not an object");
    cachet_rc rc;
    int64_t v = 0;
    if (t->version >= 3) {
        if ((rc = components(tcb, "sgxtcbcomponents", out->sgx, what)) != CACHET_OK)
            return rc;
        if (t->is_tdx && (rc = components(tcb, "tdxtcbcomponents", out->tdx, what)) != CACHET_OK)
            return rc;
    } else {
        for (int i = 0; i < 16; i++) {
            char key[24];
            snprintf(key, sizeof key, "sgxtcbcomp%02dsvn", i + 1);
            if ((rc = get_int(tcb, key, what, 0, 255, &v)) != CACHET_OK)
                return rc;
            out->sgx[i] = (uint8_t)v;
        }
    }
    if ((rc = get_int(tcb, "pcesvn", what, 0, 65535, &v)) != CACHET_OK)
        return rc;
    out->pcesvn = (uint16_t)v;
    if ((rc = get_time(lv, "tcbDate", what, &out->tcb_date)) != CACHET_OK ||
        (rc = get_status(lv, what, &out->status)) != CACHET_OK)
        return rc;
    return get_advisories(lv, what, &out->adv);
}

static cachet_rc parse_module_identity(const json_t *o, tdx_module_identity *out)
{
    const char *what = "TCB info tdxModuleIdentities";
    memset(out, 0, sizeof *out);
    const char *id = NULL;
    cachet_rc rc = get_str(o, "id", what, &id);
    if (rc != CACHET_OK)
        return rc;
    if (strlen(id) >= sizeof out->id)
        return bad(what, "id", "is too long");
    strcpy(out->id, id);
    if ((rc = get_hex(o, "mrsigner", what, out->mrsigner, 48)) != CACHET_OK ||
        (rc = get_hex(o, "attributes", what, out->attributes, 8)) != CACHET_OK ||
        (rc = get_hex(o, "attributesMask", what, out->attributes_mask, 8)) != CACHET_OK)
        return rc;
    const json_t *levels = get_array(o, "tcbLevels", MAX_LEVELS);
    if (!levels)
        return bad(what, "tcbLevels", "is missing or not a (bounded) array");
    size_t n = json_array_size(levels);
    out->levels = calloc(n ? n : 1, sizeof *out->levels);
    if (!out->levels)
        return cachet_err(TDX_RC(NOMEM), "%s: out of memory", what);
    for (size_t i = 0; i < n; i++) {
        const json_t *lv = json_array_get(levels, i);
        tdx_module_level *m = &out->levels[out->n_levels];
        int64_t v = 0;
        const json_t *tcb = json_object_get(lv, "tcb");
        if (!json_is_object(tcb))
            return bad(what, "tcb", "is missing");
        if ((rc = get_int(tcb, "isvsvn", what, 0, 255, &v)) != CACHET_OK)
            return rc;
        m->isvsvn = (uint8_t)v;
        if ((rc = get_time(lv, "tcbDate", what, &m->tcb_date)) != CACHET_OK ||
            (rc = get_status(lv, what, &m->status)) != CACHET_OK ||
            (rc = get_advisories(lv, what, &m->adv)) != CACHET_OK)
            return rc;
        out->n_levels++;
        /* Keep highest isvsvn first; equal ones stay in served order. */
        for (size_t k = out->n_levels - 1; k > 0 && out->levels[k - 1].isvsvn < out->levels[k].isvsvn; k--) {
            tdx_module_level tmp = out->levels[k - 1];
            out->levels[k - 1] = out->levels[k];
            out->levels[k] = tmp;
        }
    }
    return CACHET_OK;
}

void tdx_tcb_info_clear(tdx_tcb_info *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_levels; i++)
        advisories_clear(&t->levels[i].adv);
    free(t->levels);
    for (size_t i = 0; i < t->n_identities; i++) {
        for (size_t k = 0; k < t->identities[i].n_levels; k++)
            advisories_clear(&t->identities[i].levels[k].adv);
        free(t->identities[i].levels);
    }
    free(t->identities);
    memset(t, 0, sizeof *t);
}

static cachet_rc tcb_info_fields(const json_t *root, tdx_tcb_info *t)
{
    const char *what = "TCB info";
    const char *id = NULL;
    int64_t v = 0;
    cachet_rc rc;
    if ((rc = get_str(root, "id", what, &id)) != CACHET_OK)
        return rc;
    if ((rc = get_int(root, "version", what, 0, 1000, &v)) != CACHET_OK)
        return rc;
    t->version = (int)v;
    if (json_object_get(root, "id") && strcmp(id, "TDX") != 0 && strcmp(id, "SGX") != 0)
        return cachet_err(TDX_RC(UNSUPPORTED), "TCB info: id \"%.16s\" (expected TDX or SGX)", id);
    t->is_tdx = strcmp(id, "TDX") == 0;
    if (t->version != 2 && t->version != 3)
        return cachet_err(TDX_RC(UNSUPPORTED), "TCB info: version %d (supported: 2, 3)", t->version);
    if (t->is_tdx && t->version < 3)
        return cachet_err(TDX_RC(UNSUPPORTED), "TCB info: a TDX TCB info must be version 3");
    if ((rc = get_time(root, "issueDate", what, &t->issue_date)) != CACHET_OK ||
        (rc = get_time(root, "nextUpdate", what, &t->next_update)) != CACHET_OK ||
        (rc = get_hex(root, "fmspc", what, t->fmspc, 6)) != CACHET_OK ||
        (rc = get_hex(root, "pceId", what, t->pceid, 2)) != CACHET_OK ||
        (rc = get_int(root, "tcbType", what, 0, 255, &t->tcb_type)) != CACHET_OK)
        return rc;
    if (t->tcb_type != 0)
        return cachet_err(TDX_RC(UNSUPPORTED), "TCB info: tcbType %lld (only 0 is defined)",
                          (long long)t->tcb_type);
    t->eval_number = -1;
    if ((json_object_get(root, "tcbEvaluationDataNumber") || t->version >= 3) &&
        (rc = get_int(root, "tcbEvaluationDataNumber", what, 0, INT32_MAX, &t->eval_number)) != CACHET_OK)
        return rc;
    if (t->is_tdx) {
        const json_t *m = json_object_get(root, "tdxModule");
        if (!json_is_object(m))
            return bad(what, "tdxModule", "is missing");
        if ((rc = get_hex(m, "mrsigner", "TCB info tdxModule", t->module_mrsigner, 48)) != CACHET_OK ||
            (rc = get_hex(m, "attributes", "TCB info tdxModule", t->module_attributes, 8)) != CACHET_OK ||
            (rc = get_hex(m, "attributesMask", "TCB info tdxModule", t->module_attributes_mask, 8)) != CACHET_OK)
            return rc;
        t->has_module = true;
        const json_t *ids = json_object_get(root, "tdxModuleIdentities");
        if (ids) {
            if (!json_is_array(ids) || json_array_size(ids) > MAX_IDENTITIES)
                return bad(what, "tdxModuleIdentities", "is not a (bounded) array");
            size_t n = json_array_size(ids);
            t->identities = calloc(n ? n : 1, sizeof *t->identities);
            if (!t->identities)
                return cachet_err(TDX_RC(NOMEM), "TCB info: out of memory");
            for (size_t i = 0; i < n; i++) {
                rc = parse_module_identity(json_array_get(ids, i), &t->identities[i]);
                t->n_identities++; /* counted even on failure, so clear frees it */
                if (rc != CACHET_OK)
                    return rc;
            }
        }
    }
    const json_t *levels = get_array(root, "tcbLevels", MAX_LEVELS);
    if (!levels || json_array_size(levels) == 0)
        return bad(what, "tcbLevels", "is missing, empty or too long");
    size_t n = json_array_size(levels);
    t->levels = calloc(n, sizeof *t->levels);
    if (!t->levels)
        return cachet_err(TDX_RC(NOMEM), "TCB info: out of memory");
    for (size_t i = 0; i < n; i++) {
        rc = parse_level(json_array_get(levels, i), t, &t->levels[t->n_levels]);
        if (rc != CACHET_OK) {
            advisories_clear(&t->levels[t->n_levels].adv);
            return rc;
        }
        t->n_levels++;
        /* Insertion keeps the QVL order (greatest first); ties keep served order. */
        for (size_t k = t->n_levels - 1;
             k > 0 && tdx_tcb_level_cmp(&t->levels[k - 1], &t->levels[k], t->is_tdx) < 0; k--) {
            tdx_tcb_level tmp = t->levels[k - 1];
            t->levels[k - 1] = t->levels[k];
            t->levels[k] = tmp;
        }
    }
    return CACHET_OK;
}

static json_t *load(const char *text, size_t len, const char *what, cachet_rc *rc)
{
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        *rc = cachet_err(TDX_RC(FORMAT), "%s: JSON does not parse: %.80s", what, jerr.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        *rc = cachet_err(TDX_RC(FORMAT), "%s: not a JSON object", what);
        return NULL;
    }
    return root;
}

cachet_rc tdx_tcb_info_parse(const char *json, size_t len, tdx_tcb_info *out)
{
    memset(out, 0, sizeof *out);
    cachet_rc rc = CACHET_OK;
    json_t *root = load(json, len, "TCB info", &rc);
    if (!root)
        return rc;
    rc = tcb_info_fields(root, out);
    json_decref(root);
    if (rc != CACHET_OK)
        tdx_tcb_info_clear(out);
    return rc;
}

/* ---- QE identity --------------------------------------------------------------- */

void tdx_qe_identity_clear(tdx_qe_identity *q)
{
    if (!q)
        return;
    for (size_t i = 0; i < q->n_levels; i++)
        advisories_clear(&q->levels[i].adv);
    free(q->levels);
    memset(q, 0, sizeof *q);
}

static cachet_rc qe_identity_fields(const json_t *root, tdx_qe_identity *q)
{
    const char *what = "QE identity";
    const char *id = NULL;
    int64_t v = 0;
    cachet_rc rc;
    if ((rc = get_str(root, "id", what, &id)) != CACHET_OK ||
        (rc = get_int(root, "version", what, 0, 1000, &v)) != CACHET_OK)
        return rc;
    if (strlen(id) >= sizeof q->id)
        return cachet_err(TDX_RC(UNSUPPORTED), "QE identity: id \"%.16s\" is not known", id);
    strcpy(q->id, id);
    q->version = (int)v;
    if (q->version != 2)
        return cachet_err(TDX_RC(UNSUPPORTED), "QE identity: version %d (supported: 2)", q->version);
    if ((rc = get_time(root, "issueDate", what, &q->issue_date)) != CACHET_OK ||
        (rc = get_time(root, "nextUpdate", what, &q->next_update)) != CACHET_OK ||
        (rc = get_int(root, "tcbEvaluationDataNumber", what, 0, INT32_MAX, &q->eval_number)) != CACHET_OK ||
        (rc = get_hex(root, "miscselect", what, q->miscselect, 4)) != CACHET_OK ||
        (rc = get_hex(root, "miscselectMask", what, q->miscselect_mask, 4)) != CACHET_OK ||
        (rc = get_hex(root, "attributes", what, q->attributes, 16)) != CACHET_OK ||
        (rc = get_hex(root, "attributesMask", what, q->attributes_mask, 16)) != CACHET_OK ||
        (rc = get_hex(root, "mrsigner", what, q->mrsigner, 32)) != CACHET_OK ||
        (rc = get_int(root, "isvprodid", what, 0, 65535, &v)) != CACHET_OK)
        return rc;
    q->isvprodid = (uint16_t)v;
    const json_t *levels = get_array(root, "tcbLevels", MAX_LEVELS);
    if (!levels || json_array_size(levels) == 0)
        return bad(what, "tcbLevels", "is missing, empty or too long");
    size_t n = json_array_size(levels);
    q->levels = calloc(n, sizeof *q->levels);
    if (!q->levels)
        return cachet_err(TDX_RC(NOMEM), "QE identity: out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *lv = json_array_get(levels, i);
        tdx_qe_level *l = &q->levels[q->n_levels];
        const json_t *tcb = json_object_get(lv, "tcb");
        if (!json_is_object(tcb))
            return bad(what, "tcb", "is missing");
        if ((rc = get_int(tcb, "isvsvn", what, 0, 65535, &v)) != CACHET_OK)
            return rc;
        l->isvsvn = (uint16_t)v;
        if ((rc = get_time(lv, "tcbDate", what, &l->tcb_date)) != CACHET_OK ||
            (rc = get_status(lv, what, &l->status)) != CACHET_OK ||
            (rc = get_advisories(lv, what, &l->adv)) != CACHET_OK)
            return rc;
        q->n_levels++;
        for (size_t k = q->n_levels - 1; k > 0 && q->levels[k - 1].isvsvn < q->levels[k].isvsvn; k--) {
            tdx_qe_level tmp = q->levels[k - 1];
            q->levels[k - 1] = q->levels[k];
            q->levels[k] = tmp;
        }
    }
    return CACHET_OK;
}

cachet_rc tdx_qe_identity_parse(const char *json, size_t len, tdx_qe_identity *out)
{
    memset(out, 0, sizeof *out);
    cachet_rc rc = CACHET_OK;
    json_t *root = load(json, len, "QE identity", &rc);
    if (!root)
        return rc;
    rc = qe_identity_fields(root, out);
    json_decref(root);
    if (rc != CACHET_OK)
        tdx_qe_identity_clear(out);
    return rc;
}
