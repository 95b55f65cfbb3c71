/* Attesters: evidence collection inside a TEE.
 *
 * One small interface for every TEE (Nitro /dev/nsm, SEV-SNP, TDX, TPM, ...):
 * the caller gives the freshness nonce, optional user data and optionally a
 * public key it wants bound into the evidence, and gets the evidence bytes
 * in the native form `cachet verify` reads.  How each TEE binds the three is
 * its own business (Nitro has a field for each; SNP and TDX hash them into
 * REPORT_DATA), documented per attester.
 *
 *   cachet_attester *a;
 *   if (cachet_attester_nitro_new(NULL, &a) == CACHET_OK) {
 *       cachet_attest_request rq = { .nonce = n, .nonce_len = 32 };
 *       uint8_t *ev; size_t len;
 *       if (cachet_attester_collect(a, &rq, &ev, &len) == CACHET_OK) { ...; free(ev); }
 *       cachet_attester_free(a);
 *   }
 */
#ifndef CACHET_ATTESTER_H
#define CACHET_ATTESTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cachet/rc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cachet_attest_request {
    const uint8_t *nonce;      /* verifier's challenge; may be NULL */
    size_t nonce_len;
    const uint8_t *user_data;  /* protocol data to bind; may be NULL */
    size_t user_data_len;
    const uint8_t *public_key; /* DER SubjectPublicKeyInfo to bind; may be NULL */
    size_t public_key_len;
} cachet_attest_request;

/* An opened attester (implementations: src/attester/attester_int.h). */
typedef struct cachet_attester cachet_attester;

/* Collect evidence (CACHET_E_INVALID_ARG for an input the TEE cannot carry,
 * CACHET_E_IO when the device fails; the detail says which). */
cachet_rc cachet_attester_collect(cachet_attester *a, const cachet_attest_request *req,
                                  uint8_t **evidence, size_t *len);
/* The family name of the evidence it produces. */
const char *cachet_attester_tee(const cachet_attester *a);
void cachet_attester_free(cachet_attester *a);

/* ---- AWS Nitro Enclaves (/dev/nsm) ---------------------------------------- */

/* Opens the Nitro Secure Module device (NULL: "/dev/nsm").  The evidence is
 * the COSE_Sign1 attestation document; nonce and user_data up to 512 bytes,
 * public_key 1..1024 bytes (the limits verifiers enforce). */
cachet_rc cachet_attester_nitro_new(const char *device, cachet_attester **out);

/* ---- NVIDIA H100/H200/Blackwell GPUs (NVML, src/attester/nvgpu) ------------ */

/* NVML is loaded at run time (dlopen of libnvidia-ml.so.1): without the
 * NVIDIA driver every call below fails cleanly with CACHET_E_NOT_FOUND
 * ("no NVIDIA driver").  The evidence is the JSON container of
 * docs/evidence/nvgpu.md: one entry per GPU with the SPDM attestation report
 * made with the caller's 32-byte nonce, the attestation certificate chain,
 * UUID, architecture, driver and VBIOS versions and the CC mode. */
struct cachet_verify_result; /* cachet/evidence.h */

typedef struct cachet_nvgpu_session cachet_nvgpu_session;

typedef struct cachet_nvgpu_state {
    unsigned gpu_count;
    bool cc_feature;          /* confidential computing enabled */
    bool devtools;            /* CC devtools mode (never acceptable in production) */
    unsigned environment;     /* 0 unavailable, 1 simulated, 2 hardware */
    bool ready;               /* the GPUs accept work (ready state set) */
    char driver_version[80];
} cachet_nvgpu_state;

/* library NULL: "libnvidia-ml.so.1".  CACHET_E_NOT_FOUND when it cannot be
 * loaded, CACHET_E_UNSUPPORTED when it lacks the CC API, CACHET_E_IO when
 * nvmlInit fails. */
