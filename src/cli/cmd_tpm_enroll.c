/* cachet tpm-enroll: certify a TPM's AK under the owner's AK CA after the
 * EK certificate and a credential activation have shown that the AK lives
 * in a genuine TPM (docs/evidence/tpm.md "Enrolling an AK").
 *
 * Exit: 0 certificate written, 1 refused or failed, 2 usage error. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/clock.h"
#include "cachet/fileio.h"
#include "cachet/secmem.h"
#include "cachet/tpm.h"
#include "cli/cli.h"
#include "cli/tpm_common.h"

#define CMD "tpm-enroll"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: cachet tpm-enroll --tpm-tcti TCTI --ek-ca FILE [--ek-chain FILE]\n"
            "                         --ca-key FILE --ca-cert FILE --out AK-CERT.pem\n"
            "                         [--ak rsa|ecc] [--days N]\n\n"
            "Enroll the TPM's attestation key (AK) the way a registrar does: read the EK\n"
            "certificate (NV 0x01C00002), the EK and the AK public areas; check that the EK\n"
            "certificate chains to --ek-ca (the TPM manufacturer's CA: every certificate in\n"
            "the file is a trust anchor; --ek-chain: untrusted intermediates), names\n"
            "tcg-kp-EKCertificate and certifies the EK; check the AK is a restricted\n"
            "fixedTPM signing key; TPM2_MakeCredential of a random secret to the EK for the\n"
            "AK's Name, TPM2_ActivateCredential on the TPM; only when the same secret comes\n"
            "back, issue an X.509 certificate for the AK signed by --ca-key/--ca-cert (the\n"
            "owner's AK CA; valid --days, default 365) and write it to --out.  Quotes then\n"
            "verify with the AK CA as --trust-anchor, with no per-quote challenge:\n"
            "  cachet serve --tee tpm --tpm-tcti TCTI --tpm-ak-cert AK-CERT.pem ...\n"
            "--ak must be the AK type the attester will use (default rsa).\n\n"
            "exit status: 0 written, 1 refused or failed, 2 usage error\n");
}

/* Every certificate of a PEM/DER file. */
static int load_certs(const char *path, cachet_x509 ***certs, size_t *n)
{
    uint8_t *b = NULL;
    size_t len = 0;
    if (cachet_file_read(path, 1u << 20, &b, &len) != CACHET_OK) {
        fprintf(stderr, "cachet " CMD ": cannot read %s: %s\n", path, cachet_err_detail());
        return CLI_EXIT_FAIL;
    }
    cachet_rc rc = cachet_x509_parse_all(b, len, certs, n);
    free(b);
    if (rc != CACHET_OK || *n == 0) {
        fprintf(stderr, "cachet " CMD ": %s: no certificate\n", path);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"tpm-tcti", required_argument, NULL, 't'}, {"ek-ca", required_argument, NULL, 'e'},
        {"ek-chain", required_argument, NULL, 'i'}, {"ca-key", required_argument, NULL, 'k'},
        {"ca-cert", required_argument, NULL, 'c'},  {"out", required_argument, NULL, 'o'},
        {"ak", required_argument, NULL, 'a'},       {"days", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    const char *tcti = NULL, *ek_ca = NULL, *ek_chain = NULL, *ca_key = NULL, *ca_cert = NULL,
               *out = NULL;
    cachet_tpm_ak_type ak = CACHET_TPM_AK_RSA;
    long days = 365;
    int c;
    char *end;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case 't': tcti = optarg; break;
        case 'e': ek_ca = optarg; break;
        case 'i': ek_chain = optarg; break;
        case 'k': ca_key = optarg; break;
        case 'c': ca_cert = optarg; break;
        case 'o': out = optarg; break;
        case 'a':
            if (cli_tpm_ak_type(optarg, &ak) != 0)
                return cli_usage_error(CMD, "--ak must be rsa or ecc");
            break;
        case 'd':
            days = strtol(optarg, &end, 10);
            if (!*optarg || *end || days < 1 || days > 3650)
                return cli_usage_error(CMD, "--days must be 1..3650");
            break;
        case ':': return cli_usage_error(CMD, "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error(CMD, "unknown option %s", argv[optind - 1]);
        }
    }
    if (optind != argc)
        return cli_usage_error(CMD, "unexpected argument %s", argv[optind]);
    if (!tcti || !ek_ca || !ca_key || !ca_cert || !out)
        return cli_usage_error(CMD, "--tpm-tcti, --ek-ca, --ca-key, --ca-cert and --out are "
                                    "required");
    int r = CLI_EXIT_FAIL;
    cachet_x509 **anchors = NULL, **inter = NULL, **ca = NULL;
    size_t n_anchors = 0, n_inter = 0, n_ca = 0;
    cachet_pkey *key = NULL;
    cachet_tpm *t = NULL;
    char *pem = NULL;
    uint8_t *kb = NULL;
    size_t kl = 0;
    if (load_certs(ek_ca, &anchors, &n_anchors) != CLI_EXIT_OK ||
        (ek_chain && load_certs(ek_chain, &inter, &n_inter) != CLI_EXIT_OK) ||
        load_certs(ca_cert, &ca, &n_ca) != CLI_EXIT_OK)
        goto done;
    if (n_ca != 1) {
        fprintf(stderr, "cachet " CMD ": %s: exactly one CA certificate expected\n", ca_cert);
        goto done;
    }
    if (cachet_file_read(ca_key, 1u << 16, &kb, &kl) != CACHET_OK ||
        cachet_pkey_parse_private(kb, kl, &key) != CACHET_OK) {
        fprintf(stderr, "cachet " CMD ": %s: not a PEM private key\n", ca_key);
        goto done;
    }
    if (cachet_tpm_open(&(cachet_tpm_opts){.tcti = tcti, .ak_type = ak}, &t) != CACHET_OK) {
        fprintf(stderr, "cachet " CMD ": %s\n", cachet_err_detail());
        goto done;
    }
    cachet_tpm_enroll_params p = {
        .ek_anchors = anchors, .n_ek_anchors = n_anchors,
        .ek_intermediates = inter, .n_ek_intermediates = n_inter,
        .ca_cert = ca[0], .ca_key = key,
        .time = cachet_clock_now(NULL), .days = (unsigned)days,
    };
    if (cachet_tpm_enroll_ak(t, &p, &pem, NULL) != CACHET_OK) {
        fprintf(stderr, "cachet " CMD ": %s\n", cachet_err_detail());
        goto done;
    }
    if (cachet_file_write_atomic(out, pem, strlen(pem), 0644) != CACHET_OK) {
        fprintf(stderr, "cachet " CMD ": cannot write %s: %s\n", out, cachet_err_detail());
        goto done;
    }
    printf("enrolled: EK certificate chains to %s, credential activated, AK (%s) certificate "
           "written to %s\n", ek_ca, ak == CACHET_TPM_AK_ECC ? "ecc" : "rsa", out);
    r = CLI_EXIT_OK;
done:
    free(pem);
    cachet_tpm_close(t);
    cachet_pkey_free(key);
    if (kb) {
        cachet_wipe(kb, kl);
        free(kb);
    }
    cachet_x509_free_all(anchors, n_anchors);
    cachet_x509_free_all(inter, n_inter);
    cachet_x509_free_all(ca, n_ca);
    return r;
}

const cli_command cli_cmd_tpm_enroll = {
    .name = "tpm-enroll",
    .summary = "certify a TPM's attestation key under an AK CA (EK check + activation)",
    .run = run,
    .usage = usage,
};
