/* The --tee tpm options shared by serve, get-resource and tpm-enroll, and
 * opening a workload's attester from --tee (serve, get-resource). */
#ifndef CACHET_CLI_TPM_COMMON_H
#define CACHET_CLI_TPM_COMMON_H

#include <getopt.h>
#include <stdbool.h>

#include "cachet/attester.h"
#include "cachet/tpm.h"

enum {
    CLI_OPT_TPM_TCTI = 0x1000,
    CLI_OPT_TPM_AK_CERT,
    CLI_OPT_TPM_AK,
    CLI_OPT_TPM_PCR,
    CLI_OPT_TPM_EVENT_LOG,
};

/* getopt_long entries for --tpm-tcti, --tpm-ak-cert, --tpm-ak, --tpm-pcr
 * and --tpm-event-log. */
#define CLI_TPM_LONG_OPTIONS                                                                \
    {"tpm-tcti", required_argument, NULL, CLI_OPT_TPM_TCTI},                                \
    {"tpm-ak-cert", required_argument, NULL, CLI_OPT_TPM_AK_CERT},                          \
    {"tpm-ak", required_argument, NULL, CLI_OPT_TPM_AK},                                    \
    {"tpm-pcr", required_argument, NULL, CLI_OPT_TPM_PCR},                                  \
    {"tpm-event-log", required_argument, NULL, CLI_OPT_TPM_EVENT_LOG}

#define CLI_TPM_USAGE                                                                       \
    "  --tee tpm: --tpm-tcti TCTI (e.g. swtpm:host=127.0.0.1,port=2321; default\n"          \
    "             device:/dev/tpmrm0) --tpm-ak-cert AK-CERT.pem (from cachet tpm-enroll;\n"     \
    "             quotes verify against its CA) [--tpm-ak rsa|ecc (default rsa)]\n"

typedef struct cli_tpm_args {
    const char *tcti, *ak_cert;
    const char *event_log; /* --tpm-event-log: continued when present, rewritten by serve */
    cachet_tpm_ak_type ak;
    int pcr;   /* -1: not given */
    bool given; /* any --tpm-* option */
} cli_tpm_args;

void cli_tpm_args_init(cli_tpm_args *t);
/* "rsa" / "ecc": 0, else -1. */
int cli_tpm_ak_type(const char *s, cachet_tpm_ak_type *out);
/* Handle one getopt_long code: 1 consumed, 0 not a TPM option, or
 * CLI_EXIT_USAGE (the error printed). */
int cli_tpm_option(const char *cmd, int code, const char *arg, cli_tpm_args *t);
/* Open the TPM attester; prints the error.  CLI_EXIT_OK / CLI_EXIT_FAIL /
 * CLI_EXIT_USAGE (no AK certificate: without one no verifier can trust the
 * quotes of a remote attestation). */
int cli_tpm_open(const char *cmd, const cli_tpm_args *t, cachet_attester **a);
/* The attester --tee names: sample (with sample_key), tsm, snp, tdx or tpm.
 * Usage errors print "cachet CMD: ..."; an attester that fails to open
 * prints "cachet CMD: <err_prefix><why>".  CLI_EXIT_OK / _FAIL / _USAGE. */
int cli_open_attester(const char *cmd, const char *tee, const char *sample_key,
                      const cli_tpm_args *tpm, const char *err_prefix, cachet_attester **a);

#endif
