/* cachet chat: talk to a `cachet serve` endpoint after verifying it
 * (docs/serve.md §3): fresh evidence bound to our nonce and to the TLS key of
 * the connection, appraised by the owner's policy, then the key pinned.
 *
 *   cachet chat --url https://HOST:PORT --policy FILE [--trust-anchor FILE]...
 *               [--endorsements PATH]... [--max-tokens N] [--temperature T]
 *               [--seed N] [--system TEXT] [--no-stream] [--json-report FILE]
 *               [PROMPT...]
 *
 * Exit: 0 answered, 1 refused (nothing sent) or the server failed, 2 usage
 * error or unreadable input.  A thin wrapper over cachet/chat.h. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cachet/chat.h"
#include "cachet/fileio.h"
#include "cli/cli.h"

#define CMD "chat"
#define MAX_ANCHOR_FILE ((size_t)4 << 20)
#define MAX_LINE ((size_t)1 << 20)
#define MAX_TURNS 1024

static void usage(FILE *out)
{
    fprintf(out,
            "usage: cachet chat --url https://HOST:PORT --policy FILE [--trust-anchor FILE]...\n"
            "                   [--endorsements PATH]... [--max-tokens N] [--temperature T]\n"
            "                   [--seed N] [--system TEXT] [--no-stream] [--json-report FILE]\n"
            "                   [PROMPT...]\n\n"
            "Verify a `cachet serve` endpoint, then chat with it.  Before any prompt is sent\n"
            "the server must present fresh evidence (our random nonce) that binds the TLS key\n"
            "of this very connection, verified with the trust anchors and endorsements\n"
            "given and admitted by the policy (docs/policy.md; pin the model with\n"
            "\"claims\": {\"user_data\": [\"<hex digest>\"]}).  The key is then pinned for\n"
            "every request.  The attestation summary goes to stderr, the answer to stdout.\n\n"
            "  --url URL            the server (https; plain http is always refused)\n"
            "  --policy FILE        appraisal policy (required; deny by default)\n"
            "  --trust-anchor FILE  a certificate (PEM or DER) or a PEM public or private key\n"
            "                       (the sample key); repeatable\n"
            "  --endorsements PATH  certificates, CRLs, collateral: files or directories;\n"
            "                       repeatable; never trust anchors\n"
            "  --max-tokens N       at most N tokens per answer (default: the server's)\n"
            "  --temperature T      sampling temperature (default: the server's)\n"
            "  --seed N             sampling seed\n"
            "  --system TEXT        a system message before the conversation\n"
            "  --no-stream          wait for the whole answer instead of streaming it\n"
            "  --json-report FILE   write the verification report (JSON), admitted or not\n"
            "  --timeout SECONDS    per request (default 120)\n\n"
            "Without PROMPT, lines are read from stdin and the conversation is kept.\n"
            "CACHET_API_KEY, when set, is sent as the Bearer key once the server is verified.\n\n"
            "exit status: 0 answered, 1 refused (nothing was sent) or the request failed,\n"
            "2 usage error or unreadable input\n");
}

typedef struct chat_args {
    const char *url, *policy, *system, *json_report;
    const char **anchors;
    size_t n_anchors;
    const char **endorsements;
    size_t n_endorsements;
    cachet_chat_request req;
    long timeout;
    char **prompt;
    size_t n_prompt;
} chat_args;

enum { OPT_URL = 256, OPT_POLICY, OPT_TRUST_ANCHOR, OPT_ENDORSEMENTS, OPT_MAX_TOKENS,
       OPT_TEMPERATURE, OPT_SEED, OPT_SYSTEM, OPT_NO_STREAM, OPT_JSON_REPORT, OPT_TIMEOUT };

static bool parse_long(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || !end || *end || end == s || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static int parse_args(int argc, char **argv, chat_args *a)
{
    static const struct option opts[] = {
        {"url", required_argument, NULL, OPT_URL},
        {"policy", required_argument, NULL, OPT_POLICY},
        {"trust-anchor", required_argument, NULL, OPT_TRUST_ANCHOR},
        {"endorsements", required_argument, NULL, OPT_ENDORSEMENTS},
        {"max-tokens", required_argument, NULL, OPT_MAX_TOKENS},
        {"temperature", required_argument, NULL, OPT_TEMPERATURE},
        {"seed", required_argument, NULL, OPT_SEED},
        {"system", required_argument, NULL, OPT_SYSTEM},
        {"no-stream", no_argument, NULL, OPT_NO_STREAM},
        {"json-report", required_argument, NULL, OPT_JSON_REPORT},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {NULL, 0, NULL, 0},
    };
    a->anchors = calloc((size_t)argc, sizeof *a->anchors);
    a->endorsements = calloc((size_t)argc, sizeof *a->endorsements);
    if (!a->anchors || !a->endorsements)
        return cli_usage_error(CMD, "out of memory");
    a->req = (cachet_chat_request){.temperature = -1, .top_p = 0, .seed = -1, .stream = true};
    opterr = 0;
    optind = 1;
    int c;
    long v;
    char *end;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case OPT_URL: a->url = optarg; break;
        case OPT_POLICY: a->policy = optarg; break;
        case OPT_TRUST_ANCHOR: a->anchors[a->n_anchors++] = optarg; break;
        case OPT_ENDORSEMENTS: a->endorsements[a->n_endorsements++] = optarg; break;
        case OPT_SYSTEM: a->system = optarg; break;
        case OPT_NO_STREAM: a->req.stream = false; break;
        case OPT_JSON_REPORT: a->json_report = optarg; break;
        case OPT_MAX_TOKENS:
            if (!parse_long(optarg, 1, INT_MAX, &v))
                return cli_usage_error(CMD, "--max-tokens: expected a positive integer");
            a->req.max_tokens = (int)v;
            break;
        case OPT_SEED:
            if (!parse_long(optarg, 0, LONG_MAX, &v))
                return cli_usage_error(CMD, "--seed: expected a non-negative integer");
            a->req.seed = v;
            break;
        case OPT_TIMEOUT:
            if (!parse_long(optarg, 1, 86400, &v))
                return cli_usage_error(CMD, "--timeout: expected 1..86400 seconds");
            a->timeout = v;
            break;
        case OPT_TEMPERATURE:
            errno = 0;
            a->req.temperature = strtod(optarg, &end);
            if (errno || !end || *end || end == optarg || !(a->req.temperature >= 0) ||
                a->req.temperature > 2)
                return cli_usage_error(CMD, "--temperature: expected a number in 0..2");
            break;
        case ':': return cli_usage_error(CMD, "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error(CMD, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (!a->url)
        return cli_usage_error(CMD, "--url is required");
    if (!a->policy)
        return cli_usage_error(CMD, "--policy is required (deny by default)");
    a->prompt = argv + optind;
    a->n_prompt = (size_t)(argc - optind);
    return CLI_EXIT_OK;
}

/* ---- trust anchors and endorsements (as cachet verify reads them) ---------- */

