/* cachet attest: collect evidence inside a TEE (docs/attester.md).
 *
 *   cachet attest --nonce HEX --out FILE [--tee NAME | --source NAME]
 *                 [--pubkey FILE] [--user-data FILE] [--sample-key KEY] ...
 *
 * Sources, in order of preference: configfs-tsm, /dev/sev-guest,
 * /dev/tdx_guest (+ the quote through configfs-tsm), the TPM, /dev/nsm; the
 * `sample` source only when asked for.  NVIDIA GPUs, when present, are
 * attested first and their evidence is bound into the CPU evidence
 * (protocols.md §1.7).  The command prints which sources it found and which
 * it used.
 *
 * Files written: FILE (the evidence in its native form), FILE.runtime-data.json
 * (the exact JCS text whose SHA-384 is the report data), FILE.gpu.json (GPU
 * evidence, when any), FILE.<vcek|vlek|ask|ark>.der (SNP certificates the
 * host supplied, when any).
 *
 * Exit: 0 evidence written, 1 no usable source or collection failed,
 * 2 usage error. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cachet/attester.h"
#include "cachet/encoding.h"
#include "cachet/fileio.h"
#include "cachet/runtime_data.h"
#include "cachet/tpm.h"
#include "cli/cli.h"

#define CMD "attest"
#define MAX_NONCE 512
#define MAX_USER_DATA 4096
#define MAX_KEY_FILE ((size_t)64 << 10)
#define MAX_SNP_CERTS 16

static void usage(FILE *out)
{
    fprintf(out,
            "usage: cachet attest --nonce HEX --out FILE [--tee NAME | --source NAME]\n"
            "                     [--pubkey FILE] [--user-data FILE] [--sample-key KEY]\n"
            "                     [--sample-svn N] [--tsm-root DIR] [--sev-guest DEV]\n"
            "                     [--tdx-guest DEV] [--tpm-tcti TCTI] [--vmpl N] [--no-gpu]\n\n"
            "Collect attestation evidence from this machine's TEE, binding the nonce and the\n"
            "workload's public key into it (report data = SHA-384 of the JCS runtime data,\n"
            "protocols.md 1.7).\n\n"
            "  --nonce HEX          the verifier's challenge (bound as its base64 text)\n"
            "  --out FILE           where the evidence goes (plus FILE.runtime-data.json)\n"
            "  --pubkey FILE        the workload's EC public key (PEM public or private key),\n"
            "                       bound as the runtime data's \"tee-pubkey\" JWK\n"
            "  --user-data FILE     up to %d more bytes to bind (\"user-data\")\n"
            "  --tee NAME           the evidence family wanted: snp, tdx, tpm, nitro, sample\n"
            "  --source NAME        exactly this source: tsm, sev-guest, tdx-guest, tpm, nitro,\n"
            "                       sample\n"
            "  --sample-key KEY     the sample source's P-256 key (PEM; generated when absent)\n"
            "  --sample-svn N       the svn a sample report claims (default 0)\n"
            "  --tsm-root DIR       configfs-tsm report root (default %s)\n"
            "  --sev-guest DEV      default /dev/sev-guest\n"
            "  --tdx-guest DEV      default /dev/tdx_guest\n"
            "  --tpm-tcti TCTI      tpm2-tss TCTI (default device:/dev/tpmrm0)\n"
            "  --vmpl N             SNP VMPL to request (0..3, default 0)\n"
            "  --no-gpu             do not attest NVIDIA GPUs even when present\n"
            "  --quiet              print nothing but errors\n\n"
            "Sources in order of preference: tsm, sev-guest, tdx-guest, tpm, nitro; sample\n"
            "only with --tee sample or --source sample (software only: never hardware).\n"
            "exit status: 0 evidence written, 1 no usable source or collection failed,\n"
            "2 usage error\n",
            MAX_USER_DATA, CACHET_TSM_ROOT);
}

typedef struct attest_args {
    const char *nonce_hex, *out, *tee, *source, *pubkey, *user_data, *sample_key;
    const char *tsm_root, *sev_dev, *tdx_dev, *tpm_tcti;
    unsigned long sample_svn;
    int vmpl;
    bool no_gpu, quiet;
} attest_args;

enum {
    OPT_NONCE = 256, OPT_OUT, OPT_TEE, OPT_SOURCE, OPT_PUBKEY, OPT_USER_DATA, OPT_SAMPLE_KEY,
    OPT_SAMPLE_SVN, OPT_TSM_ROOT, OPT_SEV_DEV, OPT_TDX_DEV, OPT_TPM_TCTI, OPT_VMPL, OPT_NO_GPU,
    OPT_QUIET,
};

static int parse_uint(const char *s, unsigned long max, unsigned long *v)
{
    char *end = NULL;
    if (!s || !*s || *s == '-')
        return -1;
    *v = strtoul(s, &end, 10);
    return *end || *v > max ? -1 : 0;
}

static int parse_args(int argc, char **argv, attest_args *a)
{
    static const struct option opts[] = {
        {"nonce", required_argument, NULL, OPT_NONCE},
        {"out", required_argument, NULL, OPT_OUT},
        {"tee", required_argument, NULL, OPT_TEE},
        {"source", required_argument, NULL, OPT_SOURCE},
        {"pubkey", required_argument, NULL, OPT_PUBKEY},
        {"user-data", required_argument, NULL, OPT_USER_DATA},
        {"sample-key", required_argument, NULL, OPT_SAMPLE_KEY},
        {"sample-svn", required_argument, NULL, OPT_SAMPLE_SVN},
        {"tsm-root", required_argument, NULL, OPT_TSM_ROOT},
        {"sev-guest", required_argument, NULL, OPT_SEV_DEV},
        {"tdx-guest", required_argument, NULL, OPT_TDX_DEV},
        {"tpm-tcti", required_argument, NULL, OPT_TPM_TCTI},
        {"vmpl", required_argument, NULL, OPT_VMPL},
        {"no-gpu", no_argument, NULL, OPT_NO_GPU},
        {"quiet", no_argument, NULL, OPT_QUIET},
        {NULL, 0, NULL, 0},
    };
    unsigned long v = 0;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case OPT_NONCE: a->nonce_hex = optarg; break;
        case OPT_OUT: a->out = optarg; break;
        case OPT_TEE: a->tee = optarg; break;
        case OPT_SOURCE: a->source = optarg; break;
        case OPT_PUBKEY: a->pubkey = optarg; break;
        case OPT_USER_DATA: a->user_data = optarg; break;
        case OPT_SAMPLE_KEY: a->sample_key = optarg; break;
        case OPT_SAMPLE_SVN:
            if (parse_uint(optarg, UINT32_MAX, &a->sample_svn))
                return cli_usage_error(CMD, "--sample-svn must be 0..%u", UINT32_MAX);
            break;
        case OPT_TSM_ROOT: a->tsm_root = optarg; break;
        case OPT_SEV_DEV: a->sev_dev = optarg; break;
        case OPT_TDX_DEV: a->tdx_dev = optarg; break;
        case OPT_TPM_TCTI: a->tpm_tcti = optarg; break;
        case OPT_VMPL:
            if (parse_uint(optarg, 3, &v))
                return cli_usage_error(CMD, "--vmpl must be 0..3");
            a->vmpl = (int)v;
            break;
        case OPT_NO_GPU: a->no_gpu = true; break;
        case OPT_QUIET: a->quiet = true; break;
        case ':': return cli_usage_error(CMD, "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error(CMD, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    if (!a->nonce_hex)
        return cli_usage_error(CMD, "--nonce is required (the verifier's challenge)");
    if (!a->out)
        return cli_usage_error(CMD, "--out is required");
    if (a->tee && a->source)
        return cli_usage_error(CMD, "give --tee or --source, not both");
    return CLI_EXIT_OK;
}

/* ---- sources ------------------------------------------------------------------ */

