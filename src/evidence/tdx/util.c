/* Small helpers shared by the TDX/SGX files: hex, errors, names. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cachet/encoding.h"
#include "evidence/tdx/tdx.h"

const char *tdx_family_prefix(tdx_family f) { return f == TDX_FAM_SGX ? "sgx" : "tdx"; }

bool tdx_all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

void tdx_hex(const uint8_t *p, size_t n, char *out) { cachet_hex_encode(p, n, out); }

static int nib(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

cachet_rc tdx_hex_fixed(const char *hex, uint8_t *out, size_t n)
{
    if (!hex || strlen(hex) != 2 * n)
        return cachet_err(TDX_RC(FORMAT), "hex value of %zu characters, expected %zu",
                          hex ? strlen(hex) : 0, 2 * n);
    for (size_t i = 0; i < n; i++) {
        int hi = nib(hex[2 * i]), lo = nib(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return cachet_err(TDX_RC(FORMAT), "non-hex character in a hex value");
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return CACHET_OK;
}

bool tdx_hex_eq_ci(const char *hex, const uint8_t *bytes, size_t n)
{
    uint8_t buf[64];
    if (n > sizeof buf || tdx_hex_fixed(hex, buf, n) != CACHET_OK)
        return false;
    return memcmp(buf, bytes, n) == 0;
}

cachet_rc tdx_err_prefix(cachet_rc rc, const char *a, const char *b)
{
    char copy[512];
    snprintf(copy, sizeof copy, "%s", cachet_err_detail());
    return cachet_err(rc, "%s: %s: %s", a, b, copy);
}

static const struct {
    tdx_tcb_status s;
    const char *name;
} status_names[] = {
    { TDX_TCB_UP_TO_DATE, "UpToDate" },
    { TDX_TCB_SW_HARDENING_NEEDED, "SWHardeningNeeded" },
    { TDX_TCB_CONFIGURATION_NEEDED, "ConfigurationNeeded" },
    { TDX_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED, "ConfigurationAndSWHardeningNeeded" },
    { TDX_TCB_OUT_OF_DATE, "OutOfDate" },
    { TDX_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED, "OutOfDateConfigurationNeeded" },
    { TDX_TCB_REVOKED, "Revoked" },
    { TDX_TCB_TD_RELAUNCH_ADVISED, "TDRelaunchAdvised" },
    { TDX_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED, "TDRelaunchAdvisedConfigurationNeeded" },
    { TDX_TCB_NOT_SUPPORTED, "TcbNotSupported" },
    { TDX_TCB_MODULE_MISMATCH, "TdxModuleMismatch" },
};

const char *tdx_tcb_status_str(tdx_tcb_status s)
{
    for (size_t i = 0; i < sizeof status_names / sizeof status_names[0]; i++)
        if (status_names[i].s == s)
            return status_names[i].name;
    return "unknown";
}

tdx_tcb_status tdx_tcb_status_parse(const char *s)
{
    /* Only the statuses Intel serves in collateral (not the computed ones). */
    if (!s)
        return TDX_TCB_UNKNOWN;
    for (size_t i = 0; i < sizeof status_names / sizeof status_names[0]; i++) {
        if (status_names[i].s >= TDX_TCB_TD_RELAUNCH_ADVISED)
            break;
        if (strcmp(status_names[i].name, s) == 0)
            return status_names[i].s;
    }
    return TDX_TCB_UNKNOWN;
}
