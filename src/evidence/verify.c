/* The verifier core: pick the family, run it, and keep the result's status,
 * `verified` flag and error list consistent with the checks it recorded. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/encoding.h"
#include "evidence/family.h"

#define EV_RC(code) CACHET_RC(CACHET_SUB_EVIDENCE, code)
#define CORE_SPEC "cachet verify-contract"

struct cachet_ev_ctx {
    cachet_verify_result *res;
    const cachet_verify_request *req;
    bool auth_failed;
    bool failed;
    bool warned;
    bool authentic;
    bool internal;
    bool *used; /* one per endorsement */
    size_t n_used;
};

const char *cachet_ev_status_str(cachet_ev_status s)
{
    switch (s) {
    case CACHET_EV_AFFIRMING: return "affirming";
    case CACHET_EV_WARNING: return "warning";
    case CACHET_EV_CONTRAINDICATED: return "contraindicated";
    }
    return "contraindicated";
}

/* ---- recording ----------------------------------------------------------- */

static void push_string(cachet_ev_ctx *c, json_t *arr, const char *s)
{
    if (json_array_append_new(arr, json_string(s ? s : "")) != 0)
        c->internal = true;
}

/* "<id>: <detail>" into errors or warnings. */
static void add_line(cachet_ev_ctx *c, json_t *arr, const char *id, const char *detail)
{
    char *line = NULL;
    if (asprintf(&line, "%s: %s", id, detail && *detail ? detail : "failed") < 0) {
        c->internal = true;
        return;
    }
    push_string(c, arr, line);
    free(line);
}

static void add_error(cachet_ev_ctx *c, const char *id, const char *detail)
{
    add_line(c, c->res->errors, id, detail);
}

__attribute__((format(printf, 1, 0))) static char *vformat(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (!fmt)
        return NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        return NULL;
    return s;
}

static void record(cachet_ev_ctx *c, const char *id, const char *spec, cachet_check_result r,
                   const char *detail)
{
    if (cachet_checklog_add(c->res->checks, id, spec, r, detail ? "%s" : NULL, detail) !=
        CACHET_OK)
        c->internal = true;
}

void cachet_ev_pass(cachet_ev_ctx *c, const char *id, const char *spec, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *d = vformat(fmt, ap);
    va_end(ap);
    record(c, id, spec, CACHET_CHECK_PASS, d);
    free(d);
}

void cachet_ev_fail(cachet_ev_ctx *c, cachet_ev_severity sev, const char *id, const char *spec,
                    const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *d = vformat(fmt, ap);
    va_end(ap);
    record(c, id, spec, CACHET_CHECK_FAIL, d);
    add_error(c, id, d);
    free(d);
    c->failed = true;
    if (sev == CACHET_EV_AUTH)
        c->auth_failed = true;
}

void cachet_ev_na(cachet_ev_ctx *c, bool warn, const char *id, const char *spec, const char *fmt,
                  ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *d = vformat(fmt, ap);
    va_end(ap);
    record(c, id, spec, CACHET_CHECK_NA, d);
    if (warn) {
        c->warned = true;
        add_line(c, c->res->warnings, id, d);
    }
    free(d);
}

bool cachet_ev_compare(cachet_ev_ctx *c, cachet_ev_severity sev, const char *id, const char *spec,
                       const char *expected, const char *actual)
{
    cachet_check_result r = cachet_checklog_compare(c->res->checks, id, spec, expected, actual);
    if (r == CACHET_CHECK_PASS)
        return true;
    char *d = NULL;
    if (asprintf(&d, "expected %s, got %s", expected ? expected : "(none)",
                 actual ? actual : "(none)") < 0)
        d = NULL;
    add_error(c, id, d);
    free(d);
    c->failed = true;
    if (sev == CACHET_EV_AUTH)
        c->auth_failed = true;
    return false;
}

void cachet_ev_warn(cachet_ev_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *d = vformat(fmt, ap);
    va_end(ap);
    c->warned = true;
    push_string(c, c->res->warnings, d ? d : "warning");
    free(d);
}

void cachet_ev_authentic(cachet_ev_ctx *c) { c->authentic = true; }

void cachet_ev_internal_error(cachet_ev_ctx *c, const char *what)
{
    c->internal = true;
    if (what)
        push_string(c, c->res->errors, what);
}

/* ---- claims ---------------------------------------------------------------- */

json_t *cachet_ev_claims(cachet_ev_ctx *c) { return c->res->claims; }

void cachet_ev_claim(cachet_ev_ctx *c, json_t *parent, const char *key, json_t *value)
{
    if (!parent)
        parent = c->res->claims;
    if (!value || json_object_set_new(parent, key, value) != 0)
        c->internal = true;
}

void cachet_ev_claim_hex(cachet_ev_ctx *c, json_t *parent, const char *key, const uint8_t *buf,
                         size_t len)
{
    char *hex = cachet_hex_string(buf, len);
    cachet_ev_claim(c, parent, key, hex ? json_string(hex) : NULL);
    free(hex);
}

void cachet_ev_claim_str(cachet_ev_ctx *c, json_t *parent, const char *key, const char *s)
{
    cachet_ev_claim(c, parent, key, json_string(s));
}

void cachet_ev_claim_int(cachet_ev_ctx *c, json_t *parent, const char *key, int64_t v)
{
    cachet_ev_claim(c, parent, key, json_integer((json_int_t)v));
}

void cachet_ev_claim_bool(cachet_ev_ctx *c, json_t *parent, const char *key, bool v)
{
    cachet_ev_claim(c, parent, key, json_boolean(v));
}

