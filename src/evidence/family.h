/* What an evidence family sees of the verifier core (internal).
 *
 * A family's verify function records every check it runs through these
 * calls, never through the checklog directly, so that the core can keep the
 * result's status, `verified` flag and error list consistent:
 *
 *   - a failed check always makes the status contraindicated and adds
 *     "<id>: <detail>" to errors;
 *   - CACHET_EV_AUTH failures (signature, chain, binding) also make
 *     `verified` false; CACHET_EV_CONTENT failures (debug mode, wrong nonce
 *     content policy) leave authenticity alone;
 *   - a check that passes or does not apply but leaves something a
 *     production policy may refuse (no CRL, TCB out of date) raises the
 *     status to warning with a reason;
 *   - `verified` is true only when the family also called
 *     cachet_ev_authentic() after its last authenticity check. */
#ifndef CACHET_EVIDENCE_FAMILY_H
#define CACHET_EVIDENCE_FAMILY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cachet/evidence.h"

typedef enum cachet_ev_severity {
    CACHET_EV_AUTH,    /* failure means the evidence is not authentic / not bound */
    CACHET_EV_CONTENT, /* failure means authentic evidence of an unacceptable state */
} cachet_ev_severity;

void cachet_ev_pass(cachet_ev_ctx *c, const char *id, const char *spec, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void cachet_ev_fail(cachet_ev_ctx *c, cachet_ev_severity sev, const char *id, const char *spec,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Not applicable; with warn, the reason (the detail) also raises the status. */
void cachet_ev_na(cachet_ev_ctx *c, bool warn, const char *id, const char *spec, const char *fmt,
                  ...) __attribute__((format(printf, 5, 6)));
/* A comparison of two rendered values (hex, decimal): records expected and
 * actual, fails with sev when they differ; returns true on a match. */
bool cachet_ev_compare(cachet_ev_ctx *c, cachet_ev_severity sev, const char *id, const char *spec,
                       const char *expected, const char *actual);
/* Raise the status to warning (at least) with a reason. */
void cachet_ev_warn(cachet_ev_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The family asserts that every authenticity check it needs ran and passed. */
void cachet_ev_authentic(cachet_ev_ctx *c);
/* Record that the family could not go on for an internal reason (allocation):
 * the result becomes contraindicated and unverified. */
void cachet_ev_internal_error(cachet_ev_ctx *c, const char *what);

/* The claims object (borrowed); families add with the helpers below, which
 * turn allocation failures into an internal error. */
json_t *cachet_ev_claims(cachet_ev_ctx *c);
void cachet_ev_claim(cachet_ev_ctx *c, json_t *parent, const char *key, json_t *value /* stolen */);
void cachet_ev_claim_hex(cachet_ev_ctx *c, json_t *parent, const char *key, const uint8_t *buf,
                         size_t len);
void cachet_ev_claim_str(cachet_ev_ctx *c, json_t *parent, const char *key, const char *s);
void cachet_ev_claim_int(cachet_ev_ctx *c, json_t *parent, const char *key, int64_t v);
void cachet_ev_claim_bool(cachet_ev_ctx *c, json_t *parent, const char *key, bool v);
/* A fresh object claim under parent (NULL on failure, recorded). */
json_t *cachet_ev_claim_object(cachet_ev_ctx *c, json_t *parent, const char *key);

/* Endorsements the family relied on: the rest are reported as unused. */
void cachet_ev_mark_used(cachet_ev_ctx *c, size_t endorsement_index);

/* ---- verified-chain cache (see cachet_verify_cache in evidence.h) ------ */

#define CACHET_EV_CACHE_VALUE_MAX 64
/* True on a hit: the entry exists and not_before <= t <= not_after; then
 * value (up to CACHET_EV_CACHE_VALUE_MAX bytes) is copied out. */
bool cachet_ev_cache_lookup(cachet_verify_cache *c, const uint8_t key[32], int64_t t,
                            uint8_t *value, size_t *value_len);
void cachet_ev_cache_store(cachet_verify_cache *c, const uint8_t key[32], int64_t not_before,
                           int64_t not_after, const uint8_t *value, size_t value_len);

#endif
