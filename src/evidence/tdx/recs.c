/* A check recorder: the platform checks are recorded here first and then
 * replayed into the verification context, so that a platform verified once
 * and cached reports exactly the same checks as a fresh run. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evidence/tdx/tdx.h"

void tdx_recs_init(tdx_recs *r, const char *prefix)
{
    memset(r, 0, sizeof *r);
    r->prefix = prefix;
}

void tdx_recs_clear(tdx_recs *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].id);
        free(r->v[i].detail);
        free(r->v[i].expected);
        free(r->v[i].actual);
    }
    free(r->v);
    r->v = NULL;
    r->n = r->cap = 0;
}

static tdx_rec *push(tdx_recs *r, tdx_rec_kind kind, const char *id, const char *spec)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 32;
        tdx_rec *v = realloc(r->v, cap * sizeof *v);
        if (!v) {
            r->oom = true;
            return NULL;
        }
        r->v = v;
        r->cap = cap;
    }
    tdx_rec *e = &r->v[r->n];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->spec = spec;
    if (id && asprintf(&e->id, "%s.%s", r->prefix, id) < 0) {
        e->id = NULL;
        r->oom = true;
        return NULL;
    }
    r->n++;
    return e;
}

static void set_detail(tdx_recs *r, tdx_rec *e, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void set_detail(tdx_recs *r, tdx_rec *e, const char *fmt, va_list ap)
{
    if (!e || !fmt)
        return;
    if (vasprintf(&e->detail, fmt, ap) < 0) {
        e->detail = NULL;
        r->oom = true;
    }
}

void tdx_recs_pass(tdx_recs *r, const char *id, const char *spec, const char *fmt, ...)
{
    tdx_rec *e = push(r, TDX_REC_PASS, id, spec);
    va_list ap;
    va_start(ap, fmt);
    set_detail(r, e, fmt, ap);
    va_end(ap);
}

void tdx_recs_fail(tdx_recs *r, cachet_ev_severity sev, const char *id, const char *spec,
                   const char *fmt, ...)
{
    r->failed = true;
    if (sev == CACHET_EV_AUTH)
        r->auth_failed = true;
    tdx_rec *e = push(r, TDX_REC_FAIL, id, spec);
    if (e)
        e->sev = sev;
    va_list ap;
    va_start(ap, fmt);
    set_detail(r, e, fmt, ap);
    va_end(ap);
}

void tdx_recs_na(tdx_recs *r, bool warn, const char *id, const char *spec, const char *fmt, ...)
{
    tdx_rec *e = push(r, TDX_REC_NA, id, spec);
    if (e)
        e->warn = warn;
    va_list ap;
    va_start(ap, fmt);
    set_detail(r, e, fmt, ap);
    va_end(ap);
}

void tdx_recs_warn(tdx_recs *r, const char *fmt, ...)
{
    tdx_rec *e = push(r, TDX_REC_WARN, NULL, NULL);
    va_list ap;
    va_start(ap, fmt);
    set_detail(r, e, fmt, ap);
    va_end(ap);
}

bool tdx_recs_compare(tdx_recs *r, cachet_ev_severity sev, const char *id, const char *spec,
                      const char *expected, const char *actual)
{
    bool same = expected && actual && strcmp(expected, actual) == 0;
    if (!same) {
        r->failed = true;
        if (sev == CACHET_EV_AUTH)
            r->auth_failed = true;
    }
    tdx_rec *e = push(r, TDX_REC_COMPARE, id, spec);
    if (e) {
        e->sev = sev;
        e->expected = strdup(expected ? expected : "");
        e->actual = strdup(actual ? actual : "");
        if (!e->expected || !e->actual)
            r->oom = true;
    }
    return same;
}

void tdx_recs_replay(const tdx_recs *r, cachet_ev_ctx *ctx)
{
    for (size_t i = 0; i < r->n; i++) {
        const tdx_rec *e = &r->v[i];
        switch (e->kind) {
        case TDX_REC_PASS:
            cachet_ev_pass(ctx, e->id, e->spec, "%s", e->detail ? e->detail : "");
            break;
        case TDX_REC_FAIL:
            cachet_ev_fail(ctx, e->sev, e->id, e->spec, "%s", e->detail ? e->detail : "failed");
            break;
        case TDX_REC_NA:
            cachet_ev_na(ctx, e->warn, e->id, e->spec, "%s", e->detail ? e->detail : "");
            break;
        case TDX_REC_COMPARE:
            cachet_ev_compare(ctx, e->sev, e->id, e->spec, e->expected, e->actual);
            break;
        case TDX_REC_WARN:
            cachet_ev_warn(ctx, "%s", e->detail ? e->detail : "warning");
            break;
        }
    }
    if (r->oom)
        cachet_ev_internal_error(ctx, "tdx: out of memory while recording checks");
}
