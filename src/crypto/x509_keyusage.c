/* The keyUsage extension (RFC 5280 §4.2.1.3) as RFC bit numbers, for
 * profile checks such as the Nitro leaf's digitalSignature
 * (attestation_process.md §3.2.3.3). */
#include <openssl/x509v3.h>

#include "crypto/crypto_int.h"

cachet_rc cachet_x509_key_usage(const cachet_x509 *c, uint32_t *bits, bool *present)
{
    if (!c || !bits || !present)
        return crypto_err(INVALID_ARG, "x509_key_usage: NULL argument");
    *bits = 0;
    *present = false;
    /* X509_get_extension_flags() decodes the cached extensions and flags
     * EXFLAG_INVALID when one of them (keyUsage included) is malformed. */
    uint32_t flags = X509_get_extension_flags(c->x);
    if (flags & EXFLAG_INVALID)
        return crypto_err(FORMAT, "x509_key_usage: malformed extensions");
    if (!(flags & EXFLAG_KUSAGE))
        return CACHET_OK;
    uint32_t ku = X509_get_key_usage(c->x);
    static const struct { uint32_t ossl, rfc; } map[] = {
        { KU_DIGITAL_SIGNATURE, CACHET_KU_DIGITAL_SIGNATURE },
        { KU_NON_REPUDIATION, CACHET_KU_NON_REPUDIATION },
        { KU_KEY_ENCIPHERMENT, CACHET_KU_KEY_ENCIPHERMENT },
        { KU_DATA_ENCIPHERMENT, CACHET_KU_DATA_ENCIPHERMENT },
        { KU_KEY_AGREEMENT, CACHET_KU_KEY_AGREEMENT },
        { KU_KEY_CERT_SIGN, CACHET_KU_KEY_CERT_SIGN },
        { KU_CRL_SIGN, CACHET_KU_CRL_SIGN },
        { KU_ENCIPHER_ONLY, CACHET_KU_ENCIPHER_ONLY },
        { KU_DECIPHER_ONLY, CACHET_KU_DECIPHER_ONLY },
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (ku & map[i].ossl)
            *bits |= map[i].rfc;
    *present = true;
    return CACHET_OK;
}
