/* cachet_rc: one result type for the whole library.
 *
 * A result is 0 on success; otherwise the subsystem sits in the high 16 bits
 * and the error class in the low 16 (the tpm2-tss layering).  The most recent
 * failure on a thread also carries a human-readable detail that says which
 * check failed and with what values: set it with cachet_err(), read it with
 * cachet_err_detail(). */
#ifndef CACHET_RC_H
#define CACHET_RC_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uint32_t cachet_rc;

#define CACHET_OK 0u

enum cachet_subsys {
    CACHET_SUB_NONE = 0,
    CACHET_SUB_UTIL = 1,
    CACHET_SUB_CRYPTO = 2,
    CACHET_SUB_SEAL = 3,
    CACHET_SUB_EVIDENCE = 4,
    CACHET_SUB_COLLATERAL = 5,
    CACHET_SUB_APPRAISAL = 6,
    CACHET_SUB_TOKEN = 7,
    CACHET_SUB_KBS = 8,
    CACHET_SUB_SERVE = 9,
    CACHET_SUB_ATTESTER = 10,
    CACHET_SUB_CLI = 11,
};

enum cachet_errcode {
    CACHET_E_INVALID_ARG = 1, /* caller passed something unusable */
    CACHET_E_NOMEM,           /* allocation failed */
    CACHET_E_TRUNCATED,       /* input ended before a declared field */
    CACHET_E_FORMAT,          /* input is malformed (bad magic, MBZ set, trailing data) */
    CACHET_E_UNSUPPORTED,     /* well-formed but a version/algorithm we do not handle */
    CACHET_E_IO,              /* read/write/open failed */
    CACHET_E_CRYPTO,          /* the crypto library failed internally */
    CACHET_E_SIGNATURE,       /* a signature did not verify */
    CACHET_E_CHAIN,           /* a certificate chain did not verify */
    CACHET_E_EXPIRED,         /* outside a validity window */
    CACHET_E_REVOKED,         /* revoked by a CRL or status list */
    CACHET_E_AUTH,            /* authenticated decryption failed (tag mismatch) */
    CACHET_E_MISMATCH,        /* two values that must agree do not */
    CACHET_E_NOT_FOUND,       /* a required item is missing */
    CACHET_E_RANGE,           /* a value is outside its allowed range */
    CACHET_E_POLICY,          /* refused by policy */
    CACHET_E_STATE,           /* call made in the wrong state */
    CACHET_E_LIMIT,           /* a size or count limit was exceeded */
    CACHET_E__COUNT
};

#define CACHET_RC(sub, code) ((cachet_rc)(((uint32_t)(sub) << 16) | (uint32_t)(code)))
#define cachet_rc_code(rc) ((uint32_t)(rc) & 0xffffu)
#define cachet_rc_subsys(rc) ((uint32_t)(rc) >> 16)

/* "seal: authentication failed" style text; never NULL. */
const char *cachet_rc_str(cachet_rc rc);

/* Record rc with a printf-style detail for this thread and return rc, so that
 * error paths read `return cachet_err(rc, "chunk %zu: tag mismatch", i);`. */
cachet_rc cachet_err(cachet_rc rc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Detail of the last cachet_err() on this thread ("" when none). */
const char *cachet_err_detail(void);
/* The rc recorded with that detail. */
cachet_rc cachet_err_last(void);
void cachet_err_clear(void);

#ifdef __cplusplus
}
#endif
#endif
