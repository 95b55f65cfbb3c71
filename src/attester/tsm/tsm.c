/* configfs-tsm report attester (Linux Documentation/ABI/testing/
 * configfs-tsm-report; evidence-formats.md §6.1).
 *
 *   mkdir <root>/<private name>            one request context of our own
 *   read  generation                        g0
 *   write privlevel (optional), inblob      64 bytes of report data
 *   read  outblob, auxblob                  the report / quote, SNP certs
 *   read  generation                        must be g0 + number of writes:
 *                                           otherwise someone else wrote
 *                                           the inputs meanwhile and the
 *                                           outblob may carry their data
 *   read  provider                          sev_guest → snp, tdx_guest → tdx
 *   rmdir <root>/<name>                     on close
 *
 * Tested here only against a fake configfs (tests/attester/); never on
 * TEE hardware (see docs/attester.md). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attester/attester_int.h"
#include "attester/binding.h"
#include "cachet/crypto.h"

#define TSM_MAX_BLOB ((size_t)1 << 20) /* outblob/auxblob bound (TDX quotes are ~5-8 KiB) */
#define TSM_MAX_ATTR 64

typedef struct tsm_impl {
    char dir[PATH_MAX];
    int privlevel;
    char provider[32];
    cachet_tsm_report last;
} tsm_impl;

static const cachet_attester_ops tsm_snp_ops, tsm_tdx_ops;

static cachet_rc attr_path(char *dst, const tsm_impl *t, const char *name)
{
    int n = snprintf(dst, PATH_MAX, "%s/%s", t->dir, name);
    if (n < 0 || n >= PATH_MAX)
        return cachet_err(AT_RC(LIMIT), "tsm: path too long");
    return CACHET_OK;
}

static cachet_rc read_text_attr(const tsm_impl *t, const char *name, char *buf, size_t cap)
{
    char path[PATH_MAX];
    uint8_t *raw = NULL;
    size_t n = 0;
    cachet_rc rc = attr_path(path, t, name);
    if (rc == CACHET_OK)
        rc = attester_read_all(path, TSM_MAX_ATTR, &raw, &n);
    if (rc != CACHET_OK)
        return rc;
    while (n && (raw[n - 1] == '\n' || raw[n - 1] == '\0'))
        n--;
    if (n == 0 || n >= cap || memchr(raw, '\0', n)) {
        free(raw);
        return cachet_err(AT_RC(FORMAT), "tsm: %s is empty or not text", path);
    }
    memcpy(buf, raw, n);
    buf[n] = '\0';
    free(raw);
    return CACHET_OK;
}

static cachet_rc read_generation(const tsm_impl *t, uint64_t *g)
{
    char s[TSM_MAX_ATTR];
    cachet_rc rc = read_text_attr(t, "generation", s, sizeof s);
    if (rc != CACHET_OK)
        return rc;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || s[0] == '-' || s[0] == '+')
        return cachet_err(AT_RC(FORMAT), "tsm: generation \"%s\" is not a number", s);
    *g = v;
    return CACHET_OK;
}

void cachet_tsm_report_clear(cachet_tsm_report *r)
{
    if (!r)
        return;
    free(r->outblob);
    free(r->auxblob);
    memset(r, 0, sizeof *r);
}

