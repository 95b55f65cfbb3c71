/* Seal/unseal throughput on a large file, next to the AES-256-GCM floor that
 * bench/seal.sh measures with `openssl speed` in the same run.
 *
 *   bench_seal [-f WALL_GBPS] [-F CPU_GBPS] [-r REPS] [-c CHUNK] DIR SIZE_MIB
 *
 * Every unseal is timed end to end: open, key check, header tag, content
 * digest (checked against the pinned one), then every chunk authenticated
 * and decrypted.  Best of REPS runs, wall clock and process CPU time.
 * Destinations:
 *   buffer  caller memory already paged in (what the format itself costs)
 *   mapped  the same, decrypting from a mapping of the sealed file (opt-in)
 *   memfd   a fresh sealed memfd, the inference server's path
 *   file    a fresh file in DIR, linked in after the last chunk
 * Two more floors from the same run explain the memfd/file figures: copying
 * the sealed file into memory (pread, no crypto), and filling fresh memfd
 * pages (pwrite, no crypto). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cachet/fileio.h"
#include "cachet/seal.h"

typedef struct timing {
    double wall, cpu;
} timing;

static double wall_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu_now(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru); /* all threads */
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static timing start(void) { return (timing){wall_now(), cpu_now()}; }
static timing since(timing t0) { return (timing){wall_now() - t0.wall, cpu_now() - t0.cpu}; }
static void keep_best(timing *best, timing t)
{
    if (t.wall < best->wall)
        best->wall = t.wall;
    if (t.cpu < best->cpu)
        best->cpu = t.cpu;
}

static void die(const char *what, cachet_rc rc)
{
    fprintf(stderr, "bench_seal: %s: %s (%s)\n", what, cachet_rc_str(rc), cachet_err_detail());
    exit(1);
}

/* Incompressible-looking input, written in 1 MiB blocks. */
static void make_input(const char *path, uint64_t size)
{
    const size_t block = 1 << 20;
    uint8_t *buf = malloc(block);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || !buf) {
        perror(path);
        exit(1);
    }
    uint64_t x = 0x243f6a8885a308d3ull;
    for (size_t i = 0; i < block; i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memcpy(buf + i, &x, 8);
    }
    for (uint64_t off = 0; off < size; off += block) {
        size_t n = size - off < block ? (size_t)(size - off) : block;
        memcpy(buf, &off, sizeof off); /* every block distinct */
        if (cachet_fd_write_full(fd, buf, n) != CACHET_OK)
            die("writing the input", cachet_err_last());
    }
    close(fd);
    free(buf);
}

typedef enum { TO_BUFFER, TO_MAPPED, TO_MEMFD, TO_FILE } dest;

typedef struct bench {
    const char *sealed, *out;
    const cachet_seal_key *key;
    uint8_t digest[CACHET_SEAL_DIGEST_LEN];
    uint8_t *warm; /* paged-in destination for TO_BUFFER / TO_MAPPED */
    uint64_t size;
    int reps;
} bench;

static void unseal_once(const bench *b, unsigned threads, dest d)
{
    cachet_unseal_opts o = {.threads = threads, .map_input = d == TO_MAPPED};
    cachet_rc rc;
    if (d == TO_MEMFD) {
        int fd = -1;
        rc = cachet_seal_unseal_memfd(b->sealed, b->key, b->digest, &o, &fd, NULL);
        if (fd >= 0)
            close(fd);
    } else if (d == TO_FILE) {
        rc = cachet_seal_unseal_file(b->sealed, b->out, b->key, b->digest, &o, NULL);
        unlink(b->out);
    } else {
        cachet_seal_reader *r = NULL;
        rc = cachet_seal_reader_open(b->sealed, &r);
        if (rc == CACHET_OK)
            rc = cachet_seal_reader_unlock(r, b->key);
        if (rc == CACHET_OK)
            rc = cachet_seal_reader_expect_digest(r, b->digest);
        if (rc == CACHET_OK)
            rc = cachet_seal_reader_decrypt_buffer(r, b->warm, (size_t)b->size, &o);
        cachet_seal_reader_free(r);
    }
    if (rc != CACHET_OK)
        die("unseal", rc);
}

static timing best_unseal(const bench *b, unsigned threads, dest d)
{
    timing best = {1e30, 1e30};
    for (int i = 0; i < b->reps; i++) {
        timing t0 = start();
        unseal_once(b, threads, d);
        keep_best(&best, since(t0));
    }
    return best;
}

static timing best_seal(const bench *b, const char *in, uint32_t chunk, unsigned threads,
                        uint8_t *digest)
{
    timing best = {1e30, 1e30};
    for (int i = 0; i < b->reps; i++) {
        cachet_seal_params p = {.threads = threads, .chunk_size = chunk};
        timing t0 = start();
        cachet_rc rc = cachet_seal_file(b->key, &p, in, b->sealed, digest);
        keep_best(&best, since(t0));
        if (rc != CACHET_OK)
            die("seal", rc);
    }
    return best;
}

/* Floor: pread the sealed file into paged-in memory, chunk by chunk. */
static timing best_copy(const bench *b, uint32_t chunk)
{
    timing best = {1e30, 1e30};
    int fd = open(b->sealed, O_RDONLY | O_CLOEXEC);
    for (int i = 0; fd >= 0 && i < b->reps; i++) {
        timing t0 = start();
        for (uint64_t off = 0; off < b->size; off += chunk) {
            size_t n = b->size - off < chunk ? (size_t)(b->size - off) : chunk;
            if (cachet_fd_pread_full(fd, b->warm + off, n, off) != CACHET_OK)
                die("pread", cachet_err_last());
        }
        keep_best(&best, since(t0));
    }
    if (fd >= 0)
        close(fd);
    return best;
}

