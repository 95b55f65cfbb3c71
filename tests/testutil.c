#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cachet/fileio.h"

const char *tu_vectors_dir(void)
{
    static int probed;
    static char *dir;
    if (!probed) {
        probed = 1;
        const char *env = getenv("CACHET_VECTORS");
        const char *d = (env && *env) ? env : "../shared/vectors";
        char *manifest = tu_asprintf("%s/MANIFEST.md", d);
        if (access(manifest, R_OK) == 0)
            dir = strdup(d);
        free(manifest);
    }
    return dir;
}

char *tu_vector_path(const char *rel)
{
    const char *d = tu_vectors_dir();
    if (!d)
        return NULL;
    char *p = tu_asprintf("%s/%s", d, rel);
    if (access(p, R_OK) != 0) {
        free(p);
        return NULL;
    }
    return p;
}

uint8_t *tu_read_file(const char *path, size_t *len)
{
    uint8_t *buf = NULL;
    cachet_rc rc = cachet_file_read(path, (size_t)1 << 30, &buf, len);
    if (rc != CACHET_OK)
        fail_msg("cannot read %s: %s", path, cachet_rc_str(rc));
    return buf;
}

uint8_t *tu_read_vector(const char *rel, size_t *len)
{
    *len = 0;
    char *p = tu_vector_path(rel);
    if (!p)
        return NULL;
    uint8_t *b = tu_read_file(p, len);
    free(p);
    return b;
}

void tu_write_file(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

char *tu_mkdtemp(void)
{
    const char *base = getenv("TMPDIR");
    char *tmpl = tu_asprintf("%s/cachet-test-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpl))
        fail_msg("mkdtemp failed");
    return tmpl;
}

void tu_rmtree(const char *path)
{
    if (path && strstr(path, "cachet-test-"))
        tu_system("rm -rf '%s'", path);
}

char *tu_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    return s;
}

const char *tu_cachet_exe(void)
{
    static char *exe;
    if (!exe) {
        const char *b = getenv("CACHET_BUILD_DIR");
        exe = tu_asprintf("%s/src/cli/cachet", b && *b ? b : ".");
    }
    return exe;
}

int tu_system(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *cmd = NULL;
    if (vasprintf(&cmd, fmt, ap) < 0)
        abort();
    va_end(ap);
    int st = system(cmd);
    free(cmd);
    if (st == -1 || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

/* A fresh, empty temp file's malloc'd path, for capturing a stream. */
static char *capture_file(void)
{
    const char *base = getenv("TMPDIR");
    char *path = tu_asprintf("%s/cachet-test-XXXXXX", base && *base ? base : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0)
        fail_msg("mkstemp failed");
    close(fd);
    return path;
}

/* Contents of a capture file (then removed), or NULL when not asked for. */
static void take_capture(char *path, char **dst)
{
    if (!path)
        return;
    *dst = tu_read_text("%s", path);
    unlink(path);
    free(path);
}

__attribute__((format(printf, 4, 0)))
static int run_cachet_v(const char *cwd, char **out, char **err, const char *fmt, va_list ap)
{
    char *args = NULL;
    if (vasprintf(&args, fmt, ap) < 0)
        abort();
    char *o = out ? capture_file() : NULL, *e = err ? capture_file() : NULL;
    int st = tu_system("( %s%s%s'%s' %s ) >'%s' 2>'%s'", cwd ? "cd '" : "", cwd ? cwd : "",
                       cwd ? "' && " : "", tu_cachet_exe(), args, o ? o : "/dev/null",
                       e ? e : "/dev/null");
    free(args);
    take_capture(o, out);
    take_capture(e, err);
    return st;
}

int tu_run_cachet_in(const char *cwd, char **out, char **err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int st = run_cachet_v(cwd, out, err, fmt, ap);
    va_end(ap);
    return st;
}

int tu_run_cachet(char **out, char **err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int st = run_cachet_v(NULL, out, err, fmt, ap);
    va_end(ap);
    return st;
}

char *tu_read_text(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *path = NULL;
    if (vasprintf(&path, fmt, ap) < 0)
        abort();
    va_end(ap);
    size_t len = 0;
    char *s = (char *)tu_read_file(path, &len); /* NUL-terminated by cachet_file_read */
    free(path);
    return s;
}
