/* The sample attester: software-only evidence for development
 * (docs/evidence/sample.md).  It signs, with a local P-256 key, a report
 * carrying the bound report data, the runtime data that hashes to it, and
 * a measurement of the running executable.  Nothing protects the key or
 * the process: a verifier marks the result as sample, never as hardware. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attester/attester_int.h"
#include "attester/binding.h"
#include "cachet/fileio.h"
#include "cachet/runtime_data.h"
#include "evidence/sample/sample.h"

#define KEY_FILE_MAX ((size_t)64 << 10)

typedef struct sa_impl {
    cachet_pkey *key;
    uint32_t svn;
    bool debug;
    uint8_t measurement[SAMPLE_MEASUREMENT_LEN];
} sa_impl;

static cachet_rc measure_file(const char *path, uint8_t out[SAMPLE_MEASUREMENT_LEN])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cachet_err(AT_RC(IO), "sample: cannot open %s to measure it: %s", path,
                          strerror(errno));
    cachet_hash_ctx *h = cachet_hash_new(CACHET_HASH_SHA384);
    cachet_rc rc = h ? CACHET_OK : cachet_err(AT_RC(NOMEM), "sample: out of memory");
    uint8_t buf[65536];
    while (rc == CACHET_OK) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = cachet_err(AT_RC(IO), "sample: reading %s: %s", path, strerror(errno));
        else if (n == 0)
            break;
        else
            rc = cachet_hash_update(h, buf, (size_t)n);
    }
    if (rc == CACHET_OK)
        rc = cachet_hash_final(h, out);
    cachet_hash_free(h);
    close(fd);
    return rc;
}

static cachet_rc load_or_create_key(const char *path, bool create, cachet_pkey **key,
                                    bool *created)
{
    struct stat st;
    if (stat(path, &st) != 0 && errno == ENOENT) {
        if (!create)
            return cachet_err(AT_RC(NOT_FOUND), "sample: no key file %s", path);
        char *pem = NULL;
        cachet_rc rc = cachet_pkey_generate_ec(CACHET_CURVE_P256, key);
        if (rc == CACHET_OK)
            rc = cachet_pkey_private_pem(*key, &pem);
        if (rc == CACHET_OK)
            rc = cachet_file_write_atomic(path, pem, strlen(pem), 0600);
        if (pem) {
            memset(pem, 0, strlen(pem));
            free(pem);
        }
        if (rc != CACHET_OK) {
            cachet_pkey_free(*key);
            *key = NULL;
            return rc;
        }
        *created = true;
        return CACHET_OK;
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    cachet_rc rc = cachet_file_read(path, KEY_FILE_MAX, &buf, &len);
    if (rc != CACHET_OK)
        return rc;
    rc = cachet_pkey_parse_private(buf, len, key);
    memset(buf, 0, len);
    free(buf);
    if (rc != CACHET_OK)
        return cachet_err(rc, "sample: %s is not a PEM private key", path);
    if (!cachet_pkey_is_ec(*key, CACHET_CURVE_P256)) {
        cachet_pkey_free(*key);
        *key = NULL;
        return cachet_err(AT_RC(UNSUPPORTED), "sample: %s is not an EC P-256 key", path);
    }
    return CACHET_OK;
}

/* runtime (when given) must be the runtime data that report_data binds. */
static cachet_rc check_runtime(const uint8_t report_data[64], const char *runtime, size_t len)
{
    json_error_t err;
    json_t *rd = json_loadb(runtime, len, JSON_REJECT_DUPLICATES, &err);
    uint8_t want[CACHET_REPORT_DATA_LEN];
    cachet_rc rc = rd ? cachet_runtime_data_report_data(rd, want)
                      : cachet_err(AT_RC(INVALID_ARG), "sample: runtime data is not JSON");
    json_decref(rd);
    if (rc == CACHET_OK && memcmp(want, report_data, sizeof want) != 0)
        rc = cachet_err(AT_RC(INVALID_ARG), "sample: the runtime data does not hash to the "
                                            "report data");
    return rc;
}

static cachet_rc sa_collect_bound(void *impl, const uint8_t report_data[64],
                                  const char *runtime_data, size_t runtime_len,
                                  uint8_t **evidence, size_t *len)
{
    sa_impl *s = impl;
    if (runtime_len > SAMPLE_MAX_RUNTIME)
        return cachet_err(AT_RC(LIMIT), "sample: runtime data over %u bytes", SAMPLE_MAX_RUNTIME);
    if (runtime_len) {
        cachet_rc rc = check_runtime(report_data, runtime_data, runtime_len);
        if (rc != CACHET_OK)
            return rc;
    }
    sample_report r;
    memset(&r, 0, sizeof r);
    r.flags = s->debug ? SAMPLE_FLAG_DEBUG : 0;
    r.svn = s->svn;
    time_t now = time(NULL);
    r.timestamp = now > 0 ? (uint64_t)now : 0;
    memcpy(r.report_data, report_data, SAMPLE_REPORT_DATA_LEN);
    memcpy(r.measurement, s->measurement, SAMPLE_MEASUREMENT_LEN);
    r.runtime_data = (const uint8_t *)runtime_data;
    r.runtime_data_len = (uint32_t)runtime_len;
    return sample_build(&r, s->key, evidence, len);
}

static cachet_rc sa_collect(void *impl, const cachet_attest_request *req, uint8_t **evidence,
                            size_t *len)
{
    uint8_t rd[64];
    char *jcs = NULL;
    size_t jcs_len = 0;
    cachet_rc rc = attester_bind_request(req, rd, &jcs, &jcs_len);
    if (rc == CACHET_OK)
        rc = sa_collect_bound(impl, rd, jcs, jcs_len, evidence, len);
    free(jcs);
    return rc;
}

static void sa_close(void *impl)
{
    sa_impl *s = impl;
    if (!s)
        return;
    cachet_pkey_free(s->key);
    free(s);
}

static const cachet_attester_ops sa_ops = {
    .tee = "sample",
    .collect = sa_collect,
    .close = sa_close,
    .collect_bound = sa_collect_bound,
};

cachet_rc cachet_attester_sample_new(const cachet_sample_opts *opts, cachet_attester **out,
                                     bool *key_created)
{
    if (key_created)
        *key_created = false;
    if (!out || !opts || !opts->key_path)
        return cachet_err(AT_RC(INVALID_ARG), "sample: a key file is required");
    *out = NULL;
    sa_impl *s = calloc(1, sizeof *s);
    if (!s)
        return cachet_err(AT_RC(NOMEM), "sample: out of memory");
    s->svn = opts->svn;
    s->debug = opts->debug;
    bool created = false;
    cachet_rc rc = measure_file(opts->measured_path ? opts->measured_path : "/proc/self/exe",
                                s->measurement);
    if (rc == CACHET_OK)
        rc = load_or_create_key(opts->key_path, opts->create_key, &s->key, &created);
    if (rc != CACHET_OK) {
        sa_close(s);
        return rc;
    }
    if (key_created)
        *key_created = created;
    return cachet_attester_wrap(&sa_ops, s, out);
}