static cachet_rc request(tsm_impl *t, const uint8_t inblob[64], cachet_tsm_report *out)
{
    memset(out, 0, sizeof *out);
    char path[PATH_MAX];
    uint64_t g0 = 0, g1 = 0, writes = 0;
    cachet_rc rc = read_generation(t, &g0);
    if (rc == CACHET_OK && t->privlevel >= 0) {
        char lvl[8];
        int n = snprintf(lvl, sizeof lvl, "%d", t->privlevel);
        rc = attr_path(path, t, "privlevel");
        if (rc == CACHET_OK)
            rc = attester_write_attr(path, lvl, (size_t)n);
        writes++;
    }
    if (rc == CACHET_OK)
        rc = attr_path(path, t, "inblob");
    if (rc == CACHET_OK)
        rc = attester_write_attr(path, inblob, 64);
    writes++;
    if (rc == CACHET_OK)
        rc = attr_path(path, t, "outblob");
    if (rc == CACHET_OK)
        rc = attester_read_all(path, TSM_MAX_BLOB, &out->outblob, &out->outblob_len);
    if (rc == CACHET_OK && out->outblob_len == 0)
        rc = cachet_err(AT_RC(IO), "tsm: the provider returned an empty outblob");
    if (rc == CACHET_OK) {
        rc = attr_path(path, t, "auxblob");
        cachet_rc arc = rc == CACHET_OK ? attester_read_all(path, TSM_MAX_BLOB, &out->auxblob,
                                                            &out->auxblob_len)
                                        : rc;
        /* auxblob is optional: absent (older kernels, TDX) or empty is fine */
        if (arc != CACHET_OK && cachet_rc_code(arc) != CACHET_E_NOT_FOUND)
            rc = arc;
        if (out->auxblob_len == 0) {
            free(out->auxblob);
            out->auxblob = NULL;
        }
    }
    if (rc == CACHET_OK)
        rc = read_generation(t, &g1);
    if (rc == CACHET_OK && g1 != g0 + writes)
        rc = cachet_err(AT_RC(STATE),
                        "tsm: generation went from %" PRIu64 " to %" PRIu64 " across our %" PRIu64
                        " write(s): another process changed the request meanwhile; the "
                        "outblob may not carry our report data",
                        g0, g1, writes);
    if (rc != CACHET_OK) {
        cachet_tsm_report_clear(out);
        return rc;
    }
    memcpy(out->provider, t->provider, sizeof out->provider);
    out->generation = g1;
    return CACHET_OK;
}

static cachet_rc copy_out(const cachet_tsm_report *r, uint8_t **evidence, size_t *len)
{
    uint8_t *ev = malloc(r->outblob_len);
    if (!ev)
        return cachet_err(AT_RC(NOMEM), "tsm: out of memory");
    memcpy(ev, r->outblob, r->outblob_len);
    *evidence = ev;
    *len = r->outblob_len;
    return CACHET_OK;
}

static cachet_rc tsm_collect_bound(void *impl, const uint8_t report_data[64],
                                   const char *runtime_data, size_t runtime_len,
                                   uint8_t **evidence, size_t *len)
{
    (void)runtime_data;
    (void)runtime_len;
    tsm_impl *t = impl;
    cachet_tsm_report r;
    cachet_rc rc = request(t, report_data, &r);
    if (rc != CACHET_OK)
        return rc;
    rc = copy_out(&r, evidence, len);
    cachet_tsm_report_clear(&t->last);
    t->last = r;
    return rc;
}

static cachet_rc tsm_collect(void *impl, const cachet_attest_request *req, uint8_t **evidence,
                             size_t *len)
{
    uint8_t rd[64];
    cachet_rc rc = attester_bind_request(req, rd, NULL, NULL);
    if (rc != CACHET_OK)
        return rc;
    return tsm_collect_bound(impl, rd, NULL, 0, evidence, len);
}

static void tsm_close(void *impl)
{
    tsm_impl *t = impl;
    if (!t)
        return;
    if (t->dir[0])
        (void)rmdir(t->dir); /* configfs drops the attributes with it; a leftover is harmless */
    cachet_tsm_report_clear(&t->last);
    free(t);
}

static const cachet_attester_ops tsm_snp_ops = {
    .tee = "snp",
    .collect = tsm_collect,
    .close = tsm_close,
    .collect_bound = tsm_collect_bound,
};
static const cachet_attester_ops tsm_tdx_ops = {
    .tee = "tdx",
    .collect = tsm_collect,
    .close = tsm_close,
    .collect_bound = tsm_collect_bound,
};

static int default_mkdir(const char *path, unsigned mode, void *arg)
{
    (void)arg;
    return mkdir(path, (mode_t)mode);
}

