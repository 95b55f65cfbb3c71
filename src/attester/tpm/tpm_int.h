/* The TPM attester (internal to src/attester/tpm). */
#ifndef CACHET_ATTESTER_TPM_INT_H
#define CACHET_ATTESTER_TPM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tss2/tss2_esys.h>

#include "cachet/tpm.h"
#include "evidence/tpm/tpm.h"

#define AT_RC(code) CACHET_RC(CACHET_SUB_ATTESTER, CACHET_E_##code)

/* The event log cachet keeps: a crypto-agile log (a firmware log it
 * continues, or a fresh Spec ID Event03 header) plus its own records. */
typedef struct tpm_log {
    uint8_t *buf;
    size_t len, cap;
    size_t n_algs;
    uint16_t algs[TPM_EVENTLOG_MAX_ALGS];
    uint16_t sizes[TPM_EVENTLOG_MAX_ALGS];
} tpm_log;

/* A fresh log listing the given banks. */
cachet_rc tpm_log_init(tpm_log *l, const uint16_t *algs, size_t n_algs);
/* Continue an existing crypto-agile log (copied). */
cachet_rc tpm_log_load(tpm_log *l, const uint8_t *buf, size_t len);
/* Append a TCG_PCR_EVENT2 record with one digest per log algorithm, taken
 * from the TPM's digests. */
cachet_rc tpm_log_append(tpm_log *l, unsigned pcr, uint32_t type, const TPML_DIGEST_VALUES *d,
                         const uint8_t *event, size_t len);
void tpm_log_free(tpm_log *l);

struct cachet_tpm {
    TSS2_TCTI_CONTEXT *tcti;
    ESYS_CONTEXT *esys;
    ESYS_TR ek, ak;
    tpm_blob ek_public; /* TPMT_PUBLIC */
    tpm_blob ak_public; /* TPMT_PUBLIC */
    uint32_t pcr_mask;
    uint16_t pcr_bank;
    tpm_log log;
    tpm_blob ak_cert;                    /* DER, or empty */
    tpm_blob ak_chain[TPM_MAX_CHAIN];    /* DER intermediates */
    size_t n_ak_chain;
};

/* Load the AK certificate (and intermediates) from a PEM file; its key must
 * be t's AK. */
cachet_rc tpm_load_ak_cert(cachet_tpm *t, const char *path);
void tpm_free_ak_cert(cachet_tpm *t);

/* Quote the selection with nonce; the PCR values it covers are read so that
 * their digest is the quote's (retried if an extend slips in between). */
cachet_rc tpm_do_quote(cachet_tpm *t, const uint8_t *nonce, size_t nonce_len, tpm_quote_raw *q,
                       tpm_pcrs *pcrs);

/* "what: tss2 rc 0x..." into the error detail. */
cachet_rc tpm_tss_err(uint32_t rc, const char *what);

#endif
