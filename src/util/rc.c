/* cachet_rc text and the per-thread failure detail. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cachet/rc.h"

static const char *const subsys_names[] = {
    [CACHET_SUB_NONE] = "cachet",        [CACHET_SUB_UTIL] = "util",
    [CACHET_SUB_CRYPTO] = "crypto",      [CACHET_SUB_SEAL] = "seal",
    [CACHET_SUB_EVIDENCE] = "evidence",  [CACHET_SUB_COLLATERAL] = "collateral",
    [CACHET_SUB_APPRAISAL] = "appraisal", [CACHET_SUB_TOKEN] = "token",
    [CACHET_SUB_KBS] = "kbs",            [CACHET_SUB_SERVE] = "serve",
    [CACHET_SUB_ATTESTER] = "attester",  [CACHET_SUB_CLI] = "cli",
};

static const char *const code_names[] = {
    [CACHET_E_INVALID_ARG] = "invalid argument",
    [CACHET_E_NOMEM] = "out of memory",
    [CACHET_E_TRUNCATED] = "input truncated",
    [CACHET_E_FORMAT] = "malformed input",
    [CACHET_E_UNSUPPORTED] = "unsupported version or algorithm",
    [CACHET_E_IO] = "I/O error",
    [CACHET_E_CRYPTO] = "cryptographic library error",
    [CACHET_E_SIGNATURE] = "signature verification failed",
    [CACHET_E_CHAIN] = "certificate chain verification failed",
    [CACHET_E_EXPIRED] = "outside validity period",
    [CACHET_E_REVOKED] = "revoked",
    [CACHET_E_AUTH] = "authentication failed",
    [CACHET_E_MISMATCH] = "values do not match",
    [CACHET_E_NOT_FOUND] = "not found",
    [CACHET_E_RANGE] = "value out of range",
    [CACHET_E_POLICY] = "refused by policy",
    [CACHET_E_STATE] = "invalid state",
    [CACHET_E_LIMIT] = "size limit exceeded",
};

const char *cachet_rc_str(cachet_rc rc)
{
    static _Thread_local char buf[96];
    if (rc == CACHET_OK)
        return "success";
    uint32_t sub = cachet_rc_subsys(rc), code = cachet_rc_code(rc);
    const char *s = sub < sizeof subsys_names / sizeof *subsys_names && subsys_names[sub]
                        ? subsys_names[sub] : "unknown";
    const char *c = code < CACHET_E__COUNT && code_names[code] ? code_names[code] : NULL;
    if (c)
        snprintf(buf, sizeof buf, "%s: %s", s, c);
    else
        snprintf(buf, sizeof buf, "%s: error 0x%x", s, (unsigned)code);
    return buf;
}

static _Thread_local char detail[512];
static _Thread_local cachet_rc last_rc;

cachet_rc cachet_err(cachet_rc rc, const char *fmt, ...)
{
    last_rc = rc;
    if (!fmt) {
        detail[0] = '\0';
        return rc;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return rc;
}

const char *cachet_err_detail(void) { return detail; }
cachet_rc cachet_err_last(void) { return last_rc; }

void cachet_err_clear(void)
{
    detail[0] = '\0';
    last_rc = CACHET_OK;
}
