/* Shared by the evidence benchmarks (bench_snp, bench_tdx, bench_nvgpu,
 * bench_nitro): the CPU clock, the timed verification loops and the
 * "key value" lines their bench/NAME.sh drivers read. */
#ifndef CACHET_BENCH_COMMON_H
#define CACHET_BENCH_COMMON_H

#include <stdbool.h>
#include <stddef.h>

#include "cachet/crypto.h"
#include "cachet/evidence.h"

/* bench_init flags. */
enum {
    /* A contraindicated result counts as a failed verification. */
    BENCH_REJECT_CONTRAINDICATED = 1u << 0,
};

/* Names the program in bench_die() messages and sets bench_verify_once()'s
 * acceptance rule. */
void bench_init(const char *name, unsigned flags);

/* Process CPU time in seconds, as `openssl speed` measures by default
 * (without -elapsed): on a shared machine wall time would charge us for
 * other processes' turns.  The benchmarks are single-threaded, so this is
 * per core. */
double bench_cpu_now(void);

/* "NAME: WHAT: <cachet_err_detail()>" on stderr, then exit(1). */
_Noreturn void bench_die(const char *what);

/* The SECONDS argument (argv[1]); 3 when absent or not positive. */
double bench_seconds(int argc, char **argv);

/* One verification; dies unless it verified (see bench_init's flags). */
void bench_verify_once(const cachet_evidence_ops *ops, const cachet_verify_request *req);

/* Verify in batches of `batch` for about `seconds` of CPU time; returns
 * verifications per second. */
double bench_run(const cachet_evidence_ops *ops, const cachet_verify_request *req,
                 double seconds, int batch);

/* The bare signature the in-process floor verifies (cachet_ecdsa_verify_raw). */
typedef struct bench_raw_sig {
    const cachet_pkey *key;
    cachet_hash_alg alg;
    const void *msg;
    size_t msg_len;
    const uint8_t *sig;
    size_t sig_len;
    cachet_endian order;
} bench_raw_sig;

/* The floor measured in this process: bare verifies of `raw`, interleaved
 * in short rounds with verifications so that both see the same machine
 * load.  Returns the verifications/floor ratio; *floor gets verifies/s. */
double bench_interleaved(const cachet_evidence_ops *ops, const cachet_verify_request *req,
                         const bench_raw_sig *raw, double seconds, double *floor);

/* "cold_UNIT_per_s", "warm_UNIT_per_s" and "warm_cache_hits" lines. */
void bench_print_rates(const char *unit, double cold, double warm,
                       const cachet_verify_cache *cache);
/* "inprocess_floor_per_s" and "interleaved_ratio" lines. */
void bench_print_floor(double floor, double ratio);

#endif