cachet_rc cachet_attester_tsm_new(const cachet_tsm_opts *opts, cachet_attester **out)
{
    if (!out)
        return cachet_err(AT_RC(INVALID_ARG), "tsm: NULL output");
    *out = NULL;
    const char *root = opts && opts->root ? opts->root : CACHET_TSM_ROOT;
    int privlevel = opts ? opts->privlevel : -1;
    if (privlevel < -1 || privlevel > 3)
        return cachet_err(AT_RC(RANGE), "tsm: privlevel must be 0..3 (or -1 for none)");
    struct stat st;
    if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode))
        return cachet_err(AT_RC(NOT_FOUND), "tsm: %s is not there (no configfs-tsm report "
                                            "interface: kernel < 6.7, not a TEE guest, or "
                                            "configfs not mounted)", root);
    tsm_impl *t = calloc(1, sizeof *t);
    if (!t)
        return cachet_err(AT_RC(NOMEM), "tsm: out of memory");
    t->privlevel = privlevel;
    uint8_t rnd[8];
    char hex[17];
    if (cachet_random(rnd, sizeof rnd) != CACHET_OK) {
        free(t);
        return cachet_err(AT_RC(IO), "tsm: no randomness for a private request name");
    }
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
    int n = snprintf(t->dir, sizeof t->dir, "%s/cachet-%ld-%s", root, (long)getpid(), hex);
    if (n < 0 || (size_t)n >= sizeof t->dir) {
        free(t);
        return cachet_err(AT_RC(LIMIT), "tsm: root path too long");
    }
    int (*mk)(const char *, unsigned, void *) =
        opts && opts->mkdir_fn ? opts->mkdir_fn : default_mkdir;
    if (mk(t->dir, 0700, opts ? opts->mkdir_arg : NULL) != 0) {
        int e = errno;
        t->dir[0] = '\0';
        free(t);
        return cachet_err(CACHET_RC(CACHET_SUB_ATTESTER,
                                    e == ENOENT ? CACHET_E_NOT_FOUND : CACHET_E_IO),
                          "tsm: cannot create a report directory under %s: %s", root,
                          strerror(e));
    }
    cachet_rc rc = read_text_attr(t, "provider", t->provider, sizeof t->provider);
    const cachet_attester_ops *ops = NULL;
    if (rc == CACHET_OK) {
        if (strcmp(t->provider, "sev_guest") == 0)
            ops = &tsm_snp_ops;
        else if (strcmp(t->provider, "tdx_guest") == 0)
            ops = &tsm_tdx_ops;
        else
            rc = cachet_err(AT_RC(UNSUPPORTED), "tsm: provider \"%s\" is not one cachet "
                                                "verifies (sev_guest, tdx_guest)", t->provider);
    }
    if (rc == CACHET_OK && opts && opts->provider && strcmp(opts->provider, t->provider) != 0)
        rc = cachet_err(AT_RC(NOT_FOUND), "tsm: the provider is %s, not %s", t->provider,
                        opts->provider);
    if (rc != CACHET_OK) {
        tsm_close(t);
        return rc;
    }
    return cachet_attester_wrap(ops, t, out);
}

static tsm_impl *tsm_of(const cachet_attester *a)
{
    tsm_impl *t = cachet_attester_impl(a, &tsm_snp_ops);
    return t ? t : cachet_attester_impl(a, &tsm_tdx_ops);
}

const cachet_tsm_report *cachet_attester_tsm_last(const cachet_attester *a)
{
    tsm_impl *t = tsm_of(a);
    return t && t->last.outblob ? &t->last : NULL;
}

cachet_rc cachet_tsm_request(cachet_attester *a, const uint8_t inblob[64], cachet_tsm_report *out)
{
    tsm_impl *t = tsm_of(a);
    if (!t || !inblob || !out)
        return cachet_err(AT_RC(INVALID_ARG), "tsm: not a tsm attester, or NULL argument");
    return request(t, inblob, out);
}
