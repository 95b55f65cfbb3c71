/* Intel TDX and SGX DCAP quotes (internal to src/evidence/tdx and its tests).
 *
 * Sources: Intel "TDX DCAP Quoting Library API" App. A (quote v4/v5),
 * "SGX ECDSA Quote Library API" App. A (quote v3), "SGX PCK Certificate and
 * CRL Profile" (SGX extension), "PCS API v4" (TCB info, QE identity, CRLs)
 * and the verification steps of Intel's QVL (4.1.2.4.x, 4.1.2.9.x);
 * ../docs/evidence-formats.md §2 summarises them.  Both families ("tdx" and
 * "sgx") share this code: the quote layouts and the whole DCAP chain are the
 * same, only the body and the collateral ids differ. */
#ifndef CACHET_EVIDENCE_TDX_H
#define CACHET_EVIDENCE_TDX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cachet/crypto.h"
#include "cachet/evidence.h"
#include "cachet/rc.h"
#include "cachet/reader.h"
#include "evidence/family.h"

#define TDX_RC(code) CACHET_RC(CACHET_SUB_EVIDENCE, CACHET_E_##code)

/* ---- spec references cited by the checks ---------------------------------- */

#define TDX_SPEC_QUOTE_V4 "Intel TDX DCAP Quoting Library API App. A.3 (quote v4)"
#define TDX_SPEC_QUOTE_V5 "Intel TDX DCAP Quoting Library API App. A.4 (quote v5)"
#define TDX_SPEC_QUOTE_V3 "Intel SGX ECDSA Quote Library API App. A.4 (quote v3)"
#define TDX_SPEC_PCK_CHAIN "Intel QVL 4.1.2.4.3-4.1.2.4.4; SGX PCK Certificate and CRL Profile"
#define TDX_SPEC_PCK_EXT "Intel SGX PCK Certificate and CRL Profile §SGX extensions"
#define TDX_SPEC_ROOT_CRL "Intel QVL 4.1.2.4.5; PCS API v4 Root CA CRL"
#define TDX_SPEC_PCK_CRL "Intel QVL 4.1.2.4.6-4.1.2.4.7; PCS API v4 PCK CRL"
#define TDX_SPEC_TCB_INFO "Intel QVL 4.1.2.4.8; PCS API v4 TCB Info"
#define TDX_SPEC_TCB_INFO_MATCH "Intel QVL 4.1.2.4.9-4.1.2.4.10"
#define TDX_SPEC_QE_IDENTITY "Intel QVL 4.1.2.4.14; PCS API v4 Enclave Identity"
#define TDX_SPEC_MODULE "Intel QVL 4.1.2.4.11 TDX module identity"
#define TDX_SPEC_QE_SIG "Intel QVL 4.1.2.4.12 QE report signature"
#define TDX_SPEC_QE_BINDING "Intel QVL 4.1.2.4.13 QE report data"
#define TDX_SPEC_QE_MATCH "Intel QVL 4.1.2.4.15 / 4.1.2.9.5-4.1.2.9.10 QE identity"
#define TDX_SPEC_QUOTE_SIG "Intel QVL 4.1.2.4.16 quote signature"
#define TDX_SPEC_TCB_LEVEL "Intel QVL 4.1.2.4.17 TCB level"
#define TDX_SPEC_TD_ATTR "Intel TDX Module ABI TDINFO.ATTRIBUTES"
#define TDX_SPEC_SGX_ATTR "Intel SDM Vol. 3D §38.7 SECS.ATTRIBUTES"
#define TDX_SPEC_REPORTDATA "Intel TDX DCAP Quoting Library API App. A REPORTDATA"

/* ---- families -------------------------------------------------------------- */

typedef enum tdx_family {
    TDX_FAM_TDX = 0, /* TD quotes (tee_type 0x81) */
    TDX_FAM_SGX = 1, /* enclave quotes (tee_type 0) */
} tdx_family;

const char *tdx_family_prefix(tdx_family f); /* "tdx" | "sgx" */

/* ops->config of either family may point to one of these (tests): the roots
 * replace the built-in Intel SGX Root CA.  Nothing else ever does. */
typedef struct tdx_config {
    cachet_x509 *const *roots;
    size_t n_roots;
} tdx_config;

/* ---- the quote ------------------------------------------------------------------- */

