/* cachet seal / cachet unseal: thin wrappers over cachet/seal.h. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cachet/fileio.h"
#include "cachet/secmem.h"
#include "cachet/seal.h"
#include "cli/cli.h"

/* Files smaller than this finish too fast for a progress bar to help. */
#define PROGRESS_MIN_BYTES ((uint64_t)64 << 20)

/* ---- shared helpers ------------------------------------------------------ */

typedef struct progress_bar {
    const char *verb;
    bool enabled;
    bool line_open; /* a bar is drawn and its line not yet ended */
    int last_permille;
    struct timespec start;
} progress_bar;

static double seconds_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void progress_init(progress_bar *p, const char *verb, bool quiet)
{
    *p = (progress_bar){.verb = verb, .enabled = !quiet && isatty(STDERR_FILENO),
                        .last_permille = -1};
    clock_gettime(CLOCK_MONOTONIC, &p->start);
}

static void progress_cb(void *arg, uint64_t done, uint64_t total)
{
    progress_bar *p = arg;
    if (!p->enabled || total < PROGRESS_MIN_BYTES)
        return;
    int permille = (int)(done * 1000 / total);
    if (permille == p->last_permille)
        return;
    p->last_permille = permille;
    enum { WIDTH = 30 };
    char bar[WIDTH + 1];
    int fill = permille * WIDTH / 1000;
    for (int i = 0; i < WIDTH; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[WIDTH] = '\0';
    double secs = seconds_since(&p->start);
    double rate = secs > 0 ? (double)done / secs / 1e9 : 0;
    fprintf(stderr, "\r%-9s [%s] %3d%%  %.2f/%.2f GiB  %.2f GB/s", p->verb, bar, permille / 10,
            (double)done / (1 << 30), (double)total / (1 << 30), rate);
    p->line_open = done != total;
    if (done == total)
        fputc('\n', stderr);
    fflush(stderr);
}

/* End a bar cut short by a failure, so the error starts on its own line. */
static void progress_close(progress_bar *p)
{
    if (p->line_open)
        fputc('\n', stderr);
    p->line_open = false;
}

/* 1: the operation ran and said no; 2: the caller's input was unusable. */
static int fail(const char *cmd, cachet_rc rc)
{
    const char *detail = cachet_err_detail();
    fprintf(stderr, "cachet %s: %s\n", cmd, detail && *detail ? detail : cachet_rc_str(rc));
    uint32_t code = cachet_rc_code(rc);
    if (code == CACHET_E_NOT_FOUND || code == CACHET_E_INVALID_ARG)
        return CLI_EXIT_USAGE;
    return CLI_EXIT_FAIL;
}

static int parse_threads(const char *cmd, const char *s, unsigned *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || !end || *end || v < 1 || v > CACHET_SEAL_MAX_THREADS)
        return cli_usage_error(cmd, "--threads takes 1..%d, not '%s'", CACHET_SEAL_MAX_THREADS, s);
    *out = (unsigned)v;
    return 0;
}

static unsigned default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        return 1;
    return n > 64 ? 64 : (unsigned)n;
}

/* "4M", "512K", "1G" (binary units) or plain bytes. */
static int parse_size(const char *cmd, const char *s, uint32_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return cli_usage_error(cmd, "bad size '%s'", s);
    unsigned shift = 0;
    if (*end == 'K' || *end == 'k')
        shift = 10;
    else if (*end == 'M' || *end == 'm')
        shift = 20;
    else if (*end == 'G' || *end == 'g')
        shift = 30;
    if (shift)
        end++;
    if (*end == 'i' && end[1] == 'B')
        end += 2;
    if (*end || v > (UINT32_MAX >> shift))
        return cli_usage_error(cmd, "bad size '%s'", s);
    v <<= shift;
    if (v < CACHET_SEAL_MIN_CHUNK || v > CACHET_SEAL_MAX_CHUNK)
        return cli_usage_error(cmd, "--chunk-size must be between 4K and 256M, not '%s'", s);
    *out = (uint32_t)v;
    return 0;
}