typedef struct anchors {
    cachet_x509 **certs;
    size_t n_certs;
    cachet_pkey **keys;
    size_t n_keys;
    cachet_endorsements *endorsements;
} anchors;

static void anchors_free(anchors *t)
{
    cachet_x509_free_all(t->certs, t->n_certs);
    for (size_t i = 0; i < t->n_keys; i++)
        cachet_pkey_free(t->keys[i]);
    free(t->keys);
    cachet_endorsements_free(t->endorsements);
}

static int load_anchors(const chat_args *a, anchors *t)
{
    t->keys = calloc(a->n_anchors + 1, sizeof *t->keys);
    if (!t->keys)
        return cli_usage_error(CMD, "out of memory");
    for (size_t i = 0; i < a->n_anchors; i++) {
        uint8_t *buf = NULL;
        size_t len = 0;
        cachet_x509 **certs = NULL;
        size_t nc = 0;
        if (cachet_file_read(a->anchors[i], MAX_ANCHOR_FILE, &buf, &len) != CACHET_OK)
            return cli_usage_error(CMD, "cannot read trust anchor %s: %s", a->anchors[i],
                                   cachet_err_detail());
        if (cachet_x509_parse_all(buf, len, &certs, &nc) != CACHET_OK) {
            cachet_pkey *k = NULL;
            if (cachet_pkey_parse_public(buf, len, &k) != CACHET_OK &&
                cachet_pkey_parse_private(buf, len, &k) != CACHET_OK)
                k = NULL;
            memset(buf, 0, len); /* may have held a private key */
            free(buf);
            if (!k)
                return cli_usage_error(CMD, "trust anchor %s is not a certificate, nor a PEM "
                                            "public or private key", a->anchors[i]);
            t->keys[t->n_keys++] = k;
            continue;
        }
        free(buf);
        cachet_x509 **grown = realloc(t->certs, (t->n_certs + nc) * sizeof *grown);
        if (!grown) {
            cachet_x509_free_all(certs, nc);
            return cli_usage_error(CMD, "out of memory");
        }
        t->certs = grown;
        memcpy(t->certs + t->n_certs, certs, nc * sizeof *certs);
        t->n_certs += nc;
        free(certs);
    }
    if (a->n_endorsements) {
        if (!(t->endorsements = cachet_endorsements_new()))
            return cli_usage_error(CMD, "out of memory");
        for (size_t i = 0; i < a->n_endorsements; i++)
            if (cachet_endorsements_add_path(t->endorsements, a->endorsements[i]) != CACHET_OK)
                return cli_usage_error(CMD, "cannot read endorsements %s: %s",
                                       a->endorsements[i], cachet_err_detail());
    }
    return CLI_EXIT_OK;
}

