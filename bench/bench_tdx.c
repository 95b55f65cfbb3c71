/* Intel TDX/SGX quotes verified per second on one core.
 *
 *   bench_tdx [SECONDS] [RFC3339-TIME QUOTE ENDORSEMENT...]
 *
 * With a quote (a real one: ../shared/vectors/tdx/...) it is verified against
 * the built-in Intel SGX Root CA with the given collateral at the given time;
 * without one, a quote and collateral generated under a test PKI are used
 * (only in builds with tests, which carry the generator).  Two figures:
 *
 *   cold  every quote verified from scratch: parse, PCK chain, both CRLs,
 *         SGX extension, TCB info and QE identity (signing chains and
 *         signatures over the served bytes), QE report signature and
 *         binding, quote signature, TCB level matching, claims;
 *   warm  the same with a verify cache, as a verifier that sees many quotes
 *         from one platform runs: the platform (everything the PCK, the QE
 *         report and the collateral establish) is verified once and found
 *         again by the digest of the exact bytes, leaving the quote's own
 *         ECDSA P-256 signature, the TCB matching and the claims.
 *
 * Output lines are "key value" for bench/tdx.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/clock.h"
#include "cachet/evidence.h"
#include "cachet/fileio.h"
#include "evidence/registry.h"
#include "bench_common.h"
#ifdef BENCH_TDX_GEN
#include "tdx_gen.h"
#endif

/* Signature checks on the cold path, from the check log: every pass of a
 * *.signature check, plus the certificates each verified chain checked
 * (PCK chain: leaf and PCK CA; each TCB signing chain: the signer), plus
 * the CRLs. */
static int cold_verifies(const cachet_verify_result *r)
{
    int n = 0;
    for (size_t i = 0; i < cachet_checklog_count(r->checks); i++) {
        const cachet_check *c = cachet_checklog_get(r->checks, i);
        if (c->result != CACHET_CHECK_PASS)
            continue;
        const char *dot = strchr(c->id, '.');
        const char *id = dot ? dot + 1 : c->id;
        if (strstr(id, ".signature"))
            n++;
        else if (strcmp(id, "pck.chain") == 0)
            n += 2;
        else if (strcmp(id, "tcb_info.chain") == 0 || strcmp(id, "qe_identity.chain") == 0)
            n += 1;
        else if (strcmp(id, "crl.root") == 0 || strcmp(id, "crl.pck") == 0)
            n += 1;
    }
    return n;
}

int main(int argc, char **argv)
{
    bench_init("bench_tdx", 0);
    double seconds = bench_seconds(argc, argv);
    uint8_t *quote = NULL;
    size_t quote_len = 0;
    cachet_endorsements *e = NULL;
    const cachet_evidence_ops *ops = NULL;
    cachet_verify_request req = { 0 };
    const char *source;
#ifdef BENCH_TDX_GEN
    tdxgen *g = NULL;
#endif

    if (argc > 3) {
        if (cachet_time_parse_rfc3339(argv[2], &req.time) != CACHET_OK)
            bench_die("bad time");
        if (cachet_file_read(argv[3], CACHET_EVIDENCE_MAX_FILE, &quote, &quote_len) != CACHET_OK)
            bench_die(argv[3]);
        e = cachet_endorsements_new();
        if (!e)
            bench_die("out of memory");
        for (int i = 4; i < argc; i++)
            if (cachet_endorsements_add_path(e, argv[i]) != CACHET_OK)
                bench_die(argv[i]);
        ops = cachet_evidence_detect(quote, quote_len);
        if (!ops)
            bench_die("not a DCAP quote");
        source = argv[3];
    } else {
#ifdef BENCH_TDX_GEN
        g = tdxgen_new(NULL);
        tdxgen_quote_opts o;
        tdxgen_quote_defaults(&o);
        quote = tdxgen_quote(g, &o, &quote_len);
        e = tdxgen_endorsements(g, true);
        ops = &g->tdx_ops;
        req.time = TDXGEN_T0;
        source = "generated (test PKI)";
#else
        fprintf(stderr, "bench_tdx: no quote given and this build has no generator "
                        "(configure with -Dtests=true)\n");
        return 2;
#endif
    }
    req.evidence = quote;
    req.evidence_len = quote_len;
    req.endorsements = e;

    cachet_verify_result *r = NULL;
    if (cachet_evidence_verify_with(ops, &req, &r) != CACHET_OK || !r->verified ||
        r->status == CACHET_EV_CONTRAINDICATED)
        bench_die("the benchmark quote does not verify");
    printf("quote %s (%s, %s, tcb_status %s)\n", source, r->tee,
           json_string_value(json_object_get(r->claims, "quote_body")),
           json_string_value(json_object_get(r->claims, "tcb_status")));
    printf("cold_p256_verifies %d\n", cold_verifies(r));
    cachet_verify_result_free(r);

    double cold = bench_run(ops, &req, seconds, 16);
    cachet_verify_cache *cache = cachet_verify_cache_new(16);
    if (!cache)
        bench_die("out of memory");
    req.cache = cache;
    double warm = bench_run(ops, &req, seconds, 16);
    printf("warm_p256_verifies 1\n");
    bench_print_rates("quotes", cold, warm, cache);

    cachet_verify_cache_free(cache);
    cachet_endorsements_free(e);
    free(quote);
#ifdef BENCH_TDX_GEN
    tdxgen_free(g);
#endif
    return 0;
}
