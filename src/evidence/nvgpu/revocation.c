/* Revocation of the GPU and RIM chains through OCSP responses supplied as
 * endorsements (evidence-formats §3.5).  cachet never fetches: a response
 * fetched earlier (e.g. from https://ocsp.ndis.nvidia.com/) is handed in as
 * a DER file, which the core classifies as "other"; here every such file
 * that parses as an OCSP response is collected once per verification.
 *
 * Which certificates need a status, as nvtrust does: for the GPU chain the
 * ones between the leaf and the root (the FMC alias leaf is made on the GPU
 * at boot and has no OCSP entry), for a RIM chain every certificate but the
 * root.  Each response must verify with a responder whose path ends at the
 * same pinned root, at the verification time; good passes, revoked (also
 * certificateHold) and unknown fail; a certificate without any response
 * leaves revocation unchecked, which the caller reports as a warning. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/clock.h"
#include "evidence/family.h"
#include "evidence/nvgpu/nvgpu.h"
#include "evidence/nvgpu/steps.h"

struct nvgpu_ocsp_set {
    size_t n;
    size_t *src;
    cachet_ocsp **resp;
};

nvgpu_ocsp_set *nvgpu_ocsp_collect(const cachet_endorsements *e)
{
    nvgpu_ocsp_set *s = calloc(1, sizeof *s);
    size_t total = cachet_endorsements_count(e);
    if (!s)
        return NULL;
    if (total == 0)
        return s;
    s->src = calloc(total, sizeof *s->src);
    s->resp = calloc(total, sizeof *s->resp);
    if (!s->src || !s->resp) {
        nvgpu_ocsp_set_free(s);
        return NULL;
    }
    for (size_t i = 0; i < total; i++) {
        const cachet_endorsement *en = cachet_endorsements_get(e, i);
        if (en->kind != CACHET_ENDORSEMENT_OTHER || en->len < 2 || en->data[0] != 0x30)
            continue;
        cachet_ocsp *o = NULL;
        if (cachet_ocsp_parse(en->data, en->len, &o) != CACHET_OK)
            continue;
        s->src[s->n] = i;
        s->resp[s->n] = o;
        s->n++;
    }
    return s;
}

void nvgpu_ocsp_set_free(nvgpu_ocsp_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        cachet_ocsp_free(s->resp[i]);
    free(s->src);
    free(s->resp);
    free(s);
}

size_t nvgpu_ocsp_count(const nvgpu_ocsp_set *s) { return s ? s->n : 0; }

/* "; CN=<cn>: <what>" appended to buf (the separator only after the first). */
static void append(char *buf, size_t cap, const char *cn, const char *what)
{
    size_t used = strlen(buf);
    if (used + 2 >= cap)
        return;
    snprintf(buf + used, cap - used, "%sCN=%s: %s", used ? "; " : "", cn, what);
}

void nvgpu_ocsp_check_path(cachet_ev_ctx *ctx, const nvgpu_ocsp_set *s, cachet_x509 *const *path,
                           size_t depth, size_t from, size_t to, int64_t t,
                           nvgpu_ocsp_outcome *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->status, sizeof out->status, "good");
    if (!path || depth < 2)
        return;
    if (to > depth - 1)
        to = depth - 1;
    cachet_x509 *root = path[depth - 1];
    for (size_t i = from; i < to; i++) {
        char cn[96] = "?";
        cachet_x509_subject_cn(path[i], cn, sizeof cn);
        size_t good = 0, bad = 0, invalid = 0;
        char why[160] = "";
        for (size_t k = 0; s && k < s->n; k++) {
            if (!cachet_ocsp_covers(s->resp[k], path[i], path[i + 1]))
                continue;
            cachet_ev_mark_used(ctx, s->src[k]);
            cachet_ocsp_params p = {
                .cert = path[i], .issuer = path[i + 1], .roots = &root, .n_roots = 1,
                .intermediates = path + 1, .n_intermediates = depth - 2, .time = t,
                .max_age = NVGPU_OCSP_MAX_AGE_S,
            };
            cachet_ocsp_result r;
            if (cachet_ocsp_check(s->resp[k], &p, &r) != CACHET_OK) {
                invalid++;
                if (!why[0])
                    snprintf(why, sizeof why, "%s", cachet_err_detail());
                continue;
            }
            if (r.status == CACHET_OCSP_GOOD) {
                good++;
                continue;
            }
            /* A valid response saying revoked, on hold or unknown decides,
             * whatever other responses say. */
            bad++;
            bool hold = r.status == CACHET_OCSP_REVOKED && r.reason == 6;
            snprintf(out->status, sizeof out->status, "%s",
                     hold ? "on-hold" : cachet_ocsp_status_str(r.status));
            snprintf(why, sizeof why, "%s",
                     r.status == CACHET_OCSP_REVOKED
                         ? (hold ? "certificateHold" : "revoked")
                         : "status unknown to the responder");
        }
        if (bad || (invalid && !good)) {
            out->failed = true;
            if (!bad)
                snprintf(out->status, sizeof out->status, "invalid");
            append(out->detail, sizeof out->detail, cn, why);
        } else if (good) {
            out->good++;
        } else {
            out->missing++;
            append(out->detail, sizeof out->detail, cn, "no OCSP response");
        }
    }
    out->wanted = to > from ? to - from : 0;
    if (!out->failed && out->missing)
        snprintf(out->status, sizeof out->status, "not-checked");
}
