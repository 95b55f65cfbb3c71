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

#include "cachet/clock.h"
#include "cachet/evidence.h"
#include "cachet/fileio.h"
#include "evidence/registry.h"
#include "bench_common.h"
#ifdef BENCH_SNP_GEN
#include "snp_gen.h"
#endif

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
    bench_die("no VCEK/VLEK among the endorsements");
    return NULL;
}

int main(int argc, char **argv)
{
    bench_init("bench_snp", 0);
    double seconds = bench_seconds(argc, argv);
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
        bench_die("out of memory");

    if (argc > 3) {
        if (cachet_time_parse_rfc3339(argv[2], &req.time) != CACHET_OK)
            bench_die("bad time");
        if (cachet_file_read(argv[3], CACHET_EVIDENCE_MAX_FILE, &report, &report_len) != CACHET_OK)
            bench_die(argv[3]);
        for (int i = 4; i < argc; i++)
            if (cachet_endorsements_add_path(e, argv[i]) != CACHET_OK)
                bench_die(argv[i]);
        source = argv[3];
    } else {
#ifdef BENCH_SNP_GEN
        pki = snpgen_pki_new(SNP_PRODUCT_GENOA, NULL, NULL);
        if (!pki)
            bench_die("cannot mint a test PKI");
        snpgen_report g;
        snpgen_report_default(&g, SNP_PRODUCT_GENOA);
        report_len = SNP_REPORT_SIZE;
        report = malloc(report_len);
        if (!report)
            bench_die("out of memory");
        snpgen_encode(&g, report);
        cachet_pkey *k = testpki_key(pki->vcek);
        snpgen_sign(report, k);
        cachet_pkey_free(k);
        size_t der_len;
        const uint8_t *der = testpki_der(pki->vcek, &der_len);
        if (cachet_endorsements_add_bytes(e, "vcek.der", der, der_len) != CACHET_OK)
            bench_die("endorsement");
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
        bench_die("the benchmark report does not verify");
    printf("report %s (%s, %s)\n", source, r->tee,
           json_string_value(json_object_get(r->claims, "product")));
    cachet_verify_result_free(r);

    double cold = bench_run(ops, &req, seconds, 16);
    cachet_verify_cache *cache = cachet_verify_cache_new(16);
    if (!cache)
        bench_die("out of memory");
    req.cache = cache;
    double warm = bench_run(ops, &req, seconds, 16);
    double floor = 0;
    cachet_pkey *key = leaf_key(e);
    /* The floor: the report's signature (over its first 0x2A0 bytes) with the VCEK key. */
    bench_raw_sig raw = { key, CACHET_HASH_SHA384, report, 0x2A0, report + 0x2A0, 72,
                          CACHET_LITTLE_ENDIAN };
    double ratio = bench_interleaved(ops, &req, &raw, seconds, &floor);
    cachet_pkey_free(key);
    bench_print_rates("reports", cold, warm, cache);
    bench_print_floor(floor, ratio);

    cachet_verify_cache_free(cache);
    cachet_endorsements_free(e);
    free(report);
#ifdef BENCH_SNP_GEN
    snpgen_pki_free(pki);
#endif
    return 0;
}
