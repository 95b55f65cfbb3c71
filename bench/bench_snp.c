/* SEV-SNP reports verified per second on one core.
 *
 *   bench_snp [SECONDS] [RFC3339-TIME REPORT ENDORSEMENT...]
 *
 * With a report (a real one: ../shared/vectors/snp/...) it is verified
 * against the built-in AMD roots at the given time; without one, a report
 * generated under a test PKI is used (only in builds with tests, which carry
 * the generator).  Two figures:
 *
 *   cold  every report verified from scratch: parse, VCEK extensions, the
 *         chain VCEK -> ASK -> ARK (RSA-PSS), the report signature;
 *   warm  the same with a chain cache, as a verifier that sees many reports
 *         from one machine runs: the chain is verified once, leaving the one
 *         ECDSA P-384 verify per report that nothing can avoid.
 *
 * Everything else a verification does (parsing, claims, the check log; the
 * JSON a caller would print is not included) runs every time.  A third
 * figure interleaves warm verifications with bare ECDSA verifies of the same
 * signature in short rounds, a floor measured under the same load.  Output
 * lines are "key value" for bench/snp.sh to set next to `openssl speed`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cachet/clock.h"
#include "cachet/evidence.h"
#include "cachet/fileio.h"
#include "evidence/registry.h"
#ifdef BENCH_SNP_GEN
#include "snp_gen.h"
#endif

/* Process CPU time, as `openssl speed` measures by default (without
 * -elapsed): on a shared machine wall time would charge us for other
 * processes' turns.  The benchmark is single-threaded, so this is per core. */
static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_snp: %s: %s\n", what, cachet_err_detail());
    exit(1);
}

/* Verify repeatedly for about `seconds`; returns reports per second. */
static double run(const cachet_evidence_ops *ops, cachet_verify_request *req, double seconds)
{
    long n = 0;
    double t0 = now(), t = t0;
    while (t - t0 < seconds) {
        for (int i = 0; i < 16; i++) {
            cachet_verify_result *r = NULL;
            if (cachet_evidence_verify_with(ops, req, &r) != CACHET_OK || !r->verified)
                die("a verification failed");
            cachet_verify_result_free(r);
            n++;
        }
        t = now();
    }
    return (double)n / (t - t0);
}

/* The floor measured in this process: one raw ECDSA P-384 verify of the
 * report's signature with the VCEK key (what cachet_ecdsa_verify_raw costs),
 * interleaved in short rounds with warm verifications so that both see the
 * same machine load.  Returns the warm/floor ratio; *floor gets verifies/s. */
static double interleaved(const cachet_evidence_ops *ops, cachet_verify_request *req,
                          const cachet_pkey *key, double seconds, double *floor)
{
    double t_full = 0, t_raw = 0;
    long n_full = 0, n_raw = 0;
    double end = now() + seconds;
    while (now() < end) {
        double t0 = now();
        for (int i = 0; i < 8; i++) {
            cachet_verify_result *r = NULL;
            if (cachet_evidence_verify_with(ops, req, &r) != CACHET_OK || !r->verified)
                die("a verification failed");
            cachet_verify_result_free(r);
        }
        double t1 = now();
        for (int i = 0; i < 8; i++)
            if (cachet_ecdsa_verify_raw(key, CACHET_HASH_SHA384, req->evidence, 0x2A0,
                                        req->evidence + 0x2A0, 72, CACHET_LITTLE_ENDIAN) !=
                CACHET_OK)
                die("raw verify failed");
        double t2 = now();
        t_full += t1 - t0;
        t_raw += t2 - t1;
        n_full += 8;
        n_raw += 8;
    }
    *floor = (double)n_raw / t_raw;
    return ((double)n_full / t_full) / *floor;
}

