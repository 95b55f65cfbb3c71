/* Nitro attestation documents verified per second on one core.
 *
 *   bench_nitro [SECONDS] [DOCUMENT RFC3339-TIME]
 *
 * With a document (a real one: ../shared/vectors/nitro/...) it is verified
 * against the built-in AWS root at the given time; without one, a document
 * generated under a test PKI is used (only in builds with tests, which carry
 * the generator).  Two figures:
 *
 *   cold  every document verified from scratch: CBOR/COSE parse, leaf and
 *         intermediates parsed, the chain verified (one ECDSA P-384 verify
 *         per certificate below the root), the COSE signature (one more);
 *   warm  the same with a chain cache: a verifier that sees many documents
 *         from one leaf pays for its chain once, leaving one verify each.
 *
 * Output lines are "key value" for bench/nitro.sh to set next to
 * `openssl speed ecdsap384` from the same run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/clock.h"
#include "cachet/evidence.h"
#include "cachet/fileio.h"
#include "evidence/registry.h"
#include "bench_common.h"
#ifdef BENCH_NITRO_GEN
#include "nitro_gen.h"
#endif

/* Documents per CPU second over at least `seconds` of CPU time; -1 when one is not affirming. */
static double run(const cachet_evidence_ops *ops, const uint8_t *doc, size_t len, int64_t t,
                  cachet_verify_cache *cache, double seconds, size_t *chain_depth)
{
    cachet_verify_request req = { .evidence = doc, .evidence_len = len, .time = t,
                                  .cache = cache };
    size_t n = 0;
    double start = bench_cpu_now(), el = 0;
    do {
        for (int i = 0; i < 16; i++, n++) {
            cachet_verify_result *r = NULL;
            if (cachet_evidence_verify_with(ops, &req, &r) != CACHET_OK || !r ||
                r->status != CACHET_EV_AFFIRMING) {
                if (r) {
                    json_t *j = cachet_verify_result_to_json(r);
                    char *s = j ? json_dumps(json_object_get(j, "errors"), 0) : NULL;
                    fprintf(stderr, "bench_nitro: document not affirming: %s\n", s ? s : "?");
                    free(s);
                    json_decref(j);
                }
                cachet_verify_result_free(r);
                return -1;
            }
            if (chain_depth && !*chain_depth) {
                const cachet_check *c = cachet_checklog_find(r->checks, "nitro.cert.chain");
                unsigned k = 0;
                if (c && c->detail && sscanf(c->detail, "leaf → %u", &k) == 1)
                    *chain_depth = k + 1; /* certificates verified below the root */
            }
            cachet_verify_result_free(r);
        }
        el = bench_cpu_now() - start;
    } while (el < seconds);
    return (double)n / el;
}

int main(int argc, char **argv)
{
    double seconds = bench_seconds(argc, argv);
    uint8_t *doc = NULL;
    size_t len = 0;
    int64_t t = 0;
    const cachet_evidence_ops *ops = &cachet_nitro_ops;
    const char *source = NULL;
#ifdef BENCH_NITRO_GEN
    nitrogen_pki *pki = NULL;
#endif
    if (argc > 3) {
        if (cachet_file_read(argv[2], 1 << 20, &doc, &len) != CACHET_OK ||
            cachet_time_parse_rfc3339(argv[3], &t) != CACHET_OK) {
            fprintf(stderr, "bench_nitro: cannot read %s or parse %s\n", argv[2], argv[3]);
            return 2;
        }
        source = argv[2];
    } else {
#ifdef BENCH_NITRO_GEN
        pki = nitrogen_pki_new(NITROGEN_T0);
        nitrogen_doc d;
        if (pki) {
            nitrogen_doc_default(&d, pki, NITROGEN_T0);
            doc = nitrogen_encode(&d, &len);
        }
        if (!doc) {
            fprintf(stderr, "bench_nitro: cannot generate a document\n");
            return 2;
        }
        ops = &pki->ops;
        t = NITROGEN_T0;
        source = "generated (test PKI, 4-certificate bundle)";
#else
        fprintf(stderr, "usage: bench_nitro SECONDS DOCUMENT TIME (no generator in this build)\n");
        return 2;
#endif
    }
    size_t depth = 0;
    double cold = run(ops, doc, len, t, NULL, seconds, &depth);
    cachet_verify_cache *cache = cachet_verify_cache_new(64);
    double warm = cache ? run(ops, doc, len, t, cache, seconds, NULL) : -1;
    cachet_verify_cache_free(cache);
    int rc = cold > 0 && warm > 0 ? 0 : 1;
    if (rc == 0) {
        printf("document %s (%zu bytes)\n", source, len);
        printf("chain_certs_verified %zu\n", depth);
        printf("cold_docs_per_s %.1f\n", cold);
        printf("warm_docs_per_s %.1f\n", warm);
    }
    free(doc);
#ifdef BENCH_NITRO_GEN
    nitrogen_pki_free(pki);
#endif
    return rc;
}
