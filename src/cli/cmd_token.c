/* cachet token: EAR attestation results (docs/token.md).
 *
 *   cachet token issue --key KEY [--create-key] [--policy FILE] [--tee NAME]
 *                      [--nonce HEX] [--at TIME] [--lifetime S]
 *                      [--trust-anchor FILE]... EVIDENCE [ENDORSEMENT...]
 *   cachet token verify (--key PEM | --jwks FILE) [--at TIME] [--leeway S] TOKEN
 *   cachet token jwks --key KEY
 *
 * Exit: 0 done (issue: a token was written, whatever its status; verify: the
 * token is valid), 1 verify: the token is refused, 2 usage error. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cachet/appraisal.h"
#include "cachet/clock.h"
#include "cachet/encoding.h"
#include "cachet/evidence.h"
#include "cachet/fileio.h"
#include "cachet/token.h"
#include "cli/cli.h"

#define CMD "token"
#define MAX_NONCE 64
#define MAX_ANCHORS 16
#define MAX_FILE ((size_t)4 << 20)

static void usage(FILE *out)
{
    fprintf(out,
            "usage: cachet token issue --key KEY [--create-key] [--policy FILE] [--tee NAME]\n"
            "                          [--nonce HEX] [--at TIME] [--lifetime SECONDS]\n"
            "                          [--trust-anchor FILE]... EVIDENCE [ENDORSEMENT...]\n"
            "       cachet token verify (--key PEM | --jwks FILE) [--at TIME] [--leeway S] TOKEN\n"
            "       cachet token jwks --key KEY\n\n"
            "issue   verify the evidence (as 'cachet verify' does), appraise it with the\n"
            "        policy if given, and print an EAR JWT signed with KEY (ES256; P-256 PEM;\n"
            "        --create-key writes a new one, mode 0600, when KEY is absent)\n"
            "verify  check a token against a pinned key (PEM) or JWKS and print its claims;\n"
            "        keys carried in the token header are refused, never used\n"
            "jwks    print the JWKS relying parties pin\n\n"
            "exit status: 0 done / token valid, 1 token refused, 2 usage error\n");
}

typedef struct token_args {
    const char *key, *jwks, *policy, *tee, *nonce_hex, *at;
    const char *anchors[MAX_ANCHORS];
    size_t n_anchors;
    long lifetime, leeway;
    bool create_key;
    char **rest;
    size_t n_rest;
} token_args;

enum { OPT_KEY = 256, OPT_CREATE, OPT_JWKS, OPT_POLICY, OPT_TEE, OPT_NONCE, OPT_AT,
       OPT_LIFETIME, OPT_LEEWAY, OPT_ANCHOR };

static int parse_long(const char *s, long lo, long hi, long *v)
{
    char *end = NULL;
    *v = strtol(s, &end, 10);
    return *s && !*end && *v >= lo && *v <= hi ? 0 : -1;
}

static int parse_args(int argc, char **argv, token_args *a)
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, OPT_KEY},
        {"create-key", no_argument, NULL, OPT_CREATE},
        {"jwks", required_argument, NULL, OPT_JWKS},
        {"policy", required_argument, NULL, OPT_POLICY},
        {"tee", required_argument, NULL, OPT_TEE},
        {"nonce", required_argument, NULL, OPT_NONCE},
        {"at", required_argument, NULL, OPT_AT},
        {"lifetime", required_argument, NULL, OPT_LIFETIME},
        {"leeway", required_argument, NULL, OPT_LEEWAY},
        {"trust-anchor", required_argument, NULL, OPT_ANCHOR},
        {NULL, 0, NULL, 0},
    };
    opterr = 0;
    optind = 2; /* argv[1] is the subcommand */
    int c;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case OPT_KEY: a->key = optarg; break;
        case OPT_CREATE: a->create_key = true; break;
        case OPT_JWKS: a->jwks = optarg; break;
        case OPT_POLICY: a->policy = optarg; break;
        case OPT_TEE: a->tee = optarg; break;
        case OPT_NONCE: a->nonce_hex = optarg; break;
        case OPT_AT: a->at = optarg; break;
        case OPT_LIFETIME:
            if (parse_long(optarg, 1, 86400, &a->lifetime))
                return cli_usage_error(CMD, "--lifetime must be 1..86400 seconds");
            break;
        case OPT_LEEWAY:
            if (parse_long(optarg, 0, 300, &a->leeway))
                return cli_usage_error(CMD, "--leeway must be 0..300 seconds");
            break;
        case OPT_ANCHOR:
            if (a->n_anchors == MAX_ANCHORS)
                return cli_usage_error(CMD, "at most %d --trust-anchor files", MAX_ANCHORS);
            a->anchors[a->n_anchors++] = optarg;
            break;
        case ':': return cli_usage_error(CMD, "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error(CMD, "unknown option '%s'", argv[optind - 1]);
        }
    }
    a->rest = argv + optind;
    a->n_rest = (size_t)(argc - optind);
    return CLI_EXIT_OK;
}

