/* Error relabelling for the seal subsystem. */
#include <stdio.h>
#include <string.h>

#include "seal/seal_int.h"

cachet_rc seal_wrap(cachet_rc rc, const char *what)
{
    if (rc == CACHET_OK)
        return rc;
    /* The detail lives in a per-thread buffer that cachet_err() rewrites:
     * copy it out before formatting the new one. */
    char inner[400];
    snprintf(inner, sizeof inner, "%s", cachet_err_detail());
    uint32_t code = cachet_rc_code(rc);
    if (code == 0 || code >= CACHET_E__COUNT)
        code = CACHET_E_IO;
    if (inner[0])
        return cachet_err(CACHET_RC(CACHET_SUB_SEAL, code), "%s: %s", what, inner);
    return cachet_err(CACHET_RC(CACHET_SUB_SEAL, code), "%s: %s", what, cachet_rc_str(rc));
}
