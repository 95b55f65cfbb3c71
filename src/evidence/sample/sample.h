/* cachet sample evidence: a software-only report for development
 * (docs/evidence/sample.md).  No hardware protects it: it proves only that
 * whoever holds the sample key signed this report_data and measurement.
 *
 * Layout (all integers little-endian; exact length, no trailing bytes):
 *
 *   0x00   8  magic "CACHETSE"
 *   0x08   2  version = 1
 *   0x0A   2  sig_alg = 1 (ECDSA P-256 with SHA-256, raw r||s big-endian)
 *   0x0C   4  flags: bit 0 debug; the other bits must be zero
 *   0x10   4  svn (the workload's security version, chosen by the attester)
 *   0x14   4  runtime_data_len N (0..SAMPLE_MAX_RUNTIME)
 *   0x18   8  timestamp (Unix seconds at signing; informational)
 *   0x20  64  report_data
 *   0x60  48  measurement (cachet's attester: SHA-384 of its executable)
 *   0x90  32  key_id = SHA-256 of the signing key's DER SubjectPublicKeyInfo
 *   0xB0   N  runtime data: the JCS text of the runtime-data object whose
 *             SHA-384 is report_data[0..48) (N = 0: none carried)
 *   0xB0+N 64 signature over bytes [0, 0xB0+N)
 */
#ifndef CACHET_EVIDENCE_SAMPLE_H
#define CACHET_EVIDENCE_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cachet/crypto.h"
#include "cachet/evidence.h"

#define SAMPLE_MAGIC "CACHETSE"
#define SAMPLE_MAGIC_LEN 8
#define SAMPLE_VERSION 1
#define SAMPLE_SIG_ES256 1
#define SAMPLE_FLAG_DEBUG 0x1u
#define SAMPLE_HEADER_LEN 0xB0
#define SAMPLE_SIG_LEN 64
#define SAMPLE_REPORT_DATA_LEN 64
#define SAMPLE_MEASUREMENT_LEN 48
#define SAMPLE_KEY_ID_LEN 32
#define SAMPLE_MAX_RUNTIME ((uint32_t)65536)
#define SAMPLE_MAX_LEN (SAMPLE_HEADER_LEN + SAMPLE_MAX_RUNTIME + SAMPLE_SIG_LEN)

#define SAMPLE_SPEC "docs/evidence/sample.md"

/* What a sample report says (parsed) or is to say (built). */
typedef struct sample_report {
    uint16_t version;
    uint16_t sig_alg;
    uint32_t flags;
    uint32_t svn;
    uint64_t timestamp;
    uint8_t report_data[SAMPLE_REPORT_DATA_LEN];
    uint8_t measurement[SAMPLE_MEASUREMENT_LEN];
    uint8_t key_id[SAMPLE_KEY_ID_LEN];
    const uint8_t *runtime_data; /* parsed: points into the input; built: the caller's */
    uint32_t runtime_data_len;
    /* parsed only: */
    const uint8_t *signed_part; /* bytes [0, 0xB0+N) of the input */
    size_t signed_len;
    const uint8_t *signature;   /* SAMPLE_SIG_LEN bytes */
} sample_report;

/* Parse untrusted bytes (shape only: nothing is verified).  CACHET_E_FORMAT
 * / _TRUNCATED / _UNSUPPORTED with the field named in the detail. */
cachet_rc sample_parse(const uint8_t *buf, size_t len, sample_report *out);

/* SHA-256 of the DER SubjectPublicKeyInfo of key. */
cachet_rc sample_key_id(const cachet_pkey *key, uint8_t out[SAMPLE_KEY_ID_LEN]);

/* Serialize r (version, sig_alg and key_id are set here) and sign it with
 * key (an EC P-256 private key); malloc'd result. */
cachet_rc sample_build(const sample_report *r, const cachet_pkey *key, uint8_t **out,
                       size_t *len);

/* The family's verify function (verify.c). */
cachet_rc sample_verify(const cachet_evidence_ops *self, const cachet_verify_request *req,
                        cachet_ev_ctx *ctx);

extern const cachet_evidence_ops cachet_sample_ops;

#endif
