/* cachet verify: check attestation evidence (verify-contract.md).
 *
 *   cachet verify [--tee NAME] [--at TIME] [--nonce HEX] [--policy FILE]
 *                 [--trust-anchor FILE]... [--online [--cache-dir DIR]] [--json]
 *                 EVIDENCE [ENDORSEMENT...]
 *
 * Exit: 0 affirming or warning, 1 contraindicated, 2 usage error or
 * unreadable input.  A thin wrapper over cachet/evidence.h. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cachet/appraisal.h"
#include "cachet/clock.h"
#include "cachet/collateral.h"
#include "cachet/encoding.h"
#include "cachet/evidence.h"
#include "cachet/fileio.h"
#include "cli/cli.h"
#include "evidence/nvgpu/ocsp_fetch.h"
#include "evidence/snp/kds.h"
#include "evidence/tdx/pcs.h"

#define CMD "verify"
#define MAX_NONCE 1024 /* bytes; families say how much of it they carry */
#define MAX_ANCHOR_FILE ((size_t)4 << 20)

static void usage(FILE *out)
{
    size_t n = 0;
    const cachet_evidence_ops *const *fam = cachet_evidence_families(&n);
    fprintf(out,
            "usage: cachet verify [--tee NAME] [--at TIME] [--nonce HEX] [--policy FILE]\n"
            "                     [--trust-anchor FILE]... [--online [--cache-dir DIR]] [--json]\n"
            "                     EVIDENCE [ENDORSEMENT...]\n\n"
            "Verify attestation evidence and print each check, the claims and the status.\n\n"
            "  EVIDENCE             the evidence in its native form (e.g. a raw SNP report)\n"
            "  ENDORSEMENT          certificates, CRLs, collateral JSON, RIM XML: files or\n"
            "                       directories, recognised by content; never trust anchors\n"
            "  --tee NAME           the evidence family (default: recognised by content)\n"
            "  --at TIME            RFC 3339 time for every validity check (default: now)\n"
            "  --nonce HEX          expected freshness value (e.g. SNP REPORT_DATA, zero-padded)\n"
            "  --policy FILE        appraisal policy (docs/policy.md): the result gains a\n"
            "                       \"policy\" object; exit status 1 when it denies\n"
            "  --trust-anchor FILE  an extra trust anchor: a certificate (PEM or DER), or a\n"
            "                       PEM public or private key (the sample key); never\n"
            "                       replaces the built-in vendor roots\n"
            "  --online             SNP: fetch the VCEK (by CHIP_ID and REPORTED_TCB), the\n"
            "                       VCEK/VLEK cert_chain and the CRL from AMD KDS; TDX/SGX:\n"
            "                       fetch what the endorsements lack (TCB info for the PCK's\n"
            "                       FMSPC, QE identity, PCK and root CA CRLs) from Intel PCS;\n"
            "                       over HTTPS, before verifying (they are verified like any\n"
            "                       other endorsement); if that fails, the reason is printed\n"
            "                       and verification goes on with what was given. Without\n"
            "                       --online nothing is fetched. NVIDIA GPUs: OCSP\n"
            "                       responses for the device and RIM chains (POST to the\n"
            "                       AIA responder, else https://ocsp.ndis.nvidia.com/)\n"
            "  --cache-dir DIR      cache for --online (default: $XDG_CACHE_HOME/cachet/kds or\n"
            "                       .../cachet/pcs, else under ~/.cache); re-verified on every\n"
            "                       read (CACHET_KDS_URL replaces https://kdsintf.amd.com,\n"
            "                       CACHET_PCS_URL the Intel PCS and certificate hosts,\n"
            "                       CACHET_OCSP_URL every OCSP responder: a\n"
            "                       mirror over https, or plain http to loopback for tests)\n"
            "  --json               print exactly one JSON object\n\n"
            "exit status: 0 affirming or warning (and admitted, with --policy),\n"
            "1 contraindicated or denied by the policy, 2 usage error or unreadable input\n"
            "\nfamilies:\n");
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "  %-12s %s", fam[i]->name, fam[i]->description);
        for (const char *const *a = fam[i]->aliases; a && *a; a++)
            fprintf(out, "%s%s", a == fam[i]->aliases ? " (also: " : ", ", *a);
        fprintf(out, "%s\n", fam[i]->aliases && fam[i]->aliases[0] ? ")" : "");
    }
}

