/* The evidence verifier core.
 *
 * One request shape and one result shape for every TEE family (SEV-SNP, TDX,
 * NVIDIA GPUs, TPM, Nitro, ...), as ../docs/verify-contract.md describes.
 * Families plug in through an ops table (name, aliases, content detector,
 * verify function); the core dispatches through that table and never tests
 * a TEE name itself.
 *
 *   cachet_endorsements *e = cachet_endorsements_new();
 *   cachet_endorsements_add_path(e, "vcek.der");          // files or directories
 *   cachet_verify_request req = { .evidence = buf, .evidence_len = len,
 *                                 .endorsements = e, .time = t };
 *   cachet_verify_result *res;
 *   if (cachet_evidence_verify(&req, &res) == CACHET_OK) {
 *       json_t *j = cachet_verify_result_to_json(res);     // the --json object
 *       ...
 *       cachet_verify_result_free(res);
 *   }
 *
 * Verification is a pure function of the evidence bytes, the endorsements,
 * the trust anchors and the time: nothing here reads the clock or the network.
 */
#ifndef CACHET_EVIDENCE_H
#define CACHET_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "cachet/checklog.h"
#include "cachet/crypto.h"
#include "cachet/rc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- endorsements ------------------------------------------------------ */

/* What a file given as an endorsement turned out to be, judged by content
 * (never by its name). */
typedef enum cachet_endorsement_kind {
    CACHET_ENDORSEMENT_CERTS, /* one or more X.509 certificates, PEM or DER */
    CACHET_ENDORSEMENT_CRL,   /* an X.509 CRL, PEM or DER */
    CACHET_ENDORSEMENT_JSON,  /* a JSON document (Intel collateral, ...) */
    CACHET_ENDORSEMENT_XML,   /* an XML document (NVIDIA RIM, ...) */
    CACHET_ENDORSEMENT_OTHER, /* none of the above (event logs, unknown) */
} cachet_endorsement_kind;

typedef struct cachet_endorsement {
    char *name;                   /* the path it came from, or the caller's label */
    cachet_endorsement_kind kind;
    uint8_t *data;                /* the bytes as read */
    size_t len;
    cachet_x509 **certs;          /* CERTS: every certificate, in file order */
    size_t n_certs;
    cachet_x509_crl *crl;         /* CRL */
    json_t *json;                 /* JSON */
    const char *why;              /* OTHER: why it was not recognised (static text) */
} cachet_endorsement;

/* A set of endorsements.  A certificate in it is only ever an untrusted
 * intermediate: being an endorsement never makes it a trust anchor. */
typedef struct cachet_endorsements cachet_endorsements;

cachet_endorsements *cachet_endorsements_new(void);
void cachet_endorsements_free(cachet_endorsements *e);
/* A file, or a directory (every regular file directly in it, by name order).
 * CACHET_E_IO / CACHET_E_NOT_FOUND when it cannot be read. */
cachet_rc cachet_endorsements_add_path(cachet_endorsements *e, const char *path);
/* Bytes the caller already holds (copied); name labels them in reports. */
cachet_rc cachet_endorsements_add_bytes(cachet_endorsements *e, const char *name,
                                        const void *data, size_t len);
size_t cachet_endorsements_count(const cachet_endorsements *e);
const cachet_endorsement *cachet_endorsements_get(const cachet_endorsements *e, size_t i);
const char *cachet_endorsement_kind_str(cachet_endorsement_kind k); /* "certificates", ... */

/* Largest single endorsement or evidence file the core reads. */
#define CACHET_EVIDENCE_MAX_FILE ((size_t)64 << 20)

/* ---- verified-chain cache ---------------------------------------------- */

/* Families remember chains they verified (keyed by a digest of the leaf and
 * the anchor, valid for the path's validity window), so that a verifier that
 * sees many reports from one machine pays for the chain once.  Thread-safe;
 * optional (a request without one verifies everything every time). */
typedef struct cachet_verify_cache cachet_verify_cache;
cachet_verify_cache *cachet_verify_cache_new(size_t max_entries);
void cachet_verify_cache_free(cachet_verify_cache *c);
size_t cachet_verify_cache_hits(const cachet_verify_cache *c);

/* ---- request and result ------------------------------------------------ */

typedef struct cachet_verify_request {
    const uint8_t *evidence;   /* the evidence in its native form */
    size_t evidence_len;
    const char *tee;           /* family name or alias; NULL: recognise by content */
    const cachet_endorsements *endorsements; /* may be NULL */
    /* Extra trust anchors (--trust-anchor).  Families with built-in vendor
     * roots (AMD, Intel, NVIDIA, AWS) never let these stand in for them. */
    cachet_x509 *const *trust_anchors;
    size_t n_trust_anchors;
    int64_t time;              /* Unix seconds used for every validity check */
    const uint8_t *nonce;      /* expected freshness value; NULL: not checked */
    size_t nonce_len;
    cachet_verify_cache *cache; /* may be NULL */
    /* Bare public keys given as trust anchors (--trust-anchor with a PEM
     * public or private key instead of a certificate): only families whose
     * evidence is signed by a key the user holds (sample) use them. */
    cachet_pkey *const *trust_keys;
    size_t n_trust_keys;
} cachet_verify_request;

