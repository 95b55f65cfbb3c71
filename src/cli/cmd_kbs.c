/* cachet kbs / kbs-admin / kbs-client: the key broker, its offline
 * administration and its client (docs/kbs.md).
 *
 *   cachet kbs [--config FILE] [--listen HOST:PORT] [--http] [--db FILE]
 *              [--kek-file FILE] [--tls-cert PEM --tls-key PEM] [--token-key PEM]
 *              [--sample-trust-key PEM]... [--trust-anchor PEM]...
 *              [--session-timeout S] [--max-body BYTES]
 *
 * Exit: 0 stopped by SIGINT/SIGTERM, 1 could not start, 2 usage error. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cachet/fileio.h"
#include "cachet/kbs.h"
#include "cachet/log.h"
#include "cachet/secmem.h"
#include "cli/cli.h"
#include "cli/kbs_common.h"

#define CMD "kbs"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: cachet kbs [--config FILE] [--listen HOST:PORT] [--http] [--db FILE]\n"
            "                  [--kek-file FILE] [--tls-cert PEM --tls-key PEM]\n"
            "                  [--token-key PEM] [--sample-trust-key PEM]...\n"
            "                  [--trust-anchor CERTS.pem]...\n"
            "                  [--endorsements DIR]\n"
            "                  [--admin-public-key PEM]... [--rate-limit N] [--rate-burst N]\n"
            "                  [--session-timeout SECONDS] [--max-body BYTES]\n\n"
            "Serve the key broker (Trustee KBS protocol 0.4.0, docs/kbs.md).  HTTPS with\n"
            "--tls-cert/--tls-key; plain HTTP only with --http and only on a loopback\n"
            "address.  The store is a SQLite file (WAL) whose resources are encrypted\n"
            "under the KEK: --kek-file, else $CACHET_KBS_KEK (64 hex digits), else\n"
            "~/.config/cachet/kbs.kek (created 0600 on first use, never beside the\n"
            "database).  Without policies in the store the broker denies everything;\n"
            "set them with 'cachet kbs-admin'.  The admin API (resources, policies) is\n"
            "served only with --admin-public-key (Ed25519; requests carry a JWT signed by\n"
            "its private half).  --rate-limit N requests per second per client address\n"
            "(default 20, bursts of --rate-burst, default 100).  --config FILE is a JSON\n"
            "object with the same names (listen, http, db, kek_file, tls_cert, tls_key,\n"
            "token_key, sample_trust_keys, admin_public_keys, rate_limit, rate_burst,\n"
            "session_timeout, max_body, endorsements); flags override it.  --endorsements\n"
            "DIR: collateral files for the verifier (certificates, CRLs, TCB info, RIMs).\n"
            "--trust-anchor CERTS.pem (config trust_anchors): CA certificates that\n"
            "certificate-based evidence may chain to, e.g. the AK CA of TPM AK\n"
            "certificates (cachet tpm-enroll); never a stand-in for vendor roots.\n"
            "It prints 'listening on HOST:PORT' once ready.\n\n"
            "exit status: 0 stopped by a signal, 1 could not start, 2 usage error\n");
}

typedef struct kbs_args {
    kbs_cli_common common;
    const char *listen, *tls_cert, *tls_key, *token_key, *endorsements;
    bool http;
    long session_timeout;
    long max_body;
    long rate_limit, rate_burst;
    const char *admin_paths[KBS_CLI_MAX_TRUST];
    size_t n_admin;
    const char *anchor_paths[KBS_CLI_MAX_TRUST];
    size_t n_anchor_paths;
    json_t *config;
} kbs_args;

enum { OPT_CONFIG = 256, OPT_LISTEN, OPT_HTTP, OPT_DB, OPT_KEK, OPT_CERT, OPT_KEY, OPT_TOKEN,
       OPT_TRUST, OPT_TIMEOUT, OPT_BODY, OPT_ADMIN, OPT_RATE, OPT_BURST, OPT_ENDORSE,
       OPT_ANCHOR };

static int apply_config(kbs_args *a, const char *path)
{
    json_error_t e;
    a->config = json_load_file(path, JSON_REJECT_DUPLICATES, &e);
    if (!json_is_object(a->config))
        return cli_usage_error(CMD, "%s: not a JSON object (%s)", path, e.text);
    static const char *const known[] = {"listen", "http", "db", "kek_file", "tls_cert", "tls_key",
                                        "token_key", "sample_trust_keys", "session_timeout",
                                        "max_body", "admin_public_keys", "rate_limit",
                                        "rate_burst", "endorsements", "trust_anchors"};
    const char *k;
    json_t *v;
    json_object_foreach(a->config, k, v) {
        bool ok = false;
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
            ok = ok || strcmp(k, known[i]) == 0;
        if (!ok)
            return cli_usage_error(CMD, "%s: unknown key \"%s\"", path, k);
    }
#define STR(name, field)                                                                        \
    do {                                                                                        \
        json_t *x = json_object_get(a->config, name);                                           \
        if (x && !json_is_string(x))                                                            \
            return cli_usage_error(CMD, "%s: %s must be a string", path, name);                 \
        if (x)                                                                                  \
            field = json_string_value(x);                                                       \
    } while (0)
    STR("listen", a->listen);
    STR("db", a->common.db);
    STR("kek_file", a->common.kek_file);
    STR("tls_cert", a->tls_cert);
    STR("tls_key", a->tls_key);
    STR("token_key", a->token_key);
    STR("endorsements", a->endorsements);
#undef STR
    json_t *h = json_object_get(a->config, "http");
    if (h && !json_is_boolean(h))
        return cli_usage_error(CMD, "%s: http must be true or false", path);
    a->http = h && json_is_true(h);
    json_t *t = json_object_get(a->config, "session_timeout");
    if (t && (!json_is_integer(t) || json_integer_value(t) < 1 || json_integer_value(t) > 86400))
        return cli_usage_error(CMD, "%s: session_timeout must be 1..86400", path);
    if (t)
        a->session_timeout = (long)json_integer_value(t);
    json_t *b = json_object_get(a->config, "max_body");
    if (b && (!json_is_integer(b) || json_integer_value(b) < 1024 ||
              json_integer_value(b) > (json_int_t)CACHET_KBS_MAX_BODY))
        return cli_usage_error(CMD, "%s: max_body must be 1024..%zu", path, CACHET_KBS_MAX_BODY);
    if (b)
        a->max_body = (long)json_integer_value(b);
    json_t *rl = json_object_get(a->config, "rate_limit");
    json_t *rb = json_object_get(a->config, "rate_burst");
    if ((rl && (!json_is_integer(rl) || json_integer_value(rl) < 1 || json_integer_value(rl) > 100000)) ||
        (rb && (!json_is_integer(rb) || json_integer_value(rb) < 1 || json_integer_value(rb) > 100000)))
        return cli_usage_error(CMD, "%s: rate_limit and rate_burst must be 1..100000", path);
    if (rl)
        a->rate_limit = (long)json_integer_value(rl);
    if (rb)
        a->rate_burst = (long)json_integer_value(rb);
    json_t *ak = json_object_get(a->config, "admin_public_keys");
    if (ak && !json_is_array(ak))
        return cli_usage_error(CMD, "%s: admin_public_keys must be a list of paths", path);
    size_t j;
    json_t *av;
    json_array_foreach(ak, j, av) {
        if (!json_is_string(av) || a->n_admin >= KBS_CLI_MAX_TRUST)
            return cli_usage_error(CMD, "%s: admin_public_keys: at most %d paths", path,
                                   KBS_CLI_MAX_TRUST);
        a->admin_paths[a->n_admin++] = json_string_value(av);
    }
    json_t *tk = json_object_get(a->config, "sample_trust_keys");
    if (tk && !json_is_array(tk))
        return cli_usage_error(CMD, "%s: sample_trust_keys must be a list of paths", path);
    size_t i;
    json_array_foreach(tk, i, v) {
        if (!json_is_string(v) || a->common.n_trust >= KBS_CLI_MAX_TRUST)
            return cli_usage_error(CMD, "%s: sample_trust_keys: at most %d paths", path,
                                   KBS_CLI_MAX_TRUST);
        a->common.trust_paths[a->common.n_trust++] = json_string_value(v);
    }
    json_t *ta = json_object_get(a->config, "trust_anchors");
    if (ta && !json_is_array(ta))
        return cli_usage_error(CMD, "%s: trust_anchors must be a list of paths", path);
    json_array_foreach(ta, i, v) {
        if (!json_is_string(v) || a->n_anchor_paths >= KBS_CLI_MAX_TRUST)
            return cli_usage_error(CMD, "%s: trust_anchors: at most %d paths", path,
                                   KBS_CLI_MAX_TRUST);
        a->anchor_paths[a->n_anchor_paths++] = json_string_value(v);
    }
    return CLI_EXIT_OK;
}

static int parse(int argc, char **argv, kbs_args *a)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, OPT_CONFIG},
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"http", no_argument, NULL, OPT_HTTP},
        {"db", required_argument, NULL, OPT_DB},
        {"kek-file", required_argument, NULL, OPT_KEK},
        {"tls-cert", required_argument, NULL, OPT_CERT},
        {"tls-key", required_argument, NULL, OPT_KEY},
        {"token-key", required_argument, NULL, OPT_TOKEN},
        {"sample-trust-key", required_argument, NULL, OPT_TRUST},
        {"session-timeout", required_argument, NULL, OPT_TIMEOUT},
        {"max-body", required_argument, NULL, OPT_BODY},
        {"admin-public-key", required_argument, NULL, OPT_ADMIN},
        {"rate-limit", required_argument, NULL, OPT_RATE},
        {"rate-burst", required_argument, NULL, OPT_BURST},
        {"endorsements", required_argument, NULL, OPT_ENDORSE},
        {"trust-anchor", required_argument, NULL, OPT_ANCHOR},
        {NULL, 0, NULL, 0},
    };
    /* --config first, so that flags override it. */
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--config") == 0) {
            int rc = apply_config(a, argv[i + 1]);
            if (rc != CLI_EXIT_OK)
                return rc;
        }
    int c;
    char *end;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case OPT_CONFIG: break;
        case OPT_LISTEN: a->listen = optarg; break;
        case OPT_HTTP: a->http = true; break;
        case OPT_DB: a->common.db = optarg; break;
        case OPT_KEK: a->common.kek_file = optarg; break;
        case OPT_CERT: a->tls_cert = optarg; break;
        case OPT_KEY: a->tls_key = optarg; break;
        case OPT_TOKEN: a->token_key = optarg; break;
        case OPT_ENDORSE: a->endorsements = optarg; break;
        case OPT_ANCHOR:
            if (a->n_anchor_paths >= KBS_CLI_MAX_TRUST)
                return cli_usage_error(CMD, "at most %d --trust-anchor", KBS_CLI_MAX_TRUST);
            a->anchor_paths[a->n_anchor_paths++] = optarg;
            break;
        case OPT_TRUST:
            if (a->common.n_trust >= KBS_CLI_MAX_TRUST)
                return cli_usage_error(CMD, "at most %d --sample-trust-key", KBS_CLI_MAX_TRUST);
            a->common.trust_paths[a->common.n_trust++] = optarg;
            break;
        case OPT_TIMEOUT:
            a->session_timeout = strtol(optarg, &end, 10);
            if (*end || a->session_timeout < 1 || a->session_timeout > 86400)
                return cli_usage_error(CMD, "--session-timeout must be 1..86400");
            break;
        case OPT_BODY:
            a->max_body = strtol(optarg, &end, 10);
            if (*end || a->max_body < 1024 || (size_t)a->max_body > CACHET_KBS_MAX_BODY)
                return cli_usage_error(CMD, "--max-body must be 1024..%zu", CACHET_KBS_MAX_BODY);
            break;
        case OPT_ADMIN:
            if (a->n_admin >= KBS_CLI_MAX_TRUST)
                return cli_usage_error(CMD, "at most %d --admin-public-key", KBS_CLI_MAX_TRUST);
            a->admin_paths[a->n_admin++] = optarg;
            break;
        case OPT_RATE:
        case OPT_BURST: {
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 100000)
                return cli_usage_error(CMD, "%s must be 1..100000", argv[optind - 1]);
            if (c == OPT_RATE)
                a->rate_limit = v;
            else
                a->rate_burst = v;
            break;
        }
        case ':': return cli_usage_error(CMD, "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error(CMD, "unknown option %s", argv[optind - 1]);
        }
    }
    if (optind != argc)
        return cli_usage_error(CMD, "unexpected argument %s", argv[optind]);
    if (!a->common.db)
        return cli_usage_error(CMD, "--db FILE is required");
    if (!a->http && (!a->tls_cert || !a->tls_key))
        return cli_usage_error(CMD, "HTTPS needs --tls-cert and --tls-key (or --http on loopback)");
    return CLI_EXIT_OK;
}

