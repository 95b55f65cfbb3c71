/* TPM 2.0 quote evidence (internal to src/evidence/tpm, src/evidence/azure,
 * src/attester/tpm and their tests).
 *
 * Sources: TCG TPM 2.0 Library Part 1 (Names, credential protection, KDFa),
 * Part 2 (TPMS_ATTEST, TPMT_SIGNATURE, TPMT_PUBLIC, TPMA_OBJECT), Part 3
 * (TPM2_Quote, TPM2_MakeCredential, TPM2_ActivateCredential); TCG EK
 * Credential Profile; TCG PC Client Platform Firmware Profile (event log);
 * ../docs/evidence-formats.md §4 summarises them.  TPM structures are
 * (un)marshalled with libtss2-mu, never by hand; the event log (little-endian,
 * not a TPM structure) and the containers (JSON bundle, protobuf) are read
 * with bounded readers. */
#ifndef CACHET_EVIDENCE_TPM_H
#define CACHET_EVIDENCE_TPM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tss2/tss2_tpm2_types.h>

#include "cachet/crypto.h"
#include "cachet/evidence.h"
#include "cachet/rc.h"

/* Spec references cited by the checks. */
#define TPM_SPEC_GENERATED "TPM 2.0 Part 2 §6.2 TPM_GENERATED"
#define TPM_SPEC_ST "TPM 2.0 Part 2 §6.9 TPM_ST"
#define TPM_SPEC_ATTEST "TPM 2.0 Part 2 §10.12.12 TPMS_ATTEST"
#define TPM_SPEC_QUOTE "TPM 2.0 Part 3 §18.4 TPM2_Quote"
#define TPM_SPEC_PCR_SELECT "TPM 2.0 Part 2 §10.9.7 TPML_PCR_SELECTION"
#define TPM_SPEC_SIGNATURE "TPM 2.0 Part 2 §11.3.4 TPMT_SIGNATURE"
#define TPM_SPEC_PUBLIC "TPM 2.0 Part 2 §12.2.4 TPMT_PUBLIC"
#define TPM_SPEC_OBJECT "TPM 2.0 Part 2 §8.3 TPMA_OBJECT (restricted signing key)"
#define TPM_SPEC_NAME "TPM 2.0 Part 1 §16 Names"
#define TPM_SPEC_CREDENTIAL "TPM 2.0 Part 1 §24 credential protection; Part 3 §12.6 TPM2_MakeCredential"
#define TPM_SPEC_EK "TCG EK Credential Profile §2.1.5 EK certificate"
#define TPM_SPEC_AK_CERT "RFC 5280 §6 path validation (AK certificate)"
#define TPM_SPEC_EVENTLOG "TCG PC Client PFP §10.2 crypto-agile event log"
#define TPM_SPEC_CONTAINER "cachet docs/evidence/tpm.md"

#define TPM_PCR_COUNT 24u
#define TPM_MAX_BANKS 4u
#define TPM_MAX_QUOTES 8u
#define TPM_MAX_CHAIN 8u
#define TPM_MAX_DIGEST 64u
#define TPM_MAX_NAME (2u + TPM_MAX_DIGEST)

/* ---- hash algorithms (TPM_ALG_ID) ------------------------------------------ */

size_t tpm_alg_digest_len(uint16_t alg);        /* 20/32/48/64; 0 when unknown */
const char *tpm_alg_name(uint16_t alg);         /* "sha256"; "0x0012" style never (NULL) */
uint16_t tpm_alg_from_name(const char *name);   /* TPM2_ALG_ERROR when unknown */
/* The cachet digest for alg; false for SHA-1 (never accepted) and unknown. */
bool tpm_alg_hash(uint16_t alg, cachet_hash_alg *out);

/* ---- byte strings ------------------------------------------------------------ */

typedef struct tpm_blob {
    uint8_t *p;
    size_t len;
} tpm_blob;

void tpm_blob_free(tpm_blob *b);
cachet_rc tpm_blob_set(tpm_blob *b, const uint8_t *p, size_t len); /* copy */

/* ---- PCR values per bank ------------------------------------------------------ */

