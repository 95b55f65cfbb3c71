/* Internal to src/kbs. */
#ifndef CACHET_KBS_INT_H
#define CACHET_KBS_INT_H

#include "cachet/kbs.h"

#define KBS_RC(code) CACHET_RC(CACHET_SUB_KBS, CACHET_E_##code)
#define kbs_err(code, ...) cachet_err(KBS_RC(code), __VA_ARGS__)

/* Admin authorization header check (admin.c); why says what failed. */
bool kbs_admin_verify(cachet_pkey *const *keys, size_t n_keys, const char *authz, int64_t now,
                      char *why, size_t cap);


#include "cachet/appraisal.h"
#include "cachet/evidence.h"

/* The verifier side shared by the server and the dry run. */
typedef struct kbs_verifier {
    cachet_pkey *const *trust_keys;
    size_t n_trust_keys;
    cachet_x509 *const *trust_anchors; /* certificates (e.g. a TPM AK CA); may be none */
    size_t n_trust_anchors;
    cachet_endorsements *endorsements; /* may be NULL */
    cachet_verify_cache *cache;        /* verified chains (thread-safe); may be NULL */
    const cachet_evidence_ops *nvidia_ops; /* NULL: the built-in nvgpu family */
} kbs_verifier;

#define KBS_MAX_DEVICES 1

typedef struct kbs_outcome {
    cachet_verify_result *result;  /* NULL when verification could not run */
    cachet_verify_result *devices[KBS_MAX_DEVICES]; /* GPU evidence verified with it */
    size_t n_devices;
    cachet_appraisal *appraisal;   /* NULL when not reached */
    json_t *runtime_data;          /* the bound runtime data (with additional-evidence) */
    bool admitted;
    char why[512];                 /* why not admitted */
} kbs_outcome;

/* Verify native evidence of family tee, bound (when rd is non-NULL) to the
 * runtime data rd plus additional (protocols.md §1.7), then appraise it
 * under policy.  Without rd, nonce (may be NULL) is the freshness value
 * the verifier checks.  CACHET_OK whatever the verdict (see out->admitted). */
cachet_rc kbs_verify_and_appraise(const kbs_verifier *v, const cachet_policy *policy,
                                  const char *tee, const uint8_t *ev, size_t len, const json_t *rd,
                                  const char *additional, const uint8_t *nonce, size_t nonce_len,
                                  int64_t now, kbs_outcome *out);
void kbs_outcome_clear(kbs_outcome *o);
/* The named policy from the store (deny-all when unset). */
cachet_rc kbs_load_policy(cachet_kbs_store *s, cachet_policy **out);
cachet_rc kbs_load_rpolicy(cachet_kbs_store *s, cachet_kbs_rpolicy **out);

#endif
