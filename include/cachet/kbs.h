/* The key broker service (docs/kbs.md): the Trustee KBS attestation
 * protocol 0.4.0 (../shared/docs/protocols.md §1) over libmicrohttpd, a
 * SQLite store with resources encrypted at rest under a key encryption key
 * (KEK) held outside the database, and a deny-by-default resource policy.
 *
 *   cachet_kbs_config cfg = { .listen = "127.0.0.1:0", .http = true,
 *                             .db_path = "kbs.db", .kek = kek };
 *   cachet_kbs *k;
 *   if (cachet_kbs_start(&cfg, &k) == CACHET_OK) { ...; cachet_kbs_stop(k); }
 */
#ifndef CACHET_KBS_H
#define CACHET_KBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cachet/clock.h"
#include "cachet/crypto.h"
#include "cachet/evidence.h"
#include "cachet/rc.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CACHET_KBS_PROTOCOL_VERSION "0.4.0"
#define CACHET_KBS_KEK_LEN 32
#define CACHET_KBS_MAX_BODY ((size_t)2 << 20)     /* Trustee's default */
#define CACHET_KBS_MAX_RESOURCE ((size_t)1 << 20) /* one secret */
#define CACHET_KBS_MAX_PATH 256
#define CACHET_KBS_SESSION_TIMEOUT 300            /* seconds */
#define CACHET_KBS_MAX_SESSIONS 65536 /* ~9 MiB; O(1) lookup and reuse (session.c) */
#define CACHET_KBS_KEK_ENV "CACHET_KBS_KEK"       /* 64 hex digits */

/* ---- error types (protocols.md §1.11) ------------------------------------- */

typedef enum cachet_kbs_error {
    CACHET_KBS_ERR_ATTESTATION,     /* AttestationError (401) */
    CACHET_KBS_ERR_INVALID_PATH,    /* InvalidRequestPath (404) */
    CACHET_KBS_ERR_JWE,             /* JweError (401) */
    CACHET_KBS_ERR_PLUGIN_NOT_FOUND,/* PluginNotFound (404) */
    CACHET_KBS_ERR_PLUGIN_INTERNAL, /* PluginInternalError (401; 404 when the resource is absent) */
    CACHET_KBS_ERR_POLICY_DENY,     /* PolicyDeny (401) */
    CACHET_KBS_ERR_SERDE,           /* SerdeError (401) */
    CACHET_KBS_ERR_TOKEN_NOT_FOUND, /* TokenNotFound (401) */
    CACHET_KBS_ERR_TOKEN_VERIFIER,  /* TokenVerifierError (401) */
    CACHET_KBS_ERR_HTTP,            /* HTTPFailed (401) */
    CACHET_KBS_ERR_ADMIN_AUTH,      /* AdminAuthAccess (401) */
    CACHET_KBS_ERR_PARSE_POLICY,    /* ParsePolicyError (401) */
} cachet_kbs_error;

/* The Rust variant name ("PolicyDeny"). */
const char *cachet_kbs_error_name(cachet_kbs_error e);
/* {"type":"https://github.com/confidential-containers/kbs/errors/<name>","detail":...}
 * as malloc'd JSON text. */
char *cachet_kbs_error_json(cachet_kbs_error e, const char *detail);

/* ---- protocol messages (src/kbs/messages.c; parsers of untrusted input) --- */

typedef struct cachet_kbs_request {
    char version[16];
    char tee[32];
} cachet_kbs_request;

/* A Request body: version must be 0.4.0, tee a known kbs-types name. */
cachet_rc cachet_kbs_parse_request(const char *text, size_t len, cachet_kbs_request *out);

typedef struct cachet_kbs_attestation {
    json_t *runtime_data;          /* the object as received (owned) */
    const char *nonce;             /* runtime_data.nonce (borrowed) */
    const json_t *tee_pubkey;      /* runtime_data["tee-pubkey"] (borrowed) */
    char *additional_evidence;     /* tee-evidence.additional_evidence ("" when none) */
    uint8_t *evidence;             /* the primary evidence in its native form */
    size_t evidence_len;
    /* Certificates sent with the evidence (Trustee's SNP cert_chain): untrusted
     * endorsements for this request only; owned; NULL when none. */
    cachet_endorsements *carried;
} cachet_kbs_attestation;