#define TDX_HEADER_LEN 48u
#define TDX_TEE_TYPE_SGX 0x00000000u
#define TDX_TEE_TYPE_TDX 0x00000081u
#define TDX_ATT_KEY_ECDSA_P256 2u
#define TDX_ENCLAVE_REPORT_LEN 384u
#define TDX_TD10_LEN 584u
#define TDX_TD15_LEN 648u
#define TDX_CERT_PCK_CHAIN 5u
#define TDX_CERT_QE_REPORT 6u
#define TDX_QUOTE_MAX ((size_t)1 << 20) /* real quotes are ~5-8 KiB */
#define TDX_QE_AUTH_MAX 4096u

extern const uint8_t tdx_intel_qe_vendor_id[16];

typedef enum tdx_body_type {
    TDX_BODY_SGX = 1,  /* SGX enclave report, 384 bytes */
    TDX_BODY_TD10 = 2, /* TD report 1.0, 584 bytes */
    TDX_BODY_TD15 = 3, /* TD report 1.5, 648 bytes */
} tdx_body_type;

/* An SGX REPORT BODY (enclave report, also the QE report). Pointers into the
 * caller's buffer. */
typedef struct tdx_enclave_report {
    const uint8_t *raw;        /* all 384 bytes */
    const uint8_t *cpusvn;     /* 16 */
    uint32_t miscselect;
    const uint8_t *miscselect_raw; /* 4, as received (LE) */
    const uint8_t *isvextprodid;   /* 16 */
    const uint8_t *attributes;     /* 16: flags u64 LE, xfrm u64 LE */
    uint64_t attr_flags, attr_xfrm;
    const uint8_t *mrenclave;  /* 32 */
    const uint8_t *mrsigner;   /* 32 */
    const uint8_t *configid;   /* 64 */
    uint16_t isvprodid, isvsvn, configsvn;
    const uint8_t *isvfamilyid; /* 16 */
    const uint8_t *reportdata;  /* 64 */
} tdx_enclave_report;

#define TDX_SGX_ATTR_INIT (1ull << 0)
#define TDX_SGX_ATTR_DEBUG (1ull << 1)
#define TDX_SGX_ATTR_MODE64 (1ull << 2)
#define TDX_SGX_ATTR_PROVISIONKEY (1ull << 4)
#define TDX_SGX_ATTR_EINITTOKENKEY (1ull << 5)
#define TDX_SGX_ATTR_KSS (1ull << 7)

/* A TD quote body (TD report 1.0 / 1.5). */
typedef struct tdx_td_report {
    const uint8_t *tee_tcb_svn;     /* 16 */
    const uint8_t *mrseam;          /* 48 */
    const uint8_t *mrsignerseam;    /* 48 */
    const uint8_t *seam_attributes; /* 8 */
    const uint8_t *td_attributes_raw; /* 8 */
    uint64_t td_attributes;
    uint64_t xfam;
    const uint8_t *mrtd, *mrconfigid, *mrowner, *mrownerconfig; /* 48 each */
    const uint8_t *rtmr[4];         /* 48 each */
    const uint8_t *reportdata;      /* 64 */
    const uint8_t *tee_tcb_svn2;    /* 16, 1.5 only (else NULL) */
    const uint8_t *mrservicetd;     /* 48, 1.5 only (else NULL) */
} tdx_td_report;

#define TDX_TD_ATTR_DEBUG (1ull << 0)
#define TDX_TD_ATTR_TUD_RESERVED (0xfeull) /* bits 1..7 */
#define TDX_TD_ATTR_SEPT_VE_DISABLE (1ull << 28)
#define TDX_TD_ATTR_MIGRATABLE (1ull << 29)
#define TDX_TD_ATTR_PKS (1ull << 30)
#define TDX_TD_ATTR_KL (1ull << 31)
#define TDX_TD_ATTR_PERFMON (1ull << 63)

