/* NVIDIA GPU reports verified per second on one core.
 *
 *   bench_nvgpu [SECONDS] [RFC3339-TIME NONCE-HEX REPORT ENDORSEMENT...]
 *
 * With a report (a real one: ../shared/vectors/nvgpu/h100_545.00_... with
 * its chain and both RIMs) it is verified against the built-in NVIDIA roots
 * at the given time; without one, a report, chain and RIMs generated under a
 * test PKI (builds with tests only).  Figures:
 *
 *   cold  every report verified from scratch: the device chain (5 P-384
 *         certificates), both RIMs (libxml2 parse, XML C14N 1.1 + ECDSA-SHA384
 *         signature with xmlsec, their signing chains), the report signature
 *         and the measurement comparison;
 *   warm  with a verify cache, as a verifier that sees many reports: chains
 *         and RIM signatures are verified once per validity window and the
 *         parsed RIM content is memoised by digest, leaving the report's
 *         one ECDSA P-384 verify, the parse, the comparison of every active
 *         measurement and the claims.
 *
 * A third figure interleaves warm verifications with bare ECDSA verifies of
 * the same signature in short rounds (a floor under the same load).  Output
 * lines are "key value" for bench/nvgpu.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cachet/clock.h"
#include "cachet/encoding.h"
#include "cachet/evidence.h"
#include "cachet/fileio.h"
#include "evidence/nvgpu/nvgpu.h"
#include "evidence/registry.h"
#include "bench_common.h"
#ifdef BENCH_NVGPU_GEN
#include "nvgpu_gen.h"
#endif

/* The attestation key: the first certificate of the first chain given. */
static cachet_pkey *leaf_key(const cachet_endorsements *e)
{
    for (size_t i = 0; i < cachet_endorsements_count(e); i++) {
        const cachet_endorsement *en = cachet_endorsements_get(e, i);
        cachet_pkey *k = NULL;
        if (en->kind == CACHET_ENDORSEMENT_CERTS &&
            cachet_x509_public_key(en->certs[0], &k) == CACHET_OK)
            return k;
    }
    bench_die("no certificate chain among the endorsements");
    return NULL;
}

int main(int argc, char **argv)
{
    bench_init("bench_nvgpu", BENCH_REJECT_CONTRAINDICATED);
    double seconds = bench_seconds(argc, argv);
    uint8_t *file = NULL;
    size_t file_len = 0;
    uint8_t nonce[64];
    cachet_endorsements *e = cachet_endorsements_new();
    const cachet_evidence_ops *ops = &cachet_nvgpu_ops;
    cachet_verify_request req = { 0 };
    const char *source;
#ifdef BENCH_NVGPU_GEN
    nvgen_pki *pki = NULL;
#endif
    if (!e)
        bench_die("out of memory");

    if (argc > 4) {
        size_t nl = 0;
        if (cachet_time_parse_rfc3339(argv[2], &req.time) != CACHET_OK)
            bench_die("bad time");
        if (cachet_hex_decode(argv[3], nonce, sizeof nonce, &nl) != CACHET_OK)
            bench_die("bad nonce");
        req.nonce = nonce;
        req.nonce_len = nl;
        if (cachet_file_read(argv[4], CACHET_EVIDENCE_MAX_FILE, &file, &file_len) != CACHET_OK)
            bench_die(argv[4]);
        for (int i = 5; i < argc; i++)
            if (cachet_endorsements_add_path(e, argv[i]) != CACHET_OK)
                bench_die(argv[i]);
        source = argv[4];
    } else {
#ifdef BENCH_NVGPU_GEN
        req.time = (int64_t)time(NULL);
        pki = nvgen_pki_new(req.time, false);
        if (!pki)
            bench_die("cannot mint a test PKI");
        nvgen_report g;
        nvgen_report_defaults(&g);
        file = nvgen_report_build(pki, &g, &file_len);
        static bool drv[64], vb[64];
        for (size_t i = 0; i < 64; i++) {
            drv[i] = i < 20;
            vb[i] = i >= 20 && i < 32;
        }
        nvgen_rim d = { .version = "550.144.03", .n = 64,
                        .values = (const uint8_t(*)[48])g.values, .active = drv };
        nvgen_rim v = { .version = "96.00.9F.00.01", .n = 64,
                        .values = (const uint8_t(*)[48])g.values, .active = vb };
        size_t dl, vl;
        char *dx = nvgen_rim_build(pki, &d, &dl), *vx = nvgen_rim_build(pki, &v, &vl);
        char *chain = nvgen_chain_pem(pki, true);
        if (!file || !dx || !vx || !chain ||
            cachet_endorsements_add_bytes(e, "chain.pem", chain, strlen(chain)) != CACHET_OK ||
            cachet_endorsements_add_bytes(e, "driver.xml", dx, dl) != CACHET_OK ||
            cachet_endorsements_add_bytes(e, "vbios.xml", vx, vl) != CACHET_OK)
            bench_die("cannot generate the benchmark evidence");
        free(dx);
        free(vx);
        free(chain);
        memcpy(nonce, g.nonce, 32);
        req.nonce = nonce;
        req.nonce_len = 32;
        ops = &pki->ops;
        source = "generated (test PKI, two RIMs)";
#else
        fprintf(stderr, "bench_nvgpu: no report given and this build has no generator "
                        "(configure with -Dtests=true)\n");
        return 2;
#endif
    }
    req.evidence = file;
    req.evidence_len = file_len;
    req.endorsements = e;

    /* It must verify and be compared with both RIMs, or the figures mean nothing. */
    cachet_verify_result *r = NULL;
    if (cachet_evidence_verify_with(ops, &req, &r) != CACHET_OK || !r->verified)
        bench_die("the benchmark report does not verify");
    const char *measres = json_string_value(json_object_get(r->claims, "measres"));
    printf("report %s (%s, driver %s, measres %s, %s)\n", source, r->tee,
           json_string_value(json_object_get(r->claims, "driver_version")),
           measres ? measres : "?", cachet_ev_status_str(r->status));
    cachet_verify_result_free(r);

    /* The raw report bytes for the floor (hex text decoded the same way). */
    nvgpu_input in;
    nvgpu_report rep;
    nvgpu_parse_stage st;
    if (nvgpu_input_decode(file, file_len, &in) != CACHET_OK ||
        nvgpu_report_parse(in.items[0].report, in.items[0].report_len, &rep, &st) != CACHET_OK)
        bench_die("report");

    double cold = bench_run(ops, &req, seconds, 8);
    cachet_verify_cache *cache = cachet_verify_cache_new(64);
    if (!cache)
        bench_die("out of memory");
    req.cache = cache;
    double warm = bench_run(ops, &req, seconds, 8);
    double floor = 0;
    cachet_pkey *key = leaf_key(e);
    bench_raw_sig raw = { key, CACHET_HASH_SHA384, rep.bytes, rep.signed_len, rep.signature,
                          NVGPU_SIG_COMP_LEN, CACHET_BIG_ENDIAN };
    double ratio = bench_interleaved(ops, &req, &raw, seconds, &floor);
    cachet_pkey_free(key);
    bench_print_rates("reports", cold, warm, cache);
    bench_print_floor(floor, ratio);
    cachet_verify_cache_free(cache);
    nvgpu_input_clear(&in);
    cachet_endorsements_free(e);
    free(file);
#ifdef BENCH_NVGPU_GEN
    nvgen_pki_free(pki);
#endif
    return 0;
}