/* The public key of the first SEV-VCEK/SEV-VLEK certificate among e. */
static cachet_pkey *leaf_key(const cachet_endorsements *e)
{
    for (size_t i = 0; i < cachet_endorsements_count(e); i++) {
        const cachet_endorsement *en = cachet_endorsements_get(e, i);
        for (size_t j = 0; en->kind == CACHET_ENDORSEMENT_CERTS && j < en->n_certs; j++) {
            char cn[64];
            cachet_pkey *k = NULL;
            if (cachet_x509_subject_cn(en->certs[j], cn, sizeof cn) == CACHET_OK &&
                strncmp(cn, "SEV-V", 5) == 0 &&
                cachet_x509_public_key(en->certs[j], &k) == CACHET_OK)
                return k;
        }
    }
    die("no VCEK/VLEK among the endorsements");
    return NULL;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 3.0;
    if (seconds <= 0)
        seconds = 3.0;
    uint8_t *report = NULL;
    size_t report_len = 0;
    cachet_endorsements *e = cachet_endorsements_new();
    const cachet_evidence_ops *ops = &cachet_snp_ops;
    cachet_verify_request req = { 0 };
    const char *source;
#ifdef BENCH_SNP_GEN
    snpgen_pki *pki = NULL;
#endif
    if (!e)
        die("out of memory");

    if (argc > 3) {
        if (cachet_time_parse_rfc3339(argv[2], &req.time) != CACHET_OK)
            die("bad time");
        if (cachet_file_read(argv[3], CACHET_EVIDENCE_MAX_FILE, &report, &report_len) != CACHET_OK)
            die(argv[3]);
        for (int i = 4; i < argc; i++)
            if (cachet_endorsements_add_path(e, argv[i]) != CACHET_OK)
                die(argv[i]);
        source = argv[3];
    } else {
#ifdef BENCH_SNP_GEN
        pki = snpgen_pki_new(SNP_PRODUCT_GENOA, NULL, NULL);
        if (!pki)
            die("cannot mint a test PKI");
        snpgen_report g;
        snpgen_report_default(&g, SNP_PRODUCT_GENOA);
        report_len = SNP_REPORT_SIZE;
        report = malloc(report_len);
        if (!report)
            die("out of memory");
        snpgen_encode(&g, report);
        cachet_pkey *k = testpki_key(pki->vcek);
        snpgen_sign(report, k);
        cachet_pkey_free(k);
        size_t der_len;
        const uint8_t *der = testpki_der(pki->vcek, &der_len);
        if (cachet_endorsements_add_bytes(e, "vcek.der", der, der_len) != CACHET_OK)
            die("endorsement");
        ops = &pki->ops;
        req.time = SNPGEN_TIME;
        source = "generated (test PKI, P-384 chain)";
#else
        fprintf(stderr, "bench_snp: no report given and this build has no generator "
                        "(configure with -Dtests=true)\n");
        return 2;
#endif
    }
    req.evidence = report;
    req.evidence_len = report_len;
    req.endorsements = e;

    /* One verification first: it must be authentic, or the figures mean nothing. */
    cachet_verify_result *r = NULL;
    if (cachet_evidence_verify_with(ops, &req, &r) != CACHET_OK || !r->verified)
        die("the benchmark report does not verify");
    printf("report %s (%s, %s)\n", source, r->tee,
           json_string_value(json_object_get(r->claims, "product")));
    cachet_verify_result_free(r);

    double cold = run(ops, &req, seconds);
    cachet_verify_cache *cache = cachet_verify_cache_new(16);
    if (!cache)
        die("out of memory");
    req.cache = cache;
    double warm = run(ops, &req, seconds);
    double floor = 0;
    cachet_pkey *key = leaf_key(e);
    double ratio = interleaved(ops, &req, key, seconds, &floor);
    cachet_pkey_free(key);
    printf("cold_reports_per_s %.1f\n", cold);
    printf("warm_reports_per_s %.1f\n", warm);
    printf("warm_cache_hits %zu\n", cachet_verify_cache_hits(cache));
    printf("inprocess_floor_per_s %.1f\n", floor);
    printf("interleaved_ratio %.3f\n", ratio);

    cachet_verify_cache_free(cache);
    cachet_endorsements_free(e);
    free(report);
#ifdef BENCH_SNP_GEN
    snpgen_pki_free(pki);
#endif
    return 0;
}
