/* Output files that appear under their name only when complete.
 *
 * Preferred: an O_TMPFILE in the target directory, which has no name at all
 * until commit links it in, so even a crash or SIGKILL mid-way leaves
 * nothing behind.  Fallback (filesystems without O_TMPFILE): a hidden
 * temporary name that abort unlinks. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cachet/encoding.h"
#include "cachet/fileio.h"
#include "seal/seal_int.h"

static char *dir_of(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return NULL;
    char *d = strdup(dirname(copy));
    free(copy);
    return d;
}

/* ".<base>.cachet-<random>" next to path. */
static char *temp_name(const char *path)
{
    char *copy = strdup(path), *dir = dir_of(path);
    char *out = NULL;
    uint8_t rnd[6];
    char hex[2 * sizeof rnd + 1];
    if (copy && dir && cachet_random(rnd, sizeof rnd) == CACHET_OK) {
        cachet_hex_encode(rnd, sizeof rnd, hex);
        if (asprintf(&out, "%s/.%s.cachet-%s", dir, basename(copy), hex) < 0)
            out = NULL;
    }
    free(copy);
    free(dir);
    return out;
}

cachet_rc seal_outfile_create(seal_outfile *o, const char *path, mode_t mode)
{
    *o = (seal_outfile){.fd = -1};
    if (cachet_path_replaceable(path) != CACHET_OK) {
        char why[320]; /* the detail buffer is about to be rewritten */
        snprintf(why, sizeof why, "%s", cachet_err_detail());
        return seal_err(IO, "%s", why);
    }
    o->path = strdup(path);
    char *dir = dir_of(path);
    if (!o->path || !dir) {
        free(dir);
        seal_outfile_abort(o);
        return seal_err(NOMEM, "out of memory");
    }
    o->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, mode);
    int tmpfile_errno = errno;
    free(dir);
    if (o->fd >= 0)
        return CACHET_OK;
    if (tmpfile_errno != EOPNOTSUPP && tmpfile_errno != EISDIR && tmpfile_errno != EINVAL)
        return seal_err(IO, "%s: cannot create a file in its directory: %s", path,
                        strerror(tmpfile_errno));

    for (int attempt = 0; attempt < 16 && o->fd < 0; attempt++) {
        free(o->tmp_path);
        o->tmp_path = temp_name(path);
        if (!o->tmp_path)
            break;
        o->fd = open(o->tmp_path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (o->fd < 0 && errno != EEXIST) {
            cachet_rc rc = seal_err(IO, "%s: %s", o->tmp_path, strerror(errno));
            free(o->tmp_path);
            o->tmp_path = NULL;
            return rc;
        }
    }
    if (o->fd < 0) {
        free(o->tmp_path);
        o->tmp_path = NULL;
        return seal_err(IO, "%s: cannot create a temporary file next to it", path);
    }
    return CACHET_OK;
}

/* Give the unnamed file a (temporary) name: linkat through /proc, since
 * AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH. */
static cachet_rc link_tmpfile(seal_outfile *o)
{
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", o->fd);
    for (int attempt = 0; attempt < 16; attempt++) {
        char *name = temp_name(o->path);
        if (!name)
            return seal_err(NOMEM, "out of memory");
        if (linkat(AT_FDCWD, proc, AT_FDCWD, name, AT_SYMLINK_FOLLOW) == 0) {
            o->tmp_path = name;
            return CACHET_OK;
        }
        int e = errno;
        free(name);
        if (e != EEXIST)
            return seal_err(IO, "%s: cannot link the finished file: %s", o->path, strerror(e));
    }
    return seal_err(IO, "%s: cannot find a free temporary name", o->path);
}

cachet_rc seal_outfile_commit(seal_outfile *o)
{
    if (o->fd < 0)
        return seal_err(STATE, "output file is not open");
    if (fsync(o->fd) != 0)
        return seal_err(IO, "%s: fsync: %s", o->path, strerror(errno));
    cachet_rc rc = CACHET_OK;
    if (!o->tmp_path)
        rc = link_tmpfile(o);
    /* rename replaces any previous file atomically. */
    if (rc == CACHET_OK && rename(o->tmp_path, o->path) != 0)
        rc = seal_err(IO, "%s: rename into place: %s", o->path, strerror(errno));
    if (rc != CACHET_OK)
        return rc; /* abort will unlink the temporary name */
    free(o->tmp_path);
    o->tmp_path = NULL;
    if (close(o->fd) != 0) {
        o->fd = -1;
        return seal_err(IO, "%s: close: %s", o->path, strerror(errno));
    }
    o->fd = -1;
    free(o->path);
    o->path = NULL;
    return CACHET_OK;
}

void seal_outfile_abort(seal_outfile *o)
{
    if (!o)
        return;
    if (o->tmp_path)
        unlink(o->tmp_path);
    if (o->fd >= 0)
        close(o->fd);
    free(o->tmp_path);
    free(o->path);
    *o = (seal_outfile){.fd = -1};
}