typedef struct tdx_quote {
    const uint8_t *bytes;
    size_t len;
    /* header */
    uint16_t version;
    uint16_t att_key_type;
    uint32_t tee_type;
    uint16_t hdr_qe_svn, hdr_pce_svn; /* informational only (§2.1) */
    const uint8_t *qe_vendor_id;      /* 16 */
    const uint8_t *user_data;         /* 20 */
    /* body */
    tdx_body_type body_type;
    uint32_t body_len;
    const uint8_t *body;
    tdx_td_report td;        /* TD bodies */
    tdx_enclave_report enclave; /* SGX bodies */
    size_t signed_len;       /* bytes [0, signed_len) are signed */
    /* signature data */
    uint32_t sig_data_len;
    const uint8_t *signature;  /* 64: r||s big-endian */
    const uint8_t *attest_key; /* 64: X||Y big-endian */
    uint16_t outer_cert_type;  /* 6 (v4/v5) or 5 (v3) */
    const uint8_t *qe_report_raw; /* 384 */
    tdx_enclave_report qe_report;
    const uint8_t *qe_report_sig; /* 64 */
    const uint8_t *qe_auth;
    uint16_t qe_auth_len;
    uint16_t pck_cert_type;    /* 5 */
    const uint8_t *pck_chain;  /* PEM, one trailing NUL removed */
    size_t pck_chain_len;
    /* attestation key .. end of signature data: what the PCK certifies (cache key) */
    const uint8_t *certified;
    size_t certified_len;
    size_t trailing;           /* bytes after the signature data (padding) */
} tdx_quote;

/* Parse and check the structure: version 3/4/5, ECDSA P-256 attestation key,
 * Intel QE vendor, body type vs tee_type, declared lengths bounded by the
 * buffer and consumed exactly, certification data 6 -> 5 (v4/v5) or 5 (v3).
 * CACHET_E_TRUNCATED / FORMAT / UNSUPPORTED / LIMIT with cachet_err_detail(). */
cachet_rc tdx_quote_parse(const uint8_t *buf, size_t len, tdx_quote *q);
void tdx_enclave_report_parse(const uint8_t *p, tdx_enclave_report *r); /* 384 bytes */
const char *tdx_body_type_str(tdx_body_type t); /* "SGX enclave report", "TD report 1.0", ... */
const char *tdx_quote_spec(const tdx_quote *q);

/* ---- DER walker (bounded) -------------------------------------------------------- */

typedef struct tdx_der {
    uint8_t tag;
    const uint8_t *val;
    size_t len;
} tdx_der;

/* Next TLV from r (single-byte tags, definite minimal lengths up to 2^24). */
cachet_rc tdx_der_next(cachet_reader *r, tdx_der *out);

/* ---- the PCK certificate's SGX extension (1.2.840.113741.1.13.1) ---------------- */

#define TDX_OID_SGX_EXT "1.2.840.113741.1.13.1"

typedef struct tdx_pck_ext {
    uint8_t ppid[16];
    uint8_t comp[16];   /* SGX TCB COMP01..16 SVN */
    uint16_t pcesvn;
    uint8_t cpusvn[16];
    uint8_t pceid[2];
    uint8_t fmspc[6];
    int sgx_type;       /* 0 standard, 1 scalable, 2 scalable with integrity */
    bool has_platform_instance_id;
    uint8_t platform_instance_id[16];
    int dynamic_platform, cached_keys, smt_enabled; /* -1 absent, else 0/1 */
} tdx_pck_ext;

/* Parse the DER value of the SGX extension: every required OID once (PPID,
 * TCB with its 18 entries, PCE-ID, FMSPC, SGX type), no duplicates, sizes
 * exact. */
cachet_rc tdx_pck_ext_parse(const uint8_t *der, size_t len, tdx_pck_ext *out);
const char *tdx_sgx_type_str(int t);

/* ---- collateral JSON ------------------------------------------------------------- */

/* The raw bytes of the value of top-level member `key` of the JSON object
 * text (never re-serialised): fails when the text is not one object, the key
 * is absent or repeated, or a member name uses escapes. */
cachet_rc tdx_json_member_span(const char *text, size_t len, const char *key, const char **val,
                               size_t *vlen);
/* Percent-decoding of a URL-encoded PEM (PCS issuer-chain headers); malloc'd. */
cachet_rc tdx_url_decode(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen);

typedef enum tdx_tcb_status {
    TDX_TCB_UNKNOWN = 0,            /* not evaluated */
    TDX_TCB_UP_TO_DATE,
    TDX_TCB_SW_HARDENING_NEEDED,
    TDX_TCB_CONFIGURATION_NEEDED,
    TDX_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
    TDX_TCB_OUT_OF_DATE,
    TDX_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
    TDX_TCB_REVOKED,
    TDX_TCB_TD_RELAUNCH_ADVISED,
    TDX_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED,
    TDX_TCB_NOT_SUPPORTED,          /* no level matches */
    TDX_TCB_MODULE_MISMATCH,        /* no TDX module identity for the running module */
} tdx_tcb_status;