/* ---- the report ------------------------------------------------------------------- */

static int write_report(const char *path, const cachet_atls_report *r)
{
    json_t *j = json_pack("{s:b,s:s,s:s,s:b,s:b,s:b,s:s?,s:{s:s?,s:s?},s:s?,s:s?}", "admitted",
                          r->admitted, "tee", r->tee, "status", r->status, "verified",
                          r->verified, "nonce_matched", r->nonce_matched, "key_bound",
                          r->key_bound, "rule", r->rule[0] ? r->rule : NULL, "model", "id",
                          r->model_id[0] ? r->model_id : NULL, "digest",
                          r->model_digest[0] ? r->model_digest : NULL, "tls_spki_sha256",
                          r->tls_spki_sha256[0] ? r->tls_spki_sha256 : NULL, "why",
                          r->why[0] ? r->why : NULL);
    if (j && r->result)
        json_object_set_new(j, "verification", cachet_verify_result_to_json(r->result));
    if (j && r->appraisal)
        json_object_set(j, "policy", (json_t *)cachet_appraisal_json(r->appraisal));
    int rc = j ? json_dump_file(j, path, JSON_INDENT(2) | JSON_SORT_KEYS) : -1;
    json_decref(j);
    if (rc != 0) {
        fprintf(stderr, "cachet chat: cannot write %s\n", path);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* ---- the conversation --------------------------------------------------------------- */

static bool print_delta(void *arg, const char *text, size_t len)
{
    (void)arg;
    if (fwrite(text, 1, len, stdout) != len)
        return false;
    fflush(stdout);
    return true;
}

typedef struct convo {
    cachet_chat_message *m;
    char **owned; /* contents we allocated (parallel to m) */
    size_t n;
} convo;

static bool convo_add(convo *c, const char *role, char *content /* taken */)
{
    if (c->n >= 2 * MAX_TURNS + 1) {
        free(content);
        return false;
    }
    cachet_chat_message *m = realloc(c->m, (c->n + 1) * sizeof *m);
    if (m)
        c->m = m;
    char **o = realloc(c->owned, (c->n + 1) * sizeof *o);
    if (o)
        c->owned = o;
    if (!m || !o) {
        free(content);
        return false;
    }
    c->m[c->n] = (cachet_chat_message){role, content};
    c->owned[c->n++] = content;
    return true;
}

static void convo_free(convo *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->owned[i]);
    free(c->m);
    free(c->owned);
}

/* One turn: the answer printed (streamed or whole) and kept in the conversation. */
static int turn(cachet_atls *s, convo *c, const cachet_chat_request *req)
{
    char *answer = NULL;
    const char *finish = "";
    cachet_rc rc = cachet_atls_chat(s, c->m, c->n, req, print_delta, NULL, &answer, &finish);
    if (rc != CACHET_OK) {
        fprintf(stderr, "\ncachet chat: %s\n", cachet_err_detail());
        return CLI_EXIT_FAIL;
    }
    fputc('\n', stdout);
    fflush(stdout);
    if (strcmp(finish, "length") == 0)
        fprintf(stderr, "cachet chat: (the answer was cut at --max-tokens)\n");
    if (!convo_add(c, "assistant", answer)) {
        fprintf(stderr, "cachet chat: the conversation is too long\n");
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

static char *join_words(char **w, size_t n)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(w[i]) + 1;
    char *s = malloc(len);
    if (!s)
        return NULL;
    s[0] = 0;
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(s, " ");
        strcat(s, w[i]);
    }
    return s;
}

static int converse(cachet_atls *s, const chat_args *a)
{
    convo c = {0};
    int ex = CLI_EXIT_OK;
    if (a->system && !convo_add(&c, "system", strdup(a->system))) {
        convo_free(&c);
        return cli_usage_error(CMD, "out of memory");
    }
    if (a->n_prompt) {
        char *p = join_words(a->prompt, a->n_prompt);
        if (!p || !convo_add(&c, "user", p))
            ex = cli_usage_error(CMD, "out of memory");
        else
            ex = turn(s, &c, &a->req);
        convo_free(&c);
        return ex;
    }
    bool tty = isatty(STDIN_FILENO);
    char *line = NULL;
    size_t cap = 0;
    for (;;) {
        if (tty)
            fputs("> ", stderr);
        ssize_t n = getline(&line, &cap, stdin);
        if (n < 0)
            break;
        if ((size_t)n > MAX_LINE) {
            fprintf(stderr, "cachet chat: line longer than %zu bytes ignored\n", MAX_LINE);
            continue;
        }
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        if (n == 0)
            continue;
        char *p = strdup(line);
        if (!p || !convo_add(&c, "user", p)) {
            fprintf(stderr, "cachet chat: the conversation is too long\n");
            ex = CLI_EXIT_FAIL;
            break;
        }
        if ((ex = turn(s, &c, &a->req)) != CLI_EXIT_OK)
            break;
    }
    free(line);
    convo_free(&c);
    return ex;
}

static int run(int argc, char **argv)
{
    chat_args a = {0};
    anchors t = {0};
    cachet_policy *pol = NULL;
    int ex = parse_args(argc, argv, &a);
    if (ex == CLI_EXIT_OK)
        ex = load_anchors(&a, &t);
    if (ex == CLI_EXIT_OK && cachet_policy_load(a.policy, &pol) != CACHET_OK)
        ex = cli_usage_error(CMD, "policy %s: %s", a.policy, cachet_err_detail());
    if (ex != CLI_EXIT_OK)
        goto out;

    cachet_atls_opts o = {
        .policy = pol,
        .endorsements = t.endorsements,
        .trust_anchors = t.certs,
        .n_trust_anchors = t.n_certs,
        .trust_keys = t.keys,
        .n_trust_keys = t.n_keys,
        .timeout = a.timeout,
        .api_key = getenv("CACHET_API_KEY"),
    };
    cachet_atls *s = NULL;
    cachet_atls_report rep;
    cachet_rc rc = cachet_atls_connect(a.url, &o, &s, &rep);
    cachet_atls_report_print(&rep, stderr);
    if (a.json_report)
        ex = write_report(a.json_report, &rep);
    cachet_atls_report_free(&rep);
    if (rc != CACHET_OK) {
        const char *why = rep.why[0] ? rep.why : cachet_err_detail();
        if (cachet_rc_code(rc) == CACHET_E_POLICY)
            fprintf(stderr, "cachet chat: refused: %s\n", why);
        else
            fprintf(stderr, "cachet chat: %s\n", why);
        ex = cachet_rc_code(rc) == CACHET_E_INVALID_ARG ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
        goto out;
    }
    if (ex == CLI_EXIT_OK)
        ex = converse(s, &a);
    cachet_atls_free(s);
out:
    cachet_policy_free(pol);
    anchors_free(&t);
    free(a.anchors);
    free(a.endorsements);
    return ex;
}

const cli_command cli_cmd_chat = {"chat", "verify a cachet serve endpoint, then chat with it",
                                  run, usage};
