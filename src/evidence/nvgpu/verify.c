/* The nvgpu verification procedure (evidence-formats §3.7, nvtrust's order,
 * every step recorded):
 *
 *   evidence format (raw / hex / JSON container of one or more GPUs) → per GPU:
 *   report structure → device chain (length, supplied root == pin, path to
 *   the built-in NVIDIA Device Identity CA, leaf profile) → FWID (leaf
 *   extension == opaque FWID) → OCSP for the chain → SPDM signature →
 *   request nonce == --nonce → host-reported fields (arch, versions, CC
 *   mode) → driver and VBIOS RIMs (version, signing chain to the built-in
 *   RIM root, OCSP, XML signature) → measurements against the RIMs → claims.
 *
 * With several GPUs every check id carries the GPU's name
 * ("nvgpu.gpu1.report.signature") and each GPU gets its claims under
 * claims.gpus.<name>; the evidence is authentic only when every GPU is. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/encoding.h"
#include "evidence/nvgpu/steps.h"

/* ---- recording with the GPU's prefix ----------------------------------------- */

static void make_id(const nv_gpu *g, const char *check, char *id, size_t cap)
{
    snprintf(id, cap, "%s%s", g ? g->prefix : "nvgpu.", check);
}

static char *vfmt(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static char *vfmt(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        return NULL;
    return s;
}

void nv_pass(nv_gpu *g, const char *check, const char *spec, const char *fmt, ...)
{
    char id[96];
    make_id(g, check, id, sizeof id);
    va_list ap;
    va_start(ap, fmt);
    char *d = vfmt(fmt, ap);
    va_end(ap);
    cachet_ev_pass(g->run->ctx, id, spec, "%s", d ? d : "");
    free(d);
}

void nv_fail(nv_gpu *g, cachet_ev_severity sev, const char *check, const char *spec,
             const char *fmt, ...)
{
    char id[96];
    make_id(g, check, id, sizeof id);
    va_list ap;
    va_start(ap, fmt);
    char *d = vfmt(fmt, ap);
    va_end(ap);
    cachet_ev_fail(g->run->ctx, sev, id, spec, "%s", d ? d : "failed");
    free(d);
    if (sev == CACHET_EV_AUTH)
        g->auth_ok = false;
}

void nv_na(nv_gpu *g, bool warn, const char *check, const char *spec, const char *fmt, ...)
{
    char id[96];
    make_id(g, check, id, sizeof id);
    va_list ap;
    va_start(ap, fmt);
    char *d = vfmt(fmt, ap);
    va_end(ap);
    cachet_ev_na(g->run->ctx, warn, id, spec, "%s", d ? d : "");
    free(d);
}

bool nv_compare(nv_gpu *g, cachet_ev_severity sev, const char *check, const char *spec,
                const char *expected, const char *actual)
{
    char id[96];
    make_id(g, check, id, sizeof id);
    bool ok = cachet_ev_compare(g->run->ctx, sev, id, spec, expected, actual);
    if (!ok && sev == CACHET_EV_AUTH)
        g->auth_ok = false;
    return ok;
}

void nv_skip(nv_gpu *g, const char *check, const char *spec, const char *why)
{
    nv_na(g, false, check, spec, "not checked: %s", why);
    g->auth_ok = false;
}

/* ---- one GPU ------------------------------------------------------------------- */

static void verify_gpu(nv_gpu *g)
{
    if (!nv_step_parse(g)) {
        nv_skip(g, "cert_chain", NVGPU_SPEC_CHAIN, "the report does not parse");
        nv_skip(g, "report.signature", NVGPU_SPEC_SIGNATURE, "the report does not parse");
        return;
    }
    bool chained = nv_step_chain(g);
    if (chained) {
        nv_step_fwid(g);
        nv_step_chain_ocsp(g);
        nv_step_signature(g);
    } else {
        nv_skip(g, "cert_chain.fwid", NVGPU_SPEC_FWID, "no verified certificate chain");
        nv_skip(g, "report.signature", NVGPU_SPEC_SIGNATURE, "no verified certificate chain");
    }
    nv_step_nonce(g);
    nv_step_host_fields(g);
    nv_step_rims(g);
    nv_step_measurements(g);
}

static void free_gpu(nv_gpu *g)
{
    if (g->own_chain)
        cachet_x509_free_all(g->chain, g->n_chain);
    cachet_chain_result_clear(&g->path);
}

/* ---- several GPUs ------------------------------------------------------------------- */

/* The same device twice in one submission hides a GPU behind another's
 * evidence: refused. */
static void check_distinct(nv_run *r, nv_gpu *gpus)
{
    nv_gpu top = { .run = r, .prefix = "nvgpu.", .auth_ok = true };
    for (size_t i = 0; i < r->in.n; i++)
        for (size_t j = 0; j < i; j++) {
            if (!gpus[i].ueid[0] || strcmp(gpus[i].ueid, gpus[j].ueid) != 0)
                continue;
            nv_fail(&top, CACHET_EV_CONTENT, "gpus.distinct", NVGPU_SPEC_INPUT,
                    "%s and %s are the same device (UEID %s)", gpus[j].name, gpus[i].name,
                    gpus[i].ueid);
            return;
        }
    nv_pass(&top, "gpus.distinct", NVGPU_SPEC_INPUT, "%zu distinct devices", r->in.n);
}

/* The submission's measurement: one GPU's own digest, or SHA-384 over the
 * GPUs' digests in order. */
static void aggregate_claims(nv_run *r, nv_gpu *gpus)
{
    cachet_ev_ctx *ctx = r->ctx;
    json_t *top = cachet_ev_claims(ctx);
    cachet_ev_claim_int(ctx, NULL, "gpu_count", (int64_t)r->in.n);
    if (!r->multi) {
        /* One GPU: its claims also at the top level. */
        const char *key;
        json_t *v;
        json_object_foreach(gpus[0].claims, key, v)
            cachet_ev_claim(ctx, top, key, json_deep_copy(v));
        return;
    }
    bool debug = false, any_fail = false, all_success = true, all_nonce = true, any_nonce_bad = false;
    cachet_hash_ctx *h = cachet_hash_new(CACHET_HASH_SHA384);
    bool hash_ok = h != NULL;
    for (size_t i = 0; i < r->in.n; i++) {
        nv_gpu *g = &gpus[i];
        debug |= g->debug;
        any_fail |= strcmp(g->measres, "fail") == 0;
        all_success &= strcmp(g->measres, "success") == 0;
        const char *fr = json_string_value(json_object_get(g->claims, "freshness"));
        all_nonce &= fr && strcmp(fr, "nonce-matched") == 0;
        any_nonce_bad |= fr && strcmp(fr, "mismatch") == 0;
        uint8_t d[CACHET_SHA384_LEN];
        if (!g->parsed || cachet_sha384(g->rep.record, g->rep.record_len, d) != CACHET_OK ||
            (hash_ok && cachet_hash_update(h, d, sizeof d) != CACHET_OK))
            hash_ok = false;
    }
    uint8_t m[CACHET_SHA384_LEN];
    if (hash_ok && cachet_hash_final(h, m) == CACHET_OK)
        cachet_ev_claim_hex(ctx, NULL, "measurement", m, sizeof m);
    cachet_hash_free(h);
    cachet_ev_claim_bool(ctx, NULL, "debug", debug);
    cachet_ev_claim_str(ctx, NULL, "measres",
                        any_fail ? "fail" : all_success ? "success" : "not-checked");
    cachet_ev_claim_str(ctx, NULL, "freshness",
                        any_nonce_bad ? "mismatch" : all_nonce ? "nonce-matched" : "not-checked");
}

cachet_rc nvgpu_verify(const cachet_evidence_ops *self, const cachet_verify_request *req,
                       cachet_ev_ctx *ctx)
{
    nv_run run = { .ctx = ctx, .req = req };
    run.trust = self && self->config ? (const nvgpu_trust *)self->config : nvgpu_trust_builtin();
    nv_gpu top = { .run = &run, .prefix = "nvgpu.", .auth_ok = true };
    if (!run.trust || !run.trust->device_root || !run.trust->rim_root) {
        cachet_ev_internal_error(ctx, "nvgpu: the built-in NVIDIA roots do not load");
        return CACHET_OK;
    }
    cachet_rc rc = nvgpu_input_decode(req->evidence, req->evidence_len, &run.in);
    if (rc != CACHET_OK) {
        if (cachet_rc_code(rc) == CACHET_E_NOMEM) {
            cachet_ev_internal_error(ctx, "nvgpu: out of memory");
            return CACHET_OK;
        }
        nv_fail(&top, CACHET_EV_AUTH, "evidence.format", NVGPU_SPEC_INPUT, "%s",
                cachet_err_detail());
        return CACHET_OK;
    }
    run.multi = run.in.n > 1;
    if (run.in.kind == NVGPU_INPUT_CONTAINER)
        nv_pass(&top, "evidence.format", NVGPU_SPEC_INPUT, "%s (%s) of %zu GPU%s",
                nvgpu_input_kind_str(run.in.kind), run.in.container_shape, run.in.n,
                run.in.n > 1 ? "s" : "");
    else
        nv_pass(&top, "evidence.format", NVGPU_SPEC_INPUT, "%s, %zu bytes",
                nvgpu_input_kind_str(run.in.kind), run.in.items[0].report_len);
    if (req->n_trust_anchors)
        nv_na(&top, false, "cert_chain.trust_anchors", NVGPU_SPEC_ROOT,
              "%zu --trust-anchor certificate(s) not used: NVIDIA chains end only at the "
              "built-in NVIDIA roots", req->n_trust_anchors);

    run.ocsp = nvgpu_ocsp_collect(req->endorsements);
    nv_gpu *gpus = calloc(run.in.n, sizeof *gpus);
    json_t *gpus_obj = cachet_ev_claim_object(ctx, NULL, "gpus");
    if (!run.ocsp || !gpus || !gpus_obj) {
        free(gpus);
        nvgpu_ocsp_set_free(run.ocsp);
        nvgpu_input_clear(&run.in);
        cachet_ev_internal_error(ctx, "nvgpu: out of memory");
        return CACHET_OK;
    }
    nv_rims_load(&run);

    bool all_authentic = true;
    for (size_t i = 0; i < run.in.n; i++) {
        nv_gpu *g = &gpus[i];
        g->run = &run;
        g->index = i;
        g->item = &run.in.items[i];
        g->auth_ok = true;
        g->measres = "not-checked";
        snprintf(g->name, sizeof g->name, "gpu%u", (unsigned)(i % NVGPU_MAX_GPUS));
        if (run.multi)
            snprintf(g->prefix, sizeof g->prefix, "nvgpu.%s.", g->name);
        else
            snprintf(g->prefix, sizeof g->prefix, "nvgpu.");
        g->claims = cachet_ev_claim_object(ctx, gpus_obj, g->name);
        if (!g->claims) {
            all_authentic = false;
            break;
        }
        verify_gpu(g);
        nv_gpu_claims(g);
        all_authentic &= g->auth_ok && g->chain_ok && g->sig_ok;
    }
    if (run.multi)
        check_distinct(&run, gpus);
    aggregate_claims(&run, gpus);
    if (all_authentic)
        cachet_ev_authentic(ctx);

    for (size_t i = 0; i < run.in.n; i++)
        free_gpu(&gpus[i]);
    free(gpus);
    nv_rims_free(&run);
    nvgpu_ocsp_set_free(run.ocsp);
    nvgpu_input_clear(&run.in);
    return CACHET_OK;
}
