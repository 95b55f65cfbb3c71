/* AWS Nitro Enclaves attestation documents (internal to src/evidence/nitro,
 * src/attester/nitro and their tests).
 *
 * Sources: aws-nitro-enclaves-nsm-api docs/attestation_process.md (document
 * CDDL §2.2, COSE §3.1, syntactic validation §3.2.2, chain §3.2.3-§3.2.4);
 * RFC 9052 (COSE_Sign1 §4.2, Sig_structure §4.4), RFC 9053 §2.1 (ES384),
 * RFC 8949 (CBOR); ../docs/evidence-formats.md §5 summarises them. */
#ifndef CACHET_EVIDENCE_NITRO_H
#define CACHET_EVIDENCE_NITRO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cachet/crypto.h"
#include "cachet/evidence.h"
#include "cachet/rc.h"

/* Spec references cited by the checks. */
#define NITRO_SPEC_CBOR "RFC 8949 §3, §5.4-§5.6; evidence-formats §0.2"
#define NITRO_SPEC_COSE "RFC 9052 §4.2; attestation_process.md §3.1"
#define NITRO_SPEC_ALG "RFC 9052 §3.1; RFC 9053 §2.1 (ES384 = -35); attestation_process.md §3.1"
#define NITRO_SPEC_PAYLOAD "attestation_process.md §2.2, §3.2.2.1-§3.2.2.2"
#define NITRO_SPEC_LEAF "attestation_process.md §3.2.3.3; evidence-formats §5.3"
#define NITRO_SPEC_ROOT "attestation_process.md §2.1, §3.2.3; evidence-formats §0.4, §5.3"
#define NITRO_SPEC_CHAIN "attestation_process.md §3.2.3.1-§3.2.4; RFC 5280 §6"
#define NITRO_SPEC_CRL "attestation_process.md §3.2.4 (no CRL in AWS's procedure)"
#define NITRO_SPEC_SIGNATURE "RFC 9052 §4.4 Sig_structure; attestation_process.md §3.2.1"
#define NITRO_SPEC_TIMESTAMP "attestation_process.md §2.2 timestamp; evidence-formats §5.3, §7"
#define NITRO_SPEC_NONCE "attestation_process.md §2.2.2 nonce; verify-contract --nonce"
#define NITRO_SPEC_DEBUG "AWS Nitro Enclaves User Guide (debug mode: zero PCRs); evidence-formats §5.4"

/* ---- limits (every one enforced before the bytes are used) --------------- */

#define NITRO_PAYLOAD_MAX 16384u   /* attestation_process.md §3.1: bstr .size (1..16384) */
#define NITRO_DOC_MAX (NITRO_PAYLOAD_MAX + 1024u) /* envelope: payload + headers + signature */
#define NITRO_PROTECTED_MAX 64u    /* the protected header is {1: -35}: 4 bytes */
#define NITRO_SIG_LEN 96u          /* ES384: r || s, 48 bytes each, big-endian */
#define NITRO_CERT_MAX 1024u       /* cert = bytes .size (1..1024) */
#define NITRO_CABUNDLE_MAX 8u      /* real bundles hold 4; cachet refuses more than 8 */
#define NITRO_PCR_COUNT 32u        /* index = 0..31 */
#define NITRO_PCR_LEN 48u          /* digest "SHA384" */
#define NITRO_PUBLIC_KEY_MAX 1024u /* public_key: 1..1024 (§3.2.2.2) */
#define NITRO_USER_DATA_MAX 512u   /* user_data: 0..512 (§3.2.2.2) */
#define NITRO_NONCE_MAX 512u       /* nonce: 0..512 (§3.2.2.2) */
#define NITRO_MODULE_ID_MAX 256u
#define NITRO_CBOR_MAX_DEPTH 4u    /* nesting of arrays, maps and tags */
#define NITRO_CBOR_MAX_ENTRIES 64u /* elements of one array / pairs of one map */
#define NITRO_CBOR_MAX_ITEMS 1024u /* data items in one document */
/* How far the document's timestamp may run ahead of the verification time
 * (clock differences between the Nitro hypervisor and the verifier). */
