/* AMD SEV-SNP evidence (internal to src/evidence/snp and its tests).
 *
 * Sources: AMD "SEV Secure Nested Paging Firmware ABI Specification" (pub.
 * 56860: ATTESTATION_REPORT, TCB_VERSION, guest policy, PLATFORM_INFO) and
 * "VCEK Certificate and KDS Interface Specification" (pub. 57230: VCEK/VLEK
 * extensions, KDS, CRL); ../docs/evidence-formats.md §1 summarises both. */
#ifndef CACHET_EVIDENCE_SNP_H
#define CACHET_EVIDENCE_SNP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cachet/crypto.h"
#include "cachet/evidence.h"
#include "cachet/rc.h"

/* Spec references cited by the checks. */
#define SNP_SPEC_REPORT "AMD 56860 §7.3 ATTESTATION_REPORT"
#define SNP_SPEC_TCB "AMD 56860 §2.2 TCB_VERSION"
#define SNP_SPEC_POLICY "AMD 56860 §4.3 guest policy"
#define SNP_SPEC_PLATFORM "AMD 56860 §7.3 PLATFORM_INFO"
#define SNP_SPEC_SIGNATURE "AMD 56860 §7.3 signature (ECDSA P-384/SHA-384)"
#define SNP_SPEC_VCEK "AMD 57230 §3 VCEK/VLEK certificate"
#define SNP_SPEC_CHAIN "AMD 57230 §3 ARK/ASK/ASVK chain"
#define SNP_SPEC_CRL "AMD 57230 §4 KDS CRL"

#define SNP_REPORT_SIZE 0x4A0u
#define SNP_SIGNED_SIZE 0x2A0u /* bytes 0x000..0x29F are signed */
#define SNP_SIG_COMP_LEN 72u   /* R and S: 72-byte little-endian fields */

/* ---- products ------------------------------------------------------------ */

typedef enum snp_product {
    SNP_PRODUCT_UNKNOWN = 0,
    SNP_PRODUCT_MILAN,
    SNP_PRODUCT_GENOA,
    SNP_PRODUCT_TURIN,
    SNP_PRODUCT__COUNT
} snp_product;

const char *snp_product_name(snp_product p); /* "Milan" ...; "unknown" */
/* Product line from CPUID family/model bytes of a v3+ report. */
snp_product snp_product_from_cpuid(uint8_t family, uint8_t model);
/* Product line from a VCEK/VLEK productName ("Milan-B0", "Genoa", "Turin-B1"). */
snp_product snp_product_from_name(const char *product_name);
/* Turin and later encode TCB_VERSION differently (§1.2). */
bool snp_product_turin_layout(snp_product p);

/* ---- TCB_VERSION ----------------------------------------------------------- */

typedef struct snp_tcb {
    uint8_t fmc;         /* Turin only */
    uint8_t bootloader;
    uint8_t tee;
    uint8_t snp;
    uint8_t microcode;
    uint8_t reserved[4]; /* legacy: spl_4..spl_7 (bytes 2..5); Turin: bytes 4..6 (3 used) */
} snp_tcb;

snp_tcb snp_tcb_decode(uint64_t raw, snp_product p);
uint64_t snp_tcb_encode(const snp_tcb *t, snp_product p);
/* Component-wise a <= b (never an integer compare: §1.2). */
bool snp_tcb_le(const snp_tcb *a, const snp_tcb *b, bool turin);
bool snp_tcb_eq(const snp_tcb *a, const snp_tcb *b, bool turin);
/* "bl=2 tee=0 snp=5 ucode=68" (+ fmc on Turin); buf >= 64 bytes. */
void snp_tcb_format(const snp_tcb *t, bool turin, char *buf, size_t cap);

/* ---- the report -------------------------------------------------------------- */

/* Where structural parsing stopped (each is one check id). */
typedef enum snp_parse_stage {
    SNP_PARSE_OK = 0,
    SNP_PARSE_SIZE,      /* snp.report.size */
    SNP_PARSE_VERSION,   /* snp.report.version */
    SNP_PARSE_SIG_ALGO,  /* snp.report.signature_algo */
    SNP_PARSE_RESERVED,  /* snp.report.reserved */
    SNP_PARSE_POLICY,    /* snp.report.policy */
    SNP_PARSE_SIGNER,    /* snp.report.signer_info */
    SNP_PARSE_PLATFORM,  /* snp.report.platform_info */
} snp_parse_stage;

/* Fields of a parsed report.  Byte fields point into the caller's buffer,
 * which must outlive this struct (signatures are checked over those bytes). */
