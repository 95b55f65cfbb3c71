/* nvgpu_gen: synthetic NVIDIA GPU evidence for tests, fuzz seeds and
 * benchmarks.
 *
 * Mints an NVIDIA-shaped device PKI with testpki (a test "NVIDIA Device
 * Identity CA" → identity CA → provisioner ICA → "GH100 A01 GSP BROM" →
 * "GH100 A01 GSP FMC LF" with a DICE FWID extension, EC P-384 and
 * ecdsa-with-SHA384 throughout) and a RIM signing PKI (root → CA → signer),
 * hands the test roots to the nvgpu family through ops->config (never
 * through the built-in NVIDIA roots), builds SPDM 1.1 GET_MEASUREMENTS
 * request || MEASUREMENTS response reports signed with the test leaf, RIM
 * SWID documents signed with xmlsec (enveloped, C14N 1.1, ECDSA-SHA384),
 * and OCSP responses signed with OpenSSL.  Nothing here is NVIDIA data. */
#ifndef CACHET_TESTS_NVGPU_GEN_H
#define CACHET_TESTS_NVGPU_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cachet/evidence.h"
#include "evidence/nvgpu/nvgpu.h"
#include "testpki.h"

#define NVGEN_BLOCKS 64

typedef struct nvgen_pki {
    /* device chain */
    testpki_cert *root, *identity, *ica, *brom, *leaf;
    uint8_t fwid[NVGPU_FWID_LEN];
    /* RIM signing chain */
    testpki_cert *rim_root, *rim_ca, *rim_signer;
    nvgpu_trust trust;         /* device_root / rim_root: the test roots (or built-in RIM root) */
    cachet_evidence_ops ops;   /* cachet_nvgpu_ops with .config = &trust */
} nvgen_pki;

/* Certificates valid t0-1d .. t0+30d.  With
 * builtin_rim_root, trust.rim_root is NVIDIA's real CoRIM root (for tests
 * with real RIMs and generated reports).  NULL on failure. */
nvgen_pki *nvgen_pki_new(int64_t t0, bool builtin_rim_root);
void nvgen_pki_free(nvgen_pki *p);
/* PEM bundle leaf first: FMC LF, BROM, ICA, identity (+ root). malloc'd. */
char *nvgen_chain_pem(const nvgen_pki *p, bool with_root);

typedef struct nvgen_report {
    uint8_t nonce[NVGPU_NONCE_LEN];
    uint8_t n_blocks;                          /* 0: 64 */
    uint8_t values[NVGEN_BLOCKS][48];          /* block index i+1 carries values[i] */
    const char *driver_version;                /* NULL: "550.144.03" */
    uint8_t vbios[8];                          /* all zero: 96.00.9F.00.01 */
    const char *project, *project_sku, *chip_sku; /* NULL: 1010, 0200, 882 */
    bool no_fwid;
    bool other_fwid;                           /* an opaque FWID that is not the leaf's */
    int nvdec0;                                /* 0 default (disabled 0x55), 1 enabled */
    uint8_t spdm_version;                      /* 0: 0x11 */
    size_t trailing;                           /* bytes after the signature */
    uint8_t trailing_byte;
    bool duplicate_tlv;                        /* DRIVER_VERSION twice */
    bool corrupt_signature;
    const testpki_cert *signer;                /* NULL: the leaf */
} nvgen_report;

/* Defaults: nonce 0x00..0x1f, 64 blocks of deterministic values. */
void nvgen_report_defaults(nvgen_report *o);
/* The report bytes (malloc'd). */
uint8_t *nvgen_report_build(const nvgen_pki *p, const nvgen_report *o, size_t *len);

typedef struct nvgen_rim {
    const char *version;                       /* colloquialVersion */
    const char *product;                       /* NULL: GH100 */
    size_t n;                                  /* Resource count (indices 0..n-1) */
    const uint8_t (*values)[48];               /* Hash0 of index i */
    const bool *active;                        /* NULL: all active */
    const uint8_t (*alt1)[48];                 /* optional Hash1 per index (alternatives 2) */
    const testpki_cert *signer;                /* NULL: rim_signer */
    bool corrupt_after_sign;                   /* change a signed value afterwards */
    bool wrap_payload;                         /* add an unsigned Payload inside ds:Object */
    bool doctype;                              /* prepend a DOCTYPE with an entity */
} nvgen_rim;

/* A signed RIM document (malloc'd, NUL-terminated text). */
char *nvgen_rim_build(const nvgen_pki *p, const nvgen_rim *o, size_t *len);

/* An OCSP response (DER, malloc'd) for cert issued by issuer, signed by
 * responder; OpenSSL stamps producedAt with the wall clock, so verify it at
 * a time after "now".
 * responder (the issuer itself or a delegated responder certificate).
 * status: 0 good, 1 revoked, 2 unknown; reason for revoked (-1 none);
 * next_update 0: none. */
uint8_t *nvgen_ocsp(const testpki_cert *cert, const testpki_cert *issuer,
                    const testpki_cert *responder, int status, int reason, int64_t this_update,
                    int64_t next_update, size_t *len);
/* A delegated OCSP responder certificate issued by issuer (id-kp-OCSPSigning). */
testpki_cert *nvgen_ocsp_responder(const testpki_cert *issuer, int64_t t0);

#endif
