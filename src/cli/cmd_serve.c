/* cachet serve: attest, receive the model key, unseal, load, and serve the
 * OpenAI-compatible API over attested TLS until SIGINT/SIGTERM
 * (docs/serve.md).
 *
 * Exit: 0 stopped cleanly, 1 start-up failed (nothing served), 2 usage. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/attester.h"
#include "cachet/fileio.h"
#include "cachet/secmem.h"
#include "cli/cli.h"
#include "cli/tpm_common.h"
#include "serve/serve.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: cachet serve --model FILE.sealed --kbs URL [--kbs-ca FILE]\n"
            "         (--tee sample --sample-key KEY | --tee tsm|snp|tdx |\n"
            "          --tee tpm --tpm-tcti TCTI --tpm-ak-cert FILE [--tpm-ak rsa|ecc]\n"
            "                    [--tpm-pcr N] [--tpm-event-log FILE])\n"
            "         [--listen HOST:PORT] [--model-id ID] [--resource REPO/TYPE/TAG]\n"
            "         [--threads N] [--ctx N] [--queue N] [--max-body BYTES]\n"
            "         [--api-key-file FILE]\n\n"
            "Start-up, failing closed (docs/serve.md): generate the TLS key, attest to the key\n"
            "broker with evidence bound to the model's content digest, receive the model key,\n"
            "unseal the model into a sealed memfd and load it; then serve over HTTPS:\n"
            "  /cachet/v1/attestation   fresh evidence binding the client's nonce, the TLS key\n"
            "                           and the model digest\n"
            "  /v1/models, /v1/chat/completions, /v1/completions (stream: true for SSE), /health\n\n"
            "--listen defaults to 127.0.0.1:8443 (port 0: any free port); --queue is how many\n"
            "requests may wait (default 8, 503 beyond); --api-key-file makes /v1 require\n"
            "'Authorization: Bearer <key>'.  On success these lines go to stdout:\n"
            "  listening on https://HOST:PORT\n"
            "  model ID sha256:HEX\n"
            "  tls-spki-sha256 HEX\n"
            "  startup attest+release S unseal S load S\n\n"
            CLI_TPM_USAGE
            "             Before attesting, the model's content digest is extended into PCR\n"
            "             --tpm-pcr (default 15) with an event-log entry\n"
            "             (\"cachet-model sha256:HEX\"), so every quote covers the model.\n"
            "             --tpm-event-log FILE keeps the log between starts on one TPM boot\n"
            "             (continued when present, rewritten 0600 after the measurement; put\n"
            "             it where a reboot clears it, e.g. under /run).\n\n"
            "exit status: 0 stopped by SIGINT/SIGTERM, 1 start-up failed, 2 usage error\n");
}

static bool parse_int(const char *s, long lo, long hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return false;
    *out = (int)v;
    return true;
}

/* The API key file: one line (trailing newline and spaces dropped). */
static char *read_api_key(const char *path)
{
    uint8_t *b = NULL;
    size_t n = 0;
    if (cachet_file_read(path, 4096, &b, &n) != CACHET_OK)
        return NULL;
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, b, n);
        s[n] = 0;
        while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
            s[--n] = 0;
        if (!n || strlen(s) != n) {
            cachet_wipe(s, n);
            free(s);
            s = NULL;
        }
    }
    cachet_wipe(b, n);
    free(b);
    return s;
}

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},     {"kbs", required_argument, NULL, 'u'},
        {"kbs-ca", required_argument, NULL, 'c'},    {"tee", required_argument, NULL, 't'},
        {"sample-key", required_argument, NULL, 'k'}, {"listen", required_argument, NULL, 'l'},
        {"model-id", required_argument, NULL, 'i'},  {"threads", required_argument, NULL, 'T'},
        {"ctx", required_argument, NULL, 'x'},       {"queue", required_argument, NULL, 'q'},
        {"api-key-file", required_argument, NULL, 'a'}, {"resource", required_argument, NULL, 'r'},
        {"max-body", required_argument, NULL, 'b'},  CLI_TPM_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    cachet_serve_opts o = {.listen = "127.0.0.1:8443"};
    const char *tee = NULL, *sample_key = NULL, *api_key_file = NULL;
    int c, max_body = 0;
    cli_tpm_args tpm;
    cli_tpm_args_init(&tpm);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case 'm': o.model_path = optarg; break;
        case 'u': o.kbs_url = optarg; break;
        case 'c': o.kbs.ca_file = optarg; break;
        case 't': tee = optarg; break;
        case 'k': sample_key = optarg; break;
        case 'l': o.listen = optarg; break;
        case 'i': o.model_id = optarg; break;
        case 'r': o.kbs_resource = optarg; break;
        case 'a': api_key_file = optarg; break;
        case 'T':
            if (!parse_int(optarg, 0, 1024, &o.threads))
                return cli_usage_error("serve", "--threads must be 0..1024");
            break;
        case 'x':
            if (!parse_int(optarg, 0, 1 << 20, &o.n_ctx))
                return cli_usage_error("serve", "--ctx must be 0..1048576");
            break;
        case 'q':
            if (!parse_int(optarg, 1, 4096, &o.queue_max))
                return cli_usage_error("serve", "--queue must be 1..4096");
            break;
        case 'b':
            if (!parse_int(optarg, 1024, 1 << 30, &max_body))
                return cli_usage_error("serve", "--max-body must be 1024..1073741824");
            o.max_body = (size_t)max_body;
            break;
        case ':': return cli_usage_error("serve", "%s needs a value", argv[optind - 1]);
        default: {
            int t = cli_tpm_option("serve", c, optarg, &tpm);
            if (t == 1)
                break;
            return t ? t : cli_usage_error("serve", "unknown option %s", argv[optind - 1]);
        }
        }
    }
    if (optind != argc)
        return cli_usage_error("serve", "unexpected argument %s", argv[optind]);
    if (!o.model_path || !o.kbs_url || !tee)
        return cli_usage_error("serve", "--model, --kbs and --tee are required");
    char *api_key = NULL;
    if (api_key_file && !(api_key = read_api_key(api_key_file))) {
        fprintf(stderr, "cachet serve: api key: cannot read a key from %s\n", api_key_file);
        return CLI_EXIT_FAIL;
    }
    o.api_key = api_key;
    cachet_process_protect();
    /* Block the stop signals before any thread starts, so that every
     * thread inherits the mask and sigwait below receives them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    cachet_attester *a = NULL;
    int r = cli_open_attester("serve", tee, sample_key, &tpm, "attestation: ", &a);
    if (r != CLI_EXIT_OK)
        goto out;
    o.attester = a;
    if (tpm.pcr == 0) {
        fprintf(stderr, "cachet serve: --tpm-pcr must be 1..23 (PCR 0 is firmware's)\n");
        r = CLI_EXIT_USAGE;
        goto out;
    }
    o.tpm_model_pcr = tpm.pcr > 0 ? tpm.pcr : 0;
    o.tpm_event_log = tpm.event_log;
    cachet_serve *s = NULL;
    if (cachet_serve_start(&o, &s) != CACHET_OK) {
        fprintf(stderr, "cachet serve: %s\n", cachet_err_detail());
        r = CLI_EXIT_FAIL;
        goto out;
    }
    const char *listen = o.listen;
    const char *colon = strrchr(listen, ':');
    int hostlen = colon ? (int)(colon - listen) : 0;
    const cachet_serve_timings *t = cachet_serve_timings_get(s);
    printf("listening on https://%.*s:%u\n", hostlen, listen, cachet_serve_port(s));
    printf("model %s %s\n", cachet_serve_model_id(s), cachet_serve_model_digest(s));
    printf("tls-spki-sha256 %s\n", cachet_serve_tls_spki_sha256(s));
    printf("startup attest+release %.3f unseal %.3f load %.3f\n", t->attest_release, t->unseal,
           t->load);
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "cachet serve: %s: stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    cachet_serve_stop(s);
    r = CLI_EXIT_OK;
out:
    cachet_attester_free(a);
    if (api_key) {
        cachet_wipe(api_key, strlen(api_key));
        free(api_key);
    }
    return r;
}

const cli_command cli_cmd_serve = {
    .name = "serve",
    .summary = "serve a sealed model over attested TLS (OpenAI-compatible)",
    .run = run,
    .usage = usage,
};
