/* tdx_gen: synthetic Intel DCAP quotes and collateral for tests, fuzz seeds
 * and benchmarks.
 *
 * Mints an Intel-shaped PKI with testpki ("Intel SGX Root CA" -> "Intel SGX
 * PCK Platform CA" -> "Intel SGX PCK Certificate" with an SGX extension, and
 * root -> "Intel SGX TCB Signing"), all P-256 but with test keys, and hands
 * the test root to the TDX/SGX families through ops->config only.  Quotes
 * are laid out field by field, the QE report is signed by the test PCK key
 * and the quote by a fresh attestation key; TCB info and QE identity JSON is
 * signed by the test TCB signing key.  Nothing here is real Intel data. */
#ifndef CACHET_TESTS_TDX_GEN_H
#define CACHET_TESTS_TDX_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cachet/evidence.h"
#include "evidence/tdx/tdx.h"
#include "testpki.h"

/* The time everything generated is valid around (2025-01-01T00:00:00Z). */
#define TDXGEN_T0 ((int64_t)1735689600)

/* What the PCK certificate's SGX extension says. */
typedef struct tdxgen_pck_opts {
    uint8_t comp[16];     /* default {3,3,2,2,4,1,0,5} */
    uint16_t pcesvn;      /* default 11 */
    uint8_t fmspc[6];     /* default b0c06f000000 */
    uint8_t pceid[2];     /* default 0000 */
    int sgx_type;         /* default 1 */
    bool duplicate_fmspc; /* repeat the FMSPC entry (malformed) */
    bool processor_ca;    /* "Intel SGX PCK Processor CA" instead of Platform */
} tdxgen_pck_opts;

typedef struct tdxgen {
    testpki_cert *root, *pck_ca, *pck, *tcb_signer;
    cachet_x509 *root_x509;
    cachet_x509 *roots[1];
    tdx_config config;
    cachet_evidence_ops tdx_ops, sgx_ops; /* the families, with config = the test root */
    cachet_pkey *attest_key;
    uint8_t attest_raw[64];
} tdxgen;

void tdxgen_pck_defaults(tdxgen_pck_opts *o);
/* NULL opts: defaults. */
tdxgen *tdxgen_new(const tdxgen_pck_opts *pck);
void tdxgen_free(tdxgen *g);

/* A quote's fields. */
typedef struct tdxgen_quote_opts {
    uint16_t version;           /* 3, 4 (default) or 5 */
    bool sgx;                   /* an SGX enclave quote (tee_type 0) */
    bool td15;                  /* v5: TD report 1.5 (body type 3) */
    uint8_t tee_tcb_svn[16];    /* default 06 01 03 */
    uint8_t tee_tcb_svn2[16];
    uint8_t mrsignerseam[48];
    uint8_t seam_attributes[8];
    uint64_t td_attributes;     /* default SEPT_VE_DISABLE */
    uint64_t enclave_flags;     /* SGX: default INIT | MODE64BIT */
    uint8_t mrservicetd[48];
    uint8_t report_data[64];    /* default 0x5a.. */
    uint8_t qe_mrsigner[32];    /* default 0xdc.. */
    uint16_t qe_isvprodid;      /* default 2 (TD QE) or 1 (SGX QE) */
    uint16_t qe_isvsvn;         /* default 6 */
    uint64_t qe_flags;          /* default 0x11 (INIT | MODE64BIT) */
    uint16_t qe_auth_len;       /* default 32 */
    bool bad_binding;           /* QE REPORTDATA not the attestation-key hash */
    bool nul_terminated_chain;  /* default true */
    size_t trailing;            /* zero bytes after the signature data */
} tdxgen_quote_opts;

void tdxgen_quote_defaults(tdxgen_quote_opts *o);
/* A signed quote (malloc'd). */
uint8_t *tdxgen_quote(const tdxgen *g, const tdxgen_quote_opts *o, size_t *len);

/* Default collateral texts (malloc'd JSON of the signed inner objects),
 * valid TDXGEN_T0 - 10 days .. TDXGEN_T0 + 20 days.  levels_json /
 * modules_json replace the tcbLevels / tdxModuleIdentities arrays when not
 * NULL; the defaults match the default PCK and quote (UpToDate). */
char *tdxgen_tcb_info_text(bool tdx, const char *fmspc_hex, const char *levels_json,
                           const char *modules_json, int64_t issue, int64_t next);
char *tdxgen_qe_identity_text(bool tdx, const char *mrsigner_hex, int isvprodid, int64_t issue,
                              int64_t next);
/* A PCS response body {"tcbInfo":<text>,"signature":"<hex>"} signed by the
 * test TCB signing key (member "enclaveIdentity" when !tcb_info). */
char *tdxgen_pcs_body(const tdxgen *g, bool tcb_info, const char *text);
/* The TCB signing chain (signer, root) as PEM. */
char *tdxgen_signing_chain_pem(const tdxgen *g);

/* CRLs valid TDXGEN_T0 - 10 days .. + 20 days (malloc'd DER). */
uint8_t *tdxgen_root_crl(const tdxgen *g, bool revoke_pck_ca, size_t *len);
uint8_t *tdxgen_pck_crl(const tdxgen *g, bool revoke_pck, size_t *len);

/* A complete, consistent endorsement set (TCB info, QE identity, signing
 * chain, both CRLs) for the defaults; tdx selects the TDX or SGX ids. */
cachet_endorsements *tdxgen_endorsements(const tdxgen *g, bool tdx);

#endif
