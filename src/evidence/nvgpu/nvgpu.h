/* NVIDIA H100/H200 (Hopper) and Blackwell GPU confidential-computing
 * evidence (internal to src/evidence/nvgpu, src/attester/nvgpu and their
 * tests).
 *
 * Sources: DMTF DSP0274 SPDM 1.1 (GET_MEASUREMENTS §10.11, MEASUREMENTS
 * response and measurement blocks §10.11.1, DMTF measurement format,
 * signature over the L1/L2 transcript); NVML (attestation report and
 * certificate structures); nvtrust's local GPU verifier (opaque-data TLVs,
 * device chain, RIM identifiers and comparison rules); ISO/IEC 19770-2:2015
 * SWID tags with W3C XML-Signature 1.1 (the RIMs); RFC 6960 (OCSP).
 * ../docs/evidence-formats.md §3 summarises them; docs/evidence/nvgpu.md
 * documents the checks, the claims and the multi-GPU container. */
#ifndef CACHET_EVIDENCE_NVGPU_H
#define CACHET_EVIDENCE_NVGPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cachet/crypto.h"
#include "cachet/evidence.h"
#include "cachet/rc.h"

/* Spec references cited by the checks. */
#define NVGPU_SPEC_INPUT "verify-contract EVIDENCE; docs/evidence/nvgpu.md §container"
#define NVGPU_SPEC_REQUEST "DMTF DSP0274 1.1 §10.11 GET_MEASUREMENTS request"
#define NVGPU_SPEC_RESPONSE "DMTF DSP0274 1.1 §10.11.1 MEASUREMENTS response"
#define NVGPU_SPEC_BLOCKS "DMTF DSP0274 1.1 §10.11.1.1 measurement block, DMTF measurement"
#define NVGPU_SPEC_OPAQUE "DMTF DSP0274 1.1 §10.11.1 OpaqueData; NVIDIA TLVs (evidence-formats §3.4)"
#define NVGPU_SPEC_SIGNATURE "DMTF DSP0274 1.1 §10.11.1 signature over L1||L2 (ECDSA P-384/SHA-384)"
#define NVGPU_SPEC_NONCE "DMTF DSP0274 1.1 §10.11 requester Nonce; verify-contract --nonce"
#define NVGPU_SPEC_CHAIN "NVIDIA device identity chain (evidence-formats §3.5); RFC 5280 §6"
#define NVGPU_SPEC_ROOT "evidence-formats §0.4 (NVIDIA Device Identity CA pin), §3.8"
#define NVGPU_SPEC_FWID "TCG DICE Attestation Architecture TcbInfo fwids; evidence-formats §3.5"
#define NVGPU_SPEC_OCSP "RFC 6960 §3.2; evidence-formats §3.5 (NVIDIA OCSP)"
#define NVGPU_SPEC_CC "NVML nvmlSystemGetConfComputeState; evidence-formats §3.1, §3.8"
#define NVGPU_SPEC_RIM "ISO/IEC 19770-2:2015 SWID; TCG RIM IM; evidence-formats §3.6"
#define NVGPU_SPEC_XMLDSIG "W3C XML-Signature 1.1 §3.2 core validation (C14N 1.1, ECDSA-SHA384)"
#define NVGPU_SPEC_RIM_CHAIN "NVIDIA RIM signing chain (evidence-formats §0.4 CoRIM root, §3.6)"
#define NVGPU_SPEC_MEASURE "evidence-formats §3.6 comparison (nvtrust verifier.py)"
#define NVGPU_SPEC_MEASURE_INDEX "evidence-formats §3.6: RIM index i = measurement block i+1, any alternative"

/* ---- limits (every one enforced before the bytes are used) --------------- */

