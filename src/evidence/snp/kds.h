/* AMD Key Distribution Service (KDS) collateral for SEV-SNP (AMD 57230 §4;
 * evidence-formats §1.8): URL construction, an on-disk cache and a fetch
 * procedure over an injected HTTP transport, so that nothing here opens a
 * socket (tests and offline runs never touch the network; a libcurl
 * transport is the caller's to provide).
 *
 * What is fetched becomes ordinary endorsements: the verifier re-verifies
 * every byte on every use (chain to the pinned ARK, CRL signature, VCEK
 * binding), so the cache is never trusted; a cached file that no longer
 * parses as what it should be is dropped and fetched again.
 *
 * KDS rate-limits: a 429 or 503 answer records "not before" (Retry-After,
 * or a default back-off) in the cache directory, and no request is made
 * before that time. */
#ifndef CACHET_EVIDENCE_SNP_KDS_H
#define CACHET_EVIDENCE_SNP_KDS_H

#include <stddef.h>
#include <stdint.h>

#include "cachet/evidence.h"
#include "evidence/snp/snp.h"

#define SNP_KDS_HOST "https://kdsintf.amd.com"
#define SNP_KDS_URL_MAX 512
#define SNP_KDS_MAX_BODY ((size_t)1 << 20)
#define SNP_KDS_DEFAULT_BACKOFF 60 /* seconds, when a 429/503 names none */

/* GET url: on success *body is malloc'd (caller frees) and *status is the
 * HTTP status; *retry_after is the Retry-After delay in seconds (0 if none).
 * A transport error (no answer) is a non-OK rc. */
typedef cachet_rc (*snp_kds_get_fn)(void *arg, const char *url, uint8_t **body, size_t *len,
                                    int *status, int64_t *retry_after);

typedef struct snp_kds_opts {
    const char *cache_dir;  /* NULL: no cache */
    snp_kds_get_fn get;     /* NULL: cache only (offline) */
    void *get_arg;
    int64_t now;            /* for the rate-limit record and cached-CRL freshness */
} snp_kds_opts;

/* URLs (57230 §4).  VCEK: the hwid is CHIP_ID as 128 hex digits, or 16 for
 * Turin (KDS refuses the 64-byte form there); SPLs come from REPORTED_TCB
 * in the product's layout, as decimals. */
cachet_rc snp_kds_vcek_url(snp_product p, const uint8_t chip_id[SNP_CHIP_ID_LEN],
                           uint64_t reported_tcb, char *buf, size_t cap);
cachet_rc snp_kds_chain_url(snp_product p, bool vlek, char *buf, size_t cap);
cachet_rc snp_kds_crl_url(snp_product p, bool vlek, char *buf, size_t cap);

/* One document: from the cache when present and still good, otherwise from
 * the transport (then cached).  kind says what the body must parse as
 * (certificates or a CRL); a CRL must also verify under crl_issuer at
 * o->now, so a stale cached CRL is fetched again instead of failing the
 * verification later. */
cachet_rc snp_kds_get(const snp_kds_opts *o, const char *url, cachet_endorsement_kind kind,
                      const cachet_x509 *crl_issuer, uint8_t **body, size_t *len);

/* Everything a report needs: the VCEK (for VCEK-signed reports with an
 * unmasked CHIP_ID; a VLEK cannot be fetched publicly), the ASK/ASVK+ARK
 * chain and the CRL, added to e as endorsements named by their URLs.
 * The product comes from the report's CPUID (v3+), or p when given.
 * Failing to get the CRL is not fatal (the verifier then reports that
 * revocation was not checked): its rc goes to *crl_rc when given. */
cachet_rc snp_kds_collect(const snp_kds_opts *o, const uint8_t *report, size_t len,
                          snp_product p, cachet_endorsements *e, cachet_rc *crl_rc);

#endif
