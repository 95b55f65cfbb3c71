/* Internal: ECDSA helpers shared by sig.c (verify) and sign.c. */
#ifndef CACHET_CRYPTO_SIG_INT_H
#define CACHET_CRYPTO_SIG_INT_H

#include "crypto/crypto_int.h"
#include "crypto/ec_int.h"

/* The curve of an EC key, or an error naming `what`. */
cachet_rc crypto_ec_key_curve(const cachet_pkey *k, const crypto_curve_info **ci,
                              const char *what);
/* Raw r||s (comp_len bytes each) → DER Ecdsa-Sig-Value (OPENSSL_free it). */
cachet_rc crypto_rs_to_der(const uint8_t *rs, size_t comp_len, cachet_endian order,
                           uint8_t **der, int *derlen);

#endif
