/* Per-GPU claims (docs/evidence/nvgpu.md lists them).  Names follow NVIDIA's
 * (hwmodel, ueid, measres, the opaque-data fields Trustee reports) where one
 * exists; versions are rendered as NVIDIA renders them. */
#include <stdio.h>
#include <string.h>

#include "cachet/clock.h"
#include "cachet/encoding.h"
#include "evidence/nvgpu/steps.h"

void nv_rim_id(const nv_gpu *g, nvgpu_rim_role role, char *buf, size_t cap)
{
    const nvgpu_opaque *o = &g->rep.od;
    if (role == NVGPU_RIM_DRIVER) {
        /* nvtrust get_driver_rim_file_id: Hopper, Blackwell. */
        if (g->arch && strcmp(g->arch, "BLACKWELL") == 0 && o->chip_info[0])
            snprintf(buf, cap, "NV_GPU_CC_DRIVER_%s_%s", o->chip_info, o->driver_version);
        else
            snprintf(buf, cap, "NV_GPU_DRIVER_%s_%s", g->chip[0] ? g->chip : "GH100",
                     o->driver_version);
        return;
    }
    /* NV_GPU_VBIOS_{PROJECT}_{PROJECT_SKU}_{CHIP_SKU}_{version, no dots, upper case}. */
    char v[16] = "";
    size_t k = 0;
    for (const char *p = o->vbios_version; *p && k + 1 < sizeof v; p++)
        if (*p != '.')
            v[k++] = *p;
    v[k] = 0;
    snprintf(buf, cap, "NV_GPU_VBIOS_%s_%s_%s_%s", o->project, o->project_sku, o->chip_sku, v);
}

static void opaque_claims(nv_gpu *g)
{
    cachet_ev_ctx *ctx = g->run->ctx;
    const nvgpu_opaque *o = &g->rep.od;
    if (o->driver_version[0])
        cachet_ev_claim_str(ctx, g->claims, "driver_version", o->driver_version);
    if (o->has_vbios)
        cachet_ev_claim_str(ctx, g->claims, "vbios_version", o->vbios_version);
    if (o->project[0])
        cachet_ev_claim_str(ctx, g->claims, "project", o->project);
    if (o->project_sku[0])
        cachet_ev_claim_str(ctx, g->claims, "project_sku", o->project_sku);
    if (o->chip_sku[0])
        cachet_ev_claim_str(ctx, g->claims, "chip_sku", o->chip_sku);
    if (o->chip_info[0])
        cachet_ev_claim_str(ctx, g->claims, "chip_info", o->chip_info);
    if (o->board_id)
        cachet_ev_claim_hex(ctx, g->claims, "board_id", o->board_id, o->board_id_len);
    if (o->fwid)
        cachet_ev_claim_hex(ctx, g->claims, "fwid", o->fwid, NVGPU_FWID_LEN);
    if (o->nvdec0 >= 0)
        cachet_ev_claim_str(ctx, g->claims, "nvdec0_status", o->nvdec0 ? "enabled" : "disabled");
}

static void measurement_claims(nv_gpu *g)
{
    cachet_ev_ctx *ctx = g->run->ctx;
    uint8_t d[CACHET_SHA384_LEN];
    /* SHA-384 of the MeasurementRecord exactly as signed. */
    if (cachet_sha384(g->rep.record, g->rep.record_len, d) == CACHET_OK)
        cachet_ev_claim_hex(ctx, g->claims, "measurement", d, sizeof d);
    cachet_ev_claim_int(ctx, g->claims, "measurement_count", g->rep.n_blocks);
    json_t *m = cachet_ev_claim_object(ctx, g->claims, "measurements");
    for (size_t i = 0; m && i < g->rep.n_blocks; i++) {
        char key[8];
        snprintf(key, sizeof key, "%u", g->rep.blocks[i].index);
        cachet_ev_claim_hex(ctx, m, key, g->rep.blocks[i].value, g->rep.blocks[i].value_len);
    }
}

static void rim_claims(nv_gpu *g)
{
    cachet_ev_ctx *ctx = g->run->ctx;
    json_t *rims = cachet_ev_claim_object(ctx, g->claims, "rims");
    for (int role = 0; rims && role < 2; role++) {
        json_t *o = cachet_ev_claim_object(ctx, rims, nvgpu_rim_role_str((nvgpu_rim_role)role));
        if (!o)
            return;
        char id[128];
        nv_rim_id(g, (nvgpu_rim_role)role, id, sizeof id);
        cachet_ev_claim_str(ctx, o, "id", id);
        cachet_ev_claim_str(ctx, o, "status",
                            g->rim_status[role] ? g->rim_status[role] : "not-checked");
        const nv_rim_cand *c = g->rim_seen[role];
        if (!c)
            continue;
        cachet_ev_claim_str(ctx, o, "version", c->rim->version);
        if (c->rim->tag_id[0])
            cachet_ev_claim_str(ctx, o, "tag_id", c->rim->tag_id);
        if (c->signer_cn[0])
            cachet_ev_claim_str(ctx, o, "signer", c->signer_cn);
        if (c->not_after) {
            char t[21];
            cachet_time_format_rfc3339(c->not_after, t);
            cachet_ev_claim_str(ctx, o, "signer_not_after", t);
        }
        cachet_ev_claim_str(ctx, o, "ocsp", c->ocsp_done ? c->ocsp.status : "not-checked");
    }
}

void nv_gpu_claims(nv_gpu *g)
{
    cachet_ev_ctx *ctx = g->run->ctx;
    if (g->item->uuid[0])
        cachet_ev_claim_str(ctx, g->claims, "uuid", g->item->uuid);
    if (g->arch)
        cachet_ev_claim_str(ctx, g->claims, "arch", g->arch);
    if (g->chip[0])
        cachet_ev_claim_str(ctx, g->claims, "chip", g->chip);
    if (g->hwmodel[0])
        cachet_ev_claim_str(ctx, g->claims, "hwmodel", g->hwmodel);
    if (g->ueid[0])
        cachet_ev_claim_str(ctx, g->claims, "ueid", g->ueid);
    if (g->parsed) {
        cachet_ev_claim_str(ctx, g->claims, "spdm_version", "1.1");
        cachet_ev_claim_hex(ctx, g->claims, "nonce", g->rep.nonce, NVGPU_NONCE_LEN);
        opaque_claims(g);
        measurement_claims(g);
    }
    cachet_ev_claim_str(ctx, g->claims, "cc_mode",
                        g->item->cc_mode[0] ? g->item->cc_mode : "not-reported");
    cachet_ev_claim_bool(ctx, g->claims, "debug", g->debug);
    cachet_ev_claim_str(ctx, g->claims, "cert_ocsp",
                        g->ocsp.status[0] ? g->ocsp.status : "not-checked");
    cachet_ev_claim_str(ctx, g->claims, "measres", g->measres);
    if (g->mismatched) {
        cachet_ev_claim(ctx, g->claims, "mismatched_indices", g->mismatched);
        g->mismatched = NULL;
    }
    if (g->parsed)
        rim_claims(g);
}
