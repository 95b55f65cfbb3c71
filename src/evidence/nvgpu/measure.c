/* Measurements against the RIMs' golden values (evidence-formats §3.6, as
 * nvtrust's verifier.py compares them):
 *
 *   nvgpu.rim.index_conflict     driver and VBIOS RIM may not both hold an
 *                                active entry for one index
 *   nvgpu.measurement.count      no more golden values than runtime blocks
 *   nvgpu.measurement.index<N>   one failed check per mismatching RIM index N
 *                                (measurement block N+1): the value must equal
 *                                one of the alternatives and have their size
 *   nvgpu.measurement.index35    not applicable when NVDEC0 is disabled
 *   nvgpu.measurements           the summary
 *
 * Only RIMs whose signature, chain and version checks passed are used. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/encoding.h"
#include "evidence/nvgpu/steps.h"

#define NVDEC0_INDEX 35 /* skipped when the report says NVDEC0 is disabled */

typedef struct golden {
    const nvgpu_rim_entry *e;
    nvgpu_rim_role role;
} golden;

static bool conflict_free(nv_gpu *g, const nvgpu_rim *drv, const nvgpu_rim *vb)
{
    const char *check = "rim.index_conflict";
    if (!drv || !vb) {
        nv_na(g, false, check, NVGPU_SPEC_MEASURE, "only one RIM in use");
        return true;
    }
    for (size_t i = 0; i < drv->n; i++) {
        if (!drv->entries[i].active)
            continue;
        const nvgpu_rim_entry *o = nvgpu_rim_entry_at(vb, drv->entries[i].index);
        if (o && o->active) {
            nv_fail(g, CACHET_EV_CONTENT, check, NVGPU_SPEC_MEASURE,
                    "index %u is active in both the driver and the VBIOS RIM",
                    drv->entries[i].index);
            return false;
        }
    }
    nv_pass(g, check, NVGPU_SPEC_MEASURE, "no index is active in both RIMs");
    return true;
}

static bool matches(const nvgpu_rim_entry *e, const nvgpu_block *b)
{
    if (!b || b->value_len != e->size)
        return false;
    for (unsigned k = 0; k < e->n_alt; k++)
        if (memcmp(b->value, e->alt + (size_t)k * e->size, e->size) == 0)
            return true;
    return false;
}

/* "a|b" of the alternatives, for the failed check's expected value. */
static char *render_alts(const nvgpu_rim_entry *e)
{
    size_t cap = (size_t)e->n_alt * (2u * e->size + 1u) + 1;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    size_t o = 0;
    for (unsigned k = 0; k < e->n_alt; k++) {
        if (k)
            s[o++] = '|';
        cachet_hex_encode(e->alt + (size_t)k * e->size, e->size, s + o);
        o += 2u * e->size;
    }
    s[o] = 0;
    return s;
}

static void mismatch(nv_gpu *g, const golden *gd, const nvgpu_block *b)
{
    char check[40];
    snprintf(check, sizeof check, "measurement.index%u", gd->e->index);
    char *exp = render_alts(gd->e);
    char *act = b ? cachet_hex_string(b->value, b->value_len) : strdup("(no block)");
    if (!exp || !act)
        cachet_ev_internal_error(g->run->ctx, "nvgpu: out of memory");
    else
        nv_compare(g, CACHET_EV_CONTENT, check, NVGPU_SPEC_MEASURE_INDEX, exp, act);
    free(exp);
    free(act);
    json_array_append_new(g->mismatched, json_integer(gd->e->index));
}

void nv_step_measurements(nv_gpu *g)
{
    const char *check = "measurements";
    const nvgpu_rim *drv = g->rim[NVGPU_RIM_DRIVER] ? g->rim[NVGPU_RIM_DRIVER]->rim : NULL;
    const nvgpu_rim *vb = g->rim[NVGPU_RIM_VBIOS] ? g->rim[NVGPU_RIM_VBIOS]->rim : NULL;
    g->mismatched = json_array();
    if (!g->mismatched) {
        cachet_ev_internal_error(g->run->ctx, "nvgpu: out of memory");
        return;
    }
    if (!g->parsed)
        return;
    if (!drv && !vb) {
        bool failed = (g->rim_status[0] && strcmp(g->rim_status[0], "absent") != 0) ||
                      (g->rim_status[1] && strcmp(g->rim_status[1], "absent") != 0);
        nv_na(g, !failed, check, NVGPU_SPEC_MEASURE,
              failed ? "not compared: no RIM passed its checks"
                     : "no verified RIM: the measurements are not judged");
        return;
    }
    if (!conflict_free(g, drv, vb)) {
        g->measres = "fail";
        return;
    }

    golden list[2 * NVGPU_RIM_MAX_ENTRIES];
    size_t n = 0;
    const nvgpu_rim *rims[2] = { drv, vb };
    for (int role = 0; role < 2; role++)
        for (size_t i = 0; rims[role] && i < rims[role]->n; i++)
            if (rims[role]->entries[i].active)
                list[n++] = (golden){ &rims[role]->entries[i], (nvgpu_rim_role)role };
    if (n > g->rep.n_blocks) {
        nv_fail(g, CACHET_EV_CONTENT, "measurement.count", NVGPU_SPEC_MEASURE,
                "%zu golden measurements but only %u blocks in the report", n, g->rep.n_blocks);
        g->measres = "fail";
        return;
    }
    nv_pass(g, "measurement.count", NVGPU_SPEC_MEASURE,
            "%zu active golden measurements for %u runtime blocks", n, g->rep.n_blocks);

    size_t ok = 0, bad = 0, skipped = 0;
    for (size_t i = 0; i < n; i++) {
        if (list[i].e->index == NVDEC0_INDEX && g->rep.od.nvdec0 == 0) {
            nv_na(g, false, "measurement.index35", NVGPU_SPEC_MEASURE,
                  "NVDEC0 is disabled (opaque NVDEC0_STATUS 0x55): index 35 not compared");
            skipped++;
            continue;
        }
        const nvgpu_block *b = nvgpu_report_block(&g->rep, list[i].e->index + 1u);
        if (matches(list[i].e, b)) {
            ok++;
        } else {
            mismatch(g, &list[i], b);
            bad++;
        }
    }
    bool both = drv && vb;
    if (bad) {
        g->measres = "fail";
        nv_fail(g, CACHET_EV_CONTENT, check, NVGPU_SPEC_MEASURE,
                "%zu of %zu active golden measurements do not match (%s%s%s)", bad, n - skipped,
                drv ? "driver RIM" : "", both ? " and " : "", vb ? "VBIOS RIM" : "");
        return;
    }
    g->measres = both ? "success" : "partial";
    nv_pass(g, check, NVGPU_SPEC_MEASURE,
            "all %zu active golden measurements match (%s%s%s)%s", ok, drv ? "driver RIM" : "",
            both ? " and " : "", vb ? "VBIOS RIM" : "",
            skipped ? "; index 35 skipped (NVDEC0 disabled)" : "");
}
