/* The check log: every check a verifier runs is recorded with its id, the
 * spec section it implements, its result and the values compared, so that a
 * result lists what ran, passed, failed or did not apply (no silent skips). */
#ifndef CACHET_CHECKLOG_H
#define CACHET_CHECKLOG_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "cachet/rc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cachet_check_result {
    CACHET_CHECK_PASS,
    CACHET_CHECK_FAIL,
    CACHET_CHECK_NA,
} cachet_check_result;

typedef struct cachet_check {
    char *id;       /* "snp.report.signature" */
    char *spec;     /* "AMD 56860 §7.3" */
    cachet_check_result result;
    char *detail;   /* why, in words (may be NULL) */
    char *expected; /* compared values, when the check compares (may be NULL) */
    char *actual;
} cachet_check;

typedef struct cachet_checklog cachet_checklog;

cachet_checklog *cachet_checklog_new(void);
void cachet_checklog_free(cachet_checklog *log);

/* Record a check; detail is printf-style and may be NULL. */
cachet_rc cachet_checklog_add(cachet_checklog *log, const char *id, const char *spec,
                              cachet_check_result result, const char *detail_fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Record a comparison: passes when expected and actual are equal strings. */
cachet_check_result cachet_checklog_compare(cachet_checklog *log, const char *id, const char *spec,
                                            const char *expected, const char *actual);

size_t cachet_checklog_count(const cachet_checklog *log);
const cachet_check *cachet_checklog_get(const cachet_checklog *log, size_t i);
const cachet_check *cachet_checklog_find(const cachet_checklog *log, const char *id);
bool cachet_checklog_failed(const cachet_checklog *log);
/* The first failing check, or NULL. */
const cachet_check *cachet_checklog_first_failure(const cachet_checklog *log);

const char *cachet_check_result_str(cachet_check_result r); /* "pass" | "fail" | "n/a" */
/* [{"id","spec","result","detail"[,"expected","actual"]}...] (new reference). */
json_t *cachet_checklog_to_json(const cachet_checklog *log);

#ifdef __cplusplus
}
#endif
#endif