const char *tdx_tcb_status_str(tdx_tcb_status s);
/* From a TCB info / QE identity "tcbStatus" string; TDX_TCB_UNKNOWN if unknown. */
tdx_tcb_status tdx_tcb_status_parse(const char *s);

typedef struct tdx_advisories {
    char **ids;
    size_t n;
} tdx_advisories;

typedef struct tdx_tcb_level {
    uint8_t sgx[16];
    uint16_t pcesvn;
    uint8_t tdx[16];
    tdx_tcb_status status;
    int64_t tcb_date;
    tdx_advisories adv;
} tdx_tcb_level;

typedef struct tdx_module_level {
    uint8_t isvsvn;
    tdx_tcb_status status;
    int64_t tcb_date;
    tdx_advisories adv;
} tdx_module_level;

typedef struct tdx_module_identity {
    char id[16];            /* "TDX_01" */
    uint8_t mrsigner[48];
    uint8_t attributes[8];
    uint8_t attributes_mask[8];
    tdx_module_level *levels; /* sorted by isvsvn, highest first */
    size_t n_levels;
} tdx_module_identity;

typedef struct tdx_tcb_info {
    bool is_tdx;            /* id "TDX" (else "SGX") */
    int version;            /* 2 (SGX only) or 3 */
    int64_t issue_date, next_update;
    uint8_t fmspc[6];
    uint8_t pceid[2];
    int64_t tcb_type;
    int64_t eval_number;
    bool has_module;
    uint8_t module_mrsigner[48];
    uint8_t module_attributes[8];
    uint8_t module_attributes_mask[8];
    tdx_module_identity *identities;
    size_t n_identities;
    tdx_tcb_level *levels;  /* sorted as Intel's QVL orders them (highest first) */
    size_t n_levels;
} tdx_tcb_info;

/* Parse the (signed) "tcbInfo" object text. */
cachet_rc tdx_tcb_info_parse(const char *json, size_t len, tdx_tcb_info *out);
void tdx_tcb_info_clear(tdx_tcb_info *t);

typedef struct tdx_qe_level {
    uint16_t isvsvn;
    tdx_tcb_status status;  /* UpToDate, OutOfDate or Revoked */
    int64_t tcb_date;
    tdx_advisories adv;
} tdx_qe_level;

typedef struct tdx_qe_identity {
    char id[8];             /* "QE", "TD_QE", "QVE" */
    int version;
    int64_t issue_date, next_update;
    int64_t eval_number;
    uint8_t miscselect[4], miscselect_mask[4]; /* in report byte order */
    uint8_t attributes[16], attributes_mask[16];
    uint8_t mrsigner[32];
    uint16_t isvprodid;
    tdx_qe_level *levels;   /* sorted by isvsvn, highest first */
    size_t n_levels;
} tdx_qe_identity;

/* Parse the (signed) "enclaveIdentity" object text. */
cachet_rc tdx_qe_identity_parse(const char *json, size_t len, tdx_qe_identity *out);
void tdx_qe_identity_clear(tdx_qe_identity *q);

/* ---- TCB evaluation (evidence-formats §2.8, Intel QVL TcbLevelCheck) ---------- */

typedef struct tdx_tcb_eval {
    tdx_tcb_status status;          /* the converged result */
    tdx_tcb_status platform_status; /* the matched level's own status */
    tdx_tcb_status module_status;   /* TDX module identity level (UNKNOWN: not used) */
    tdx_tcb_status qe_status;       /* QE identity level (UNKNOWN: not used) */
    const tdx_tcb_level *sgx_level;
    const tdx_tcb_level *tdx_level;
    const tdx_module_identity *module;
    const tdx_module_level *module_level;
    const tdx_qe_level *qe_level;
    char why[160];                  /* when status is NOT_SUPPORTED / MODULE_MISMATCH */
} tdx_tcb_eval;

