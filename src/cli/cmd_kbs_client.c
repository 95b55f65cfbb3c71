/* cachet kbs-client get-resource / cachet get-resource: run the whole key
 * broker protocol from inside the workload and write the secret.
 *
 * Exit: 0 secret written, 1 refused or failed, 2 usage error. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/attester.h"
#include "cachet/fileio.h"
#include "cachet/kbs_client.h"
#include "cachet/secmem.h"
#include "cli/cli.h"
#include "cli/tpm_common.h"

static void usage_common(FILE *out, const char *form)
{
    fprintf(out,
            "usage: %s\n"
            "         (--tee sample --sample-key KEY | --tee tsm|snp|tdx |\n"
            "          --tee tpm --tpm-tcti TCTI --tpm-ak-cert FILE [--tpm-ak rsa|ecc])\n"
            "         [--ca FILE] --out FILE\n\n"
            "Attest to the key broker (Trustee KBS protocol 0.4.0): auth, evidence bound to\n"
            "the challenge and a fresh P-256 key, attest, then fetch the resource as a JWE\n"
            "and decrypt it in protected memory; the secret is written to FILE (0600).\n"
            "Plain http:// only to a loopback broker.\n\n"
            CLI_TPM_USAGE "\n"
            "exit status: 0 secret written, 1 refused or failed, 2 usage error\n",
            form);
}

static void usage_kc(FILE *out)
{
    usage_common(out, "cachet kbs-client get-resource --url URL REPO/TYPE/TAG");
}

static void usage_gr(FILE *out)
{
    usage_common(out, "cachet get-resource --kbs URL --path REPO/TYPE/TAG");
}

static int get_resource(const char *cmd, int argc, char **argv)
{
    static const struct option opts[] = {
        {"url", required_argument, NULL, 'u'},  {"kbs", required_argument, NULL, 'u'},
        {"path", required_argument, NULL, 'p'}, {"tee", required_argument, NULL, 't'},
        {"sample-key", required_argument, NULL, 'k'}, {"ca", required_argument, NULL, 'c'},
        {"out", required_argument, NULL, 'o'},  CLI_TPM_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    const char *url = NULL, *path = NULL, *tee = NULL, *key = NULL, *ca = NULL, *out = NULL;
    int c;
    cli_tpm_args tpm;
    cli_tpm_args_init(&tpm);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case 'u': url = optarg; break;
        case 'p': path = optarg; break;
        case 't': tee = optarg; break;
        case 'k': key = optarg; break;
        case 'c': ca = optarg; break;
        case 'o': out = optarg; break;
        case ':': return cli_usage_error(cmd, "%s needs a value", argv[optind - 1]);
        default: {
            int t = cli_tpm_option(cmd, c, optarg, &tpm);
            if (t == 1)
                break;
            return t ? t : cli_usage_error(cmd, "unknown option %s", argv[optind - 1]);
        }
        }
    }
    if (!path && optind < argc)
        path = argv[optind++];
    if (optind != argc)
        return cli_usage_error(cmd, "unexpected argument %s", argv[optind]);
    if (!url || !path || !tee || !out)
        return cli_usage_error(cmd, "the broker URL, the resource path, --tee and --out are "
                               "required");
    cachet_attester *a = NULL;
    if (tpm.pcr >= 0)
        return cli_usage_error(cmd, "--tpm-pcr is cachet serve's (it measures a model)");
    int r = cli_open_attester(cmd, tee, key, &tpm, NULL, &a);
    if (r != CLI_EXIT_OK)
        return r;
    cachet_kbs_client_opts co = {.ca_file = ca};
    uint8_t *secret = NULL;
    size_t len = 0;
    cachet_process_protect();
    cachet_rc rc = cachet_kbs_fetch(url, a, path, &co, &secret, &len);
    cachet_attester_free(a);
    if (rc != CACHET_OK) {
        fprintf(stderr, "cachet %s: %s\n", cmd, cachet_err_detail());
        return CLI_EXIT_FAIL;
    }
    rc = cachet_file_write_atomic(out, secret, len, 0600);
    cachet_secure_free(secret);
    if (rc != CACHET_OK) {
        fprintf(stderr, "cachet %s: cannot write %s\n", cmd, out);
        return CLI_EXIT_FAIL;
    }
    fprintf(stderr, "cachet %s: %s released (%zu bytes) → %s\n", cmd, path, len, out);
    return CLI_EXIT_OK;
}

static int run_kc(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "get-resource") != 0)
        return cli_usage_error("kbs-client", "expected: get-resource ...");
    return get_resource("kbs-client", argc - 1, argv + 1);
}

static int run_gr(int argc, char **argv)
{
    return get_resource("get-resource", argc, argv);
}

const cli_command cli_cmd_kbs_client = {
    .name = "kbs-client",
    .summary = "attest to a key broker and fetch a resource",
    .run = run_kc,
    .usage = usage_kc,
};

const cli_command cli_cmd_get_resource = {
    .name = "get-resource",
    .summary = "the same as 'kbs-client get-resource' (the issue's spelling)",
    .run = run_gr,
    .usage = usage_gr,
};