typedef struct tpm_pcr_bank {
    uint16_t alg;
    uint32_t present; /* bit i: PCR i has a value */
    uint8_t v[TPM_PCR_COUNT][TPM_MAX_DIGEST];
} tpm_pcr_bank;

typedef struct tpm_pcrs {
    tpm_pcr_bank bank[TPM_MAX_BANKS];
    size_t n;
} tpm_pcrs;

const tpm_pcr_bank *tpm_pcrs_find(const tpm_pcrs *p, uint16_t alg);
/* Set one value: CACHET_E_UNSUPPORTED for an unknown bank, E_FORMAT for a
 * wrong length, an index >= 24, or a second different value for one PCR,
 * E_LIMIT for a fifth bank. */
cachet_rc tpm_pcrs_set(tpm_pcrs *p, uint16_t alg, unsigned index, const uint8_t *v, size_t len);

/* ---- the evidence, whatever container it came in ------------------------------- */

typedef struct tpm_quote_raw {
    tpm_blob attest; /* TPMS_ATTEST exactly as signed */
    tpm_blob sig;    /* TPMT_SIGNATURE */
} tpm_quote_raw;

typedef struct tpm_evidence {
    const char *format;           /* static: "cachet TPM quote bundle v1", ... */
    tpm_blob ak_public;           /* TPMT_PUBLIC (the contents of a TPM2B_PUBLIC) */
    tpm_quote_raw quotes[TPM_MAX_QUOTES];
    size_t n_quotes;
    tpm_pcrs pcrs;
    tpm_blob event_log;           /* TCG PC Client log, or empty */
    tpm_blob ak_cert;             /* DER, or empty */
    tpm_blob ak_chain[TPM_MAX_CHAIN];
    size_t n_ak_chain;
    tpm_blob ek_public;           /* TPMT_PUBLIC, or empty */
    tpm_blob ek_cert;             /* DER, or empty */
    tpm_blob ek_chain[TPM_MAX_CHAIN];
    size_t n_ek_chain;
    tpm_blob cred_blob;           /* TPM2B_ID_OBJECT as sent to the TPM, or empty */
    tpm_blob enc_secret;          /* TPM2B_ENCRYPTED_SECRET, or empty */
} tpm_evidence;

void tpm_evidence_free(tpm_evidence *e);

/* cachet's JSON quote bundle (docs/evidence/tpm.md).  Strict: unknown keys,
 * duplicate keys, bad base64/hex, oversize fields and a missing
 * ak_public/quotes are errors (CACHET_E_FORMAT with the detail). */
cachet_rc tpm_bundle_parse(const uint8_t *buf, size_t len, tpm_evidence *out);
/* The bundle text for e (malloc'd, NUL-terminated). */
cachet_rc tpm_bundle_write(const tpm_evidence *e, char **out);
bool tpm_bundle_looks(const uint8_t *buf, size_t len);

/* go-tpm-tools' `attest.Attestation` protobuf (proto/attest.proto): fields
 * 1 ak_pub, 2 quotes {1 quote, 2 raw_sig, 3 pcrs {1 hash, 2 map}}, 3
 * event_log, 6 ak_cert, 7 intermediate_certs; 4, 5, 8, 9 are skipped. */
cachet_rc tpm_gce_parse(const uint8_t *buf, size_t len, tpm_evidence *out);
bool tpm_gce_looks(const uint8_t *buf, size_t len);

/* ---- TPM structures (libtss2-mu) ---------------------------------------------- */

typedef enum tpm_attest_stage {
    TPM_ATTEST_OK = 0,
    TPM_ATTEST_MAGIC,     /* tpm.quote.magic */
    TPM_ATTEST_TYPE,      /* tpm.quote.type */
    TPM_ATTEST_STRUCTURE, /* tpm.quote.structure */
} tpm_attest_stage;

/* A TPMS_ATTEST of type TPM_ST_ATTEST_QUOTE, consumed exactly (no trailing
 * bytes); PCR selections name PCRs 0..23 only. */
cachet_rc tpm_attest_parse(const uint8_t *buf, size_t len, TPMS_ATTEST *out,
                           tpm_attest_stage *stage);
