/* Attestation results: EAR (EAT Attestation Results) as ES256 JWTs, and the
 * JWKS a relying party pins (docs/token.md; protocols.md §3).
 *
 * Claims are spelled as deployed peers spell them (Veraison, Trustee):
 * eat_profile, iat, exp, iss, ear.verifier-id, eat_nonce, submods with
 * ear.status, ear.trustworthiness-vector, ear.appraisal-policy-id and
 * ear.veraison.annotated-evidence, one submod per attested component
 * (cpu0, gpu0, gpu1, ...).  The workload's public key (the key a key broker
 * wraps secrets to) sits where Trustee's broker looks for it:
 * submods.cpu0["ear.veraison.annotated-evidence"].runtime_data_claims["tee-pubkey"].
 *
 * Verification pins the issuer's keys (a PEM key or a JWKS the relying
 * party holds) and never uses a key carried in the token: a header with
 * jwk, x5c, x5u or jku is rejected outright, alg must be exactly ES256, and
 * exp / nbf / iat are checked against an injected clock. */
#ifndef CACHET_TOKEN_H
#define CACHET_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cachet/appraisal.h"
#include "cachet/clock.h"
#include "cachet/evidence.h"
#include "cachet/rc.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CACHET_EAR_PROFILE "tag:cachet.dev,2026:ear/1"
#define CACHET_EAR_ISSUER "cachet-verifier"
#define CACHET_EAR_DEVELOPER "https://cachet.dev"
#define CACHET_TOKEN_DEFAULT_LIFETIME 300 /* seconds (Trustee's default) */
#define CACHET_TOKEN_MAX_LEN ((size_t)256 << 10)

/* ---- the issuer's key ------------------------------------------------------ */

typedef struct cachet_token_issuer cachet_token_issuer;

/* A fresh P-256 key (kept in memory only). */
cachet_rc cachet_token_issuer_generate(cachet_token_issuer **out);
/* From a PEM (or DER) EC P-256 private key. */
cachet_rc cachet_token_issuer_from_pem(const uint8_t *buf, size_t len, cachet_token_issuer **out);
/* From a key file; with create, a missing file is generated and written
 * (mode 0600) first.  *created (may be NULL) says whether that happened. */
cachet_rc cachet_token_issuer_load(const char *path, bool create, cachet_token_issuer **out,
                                   bool *created);
void cachet_token_issuer_free(cachet_token_issuer *iss);
/* The key id: base64url of the RFC 7638 thumbprint of the public key. */
const char *cachet_token_issuer_kid(const cachet_token_issuer *iss);
/* {"keys":[{"kty":"EC","crv":"P-256","x","y","alg":"ES256","use":"sig","kid"}]}
 * as JSON text (malloc'd). */
cachet_rc cachet_token_issuer_jwks(const cachet_token_issuer *iss, char **json);

/* ---- issuing an EAR --------------------------------------------------------- */

typedef struct cachet_ear_params {
    const cachet_verify_result *primary;         /* the CPU (or only) evidence */
    const cachet_verify_result *const *devices;  /* GPU evidence verified with it */
    size_t n_devices;
    const cachet_appraisal *appraisal;           /* the policy's verdict; NULL: none applied */
    /* The runtime data verified to be bound into the primary evidence
     * (protocols.md §1.7); NULL: the primary's "runtime_data_claims" claim
     * when it has one and verified. */
    const json_t *runtime_data;
    int64_t iat;                                 /* issue time (Unix seconds) */
    int64_t lifetime;                            /* seconds; 0: the default */
    const uint8_t *nonce;                        /* eat_nonce when 8..64 bytes; may be NULL */
    size_t nonce_len;
    const char *issuer;                          /* "iss"; NULL: CACHET_EAR_ISSUER */
} cachet_ear_params;

/* The EAR claims-set (new reference). */
cachet_rc cachet_ear_claims(const cachet_ear_params *p, json_t **out);
/* Sign a claims-set as a compact JWS: header {"alg":"ES256","typ":"JWT","kid"}. */
cachet_rc cachet_token_sign(const cachet_token_issuer *iss, const json_t *claims, char **jwt);
/* Both: the EAR JWT (malloc'd). */
cachet_rc cachet_ear_issue(const cachet_token_issuer *iss, const cachet_ear_params *p,
                           char **jwt);

/* The AR4SI trustworthiness vector and ear.status of one verified result
 * under an appraisal (NULL: none), as documented in docs/token.md §3. */
cachet_rc cachet_ear_appraise_result(const cachet_verify_result *r, const cachet_appraisal *a,
                                     json_t **vector, const char **status);
/* EAR tier of a vector: "none", "affirming", "warning" or "contraindicated". */
const char *cachet_ear_status_of_vector(const json_t *vector);

/* ---- verifying a token -------------------------------------------------------- */

/* The keys a relying party pins. */
typedef struct cachet_token_keys cachet_token_keys;

/* From a JWKS document (EC P-256 keys; others are skipped, none usable is an error). */
cachet_rc cachet_token_keys_from_jwks(const char *json, size_t len, cachet_token_keys **out);
/* From a PEM public key (SubjectPublicKeyInfo) or private key. */
cachet_rc cachet_token_keys_from_pem(const uint8_t *buf, size_t len, cachet_token_keys **out);
cachet_rc cachet_token_keys_from_issuer(const cachet_token_issuer *iss, cachet_token_keys **out);
void cachet_token_keys_free(cachet_token_keys *k);

typedef struct cachet_token_verify_opts {
    const cachet_clock *clock;  /* NULL: the system clock */
    int64_t leeway;             /* seconds of clock skew tolerated; 0..300 */
    const char *profile;        /* eat_profile required; NULL: CACHET_EAR_PROFILE */
} cachet_token_verify_opts;

/* Verify a compact JWS EAR and return its claims (new reference).
 * CACHET_E_FORMAT (shape), _UNSUPPORTED (alg, typ, crit), _POLICY (a key
 * in the header, an unknown kid, wrong profile), _SIGNATURE, _EXPIRED
 * (exp passed, nbf or iat in the future); the detail says which. */
cachet_rc cachet_token_verify(const cachet_token_keys *keys, const char *jwt, size_t len,
                              const cachet_token_verify_opts *opts, json_t **claims);

/* ---- reading verified claims (deployed dotted or draft-03 underscore names) */

/* submods[label]["ear.status"] (or "ear_status"); NULL when absent. */
const char *cachet_ear_submod_status(const json_t *claims, const char *label);
/* The workload's public key JWK (cpu0's runtime_data_claims["tee-pubkey"]); NULL when absent. */
const json_t *cachet_ear_tee_pubkey(const json_t *claims);

#ifdef __cplusplus
}
#endif
#endif
