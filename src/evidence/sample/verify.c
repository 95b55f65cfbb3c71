/* Verifying sample evidence (docs/evidence/sample.md §2).
 *
 * The result always says tee "sample", carries the claim
 * "hardware": false, and is never better than `warning`: a sample report
 * proves possession of a key the user holds, nothing about hardware. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/encoding.h"
#include "cachet/runtime_data.h"
#include "evidence/family.h"
#include "evidence/sample/sample.h"

#define SPEC_FORMAT SAMPLE_SPEC " §1"
#define SPEC_KEY SAMPLE_SPEC " §2.1"
#define SPEC_SIG SAMPLE_SPEC " §2.2"
#define SPEC_BINDING SAMPLE_SPEC " §2.3 (protocols.md §1.7)"
#define SPEC_NONCE SAMPLE_SPEC " §2.4"
#define SPEC_DEBUG SAMPLE_SPEC " §2.5"
#define SPEC_HARDWARE SAMPLE_SPEC " §2.6"

/* A candidate signer: a bare key (--trust-anchor KEY) or a certificate's key. */
typedef struct sample_signer {
    cachet_pkey *key;
    bool owned;
} sample_signer;

/* Find the trust anchor whose key id matches; *found stays NULL when none
 * does.  Returns an error only for internal failures. */
static cachet_rc find_signer(const cachet_verify_request *req, const uint8_t key_id[32],
                             sample_signer *found, size_t *considered)
{
    memset(found, 0, sizeof *found);
    *considered = 0;
    uint8_t id[SAMPLE_KEY_ID_LEN];
    for (size_t i = 0; i < req->n_trust_keys; i++) {
        if (!req->trust_keys || !req->trust_keys[i])
            continue;
        (*considered)++;
        if (sample_key_id(req->trust_keys[i], id) == CACHET_OK &&
            memcmp(id, key_id, sizeof id) == 0) {
            found->key = req->trust_keys[i];
            return CACHET_OK;
        }
    }
    for (size_t i = 0; i < req->n_trust_anchors; i++) {
        cachet_pkey *k = NULL;
        if (!req->trust_anchors[i] ||
            cachet_x509_public_key(req->trust_anchors[i], &k) != CACHET_OK)
            continue;
        (*considered)++;
        if (sample_key_id(k, id) == CACHET_OK && memcmp(id, key_id, sizeof id) == 0) {
            found->key = k;
            found->owned = true;
            return CACHET_OK;
        }
        cachet_pkey_free(k);
    }
    return CACHET_OK;
}

static void claim_runtime(cachet_ev_ctx *ctx, json_t *rd)
{
    json_t *copy = json_deep_copy(rd);
    if (!copy) {
        cachet_ev_internal_error(ctx, "sample: out of memory");
        return;
    }
    cachet_ev_claim(ctx, cachet_ev_claims(ctx), "runtime_data_claims", copy);
}

/* report_data[0..48) == SHA-384(JCS(runtime data)) and the rest zero. */
static json_t *check_binding(const sample_report *r, cachet_ev_ctx *ctx)
{
    if (!r->runtime_data) {
        cachet_ev_na(ctx, false, "sample.runtime_data", SPEC_BINDING,
                     "no runtime data carried: report_data is compared with --nonce as is");
        return NULL;
    }
    json_error_t err;
    json_t *rd = json_loadb((const char *)r->runtime_data, r->runtime_data_len,
                            JSON_REJECT_DUPLICATES, &err);
    if (!rd || cachet_runtime_data_check(rd) != CACHET_OK) {
        char why[200];
        snprintf(why, sizeof why, "%s", rd ? cachet_err_detail() : err.text);
        cachet_ev_fail(ctx, CACHET_EV_AUTH, "sample.runtime_data", SPEC_BINDING,
                       "the runtime data is not a valid runtime-data object: %s", why);
        json_decref(rd);
        return NULL;
    }
    uint8_t want[CACHET_REPORT_DATA_LEN];
    if (cachet_runtime_data_report_data(rd, want) != CACHET_OK) {
        cachet_ev_fail(ctx, CACHET_EV_AUTH, "sample.runtime_data", SPEC_BINDING,
                       "the runtime data cannot be canonicalized");
        json_decref(rd);
        return NULL;
    }
    char exp_hex[2 * CACHET_REPORT_DATA_LEN + 1], act_hex[2 * CACHET_REPORT_DATA_LEN + 1];
    cachet_hex_encode(want, sizeof want, exp_hex);
    cachet_hex_encode(r->report_data, sizeof r->report_data, act_hex);
    if (!cachet_ev_compare(ctx, CACHET_EV_AUTH, "sample.runtime_data", SPEC_BINDING, exp_hex,
                           act_hex)) {
        json_decref(rd);
        return NULL;
    }
    return rd;
}

/* The caller's nonce against the runtime data's nonce (as its base64 text,
 * or verbatim text) or, without runtime data, against report_data. */