cachet_rc cachet_nvgpu_open(const char *library, cachet_nvgpu_session **out);
void cachet_nvgpu_close(cachet_nvgpu_session *s);
cachet_rc cachet_nvgpu_cc_state(cachet_nvgpu_session *s, cachet_nvgpu_state *out);
/* Evidence of every GPU with this nonce (malloc'd JSON text).
 * CACHET_E_STATE when CC is off, CACHET_E_NOT_FOUND without GPUs. */
cachet_rc cachet_nvgpu_collect(cachet_nvgpu_session *s, const uint8_t nonce[32],
                               uint8_t **evidence, size_t *len);
/* Let the GPUs accept work (nvmlSystemSetConfComputeGpusReadyState), only
 * for a result of verifying this session's latest evidence that passed:
 * tee nvgpu, verified, not contraindicated (a warning only with
 * accept_warning, i.e. when the owner's policy accepts it), every GPU
 * collected, with the collected nonce matched, and the GPUs not in devtools
 * mode now.  CACHET_E_POLICY (nothing set) otherwise. */
cachet_rc cachet_nvgpu_set_ready(cachet_nvgpu_session *s, const struct cachet_verify_result *res,
                                 bool accept_warning);
/* The generic interface over a session of its own: nonce exactly 32 bytes;
 * user_data and public_key cannot be carried (bind them into the nonce). */
cachet_rc cachet_attester_nvgpu_new(const char *library, cachet_attester **out);

/* ---- report data filled by the caller (src/attester/attester.c) ------------ */

/* Evidence whose 64-byte report data (SNP REPORT_DATA, TDX REPORTDATA,
 * sample report_data) is exactly report_data: for callers that computed the
 * binding themselves (cachet_runtime_data_report_data(), composite CPU+GPU
 * evidence).  TPM and Nitro evidence carry the first
 * cachet_runtime_data_binding_len() = 48 bytes (the SHA-384 digest) as the
 * quote's extraData / the document's nonce, and refuse report data whose
 * last 16 bytes are not zero.  runtime_data: the JCS text it hashes (sample
 * evidence embeds it; may be NULL).  CACHET_E_UNSUPPORTED for attesters
 * without such a field (GPUs: use cachet_attester_collect()). */
cachet_rc cachet_attester_collect_bound(cachet_attester *a, const uint8_t report_data[64],
                                        const char *runtime_data, size_t runtime_data_len,
                                        uint8_t **evidence, size_t *len);

/* For the attesters below, cachet_attester_collect() binds the request the
 * key-broker way (protocols.md §1.7; cachet/runtime_data.h): nonce (required)
 * as its base64 text, public_key (an EC SubjectPublicKeyInfo) as the
 * "tee-pubkey" JWK, user_data as "user-data"; REPORT_DATA = SHA-384 of the
 * JCS runtime data, zero-padded. */

/* ---- configfs-tsm (src/attester/tsm) ------------------------------------------ */

#define CACHET_TSM_ROOT "/sys/kernel/config/tsm/report"

typedef struct cachet_tsm_opts {
    const char *root;   /* NULL: CACHET_TSM_ROOT */
    int privlevel;      /* SNP VMPL to request, 0..3; -1: do not write privlevel */
    /* The provider required ("sev_guest", "tdx_guest"); NULL: either. */
    const char *provider;
    /* Injected mkdir(2) (NULL: the real one).  Tests put a fake configfs
     * behind it; the attester's reads and writes stay the real calls. */
    int (*mkdir_fn)(const char *path, unsigned mode, void *arg);
    void *mkdir_arg;
} cachet_tsm_opts;

/* One report request: what the provider returned. */
typedef struct cachet_tsm_report {
    char provider[32];        /* "sev_guest" / "tdx_guest" (newline stripped) */
    uint8_t *outblob;         /* the report (SNP) or quote (TDX) */
    size_t outblob_len;
    uint8_t *auxblob;         /* SNP: the GHCB certificate table; may be NULL */
    size_t auxblob_len;
    uint64_t generation;      /* after the request */
} cachet_tsm_report;

/* Creates a private report directory under the root and reads its
 * provider; the evidence family follows from it (sev_guest: snp,
 * tdx_guest: tdx).  CACHET_E_NOT_FOUND without configfs-tsm. */
