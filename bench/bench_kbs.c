/* Key broker flows per second: an in-process broker on 127.0.0.1 (HTTP,
 * SQLite in a temp dir, sample evidence) and T client threads each running
 * auth -> attest -> resource -> decrypt until the deadline.
 *
 *   bench_kbs THREADS SECONDS
 *
 * Prints flows, errors, flows_per_s, p50_ms, p99_ms.  Bounded: at most 8
 * threads, 30 seconds, 200000 flows; loopback only. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cachet/attester.h"
#include "cachet/kbs.h"
#include "cachet/kbs_client.h"
#include "cachet/secmem.h"

#define MAX_FLOWS 200000
#define PATH "bench/model-key/k"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char url[64], key_path[256];
static double deadline;
static double lat[MAX_FLOWS];
static size_t n_lat;
static unsigned long errors;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg)
{
    (void)arg;
    cachet_attester *a = NULL;
    cachet_sample_opts so = {.key_path = key_path, .svn = 1};
    if (cachet_attester_sample_new(&so, &a, NULL) != CACHET_OK)
        return NULL;
    while (now_s() < deadline) {
        double t0 = now_s();
        uint8_t *sec = NULL;
        size_t len = 0;
        cachet_rc rc = cachet_kbs_fetch(url, a, PATH, NULL, &sec, &len);
        double dt = now_s() - t0;
        cachet_secure_free(sec);
        pthread_mutex_lock(&mu);
        if (rc != CACHET_OK)
            errors++;
        else if (n_lat < MAX_FLOWS)
            lat[n_lat++] = dt;
        bool full = n_lat >= MAX_FLOWS;
        pthread_mutex_unlock(&mu);
        if (full)
            break;
    }
    cachet_attester_free(a);
    return NULL;
}

static int cmp(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 4;
    int seconds = argc > 2 ? atoi(argv[2]) : 5;
    if (threads < 1 || threads > 8 || seconds < 1 || seconds > 30) {
        fprintf(stderr, "usage: bench_kbs THREADS(1..8) SECONDS(1..30)\n");
        return 2;
    }
    char dir[] = "/tmp/cachet-bench-kbs-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char db[128];
    snprintf(db, sizeof db, "%s/kbs.db", dir);
    snprintf(key_path, sizeof key_path, "%s/sample.pem", dir);
    uint8_t kek[CACHET_KBS_KEK_LEN];
    cachet_attester *a = NULL;
    cachet_sample_opts so = {.key_path = key_path, .create_key = true, .svn = 1};
    cachet_kbs_store *s = NULL;
    cachet_pkey *trust = NULL;
    cachet_kbs *k = NULL;
    int ret = 1;
    uint8_t *pem = NULL;
    FILE *f = NULL;
    if (cachet_random(kek, sizeof kek) != CACHET_OK ||
        cachet_attester_sample_new(&so, &a, NULL) != CACHET_OK ||
        !(f = fopen(key_path, "rb")))
        goto done;
    pem = calloc(1, 8192);
    size_t pl = pem ? fread(pem, 1, 8191, f) : 0;
    fclose(f);
    if (cachet_pkey_parse_private(pem, pl, &trust) != CACHET_OK ||
        cachet_kbs_store_open(db, kek, &s) != CACHET_OK ||
        cachet_kbs_store_set_policy(s, "attestation",
                                    "{\"rules\":[{\"name\":\"dev\",\"tee\":[\"sample\"],\"status\":"
                                    "[\"affirming\",\"warning\"],\"any_workload\":true}]}") != CACHET_OK ||
        cachet_kbs_store_set_policy(s, "resource",
                                    "{\"grants\":[{\"resources\":[\"bench/*/*\"],\"rules\":[\"dev\"],"
                                    "\"status\":[\"affirming\",\"warning\"]}]}") != CACHET_OK ||
        cachet_kbs_store_put(s, PATH, (const uint8_t *)"0123456789abcdef0123456789abcdef", 32) !=
            CACHET_OK)
        goto done;
    cachet_kbs_store_close(s);
    s = NULL;
    cachet_pkey *keys[1] = {trust};
    cachet_kbs_config cfg = {.listen = "127.0.0.1:0", .http = true, .db_path = db, .kek = kek,
                             .trust_keys = keys, .n_trust_keys = 1, .rate_limit = 1000000,
                             .rate_burst = 1000000};
    if (cachet_kbs_start(&cfg, &k) != CACHET_OK)
        goto done;
    snprintf(url, sizeof url, "http://127.0.0.1:%u", cachet_kbs_port(k));
    pthread_t th[8];
    double t0 = now_s();
    deadline = t0 + seconds;
    for (int i = 0; i < threads; i++)
        pthread_create(&th[i], NULL, worker, NULL);
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    double el = now_s() - t0;
    qsort(lat, n_lat, sizeof lat[0], cmp);
    printf("flows %zu\nerrors %lu\nflows_per_s %.1f\np50_ms %.2f\np99_ms %.2f\n", n_lat, errors,
           (double)n_lat / el, n_lat ? lat[n_lat / 2] * 1e3 : 0.0,
           n_lat ? lat[(n_lat * 99) / 100] * 1e3 : 0.0);
    ret = errors ? 1 : 0;
done:
    if (ret && !n_lat)
        fprintf(stderr, "bench_kbs: %s\n", cachet_err_detail());
    cachet_kbs_stop(k);
    cachet_kbs_store_close(s);
    cachet_pkey_free(trust);
    cachet_attester_free(a);
    free(pem);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_kbs: could not remove %s\n", dir);
    return ret;
}
