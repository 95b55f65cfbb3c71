/* Runtime data: how a workload binds a verifier's nonce and its own public
 * key (and any device evidence) into hardware evidence.
 *
 * The rule is the key-broker protocol's (../shared/docs/protocols.md §1.7,
 * the Trustee KBS 0.4.0 rule), so that evidence made by a cachet attester is
 * accepted by a Trustee key broker and the other way round:
 *
 *   device_rd  = JCS({"nonce": N, "tee-pubkey": JWK})
 *   dev_digest = SHA-384(device_rd)         GPU SPDM nonce = dev_digest[0..32)
 *   primary_rd = JCS({"additional-evidence": A, "nonce": N, "tee-pubkey": JWK})
 *   cpu_digest = SHA-384(primary_rd)        REPORT_DATA = cpu_digest || 0^16
 *
 * N is the challenge nonce as text (the KBS sends base64; cachet's CLI turns
 * --nonce HEX into the base64 of those bytes), JWK the workload's public key
 * (the key the broker wraps secrets to), A the exact JSON text of the device
 * evidence ("" when there is none; hashed byte for byte).  cachet adds one
 * optional member, "user-data" (base64url), for callers that bind more.
 *
 * JCS is RFC 8785 JSON canonicalization, implemented here for the JSON that
 * runtime data holds: objects, arrays, strings, integers up to 2^53, true,
 * false, null (non-integer numbers are refused rather than risk a
 * differently formatted number on the two sides). */
#ifndef CACHET_RUNTIME_DATA_H
#define CACHET_RUNTIME_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cachet/crypto.h"
#include "cachet/rc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* REPORT_DATA / REPORTDATA size of SNP, TDX, SGX and cachet's sample evidence. */
#define CACHET_REPORT_DATA_LEN 64
/* Largest runtime data (JCS text) accepted or produced. */
#define CACHET_RUNTIME_DATA_MAX ((size_t)1 << 20)
/* Deepest JSON nesting JCS accepts. */
#define CACHET_JCS_MAX_DEPTH 64

/* ---- JCS (RFC 8785) ----------------------------------------------------- */

/* Canonical text of j into a malloc'd NUL-terminated buffer.
 * CACHET_E_UNSUPPORTED for a non-integer number or an integer beyond
 * +-2^53; CACHET_E_LIMIT for nesting deeper than CACHET_JCS_MAX_DEPTH. */
cachet_rc cachet_jcs_dump(const json_t *j, char **out, size_t *len);

/* ---- JWK (RFC 7517/7518) for EC public keys -------------------------------- */

/* {"kty":"EC","crv":"P-256","x":...,"y":...} plus "alg" when alg is
 * non-NULL (e.g. "ECDH-ES+A256KW" for a tee-pubkey, "ES256" in a JWKS). */
cachet_rc cachet_jwk_from_pkey(const cachet_pkey *k, const char *alg, json_t **out);
/* An EC public key from a JWK: kty EC, crv P-256/P-384/P-521, x and y
 * base64url of exactly the field size; a private member ("d") is refused. */
cachet_rc cachet_jwk_to_pkey(const json_t *jwk, cachet_pkey **out);
/* RFC 7638 thumbprint: SHA-256 over the JCS of {crv, kty, x, y}. */
cachet_rc cachet_jwk_thumbprint(const json_t *jwk, uint8_t out[CACHET_SHA256_LEN]);

/* ---- runtime data ---------------------------------------------------------- */

typedef struct cachet_runtime_data_params {
    const char *nonce;                  /* the challenge nonce as text; required */
    const cachet_pkey *tee_pubkey;      /* the workload's key (EC); may be NULL */
    const char *tee_pubkey_alg;         /* JWK "alg"; NULL: "ECDH-ES+A256KW" */
    const char *additional_evidence;    /* device evidence JSON text; NULL: "" */
    const uint8_t *user_data;           /* cachet extension; may be NULL */
    size_t user_data_len;
} cachet_runtime_data_params;

/* The primary runtime-data object (new reference in *out). */
cachet_rc cachet_runtime_data_build(const cachet_runtime_data_params *p, json_t **out);
/* The nonce text cachet's CLI uses for raw nonce bytes: standard base64
 * with padding, as the KBS challenge carries it (malloc'd). */
char *cachet_runtime_data_nonce_text(const uint8_t *nonce, size_t len);

/* SHA-384 over the JCS text of a runtime-data object (out: 48 bytes). */
cachet_rc cachet_runtime_data_digest(const json_t *rd, uint8_t out[CACHET_SHA384_LEN]);
/* The device digest: SHA-384 over JCS({"nonce", "tee-pubkey"}) taken from
 * rd (the GPU nonce is its first 32 bytes). */
cachet_rc cachet_runtime_data_device_digest(const json_t *rd, uint8_t out[CACHET_SHA384_LEN]);
/* REPORT_DATA for a runtime-data object: its digest followed by 16 zero bytes. */
cachet_rc cachet_runtime_data_report_data(const json_t *rd,
                                          uint8_t out[CACHET_REPORT_DATA_LEN]);

/* How many leading bytes of the report data (cachet_runtime_data_report_data)
 * a family's evidence carries as its freshness value, i.e. the nonce a
 * verifier must expect: 48 (the SHA-384 digest alone) for "tpm" (the quote's
 * extraData) and "nitro" (the document's nonce), 64 for SNP, TDX, sample and
 * every other family (a 64-byte REPORT_DATA field).  tee is a family name as
 * cachet_evidence_find() resolves it (aliases included); NULL: 64. */
size_t cachet_runtime_data_binding_len(const char *tee);

/* Check a received runtime-data object's shape (verifier side): an object
 * with a string "nonce", a string "additional-evidence" (present, possibly
 * empty), an optional EC JWK "tee-pubkey", an optional base64url
 * "user-data", and nothing else.  The detail names what is wrong. */
cachet_rc cachet_runtime_data_check(const json_t *rd);

/* After verification has matched the evidence's report data to this
 * runtime data: record its "user-data" (if any) as the claim "user_data"
 * (hex) of the verified result, so that a policy can pin it
 * (`"claims": {"user_data": [hex]}`; cachet serve binds its model's content
 * digest there, docs/serve.md).  Does nothing for an unverified result. */
struct cachet_verify_result;
cachet_rc cachet_runtime_data_annotate(struct cachet_verify_result *res, const json_t *rd);

#ifdef __cplusplus
}
#endif
#endif
