/* tpm_gen: synthetic TPM quote bundles for negative tests.
 *
 * A software "TPM": an AK key pair (RSA-2048 or P-256) certified by a test
 * PKI (testpki), TPMS_ATTEST/TPMT_SIGNATURE marshalled with libtss2-mu and
 * signed with OpenSSL (tests may), a crypto-agile event log with events on
 * PCRs 15 and 16, and the PCR values it replays to.  Tests edit g->ev (the
 * bundle contents) and re-sign or re-quote as a case needs, then write the
 * bundle.  Every function asserts (cmocka) on failure. */
#ifndef CACHET_TESTS_TPM_GEN_H
#define CACHET_TESTS_TPM_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cachet/crypto.h"
#include "evidence/tpm/tpm.h"
#include "testpki.h"

typedef struct tpmgen_opts {
    bool ecc;               /* AK on P-256 (ECDSA) instead of RSA-2048 */
    uint16_t sig_alg;       /* 0: RSASSA (RSA) / ECDSA (ECC); or TPM2_ALG_RSAPSS */
    uint16_t sig_hash;      /* 0: SHA-256 */
    uint32_t ak_attributes; /* 0: a restricted signing key */
    bool no_log;            /* no event log */
} tpmgen_opts;

typedef struct tpmgen {
    tpm_evidence ev;        /* what the bundle will carry */
    void *key;              /* EVP_PKEY of the AK */
    testpki_cert *root, *ica, *leaf;
    cachet_x509 *anchor;    /* root, for req.trust_anchors */
    uint16_t sig_alg, sig_hash;
    uint8_t nonce[32];
} tpmgen;

/* A valid bundle: AK certificate chain (root → ica → AK), one quote of the
 * SHA-256 bank (PCRs 0..23) over the log's values with g->nonce. */
tpmgen *tpmgen_new(const tpmgen_opts *o);
void tpmgen_free(tpmgen *g);

/* Quote 0 again: a TPMS_ATTEST over the current ev.pcrs (mask of PCRs,
 * digest recomputed unless digest is given), extraData nonce, then signed. */
void tpmgen_quote(tpmgen *g, const uint8_t *nonce, size_t nonce_len, uint32_t mask,
                  const uint8_t *digest, size_t digest_len);
/* Sign quote 0's attest bytes as they are now. */
void tpmgen_sign(tpmgen *g);
/* The bundle text (malloc'd). */
char *tpmgen_bundle(const tpmgen *g, size_t *len);

/* A crypto-agile SHA-256 log: events (text) extended into pcr, in order;
 * the replayed values go into pcrs. */
void tpmgen_log(tpm_blob *log, tpm_pcrs *pcrs, const unsigned *pcr, const char *const *events,
                size_t n);

#endif