/* An Attestation body (additional_evidence: "" or the JSON text of
 * {"nvidia": <GPU evidence>}, verified with the primary).  The primary evidence is taken from
 * primary_evidence.evidence (base64 of cachet's native form, any family),
 * primary_evidence.quote (TDX/SGX, base64) or Trustee's SNP form
 * {"attestation_report": {...}, "cert_chain": [...]} (rebuilt into the
 * native report; its certificates become `carried`).  init-data must be
 * absent or null. */
cachet_rc cachet_kbs_parse_attestation(const char *text, size_t len, cachet_kbs_attestation *out);
void cachet_kbs_attestation_clear(cachet_kbs_attestation *a);

/* "repo/type/tag": exactly three segments of [A-Za-z0-9_-][A-Za-z0-9_.-]*. */
bool cachet_kbs_resource_path_valid(const char *path);

/* ---- JWE (src/kbs/jwe.c) ---------------------------------------------------- */

/* The flattened JWE (ECDH-ES+A256KW, A256GCM) of pt to the EC JWK tee_pubkey,
 * with the protected header in the canonical form guest-components rebuild
 * (protocols.md §1.8).  Malloc'd JSON text. */
cachet_rc cachet_jwe_encrypt(const json_t *tee_pubkey, const uint8_t *pt, size_t len, char **out);
/* Decrypt a flattened JWE (ECDH-ES+A256KW, A256GCM) with the workload's EC
 * private key; the GCM AAD is the received "protected" text (RFC 7516).
 * *pt is secure memory (cachet_secure_free). */
cachet_rc cachet_jwe_decrypt(const cachet_pkey *priv, const char *jwe, size_t len, uint8_t **pt,
                             size_t *pt_len);

/* ---- the store (src/kbs/store.c) ------------------------------------------- */

typedef struct cachet_kbs_store cachet_kbs_store;

/* Open (creating) a SQLite database in WAL mode.  The KEK is checked
 * against the check value stored at creation: a wrong KEK is
 * CACHET_E_AUTH and nothing is returned. */
cachet_rc cachet_kbs_store_open(const char *path, const uint8_t kek[CACHET_KBS_KEK_LEN],
                                cachet_kbs_store **out);
void cachet_kbs_store_close(cachet_kbs_store *s);
cachet_rc cachet_kbs_store_put(cachet_kbs_store *s, const char *path, const uint8_t *data,
                               size_t len);
/* *data is secure memory (cachet_secure_free); CACHET_E_NOT_FOUND when absent. */
cachet_rc cachet_kbs_store_get(cachet_kbs_store *s, const char *path, uint8_t **data, size_t *len);
cachet_rc cachet_kbs_store_delete(cachet_kbs_store *s, const char *path);
/* The stored paths as a JSON array (new reference). */
cachet_rc cachet_kbs_store_list(cachet_kbs_store *s, json_t **out);
/* Named policy documents: "attestation" (docs/policy.md) and "resource"
 * (docs/kbs.md §5).  Get: malloc'd text, CACHET_E_NOT_FOUND when unset. */
cachet_rc cachet_kbs_store_set_policy(cachet_kbs_store *s, const char *name, const char *text);
cachet_rc cachet_kbs_store_get_policy(cachet_kbs_store *s, const char *name, char **text);

/* Audit log (src/kbs/audit.c): an append-only, MAC-chained record (keyed
 * from the KEK) of every attestation, release, refusal and admin change.
 * Never pass a secret.  Read: records after seq `after`, at most max, as a
 * JSON array of {"seq","time","event","who","what","decision","rule","why"}.
 * Verify: CACHET_E_MISMATCH naming the first deleted, inserted or edited
 * record; *count the records checked. */
cachet_rc cachet_kbs_store_audit(cachet_kbs_store *s, const char *event, const char *who,
                                 const char *what, const char *decision, const char *rule,
                                 const char *why);
cachet_rc cachet_kbs_store_audit_read(cachet_kbs_store *s, int64_t after, size_t max, json_t **out);
cachet_rc cachet_kbs_store_audit_verify(cachet_kbs_store *s, size_t *count);

/* The KEK: 32 raw bytes or 64 hex digits (whitespace-trimmed) in a file, or
 * 64 hex digits in $CACHET_KBS_KEK when path is NULL. */
cachet_rc cachet_kbs_kek_load(const char *path, uint8_t kek[CACHET_KBS_KEK_LEN]);

/* ---- resource policy (src/kbs/rpolicy.c) ------------------------------------ */