const char *tpm_attest_stage_check(tpm_attest_stage s);
cachet_rc tpm_signature_parse(const uint8_t *buf, size_t len, TPMT_SIGNATURE *out);
/* A TPMT_PUBLIC consumed exactly. */
cachet_rc tpm_public_parse(const uint8_t *buf, size_t len, TPMT_PUBLIC *out);
/* A TPM2B_PUBLIC: its contents (size-checked) as a TPMT_PUBLIC slice. */
cachet_rc tpm_public2b_contents(const uint8_t *buf, size_t len, const uint8_t **tpmt,
                                size_t *tpmt_len);
/* RSA (2048..8192 bits) or ECC (P-256/384/521) public key of an object. */
cachet_rc tpm_public_pkey(const TPMT_PUBLIC *pub, cachet_pkey **out);
/* Name = nameAlg || H_nameAlg(TPMT_PUBLIC bytes as received). */
cachet_rc tpm_public_name(const TPMT_PUBLIC *pub, const uint8_t *bytes, size_t len,
                          uint8_t name[TPM_MAX_NAME], size_t *name_len);
/* Verify sig over msg with k: RSASSA, RSAPSS (salt = digest length, or the
 * maximum), ECDSA; hash SHA-256/384/512 only. */
cachet_rc tpm_signature_verify(const cachet_pkey *k, const TPMT_SIGNATURE *sig,
                               const uint8_t *msg, size_t len);
const char *tpm_sig_alg_name(uint16_t alg); /* "RSASSA", ... or "unknown" */

/* An extendedKeyUsage value (DER SEQUENCE OF OID) naming tcg-kp-EKCertificate
 * (2.23.133.8.1, TCG EK Credential Profile). */
bool tpm_eku_has_ek(const uint8_t *v, size_t len);

/* ---- PCR selection and digest -------------------------------------------------- */

/* Every PCR the selection names has a value in pcrs, and every value given
 * for a selected bank is selected (go-tpm-tools SamePCRSelection). */
bool tpm_selection_matches(const TPML_PCR_SELECTION *sel, const tpm_pcrs *p, char *why,
                           size_t cap);
/* H(concatenation of the selected values, banks in list order, PCRs
 * ascending), hashed with h (the signing scheme's hash). */
cachet_rc tpm_pcr_digest(const TPML_PCR_SELECTION *sel, const tpm_pcrs *p, cachet_hash_alg h,
                         uint8_t *out);

/* ---- event log ----------------------------------------------------------------- */

#define TPM_EV_NO_ACTION 0x00000003u
#define TPM_EV_IPL 0x0000000Du
#define TPM_EVENTLOG_MAX_EVENTS 100000u
#define TPM_EVENTLOG_MAX_ALGS 8u

typedef struct tpm_event {
    uint32_t pcr;
    uint32_t type;
    const uint8_t *digest[TPM_EVENTLOG_MAX_ALGS]; /* per log algorithm, into the buffer */
    const uint8_t *data;
    uint32_t data_len;
    size_t offset; /* of the record in the log */
} tpm_event;

typedef struct tpm_eventlog {
    bool crypto_agile;            /* false: a SHA-1-only (TCG 1.2 style) log */
    size_t n_algs;
    uint16_t algs[TPM_EVENTLOG_MAX_ALGS];
    uint16_t sizes[TPM_EVENTLOG_MAX_ALGS];
    uint8_t spec_major, spec_minor, spec_errata;
    bool has_locality;
    uint8_t startup_locality;
    tpm_event *ev;                /* malloc'd; includes the header event */
    size_t n;
} tpm_eventlog;

/* Parse a TCG PC Client log: the legacy header event (Spec ID Event03 for a
 * crypto-agile log), then TCG_PCR_EVENT2 records; every length bounded, no
 * trailing bytes.  Pointers are into buf, which must outlive the log. */
cachet_rc tpm_eventlog_parse(const uint8_t *buf, size_t len, tpm_eventlog *out);
void tpm_eventlog_free(tpm_eventlog *l);
/* Index of alg among the log's algorithms, or -1. */
int tpm_eventlog_alg_index(const tpm_eventlog *l, uint16_t alg);
/* Replay every extended event of bank alg from the reset values (StartupLocality
 * applied to PCR 0); *touched gets a bit per PCR that has events.
 * CACHET_E_UNSUPPORTED for SHA-1 or a bank the log lacks. */
