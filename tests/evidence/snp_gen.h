/* snp_gen: synthetic SEV-SNP evidence for tests, fuzz seeds and benchmarks.
 *
 * Mints an AMD-shaped PKI with testpki (ARK-<P> -> SEV-<P> -> SEV-VCEK and
 * ARK-<P> -> SEV-VLEK-<P> -> SEV-VLEK, P-384 throughout), an snp_trust that
 * pins the test ARK (handed to the SNP family through ops->config, never
 * through the built-in store), and reports laid out field by field and
 * signed with the test VCEK/VLEK.  Nothing here is real AMD data. */
#ifndef CACHET_TESTS_SNP_GEN_H
#define CACHET_TESTS_SNP_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cachet/evidence.h"
#include "evidence/snp/snp.h"
#include "testpki.h"

/* Fields of a synthetic report (encoded little-endian by snpgen_encode). */
typedef struct snpgen_report {
    uint32_t version;
    uint32_t guest_svn;
    uint64_t policy;
    uint8_t family_id[16], image_id[16];
    uint32_t vmpl;
    uint32_t sig_algo;
    uint64_t current_tcb, platform_info;
    uint32_t signer_info;
    uint8_t report_data[64];
    uint8_t measurement[48];
    uint8_t host_data[32];
    uint8_t id_key_digest[48], author_key_digest[48];
    uint8_t report_id[32], report_id_ma[32];
    uint64_t reported_tcb;
    uint8_t cpuid_fam, cpuid_mod, cpuid_step;
    uint8_t chip_id[64];
    uint64_t committed_tcb;
    uint8_t current_build, current_minor, current_major;
    uint8_t committed_build, committed_minor, committed_major;
    uint64_t launch_tcb;
    uint64_t launch_mit_vector, current_mit_vector;
} snpgen_report;

/* A plausible v3 (v5 for Turin) report for product p: policy 0x30000, VMPL 0,
 * VCEK signing, every TCB = snpgen_default_tcb(p), chip id 0x11.. (Turin:
 * 8 bytes then zeros), measurement 0xA5.., report_data 0x01 02 03 then zeros. */
void snpgen_report_default(snpgen_report *r, snp_product p);
uint64_t snpgen_default_tcb(snp_product p);
/* Lay the fields out (signature area zero). */
void snpgen_encode(const snpgen_report *r, uint8_t out[SNP_REPORT_SIZE]);
/* Sign bytes 0x000-0x29f with key; R and S as 72-byte little-endian fields. */
void snpgen_sign(uint8_t report[SNP_REPORT_SIZE], const cachet_pkey *key);

/* How the test VCEK/VLEK is minted. */
typedef struct snpgen_leaf_opts {
    const char *product_name;   /* default: "<Product>-B0" (VCEK), "<Product>" (VLEK) */
    uint64_t tcb;               /* default snpgen_default_tcb(p); SPLs taken in p's layout */
    bool has_tcb;
    const uint8_t *hwid;        /* default: the default chip id (64 or 8 bytes) */
    size_t hwid_len;
    bool hwid_octet_string;     /* wrap hwID in an OCTET STRING (newer KDS encoding) */
    bool omit_product_name, omit_hwid, omit_fmc;
    bool duplicate_snp_spl;     /* add .3.3 twice */
    int struct_version;         /* -1: omit; default 0 (legacy) / 1 (Turin) */
    bool has_struct_version;
    const char *csp_id;         /* VLEK: default "CN=cachet-test-csp" */
    bool p256_key;              /* a P-256 key instead of P-384 */
    bool add_csp_to_vcek;
} snpgen_leaf_opts;

typedef struct snpgen_pki {
    snp_product product;
    testpki_cert *ark, *ask, *asvk, *vcek, *vlek;
    snp_trust trust;            /* pins this test ARK for `product` only */
    cachet_evidence_ops ops;    /* cachet_snp_ops with config = &trust */
} snpgen_pki;

/* Validity of every generated certificate: 2020-01-01 .. 2040-01-01. */
#define SNPGEN_NOT_BEFORE 1577836800LL
#define SNPGEN_NOT_AFTER 2208988800LL
#define SNPGEN_TIME 1735689600LL /* 2025-01-01T00:00:00Z */

/* vcek/vlek options may be NULL (defaults).  NULL on failure. */
snpgen_pki *snpgen_pki_new(snp_product p, const snpgen_leaf_opts *vcek,
                           const snpgen_leaf_opts *vlek);
void snpgen_pki_free(snpgen_pki *k);
/* Mint another VCEK-shaped leaf under pki's ASK (or ASVK with vlek). */
testpki_cert *snpgen_mint_leaf(const snpgen_pki *k, bool vlek, const snpgen_leaf_opts *o);

/* Endorsements holding one certificate's DER (and optionally more). */
cachet_endorsements *snpgen_endorse(const testpki_cert *const *certs, size_t n);

/* DER INTEGER / IA5String encodings for extension values (buf >= 4 / len+2). */
size_t snpgen_der_uint(uint8_t v, uint8_t *buf);

#endif