#define NVGPU_REPORT_MAX 0x2000u   /* NVML attestationReport[0x2000] */
#define NVGPU_REQUEST_LEN 37u      /* version, code, param1, param2, nonce, slot */
#define NVGPU_NONCE_LEN 32u
#define NVGPU_SIG_LEN 96u          /* ECDSA P-384 r || s, big-endian */
#define NVGPU_SIG_COMP_LEN 48u
#define NVGPU_OPAQUE_MAX 1024u     /* DSP0274 1.1: OpaqueLength <= 1024 */
#define NVGPU_MAX_BLOCKS 255u
#define NVGPU_MEAS_VALUE_MAX 64u   /* a digest of at most SHA-512 */
#define NVGPU_FWID_LEN 48u
#define NVGPU_MAX_GPUS 16u         /* 8 GPUs + switches per node, with room */
#define NVGPU_CHAIN_LEN 5u         /* leaf, BROM, provisioner ICA, identity, root */
#define NVGPU_CONTAINER_MAX ((size_t)4 << 20)
#define NVGPU_RIM_MAX ((size_t)1 << 20)  /* real RIMs are ~20 KiB */
#define NVGPU_RIM_MAX_ENTRIES 256u
#define NVGPU_RIM_MAX_ALT 16u
#define NVGPU_RIM_MAX_CERTS 8u
/* OCSP responses without nextUpdate are accepted for this long after
 * thisUpdate (RFC 6960 §4.2.2.1 leaves it to local policy). */
#define NVGPU_OCSP_MAX_AGE_S (24 * 3600)

#define NVGPU_SPDM_GET_MEASUREMENTS 0xE0u
#define NVGPU_SPDM_MEASUREMENTS 0x60u
#define NVGPU_SPDM_VERSION_11 0x11u
#define NVGPU_DMTF_SPEC 0x01u      /* MeasurementSpecification bit 0: DMTF */

/* ---- the report: SPDM GET_MEASUREMENTS request || MEASUREMENTS response --- */

typedef struct nvgpu_block {
    uint8_t index;
    uint8_t value_type;   /* DMTFSpecMeasurementValueType (bit 7: raw bit stream) */
    const uint8_t *value; /* inside the report */
    uint16_t value_len;
} nvgpu_block;

/* Opaque-data TLV types (nvtrust OpaqueData.OPAQUE_DATA_TYPES). */
enum {
    NVGPU_TLV_CERT_ISSUER_NAME = 1,
    NVGPU_TLV_CERT_AKI = 2,
    NVGPU_TLV_DRIVER_VERSION = 3,
    NVGPU_TLV_GPU_INFO = 4,
    NVGPU_TLV_SKU = 5,
    NVGPU_TLV_VBIOS_VERSION = 6,
    NVGPU_TLV_MANUFACTURER_ID = 7,
    NVGPU_TLV_TAMPER_DETECTION = 8,
    NVGPU_TLV_SMC = 9,
    NVGPU_TLV_VPR = 10,
    NVGPU_TLV_NVDEC0_STATUS = 11,
    NVGPU_TLV_MSRSCNT = 12,
    NVGPU_TLV_CPRINFO = 13,
    NVGPU_TLV_BOARD_ID = 14,
    NVGPU_TLV_CHIP_SKU = 15,
    NVGPU_TLV_CHIP_SKU_MOD = 16,
    NVGPU_TLV_PROJECT = 17,
    NVGPU_TLV_PROJECT_SKU = 18,
    NVGPU_TLV_PROJECT_SKU_MOD = 19,
    NVGPU_TLV_FWID = 20,
    NVGPU_TLV_PROTECTED_PCIE_STATUS = 21,
    NVGPU_TLV_SWITCH_PDI = 22,
    NVGPU_TLV_FLOORSWEPT_PORTS = 23,
    NVGPU_TLV_POSITION_ID = 24,
    NVGPU_TLV_LOCK_SWITCH_STATUS = 25,
    NVGPU_TLV_GPU_LINK_CONN = 32,
    NVGPU_TLV_SYS_ENABLE_STATUS = 33,
    NVGPU_TLV_OPAQUE_DATA_VERSION = 34,
    NVGPU_TLV_CHIP_INFO = 35,
    NVGPU_TLV_FEATURE_FLAG = 36,
    NVGPU_TLV_MAX = 255,
};

#define NVGPU_NVDEC0_ENABLED 0xAAu
#define NVGPU_NVDEC0_DISABLED 0x55u