static int load_key(const char *cmd, const char *path, cachet_seal_key **key)
{
    struct stat st;
    if (stat(path, &st) == 0 && (st.st_mode & 077))
        fprintf(stderr, "cachet %s: warning: key file %s is readable by group or others "
                "(chmod 600 it)\n", cmd, path);
    cachet_rc rc = cachet_seal_key_load(path, key);
    if (rc != CACHET_OK) {
        fprintf(stderr, "cachet %s: %s\n", cmd, cachet_err_detail());
        return CLI_EXIT_USAGE;
    }
    return 0;
}

static void print_digest(const uint8_t d[CACHET_SEAL_DIGEST_LEN])
{
    char s[CACHET_SEAL_DIGEST_STR_LEN];
    cachet_seal_digest_format(d, s);
    printf("%s\n", s);
    fflush(stdout);
}

/* ---- cachet seal ------------------------------------------------------------ */

static void seal_usage(FILE *out)
{
    fprintf(out,
            "usage: cachet seal IN OUT (--key FILE | --new-key FILE) [options]\n\n"
            "Encrypt a model or dataset at rest (AES-256-GCM in chunks, docs/sealed-format.md).\n"
            "Prints the content digest (sha256:...) that a policy pins as the file that may\n"
            "be served.  OUT appears only once complete.\n\n"
            "  --key FILE          data key: 32 raw bytes, or 64 hex digits\n"
            "  --new-key FILE      generate a fresh key into FILE (created 0600, never overwritten)\n"
            "  --key-id ID         key-broker resource path, e.g. default/model-key/llama\n"
            "  --media-type TYPE   e.g. application/vnd.gguf\n"
            "  --metadata TEXT     free-form metadata (up to 64 KiB)\n"
            "  --metadata-file F   metadata from a file\n"
            "  --chunk-size SIZE   4K..256M (default 4M)\n"
            "  --threads N         worker threads (default: online CPUs)\n"
            "  -q, --quiet         no progress bar\n");
}

enum { OPT_KEY = 256, OPT_NEW_KEY, OPT_KEY_ID, OPT_MEDIA_TYPE, OPT_METADATA, OPT_METADATA_FILE,
       OPT_CHUNK_SIZE, OPT_THREADS, OPT_EXPECT, OPT_CHECK, OPT_INFO, OPT_MAP_INPUT };

static int seal_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, OPT_KEY},
        {"new-key", required_argument, NULL, OPT_NEW_KEY},
        {"key-id", required_argument, NULL, OPT_KEY_ID},
        {"media-type", required_argument, NULL, OPT_MEDIA_TYPE},
        {"metadata", required_argument, NULL, OPT_METADATA},
        {"metadata-file", required_argument, NULL, OPT_METADATA_FILE},
        {"chunk-size", required_argument, NULL, OPT_CHUNK_SIZE},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    const char *key_path = NULL, *new_key_path = NULL, *metadata_file = NULL;
    cachet_seal_params params = {.threads = default_threads()};
    bool quiet = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
        switch (c) {
        case OPT_KEY: key_path = optarg; break;
        case OPT_NEW_KEY: new_key_path = optarg; break;
        case OPT_KEY_ID: params.key_id = optarg; break;
        case OPT_MEDIA_TYPE: params.media_type = optarg; break;
        case OPT_METADATA:
            params.metadata = optarg;
            params.metadata_len = strlen(optarg);
            break;
        case OPT_METADATA_FILE: metadata_file = optarg; break;
        case OPT_CHUNK_SIZE:
            if (parse_size("seal", optarg, &params.chunk_size))
                return CLI_EXIT_USAGE;
            break;
        case OPT_THREADS:
            if (parse_threads("seal", optarg, &params.threads))
                return CLI_EXIT_USAGE;
            break;
        case 'q': quiet = true; break;
        default: return cli_usage_error("seal", "unknown option");
        }
    }
    if (argc - optind != 2)
        return cli_usage_error("seal", "needs IN and OUT");
    if (!key_path == !new_key_path)
        return cli_usage_error("seal", "needs exactly one of --key FILE and --new-key FILE");
    if (metadata_file && params.metadata)
        return cli_usage_error("seal", "--metadata and --metadata-file exclude each other");
    const char *in = argv[optind], *out = argv[optind + 1];

    uint8_t *meta = NULL;
    if (metadata_file) {
        size_t len = 0;
        if (cachet_file_read(metadata_file, CACHET_SEAL_METADATA_MAX, &meta, &len) != CACHET_OK) {
            fprintf(stderr, "cachet seal: metadata: %s\n", cachet_err_detail());
            return CLI_EXIT_USAGE;
        }
        params.metadata = meta;
        params.metadata_len = len;
    }

    cachet_seal_key *key = NULL;
    int ret = CLI_EXIT_OK;
    if (key_path) {
        ret = load_key("seal", key_path, &key);
    } else if (cachet_seal_key_generate(&key) != CACHET_OK ||
               cachet_seal_key_save(key, new_key_path) != CACHET_OK) {
        fprintf(stderr, "cachet seal: --new-key: %s\n", cachet_err_detail());
        ret = CLI_EXIT_USAGE;
        new_key_path = NULL; /* not ours to remove */
    }
    if (ret == CLI_EXIT_OK) {
        progress_bar bar;
        progress_init(&bar, "sealing", quiet);
        params.progress = progress_cb;
        params.progress_arg = &bar;
        uint8_t digest[CACHET_SEAL_DIGEST_LEN];
        cachet_rc rc = cachet_seal_file(key, &params, in, out, digest);
        progress_close(&bar);
        if (rc == CACHET_OK) {
            print_digest(digest);
        } else {
            ret = fail("seal", rc);
            if (new_key_path) /* a fresh key that sealed nothing protects nothing */
                unlink(new_key_path);
        }
    }
    cachet_seal_key_free(key);
    free(meta);
    return ret;
}

