/* Verifying the hardware report inside Azure evidence with the SNP or TDX
 * family, through the core's public API (cachet_evidence_find +
 * cachet_evidence_verify_with), so that the hardware rules live in one
 * place.  The sub-verification's checks are copied into this result (a
 * failure keeps its authenticity weight: AUTH when the sub-result is not
 * verified, CONTENT otherwise), its warnings are raised here, and its claims
 * go under one key. */
#include <stdlib.h>
#include <string.h>

#include "evidence/azure/azure.h"
#include "evidence/family.h"

#define UNUSED_ID "evidence.endorsement.unused"

static void copy_check(cachet_ev_ctx *ctx, const cachet_check *c, cachet_ev_severity sev)
{
    const char *spec = c->spec ? c->spec : "";
    if (c->expected || c->actual) {
        cachet_ev_compare(ctx, sev, c->id, spec, c->expected, c->actual);
        return;
    }
    switch (c->result) {
    case CACHET_CHECK_PASS:
        cachet_ev_pass(ctx, c->id, spec, "%s", c->detail ? c->detail : "");
        break;
    case CACHET_CHECK_FAIL:
        cachet_ev_fail(ctx, sev, c->id, spec, "%s", c->detail ? c->detail : "failed");
        break;
    case CACHET_CHECK_NA:
        cachet_ev_na(ctx, false, c->id, spec, "%s", c->detail ? c->detail : "");
        break;
    }
}

/* The caller's endorsements the sub-verification did not report unused. */
static void mark_used(cachet_ev_ctx *ctx, const cachet_verify_request *req,
                      const cachet_verify_result *sub)
{
    const cachet_endorsements *e = req->endorsements;
    for (size_t i = 0; i < cachet_endorsements_count(e); i++) {
        const cachet_endorsement *en = cachet_endorsements_get(e, i);
        size_t nl = strlen(en->name);
        bool unused = false;
        for (size_t k = 0; k < cachet_checklog_count(sub->checks); k++) {
            const cachet_check *c = cachet_checklog_get(sub->checks, k);
            if (strcmp(c->id, UNUSED_ID) == 0 && c->detail &&
                strncmp(c->detail, en->name, nl) == 0 && c->detail[nl] == ':')
                unused = true;
        }
        if (!unused)
            cachet_ev_mark_used(ctx, i);
    }
}

cachet_verify_result *az_run_family(cachet_ev_ctx *ctx, const cachet_verify_request *req,
                                    const char *family, const char *key, const uint8_t *ev,
                                    size_t len, const uint8_t *extra, size_t extra_len,
                                    const char *extra_name, const uint8_t *expect,
                                    size_t expect_len)
{
    const cachet_evidence_ops *ops = cachet_evidence_find(family);
    if (!ops) {
        cachet_ev_na(ctx, true, "azure.hardware", AZ_SPEC_HCL,
                     "the %s verifier is not available in this build: the hardware layer is "
                     "NOT verified", family);
        return NULL;
    }
    /* The caller's endorsements (by their names) plus one from the evidence. */
    cachet_endorsements *e = cachet_endorsements_new();
    if (!e) {
        cachet_ev_internal_error(ctx, "azure: out of memory");
        return NULL;
    }
    cachet_rc rc = CACHET_OK;
    if (extra && extra_len)
        rc = cachet_endorsements_add_bytes(e, extra_name, extra, extra_len);
    for (size_t i = 0; rc == CACHET_OK && i < cachet_endorsements_count(req->endorsements); i++) {
        const cachet_endorsement *en = cachet_endorsements_get(req->endorsements, i);
        rc = cachet_endorsements_add_bytes(e, en->name, en->data, en->len);
    }
    cachet_verify_result *sub = NULL;
    if (rc == CACHET_OK) {
        cachet_verify_request sr = *req;
        sr.evidence = ev;
        sr.evidence_len = len;
        sr.tee = NULL;
        sr.endorsements = e;
        /* The verifier's nonce is the vTPM quote's; the hardware report
         * carries the hash of the HCL runtime data instead. */
        sr.nonce = expect;
        sr.nonce_len = expect ? expect_len : 0;
        rc = cachet_evidence_verify_with(ops, &sr, &sub);
    }
    cachet_endorsements_free(e);
    if (rc != CACHET_OK || !sub) {
        cachet_ev_internal_error(ctx, "azure: the hardware verification could not run");
        return NULL;
    }

    cachet_ev_severity sev = sub->verified ? CACHET_EV_CONTENT : CACHET_EV_AUTH;
    for (size_t i = 0; i < cachet_checklog_count(sub->checks); i++) {
        const cachet_check *c = cachet_checklog_get(sub->checks, i);
        if (strcmp(c->id, UNUSED_ID) != 0)
            copy_check(ctx, c, sev);
    }
    size_t i;
    const json_t *w;
    json_array_foreach(sub->warnings, i, w)
        cachet_ev_warn(ctx, "%s: %s", family, json_string_value(w));
    mark_used(ctx, req, sub);
    cachet_ev_claim(ctx, NULL, key, json_deep_copy(sub->claims));
    return sub;
}
