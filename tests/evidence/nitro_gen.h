/* nitro_gen: synthetic AWS Nitro attestation documents for tests, fuzz seeds
 * and benchmarks.
 *
 * Mints a Nitro-shaped PKI with testpki (root → regional → zonal → instance
 * CA → leaf, EC P-384 and ecdsa-with-SHA384 throughout, the leaf without an
 * authorityKeyIdentifier as AWS's are), hands the test root to the Nitro
 * family through ops->config (never through the built-in AWS root), and
 * encodes documents field by field with libcbor's encoders, signed with the
 * test leaf.  Nothing here is real AWS data. */
#ifndef CACHET_TESTS_NITRO_GEN_H
#define CACHET_TESTS_NITRO_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cachet/evidence.h"
#include "evidence/nitro/nitro.h"
#include "testpki.h"

#define NITROGEN_T0 ((int64_t)1800000000) /* 2027-01-15T08:00:00Z: "now" of the test PKI */

typedef struct nitrogen_pki {
    testpki_cert *root, *regional, *zonal, *instance, *leaf;
    cachet_x509 *anchor;       /* the test root as a cachet handle */
    nitro_config cfg;          /* .root = anchor */
    cachet_evidence_ops ops;   /* cachet_nitro_ops with .config = &cfg */
} nitrogen_pki;

/* Validity: root t0-1y..t0+20y, intermediates t0-1d..t0+10d, leaf
 * t0-1h..t0+2h (AWS leaves live about three hours).  NULL on failure. */
nitrogen_pki *nitrogen_pki_new(int64_t t0);
void nitrogen_pki_free(nitrogen_pki *p);

typedef struct nitrogen_bytes {
    const uint8_t *p; /* NULL: the field is written as null (or left out, see omit) */
    size_t len;
} nitrogen_bytes;

typedef struct nitrogen_doc {
    const char *module_id;
    const char *digest;
    uint64_t timestamp_ms;
    unsigned n_pcrs;                 /* PCR 0..n_pcrs-1 are written */
    uint8_t pcrs[NITRO_PCR_COUNT][NITRO_PCR_LEN];
    size_t pcr_len;                  /* bytes written per PCR (48) */
    const testpki_cert *certificate; /* the "certificate" field */
    const testpki_cert *signer;      /* whose key signs the COSE_Sign1 */
    const testpki_cert *cabundle[NITRO_CABUNDLE_MAX + 2];
    size_t n_cabundle;
    nitrogen_bytes public_key, user_data, nonce;
    bool omit_optional;              /* leave absent optional fields out instead of null */
    bool definite_map;               /* real documents use an indefinite-length map */
    bool tagged;                     /* prefix CBOR tag 18 */
    int64_t alg;                     /* protected header alg (-35) */
    /* mutations for negative tests */
    bool duplicate_nonce;            /* write the "nonce" key a second time */
    unsigned nest_depth;             /* > 0: add user_data as that many nested arrays */
    bool unknown_field;              /* add "extra": 1 */
    bool nonempty_unprotected;       /* unprotected header {4: h'01'} */
} nitrogen_doc;

/* A plausible document signed by p's leaf with cabundle [root, regional,
 * zonal, instance], timestamp t0 (ms), PCR0-2 and PCR4 set (0x10+i fill),
 * the rest zero, 16 PCRs, user_data 64 zero bytes, nonce and public_key null. */
void nitrogen_doc_default(nitrogen_doc *d, const nitrogen_pki *p, int64_t t0);
/* The COSE_Sign1 bytes (malloc'd), or NULL on failure. */
uint8_t *nitrogen_encode(const nitrogen_doc *d, size_t *len);

/* Offset of the first occurrence of needle in hay (for byte mutations), or
 * SIZE_MAX. */
size_t nitrogen_find(const uint8_t *hay, size_t n, const void *needle, size_t m);

#endif
