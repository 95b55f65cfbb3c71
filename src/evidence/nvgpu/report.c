/* Report steps: structure (DSP0274 1.1 §10.11), the SPDM measurement
 * signature (evidence-formats §3.3) and the requester nonce. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/encoding.h"
#include "evidence/nvgpu/steps.h"

bool nv_step_parse(nv_gpu *g)
{
    static const struct {
        nvgpu_parse_stage st;
        const char *spec;
    } stages[] = {
        { NVGPU_PARSE_SIZE, NVGPU_SPEC_REQUEST },
        { NVGPU_PARSE_REQUEST, NVGPU_SPEC_REQUEST },
        { NVGPU_PARSE_RESPONSE, NVGPU_SPEC_RESPONSE },
        { NVGPU_PARSE_MEASUREMENTS, NVGPU_SPEC_BLOCKS },
        { NVGPU_PARSE_OPAQUE, NVGPU_SPEC_OPAQUE },
        { NVGPU_PARSE_SIGNATURE, NVGPU_SPEC_SIGNATURE },
        { NVGPU_PARSE_TRAILING, NVGPU_SPEC_RESPONSE },
    };
    nvgpu_parse_stage failed = NVGPU_PARSE_OK;
    const nvgpu_report *r = &g->rep;
    cachet_rc rc = nvgpu_report_parse(g->item->report, g->item->report_len, &g->rep, &failed);
    for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++) {
        const char *check = nvgpu_parse_stage_check(stages[i].st);
        if (rc != CACHET_OK && stages[i].st == failed) {
            nv_fail(g, CACHET_EV_AUTH, check, stages[i].spec, "%s", cachet_err_detail());
            return false;
        }
        switch (stages[i].st) {
        case NVGPU_PARSE_SIZE:
            nv_pass(g, check, stages[i].spec, "%zu bytes (at most %u)", r->len, NVGPU_REPORT_MAX);
            break;
        case NVGPU_PARSE_REQUEST:
            nv_pass(g, check, stages[i].spec,
                    "GET_MEASUREMENTS, SPDM 1.1, signature requested, Param2 0x%02x, slot %u",
                    r->req_param2, r->slot);
            break;
        case NVGPU_PARSE_RESPONSE:
            nv_pass(g, check, stages[i].spec, "MEASUREMENTS, SPDM 1.1, slot %u",
                    r->resp_param2 & 0x0F);
            break;
        case NVGPU_PARSE_MEASUREMENTS:
            nv_pass(g, check, stages[i].spec,
                    "%u DMTF blocks filling MeasurementRecordLength %zu exactly", r->n_blocks,
                    r->record_len);
            break;
        case NVGPU_PARSE_OPAQUE:
            nv_pass(g, check, stages[i].spec, "%zu bytes, %zu TLVs (%zu of unknown types)",
                    r->opaque_len, r->od.n_tlvs, r->od.n_unknown);
            break;
        case NVGPU_PARSE_SIGNATURE:
            nv_pass(g, check, stages[i].spec, "96-byte ECDSA P-384 signature after %zu signed bytes",
                    r->signed_len);
            break;
        case NVGPU_PARSE_TRAILING:
            if (r->trailing)
                nv_pass(g, check, stages[i].spec,
                        "%zu zero byte%s after the signature ignored (not signed)", r->trailing,
                        r->trailing > 1 ? "s" : "");
            else
                nv_pass(g, check, stages[i].spec, "the signature ends the report");
            break;
        default:
            break;
        }
    }
    g->parsed = true;
    return true;
}

void nv_step_signature(nv_gpu *g)
{
    const char *check = "report.signature";
    cachet_pkey *pk = NULL;
    if (cachet_x509_public_key(g->chain[0], &pk) != CACHET_OK) {
        nv_fail(g, CACHET_EV_AUTH, check, NVGPU_SPEC_SIGNATURE,
                "cannot read the attestation certificate's key: %s", cachet_err_detail());
        return;
    }
    /* request (37 bytes) || response up to the signature: the exact bytes. */
    cachet_rc rc = cachet_ecdsa_verify_raw(pk, CACHET_HASH_SHA384, g->rep.bytes, g->rep.signed_len,
                                           g->rep.signature, NVGPU_SIG_COMP_LEN, CACHET_BIG_ENDIAN);
    cachet_pkey_free(pk);
    if (rc != CACHET_OK) {
        nv_fail(g, CACHET_EV_AUTH, check, NVGPU_SPEC_SIGNATURE,
                "the signature over request || response (%zu bytes) does not verify with the "
                "attestation certificate", g->rep.signed_len);
        return;
    }
    g->sig_ok = true;
    nv_pass(g, check, NVGPU_SPEC_SIGNATURE,
            "ECDSA P-384/SHA-384 over request || response (%zu bytes) verifies with the "
            "attestation certificate", g->rep.signed_len);
}

void nv_step_nonce(nv_gpu *g)
{
    const char *check = "report.nonce";
    const cachet_verify_request *req = g->run->req;
    if (!req->nonce) {
        nv_na(g, false, check, NVGPU_SPEC_NONCE, "no nonce given: freshness not checked");
        cachet_ev_claim_str(g->run->ctx, g->claims, "freshness", "not-checked");
        return;
    }
    if (req->nonce_len < NVGPU_NONCE_LEN) {
        nv_fail(g, CACHET_EV_CONTENT, check, NVGPU_SPEC_NONCE,
                "the nonce is %zu bytes; the SPDM request carries exactly %u", req->nonce_len,
                NVGPU_NONCE_LEN);
        cachet_ev_claim_str(g->run->ctx, g->claims, "freshness", "mismatch");
        return;
    }
    /* A longer value is a digest whose first 32 bytes became the SPDM
     * nonce (Trustee's rule, protocols §1.7); all 32 are compared. */
    char exp[2 * NVGPU_NONCE_LEN + 1], act[2 * NVGPU_NONCE_LEN + 1];
    cachet_hex_encode(req->nonce, NVGPU_NONCE_LEN, exp);
    cachet_hex_encode(g->rep.nonce, NVGPU_NONCE_LEN, act);
    bool ok = nv_compare(g, CACHET_EV_CONTENT, check, NVGPU_SPEC_NONCE, exp, act);
    cachet_ev_claim_str(g->run->ctx, g->claims, "freshness", ok ? "nonce-matched" : "mismatch");
}