const cli_command cli_cmd_seal = {"seal", "encrypt a model or dataset at rest", seal_run,
                                  seal_usage};

/* ---- cachet unseal ---------------------------------------------------------- */

static void unseal_usage(FILE *out)
{
    fprintf(out,
            "usage: cachet unseal IN OUT --key FILE [options]\n"
            "       cachet unseal IN --check --key FILE [options]\n"
            "       cachet unseal IN --info [--key FILE]\n\n"
            "Authenticate and decrypt a sealed file.  OUT (mode 0600) appears only after every\n"
            "chunk has authenticated; on any failure nothing is left behind.  Prints the\n"
            "content digest.  (Servers decrypt into a sealed memfd through the library:\n"
            "cachet_seal_unseal_memfd().)\n\n"
            "  --key FILE            data key: 32 raw bytes, or 64 hex digits\n"
            "  --expect-digest D     refuse unless the content digest is D (sha256:HEX or HEX)\n"
            "  --check               authenticate every chunk, write nothing\n"
            "  --info                print the header (authenticated only with --key)\n"
            "  --threads N           worker threads (default: online CPUs)\n"
            "  --map-input           decrypt straight from a mapping of IN: faster, but only\n"
            "                        for files nobody can modify meanwhile (read-only image)\n"
            "  -q, --quiet           no progress bar\n");
}

static void print_info(const cachet_seal_reader *r)
{
    const cachet_seal_header *h = cachet_seal_reader_header(r);
    bool auth = cachet_seal_reader_unlocked(r);
    printf("format:         cachet sealed file v%u, algorithm %u (AES-256-GCM, HKDF-SHA256)\n",
           h->version, h->algorithm);
    printf("authenticated:  %s\n", auth ? "yes" : "no (no key given)");
    printf("key id:         %s\n", h->key_id[0] ? h->key_id : "(none)");
    printf("media type:     %s\n", h->media_type[0] ? h->media_type : "(none)");
    printf("plaintext:      %" PRIu64 " bytes\n", h->plaintext_len);
    printf("chunks:         %" PRIu64 " of %u bytes\n", h->chunk_count, h->chunk_size);
    printf("metadata:       %zu bytes\n", h->metadata_len);
    if (auth) {
        uint8_t d[CACHET_SEAL_DIGEST_LEN];
        char s[CACHET_SEAL_DIGEST_STR_LEN];
        if (cachet_seal_reader_digest(r, d) == CACHET_OK) {
            cachet_seal_digest_format(d, s);
            printf("content digest: %s\n", s);
        }
    }
}

static int unseal_info(const char *in, cachet_seal_key *key)
{
    cachet_seal_reader *r = NULL;
    cachet_rc rc = cachet_seal_reader_open(in, &r);
    if (rc == CACHET_OK && key)
        rc = cachet_seal_reader_unlock(r, key);
    int ret = rc == CACHET_OK ? CLI_EXIT_OK : fail("unseal", rc);
    if (rc == CACHET_OK)
        print_info(r);
    cachet_seal_reader_free(r);
    return ret;
}

