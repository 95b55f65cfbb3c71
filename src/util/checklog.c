/* The check log: an append-only list of checks with their outcome. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/checklog.h"

struct cachet_checklog {
    cachet_check *items;
    size_t n, cap;
};

#define NOMEM CACHET_RC(CACHET_SUB_UTIL, CACHET_E_NOMEM)

cachet_checklog *cachet_checklog_new(void) { return calloc(1, sizeof(cachet_checklog)); }

static void check_clear(cachet_check *c)
{
    free(c->id);
    free(c->spec);
    free(c->detail);
    free(c->expected);
    free(c->actual);
}

void cachet_checklog_free(cachet_checklog *log)
{
    if (!log)
        return;
    for (size_t i = 0; i < log->n; i++)
        check_clear(&log->items[i]);
    free(log->items);
    free(log);
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static cachet_check *append(cachet_checklog *log, const char *id, const char *spec,
                            cachet_check_result result)
{
    if (log->n == log->cap) {
        size_t cap = log->cap ? log->cap * 2 : 16;
        cachet_check *items = realloc(log->items, cap * sizeof *items);
        if (!items)
            return NULL;
        log->items = items;
        log->cap = cap;
    }
    cachet_check *c = &log->items[log->n];
    memset(c, 0, sizeof *c);
    c->id = strdup(id ? id : "");
    c->spec = dup_or_null(spec);
    c->result = result;
    if (!c->id || (spec && !c->spec)) {
        check_clear(c);
        return NULL;
    }
    log->n++;
    return c;
}

cachet_rc cachet_checklog_add(cachet_checklog *log, const char *id, const char *spec,
                              cachet_check_result result, const char *detail_fmt, ...)
{
    cachet_check *c = append(log, id, spec, result);
    if (!c)
        return NOMEM;
    if (detail_fmt) {
        va_list ap;
        va_start(ap, detail_fmt);
        if (vasprintf(&c->detail, detail_fmt, ap) < 0)
            c->detail = NULL;
        va_end(ap);
    }
    return CACHET_OK;
}

cachet_check_result cachet_checklog_compare(cachet_checklog *log, const char *id, const char *spec,
                                            const char *expected, const char *actual)
{
    cachet_check_result r = expected && actual && strcmp(expected, actual) == 0
                                ? CACHET_CHECK_PASS : CACHET_CHECK_FAIL;
    cachet_check *c = append(log, id, spec, r);
    if (!c)
        return CACHET_CHECK_FAIL; /* fail closed even when we cannot record */
    c->expected = dup_or_null(expected);
    c->actual = dup_or_null(actual);
    return r;
}

size_t cachet_checklog_count(const cachet_checklog *log) { return log ? log->n : 0; }

const cachet_check *cachet_checklog_get(const cachet_checklog *log, size_t i)
{
    return log && i < log->n ? &log->items[i] : NULL;
}

const cachet_check *cachet_checklog_find(const cachet_checklog *log, const char *id)
{
    for (size_t i = 0; log && i < log->n; i++)
        if (strcmp(log->items[i].id, id) == 0)
            return &log->items[i];
    return NULL;
}

const cachet_check *cachet_checklog_first_failure(const cachet_checklog *log)
{
    for (size_t i = 0; log && i < log->n; i++)
        if (log->items[i].result == CACHET_CHECK_FAIL)
            return &log->items[i];
    return NULL;
}

bool cachet_checklog_failed(const cachet_checklog *log)
{
    return cachet_checklog_first_failure(log) != NULL;
}

const char *cachet_check_result_str(cachet_check_result r)
{
    switch (r) {
    case CACHET_CHECK_PASS: return "pass";
    case CACHET_CHECK_FAIL: return "fail";
    case CACHET_CHECK_NA: return "n/a";
    }
    return "fail";
}

json_t *cachet_checklog_to_json(const cachet_checklog *log)
{
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    for (size_t i = 0; log && i < log->n; i++) {
        const cachet_check *c = &log->items[i];
        json_t *o = json_pack("{s:s, s:s, s:s}", "id", c->id, "spec", c->spec ? c->spec : "",
                              "result", cachet_check_result_str(c->result));
        if (!o)
            goto fail;
        if ((c->detail && json_object_set_new(o, "detail", json_string(c->detail))) ||
            (c->expected && json_object_set_new(o, "expected", json_string(c->expected))) ||
            (c->actual && json_object_set_new(o, "actual", json_string(c->actual))) ||
            json_array_append_new(arr, o)) {
            json_decref(o);
            goto fail;
        }
    }
    return arr;
fail:
    json_decref(arr);
    return NULL;
}