cachet_rc tpm_eventlog_replay(const tpm_eventlog *l, uint16_t alg,
                              uint8_t pcr[TPM_PCR_COUNT][TPM_MAX_DIGEST], uint32_t *touched);
const char *tpm_event_type_name(uint32_t type); /* "EV_POST_CODE", ... or NULL */
bool tpm_looks_like_eventlog(const uint8_t *buf, size_t len);

/* ---- credential protection (verifier side of TPM2_MakeCredential) -------------- */

/* KDFa (TPM 2.0 Part 1 §11.4.10.2) with HMAC-h; bits a multiple of 8. */
cachet_rc tpm_kdfa(cachet_hash_alg h, const uint8_t *key, size_t keylen, const char *label,
                   const uint8_t *ctx_u, size_t ulen, const uint8_t *ctx_v, size_t vlen,
                   uint32_t bits, uint8_t *out);

/* MakeCredential for an RSA EK (restricted decrypt key, AES-CFB symmetric):
 * credential (<= EK name digest size) wrapped for the object named ak_name.
 * derive: NULL for a random seed; otherwise the seed and the OAEP randomness
 * are derived from it (>= 16 bytes), so that the same inputs give the same
 * bytes (the activation record check).  Outputs are marshalled
 * TPM2B_ID_OBJECT and TPM2B_ENCRYPTED_SECRET (malloc'd). */
cachet_rc tpm_make_credential(const TPMT_PUBLIC *ek, const uint8_t *ak_name, size_t ak_name_len,
                              const uint8_t *credential, size_t cred_len, const uint8_t *derive,
                              size_t derive_len, tpm_blob *id_object, tpm_blob *enc_secret);

/* ---- the verification procedure ------------------------------------------------- */

/* What a verified quote left behind (the Azure family reuses the checks). */
typedef struct tpm_quote_result {
    bool parsed;
    bool signature_ok;
    bool digest_ok;
    bool nonce_ok;       /* compared and equal */
    bool nonce_checked;
    TPMS_ATTEST attest;
    uint16_t sig_hash;   /* TPM_ALG_ID of the signature hash */
} tpm_quote_result;

/* The checks of one quote: structure (magic, type), signature algorithm,
 * signature with ak, extraData against req->nonce, selection and PCR digest
 * against pcrs.  sig is already parsed (the caller recorded how). */
void tpm_check_quote(cachet_ev_ctx *ctx, const cachet_verify_request *req, const char *label,
                     const uint8_t *attest, size_t attest_len, const TPMT_SIGNATURE *sig,
                     const cachet_pkey *ak, const tpm_pcrs *pcrs, tpm_quote_result *out);

/* Claims pcrNN (two digits) of one bank into parent. */
void tpm_claim_pcrs(cachet_ev_ctx *ctx, json_t *parent, const tpm_pcr_bank *b);

cachet_rc tpm_verify(const cachet_evidence_ops *self, const cachet_verify_request *req,
                     cachet_ev_ctx *ctx);
int tpm_detect(const uint8_t *buf, size_t len);

/* Event-log checks and claims (eventlog_check.c): parse, replay each
 * non-SHA-1 bank that was quoted and verified, compare per PCR, and list
 * the events.  Returns false when a replay failed. */
bool tpm_check_eventlog(cachet_ev_ctx *ctx, const uint8_t *log, size_t len,
                        const tpm_pcrs *quoted, uint32_t quoted_ok_banks_mask);
/* The bare-log case (no quote): parse and replay into claims only. */
void tpm_claim_eventlog_only(cachet_ev_ctx *ctx, const uint8_t *log, size_t len);

/* AK trust (trust.c). */
typedef struct tpm_trust_in {
    const cachet_verify_request *req;
    const tpm_evidence *ev;
    const TPMT_PUBLIC *ak;
    const cachet_pkey *ak_key;
    const uint8_t *ak_name;
    size_t ak_name_len;
} tpm_trust_in;
/* Records tpm.ak.cert.*, tpm.ek.*, tpm.ak.activation and tpm.ak.trust;
 * true when the AK is trusted by every mechanism the evidence offers (and
 * at least one). */
bool tpm_check_ak_trust(cachet_ev_ctx *ctx, const tpm_trust_in *in);

#endif