static int time_of(const char *at, int64_t *t)
{
    if (!at) {
        *t = (int64_t)time(NULL);
        return CLI_EXIT_OK;
    }
    if (cachet_time_parse_rfc3339(at, t) != CACHET_OK)
        return cli_usage_error(CMD, "--at '%s' is not an RFC 3339 time", at);
    return CLI_EXIT_OK;
}

/* ---- jwks ---------------------------------------------------------------------- */

static int do_jwks(const token_args *a)
{
    if (!a->key || a->n_rest)
        return cli_usage_error(CMD, "jwks takes --key KEY and nothing else");
    cachet_token_issuer *iss = NULL;
    char *jwks = NULL;
    if (cachet_token_issuer_load(a->key, false, &iss, NULL) != CACHET_OK ||
        cachet_token_issuer_jwks(iss, &jwks) != CACHET_OK) {
        fprintf(stderr, "cachet token: %s: %s\n", a->key, cachet_err_detail());
        cachet_token_issuer_free(iss);
        return CLI_EXIT_USAGE;
    }
    printf("%s\n", jwks);
    free(jwks);
    cachet_token_issuer_free(iss);
    return CLI_EXIT_OK;
}

/* ---- verify -------------------------------------------------------------------- */

static int do_verify(const token_args *a)
{
    if (a->n_rest != 1 || (!a->key == !a->jwks))
        return cli_usage_error(CMD, "verify takes --key PEM or --jwks FILE, and one TOKEN file");
    int64_t now = 0;
    int rc = time_of(a->at, &now);
    if (rc != CLI_EXIT_OK)
        return rc;
    uint8_t *kb = NULL, *tok = NULL;
    size_t klen = 0, tlen = 0;
    cachet_token_keys *keys = NULL;
    json_t *claims = NULL;
    const char *kpath = a->key ? a->key : a->jwks;
    if (cachet_file_read(kpath, MAX_FILE, &kb, &klen) != CACHET_OK ||
        (a->key ? cachet_token_keys_from_pem(kb, klen, &keys)
                : cachet_token_keys_from_jwks((const char *)kb, klen, &keys)) != CACHET_OK) {
        fprintf(stderr, "cachet token: %s: %s\n", kpath, cachet_err_detail());
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    if (cachet_file_read(a->rest[0], CACHET_TOKEN_MAX_LEN + 2, &tok, &tlen) != CACHET_OK) {
        fprintf(stderr, "cachet token: %s: %s\n", a->rest[0], cachet_err_detail());
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    cachet_clock clk = cachet_clock_fixed(now);
    cachet_token_verify_opts o = {.clock = &clk, .leeway = a->leeway};
    if (cachet_token_verify(keys, (const char *)tok, tlen, &o, &claims) != CACHET_OK) {
        fprintf(stderr, "cachet token: refused: %s\n", cachet_err_detail());
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    char *s = json_dumps(claims, JSON_INDENT(2));
    if (s)
        printf("%s\n", s);
    free(s);
    rc = s ? CLI_EXIT_OK : CLI_EXIT_USAGE;
out:
    json_decref(claims);
    cachet_token_keys_free(keys);
    if (kb)
        memset(kb, 0, klen);
    free(kb);
    free(tok);
    return rc;
}

/* ---- issue ----------------------------------------------------------------------- */

typedef struct issue_state {
    cachet_token_issuer *iss;
    cachet_policy *policy;
    cachet_endorsements *endorse;
    cachet_x509 **certs;
    size_t n_certs;
    cachet_pkey *keys[MAX_ANCHORS];
    size_t n_keys;
    uint8_t *evidence;
    cachet_verify_result *res;
    cachet_appraisal *appraisal;
} issue_state;

static void issue_free(issue_state *s)
{
    cachet_appraisal_free(s->appraisal);
    cachet_verify_result_free(s->res);
    free(s->evidence);
    for (size_t i = 0; i < s->n_keys; i++)
        cachet_pkey_free(s->keys[i]);
    cachet_x509_free_all(s->certs, s->n_certs);
    cachet_endorsements_free(s->endorse);
    cachet_policy_free(s->policy);
    cachet_token_issuer_free(s->iss);
}

/* A trust anchor: certificates (PEM bundle or DER), or a bare PEM key. */
static int add_anchor(issue_state *s, const char *path)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (cachet_file_read(path, MAX_FILE, &buf, &len) != CACHET_OK) {
        fprintf(stderr, "cachet token: trust anchor %s: %s\n", path, cachet_err_detail());
        return CLI_EXIT_USAGE;
    }
    cachet_x509 **certs = NULL;
    size_t n = 0;
    cachet_pkey *k = NULL;
    int rc = CLI_EXIT_OK;
    if (cachet_x509_parse_all(buf, len, &certs, &n) == CACHET_OK) {
        cachet_x509 **grown = realloc(s->certs, (s->n_certs + n) * sizeof *grown);
        if (!grown) {
            cachet_x509_free_all(certs, n);
            rc = cli_usage_error(CMD, "out of memory");
        } else {
            memcpy(grown + s->n_certs, certs, n * sizeof *certs);
            s->certs = grown;
            s->n_certs += n;
            free(certs);
        }
    } else if (cachet_pkey_parse_public(buf, len, &k) == CACHET_OK ||
               cachet_pkey_parse_private(buf, len, &k) == CACHET_OK) {
        s->keys[s->n_keys++] = k;
    } else {
        fprintf(stderr, "cachet token: trust anchor %s is not a certificate, nor a PEM key\n",
                path);
        rc = CLI_EXIT_USAGE;
    }
    memset(buf, 0, len);
    free(buf);
    return rc;
}

static int do_issue(const token_args *a)
{
    if (!a->key || a->n_rest < 1)
        return cli_usage_error(CMD, "issue takes --key KEY and an EVIDENCE file");
    issue_state s;
    memset(&s, 0, sizeof s);
    cachet_verify_request req;
    memset(&req, 0, sizeof req);
    uint8_t nonce[MAX_NONCE];
    size_t nonce_len = 0, ev_len = 0;
    int rc = time_of(a->at, &req.time);
    if (rc != CLI_EXIT_OK)
        return rc;
    bool created = false;
    if (cachet_token_issuer_load(a->key, a->create_key, &s.iss, &created) != CACHET_OK) {
        fprintf(stderr, "cachet token: issuer key %s: %s\n", a->key, cachet_err_detail());
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    if (created)
        fprintf(stderr, "cachet token: generated issuer key %s (kid %s)\n", a->key,
                cachet_token_issuer_kid(s.iss));
    if (a->policy && cachet_policy_load(a->policy, &s.policy) != CACHET_OK) {
        fprintf(stderr, "cachet token: policy %s: %s\n", a->policy, cachet_err_detail());
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    if (a->nonce_hex && (cachet_hex_decode(a->nonce_hex, nonce, sizeof nonce, &nonce_len) !=
                             CACHET_OK ||
                         nonce_len == 0)) {
        rc = cli_usage_error(CMD, "--nonce must be non-empty hex (at most %d bytes)", MAX_NONCE);
        goto out;
    }
    for (size_t i = 0; i < a->n_anchors && rc == CLI_EXIT_OK; i++)
        rc = add_anchor(&s, a->anchors[i]);
    if (rc != CLI_EXIT_OK)
        goto out;
    if (cachet_file_read(a->rest[0], CACHET_EVIDENCE_MAX_FILE, &s.evidence, &ev_len) != CACHET_OK ||
        !(s.endorse = cachet_endorsements_new())) {
        fprintf(stderr, "cachet token: cannot read evidence %s: %s\n", a->rest[0],
                cachet_err_detail());
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    for (size_t i = 1; i < a->n_rest; i++)
        if (cachet_endorsements_add_path(s.endorse, a->rest[i]) != CACHET_OK) {
            fprintf(stderr, "cachet token: %s\n", cachet_err_detail());
            rc = CLI_EXIT_USAGE;
            goto out;
        }
    req.evidence = s.evidence;
    req.evidence_len = ev_len;
    req.tee = a->tee;
    req.endorsements = s.endorse;
    req.trust_anchors = s.certs;
    req.n_trust_anchors = s.n_certs;
    req.trust_keys = s.keys;
    req.n_trust_keys = s.n_keys;
    req.nonce = nonce_len ? nonce : NULL;
    req.nonce_len = nonce_len;
    if (cachet_evidence_verify(&req, &s.res) != CACHET_OK) {
        fprintf(stderr, "cachet token: %s (name the family with --tee)\n", cachet_err_detail());
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    if (s.policy) {
        cachet_appraisal_input in = {.primary = s.res};
        if (cachet_policy_appraise(s.policy, &in, &s.appraisal) != CACHET_OK) {
            fprintf(stderr, "cachet token: %s\n", cachet_err_detail());
            rc = CLI_EXIT_USAGE;
            goto out;
        }
    }
    cachet_ear_params ep = {.primary = s.res, .appraisal = s.appraisal, .iat = req.time,
                            .lifetime = a->lifetime, .nonce = req.nonce,
                            .nonce_len = req.nonce_len};
    char *jwt = NULL;
    if (cachet_ear_issue(s.iss, &ep, &jwt) != CACHET_OK) {
        fprintf(stderr, "cachet token: %s\n", cachet_err_detail());
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    json_t *v = NULL;
    const char *status = "?";
    if (cachet_ear_appraise_result(s.res, s.appraisal, &v, &status) == CACHET_OK)
        fprintf(stderr, "cachet token: %s evidence, ear.status %s%s%s\n", s.res->tee, status,
                s.appraisal ? ", policy " : "",
                s.appraisal ? (cachet_appraisal_admitted(s.appraisal) ? "admits" : "denies") : "");
    json_decref(v);
    printf("%s\n", jwt);
    free(jwt);
out:
    issue_free(&s);
    return rc;
}

static int run(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(CMD, "which subcommand? (issue, verify, jwks)");
    token_args a;
    memset(&a, 0, sizeof a);
    const char *sub = argv[1];
    if (strcmp(sub, "issue") != 0 && strcmp(sub, "verify") != 0 && strcmp(sub, "jwks") != 0)
        return cli_usage_error(CMD, "unknown subcommand '%s' (issue, verify, jwks)", sub);
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (strcmp(sub, "jwks") == 0)
        return do_jwks(&a);
    if (strcmp(sub, "verify") == 0)
        return do_verify(&a);
    return do_issue(&a);
}

const cli_command cli_cmd_token = {"token", "issue and verify EAR attestation results (JWT)",
                                   run, usage};
