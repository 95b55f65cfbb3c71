/* The fake configfs-tsm report directory (fake_tsm.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fake_tsm.h"

#define WAIT_MS_DEFAULT 5000
#define WAIT_MS(f) ((int)((f)->cfg.timeout_ms ? (f)->cfg.timeout_ms : WAIT_MS_DEFAULT))

struct fake_tsm {
    fake_tsm_cfg cfg;
    char dir[512];
    pthread_t thread;
    bool started;
    uint8_t inblob[128];
    size_t inblob_len;
    unsigned served;
    unsigned long long generation;
};

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int write_file(const char *dir, const char *name, const void *buf, size_t len)
{
    char path[600], tmp[620];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    ssize_t w = len ? write(fd, buf, len) : 0;
    close(fd);
    if (w != (ssize_t)len)
        return -1;
    return rename(tmp, path); /* the attester never sees a half-written value */
}

static int write_generation(fake_tsm *f)
{
    char g[32];
    int n = snprintf(g, sizeof g, "%llu\n", f->generation);
    return write_file(f->dir, "generation", g, (size_t)n);
}

/* Read what a writer puts into the inblob FIFO (until it closes). */
static bool read_inblob(fake_tsm *f)
{
    char path[600];
    snprintf(path, sizeof path, "%s/inblob", f->dir);
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0)
        return false;
    size_t got = 0;
    for (int waited = 0; waited < WAIT_MS(f);) {
        ssize_t r = read(fd, f->inblob + got, sizeof f->inblob - got);
        if (r > 0) {
            got += (size_t)r;
            if (got == sizeof f->inblob)
                break;
            continue;
        }
        if (r == 0 && got > 0)
            break; /* the writer closed */
        sleep_ms(1);
        waited++;
    }
    close(fd);
    f->inblob_len = got;
    return got > 0;
}

/* Serve the report through the outblob FIFO once a reader opens it. */
static bool serve_outblob(fake_tsm *f)
{
    char path[600];
    snprintf(path, sizeof path, "%s/outblob", f->dir);
    int fd = -1;
    for (int waited = 0; fd < 0 && waited < WAIT_MS(f); waited++) {
        fd = open(path, O_WRONLY | O_NONBLOCK);
        if (fd < 0 && errno != ENXIO)
            return false;
        if (fd < 0)
            sleep_ms(1);
    }
    if (fd < 0)
        return false;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    size_t off = 0;
    while (off < f->cfg.outblob_len) {
        ssize_t w = write(fd, f->cfg.outblob + off, f->cfg.outblob_len - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    close(fd);
    return off == f->cfg.outblob_len;
}

static void *server(void *arg)
{
    fake_tsm *f = arg;
    unsigned n = f->cfg.requests ? f->cfg.requests : 1;
    for (unsigned i = 0; i < n; i++) {
        if (!read_inblob(f))
            return NULL;
        /* configfs bumps the generation on each write; a racing writer adds more */
        f->generation += 1 + f->cfg.racing_writes;
        if (write_generation(f) != 0 || !serve_outblob(f))
            return NULL;
        f->served++;
    }
    return NULL;
}

fake_tsm *fake_tsm_new(const fake_tsm_cfg *cfg)
{
    fake_tsm *f = calloc(1, sizeof *f);
    if (f)
        f->cfg = *cfg;
    return f;
}

int fake_tsm_mkdir(const char *path, unsigned mode, void *arg)
{
    fake_tsm *f = arg;
    if (mkdir(path, (mode_t)mode) != 0)
        return -1;
    snprintf(f->dir, sizeof f->dir, "%s", path);
    char p[600], prov[64];
    int n = snprintf(prov, sizeof prov, "%s\n", f->cfg.provider);
    if (write_file(f->dir, "provider", prov, (size_t)n) != 0 || write_generation(f) != 0)
        return -1;
    if (f->cfg.auxblob && write_file(f->dir, "auxblob", f->cfg.auxblob, f->cfg.auxblob_len) != 0)
        return -1;
    snprintf(p, sizeof p, "%s/inblob", f->dir);
    if (mkfifo(p, 0600) != 0)
        return -1;
    snprintf(p, sizeof p, "%s/outblob", f->dir);
    if (mkfifo(p, 0600) != 0)
        return -1;
    if (pthread_create(&f->thread, NULL, server, f) != 0)
        return -1;
    f->started = true;
    return 0;
}

void fake_tsm_join(fake_tsm *f)
{
    if (f && f->started) {
        pthread_join(f->thread, NULL);
        f->started = false;
    }
}

const uint8_t *fake_tsm_inblob(const fake_tsm *f, size_t *len)
{
    *len = f->inblob_len;
    return f->inblob;
}

unsigned fake_tsm_served(const fake_tsm *f) { return f->served; }

void fake_tsm_free(fake_tsm *f)
{
    fake_tsm_join(f);
    free(f);
}