typedef struct snp_report {
    const uint8_t *bytes; /* all 0x4A0 received bytes */
    uint32_t version;
    uint32_t guest_svn;
    uint64_t policy;
    const uint8_t *family_id;   /* 16 */
    const uint8_t *image_id;    /* 16 */
    uint32_t vmpl;
    uint32_t sig_algo;
    uint64_t current_tcb;
    uint64_t platform_info;
    uint32_t signer_info;
    const uint8_t *report_data; /* 64 */
    const uint8_t *measurement; /* 48 */
    const uint8_t *host_data;   /* 32 */
    const uint8_t *id_key_digest;     /* 48 */
    const uint8_t *author_key_digest; /* 48 */
    const uint8_t *report_id;         /* 32 */
    const uint8_t *report_id_ma;      /* 32 */
    uint64_t reported_tcb;
    uint8_t cpuid_fam, cpuid_mod, cpuid_step; /* v3+; zero in v2 */
    const uint8_t *chip_id;     /* 64 */
    uint64_t committed_tcb;
    uint8_t current_build, current_minor, current_major;
    uint8_t committed_build, committed_minor, committed_major;
    uint64_t launch_tcb;
    uint64_t launch_mit_vector, current_mit_vector; /* v5+; zero before */
    const uint8_t *sig_r;       /* 72, little-endian */
    const uint8_t *sig_s;       /* 72, little-endian */
} snp_report;

#define SNP_REPORT_DATA_LEN 64u
#define SNP_CHIP_ID_LEN 64u
#define SNP_TURIN_CHIP_ID_LEN 8u

/* Policy bits (§1.3). */
#define SNP_POLICY_SMT (1ull << 16)
#define SNP_POLICY_RESERVED1 (1ull << 17) /* must be 1 */
#define SNP_POLICY_MIGRATE_MA (1ull << 18)
#define SNP_POLICY_DEBUG (1ull << 19)
#define SNP_POLICY_SINGLE_SOCKET (1ull << 20)
#define SNP_POLICY_CXL_ALLOW (1ull << 21)
#define SNP_POLICY_MEM_AES_256_XTS (1ull << 22)
#define SNP_POLICY_RAPL_DIS (1ull << 23)
#define SNP_POLICY_CIPHERTEXT_HIDING (1ull << 24)
#define SNP_POLICY_PAGE_SWAP_DISABLE (1ull << 25)
#define SNP_POLICY_MBZ (~0ull << 26)

/* PLATFORM_INFO bits (§1.4). */
#define SNP_PLAT_SMT_EN (1ull << 0)
#define SNP_PLAT_TSME_EN (1ull << 1)
#define SNP_PLAT_ECC_EN (1ull << 2)
#define SNP_PLAT_RAPL_DIS (1ull << 3)
#define SNP_PLAT_CIPHERTEXT_HIDING_EN (1ull << 4)
#define SNP_PLAT_ALIAS_CHECK_COMPLETE (1ull << 5)
/* Bit 6 is set by real Turin firmware (vectors/snp/turin_oak_2025, 0x67);
 * peer verifiers call it IOMMU write-safe.  Not yet confirmed in 56860. */
#define SNP_PLAT_IOMMU_WRITE_SAFE (1ull << 6)
#define SNP_PLAT_SEV_TIO_EN (1ull << 7)
#define SNP_PLAT_MBZ (~0ull << 8)

/* SIGNER_INFO (§1.5). */
#define SNP_SIGNER_AUTHOR_KEY_EN (1u << 0)
#define SNP_SIGNER_MASK_CHIP_KEY (1u << 1)
#define SNP_SIGNER_KEY_SHIFT 2
#define SNP_SIGNER_KEY_MASK 7u
#define SNP_SIGNER_MBZ (~0u << 5)
#define SNP_KEY_VCEK 0u
#define SNP_KEY_VLEK 1u
#define SNP_KEY_NONE 7u

/* Parse and check the structure of a report: size, version (2, 3, 5),
 * signature algorithm, every reserved/MBZ range for that version, policy
 * bit 17 set and bits 63:26 clear, SIGNER_INFO bits 31:5 clear,
 * PLATFORM_INFO reserved bits clear.  On failure returns
 * CACHET_E_TRUNCATED / CACHET_E_UNSUPPORTED / CACHET_E_FORMAT with the detail
 * in cachet_err_detail() and the stage in *stage. */
cachet_rc snp_report_parse(const uint8_t *buf, size_t len, snp_report *out, snp_parse_stage *stage);
const char *snp_parse_stage_check(snp_parse_stage s); /* the check id */
unsigned snp_report_signing_key(const snp_report *r);  /* SIGNER_INFO bits 4:2 */

