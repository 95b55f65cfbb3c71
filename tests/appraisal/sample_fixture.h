/* Sample evidence minted in-process for appraisal, token and attester tests
 * (always available, unlike the real vectors): a report signed by a P-256
 * key generated once per process, verified through the real verifier. */
#ifndef CACHET_TESTS_SAMPLE_FIXTURE_H
#define CACHET_TESTS_SAMPLE_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cachet/appraisal.h"
#include "cachet/evidence.h"

#define SFX_MEASUREMENT_BYTE 0xab /* the default measurement: 48 bytes of it */
#define SFX_MEASUREMENT_HEX                                                                     \
    "abababababababababababababababababababababababababababababababababababababababababababababab" \
    "abab"

typedef struct sfx_opts {
    uint32_t svn;
    bool debug;
    const uint8_t *nonce;      /* bound into the runtime data; NULL: a fixed 32-byte nonce */
    size_t nonce_len;
    bool with_pubkey;          /* bind a fresh workload key as tee-pubkey */
    bool no_runtime;           /* report_data = nonce zero-padded, no runtime data */
    uint8_t measurement_byte;  /* 0: SFX_MEASUREMENT_BYTE */
} sfx_opts;

/* The fixed nonce used when sfx_opts.nonce is NULL (32 bytes 00..1f). */
extern const uint8_t sfx_default_nonce[32];

/* The signing key (generated on first use; owned by the fixture). */
const cachet_pkey *sfx_key(void);
/* Sample evidence bytes (malloc'd). */
uint8_t *sfx_evidence(const sfx_opts *o, size_t *len);
/* Verify evidence with key as trust anchor and nonce (may be NULL). */
cachet_verify_result *sfx_verify(const uint8_t *ev, size_t len, const uint8_t *nonce,
                                 size_t nonce_len, const cachet_pkey *key);
/* Mint and verify with the fixture key and the minted nonce (check_nonce:
 * whether the verifier is given the nonce). */
cachet_verify_result *sfx_result(const sfx_opts *o, bool check_nonce);

/* Parse a policy or fail the test (printf-style text). */
cachet_policy *sfx_policy(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Appraise primary alone; the appraisal is returned through *out when non-NULL. */
bool sfx_admits(const cachet_policy *p, const cachet_verify_result *r, cachet_appraisal **out);
/* The result ("pass", "fail", "n/a") of condition id in rule, or NULL when absent. */
const char *sfx_condition(const cachet_appraisal *a, const char *rule, const char *id);

#endif