/* EAR vocabulary. */
typedef enum cachet_ev_status {
    CACHET_EV_AFFIRMING,       /* verified, nothing of concern */
    CACHET_EV_WARNING,         /* verified, but something a production policy may refuse */
    CACHET_EV_CONTRAINDICATED, /* a required check failed, or the TEE is in debug mode */
} cachet_ev_status;

const char *cachet_ev_status_str(cachet_ev_status s); /* "affirming" | "warning" | "contraindicated" */

typedef struct cachet_verify_result {
    const char *tee;           /* the family's name ("snp"); static */
    const char *tee_description; /* "AMD SEV-SNP attestation report"; static */
    bool auto_detected;        /* the family was recognised by content */
    cachet_ev_status status;
    bool verified;             /* every signature, chain and binding check passed */
    json_t *claims;            /* object; family-specific keys, documented per family */
    cachet_checklog *checks;   /* every check run, in order */
    json_t *errors;            /* array of strings: why anything failed */
    json_t *warnings;          /* array of strings: why the status is warning */
    const char *const *key_claims; /* claims the human report shows (NULL: all scalars) */
} cachet_verify_result;

void cachet_verify_result_free(cachet_verify_result *r);
/* {"tee","status","verified","claims","checks","errors"} per verify-contract.md
 * (new reference; NULL on allocation failure). */
json_t *cachet_verify_result_to_json(const cachet_verify_result *r);
/* The human report: one line per check with its spec reference, the key
 * claims, then the status. */
void cachet_verify_result_print(const cachet_verify_result *r, FILE *out);

/* ---- families ---------------------------------------------------------- */

/* Context a family's verify function writes its checks and claims into
 * (src/evidence/family.h has the functions families call). */
typedef struct cachet_ev_ctx cachet_ev_ctx;

typedef struct cachet_evidence_ops {
    const char *name;                /* "snp": the --tee name and the result's tee */
    const char *const *aliases;      /* NULL-terminated, or NULL */
    const char *description;         /* "AMD SEV-SNP attestation report" */
    /* How sure the family is that buf is its evidence: 0 (no) .. 100. Must
     * be cheap and must not trust anything it reads beyond shape. */
    int (*detect)(const uint8_t *buf, size_t len);
    /* Run every check; record each in ctx.  Returns CACHET_OK when the
     * verification ran (whatever it found); an error only for internal
     * failures (allocation), which the core turns into contraindicated. */
    cachet_rc (*verify)(const struct cachet_evidence_ops *self, const cachet_verify_request *req,
                        cachet_ev_ctx *ctx);
    const char *const *key_claims;   /* NULL-terminated claim names for the human report */
    const void *config;              /* family-specific (e.g. a replacement trust store in tests) */
} cachet_evidence_ops;

/* Every registered family (a static table). */
const cachet_evidence_ops *const *cachet_evidence_families(size_t *n);
/* ---- Trustee's SNP evidence form ----------------------------------------- */
/* {"attestation_report": {<the sev crate's serde form>}, "cert_chain":
 * [{"cert_type": "VCEK", "data": [bytes]}] | null} (protocols.md §1.7), as a
 * Trustee guest sends it, rebuilt into the native 0x4A0-byte report (byte
 * for byte what the firmware signed; unknown members refused) and the
 * certificates it carries (untrusted: endorsements, never anchors). */
#define CACHET_SNP_TRUSTEE_MAX_CERTS 4
#define CACHET_SNP_TRUSTEE_MAX_CERT 16384
typedef struct cachet_snp_trustee {
    uint8_t report[0x4A0];
    uint8_t *certs[CACHET_SNP_TRUSTEE_MAX_CERTS]; /* DER, malloc'd */
    size_t cert_len[CACHET_SNP_TRUSTEE_MAX_CERTS];
    char cert_type[CACHET_SNP_TRUSTEE_MAX_CERTS][16];
    size_t n_certs;
} cachet_snp_trustee;
cachet_rc cachet_snp_from_trustee_json(const json_t *ev, cachet_snp_trustee *out);
void cachet_snp_trustee_clear(cachet_snp_trustee *t);

/* By name or alias; NULL when unknown. */
const cachet_evidence_ops *cachet_evidence_find(const char *name);
/* The family that claims buf most confidently; NULL when none does or two
 * tie at the top (then the caller must name the family). */
const cachet_evidence_ops *cachet_evidence_detect(const uint8_t *buf, size_t len);

/* Verify with the family named by req->tee, or recognised by content.
 * Returns CACHET_E_NOT_FOUND (unknown name / unrecognised format) or
 * CACHET_E_INVALID_ARG / CACHET_E_NOMEM without a result; otherwise CACHET_OK
 * with *out set, whatever the verdict. */
cachet_rc cachet_evidence_verify(const cachet_verify_request *req, cachet_verify_result **out);
/* The same with an explicit family (req->tee is ignored). */
cachet_rc cachet_evidence_verify_with(const cachet_evidence_ops *ops,
                                      const cachet_verify_request *req,
                                      cachet_verify_result **out);

#ifdef __cplusplus
}
#endif
#endif
