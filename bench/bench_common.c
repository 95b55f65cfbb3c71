#include "bench_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char *bench_name = "bench";
static unsigned bench_flags;

void bench_init(const char *name, unsigned flags)
{
    bench_name = name;
    bench_flags = flags;
}

double bench_cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void bench_die(const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", bench_name, what, cachet_err_detail());
    exit(1);
}

double bench_seconds(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 3.0;
    return seconds > 0 ? seconds : 3.0;
}

void bench_verify_once(const cachet_evidence_ops *ops, const cachet_verify_request *req)
{
    cachet_verify_result *r = NULL;
    if (cachet_evidence_verify_with(ops, req, &r) != CACHET_OK || !r->verified ||
        ((bench_flags & BENCH_REJECT_CONTRAINDICATED) &&
         r->status == CACHET_EV_CONTRAINDICATED))
        bench_die("a verification failed");
    cachet_verify_result_free(r);
}

double bench_run(const cachet_evidence_ops *ops, const cachet_verify_request *req,
                 double seconds, int batch)
{
    long n = 0;
    double t0 = bench_cpu_now(), t = t0;
    while (t - t0 < seconds) {
        for (int i = 0; i < batch; i++, n++)
            bench_verify_once(ops, req);
        t = bench_cpu_now();
    }
    return (double)n / (t - t0);
}

double bench_interleaved(const cachet_evidence_ops *ops, const cachet_verify_request *req,
                         const bench_raw_sig *raw, double seconds, double *floor)
{
    double t_full = 0, t_raw = 0;
    long n_full = 0, n_raw = 0;
    double end = bench_cpu_now() + seconds;
    while (bench_cpu_now() < end) {
        double t0 = bench_cpu_now();
        for (int i = 0; i < 8; i++)
            bench_verify_once(ops, req);
        double t1 = bench_cpu_now();
        for (int i = 0; i < 8; i++)
            if (cachet_ecdsa_verify_raw(raw->key, raw->alg, raw->msg, raw->msg_len, raw->sig,
                                        raw->sig_len, raw->order) != CACHET_OK)
                bench_die("raw verify failed");
        double t2 = bench_cpu_now();
        t_full += t1 - t0;
        t_raw += t2 - t1;
        n_full += 8;
        n_raw += 8;
    }
    *floor = (double)n_raw / t_raw;
    return ((double)n_full / t_full) / *floor;
}

void bench_print_rates(const char *unit, double cold, double warm,
                       const cachet_verify_cache *cache)
{
    printf("cold_%s_per_s %.1f\n", unit, cold);
    printf("warm_%s_per_s %.1f\n", unit, warm);
    printf("warm_cache_hits %zu\n", cachet_verify_cache_hits(cache));
}

void bench_print_floor(double floor, double ratio)
{
    printf("inprocess_floor_per_s %.1f\n", floor);
    printf("interleaved_ratio %.3f\n", ratio);
}
