/* What the host said next to the signed report (container fields: arch,
 * driver/VBIOS versions, nonce, CC mode).  None of it is signed, so none of
 * it can make a GPU look better: a value that disagrees with the signed
 * report fails (nvtrust compares NVML's versions with the report's the same
 * way, evidence-formats §3.7-§3.8), and a CC mode of "devtools" or "off"
 * reported by the attester fails even though the report cannot confirm it.
 * Absent fields are simply not compared. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cachet/encoding.h"
#include "evidence/nvgpu/steps.h"

static void compare_field(nv_gpu *g, const char *check, const char *host, const char *signed_v,
                          const char *what)
{
    if (!host[0]) {
        nv_na(g, false, check, NVGPU_SPEC_INPUT, "the evidence does not report a %s beside the "
                                                 "report", what);
        return;
    }
    if (!signed_v || !signed_v[0]) {
        nv_fail(g, CACHET_EV_CONTENT, check, NVGPU_SPEC_OPAQUE,
                "the host reports %s %s but the signed report carries none", what, host);
        return;
    }
    if (strcasecmp(host, signed_v) == 0) {
        nv_pass(g, check, NVGPU_SPEC_OPAQUE, "host-reported %s %s equals the signed evidence's",
                what, host);
        return;
    }
    nv_fail(g, CACHET_EV_CONTENT, check, NVGPU_SPEC_OPAQUE,
            "the host reports %s %s, the signed evidence says %s", what, host, signed_v);
}

static void step_cc_mode(nv_gpu *g)
{
    const char *check = "cc.mode";
    const char *m = g->item->cc_mode;
    if (!m[0]) {
        nv_na(g, false, check, NVGPU_SPEC_CC,
              "the evidence does not report the CC mode (the report itself does not carry it; "
              "devtools firmware shows in the measurements)");
        return;
    }
    if (strcasecmp(m, "on") == 0) {
        nv_pass(g, check, NVGPU_SPEC_CC, "the attester reports CC mode on (host-reported)");
        return;
    }
    if (strcasecmp(m, "devtools") == 0) {
        g->debug = true;
        nv_fail(g, CACHET_EV_CONTENT, check, NVGPU_SPEC_CC,
                "the GPU runs in CC devtools mode: debugging and profiling tools can read its "
                "memory");
        return;
    }
    if (strcasecmp(m, "off") == 0) {
        nv_fail(g, CACHET_EV_CONTENT, check, NVGPU_SPEC_CC,
                "confidential computing is off on this GPU");
        return;
    }
    nv_fail(g, CACHET_EV_CONTENT, check, NVGPU_SPEC_CC, "unknown CC mode \"%s\"", m);
}

void nv_step_host_fields(nv_gpu *g)
{
    const nvgpu_item *it = g->item;
    if (g->run->in.kind != NVGPU_INPUT_CONTAINER) {
        nv_na(g, false, "cc.mode", NVGPU_SPEC_CC,
              "raw report: no CC mode reported (the report itself does not carry it)");
        return;
    }
    if (g->arch)
        compare_field(g, "arch", it->arch, g->arch, "architecture");
    else
        nv_na(g, false, "arch", NVGPU_SPEC_CHAIN, "no certificate chain names the architecture");
    compare_field(g, "driver.reported", it->driver_version, g->rep.od.driver_version,
                  "driver version");
    compare_field(g, "vbios.reported", it->vbios_version,
                  g->rep.od.has_vbios ? g->rep.od.vbios_version : NULL, "VBIOS version");
    if (it->has_nonce) {
        char a[2 * NVGPU_NONCE_LEN + 1], b[2 * NVGPU_NONCE_LEN + 1];
        cachet_hex_encode(it->nonce, NVGPU_NONCE_LEN, a);
        cachet_hex_encode(g->rep.nonce, NVGPU_NONCE_LEN, b);
        compare_field(g, "evidence.nonce", a, b, "nonce");
    }
    step_cc_mode(g);
}