typedef struct nvgpu_opaque {
    size_t n_tlvs;
    size_t n_unknown;               /* TLVs of types this parser does not know */
    bool seen[NVGPU_TLV_MAX + 1];
    /* ASCII fields, NUL padding removed (empty when absent). */
    char driver_version[64];
    char project[32];
    char project_sku[32];
    char chip_sku[32];
    char chip_info[64];
    bool has_vbios;
    uint8_t vbios[8];               /* VBIOS_VERSION as received */
    char vbios_version[20];         /* "96.00.5E.00.01" */
    const uint8_t *board_id;        /* raw (hex in the claims) */
    size_t board_id_len;
    const uint8_t *fwid;            /* 48 bytes, or NULL */
    int nvdec0;                     /* -1 absent, 1 enabled (0xAA), 0 disabled (0x55) */
    const uint8_t *msrscnt;         /* u32 LE counters */
    size_t msrscnt_len;
    bool has_opaque_version;
    uint32_t opaque_version;
} nvgpu_opaque;

typedef enum nvgpu_parse_stage {
    NVGPU_PARSE_OK = 0,
    NVGPU_PARSE_SIZE,          /* nvgpu.report.size */
    NVGPU_PARSE_REQUEST,       /* nvgpu.report.request */
    NVGPU_PARSE_RESPONSE,      /* nvgpu.report.response */
    NVGPU_PARSE_MEASUREMENTS,  /* nvgpu.report.measurements */
    NVGPU_PARSE_OPAQUE,        /* nvgpu.report.opaque */
    NVGPU_PARSE_SIGNATURE,     /* nvgpu.report.signature_field */
    NVGPU_PARSE_TRAILING,      /* nvgpu.report.trailing */
} nvgpu_parse_stage;

/* A parsed report.  Pointers lead into the caller's buffer, which must
 * outlive the struct (the signature is checked over those exact bytes). */
typedef struct nvgpu_report {
    const uint8_t *bytes;
    size_t len;
    /* request */
    uint8_t spdm_version;
    uint8_t req_param1, req_param2, slot;
    const uint8_t *nonce;           /* the requester's (verifier's) nonce, 32 bytes */
    /* response */
    uint8_t resp_param1, resp_param2;
    uint8_t n_blocks;
    const uint8_t *record;          /* MeasurementRecord, record_len bytes */
    size_t record_len;
    nvgpu_block blocks[NVGPU_MAX_BLOCKS];
    uint8_t by_index[256];          /* block index -> position + 1 (0: absent) */
    const uint8_t *responder_nonce; /* 32 */
    const uint8_t *opaque;
    size_t opaque_len;
    const uint8_t *signature;       /* 96 */
    size_t signed_len;              /* request || response up to the signature */
    size_t trailing;                /* zero bytes after the signature */
    nvgpu_opaque od;
} nvgpu_report;

/* Parse the structure: request (37 bytes, GET_MEASUREMENTS, signature
 * requested, SPDM 1.1), response (MEASUREMENTS, same version, block count
 * and record length consistent, every block DMTF with consistent sizes and
 * a unique index in 1..254), opaque data (<= 1024, TLVs exact), a 96-byte
 * signature, and nothing after it but zero bytes.  On failure returns
 * CACHET_E_TRUNCATED / _FORMAT / _UNSUPPORTED with the reason in
 * cachet_err_detail() and the stage in *stage. */
cachet_rc nvgpu_report_parse(const uint8_t *buf, size_t len, nvgpu_report *out,
                             nvgpu_parse_stage *stage);
const char *nvgpu_parse_stage_check(nvgpu_parse_stage s); /* the check id suffix */
/* The block with this index, or NULL. */
const nvgpu_block *nvgpu_report_block(const nvgpu_report *r, unsigned index);

/* Opaque data (opaque.c): TLVs exact to the length, each length bounded,
 * known types at most once with their sizes checked, unknown types skipped. */
cachet_rc nvgpu_opaque_parse(const uint8_t *buf, size_t len, nvgpu_opaque *out);
/* VBIOS_VERSION rendered as NVIDIA does: bytes 3,2,1,0,4 as %02X, dotted. */
void nvgpu_vbios_format(const uint8_t v[8], char out[20]);

/* ---- evidence input: raw, hex text, or a JSON container (input.c) --------- */

