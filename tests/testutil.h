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

#endif
