/* TPM 2.0 attestation: the verifier's credential challenge and the TPM
 * attester (docs/evidence/tpm.md).
 *
 * The flow, end to end:
 *
 *   attester                                   verifier
 *   cachet_tpm_open()
 *   cachet_tpm_ek_public(), _ak_public() ───►  nonce = 16..32 random bytes
 *                                              cachet_tpm_credential_challenge(ek, ak, nonce)
 *                                        ◄───  credential blob + encrypted secret (never the nonce)
 *   cachet_tpm_extend(pcr, "model sha256:…")
 *   cachet_tpm_quote_activated(blob, secret)
 *     (TPM2_ActivateCredential releases the nonce only with the AK beside
 *      the EK; the quote carries it in extraData)
 *                                        ───►  cachet verify --tee tpm --nonce HEX
 *                                                --trust-anchor EK-CA bundle.json
 *
 * Verification recomputes the challenge from the nonce, so it needs no state
 * beyond the nonce; the nonce must reach the attester only inside the
 * challenge.  A TPM with a vendor- or cloud-issued AK certificate needs no
 * challenge: cachet_tpm_quote() with any nonce, and the AK certificate's CA
 * as trust anchor. */
#ifndef CACHET_TPM_H
#define CACHET_TPM_H

#include <stddef.h>
#include <stdint.h>

#include "cachet/attester.h"
#include "cachet/crypto.h"
#include "cachet/rc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- verifier side (src/evidence/tpm) ----------------------------------- */

#define CACHET_TPM_NONCE_MIN 16
#define CACHET_TPM_NONCE_MAX 32

/* The credential-activation challenge for nonce: TPM2_MakeCredential of the
 * nonce itself to the RSA EK (TPM2B_PUBLIC) for the AK (TPM2B_PUBLIC), with
 * the seed and the OAEP randomness derived from the nonce.  Outputs are the
 * marshalled TPM2B_ID_OBJECT and TPM2B_ENCRYPTED_SECRET (malloc'd). */
cachet_rc cachet_tpm_credential_challenge(const uint8_t *ek_public, size_t ek_len,
                                          const uint8_t *ak_public, size_t ak_len,
                                          const uint8_t *nonce, size_t nonce_len,
                                          uint8_t **credential_blob, size_t *blob_len,
                                          uint8_t **encrypted_secret, size_t *secret_len);

/* Plain TPM2_MakeCredential with a random seed, for a registrar that keeps
 * the credential itself. */
cachet_rc cachet_tpm_make_credential(const uint8_t *ek_public, size_t ek_len,
                                     const uint8_t *ak_name, size_t ak_name_len,
                                     const uint8_t *credential, size_t cred_len,
                                     uint8_t **credential_blob, size_t *blob_len,
                                     uint8_t **encrypted_secret, size_t *secret_len);

/* The Name (nameAlg || H(TPMT_PUBLIC)) of an object given as TPM2B_PUBLIC. */
cachet_rc cachet_tpm_public_name(const uint8_t *pub, size_t len, uint8_t *name, size_t cap,
                                 size_t *name_len);

/* ---- attester side (src/attester/tpm) ----------------------------------- */

typedef struct cachet_tpm cachet_tpm;

typedef enum cachet_tpm_ak_type {
    CACHET_TPM_AK_RSA = 0, /* RSA-2048, RSASSA with SHA-256 */
    CACHET_TPM_AK_ECC,     /* NIST P-256, ECDSA with SHA-256 */
} cachet_tpm_ak_type;

typedef struct cachet_tpm_opts {
    /* tpm2-tss TCTI loader configuration, e.g. "swtpm:host=127.0.0.1,port=2321"
     * or "device:/dev/tpmrm0"; NULL means "device:/dev/tpmrm0". */
    const char *tcti;
    cachet_tpm_ak_type ak_type;
    uint32_t pcr_mask;      /* PCRs to quote, bit i = PCR i; 0 means 0..23 */
    uint16_t pcr_bank;      /* TPM_ALG_ID of the quoted bank; 0 means SHA-256 */
    /* A firmware event log to continue (e.g. the kernel's
     * binary_bios_measurements); NULL starts a log of cachet's events only. */
    const char *event_log_path;
    /* PEM file: the AK certificate (its key must be this TPM's AK, checked
     * at open) followed by any intermediates; they go into every bundle as
     * ak_cert and ak_chain, so quotes verify against the AK CA as trust
     * anchor with no per-quote challenge (cachet_tpm_enroll_ak).  NULL: none. */
    const char *ak_cert_path;
} cachet_tpm_opts;

/* Connect, create (or recreate, they are primary keys) the EK from the TCG
 * EK template L-1 and the AK under the endorsement hierarchy. */
