/* Request binding and attribute I/O shared by cachet's report-data
 * attesters. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attester/binding.h"
#include "cachet/runtime_data.h"

cachet_rc attester_bind_request(const cachet_attest_request *req, uint8_t report_data[64],
                                char **runtime_jcs, size_t *jcs_len)
{
    if (runtime_jcs)
        *runtime_jcs = NULL;
    if (jcs_len)
        *jcs_len = 0;
    if (!req || !req->nonce || !req->nonce_len)
        return cachet_err(AT_RC(INVALID_ARG), "attester: a nonce is required (it is bound into "
                                              "the report data)");
    cachet_pkey *key = NULL;
    if (req->public_key_len &&
        cachet_pkey_parse_public(req->public_key, req->public_key_len, &key) != CACHET_OK)
        return cachet_err(AT_RC(INVALID_ARG), "attester: public_key is not a DER "
                                              "SubjectPublicKeyInfo");
    char *nonce = cachet_runtime_data_nonce_text(req->nonce, req->nonce_len);
    cachet_runtime_data_params p = {
        .nonce = nonce,
        .tee_pubkey = key,
        .user_data = req->user_data,
        .user_data_len = req->user_data_len,
    };
    json_t *rd = NULL;
    cachet_rc rc = nonce ? cachet_runtime_data_build(&p, &rd)
                         : cachet_err(AT_RC(NOMEM), "attester: out of memory");
    if (rc == CACHET_OK)
        rc = cachet_runtime_data_report_data(rd, report_data);
    if (rc == CACHET_OK && runtime_jcs)
        rc = cachet_jcs_dump(rd, runtime_jcs, jcs_len);
    json_decref(rd);
    free(nonce);
    cachet_pkey_free(key);
    return rc;
}

cachet_rc attester_read_all(const char *path, size_t max, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cachet_err(CACHET_RC(CACHET_SUB_ATTESTER,
                                    errno == ENOENT ? CACHET_E_NOT_FOUND : CACHET_E_IO),
                          "cannot open %s: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap + 1);
    cachet_rc rc = buf ? CACHET_OK : cachet_err(AT_RC(NOMEM), "out of memory");
    while (rc == CACHET_OK) {
        if (n == cap) {
            if (cap >= max) {
                rc = cachet_err(AT_RC(LIMIT), "%s is larger than %zu bytes", path, max);
                break;
            }
            size_t ncap = cap * 2 > max ? max : cap * 2;
            uint8_t *g = realloc(buf, ncap + 1);
            if (!g) {
                rc = cachet_err(AT_RC(NOMEM), "out of memory");
                break;
            }
            buf = g;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            rc = cachet_err(AT_RC(IO), "reading %s: %s", path, strerror(errno));
        else if (r == 0)
            break;
        else
            n += (size_t)r;
    }
    close(fd);
    if (rc != CACHET_OK) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return CACHET_OK;
}

cachet_rc attester_write_attr(const char *path, const void *buf, size_t len)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return cachet_err(CACHET_RC(CACHET_SUB_ATTESTER,
                                    errno == ENOENT ? CACHET_E_NOT_FOUND : CACHET_E_IO),
                          "cannot open %s: %s", path, strerror(errno));
    ssize_t w;
    do
        w = write(fd, buf, len);
    while (w < 0 && errno == EINTR);
    int saved = errno;
    if (close(fd) != 0 && w >= 0) {
        w = -1;
        saved = errno;
    }
    if (w < 0)
        return cachet_err(AT_RC(IO), "writing %s: %s", path, strerror(saved));
    if ((size_t)w != len)
        return cachet_err(AT_RC(IO), "writing %s: short write (%zd of %zu bytes)", path, w, len);
    return CACHET_OK;
}
