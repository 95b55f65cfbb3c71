/* The --tee tpm options shared by serve, get-resource and tpm-enroll. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/tpm_common.h"

void cli_tpm_args_init(cli_tpm_args *t)
{
    memset(t, 0, sizeof *t);
    t->ak = CACHET_TPM_AK_RSA;
    t->pcr = -1;
}

int cli_tpm_ak_type(const char *s, cachet_tpm_ak_type *out)
{
    if (strcmp(s, "rsa") == 0)
        *out = CACHET_TPM_AK_RSA;
    else if (strcmp(s, "ecc") == 0)
        *out = CACHET_TPM_AK_ECC;
    else
        return -1;
    return 0;
}

int cli_tpm_option(const char *cmd, int code, const char *arg, cli_tpm_args *t)
{
    char *end;
    switch (code) {
    case CLI_OPT_TPM_TCTI: t->tcti = arg; break;
    case CLI_OPT_TPM_AK_CERT: t->ak_cert = arg; break;
    case CLI_OPT_TPM_EVENT_LOG: t->event_log = arg; break;
    case CLI_OPT_TPM_AK:
        if (cli_tpm_ak_type(arg, &t->ak) != 0)
            return cli_usage_error(cmd, "--tpm-ak must be rsa or ecc");
        break;
    case CLI_OPT_TPM_PCR: {
        long v = strtol(arg, &end, 10);
        if (!*arg || *end || v < 0 || v > 23)
            return cli_usage_error(cmd, "--tpm-pcr must be 0..23");
        t->pcr = (int)v;
        break;
    }
    default: return 0;
    }
    t->given = true;
    return 1;
}

int cli_tpm_open(const char *cmd, const cli_tpm_args *t, cachet_attester **a)
{
    if (!t->ak_cert)
        return cli_usage_error(cmd, "--tee tpm needs --tpm-ak-cert AK-CERT.pem (cachet "
                                    "tpm-enroll issues it)");
    cachet_tpm_opts o = {.tcti = t->tcti, .ak_type = t->ak, .ak_cert_path = t->ak_cert};
    /* Continue the log of what this TPM measured since it started (absent:
     * a fresh log, as after a reboot). */
    if (t->event_log && access(t->event_log, F_OK) == 0)
        o.event_log_path = t->event_log;
    if (cachet_attester_tpm_new(&o, a) != CACHET_OK) {
        fprintf(stderr, "cachet %s: attestation: %s\n", cmd, cachet_err_detail());
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

int cli_open_attester(const char *cmd, const char *tee, const char *sample_key,
                      const cli_tpm_args *tpm, const char *err_prefix, cachet_attester **a)
{
    cachet_rc rc;
    if (tpm->given && strcmp(tee, "tpm") != 0)
        return cli_usage_error(cmd, "--tpm-* options need --tee tpm");
    if (strcmp(tee, "tpm") == 0)
        return cli_tpm_open(cmd, tpm, a);
    if (strcmp(tee, "sample") == 0) {
        if (!sample_key)
            return cli_usage_error(cmd, "--tee sample needs --sample-key KEY");
        cachet_sample_opts so = {.key_path = sample_key, .svn = 1};
        rc = cachet_attester_sample_new(&so, a, NULL);
    } else if (strcmp(tee, "tsm") == 0 || strcmp(tee, "snp") == 0 || strcmp(tee, "tdx") == 0) {
        cachet_tsm_opts to = {.privlevel = -1,
                              .provider = strcmp(tee, "snp") == 0   ? "sev_guest"
                                          : strcmp(tee, "tdx") == 0 ? "tdx_guest"
                                                                    : NULL};
        rc = cachet_attester_tsm_new(&to, a);
    } else {
        return cli_usage_error(cmd, "--tee must be sample, snp, tdx, tsm or tpm");
    }
    if (rc != CACHET_OK) {
        fprintf(stderr, "cachet %s: %s%s\n", cmd, err_prefix ? err_prefix : "", cachet_err_detail());
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}