/* The QE identity level for isvsvn: the first (highest) level <= isvsvn. */
const tdx_qe_level *tdx_qe_level_match(const tdx_qe_identity *q, uint16_t isvsvn);
/* The module identity "TDX_%02X" for a module major version (case-insensitive). */
const tdx_module_identity *tdx_module_identity_find(const tdx_tcb_info *t, uint8_t major);
/* Match the platform TCB (PCK components + PCESVN, and TEE_TCB_SVN for TDX),
 * the TDX module level, the TD relaunch rule for 1.5 bodies, and converge
 * with the QE status (qe may be NULL: no QE identity). */
void tdx_tcb_evaluate(const tdx_tcb_info *t, const tdx_pck_ext *pck, const uint8_t *tee_tcb_svn,
                      const uint8_t *tee_tcb_svn2, const tdx_qe_level *qe, tdx_tcb_eval *out);
/* The Intel QVL order of TCB levels (greater first): SGX components
 * lexicographically, then PCESVN, then TDX components for TDX. */
int tdx_tcb_level_cmp(const tdx_tcb_level *a, const tdx_tcb_level *b, bool tdx);

/* ---- the Intel SGX Root CA ------------------------------------------------------- */

extern const char tdx_intel_root_pem[];
extern const uint8_t tdx_intel_root_sha256[32];      /* DER certificate */
extern const uint8_t tdx_intel_root_spki_sha256[32]; /* DER SubjectPublicKeyInfo */
/* The built-in root, parsed once and checked against both pins; NULL if the
 * embedded copy does not match them (never in a good build). */
cachet_x509 *tdx_intel_root(void);

/* ---- collateral gathered from the endorsements ------------------------------ */

#define TDX_SRC_QUOTE ((size_t)-1) /* an item that came from the quote itself */

typedef struct tdx_pool_cert {
    cachet_x509 *cert;
    size_t src;         /* endorsement index */
    bool owned;
} tdx_pool_cert;

typedef struct tdx_pool_crl {
    cachet_x509_crl *crl;
    size_t src;
    bool owned;
} tdx_pool_crl;

/* A signed Intel JSON document: body is the exact signed text. */
typedef struct tdx_signed_doc {
    const char *body;
    size_t len;
    uint8_t sig[64];    /* r||s, big-endian */
    size_t src;
    const char *form;   /* "PCS body" | "combined collateral" */
} tdx_signed_doc;

typedef struct tdx_pool {
    tdx_pool_cert *certs;
    size_t n_certs, cap_certs;
    tdx_pool_crl *crls;
    size_t n_crls, cap_crls;
    tdx_signed_doc *tcb_infos;
    size_t n_tcb_infos, cap_tcb_infos;
    tdx_signed_doc *qe_ids;
    size_t n_qe_ids, cap_qe_ids;
    char **problems;    /* "<name>: why" for Intel-looking items that are broken */
    size_t n_problems, cap_problems;
    size_t *problem_src;
    json_t **owned_json;  /* JSON the pool parsed itself (see collateral_gather.c) */
    size_t n_owned_json;
    bool oom;
} tdx_pool;

/* Collect certificates, CRLs, TCB infos and QE identities from every
 * endorsement: PEM/DER files, PCS bodies, URL-encoded PCS issuer-chain
 * headers, and the combined collateral JSON (dcap-qvl QuoteCollateralV3). */
void tdx_pool_gather(tdx_pool *pool, const cachet_endorsements *e);
void tdx_pool_clear(tdx_pool *pool);

/* ---- the check recorder (so that a cached platform replays its checks) ---------- */

typedef enum tdx_rec_kind { TDX_REC_PASS, TDX_REC_FAIL, TDX_REC_NA, TDX_REC_COMPARE, TDX_REC_WARN } tdx_rec_kind;

typedef struct tdx_rec {
    tdx_rec_kind kind;
    cachet_ev_severity sev;
    bool warn;
    char *id;
    const char *spec;
    char *detail;   /* PASS/FAIL/NA/WARN */
    char *expected; /* COMPARE */
    char *actual;
} tdx_rec;

typedef struct tdx_recs {
    const char *prefix;
    tdx_rec *v;
    size_t n, cap;
    bool failed;      /* some FAIL or failed COMPARE */
    bool auth_failed; /* ... of CACHET_EV_AUTH severity */
    bool oom;
} tdx_recs;