#define NITRO_CLOCK_SKEW_S 60

/* ---- bounded CBOR over libcbor's streaming decoder (cbor.c) -------------- */

typedef enum nitro_cbor_kind {
    NITRO_CBOR_UINT,
    NITRO_CBOR_NEGINT, /* value = -1 - u */
    NITRO_CBOR_BYTES,
    NITRO_CBOR_TEXT,
    NITRO_CBOR_ARRAY,
    NITRO_CBOR_MAP,
    NITRO_CBOR_TAG,
    NITRO_CBOR_BOOL,
    NITRO_CBOR_NULL,
    NITRO_CBOR_UNDEFINED,
    NITRO_CBOR_FLOAT,
    NITRO_CBOR_BREAK,
} nitro_cbor_kind;

/* One data item head as decoded (strings with their contents). */
typedef struct nitro_cbor_item {
    nitro_cbor_kind kind;
    bool indefinite;     /* strings, arrays, maps of indefinite length */
    uint64_t u;          /* UINT/NEGINT argument, ARRAY/MAP count, TAG number, BOOL */
    const uint8_t *data; /* definite BYTES/TEXT: the contents, inside the input */
    size_t len;
    size_t start;        /* offset of the head in the input */
} nitro_cbor_item;

typedef struct nitro_cbor_reader {
    const uint8_t *buf;
    size_t len;
    size_t off;
} nitro_cbor_reader;

void nitro_cbor_reader_init(nitro_cbor_reader *r, const uint8_t *buf, size_t len);
/* Decode the next head.  CACHET_E_TRUNCATED when the input ends inside it,
 * CACHET_E_FORMAT for reserved or unassigned encodings. */
cachet_rc nitro_cbor_next(nitro_cbor_reader *r, nitro_cbor_item *it);

/* What a well-formedness walk accepts. */
typedef struct nitro_cbor_limits {
    size_t max_depth;   /* nesting of arrays/maps/tags */
    size_t max_entries; /* per array (elements) and per map (pairs) */
    size_t max_items;   /* in the whole item */
    size_t max_string;  /* bytes in one byte or text string */
    bool allow_indefinite_top_map; /* the Nitro payload map (real documents use 0xBF) */
    bool allow_top_tag;            /* one tag on the outermost item (COSE tag 18) */
} nitro_cbor_limits;

/* Walk exactly one data item filling buf (no trailing bytes), enforcing the
 * limits; map keys must be integers or definite strings and no two keys of
 * one map may be equal (by value); text must be valid UTF-8; floats,
 * undefined and simple values other than true/false/null are refused.  The
 * reason is in cachet_err_detail(). */
cachet_rc nitro_cbor_check(const uint8_t *buf, size_t len, const nitro_cbor_limits *lim);

/* ---- the document --------------------------------------------------------- */

typedef struct nitro_bytes {
    const uint8_t *p; /* inside the caller's buffer */
    size_t len;
} nitro_bytes;

/* Where parsing stopped; each is one check id. */
typedef enum nitro_parse_stage {
    NITRO_PARSE_OK = 0,
    NITRO_PARSE_ENVELOPE_CBOR, /* nitro.cbor.envelope */
    NITRO_PARSE_COSE,          /* nitro.cose.structure */
    NITRO_PARSE_ALG,           /* nitro.cose.alg */
    NITRO_PARSE_PAYLOAD_CBOR,  /* nitro.cbor.payload */
    NITRO_PARSE_FIELDS,        /* nitro.payload.fields */
} nitro_parse_stage;