/* Floor: fill a fresh memfd from paged-in memory. */
static timing best_page_fill(const bench *b, uint32_t chunk)
{
    timing best = {1e30, 1e30};
    for (int i = 0; i < b->reps; i++) {
        timing t0 = start();
        int fd = memfd_create("bench", MFD_CLOEXEC);
        if (fd < 0 || ftruncate(fd, (off_t)b->size) != 0)
            die("memfd", CACHET_RC(CACHET_SUB_NONE, CACHET_E_IO));
        for (uint64_t off = 0; off < b->size; off += chunk) {
            size_t n = b->size - off < chunk ? (size_t)(b->size - off) : chunk;
            if (cachet_fd_pwrite_full(fd, b->warm + off, n, off) != CACHET_OK)
                die("pwrite", cachet_err_last());
        }
        close(fd);
        keep_best(&best, since(t0));
    }
    return best;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_seal [-f WALL_GBPS] [-F CPU_GBPS] [-r REPS] [-c CHUNK] DIR SIZE_MIB\n");
    exit(2);
}

int main(int argc, char **argv)
{
    double floor_wall = 0, floor_cpu = 0;
    uint32_t chunk = CACHET_SEAL_DEFAULT_CHUNK;
    bench b = {.reps = 3};
    int c;
    while ((c = getopt(argc, argv, "f:F:r:c:")) != -1) {
        switch (c) {
        case 'f': floor_wall = atof(optarg); break;
        case 'F': floor_cpu = atof(optarg); break;
        case 'r': b.reps = atoi(optarg); break;
        case 'c': chunk = (uint32_t)strtoul(optarg, NULL, 0); break;
        default: usage();
        }
    }
    if (argc - optind != 2 || b.reps < 1)
        usage();
    const char *dir = argv[optind];
    b.size = strtoull(argv[optind + 1], NULL, 10) << 20;
    char in[4096], sealed[4096], out[4096];
    snprintf(in, sizeof in, "%s/bench-seal.in", dir);
    snprintf(sealed, sizeof sealed, "%s/bench-seal.sealed", dir);
    snprintf(out, sizeof out, "%s/bench-seal.out", dir);
    b.sealed = sealed;
    b.out = out;

    make_input(in, b.size);
    cachet_seal_key *key = NULL;
    cachet_rc rc = cachet_seal_key_generate(&key);
    if (rc != CACHET_OK)
        die("key", rc);
    b.key = key;
    b.warm = malloc(b.size);
    if (!b.warm)
        die("malloc", CACHET_RC(CACHET_SUB_NONE, CACHET_E_NOMEM));
    memset(b.warm, 1, b.size); /* page it in: the buffer rows measure the format, not the VM */

    timing s1 = best_seal(&b, in, chunk, 1, b.digest);
    timing s2 = best_seal(&b, in, chunk, 2, b.digest);
    unlink(in);
    const struct row {
        const char *name;
        dest d;
    } rows[] = {{"", TO_BUFFER}, {".mapped", TO_MAPPED}, {".memfd", TO_MEMFD}, {".file", TO_FILE}};
    timing t[4][2];
    for (size_t i = 0; i < 4; i++) {
        t[i][0] = best_unseal(&b, 1, rows[i].d);
        t[i][1] = best_unseal(&b, 2, rows[i].d);
    }
    timing copy = best_copy(&b, chunk), fill = best_page_fill(&b, chunk);
    unlink(sealed);
    cachet_seal_key_free(key);
    free(b.warm);

    const double gb = (double)b.size / 1e9;
    printf("seal: %.2f GiB in %s, chunk %u KiB, best of %d; unseal end to end (open, key check, "
           "header, digest, every chunk)\n", (double)b.size / (1 << 30), dir, chunk >> 10, b.reps);
    printf("seal.seal.1thread            %5.2f GB/s\n", gb / s1.wall);
    printf("seal.seal.2threads           %5.2f GB/s  speedup %.2fx\n", gb / s2.wall, s1.wall / s2.wall);
    for (size_t i = 0; i < 4; i++) {
        char name[64];
        snprintf(name, sizeof name, "seal.unseal%s.1thread", rows[i].name);
        printf("%-28s %5.2f GB/s", name, gb / t[i][0].wall);
        if (floor_wall > 0)
            printf("  floor(openssl aes-256-gcm 16KiB) %.2f GB/s  ratio %.2f%s", floor_wall,
                   gb / t[i][0].wall / floor_wall, i == 0 ? " (target >= 0.85)" : "");
        if (floor_cpu > 0)
            printf("  [cpu time: %.2f GB/s vs %.2f, ratio %.2f]", gb / t[i][0].cpu, floor_cpu,
                   gb / t[i][0].cpu / floor_cpu);
        printf("\n");
        snprintf(name, sizeof name, "seal.unseal%s.2threads", rows[i].name);
        printf("%-28s %5.2f GB/s  speedup %.2fx%s\n", name, gb / t[i][1].wall,
               t[i][0].wall / t[i][1].wall, i == 0 ? " (target >= 1.7)" : "");
    }
    printf("floor.copy (pread sealed file into memory, no crypto)  %5.2f GB/s\n", gb / copy.wall);
    printf("floor.fresh_pages (pwrite into a new memfd, no crypto) %5.2f GB/s\n", gb / fill.wall);
    return 0;
}