void tdx_recs_init(tdx_recs *r, const char *prefix);
void tdx_recs_clear(tdx_recs *r);
void tdx_recs_pass(tdx_recs *r, const char *id, const char *spec, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void tdx_recs_fail(tdx_recs *r, cachet_ev_severity sev, const char *id, const char *spec,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void tdx_recs_na(tdx_recs *r, bool warn, const char *id, const char *spec, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
bool tdx_recs_compare(tdx_recs *r, cachet_ev_severity sev, const char *id, const char *spec,
                      const char *expected, const char *actual);
void tdx_recs_warn(tdx_recs *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Emit every record into the verification context. */
void tdx_recs_replay(const tdx_recs *r, cachet_ev_ctx *ctx);

/* ---- the platform: everything the PCK and the collateral establish --------------- */

typedef enum tdx_pck_ca { TDX_PCK_CA_UNKNOWN = 0, TDX_PCK_CA_PLATFORM, TDX_PCK_CA_PROCESSOR } tdx_pck_ca;

/* What the quote's certification data and the endorsements establish,
 * independent of the quote body and signature: a pure function of
 * (certification data, endorsement bytes, anchors, time), so that it can be
 * cached by content digest for the window in which every input is valid. */
typedef struct tdx_platform {
    tdx_recs recs;          /* the checks, in order */
    size_t *used;           /* endorsement indices relied on */
    size_t n_used;
    bool auth_ok;           /* every authenticity check ran and passed */
    bool pck_ok;
    tdx_pck_ext pck;
    tdx_pck_ca pck_ca;
    cachet_pkey *attest_key; /* the certified attestation key (NULL if not certified) */
    bool has_tcb_info;
    tdx_tcb_info tcb_info;
    bool has_qe_identity;
    tdx_qe_identity qe_identity;
    const tdx_qe_level *qe_level; /* into qe_identity (NULL: none / not matched) */
    bool qe_level_ok;             /* a QE level was found */
    bool crl_checked;             /* both CRLs were available and applied */
    int64_t not_before, not_after; /* every input valid in this window */
    int refs;
} tdx_platform;

typedef struct tdx_platform_input {
    tdx_family fam;
    const tdx_quote *quote;
    const cachet_endorsements *endorsements;
    cachet_x509 *const *roots;
    size_t n_roots;
    int64_t time;
} tdx_platform_input;

/* Run every platform check (never NULL except on allocation failure). */
tdx_platform *tdx_platform_build(const tdx_platform_input *in);
tdx_platform *tdx_platform_ref(tdx_platform *p);
void tdx_platform_release(tdx_platform *p);

/* The content-digest key of a platform (family, anchors, certification data,
 * every endorsement's bytes). */
bool tdx_platform_key(const tdx_platform_input *in, uint8_t key[32]);
/* A small process-wide table of verified platforms by key, consulted only
 * when the request carries a cache (the core cache decides hits and
 * windows; this table keeps the parsed objects). */
tdx_platform *tdx_platform_cache_get(const uint8_t key[32]);
void tdx_platform_cache_put(const uint8_t key[32], tdx_platform *p);

/* ---- verification ----------------------------------------------------------------- */

int tdx_detect_tdx(const uint8_t *buf, size_t len);
int tdx_detect_sgx(const uint8_t *buf, size_t len);
cachet_rc tdx_verify_tdx(const cachet_evidence_ops *self, const cachet_verify_request *req,
                         cachet_ev_ctx *ctx);
cachet_rc tdx_verify_sgx(const cachet_evidence_ops *self, const cachet_verify_request *req,
                         cachet_ev_ctx *ctx);

/* Claims (documented in docs/evidence/tdx.md). */
void tdx_claims_quote(cachet_ev_ctx *ctx, const tdx_quote *q);
void tdx_claims_platform(cachet_ev_ctx *ctx, const tdx_platform *p);
void tdx_claims_tcb(cachet_ev_ctx *ctx, const tdx_tcb_eval *e);

/* Small helpers shared by the files. */
bool tdx_all_zero(const uint8_t *p, size_t n);
void tdx_hex(const uint8_t *p, size_t n, char *out); /* out: 2n+1, lower case */
bool tdx_hex_eq_ci(const char *hex, const uint8_t *bytes, size_t n);
cachet_rc tdx_hex_fixed(const char *hex, uint8_t *out, size_t n); /* exactly n bytes */
/* Re-record the current failure detail as "<a>: <b>: <detail>" under rc. */
cachet_rc tdx_err_prefix(cachet_rc rc, const char *a, const char *b);

#endif
