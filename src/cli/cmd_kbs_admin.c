/* cachet kbs-admin: offline administration of a broker's store (resources,
 * policies, dry run), with the same KEK rules as `cachet kbs`.  SQLite WAL
 * lets it run while the broker serves the same file; policies take effect
 * on the broker's next request.
 *
 * Exit: 0 done (dry-run: would release), 1 failed (dry-run: would refuse),
 * 2 usage error. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/appraisal.h"
#include "cachet/encoding.h"
#include "cachet/fileio.h"
#include "cachet/kbs.h"
#include "cachet/kbs_client.h"
#include "cachet/secmem.h"
#include "cli/cli.h"
#include "cli/kbs_common.h"

#define CMD "kbs-admin"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: cachet kbs-admin --db FILE [--kek-file FILE] COMMAND ...      (offline)\n"
            "       cachet kbs-admin --url URL --admin-key ED25519.pem [--ca FILE] COMMAND ...\n"
            "       cachet kbs-admin keygen --out FILE   (FILE 0600 and FILE.pub: the broker's\n"
            "                                              --admin-public-key)\n\n"
            "Offline, it opens the store itself (WAL: safe beside a running broker); with\n"
            "--url it uses the broker's admin API with a JWT signed by the Ed25519 key.\n\n"
            "  set-resource REPO/TYPE/TAG FILE   store a secret (encrypted under the KEK)\n"
            "  delete-resource REPO/TYPE/TAG\n"
            "  list-resources\n"
            "  set-policy attestation|resource FILE\n"
            "                                    the appraisal policy (docs/policy.md) or the\n"
            "                                    resource policy (docs/kbs.md); checked first\n"
            "  show-policy attestation|resource\n"
            "  audit [--verify] [--after SEQ]     the audit log as JSON; --verify checks its\n"
            "                                    MAC chain (offline only)\n"
            "  dry-run --tee NAME [--nonce HEX] [--sample-trust-key PEM]... EVIDENCE REPO/TYPE/TAG\n"
            "                                    would this evidence get that resource, and\n"
            "                                    if not, why (JSON on stdout; offline only)\n\n"
            "exit status: 0 done / would release, 1 failed / would refuse, 2 usage error\n");
}

static int set_policy(cachet_kbs_store *s, const char *name, const char *file)
{
    uint8_t *b = NULL;
    size_t n = 0;
    if (cachet_file_read(file, CACHET_POLICY_MAX_FILE, &b, &n) != CACHET_OK) {
        fprintf(stderr, "cachet " CMD ": cannot read %s\n", file);
        return CLI_EXIT_USAGE;
    }
    cachet_rc rc;
    if (strcmp(name, "attestation") == 0) {
        cachet_policy *p = NULL;
        rc = cachet_policy_parse((const char *)b, n, &p);
        cachet_policy_free(p);
    } else {
        cachet_kbs_rpolicy *p = NULL;
        rc = cachet_kbs_rpolicy_parse((const char *)b, n, &p);
        cachet_kbs_rpolicy_free(p);
    }
    if (rc == CACHET_OK)
        rc = cachet_kbs_store_set_policy(s, name, (const char *)b);
    free(b);
    if (rc != CACHET_OK) {
        fprintf(stderr, "cachet " CMD ": %s\n", cachet_err_detail());
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

static int dry_run(cachet_kbs_store *s, kbs_cli_common *cm, int argc, char **argv)
{
    static const struct option opts[] = {
        {"tee", required_argument, NULL, 't'},
        {"sample-trust-key", required_argument, NULL, 'k'},
        {"nonce", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    const char *tee = NULL, *nonce_hex = NULL;
    uint8_t nonce[64];
    size_t nonce_len = 0;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if (c == 't')
            tee = optarg;
        else if (c == 'n')
            nonce_hex = optarg;
        else if (c == 'k' && cm->n_trust < KBS_CLI_MAX_TRUST)
            cm->trust_paths[cm->n_trust++] = optarg;
        else
            return cli_usage_error(CMD, "dry-run: bad option %s", argv[optind - 1]);
    }
    if (!tee || argc - optind != 2)
        return cli_usage_error(CMD, "dry-run needs --tee NAME EVIDENCE REPO/TYPE/TAG");
    if (nonce_hex && cachet_hex_decode(nonce_hex, nonce, sizeof nonce, &nonce_len) != CACHET_OK)
        return cli_usage_error(CMD, "--nonce must be 1..64 bytes of hex");
    cachet_pkey *keys[KBS_CLI_MAX_TRUST] = {0};
    uint8_t *ev = NULL;
    size_t n = 0;
    int ret = CLI_EXIT_FAIL;
    json_t *rep = NULL;
    if (kbs_cli_load_trust(cm, keys) != CLI_EXIT_OK)
        goto done;
    if (cachet_file_read(argv[optind], (size_t)4 << 20, &ev, &n) != CACHET_OK) {
        fprintf(stderr, "cachet " CMD ": cannot read %s\n", argv[optind]);
        ret = CLI_EXIT_USAGE;
        goto done;
    }
    cachet_kbs_config cfg = {.trust_keys = keys, .n_trust_keys = cm->n_trust};
    if (cachet_kbs_dry_run(s, &cfg, ev, n, tee, argv[optind + 1],
                           nonce_hex ? nonce : NULL, nonce_len, &rep) != CACHET_OK) {
        fprintf(stderr, "cachet " CMD ": %s\n", cachet_err_detail());
        goto done;
    }
    json_dumpf(rep, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    printf("\n");
    const char *d = json_string_value(json_object_get(rep, "decision"));
    ret = d && strcmp(d, "release") == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
done:
    json_decref(rep);
    free(ev);
    for (size_t i = 0; i < KBS_CLI_MAX_TRUST; i++)
        cachet_pkey_free(keys[i]);
    return ret;
}

static int dispatch(cachet_kbs_store *s, kbs_cli_common *cm, int argc, char **argv)
{
    const char *op = argv[0];
    cachet_rc rc = CACHET_OK;
    if (strcmp(op, "set-resource") == 0 && argc == 3) {
        uint8_t *b = NULL;
        size_t n = 0;
        if (cachet_file_read(argv[2], CACHET_KBS_MAX_RESOURCE, &b, &n) != CACHET_OK) {
            fprintf(stderr, "cachet " CMD ": cannot read %s\n", argv[2]);
            return CLI_EXIT_USAGE;
        }
        rc = cachet_kbs_store_put(s, argv[1], b, n);
        cachet_wipe(b, n);
        free(b);
    } else if (strcmp(op, "delete-resource") == 0 && argc == 2) {
        rc = cachet_kbs_store_delete(s, argv[1]);
    } else if (strcmp(op, "list-resources") == 0 && argc == 1) {
        json_t *l = NULL;
        rc = cachet_kbs_store_list(s, &l);
        size_t i;
        json_t *v;
        json_array_foreach(l, i, v)
            printf("%s\n", json_string_value(v));
        json_decref(l);
    } else if (strcmp(op, "set-policy") == 0 && argc == 3 &&
               (strcmp(argv[1], "attestation") == 0 || strcmp(argv[1], "resource") == 0)) {
        return set_policy(s, argv[1], argv[2]);
    } else if (strcmp(op, "show-policy") == 0 && argc == 2) {
        char *t = NULL;
        rc = cachet_kbs_store_get_policy(s, argv[1], &t);
        if (rc == CACHET_OK)
            printf("%s\n", t);
        free(t);
    } else if (strcmp(op, "audit") == 0) {
        bool verify = false;
        long long after = 0;
        for (int i = 1; i < argc; i++) {
            if (strcmp(argv[i], "--verify") == 0)
                verify = true;
            else if (strcmp(argv[i], "--after") == 0 && i + 1 < argc)
                after = strtoll(argv[++i], NULL, 10);
            else
                return cli_usage_error(CMD, "audit [--verify] [--after SEQ]");
        }
        if (verify) {
            size_t n = 0;
            rc = cachet_kbs_store_audit_verify(s, &n);
            if (rc == CACHET_OK)
                printf("audit log intact: %zu records\n", n);
        } else {
            json_t *l = NULL;
            rc = cachet_kbs_store_audit_read(s, after, 10000, &l);
            if (rc == CACHET_OK) {
                json_dumpf(l, stdout, JSON_INDENT(1));
                printf("\n");
            }
            json_decref(l);
        }
    } else if (strcmp(op, "dry-run") == 0) {
        return dry_run(s, cm, argc, argv);
    } else {
        return cli_usage_error(CMD, "unknown command or wrong arguments: %s", op);
    }
    if (rc != CACHET_OK) {
        fprintf(stderr, "cachet " CMD ": %s\n", cachet_err_detail());
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

static int keygen(int argc, char **argv)
{
    if (argc != 3 || strcmp(argv[1], "--out") != 0)
        return cli_usage_error(CMD, "keygen --out FILE");
    cachet_pkey *k = NULL;
    char *priv = NULL, *pub = NULL, *pubpath = NULL;
    int ret = CLI_EXIT_FAIL;
    size_t n = strlen(argv[2]) + 5;
    pubpath = malloc(n);
    if (!pubpath || cachet_ed25519_generate(&k) != CACHET_OK ||
        cachet_ed25519_pem(k, true, &priv) != CACHET_OK ||
        cachet_ed25519_pem(k, false, &pub) != CACHET_OK) {
        fprintf(stderr, "cachet " CMD ": %s\n", cachet_err_detail());
        goto done;
    }
    snprintf(pubpath, n, "%s.pub", argv[2]);
    if (cachet_file_write_atomic(argv[2], priv, strlen(priv), 0600) != CACHET_OK ||
        cachet_file_write_atomic(pubpath, pub, strlen(pub), 0644) != CACHET_OK) {
        fprintf(stderr, "cachet " CMD ": cannot write %s\n", argv[2]);
        goto done;
    }
    ret = CLI_EXIT_OK;
done:
    if (priv) {
        cachet_wipe(priv, strlen(priv));
        free(priv);
    }
    free(pub);
    free(pubpath);
    cachet_pkey_free(k);
    return ret;
}

/* The admin API over HTTP(S). */
static int online(const char *url, const char *key_path, const char *ca, int argc, char **argv)
{
    const char *op = argv[0];
    char path[CACHET_KBS_MAX_PATH + 32];
    const char *method = NULL;
    char *body = NULL;
    size_t body_len = 0;
    int ret = CLI_EXIT_FAIL;
    if (strcmp(op, "set-resource") == 0 && argc == 3) {
        uint8_t *b = NULL;
        if (cachet_file_read(argv[2], CACHET_KBS_MAX_RESOURCE, &b, &body_len) != CACHET_OK)
            return cli_usage_error(CMD, "cannot read %s", argv[2]);
        body = (char *)b;
        method = "POST";
        snprintf(path, sizeof path, "/kbs/v0/resource/%s", argv[1]);
    } else if (strcmp(op, "delete-resource") == 0 && argc == 2) {
        method = "DELETE";
        snprintf(path, sizeof path, "/kbs/v0/resource/%s", argv[1]);
    } else if (strcmp(op, "list-resources") == 0 && argc == 1) {
        method = "GET";
        snprintf(path, sizeof path, "/kbs/v0/resources");
    } else if (strcmp(op, "audit") == 0 && argc == 1) {
        method = "GET";
        snprintf(path, sizeof path, "/kbs/v0/audit");
    } else if (strcmp(op, "show-policy") == 0 && argc == 2 &&
               (strcmp(argv[1], "attestation") == 0 || strcmp(argv[1], "resource") == 0)) {
        method = "GET";
        snprintf(path, sizeof path, "/kbs/v0/%s-policy", argv[1]);
    } else if (strcmp(op, "set-policy") == 0 && argc == 3 &&
               (strcmp(argv[1], "attestation") == 0 || strcmp(argv[1], "resource") == 0)) {
        uint8_t *b = NULL;
        size_t n = 0;
        if (cachet_file_read(argv[2], CACHET_POLICY_MAX_FILE, &b, &n) != CACHET_OK)
            return cli_usage_error(CMD, "cannot read %s", argv[2]);
        char *enc = cachet_base64url_string(b, n);
        free(b);
        json_t *j = enc ? json_pack("{s:s,s:s}", "type", "json", "policy", enc) : NULL;
        free(enc);
        body = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        if (!body)
            return CLI_EXIT_FAIL;
        body_len = strlen(body);
        method = "POST";
        snprintf(path, sizeof path, "/kbs/v0/%s-policy", argv[1]);
    } else {
        return cli_usage_error(CMD, "unknown command or wrong arguments for --url: %s", op);
    }
    uint8_t *kb = NULL;
    size_t kl = 0;
    cachet_pkey *key = NULL;
    cachet_kbs_client *c = NULL;
    char *tok = NULL, *resp = NULL;
    if (cachet_file_read(key_path, 1 << 16, &kb, &kl) != CACHET_OK ||
        cachet_ed25519_parse_private(kb, kl, &key) != CACHET_OK) {
        fprintf(stderr, "cachet " CMD ": %s is not an Ed25519 private key\n", key_path);
        goto done;
    }
    cachet_kbs_client_opts o = {.ca_file = ca};
    long st = 0;
    if (cachet_kbs_admin_token(key, cachet_clock_now(NULL), 300, &tok) != CACHET_OK ||
        cachet_kbs_client_new(url, &o, &c) != CACHET_OK ||
        cachet_kbs_client_request(c, method, path, body ? body : "", body ? body_len : 0, tok, &st,
                                  &resp, NULL) != CACHET_OK) {
        fprintf(stderr, "cachet " CMD ": %s\n", cachet_err_detail());
        goto done;
    }
    if (st != 200) {
        fprintf(stderr, "cachet " CMD ": HTTP %ld: %s\n", st, resp ? resp : "");
        goto done;
    }
    if (resp && resp[0])
        printf("%s\n", resp);
    ret = CLI_EXIT_OK;
done:
    if (kb) {
        cachet_wipe(kb, kl);
        free(kb);
    }
    if (body) {
        cachet_wipe(body, body_len);
        free(body);
    }
    cachet_pkey_free(key);
    cachet_kbs_client_free(c);
    free(tok);
    free(resp);
    return ret;
}