json_t *cachet_ev_claim_object(cachet_ev_ctx *c, json_t *parent, const char *key)
{
    json_t *o = json_object();
    if (!o) {
        c->internal = true;
        return NULL;
    }
    json_incref(o);
    cachet_ev_claim(c, parent, key, o);
    if (c->internal) {
        json_decref(o);
        return NULL;
    }
    json_decref(o); /* parent holds the reference now */
    return o;
}

void cachet_ev_mark_used(cachet_ev_ctx *c, size_t i)
{
    if (i < c->n_used)
        c->used[i] = true;
}

/* ---- the result ------------------------------------------------------------ */

void cachet_verify_result_free(cachet_verify_result *r)
{
    if (!r)
        return;
    json_decref(r->claims);
    json_decref(r->errors);
    json_decref(r->warnings);
    cachet_checklog_free(r->checks);
    free(r);
}

static cachet_verify_result *result_new(const cachet_evidence_ops *ops)
{
    cachet_verify_result *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->tee = ops->name;
    r->tee_description = ops->description;
    r->key_claims = ops->key_claims;
    r->status = CACHET_EV_CONTRAINDICATED;
    r->claims = json_object();
    r->errors = json_array();
    r->warnings = json_array();
    r->checks = cachet_checklog_new();
    if (!r->claims || !r->errors || !r->warnings || !r->checks) {
        cachet_verify_result_free(r);
        return NULL;
    }
    return r;
}

/* Endorsements the family did not rely on are listed, so that a user who
 * passed the wrong file sees it (verify-contract: "reports any file it could
 * not use"). They do not change the verdict. */
static void report_unused(cachet_ev_ctx *c)
{
    const cachet_endorsements *e = c->req->endorsements;
    for (size_t i = 0; i < c->n_used; i++) {
        if (c->used[i])
            continue;
        const cachet_endorsement *en = cachet_endorsements_get(e, i);
        if (en->kind == CACHET_ENDORSEMENT_OTHER)
            cachet_ev_na(c, false, "evidence.endorsement.unused", CORE_SPEC,
                         "%s: not used: %s", en->name, en->why ? en->why : "unrecognised content");
        else
            cachet_ev_na(c, false, "evidence.endorsement.unused", CORE_SPEC,
                         "%s: %s, not used by %s", en->name,
                         cachet_endorsement_kind_str(en->kind), c->res->tee);
    }
}

static void finish(cachet_ev_ctx *c)
{
    cachet_verify_result *r = c->res;
    if (c->internal) {
        c->failed = true;
        c->auth_failed = true;
        push_string(c, r->errors, "internal error: verification could not complete");
    }
    r->verified = c->authentic && !c->auth_failed;
    if (c->failed || !r->verified)
        r->status = CACHET_EV_CONTRAINDICATED;
    else if (c->warned)
        r->status = CACHET_EV_WARNING;
    else
        r->status = CACHET_EV_AFFIRMING;
    if (!c->failed && !r->verified)
        push_string(c, r->errors, "the evidence was not shown to be authentic");
}

cachet_rc cachet_evidence_verify_with(const cachet_evidence_ops *ops,
                                      const cachet_verify_request *req,
                                      cachet_verify_result **out)
{
    if (!out)
        return cachet_err(EV_RC(CACHET_E_INVALID_ARG), "verify: no result pointer");
    *out = NULL;
    if (!ops || !ops->verify || !req || (!req->evidence && req->evidence_len) ||
        (req->n_trust_anchors && !req->trust_anchors) || (req->nonce_len && !req->nonce))
        return cachet_err(EV_RC(CACHET_E_INVALID_ARG), "verify: incomplete request");

    cachet_ev_ctx c = { .req = req };
    c.res = result_new(ops);
    if (!c.res)
        return cachet_err(EV_RC(CACHET_E_NOMEM), "verify: out of memory");
    c.n_used = cachet_endorsements_count(req->endorsements);
    if (c.n_used) {
        c.used = calloc(c.n_used, sizeof *c.used);
        if (!c.used) {
            cachet_verify_result_free(c.res);
            return cachet_err(EV_RC(CACHET_E_NOMEM), "verify: out of memory");
        }
    }

    cachet_rc rc = ops->verify(ops, req, &c);
    if (rc != CACHET_OK)
        cachet_ev_internal_error(&c, cachet_err_detail());
    report_unused(&c);
    finish(&c);
    free(c.used);
    *out = c.res;
    return CACHET_OK;
}

cachet_rc cachet_evidence_verify(const cachet_verify_request *req, cachet_verify_result **out)
{
    if (!out || !req)
        return cachet_err(EV_RC(CACHET_E_INVALID_ARG), "verify: incomplete request");
    *out = NULL;
    const cachet_evidence_ops *ops;
    bool detected = false;
    if (req->tee) {
        ops = cachet_evidence_find(req->tee);
        if (!ops)
            return cachet_err(EV_RC(CACHET_E_NOT_FOUND), "unknown evidence family '%s'",
                              req->tee);
    } else {
        ops = cachet_evidence_detect(req->evidence, req->evidence_len);
        if (!ops)
            return cachet_err(EV_RC(CACHET_E_NOT_FOUND),
                              "the evidence format was not recognised; name the family");
        detected = true;
    }
    cachet_rc rc = cachet_evidence_verify_with(ops, req, out);
    if (rc == CACHET_OK)
        (*out)->auto_detected = detected;
    return rc;
}