static int unseal_check(const char *in, cachet_seal_key *key, const uint8_t *expect,
                        const cachet_unseal_opts *o, progress_bar *bar)
{
    cachet_seal_reader *r = NULL;
    uint8_t d[CACHET_SEAL_DIGEST_LEN];
    cachet_rc rc = cachet_seal_reader_open(in, &r);
    if (rc == CACHET_OK)
        rc = cachet_seal_reader_unlock(r, key);
    if (rc == CACHET_OK && expect)
        rc = cachet_seal_reader_expect_digest(r, expect);
    if (rc == CACHET_OK)
        rc = cachet_seal_reader_decrypt_fd(r, -1, o);
    progress_close(bar);
    if (rc == CACHET_OK)
        rc = cachet_seal_reader_digest(r, d);
    int ret = rc == CACHET_OK ? CLI_EXIT_OK : fail("unseal", rc);
    if (rc == CACHET_OK)
        print_digest(d);
    cachet_seal_reader_free(r);
    return ret;
}

static int unseal_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, OPT_KEY},
        {"expect-digest", required_argument, NULL, OPT_EXPECT},
        {"check", no_argument, NULL, OPT_CHECK},
        {"info", no_argument, NULL, OPT_INFO},
        {"map-input", no_argument, NULL, OPT_MAP_INPUT},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    const char *key_path = NULL;
    uint8_t expect[CACHET_SEAL_DIGEST_LEN];
    bool have_expect = false, check = false, info = false, quiet = false;
    cachet_unseal_opts o = {.threads = default_threads()};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
        switch (c) {
        case OPT_KEY: key_path = optarg; break;
        case OPT_EXPECT:
            if (cachet_seal_digest_parse(optarg, expect) != CACHET_OK)
                return cli_usage_error("unseal", "--expect-digest: %s", cachet_err_detail());
            have_expect = true;
            break;
        case OPT_CHECK: check = true; break;
        case OPT_INFO: info = true; break;
        case OPT_MAP_INPUT: o.map_input = true; break;
        case OPT_THREADS:
            if (parse_threads("unseal", optarg, &o.threads))
                return CLI_EXIT_USAGE;
            break;
        case 'q': quiet = true; break;
        default: return cli_usage_error("unseal", "unknown option");
        }
    }
    const int nargs = argc - optind;
    if (check && info)
        return cli_usage_error("unseal", "--check and --info exclude each other");
    if ((check || info) ? nargs != 1 : nargs != 2)
        return cli_usage_error("unseal", (check || info) ? "needs IN only" : "needs IN and OUT");
    if (!key_path && !info)
        return cli_usage_error("unseal", "needs --key FILE");
    const char *in = argv[optind];

    /* Keys and plaintext live here: no core dumps, no ptrace by peers. */
    if (cachet_process_protect() != CACHET_OK)
        fprintf(stderr, "cachet unseal: warning: %s\n", cachet_err_detail());

    cachet_seal_key *key = NULL;
    if (key_path) {
        int kr = load_key("unseal", key_path, &key);
        if (kr)
            return kr;
    }
    int ret;
    progress_bar bar;
    progress_init(&bar, "unsealing", quiet);
    o.progress = progress_cb;
    o.progress_arg = &bar;
    if (info) {
        ret = unseal_info(in, key);
    } else if (check) {
        ret = unseal_check(in, key, have_expect ? expect : NULL, &o, &bar);
    } else {
        uint8_t d[CACHET_SEAL_DIGEST_LEN];
        cachet_rc rc = cachet_seal_unseal_file(in, argv[optind + 1], key,
                                               have_expect ? expect : NULL, &o, d);
        progress_close(&bar);
        ret = rc == CACHET_OK ? CLI_EXIT_OK : fail("unseal", rc);
        if (rc == CACHET_OK)
            print_digest(d);
    }
    cachet_seal_key_free(key);
    return ret;
}

const cli_command cli_cmd_unseal = {"unseal", "authenticate and decrypt a sealed file",
                                    unseal_run, unseal_usage};
