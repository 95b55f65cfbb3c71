/* File helpers: bounded whole-file reads, atomic writes, full I/O loops. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cachet/fileio.h"

#define IOERR CACHET_RC(CACHET_SUB_UTIL, CACHET_E_IO)

cachet_rc cachet_fd_read_full(int fd, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return cachet_err(IOERR, "read: %s", strerror(errno));
        if (n == 0)
            return cachet_err(CACHET_RC(CACHET_SUB_UTIL, CACHET_E_TRUNCATED), "unexpected end of file");
        p += n;
        len -= (size_t)n;
    }
    return CACHET_OK;
}

cachet_rc cachet_fd_write_full(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return cachet_err(IOERR, "write: %s", n < 0 ? strerror(errno) : "no progress");
        p += n;
        len -= (size_t)n;
    }
    return CACHET_OK;
}

cachet_rc cachet_fd_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t n = pread(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return cachet_err(IOERR, "pread at %llu: %s", (unsigned long long)off, strerror(errno));
        if (n == 0)
            return cachet_err(CACHET_RC(CACHET_SUB_UTIL, CACHET_E_TRUNCATED),
                              "unexpected end of file at offset %llu", (unsigned long long)off);
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return CACHET_OK;
}

cachet_rc cachet_fd_pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return cachet_err(IOERR, "pwrite at %llu: %s", (unsigned long long)off,
                              n < 0 ? strerror(errno) : "no progress");
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return CACHET_OK;
}

cachet_rc cachet_file_read(const char *path, size_t max, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cachet_err(errno == ENOENT ? CACHET_RC(CACHET_SUB_UTIL, CACHET_E_NOT_FOUND) : IOERR,
                          "%s: %s", path, strerror(errno));
    struct stat st;
    cachet_rc rc = CACHET_OK;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = cachet_err(IOERR, "%s: not a regular file", path);
        goto out;
    }
    if ((uint64_t)st.st_size > max) {
        rc = cachet_err(CACHET_RC(CACHET_SUB_UTIL, CACHET_E_LIMIT), "%s: %lld bytes, limit %zu",
                        path, (long long)st.st_size, max);
        goto out;
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = malloc(n + 1);
    if (!buf) {
        rc = CACHET_RC(CACHET_SUB_UTIL, CACHET_E_NOMEM);
        goto out;
    }
    rc = cachet_fd_read_full(fd, buf, n);
    if (rc != CACHET_OK) {
        free(buf);
        goto out;
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
out:
    close(fd);
    return rc;
}

cachet_rc cachet_path_replaceable(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return errno == ENOENT ? CACHET_OK : cachet_err(IOERR, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return cachet_err(IOERR, "%s exists and is not a regular file: outputs are written to a "
                                 "new file and renamed into place, which would replace it", path);
    return CACHET_OK;
}

cachet_rc cachet_file_write_atomic(const char *path, const void *buf, size_t len, unsigned mode)
{
    cachet_rc prc = cachet_path_replaceable(path);
    if (prc != CACHET_OK)
        return prc;
    char *tmp = NULL;
    if (asprintf(&tmp, "%s.tmp-XXXXXX", path) < 0)
        return CACHET_RC(CACHET_SUB_UTIL, CACHET_E_NOMEM);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        cachet_rc rc = cachet_err(IOERR, "%s: %s", tmp, strerror(errno));
        free(tmp);
        return rc;
    }
    cachet_rc rc = CACHET_OK;
    if (fchmod(fd, (mode_t)mode) != 0)
        rc = cachet_err(IOERR, "chmod %s: %s", tmp, strerror(errno));
    if (rc == CACHET_OK)
        rc = cachet_fd_write_full(fd, buf, len);
    if (rc == CACHET_OK && fsync(fd) != 0)
        rc = cachet_err(IOERR, "fsync %s: %s", tmp, strerror(errno));
    if (close(fd) != 0 && rc == CACHET_OK)
        rc = cachet_err(IOERR, "close %s: %s", tmp, strerror(errno));
    if (rc == CACHET_OK && rename(tmp, path) != 0)
        rc = cachet_err(IOERR, "rename to %s: %s", path, strerror(errno));
    if (rc != CACHET_OK)
        unlink(tmp);
    free(tmp);
    return rc;
}

int64_t cachet_cache_not_before(const char *dir, const char *name)
{
    char *p = NULL;
    uint8_t *b = NULL;
    size_t n = 0;
    int64_t t = 0;
    if (!dir || asprintf(&p, "%s/%s", dir, name) < 0)
        return 0;
    if (cachet_file_read(p, 64, &b, &n) == CACHET_OK) {
        char *end = NULL;
        long long v = strtoll((const char *)b, &end, 10);
        if (end != (const char *)b && v > 0)
            t = (int64_t)v;
    }
    free(b);
    free(p);
    return t;
}

void cachet_cache_set_not_before(const char *dir, const char *name, int64_t t)
{
    char *p = NULL, num[32];
    if (!dir || asprintf(&p, "%s/%s", dir, name) < 0)
        return;
    int n = snprintf(num, sizeof num, "%lld\n", (long long)t);
    (void)mkdir(dir, 0700); /* best effort: the fetch itself already succeeded or failed */
    (void)cachet_file_write_atomic(p, num, (size_t)n, 0600);
    free(p);
}