typedef struct nvgpu_item {
    uint8_t *report;            /* decoded report bytes (owned) */
    size_t report_len;
    uint8_t *chain;             /* certificate chain text/bytes (owned), or NULL */
    size_t chain_len;
    /* Host-reported fields of the container (unsigned; compared, never trusted). */
    char arch[16];
    char uuid[80];
    char driver_version[64];
    char vbios_version[32];
    char cc_mode[16];           /* "on" | "off" | "devtools" | "" */
    bool has_nonce;
    uint8_t nonce[NVGPU_NONCE_LEN];
} nvgpu_item;

typedef enum nvgpu_input_kind {
    NVGPU_INPUT_RAW,
    NVGPU_INPUT_HEX,
    NVGPU_INPUT_CONTAINER,
} nvgpu_input_kind;

typedef struct nvgpu_input {
    nvgpu_input_kind kind;
    const char *container_shape; /* "array", "evidences", "evidence_list", "device_evidence_list" */
    size_t n;
    nvgpu_item items[NVGPU_MAX_GPUS];
} nvgpu_input;

/* Decode the evidence file.  CACHET_E_FORMAT / _LIMIT with the detail. */
cachet_rc nvgpu_input_decode(const uint8_t *buf, size_t len, nvgpu_input *out);
void nvgpu_input_clear(nvgpu_input *in);
const char *nvgpu_input_kind_str(nvgpu_input_kind k);
/* Decode one "evidence" string: hex, or base64 of the raw report. */
cachet_rc nvgpu_decode_report_text(const char *s, size_t len, uint8_t **out, size_t *outlen);

/* ---- trust: the NVIDIA roots built into cachet (roots.c) ------------------ */

typedef struct nvgpu_trust {
    cachet_x509 *device_root; /* NVIDIA Device Identity CA */
    cachet_x509 *rim_root;    /* NVIDIA CoRIM signing Root CA */
} nvgpu_trust;

/* Parsed once; NULL only if the embedded certificates fail to parse. */
const nvgpu_trust *nvgpu_trust_builtin(void);
/* The embedded PEM text and its pinned SHA-256 fingerprints (certificate
 * and SubjectPublicKeyInfo, lower-case hex, evidence-formats §0.4). */
typedef struct nvgpu_root_pin {
    const char *name;
    const char *pem;
    const char *cert_sha256;
    const char *spki_sha256;
} nvgpu_root_pin;
const nvgpu_root_pin *nvgpu_root_pins(size_t *n); /* [0] device root, [1] RIM root */

/* ---- device chain helpers (fwid.c) ---------------------------------------- */

#define NVGPU_OID_DICE_TCBINFO "2.23.133.5.4.1"
#define NVGPU_OID_DICE_TCBINFO_NV "2.23.133.5.4.1.1"

/* The first SHA-384 FWID of the leaf's DICE TcbInfo extension (either OID;
 * NVIDIA's Hopper encoding or the TCG DiceTcbInfo with its fwids list).
 * CACHET_E_NOT_FOUND when the certificate has no such extension or it
 * carries no SHA-384 FWID; CACHET_E_FORMAT when the DER is malformed. */
cachet_rc nvgpu_fwid_from_ext(const uint8_t *der, size_t len, uint8_t out[NVGPU_FWID_LEN]);
cachet_rc nvgpu_fwid_from_cert(const cachet_x509 *leaf, uint8_t out[NVGPU_FWID_LEN]);

/* ---- RIMs (xmldsig.c is the only xmlsec user; rim.c reads the content) ---- */

typedef struct nvgpu_xml nvgpu_xml; /* a parsed RIM document (libxml2 tree) */

/* Parse with libxml2, hardened: size limit, no network, no DTD loading, no
 * entity substitution, no DOCTYPE at all; errors silenced. */
cachet_rc nvgpu_xml_parse(const uint8_t *buf, size_t len, nvgpu_xml **out);
void nvgpu_xml_free(nvgpu_xml *x);
/* The document's libxml2 root element and its one enveloped ds:Signature
 * element (xmlNodePtr as void * so that this header needs no libxml2). */
void *nvgpu_xml_root(const nvgpu_xml *x);
void *nvgpu_xml_signature(const nvgpu_xml *x);

typedef struct nvgpu_blob {
    uint8_t *data;
    size_t len;
} nvgpu_blob;