typedef enum source_id { SRC_TSM, SRC_SEV, SRC_TDX, SRC_TPM, SRC_NITRO, SRC_SAMPLE, N_SOURCES } source_id;

static const struct {
    const char *name;
    const char *tees; /* families it can produce, space-separated */
} sources[N_SOURCES] = {
    [SRC_TSM] = {"tsm", "snp tdx"},       [SRC_SEV] = {"sev-guest", "snp"},
    [SRC_TDX] = {"tdx-guest", "tdx"},     [SRC_TPM] = {"tpm", "tpm"},
    [SRC_NITRO] = {"nitro", "nitro"},     [SRC_SAMPLE] = {"sample", "sample"},
};

static bool produces(source_id s, const char *tee)
{
    size_t n = strlen(tee);
    for (const char *p = sources[s].tees; (p = strstr(p, tee)); p += n)
        if ((p == sources[s].tees || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return true;
    return false;
}

static const char *source_path(const attest_args *a, source_id s)
{
    switch (s) {
    case SRC_TSM: return a->tsm_root ? a->tsm_root : CACHET_TSM_ROOT;
    case SRC_SEV: return a->sev_dev ? a->sev_dev : "/dev/sev-guest";
    case SRC_TDX: return a->tdx_dev ? a->tdx_dev : "/dev/tdx_guest";
    case SRC_TPM: return "/dev/tpmrm0";
    case SRC_NITRO: return "/dev/nsm";
    default: return NULL;
    }
}

static bool source_present(const attest_args *a, source_id s)
{
    if (s == SRC_SAMPLE)
        return a->sample_key != NULL;
    if (s == SRC_TPM && a->tpm_tcti)
        return true;
    return access(source_path(a, s), F_OK) == 0;
}

static bool source_wanted(const attest_args *a, source_id s)
{
    if (a->source)
        return strcmp(a->source, sources[s].name) == 0;
    if (a->tee)
        return produces(s, a->tee);
    return s != SRC_SAMPLE; /* sample only when asked for */
}

static void print_found(const attest_args *a)
{
    if (a->quiet)
        return;
    printf("sources found:\n");
    for (int s = 0; s < N_SOURCES; s++) {
        if (s == SRC_SAMPLE) {
            printf("  %-10s %s\n", sources[s].name,
                   a->sample_key ? "key given (software only, not a TEE)"
                                 : "not asked for (software only: --tee sample)");
            continue;
        }
        const char *where = s == SRC_TPM && a->tpm_tcti ? a->tpm_tcti : source_path(a, s);
        printf("  %-10s %-32s %s\n", sources[s].name, where,
               source_present(a, (source_id)s) ? "present" : "absent");
    }
}

/* Open one source's attester; on failure, say why (not fatal: the next
 * source is tried). */
static cachet_rc open_source(const attest_args *a, source_id s, cachet_attester **at,
                             bool *key_created)
{
    switch (s) {
    case SRC_TSM: {
        cachet_tsm_opts o = {.root = a->tsm_root, .privlevel = a->vmpl ? a->vmpl : -1};
        if (a->tee && strcmp(a->tee, "snp") == 0)
            o.provider = "sev_guest";
        else if (a->tee && strcmp(a->tee, "tdx") == 0)
            o.provider = "tdx_guest";
        return cachet_attester_tsm_new(&o, at);
    }
    case SRC_SEV: {
        cachet_sevguest_opts o = {.device = a->sev_dev, .vmpl = (unsigned)a->vmpl,
                                  .extended = true};
        return cachet_attester_sevguest_new(&o, at);
    }
    case SRC_TDX: {
        cachet_tdxguest_opts o = {.device = a->tdx_dev};
        o.tsm.root = a->tsm_root;
        o.tsm.privlevel = -1;
        return cachet_attester_tdxguest_new(&o, at);
    }
    case SRC_TPM: {
        cachet_tpm_opts o = {.tcti = a->tpm_tcti};
        return cachet_attester_tpm_new(&o, at);
    }
    case SRC_NITRO: return cachet_attester_nitro_new(NULL, at);
    case SRC_SAMPLE: {
        cachet_sample_opts o = {.key_path = a->sample_key, .create_key = true,
                                .svn = (uint32_t)a->sample_svn};
        return cachet_attester_sample_new(&o, at, key_created);
    }
    default: return cachet_err(CACHET_RC(CACHET_SUB_CLI, CACHET_E_INVALID_ARG), "no source");
    }
}

/* ---- inputs ------------------------------------------------------------------- */

static int load_pubkey(const char *path, cachet_pkey **key)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (cachet_file_read(path, MAX_KEY_FILE, &buf, &len) != CACHET_OK) {
        fprintf(stderr, "cachet attest: cannot read %s: %s\n", path, cachet_err_detail());
        return CLI_EXIT_USAGE;
    }
    cachet_rc rc = cachet_pkey_parse_public(buf, len, key);
    if (rc != CACHET_OK)
        rc = cachet_pkey_parse_private(buf, len, key);
    memset(buf, 0, len);
    free(buf);
    if (rc != CACHET_OK)
        return cli_usage_error(CMD, "--pubkey %s is not a PEM public or private key", path);
    return CLI_EXIT_OK;
}

typedef struct attest_run {
    uint8_t nonce[MAX_NONCE];
    size_t nonce_len;
    char *nonce_text;
    cachet_pkey *pubkey;
    uint8_t *user_data;
    size_t user_data_len;
    char *gpu_evidence;   /* JSON text */
    char *additional;     /* {"nvidia": <gpu evidence>} or NULL */
    json_t *runtime;
    char *runtime_jcs;
    size_t runtime_jcs_len;
    uint8_t report_data[CACHET_REPORT_DATA_LEN];
} attest_run;

static void run_clear(attest_run *r)
{
    free(r->nonce_text);
    cachet_pkey_free(r->pubkey);
    free(r->user_data);
    free(r->gpu_evidence);
    free(r->additional);
    json_decref(r->runtime);
    free(r->runtime_jcs);
}

/* GPU evidence first: its nonce is the device digest (nonce and key),
 * and the CPU evidence then covers its exact text. */
static void collect_gpus(const attest_args *a, attest_run *r)
{
    cachet_nvgpu_session *s = NULL;
    if (a->no_gpu || cachet_nvgpu_open(NULL, &s) != CACHET_OK) {
        if (!a->quiet)
            printf("  %-10s %-32s %s\n", "nvidia-gpu", "libnvidia-ml.so.1",
                   a->no_gpu ? "skipped (--no-gpu)" : "absent");
        return;
    }
    cachet_nvgpu_state st;
    json_t *dev = NULL;
    uint8_t digest[CACHET_SHA384_LEN];
    uint8_t *ev = NULL;
    size_t len = 0;
    cachet_runtime_data_params p = {.nonce = r->nonce_text, .tee_pubkey = r->pubkey};
    if (cachet_nvgpu_cc_state(s, &st) != CACHET_OK || !st.cc_feature || st.gpu_count == 0) {
        if (!a->quiet)
            printf("  %-10s %-32s %s\n", "nvidia-gpu", "NVML",
                   "present, but no GPU in confidential-computing mode");
    } else if (cachet_runtime_data_build(&p, &dev) == CACHET_OK &&
               cachet_runtime_data_device_digest(dev, digest) == CACHET_OK &&
               cachet_nvgpu_collect(s, digest, &ev, &len) == CACHET_OK) {
        r->gpu_evidence = malloc(len + 1);
        size_t cap = len + 32;
        r->additional = r->gpu_evidence ? malloc(cap) : NULL;
        if (r->additional) {
            memcpy(r->gpu_evidence, ev, len);
            r->gpu_evidence[len] = '\0';
            snprintf(r->additional, cap, "{\"nvidia\":%s}", r->gpu_evidence);
            if (!a->quiet)
                printf("  %-10s %-32s used: %u GPU(s), bound into the CPU evidence\n",
                       "nvidia-gpu", "NVML", st.gpu_count);
        }
    } else {
        fprintf(stderr, "cachet attest: GPU evidence not collected: %s\n", cachet_err_detail());
    }
    free(ev);
    json_decref(dev);
    cachet_nvgpu_close(s);
}

static int bind_runtime(attest_run *r)
{
    cachet_runtime_data_params p = {
        .nonce = r->nonce_text,
        .tee_pubkey = r->pubkey,
        .additional_evidence = r->additional,
        .user_data = r->user_data,
        .user_data_len = r->user_data_len,
    };
    if (cachet_runtime_data_build(&p, &r->runtime) != CACHET_OK ||
        cachet_runtime_data_report_data(r->runtime, r->report_data) != CACHET_OK ||
        cachet_jcs_dump(r->runtime, &r->runtime_jcs, &r->runtime_jcs_len) != CACHET_OK) {
        fprintf(stderr, "cachet attest: runtime data: %s\n", cachet_err_detail());
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* ---- output --------------------------------------------------------------------- */

static int write_file(const attest_args *a, const char *suffix, const void *buf, size_t len)
{
    size_t n = strlen(a->out) + strlen(suffix) + 1;
    char *path = malloc(n);
    if (!path)
        return CLI_EXIT_FAIL;
    snprintf(path, n, "%s%s", a->out, suffix);
    cachet_rc rc = cachet_file_write_atomic(path, buf, len, 0644);
    if (rc != CACHET_OK)
        fprintf(stderr, "cachet attest: cannot write %s: %s\n", path, cachet_err_detail());
    else if (!a->quiet)
        printf("wrote %s (%zu bytes)\n", path, len);
    free(path);
    return rc == CACHET_OK ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* SNP certificates the host supplied (GHCB table from the extended report
 * or configfs-tsm's auxblob): written as endorsements for `cachet verify`. */
static void write_snp_certs(const attest_args *a, const cachet_attester *at)
{
    const uint8_t *table = NULL;
    size_t len = 0;
    const cachet_tsm_report *tr = cachet_attester_tsm_last(at);
    if (tr && strcmp(tr->provider, "sev_guest") == 0) {
        table = tr->auxblob;
        len = tr->auxblob_len;
    } else {
        table = cachet_attester_sevguest_certs(at, &len);
    }
    if (!table || !len)
        return;
    cachet_snp_cert certs[MAX_SNP_CERTS];
    size_t n = 0;
    if (cachet_snp_cert_table_parse(table, len, certs, MAX_SNP_CERTS, &n) != CACHET_OK) {
        fprintf(stderr, "cachet attest: the host's certificate table is unusable: %s\n",
                cachet_err_detail());
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char suffix[32];
        snprintf(suffix, sizeof suffix, ".%s.der", certs[i].name);
        if (strcmp(certs[i].name, "unknown") != 0)
            write_file(a, suffix, certs[i].data, certs[i].len);
    }
}

static void print_hint(const attest_args *a, const char *tee, const attest_run *r,
                       bool bound_as_nonce)
{
    if (a->quiet)
        return;
    char hex[2 * CACHET_REPORT_DATA_LEN + 1];
    cachet_hex_encode(r->report_data,
                      bound_as_nonce ? CACHET_SHA384_LEN : cachet_runtime_data_binding_len(tee),
                      hex);
    printf("report data: %s\n", hex);
    if (strcmp(tee, "sample") == 0)
        printf("verify with: cachet verify --trust-anchor %s --nonce %s %s\n", a->sample_key,
               a->nonce_hex, a->out);
    else
        printf("verify with: cachet verify --nonce %s %s [ENDORSEMENTS...]\n", hex, a->out);
}

/* Evidence from one opened attester: report-data attesters get the
 * binding's report data; the others (TPM, Nitro) the digest as nonce. */
static int collect_with(const attest_args *a, cachet_attester *at, attest_run *r)
{
    uint8_t *ev = NULL;
    size_t len = 0;
    bool as_nonce = false;
    cachet_rc rc = cachet_attester_collect_bound(at, r->report_data, r->runtime_jcs,
                                                 r->runtime_jcs_len, &ev, &len);
    if (rc != CACHET_OK && cachet_rc_code(rc) == CACHET_E_UNSUPPORTED) {
        cachet_attest_request rq = {.nonce = r->report_data, .nonce_len = CACHET_SHA384_LEN};
        as_nonce = true;
        rc = cachet_attester_collect(at, &rq, &ev, &len);
    }
    if (rc != CACHET_OK) {
        fprintf(stderr, "cachet attest: %s: collecting evidence failed: %s\n",
                cachet_attester_tee(at), cachet_err_detail());
        return CLI_EXIT_FAIL;
    }
    int out = write_file(a, "", ev, len);
    free(ev);
    if (out == CLI_EXIT_OK)
        out = write_file(a, ".runtime-data.json", r->runtime_jcs, r->runtime_jcs_len);
    if (out == CLI_EXIT_OK && r->gpu_evidence)
        out = write_file(a, ".gpu.json", r->gpu_evidence, strlen(r->gpu_evidence));
    if (out == CLI_EXIT_OK)
        write_snp_certs(a, at);
    if (out == CLI_EXIT_OK)
        print_hint(a, cachet_attester_tee(at), r, as_nonce);
    return out;
}

static int run(int argc, char **argv)
{
    attest_args a;
    memset(&a, 0, sizeof a);
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (a.source) {
        bool known = false;
        for (int s = 0; s < N_SOURCES; s++)
            known |= strcmp(a.source, sources[s].name) == 0;
        if (!known)
            return cli_usage_error(CMD, "unknown --source '%s'", a.source);
    }
    if (a.tee) {
        bool known = false;
        for (int s = 0; s < N_SOURCES; s++)
            known |= produces((source_id)s, a.tee);
        if (!known)
            return cli_usage_error(CMD, "--tee '%s': cachet collects snp, tdx, tpm, nitro or "
                                        "sample evidence", a.tee);
    }
    if (((a.tee && strcmp(a.tee, "sample") == 0) || (a.source && strcmp(a.source, "sample") == 0)) &&
        !a.sample_key)
        return cli_usage_error(CMD, "the sample source needs --sample-key KEY");

    attest_run r;
    memset(&r, 0, sizeof r);
    cachet_attester *at = NULL;
    if (cachet_hex_decode(a.nonce_hex, r.nonce, sizeof r.nonce, &r.nonce_len) != CACHET_OK ||
        r.nonce_len == 0) {
        rc = cli_usage_error(CMD, "--nonce must be non-empty hex (at most %d bytes)", MAX_NONCE);
        goto out;
    }
    if (!(r.nonce_text = cachet_runtime_data_nonce_text(r.nonce, r.nonce_len))) {
        rc = cli_usage_error(CMD, "out of memory");
        goto out;
    }
    if (a.pubkey && (rc = load_pubkey(a.pubkey, &r.pubkey)) != CLI_EXIT_OK)
        goto out;
    if (a.user_data &&
        cachet_file_read(a.user_data, MAX_USER_DATA, &r.user_data, &r.user_data_len) != CACHET_OK) {
        fprintf(stderr, "cachet attest: --user-data %s: %s\n", a.user_data, cachet_err_detail());
        rc = CLI_EXIT_USAGE;
        goto out;
    }

    print_found(&a);
    collect_gpus(&a, &r);
    if ((rc = bind_runtime(&r)) != CLI_EXIT_OK)
        goto out;
    rc = CLI_EXIT_FAIL;
    for (int s = 0; s < N_SOURCES && !at; s++) {
        if (!source_wanted(&a, (source_id)s) || !source_present(&a, (source_id)s))
            continue;
        bool created = false;
        if (open_source(&a, (source_id)s, &at, &created) != CACHET_OK) {
            fprintf(stderr, "cachet attest: %s: not usable: %s\n", sources[s].name,
                    cachet_err_detail());
            at = NULL;
            continue;
        }
        if (created && !a.quiet)
            printf("generated sample key %s (keep it: it is the verifier's trust anchor)\n",
                   a.sample_key);
        if (!a.quiet)
            printf("using: %s (%s evidence%s)\n", sources[s].name, cachet_attester_tee(at),
                   s == SRC_SAMPLE ? ", software only, NOT a TEE" : "");
        rc = collect_with(&a, at, &r);
    }
    if (!at)
        fprintf(stderr, "cachet attest: no usable evidence source%s%s%s\n",
                a.tee || a.source ? " for " : "", a.tee ? a.tee : "", a.source ? a.source : "");
out:
    cachet_attester_free(at);
    run_clear(&r);
    return rc;
}

const cli_command cli_cmd_attest = {"attest", "collect attestation evidence from this TEE",
                                    run, usage};
