/* Helpers shared by the cmocka tests. Include after <cmocka.h>'s prerequisites. */
#ifndef CACHET_TESTUTIL_H
#define CACHET_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

/* Directory of the real evidence vectors ($CACHET_VECTORS, default
 * ../shared/vectors), or NULL when absent (a user's clone). */
const char *tu_vectors_dir(void);
/* Malloc'd "<vectors>/<rel>", or NULL when the vectors or that file are absent. */
char *tu_vector_path(const char *rel);
/* Inside a cmocka test: skip() with a message when the vectors are absent. */
#define TU_REQUIRE_VECTORS()                                                                \
    do {                                                                                    \
        if (!tu_vectors_dir()) {                                                            \
            print_message("# SKIP real vectors not found (set CACHET_VECTORS)\n");          \
            skip();                                                                         \
        }                                                                                   \
    } while (0)

/* Read a whole file (asserts on failure); caller frees. */
uint8_t *tu_read_file(const char *path, size_t *len);
/* Read a vector file relative to the vectors dir; NULL (and *len 0) when absent. */
uint8_t *tu_read_vector(const char *rel, size_t *len);
void tu_write_file(const char *path, const void *buf, size_t len);
/* A fresh private temp directory (malloc'd path), removed by tu_rmtree. */
char *tu_mkdtemp(void);
void tu_rmtree(const char *path);
/* Malloc'd printf. */
char *tu_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Path of the built `cachet` executable. */
const char *tu_cachet_exe(void);
/* Run a shell command; returns its exit status (or -1), output to out_path if given. */
int tu_system(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Run the built `cachet` with ARGS (printf-formatted shell words, which may
 * carry their own redirections and pipes) through /bin/sh, in directory cwd
 * (NULL: the current one).  Returns its exit status (or -1).  When out / err
 * are given they receive its stdout / stderr as malloc'd NUL-terminated
 * strings (caller frees); a stream not asked for goes to /dev/null. */
int tu_run_cachet_in(const char *cwd, char **out, char **err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* tu_run_cachet_in() in the current directory. */
int tu_run_cachet(char **out, char **err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Malloc'd NUL-terminated contents of the file at the printf-formatted path
 * (asserts on failure). */
char *tu_read_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