/* ---- VCEK / VLEK extensions (57230) ------------------------------------------ */

#define SNP_OID_STRUCT_VERSION "1.3.6.1.4.1.3704.1.1"
#define SNP_OID_PRODUCT_NAME "1.3.6.1.4.1.3704.1.2"
#define SNP_OID_SPL_PREFIX "1.3.6.1.4.1.3704.1.3." /* .1 bl .2 tee .3 snp .4-.7 spl_4-7 .8 ucode .9 fmc */
#define SNP_OID_HWID "1.3.6.1.4.1.3704.1.4"
#define SNP_OID_CSP_ID "1.3.6.1.4.1.3704.1.5"

#define SNP_SPL_BL 1
#define SNP_SPL_TEE 2
#define SNP_SPL_SNP 3
#define SNP_SPL_UCODE 8
#define SNP_SPL_FMC 9
#define SNP_SPL_MAX 9

typedef struct snp_vcek_info {
    bool has_struct_version;
    uint64_t struct_version;
    char product_name[64];
    bool has_spl[SNP_SPL_MAX + 1]; /* index 1..9 */
    uint8_t spl[SNP_SPL_MAX + 1];
    uint8_t hwid[SNP_CHIP_ID_LEN];
    size_t hwid_len;               /* 0: absent; 64 (legacy) or 8 (Turin) */
    bool hwid_was_octet_string;    /* the newer KDS encoding (04 40 ...) */
    bool has_csp_id;
    char csp_id[256];
} snp_vcek_info;

/* Looks up one extension's value (the DER inside extnValue) by dotted OID:
 * CACHET_OK, CACHET_E_NOT_FOUND when absent, CACHET_E_FORMAT when repeated. */
typedef cachet_rc (*snp_ext_lookup_fn)(void *arg, const char *oid, const uint8_t **val,
                                       size_t *len);

/* Read every AMD extension through lookup (bounded, no trust in lengths):
 * productName and bl/tee/snp/ucode SPLs are required; SPLs must be INTEGERs
 * in 0..255; hwID is 64 or 8 raw bytes or an OCTET STRING of either size. */
cachet_rc snp_vcek_ext_read(snp_ext_lookup_fn lookup, void *arg, snp_vcek_info *out);
/* The same over a certificate's extensions. */
cachet_rc snp_vcek_info_from_cert(const cachet_x509 *cert, snp_vcek_info *out);
/* The certificate's TCB in the report's TCB_VERSION layout for product p.
 * Fails (CACHET_E_FORMAT) when a layout-specific SPL is missing (fmcSPL on
 * Turin) or a reserved SPL the layout has no byte for is non-zero. */
cachet_rc snp_vcek_tcb(const snp_vcek_info *v, snp_product p, uint64_t *raw);

/* ---- trust: the AMD roots built into cachet ---------------------------------- */

typedef struct snp_product_roots {
    cachet_x509 *ark;  /* the pinned root (anchor) */
    cachet_x509 *ask;  /* VCEK intermediate (optional helper) */
    cachet_x509 *asvk; /* VLEK intermediate (optional helper) */
} snp_product_roots;

typedef struct snp_trust {
    snp_product_roots products[SNP_PRODUCT__COUNT]; /* index by snp_product */
} snp_trust;

/* The built-in store (ARK, ASK, ASVK for Milan, Genoa, Turin), parsed once;
 * NULL only if the embedded certificates fail to parse (never in a good build). */
const snp_trust *snp_trust_builtin(void);

/* Embedded PEM of the built-in AMD certificates. */
typedef enum snp_root_role { SNP_ROLE_ARK, SNP_ROLE_ASK, SNP_ROLE_ASVK } snp_root_role;
typedef struct snp_builtin_cert {
    snp_product product;
    snp_root_role role;
    const char *cn;
    const char *pem;
} snp_builtin_cert;
const snp_builtin_cert *snp_builtin_certs(size_t *n);

/* ---- verification -------------------------------------------------------------- */

/* The family's verify function: ops->config may point to an snp_trust that
 * replaces the built-in store (tests); otherwise the built-in pins are used.
 * req->trust_anchors never stand in for an ARK. */
cachet_rc snp_verify(const cachet_evidence_ops *self, const cachet_verify_request *req,
                     cachet_ev_ctx *ctx);
int snp_detect(const uint8_t *buf, size_t len);

/* Claims from a parsed report (product decides the TCB layout). */
void snp_report_claims(cachet_ev_ctx *ctx, const snp_report *r, snp_product p);

#endif
