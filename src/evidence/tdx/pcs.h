/* Intel PCS v4 collateral for TDX and SGX quotes (evidence-formats §2.6):
 * URL construction, an on-disk cache and a fetch procedure over an injected
 * HTTP transport (the shape of snp/kds.h), so that nothing here opens a
 * socket; the CLI passes cachet_http_get_hdr, tests a fake.
 *
 * What is fetched becomes ordinary endorsements in the forms a user would
 * pass as files (collateral_gather.c): the PCS response bodies
 * {"tcbInfo":...,"signature":...} and {"enclaveIdentity":...}, their
 * issuer-chain headers as URL-encoded PEM, and the DER CRLs.  The verifier
 * re-verifies every byte on every use, so the cache is never trusted; a
 * cached document that no longer parses, or is past its nextUpdate, is
 * dropped and fetched again.
 *
 * A 429 or 503 answer records "not before" (Retry-After, or a default
 * back-off) in the cache directory, and no request is made before then. */
#ifndef CACHET_EVIDENCE_TDX_PCS_H
#define CACHET_EVIDENCE_TDX_PCS_H

#include <stddef.h>
#include <stdint.h>

#include "cachet/evidence.h"
#include "evidence/tdx/tdx.h"

#define TDX_PCS_HOST "https://api.trustedservices.intel.com"
#define TDX_PCS_CERTS_HOST "https://certificates.trustedservices.intel.com"
#define TDX_PCS_URL_MAX 512
#define TDX_PCS_MAX_BODY ((size_t)4 << 20) /* a Processor CA CRL can be large */
#define TDX_PCS_MAX_CHAIN ((size_t)64 << 10)
#define TDX_PCS_DEFAULT_BACKOFF 60 /* seconds, when a 429/503 names none */

/* GET url, keeping the first of hdr_names (NULL-terminated; NULL: none) the
 * response carries in *hdr (malloc'd, NULL if absent); otherwise exactly
 * snp_kds_get_fn (cachet_http_get_hdr has this shape). */
typedef cachet_rc (*tdx_pcs_get_fn)(void *arg, const char *url, const char *const *hdr_names,
                                    char **hdr, uint8_t **body, size_t *len, int *status,
                                    int64_t *retry_after);

typedef struct tdx_pcs_opts {
    const char *cache_dir;  /* NULL: no cache */
    tdx_pcs_get_fn get;     /* NULL: cache only (offline) */
    void *get_arg;
    int64_t now;            /* cached-document freshness and the rate-limit record */
} tdx_pcs_opts;

typedef enum tdx_pcs_doc {
    TDX_PCS_TCB_INFO = 0,
    TDX_PCS_QE_IDENTITY,
    TDX_PCS_PCK_CRL,
    TDX_PCS_ROOT_CRL,
    TDX_PCS_N_DOCS
} tdx_pcs_doc;

const char *tdx_pcs_doc_str(tdx_pcs_doc d); /* "TCB info", "QE identity", ... */

/* The canonical URL of a document: TCB info by FMSPC and QE identity under
 * /tdx or /sgx, the PCK CRL of the platform or processor CA (DER), the root
 * CA CRL at Intel's published location. */
cachet_rc tdx_pcs_url(tdx_family fam, tdx_pcs_doc doc, const uint8_t fmspc[6], tdx_pck_ca ca,
                      char *buf, size_t cap);

/* One document: from the cache when present and still good, otherwise from
 * the transport (then cached).  *chain: the issuer-chain header (URL-encoded
 * PEM, malloc'd) for TCB info and QE identity, NULL for CRLs.  crl_issuer:
 * a cached CRL must verify under it at o->now (NULL: parse only). */
cachet_rc tdx_pcs_get(const tdx_pcs_opts *o, const char *url, tdx_pcs_doc doc,
                      const cachet_x509 *crl_issuer, uint8_t **body, size_t *len, char **chain);

/* Everything the quote needs that e lacks (TCB info for its FMSPC and
 * family, QE identity, PCK CRL of its CA, root CA CRL), added to e as
 * endorsements named by their URLs (chains: "<url>#issuer-chain").  What
 * could be had is added even when something else failed; then the rc is the
 * first failure and cachet_err_detail() names every one.  *added: how many
 * documents were added. */
cachet_rc tdx_pcs_collect(const tdx_pcs_opts *o, const uint8_t *quote, size_t len,
                          cachet_endorsements *e, size_t *added);

#endif