/* The signature's shape, checked before anything is trusted: exactly one
 * ds:Signature in the document, the last element child of the root;
 * SignedInfo with C14N 1.1 and ECDSA-SHA384; exactly one Reference, URI="",
 * transforms exactly [enveloped-signature, C14N 1.1], digest SHA-384.  With
 * that shape the signed node set is the whole document minus the Signature
 * element, which is what rim.c reads.  Returns the X509Certificate values
 * of KeyInfo (DER, document order) in *certs (free with nvgpu_blobs_free). */
cachet_rc nvgpu_xml_signature_shape(nvgpu_xml *x, nvgpu_blob **certs, size_t *n);
void nvgpu_blobs_free(nvgpu_blob *b, size_t n);
/* Verify the signature with xmlsec (OpenSSL backend) using exactly this
 * signer certificate's key (never a key from KeyInfo); only the empty URI
 * and the transforms above are enabled.  CACHET_E_SIGNATURE when the
 * digest or the signature does not verify. */
cachet_rc nvgpu_xml_verify(nvgpu_xml *x, const uint8_t *signer_der, size_t signer_len);

typedef enum nvgpu_rim_role { NVGPU_RIM_DRIVER, NVGPU_RIM_VBIOS } nvgpu_rim_role;
const char *nvgpu_rim_role_str(nvgpu_rim_role r); /* "driver" | "vbios" */

typedef struct nvgpu_rim_entry {
    uint8_t index;        /* RIM index (0-based): measurement block index + 1 */
    bool active;
    uint8_t n_alt;
    uint8_t size;         /* digest size in bytes */
    uint8_t *alt;         /* n_alt * size bytes */
} nvgpu_rim_entry;

typedef struct nvgpu_rim {
    char version[64];     /* Meta@colloquialVersion */
    char product[32];     /* Meta@product (e.g. GH100) */
    char tag_id[160];
    size_t n;
    nvgpu_rim_entry *entries;
    size_t n_active;
    cachet_x509 **certs;  /* KeyInfo certificates, document order ([0] = signer) */
    size_t n_certs;
    uint8_t digest[CACHET_SHA256_LEN]; /* SHA-256 of the document bytes */
} nvgpu_rim;

/* Read a RIM: parse (hardened), check the signature shape, read Meta and
 * every Payload/Resource from the signed content only (children of the root
 * other than the Signature), and the KeyInfo certificates.  Nothing read
 * here may be used before nvgpu_xml_verify() succeeded on *doc with a
 * signer that chains to the RIM root.  doc may be NULL when the caller only
 * wants the content (the signature was verified before, see rim_cache.c). */
cachet_rc nvgpu_rim_read(const uint8_t *buf, size_t len, nvgpu_rim **out, nvgpu_xml **doc);
void nvgpu_rim_free(nvgpu_rim *r);
/* The entry for a RIM index, or NULL. */
const nvgpu_rim_entry *nvgpu_rim_entry_at(const nvgpu_rim *r, unsigned index);
/* Does the RIM version look like a VBIOS version (five dotted hex bytes)? */
bool nvgpu_version_is_vbios(const char *v);

/* Memo of parsed RIM content keyed by the SHA-256 of the exact bytes
 * (rim_cache.c): bounded, thread-safe, used only when the request carries a
 * verify cache.  get returns a copy the caller frees (NULL on a miss). */
nvgpu_rim *nvgpu_rim_memo_get(const uint8_t digest[CACHET_SHA256_LEN]);
void nvgpu_rim_memo_put(const nvgpu_rim *r);
nvgpu_rim *nvgpu_rim_clone(const nvgpu_rim *r);

/* ---- OCSP responses among the endorsements (revocation.c) ----------------- */

typedef struct nvgpu_ocsp_set nvgpu_ocsp_set;
/* Every endorsement that parses as an OCSP response (the core classifies
 * them as "other": DER that is neither a certificate nor a CRL). */
nvgpu_ocsp_set *nvgpu_ocsp_collect(const cachet_endorsements *e);
void nvgpu_ocsp_set_free(nvgpu_ocsp_set *s);
size_t nvgpu_ocsp_count(const nvgpu_ocsp_set *s);

/* ---- the procedure (verify.c and its steps) -------------------------------- */

cachet_rc nvgpu_verify(const cachet_evidence_ops *self, const cachet_verify_request *req,
                       cachet_ev_ctx *ctx);
int nvgpu_detect(const uint8_t *buf, size_t len);

#endif