cachet_rc cachet_attester_tsm_new(const cachet_tsm_opts *opts, cachet_attester **out);
/* The last report collected through a tsm attester (borrowed; NULL when
 * none or a is not a tsm attester): its auxblob holds the SNP certificates. */
const cachet_tsm_report *cachet_attester_tsm_last(const cachet_attester *a);
/* One request on an opened tsm attester: write inblob, read outblob,
 * auxblob and generation; fails (CACHET_E_STATE) when the generation says
 * another writer changed the inputs meanwhile. */
cachet_rc cachet_tsm_request(cachet_attester *a, const uint8_t inblob[64], cachet_tsm_report *out);
void cachet_tsm_report_clear(cachet_tsm_report *r);

/* ---- /dev/sev-guest (src/attester/sevguest) --------------------------------- */

typedef struct cachet_sevguest_opts {
    const char *device;   /* NULL: "/dev/sev-guest" */
    unsigned vmpl;        /* 0..3 */
    bool extended;        /* SNP_GET_EXT_REPORT: also fetch the certificate table */
    /* Injected ioctl(2) (NULL: the real one), for tests without the device. */
    int (*ioctl_fn)(int fd, unsigned long request, void *arg, void *ctx);
    void *ioctl_ctx;
} cachet_sevguest_opts;

cachet_rc cachet_attester_sevguest_new(const cachet_sevguest_opts *opts, cachet_attester **out);
/* The certificate table of the last extended report (borrowed; may be NULL). */
const uint8_t *cachet_attester_sevguest_certs(const cachet_attester *a, size_t *len);

/* One certificate of an SNP certificate table (GHCB 56421 §4.1.8.1). */
typedef struct cachet_snp_cert {
    const char *name;         /* "vcek", "vlek", "ask", "ark", or "unknown" */
    const uint8_t *data;      /* points into the table */
    size_t len;
} cachet_snp_cert;
/* Parse a table (GUID, offset, length entries ended by an all-zero entry),
 * bounded: every offset and length must lie inside the buffer. */
cachet_rc cachet_snp_cert_table_parse(const uint8_t *buf, size_t len, cachet_snp_cert *certs,
                                      size_t cap, size_t *n);

/* ---- /dev/tdx_guest (src/attester/tdxguest) ---------------------------------- */

#define CACHET_TDREPORT_LEN 1024

typedef struct cachet_tdxguest_opts {
    const char *device;         /* NULL: "/dev/tdx_guest" */
    cachet_tsm_opts tsm;        /* where the quote comes from (configfs-tsm, tdx_guest) */
    int (*ioctl_fn)(int fd, unsigned long request, void *arg, void *ctx);
    void *ioctl_ctx;
} cachet_tdxguest_opts;

/* TDG.MR.REPORT through TDX_CMD_GET_REPORT0: the 1024-byte TDREPORT (MAC'd
 * by the CPU, verifiable only on the same platform), checked to carry
 * reportdata. */
cachet_rc cachet_tdxguest_report(const cachet_tdxguest_opts *opts, const uint8_t reportdata[64],
                                 uint8_t tdreport[CACHET_TDREPORT_LEN]);
/* The attester: the TDREPORT as a local check, then the quote through
 * configfs-tsm (provider tdx_guest); evidence is the quote. */
cachet_rc cachet_attester_tdxguest_new(const cachet_tdxguest_opts *opts, cachet_attester **out);

/* ---- sample: software-only evidence for development (src/attester/sample) --- */

typedef struct cachet_sample_opts {
    const char *key_path;       /* PEM EC P-256 private key */
    bool create_key;            /* generate and write it (0600) when absent */
    uint32_t svn;               /* the svn the report claims */
    bool debug;                 /* set the report's debug flag */
    const char *measured_path;  /* what "measurement" hashes; NULL: /proc/self/exe */
} cachet_sample_opts;

cachet_rc cachet_attester_sample_new(const cachet_sample_opts *opts, cachet_attester **out,
                                     bool *key_created);

#ifdef __cplusplus
}
#endif
#endif