typedef struct nitro_doc {
    /* COSE_Sign1 (RFC 9052 §4.2) */
    bool tagged;         /* CBOR tag 18 present */
    nitro_bytes protected_hdr; /* the bstr contents as received */
    int64_t alg;
    nitro_bytes payload; /* the bstr contents as received */
    nitro_bytes signature;
    /* payload (attestation_process.md §2.2) */
    nitro_bytes module_id; /* UTF-8 text, not NUL-terminated */
    nitro_bytes digest;
    uint64_t timestamp;    /* ms since the Unix epoch */
    nitro_bytes pcr[NITRO_PCR_COUNT];
    uint32_t pcr_present;  /* bit i: PCR i is in the document */
    nitro_bytes certificate;
    nitro_bytes cabundle[NITRO_CABUNDLE_MAX]; /* [root, interm_1, ..., interm_n] */
    size_t n_cabundle;
    bool has_public_key, has_user_data, has_nonce; /* present and not null */
    nitro_bytes public_key, user_data, nonce;
} nitro_doc;

/* Parse a COSE_Sign1 attestation document strictly (limits above, duplicate
 * keys refused, unknown payload keys refused, null only for the optional
 * fields).  Everything in *out points into buf.  On failure: the stage and
 * the reason in cachet_err_detail(). */
cachet_rc nitro_doc_parse(const uint8_t *buf, size_t len, nitro_doc *out,
                          nitro_parse_stage *stage);
/* The payload of an envelope parse_envelope() accepted (payload.c): sets
 * *stage to NITRO_PARSE_PAYLOAD_CBOR or NITRO_PARSE_FIELDS on failure. */
cachet_rc nitro_payload_parse(nitro_doc *d, nitro_parse_stage *stage);
const char *nitro_parse_stage_check(nitro_parse_stage s);
const char *nitro_parse_stage_spec(nitro_parse_stage s);

/* The COSE Sig_structure ["Signature1", protected, h'', payload] (RFC 9052
 * §4.4) built around the received protected and payload bytes (malloc'd). */
cachet_rc nitro_sig_structure(const nitro_doc *d, uint8_t **out, size_t *outlen);

/* ---- trust ------------------------------------------------------------------- */

/* SHA-256 of the DER AWS Nitro Enclaves Root-G1 certificate (evidence-formats §0.4). */
extern const uint8_t nitro_root_g1_sha256[CACHET_SHA256_LEN];
/* The embedded PEM of that root (public AWS data). */
extern const char nitro_root_g1_pem[];
/* The built-in root, parsed once and checked against the pin; NULL (and an
 * error detail) only if the embedded certificate is damaged. */
const cachet_x509 *nitro_root_builtin(void);

/* Family configuration (ops->config): tests replace the anchor, because the
 * AWS root cannot sign their generated documents. */
typedef struct nitro_config {
    const cachet_x509 *root; /* the one trust anchor; NULL: the built-in AWS root */
} nitro_config;

/* ---- verification ------------------------------------------------------------- */

cachet_rc nitro_verify(const cachet_evidence_ops *self, const cachet_verify_request *req,
                       cachet_ev_ctx *ctx);
int nitro_detect(const uint8_t *buf, size_t len);

/* Certificate checks (chain.c): leaf profile, cabundle[0] pin, the path from
 * the leaf through cabundle to the anchor at req->time, and revocation from
 * CRL endorsements.  On success *leaf_key is the leaf's public key and
 * *leaf_nb / *leaf_na its validity.  Returns false when any check failed. */
bool nitro_check_certs(cachet_ev_ctx *ctx, const cachet_verify_request *req,
                       const nitro_doc *d, const cachet_x509 *anchor, cachet_pkey **leaf_key,
                       int64_t *leaf_nb, int64_t *leaf_na);

/* Claims from a parsed document (claims.c). */
void nitro_doc_claims(cachet_ev_ctx *ctx, const nitro_doc *d, bool debug);
/* PCR0, PCR1 and PCR2 all zero: a debug-mode enclave. */
bool nitro_doc_debug(const nitro_doc *d);

#endif