static void check_nonce(const cachet_verify_request *req, const sample_report *r,
                        const json_t *rd, bool binding_ok, cachet_ev_ctx *ctx)
{
    json_t *claims = cachet_ev_claims(ctx);
    if (!req->nonce) {
        cachet_ev_na(ctx, false, "sample.nonce", SPEC_NONCE, "no --nonce given");
        cachet_ev_claim_str(ctx, claims, "freshness", "not-checked");
        return;
    }
    bool matched = false;
    const char *how = "";
    if (rd) {
        const char *carried = json_string_value(json_object_get(rd, "nonce"));
        char *b64 = cachet_base64_string(req->nonce, req->nonce_len);
        if (!b64) {
            cachet_ev_internal_error(ctx, "sample: out of memory");
            return;
        }
        if (carried && strcmp(carried, b64) == 0) {
            matched = true;
            how = "the runtime data's nonce is the base64 of --nonce";
        } else if (carried && strlen(carried) == req->nonce_len &&
                   memcmp(carried, req->nonce, req->nonce_len) == 0) {
            matched = true;
            how = "the runtime data's nonce is --nonce as text";
        }
        free(b64);
    }
    if (!matched && req->nonce_len <= sizeof r->report_data) {
        uint8_t padded[SAMPLE_REPORT_DATA_LEN] = {0};
        memcpy(padded, req->nonce, req->nonce_len);
        if (memcmp(padded, r->report_data, sizeof padded) == 0) {
            matched = true;
            how = "report_data is --nonce, zero-padded";
        }
    }
    if (matched && (!rd || binding_ok)) {
        cachet_ev_pass(ctx, "sample.nonce", SPEC_NONCE, "%s", how);
        cachet_ev_claim_str(ctx, claims, "freshness", "nonce-matched");
    } else {
        cachet_ev_fail(ctx, CACHET_EV_CONTENT, "sample.nonce", SPEC_NONCE,
                       "--nonce matches neither the runtime data's nonce (as base64) nor "
                       "report_data");
        cachet_ev_claim_str(ctx, claims, "freshness", "mismatch");
    }
}

static void emit_claims(const sample_report *r, cachet_ev_ctx *ctx)
{
    json_t *c = cachet_ev_claims(ctx);
    cachet_ev_claim_hex(ctx, c, "measurement", r->measurement, sizeof r->measurement);
    cachet_ev_claim_hex(ctx, c, "report_data", r->report_data, sizeof r->report_data);
    cachet_ev_claim_bool(ctx, c, "debug", (r->flags & SAMPLE_FLAG_DEBUG) != 0);
    cachet_ev_claim_str(ctx, c, "tcb_status", "unknown");
    cachet_ev_claim_bool(ctx, c, "hardware", false);
    cachet_ev_claim_str(ctx, c, "platform",
                        "software-only sample evidence: no TEE hardware protects this workload");
    cachet_ev_claim_int(ctx, c, "svn", r->svn);
    cachet_ev_claim_int(ctx, c, "timestamp", (int64_t)(r->timestamp > INT64_MAX ? INT64_MAX
                                                                             : r->timestamp));
    cachet_ev_claim_hex(ctx, c, "key_id", r->key_id, sizeof r->key_id);
}

cachet_rc sample_verify(const cachet_evidence_ops *self, const cachet_verify_request *req,
                        cachet_ev_ctx *ctx)
{
    (void)self;
    sample_report r;
    if (sample_parse(req->evidence, req->evidence_len, &r) != CACHET_OK) {
        char why[256];
        snprintf(why, sizeof why, "%s", cachet_err_detail());
        cachet_ev_fail(ctx, CACHET_EV_AUTH, "sample.format", SPEC_FORMAT, "%s", why);
        cachet_ev_claim_bool(ctx, cachet_ev_claims(ctx), "hardware", false);
        return CACHET_OK;
    }
    cachet_ev_pass(ctx, "sample.format", SPEC_FORMAT, "version %u, %u bytes of runtime data",
                   r.version, r.runtime_data_len);
    emit_claims(&r, ctx);

    bool authentic = false;
    sample_signer signer;
    size_t considered = 0;
    cachet_rc rc = find_signer(req, r.key_id, &signer, &considered);
    if (rc != CACHET_OK)
        return rc;
    char kid[2 * SAMPLE_KEY_ID_LEN + 1];
    cachet_hex_encode(r.key_id, sizeof r.key_id, kid);
    if (!signer.key) {
        cachet_ev_fail(ctx, CACHET_EV_AUTH, "sample.key", SPEC_KEY,
                       considered ? "signed by key id %s, which is none of the %zu trust "
                                    "anchors given"
                                  : "signed by key id %s; give the sample key with "
                                    "--trust-anchor KEY (%zu given)",
                       kid, considered);
        cachet_ev_na(ctx, false, "sample.signature", SPEC_SIG, "no trusted key to check with");
    } else {
        cachet_ev_pass(ctx, "sample.key", SPEC_KEY, "key id %s is a given trust anchor", kid);
        if (cachet_ecdsa_verify_raw(signer.key, CACHET_HASH_SHA256, r.signed_part, r.signed_len,
                                    r.signature, 32, CACHET_BIG_ENDIAN) == CACHET_OK) {
            cachet_ev_pass(ctx, "sample.signature", SPEC_SIG, "ES256 over %zu bytes",
                           r.signed_len);
            authentic = true;
        } else {
            cachet_ev_fail(ctx, CACHET_EV_AUTH, "sample.signature", SPEC_SIG,
                           "the ES256 signature does not verify with the sample key");
        }
        if (signer.owned)
            cachet_pkey_free(signer.key);
    }

    json_t *rd = check_binding(&r, ctx);
    if (rd)
        claim_runtime(ctx, rd);
    bool binding_ok = rd != NULL || !r.runtime_data;
    check_nonce(req, &r, rd, binding_ok, ctx);
    json_decref(rd);

    if (r.flags & SAMPLE_FLAG_DEBUG)
        cachet_ev_fail(ctx, CACHET_EV_CONTENT, "sample.debug", SPEC_DEBUG,
                       "the report says the workload runs in debug mode");
    else
        cachet_ev_pass(ctx, "sample.debug", SPEC_DEBUG, "debug flag clear");
    cachet_ev_na(ctx, true, "sample.hardware", SPEC_HARDWARE,
                 "software-only sample evidence: no TEE hardware protects this workload; "
                 "admit it only by a policy rule that names \"sample\"");

    if (authentic && binding_ok)
        cachet_ev_authentic(ctx);
    return CACHET_OK;
}