static int run(int argc, char **argv)
{
    kbs_args a = {0};
    int prc = parse(argc, argv, &a);
    if (prc != CLI_EXIT_OK) {
        json_decref(a.config);
        return prc;
    }
    int ret = CLI_EXIT_FAIL;
    uint8_t *kek = cachet_secure_alloc(CACHET_KBS_KEK_LEN);
    cachet_pkey *keys[KBS_CLI_MAX_TRUST] = {0};
    cachet_pkey *admins[KBS_CLI_MAX_TRUST] = {0};
    cachet_x509 *anchors[KBS_CLI_MAX_ANCHORS] = {0};
    size_t n_anchors = 0;
    cachet_kbs *k = NULL;
    cachet_process_protect();
    if (!kek || kbs_cli_load_kek(&a.common, kek) != CLI_EXIT_OK ||
        kbs_cli_load_trust(&a.common, keys) != CLI_EXIT_OK ||
        kbs_cli_load_admin(a.admin_paths, a.n_admin, admins) != CLI_EXIT_OK ||
        kbs_cli_load_anchors(a.anchor_paths, a.n_anchor_paths, anchors, &n_anchors) !=
            CLI_EXIT_OK)
        goto done;
    cachet_kbs_config cfg = {
        .listen = a.listen ? a.listen : "127.0.0.1:8080",
        .http = a.http,
        .tls_cert_path = a.tls_cert,
        .tls_key_path = a.tls_key,
        .db_path = a.common.db,
        .kek = kek,
        .token_key_path = a.token_key,
        .trust_keys = keys,
        .n_trust_keys = a.common.n_trust,
        .trust_anchors = anchors,
        .n_trust_anchors = n_anchors,
        .session_timeout = a.session_timeout,
        .max_body = (size_t)a.max_body,
        .endorsements_dir = a.endorsements,
        .admin_keys = admins,
        .n_admin_keys = a.n_admin,
        .rate_limit = (unsigned)a.rate_limit,
        .rate_burst = (unsigned)a.rate_burst,
    };
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* before the server's threads start */
    if (cachet_kbs_start(&cfg, &k) != CACHET_OK) {
        fprintf(stderr, "cachet kbs: %s\n", cachet_err_detail());
        goto done;
    }
    const char *colon = strrchr(cfg.listen, ':');
    printf("listening on %.*s:%u (%s)\n", (int)(colon - cfg.listen), cfg.listen,
           cachet_kbs_port(k), a.http ? "http" : "https");
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    ret = CLI_EXIT_OK;
done:
    cachet_kbs_stop(k);
    for (size_t i = 0; i < KBS_CLI_MAX_TRUST; i++) {
        cachet_pkey_free(keys[i]);
        cachet_pkey_free(admins[i]);
    }
    for (size_t i = 0; i < n_anchors; i++)
        cachet_x509_free(anchors[i]);
    cachet_secure_free(kek);
    json_decref(a.config);
    return ret;
}

const cli_command cli_cmd_kbs = {
    .name = "kbs",
    .summary = "serve the key broker (attestation-gated key release)",
    .run = run,
    .usage = usage,
};
