/* Internal: curve table and size limits shared by pkey.c, sig.c, keygen.c. */
#ifndef CACHET_CRYPTO_EC_INT_H
#define CACHET_CRYPTO_EC_INT_H

#include "cachet/crypto.h"

/* Largest DER object (key, certificate, CRL) we parse: real ones are a few
 * KiB; AMD CRLs and PEM bundles stay far below this. */
#define CRYPTO_MAX_OBJECT ((size_t)4 << 20)

#define CRYPTO_RSA_MIN_BITS 2048
#define CRYPTO_RSA_MAX_BITS 8192

#define CRYPTO_EC_MAX_FIELD 66 /* P-521 */
/* AMD SNP pads each signature component to 72 bytes (SNP ABI, Table 139). */
#define CRYPTO_EC_MAX_COMP 72

typedef struct crypto_curve_info {
    cachet_curve curve;
    const char *group; /* OpenSSL group name */
    size_t field_len;  /* bytes per coordinate / per signature component */
} crypto_curve_info;

const crypto_curve_info *crypto_curve(cachet_curve curve);
/* Accepts OpenSSL's names and NIST aliases ("P-256"). */
const crypto_curve_info *crypto_curve_by_name(const char *group);

#endif