typedef struct verify_args {
    const char *tee;
    const char *at;
    const char *nonce_hex;
    const char *policy;
    const char **anchors;
    size_t n_anchors;
    bool json;
    bool online;
    const char *cache_dir;
    const char *evidence;
    char **endorsements;
    size_t n_endorsements;
} verify_args;

enum { OPT_TEE = 256, OPT_AT, OPT_NONCE, OPT_POLICY, OPT_TRUST_ANCHOR, OPT_JSON, OPT_ONLINE,
       OPT_CACHE_DIR };

static int parse_args(int argc, char **argv, verify_args *a)
{
    static const struct option opts[] = {
        { "tee", required_argument, NULL, OPT_TEE },
        { "at", required_argument, NULL, OPT_AT },
        { "nonce", required_argument, NULL, OPT_NONCE },
        { "policy", required_argument, NULL, OPT_POLICY },
        { "trust-anchor", required_argument, NULL, OPT_TRUST_ANCHOR },
        { "json", no_argument, NULL, OPT_JSON },
        { "online", no_argument, NULL, OPT_ONLINE },
        { "cache-dir", required_argument, NULL, OPT_CACHE_DIR },
        { NULL, 0, NULL, 0 },
    };
    a->anchors = calloc((size_t)argc, sizeof *a->anchors);
    if (!a->anchors)
        return cli_usage_error(CMD, "out of memory");
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case OPT_TEE: a->tee = optarg; break;
        case OPT_AT: a->at = optarg; break;
        case OPT_NONCE: a->nonce_hex = optarg; break;
        case OPT_POLICY: a->policy = optarg; break;
        case OPT_TRUST_ANCHOR: a->anchors[a->n_anchors++] = optarg; break;
        case OPT_JSON: a->json = true; break;
        case OPT_ONLINE: a->online = true; break;
        case OPT_CACHE_DIR: a->cache_dir = optarg; break;
        case ':': return cli_usage_error(CMD, "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error(CMD, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (a->cache_dir && !a->online)
        return cli_usage_error(CMD, "--cache-dir is only meaningful with --online");
    if (optind >= argc)
        return cli_usage_error(CMD, "no EVIDENCE file given");
    a->evidence = argv[optind];
    a->endorsements = argv + optind + 1;
    a->n_endorsements = (size_t)(argc - optind - 1);
    return CLI_EXIT_OK;
}

/* A trust-anchor file that is not a certificate may be a bare key (the
 * sample family's): a PEM public key, or a PEM private key whose public
 * half is used. */
static cachet_pkey *anchor_key(const uint8_t *buf, size_t len)
{
    cachet_pkey *k = NULL;
    if (cachet_pkey_parse_public(buf, len, &k) == CACHET_OK ||
        cachet_pkey_parse_private(buf, len, &k) == CACHET_OK)
        return k;
    return NULL;
}

static int load_anchors(const verify_args *a, cachet_x509 ***out, size_t *n, cachet_pkey **keys,
                        size_t *n_keys)
{
    cachet_x509 **all = NULL;
    size_t total = 0;
    *out = NULL;
    *n = 0;
    *n_keys = 0;
    for (size_t i = 0; i < a->n_anchors; i++) {
        uint8_t *buf = NULL;
        size_t len = 0;
        cachet_x509 **certs = NULL;
        size_t nc = 0;
        if (cachet_file_read(a->anchors[i], MAX_ANCHOR_FILE, &buf, &len) != CACHET_OK) {
            fprintf(stderr, "cachet verify: cannot read trust anchor %s: %s\n", a->anchors[i],
                    cachet_err_detail());
            cachet_x509_free_all(all, total);
            return CLI_EXIT_USAGE;
        }
        cachet_rc rc = cachet_x509_parse_all(buf, len, &certs, &nc);
        if (rc != CACHET_OK) {
            cachet_pkey *k = anchor_key(buf, len);
            memset(buf, 0, len); /* may have held a private key */
            free(buf);
            if (k) {
                keys[(*n_keys)++] = k;
                continue;
            }
            fprintf(stderr, "cachet verify: trust anchor %s is not a certificate, nor a PEM "
                            "public or private key\n", a->anchors[i]);
            cachet_x509_free_all(all, total);
            return CLI_EXIT_USAGE;
        }
        free(buf);
        cachet_x509 **grown = realloc(all, (total + nc) * sizeof *grown);
        if (!grown) {
            cachet_x509_free_all(certs, nc);
            cachet_x509_free_all(all, total);
            return cli_usage_error(CMD, "out of memory");
        }
        all = grown;
        memcpy(all + total, certs, nc * sizeof *certs);
        total += nc;
        free(certs); /* the handles moved into all */
    }
    *out = all;
    *n = total;
    return CLI_EXIT_OK;
}

/* ---- --online: AMD KDS collateral (docs/evidence/snp.md, "AMD KDS") ------------- */

/* CACHET_KDS_URL replaces the KDS host (https://kdsintf.amd.com) in every
 * request: a mirror over https, or, as a test hook only, plain http to a
 * loopback address.  The cache stays keyed by the canonical KDS URL. */
#define KDS_URL_ENV "CACHET_KDS_URL"

typedef struct online_get {
    cachet_http_opts http;
    const char *base; /* NULL: the real KDS */
} online_get;

static cachet_rc online_http_get(void *arg, const char *url, uint8_t **body, size_t *len,
                                 int *status, int64_t *retry_after)
{
    const online_get *g = arg;
    size_t hl = strlen(SNP_KDS_HOST);
    if (!g->base || strncmp(url, SNP_KDS_HOST, hl) != 0)
        return cachet_http_get((void *)&g->http, url, body, len, status, retry_after);
    char *u = NULL;
    if (asprintf(&u, "%s%s", g->base, url + hl) < 0)
        return cachet_err(CACHET_RC(CACHET_SUB_CLI, CACHET_E_NOMEM), "out of memory");
    cachet_rc rc = cachet_http_get((void *)&g->http, u, body, len, status, retry_after);
    free(u);
    return rc;
}

/* --cache-dir, else $XDG_CACHE_HOME/cachet/kds, else ~/.cache/cachet/kds; the
 * parents are created (0700) so that the cache can be written. */
static char *online_cache_dir(const char *given, const char *leaf)
{
    char *d = NULL;
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n = 0;
    if (given)
        d = strdup(given);
    else if (xdg && xdg[0] == '/')
        n = asprintf(&d, "%s/cachet/%s", xdg, leaf);
    else if (home && home[0])
        n = asprintf(&d, "%s/.cache/cachet/%s", home, leaf);
    if (n < 0 || !d)
        return NULL;
    for (char *p = d + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        (void)mkdir(d, 0700); /* best effort: a cache that cannot be written is only slower */
        *p = '/';
    }
    (void)mkdir(d, 0700);
    return d;
}

static const char *family_of(const char *tee, const uint8_t *ev, size_t len)
{
    const cachet_evidence_ops *f = tee ? cachet_evidence_find(tee) : cachet_evidence_detect(ev, len);
    return f ? f->name : "";
}

/* CACHET_PCS_URL replaces the Intel PCS host (https://api.trustedservices.intel.com)
 * and the certificate host of the root CA CRL, as CACHET_KDS_URL does for
 * KDS; the cache stays keyed by the canonical URL. */
#define PCS_URL_ENV "CACHET_PCS_URL"

static cachet_rc online_pcs_get(void *arg, const char *url, const char *const *hdr_names,
                                char **hdr, uint8_t **body, size_t *len, int *status,
                                int64_t *retry_after)
{
    const online_get *g = arg;
    static const char *const hosts[] = { TDX_PCS_HOST, TDX_PCS_CERTS_HOST };
    for (size_t i = 0; g->base && i < sizeof hosts / sizeof hosts[0]; i++) {
        size_t hl = strlen(hosts[i]);
        if (strncmp(url, hosts[i], hl) != 0 || (url[hl] != '/' && url[hl] != 0))
            continue;
        char *u = NULL;
        if (asprintf(&u, "%s%s", g->base, url + hl) < 0)
            return cachet_err(CACHET_RC(CACHET_SUB_CLI, CACHET_E_NOMEM), "out of memory");
        cachet_rc rc = cachet_http_get_hdr((void *)&g->http, u, hdr_names, hdr, body, len, status,
                                           retry_after);
        free(u);
        return rc;
    }
    return cachet_http_get_hdr((void *)&g->http, url, hdr_names, hdr, body, len, status,
                               retry_after);
}

/* TDX/SGX: what the endorsements lack, from Intel PCS (or the cache). */
static void online_collect_pcs(const verify_args *a, const uint8_t *ev, size_t len, int64_t now,
                               cachet_endorsements *e, char **why)
{
    online_get g = { .http = { .timeout_s = CACHET_HTTP_DEFAULT_TIMEOUT,
                               .max_body = TDX_PCS_MAX_BODY } };
    const char *base = getenv(PCS_URL_ENV);
    if (base && base[0]) {
        g.base = base;
        g.http.allow_loopback_http = true; /* still refused unless the host is loopback */
    }
    char *dir = online_cache_dir(a->cache_dir, "pcs");
    if (!dir)
        fprintf(stderr, "cachet verify: --online: no cache directory (set --cache-dir or HOME); "
                        "fetching without a cache\n");
    tdx_pcs_opts o = { .cache_dir = dir, .get = online_pcs_get, .get_arg = &g, .now = now };
    size_t before = cachet_endorsements_count(e), added = 0;
    cachet_rc rc = tdx_pcs_collect(&o, ev, len, e, &added);
    for (size_t i = before; i < cachet_endorsements_count(e); i++) {
        const cachet_endorsement *en = cachet_endorsements_get(e, i);
        fprintf(stderr, "cachet verify: --online: got %s (%s, %zu bytes)\n", en->name,
                cachet_endorsement_kind_str(en->kind), en->len);
    }
    if (rc != CACHET_OK) {
        *why = strdup(cachet_err_detail());
        fprintf(stderr, "cachet verify: --online: Intel PCS collateral not fetched: %s; "
                        "verifying with what was given\n", cachet_err_detail());
    } else if (added == 0) {
        fprintf(stderr, "cachet verify: --online: the endorsements already hold the Intel "
                        "collateral; nothing fetched\n");
    }
    free(dir);
}

/* CACHET_OCSP_URL replaces every OCSP responder URL (the certificates' AIA,
 * else https://ocsp.ndis.nvidia.com/): a mirror over https, or, as a test
 * hook only, plain http to a loopback address. */
#define OCSP_URL_ENV "CACHET_OCSP_URL"

/* NVIDIA GPUs: OCSP responses for the device and RIM chain certificates
 * that no endorsement covers, from the responders (or the cache). */
static void online_collect_nvgpu(const verify_args *a, const uint8_t *ev, size_t len, int64_t now,
                                 cachet_endorsements *e, char **why)
{
    cachet_http_opts http = { .timeout_s = CACHET_HTTP_DEFAULT_TIMEOUT,
                              .max_body = NVGPU_OCSP_MAX_BODY };
    const char *url = getenv(OCSP_URL_ENV);
    if (url && url[0])
        http.allow_loopback_http = true; /* still refused unless the host is loopback */
    else
        url = NULL;
    char *dir = online_cache_dir(a->cache_dir, "ocsp");
    if (!dir)
        fprintf(stderr, "cachet verify: --online: no cache directory (set --cache-dir or HOME); "
                        "fetching without a cache\n");
    nvgpu_ocsp_fetch_opts o = { .cache_dir = dir, .post = cachet_http_post, .post_arg = &http,
                                .url = url, .now = now };
    size_t before = cachet_endorsements_count(e);
    nvgpu_ocsp_fetch_stats st;
    cachet_rc rc = nvgpu_ocsp_fetch(&o, ev, len, e, &st);
    for (size_t i = before; i < cachet_endorsements_count(e); i++) {
        const cachet_endorsement *en = cachet_endorsements_get(e, i);
        fprintf(stderr, "cachet verify: --online: got %s (%zu bytes)\n", en->name, en->len);
    }
    if (rc != CACHET_OK) {
        *why = strdup(cachet_err_detail());
        fprintf(stderr, "cachet verify: --online: NVIDIA OCSP responses not fetched: %s; "
                        "verifying with what was given\n", cachet_err_detail());
    } else if (st.wanted == 0) {
        fprintf(stderr, "cachet verify: --online: the endorsements already hold every OCSP "
                        "response needed; nothing fetched\n");
    }
    free(dir);
}

/* Fetch (or read from the cache) what the SNP report needs into e.  Prints
 * what it got, or why not, on stderr; *why is set (malloc'd) when the
 * collateral could not be had, *crl_why when only the CRL could not. */
static void online_collect(const verify_args *a, const uint8_t *ev, size_t len, int64_t now,
                           cachet_endorsements *e, char **why, char **crl_why, const char **what)
{
    *why = NULL;
    *crl_why = NULL;
    *what = "AMD KDS";
    const char *fam = family_of(a->tee, ev, len);
    if (strcmp(fam, "tdx") == 0 || strcmp(fam, "sgx") == 0) {
        *what = "Intel PCS";
        online_collect_pcs(a, ev, len, now, e, why);
        return;
    }
    if (strcmp(fam, "nvgpu") == 0) {
        *what = "NVIDIA OCSP";
        online_collect_nvgpu(a, ev, len, now, e, crl_why);
        return;
    }
    if (strcmp(fam, "snp") != 0) {
        fprintf(stderr, "cachet verify: --online: only SNP (AMD KDS), TDX/SGX (Intel PCS) and "
                        "NVIDIA GPU (OCSP) collateral is fetched; nothing fetched for this "
                        "evidence\n");
        return;
    }
    online_get g = { .http = { .timeout_s = CACHET_HTTP_DEFAULT_TIMEOUT,
                               .max_body = SNP_KDS_MAX_BODY } };
    const char *base = getenv(KDS_URL_ENV);
    if (base && base[0]) {
        g.base = base;
        g.http.allow_loopback_http = true; /* still refused unless the host is loopback */
    }
    char *dir = online_cache_dir(a->cache_dir, "kds");
    if (!dir)
        fprintf(stderr, "cachet verify: --online: no cache directory (set --cache-dir or HOME); "
                        "fetching without a cache\n");
    snp_kds_opts o = { .cache_dir = dir, .get = online_http_get, .get_arg = &g, .now = now };
    size_t before = cachet_endorsements_count(e);
    cachet_rc crl_rc = CACHET_OK;
    cachet_rc rc = snp_kds_collect(&o, ev, len, SNP_PRODUCT_UNKNOWN, e, &crl_rc);
    for (size_t i = before; i < cachet_endorsements_count(e); i++) {
        const cachet_endorsement *en = cachet_endorsements_get(e, i);
        fprintf(stderr, "cachet verify: --online: got %s (%s, %zu bytes)\n", en->name,
                cachet_endorsement_kind_str(en->kind), en->len);
    }
    if (rc != CACHET_OK) {
        *why = strdup(cachet_err_detail());
        fprintf(stderr, "cachet verify: --online: AMD KDS collateral not fetched: %s; "
                        "verifying with what was given\n", cachet_err_detail());
    } else if (crl_rc != CACHET_OK) {
        *crl_why = strdup(cachet_err_detail());
        fprintf(stderr, "cachet verify: --online: AMD KDS CRL not fetched: %s\n",
                cachet_err_detail());
    }
    free(dir);
}

static void note(json_t *arr, const char *what, const char *why)
{
    char *m = NULL;
    if (arr && asprintf(&m, "%s: %s", what, why ? why : "unknown reason") >= 0) {
        json_array_append_new(arr, json_string(m));
        free(m);
    }
}

static int run(int argc, char **argv)
{
    verify_args a;
    memset(&a, 0, sizeof a);
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_EXIT_OK) {
        free(a.anchors);
        return rc;
    }

    cachet_verify_request req;
    memset(&req, 0, sizeof req);
    uint8_t *evidence = NULL, nonce[MAX_NONCE];
    cachet_endorsements *endorse = NULL;
    cachet_x509 **anchors = NULL;
    size_t n_anchors = 0, n_keys = 0;
    cachet_pkey **keys = calloc(a.n_anchors + 1, sizeof *keys);
    cachet_verify_result *res = NULL;
    cachet_policy *policy = NULL;
    cachet_appraisal *appraisal = NULL;
    char *online_why = NULL, *crl_why = NULL;
    const char *online_what = "AMD KDS";
    if (!keys) {
        rc = cli_usage_error(CMD, "out of memory");
        goto out;
    }
    if (a.policy && cachet_policy_load(a.policy, &policy) != CACHET_OK) {
        fprintf(stderr, "cachet verify: policy %s: %s\n", a.policy, cachet_err_detail());
        rc = CLI_EXIT_USAGE;
        goto out;
    }

    if (a.tee && !cachet_evidence_find(a.tee)) {
        rc = cli_usage_error(CMD, "unknown evidence family '%s' (see 'cachet verify --help')",
                             a.tee);
        goto out;
    }
    req.tee = a.tee;
    if (a.at) {
        if (cachet_time_parse_rfc3339(a.at, &req.time) != CACHET_OK) {
            rc = cli_usage_error(CMD, "--at '%s' is not an RFC 3339 time", a.at);
            goto out;
        }
    } else {
        req.time = (int64_t)time(NULL);
    }
    if (a.nonce_hex) {
        size_t n = 0;
        if (cachet_hex_decode(a.nonce_hex, nonce, sizeof nonce, &n) != CACHET_OK || n == 0) {
            rc = cli_usage_error(CMD, "--nonce must be non-empty hex (at most %d bytes)",
                                 MAX_NONCE);
            goto out;
        }
        req.nonce = nonce;
        req.nonce_len = n;
    }

    size_t ev_len = 0;
    if (cachet_file_read(a.evidence, CACHET_EVIDENCE_MAX_FILE, &evidence, &ev_len) != CACHET_OK) {
        fprintf(stderr, "cachet verify: cannot read evidence %s: %s\n", a.evidence,
                cachet_err_detail());
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    req.evidence = evidence;
    req.evidence_len = ev_len;

    endorse = cachet_endorsements_new();
    if (!endorse) {
        rc = cli_usage_error(CMD, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < a.n_endorsements; i++) {
        if (cachet_endorsements_add_path(endorse, a.endorsements[i]) != CACHET_OK) {
            fprintf(stderr, "cachet verify: %s\n", cachet_err_detail());
            rc = CLI_EXIT_USAGE;
            goto out;
        }
    }
    if (a.online)
        online_collect(&a, evidence, ev_len, req.time, endorse, &online_why, &crl_why,
                       &online_what);
    req.endorsements = endorse;
    if ((rc = load_anchors(&a, &anchors, &n_anchors, keys, &n_keys)) != CLI_EXIT_OK)
        goto out;
    req.trust_anchors = anchors;
    req.n_trust_anchors = n_anchors;
    req.trust_keys = keys;
    req.n_trust_keys = n_keys;

    if (cachet_evidence_verify(&req, &res) != CACHET_OK) {
        if (!a.tee) {
            size_t nf = 0;
            const cachet_evidence_ops *const *fam = cachet_evidence_families(&nf);
            fprintf(stderr, "cachet verify: %s is not a format cachet recognises; name the "
                            "family with --tee (one of:", a.evidence);
            for (size_t i = 0; i < nf; i++)
                fprintf(stderr, " %s", fam[i]->name);
            fprintf(stderr, ")\n");
        } else {
            fprintf(stderr, "cachet verify: %s\n", cachet_err_detail());
        }
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    if (online_why) {
        char *what = NULL;
        if (asprintf(&what, "--online: %s collateral not fetched", online_what) >= 0) {
            note(res->errors, what, online_why);
            free(what);
        }
    }
    if (crl_why)
        note(res->warnings,
             strcmp(online_what, "NVIDIA OCSP") == 0 ? "--online: NVIDIA OCSP responses not fetched"
                                                     : "--online: AMD KDS CRL not fetched",
             crl_why);
    if (res->auto_detected)
        fprintf(stderr, "cachet verify: recognised %s as %s (%s); use --tee to choose\n",
                a.evidence, res->tee, res->tee_description);
    if (policy) {
        cachet_appraisal_input in = { .primary = res };
        if (cachet_policy_appraise(policy, &in, &appraisal) != CACHET_OK) {
            fprintf(stderr, "cachet verify: %s\n", cachet_err_detail());
            rc = CLI_EXIT_USAGE;
            goto out;
        }
    }

    if (a.json) {
        json_t *j = cachet_verify_result_to_json(res);
        if (j && appraisal &&
            json_object_set(j, "policy", (json_t *)cachet_appraisal_json(appraisal)) != 0) {
            json_decref(j);
            j = NULL;
        }
        char *s = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
        json_decref(j);
        if (!s) {
            fprintf(stderr, "cachet verify: out of memory\n");
            rc = CLI_EXIT_USAGE;
            goto out;
        }
        printf("%s\n", s);
        free(s);
    } else {
        cachet_verify_result_print(res, stdout);
        if (appraisal)
            cachet_appraisal_print(appraisal, stdout);
    }
    rc = res->status == CACHET_EV_CONTRAINDICATED ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    if (appraisal && !cachet_appraisal_admitted(appraisal))
        rc = CLI_EXIT_FAIL;

out:
    cachet_appraisal_free(appraisal);
    cachet_policy_free(policy);
    cachet_verify_result_free(res);
    cachet_x509_free_all(anchors, n_anchors);
    for (size_t i = 0; keys && i < n_keys; i++)
        cachet_pkey_free(keys[i]);
    free(keys);
    cachet_endorsements_free(endorse);
    free(evidence);
    free(a.anchors);
    free(online_why);
    free(crl_why);
    return rc;
}

const cli_command cli_cmd_verify = { "verify", "verify attestation evidence (SNP, ...)", run,
                                     usage };