cachet_rc cachet_tpm_open(const cachet_tpm_opts *opts, cachet_tpm **out);
void cachet_tpm_close(cachet_tpm *t);

/* TPM2B_PUBLIC of the EK / AK, malloc'd. */
cachet_rc cachet_tpm_ek_public(cachet_tpm *t, uint8_t **pub, size_t *len);
cachet_rc cachet_tpm_ak_public(cachet_tpm *t, uint8_t **pub, size_t *len);
/* The RSA EK certificate from NV index 0x01C00002 (DER, malloc'd);
 * CACHET_E_NOT_FOUND when the TPM has none. */
cachet_rc cachet_tpm_ek_cert(cachet_tpm *t, uint8_t **der, size_t *len);

/* TPM2_ActivateCredential with the AK and the EK: the credential, into
 * out (cap bytes). */
cachet_rc cachet_tpm_activate(cachet_tpm *t, const uint8_t *blob, size_t blob_len,
                              const uint8_t *secret, size_t secret_len, uint8_t *out,
                              size_t cap, size_t *out_len);

/* Measure: TPM2_PCR_Event of event (1..1024 bytes) into pcr, and an EV_IPL
 * record with the TPM's digests appended to the event log. */
cachet_rc cachet_tpm_extend(cachet_tpm *t, unsigned pcr, const void *event, size_t event_len);

/* The event log so far (crypto-agile, malloc'd copy): persist it and pass
 * it as event_log_path when the attester restarts on a TPM that kept its
 * PCRs, or the log will not replay. */
cachet_rc cachet_tpm_event_log(cachet_tpm *t, uint8_t **log, size_t *len);

/* Quote the PCR selection with nonce as extraData (0..64 bytes) and emit the
 * bundle (JSON text, malloc'd, NUL-terminated): AK and EK public areas, the
 * EK certificate when the TPM has one, the PCR values, the event log. */
cachet_rc cachet_tpm_quote(cachet_tpm *t, const uint8_t *nonce, size_t nonce_len, char **bundle,
                           size_t *len);
/* Activate the challenge, quote with the credential it releases as the
 * nonce, and add the activation record to the bundle. */
cachet_rc cachet_tpm_quote_activated(cachet_tpm *t, const uint8_t *blob, size_t blob_len,
                                     const uint8_t *secret, size_t secret_len, char **bundle,
                                     size_t *len);

/* The generic attester interface over a TPM ("tpm" evidence: the bundle).
 * collect() quotes with the request's nonce; user_data and public_key are
 * refused (fold them into the nonce).  collect_bound() quotes with the first
 * 48 bytes of the report data (the SHA-384 binding digest,
 * cachet_runtime_data_binding_len("tpm")) as extraData; the rest of the
 * report data must be zero. */
cachet_rc cachet_attester_tpm_new(const cachet_tpm_opts *opts, cachet_attester **out);
/* The TPM behind a TPM attester (borrowed), e.g. to measure before
 * attesting; NULL for any other attester. */
cachet_tpm *cachet_attester_tpm_handle(const cachet_attester *a);

/* ---- AK enrollment (registrar side, src/attester/tpm/enroll.c) ------------ */

/* Mechanism 1 of docs/evidence/tpm.md issued locally, the way a registrar
 * (e.g. Keylime's) issues AK certificates: the EK certificate (NV
 * 0x01C00002) must chain to ek_anchors (through the untrusted
 * ek_intermediates) at time, name tcg-kp-EKCertificate and certify the EK
 * public area; the AK must have the restricted signing-key attributes;
 * TPM2_MakeCredential of a random secret to the EK for the AK's Name must
 * come back unchanged from TPM2_ActivateCredential.  Only then is an X.509
 * certificate for the AK public key issued by ca_cert/ca_key (valid from
 * time - 60 s for days days, extKeyUsage tcg-kp-AIKCertificate 2.23.133.8.3,
 * subject CN "cachet-ak <first 16 hex digits of the AK Name>").
 * CACHET_E_POLICY names the check that refused. */
typedef struct cachet_tpm_enroll_params {
    cachet_x509 *const *ek_anchors;
    size_t n_ek_anchors;
    cachet_x509 *const *ek_intermediates;
    size_t n_ek_intermediates;
    const cachet_x509 *ca_cert;   /* the owner's AK CA */
    const cachet_pkey *ca_key;    /* its private key */
    int64_t time;
    unsigned days;                /* 0: 365 */
} cachet_tpm_enroll_params;

cachet_rc cachet_tpm_enroll_ak(cachet_tpm *t, const cachet_tpm_enroll_params *p, char **ak_cert_pem,
                               cachet_x509 **ak_cert);

#ifdef __cplusplus
}
#endif
#endif
