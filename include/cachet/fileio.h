/* Small, careful file helpers. */
#ifndef CACHET_FILEIO_H
#define CACHET_FILEIO_H

#include <stddef.h>
#include <stdint.h>

#include "cachet/rc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Read a whole regular file of at most max bytes into a malloc'd buffer
 * (NUL-terminated one byte past *len for convenience). */
cachet_rc cachet_file_read(const char *path, size_t max, uint8_t **out, size_t *len);
/* CACHET_OK when path does not exist or is a regular file (or a link to
 * one): something an atomic rename may replace.  A device, FIFO, socket or
 * directory is refused, so that `--out /dev/null` run as root can never
 * replace /dev/null with a file. */
cachet_rc cachet_path_replaceable(const char *path);
/* Write atomically: temp file in the same directory, fsync, rename.
 * Refuses a path that cachet_path_replaceable() refuses. */
cachet_rc cachet_file_write_atomic(const char *path, const void *buf, size_t len, unsigned mode);
/* A rate-limit deadline (Unix seconds) kept in DIR/NAME by the collateral
 * fetchers when a server answers 429/503 with Retry-After: 0 when dir is
 * NULL or the file is absent or unreadable.  Writing is best effort
 * (creates dir 0700, file 0600, atomically). */
int64_t cachet_cache_not_before(const char *dir, const char *name);
void cachet_cache_set_not_before(const char *dir, const char *name, int64_t t);
/* Full read/write loops over a descriptor, retrying on EINTR and short I/O. */
cachet_rc cachet_fd_read_full(int fd, void *buf, size_t len);
cachet_rc cachet_fd_write_full(int fd, const void *buf, size_t len);
cachet_rc cachet_fd_pread_full(int fd, void *buf, size_t len, uint64_t off);
cachet_rc cachet_fd_pwrite_full(int fd, const void *buf, size_t len, uint64_t off);

#ifdef __cplusplus
}
#endif
#endif