typedef struct cachet_kbs_rpolicy cachet_kbs_rpolicy;

/* {"version":1,"grants":[{"resources":[globs over repo/type/tag],"rules":[appraisal rule names],
 *   "status":["affirming",...]}]}; unknown keys are errors; "" or NULL: deny all. */
cachet_rc cachet_kbs_rpolicy_parse(const char *text, size_t len, cachet_kbs_rpolicy **out);
void cachet_kbs_rpolicy_free(cachet_kbs_rpolicy *p);
/* Whether verified EAR claims may read path; *why (static or malloc'd into
 * why_buf) says which grant allowed it or why none did. */
bool cachet_kbs_rpolicy_allows(const cachet_kbs_rpolicy *p, const json_t *claims,
                               const char *path, char *why, size_t why_cap);

/* ---- the server (src/kbs/server.c) ---------------------------------------- */

typedef struct cachet_kbs_config {
    const char *listen;              /* "HOST:PORT"; PORT 0 picks a free one */
    bool http;                       /* plain HTTP: only on a loopback address */
    const char *tls_cert_path;       /* HTTPS (when !http): PEM certificate chain */
    const char *tls_key_path;        /*                     PEM private key */
    const char *db_path;             /* SQLite file */
    const uint8_t *kek;              /* CACHET_KBS_KEK_LEN bytes */
    const char *token_key_path;      /* EAR signing key; NULL: a fresh key per run */
    cachet_pkey *const *trust_keys;  /* keys sample reports are signed with (the array is
                                      * copied; the keys must outlive the server) */
    size_t n_trust_keys;
    /* Certificate trust anchors for certificate-based evidence, e.g. the CA
     * that issued TPM AK certificates (cachet tpm-enroll); the array and the
     * certificates must outlive the server.  Never stand-ins for the built-in
     * vendor roots (AMD, Intel, NVIDIA, AWS). */
    cachet_x509 *const *trust_anchors;
    size_t n_trust_anchors;
    const char *endorsements_dir;    /* may be NULL; RIMs for GPU evidence go here */
    /* Replaces the built-in nvgpu family for additional "nvidia" evidence
     * (tests with their own PKI); NULL in production. */
    const struct cachet_evidence_ops *nvidia_ops;
    int64_t session_timeout;         /* seconds; 0: CACHET_KBS_SESSION_TIMEOUT */
    size_t max_body;                 /* 0: CACHET_KBS_MAX_BODY */
    unsigned conn_timeout;           /* seconds per connection; 0: 15 */
    unsigned threads;                /* 0: 4 */
    cachet_pkey *const *admin_keys;  /* Ed25519 keys admin JWTs are checked against (array
                                      * copied; keys must outlive the server); none: no admin API */
    size_t n_admin_keys;
    unsigned rate_limit;             /* requests per second per client address; 0: 20 */
    unsigned rate_burst;             /* bucket size; 0: 100 */
    const cachet_clock *clock;       /* NULL: the system clock */
} cachet_kbs_config;

typedef struct cachet_kbs cachet_kbs;

cachet_rc cachet_kbs_start(const cachet_kbs_config *cfg, cachet_kbs **out);
uint16_t cachet_kbs_port(const cachet_kbs *k);
void cachet_kbs_stop(cachet_kbs *k);

/* ---- admin (src/kbs/admin.c) ------------------------------------------------ */

/* An admin JWT signed with an Ed25519 key: {"alg":"EdDSA","typ":"JWT"},
 * claims iat = nbf = now, exp = now + lifetime (1..7200 s).  Malloc'd. */
cachet_rc cachet_kbs_admin_token(const cachet_pkey *key, int64_t now, int64_t lifetime,
                                 char **jwt);

/* ---- dry run (src/kbs/dryrun.c) --------------------------------------------- */

/* Would this evidence (native form; nonce, when non-NULL, the freshness
 * value it must carry) get that resource under the store's policies?  *report (new reference):
 * {"verified","status","appraisal":{...},"resource":path,"decision":"release"|"refuse",
 *  "reason":...}.  CACHET_OK whatever the decision. */
cachet_rc cachet_kbs_dry_run(cachet_kbs_store *s, const cachet_kbs_config *cfg,
                             const uint8_t *evidence, size_t len, const char *tee,
                             const char *path, const uint8_t *nonce, size_t nonce_len,
                             json_t **report);

#ifdef __cplusplus
}
#endif
#endif
