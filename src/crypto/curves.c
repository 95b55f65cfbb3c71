/* The EC curves cachet accepts (NIST P-256/P-384/P-521). */
#include <string.h>

#include "crypto/ec_int.h"

static const crypto_curve_info curves[] = {
    {CACHET_CURVE_P256, "prime256v1", 32},
    {CACHET_CURVE_P384, "secp384r1", 48},
    {CACHET_CURVE_P521, "secp521r1", 66},
};

const crypto_curve_info *crypto_curve(cachet_curve curve)
{
    for (size_t i = 0; i < sizeof curves / sizeof curves[0]; i++)
        if (curves[i].curve == curve)
            return &curves[i];
    return NULL;
}

const crypto_curve_info *crypto_curve_by_name(const char *group)
{
    static const char *const nist[] = {"P-256", "P-384", "P-521"};
    if (!group)
        return NULL;
    for (size_t i = 0; i < sizeof curves / sizeof curves[0]; i++)
        if (strcmp(group, curves[i].group) == 0 || strcmp(group, nist[i]) == 0)
            return &curves[i];
    return NULL;
}