static int run(int argc, char **argv)
{
    kbs_cli_common cm = {0};
    const char *url = NULL, *admin_key = NULL, *ca = NULL;
    int i = 1;
    if (argc > 1 && strcmp(argv[1], "keygen") == 0)
        return keygen(argc - 1, argv + 1);
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
            cm.db = argv[++i];
        else if (strcmp(argv[i], "--kek-file") == 0 && i + 1 < argc)
            cm.kek_file = argv[++i];
        else if (strcmp(argv[i], "--url") == 0 && i + 1 < argc)
            url = argv[++i];
        else if (strcmp(argv[i], "--admin-key") == 0 && i + 1 < argc)
            admin_key = argv[++i];
        else if (strcmp(argv[i], "--ca") == 0 && i + 1 < argc)
            ca = argv[++i];
        else
            return cli_usage_error(CMD, "unknown option %s", argv[i]);
    }
    if (i >= argc)
        return cli_usage_error(CMD, "a command is required");
    if (url) {
        if (!admin_key || cm.db)
            return cli_usage_error(CMD, "--url needs --admin-key (and no --db)");
        return online(url, admin_key, ca, argc - i, argv + i);
    }
    if (!cm.db)
        return cli_usage_error(CMD, "--db FILE (offline) or --url URL (online) is required");
    uint8_t *kek = cachet_secure_alloc(CACHET_KBS_KEK_LEN);
    cachet_kbs_store *s = NULL;
    int ret = CLI_EXIT_FAIL;
    if (!kek || kbs_cli_load_kek(&cm, kek) != CLI_EXIT_OK)
        goto done;
    if (cachet_kbs_store_open(cm.db, kek, &s) != CACHET_OK) {
        fprintf(stderr, "cachet " CMD ": %s\n", cachet_err_detail());
        goto done;
    }
    ret = dispatch(s, &cm, argc - i, argv + i);
done:
    cachet_kbs_store_close(s);
    cachet_secure_free(kek);
    return ret;
}

const cli_command cli_cmd_kbs_admin = {
    .name = "kbs-admin",
    .summary = "administer a key broker's store: resources, policies, dry run",
    .run = run,
    .usage = usage,
};
