/* Nitro verification procedure (evidence-formats §5.5):
 *
 *   envelope CBOR → COSE_Sign1 shape → protected alg = ES384 → payload CBOR
 *   → payload fields → leaf certificate → cabundle[0] = pinned root → chain
 *   at the request's time → revocation → COSE signature over the
 *   Sig_structure → timestamp against the leaf and the time → nonce → debug.
 *
 * Time: every validity check uses req->time (`--at`, or now), the one clock
 * of the verification (evidence-formats §7).  The document's own timestamp
 * is checked against that time and against the leaf's validity, but never
 * replaces it: to re-verify an archived document, pass its timestamp as
 * --at (the leaf lives about three hours) and rely on the nonce for
 * freshness (evidence-formats §5.3).
 *
 * Every step records a check; a step that cannot run because an earlier one
 * failed is recorded as not applicable with the reason. */
#include <stdlib.h>
#include <string.h>

#include "cachet/clock.h"
#include "cachet/encoding.h"
#include "evidence/family.h"
#include "evidence/nitro/nitro.h"

static const char *const later_checks[][2] = {
    { "nitro.cert.leaf", NITRO_SPEC_LEAF },
    { "nitro.cabundle.root", NITRO_SPEC_ROOT },
    { "nitro.cert.chain", NITRO_SPEC_CHAIN },
    { "nitro.cert.revocation", NITRO_SPEC_CRL },
    { "nitro.cose.signature", NITRO_SPEC_SIGNATURE },
    { "nitro.timestamp", NITRO_SPEC_TIMESTAMP },
    { "nitro.nonce", NITRO_SPEC_NONCE },
    { "nitro.debug", NITRO_SPEC_DEBUG },
};

static bool step_parse(cachet_ev_ctx *ctx, const cachet_verify_request *req, nitro_doc *d)
{
    static const nitro_parse_stage stages[] = {
        NITRO_PARSE_ENVELOPE_CBOR, NITRO_PARSE_COSE,   NITRO_PARSE_ALG,
        NITRO_PARSE_PAYLOAD_CBOR,  NITRO_PARSE_FIELDS,
    };
    static const char *const passed[] = {
        "one bounded, well-formed CBOR item",
        "COSE_Sign1 [protected, {}, payload, 96-byte signature]",
        "protected header {1: -35} (ES384)",
        "bounded, well-formed, no duplicate keys",
        "mandatory fields present, every field within its limits",
    };
    nitro_parse_stage failed = NITRO_PARSE_OK;
    cachet_rc rc = nitro_doc_parse(req->evidence, req->evidence_len, d, &failed);
    for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++) {
        const char *id = nitro_parse_stage_check(stages[i]);
        const char *spec = nitro_parse_stage_spec(stages[i]);
        if (rc == CACHET_OK || stages[i] < failed) {
            if (stages[i] == NITRO_PARSE_ENVELOPE_CBOR)
                cachet_ev_pass(ctx, id, spec, "%s%s", passed[i], d->tagged ? " (tag 18)" : "");
            else if (stages[i] == NITRO_PARSE_PAYLOAD_CBOR)
                cachet_ev_pass(ctx, id, spec, "%zu bytes, %s", d->payload.len, passed[i]);
            else
                cachet_ev_pass(ctx, id, spec, "%s", passed[i]);
        } else if (stages[i] == failed) {
            cachet_ev_fail(ctx, CACHET_EV_AUTH, id, spec, "%s", cachet_err_detail());
        } else {
            cachet_ev_na(ctx, false, id, spec, "not checked: the document did not parse");
        }
    }
    if (rc == CACHET_OK)
        return true;
    for (size_t i = 0; i < sizeof later_checks / sizeof later_checks[0]; i++)
        cachet_ev_na(ctx, false, later_checks[i][0], later_checks[i][1],
                     "not checked: the document did not parse");
    return false;
}

static bool step_signature(cachet_ev_ctx *ctx, const nitro_doc *d, const cachet_pkey *key)
{
    const char *id = "nitro.cose.signature";
    if (!key) {
        cachet_ev_na(ctx, false, id, NITRO_SPEC_SIGNATURE, "not checked: no usable leaf key");
        return false;
    }
    uint8_t *msg = NULL;
    size_t msglen = 0;
    if (nitro_sig_structure(d, &msg, &msglen) != CACHET_OK) {
        cachet_ev_internal_error(ctx, cachet_err_detail());
        return false;
    }
    cachet_rc rc = cachet_ecdsa_verify_raw(key, CACHET_HASH_SHA384, msg, msglen, d->signature.p,
                                           NITRO_SIG_LEN / 2, CACHET_BIG_ENDIAN);
    free(msg);
    if (rc != CACHET_OK) {
        cachet_ev_fail(ctx, CACHET_EV_AUTH, id, NITRO_SPEC_SIGNATURE,
                       "ES384 over the Sig_structure does not verify with the leaf key: %s",
                       cachet_err_detail());
        return false;
    }
    cachet_ev_pass(ctx, id, NITRO_SPEC_SIGNATURE,
                   "ES384 by the leaf key over [\"Signature1\", protected, h'', payload] "
                   "(%zu payload bytes as received)", d->payload.len);
    return true;
}

/* The document was made while its leaf was valid, and not after the
 * verification time (allowing NITRO_CLOCK_SKEW_S of clock difference). */
static bool step_timestamp(cachet_ev_ctx *ctx, const cachet_verify_request *req,
                           const nitro_doc *d, bool have_leaf, int64_t nb, int64_t na)
{
    const char *id = "nitro.timestamp";
    int64_t ts = (int64_t)(d->timestamp / 1000);
    char tss[21], nbs[21], nas[21];
    cachet_time_format_rfc3339(ts, tss);
    if (have_leaf && (ts < nb || ts > na)) {
        cachet_time_format_rfc3339(nb, nbs);
        cachet_time_format_rfc3339(na, nas);
        cachet_ev_fail(ctx, CACHET_EV_AUTH, id, NITRO_SPEC_TIMESTAMP,
                       "document time %s is outside its signing certificate's validity %s..%s",
                       tss, nbs, nas);
        return false;
    }
    if (ts > req->time && ts - req->time > NITRO_CLOCK_SKEW_S) {
        char now[21];
        cachet_time_format_rfc3339(req->time, now);
        cachet_ev_fail(ctx, CACHET_EV_AUTH, id, NITRO_SPEC_TIMESTAMP,
                       "document time %s is after the verification time %s", tss, now);
        return false;
    }
    int64_t age = req->time - ts;
    cachet_ev_pass(ctx, id, NITRO_SPEC_TIMESTAMP,
                   "made %s, %lld s before the verification time%s", tss, (long long)age,
                   have_leaf ? ", within the leaf's validity" : "");
    return true;
}

/* --nonce against the document's nonce, every byte and the length. */
static void step_nonce(cachet_ev_ctx *ctx, const cachet_verify_request *req, const nitro_doc *d)
{
    const char *id = "nitro.nonce";
    if (!req->nonce) {
        cachet_ev_na(ctx, false, id, NITRO_SPEC_NONCE, "no nonce given: freshness not checked");
        cachet_ev_claim_str(ctx, NULL, "freshness", "not-checked");
        return;
    }
    char *exp = cachet_hex_string(req->nonce, req->nonce_len);
    char *act = d->has_nonce ? cachet_hex_string(d->nonce.p, d->nonce.len) : NULL;
    if (!exp || (d->has_nonce && !act)) {
        cachet_ev_internal_error(ctx, "nitro: out of memory");
    } else {
        bool ok = cachet_ev_compare(ctx, CACHET_EV_CONTENT, id, NITRO_SPEC_NONCE, exp,
                                    act ? act : "(no nonce in the document)");
        cachet_ev_claim_str(ctx, NULL, "freshness", ok ? "nonce-matched" : "mismatch");
    }
    free(exp);
    free(act);
}

static void step_debug(cachet_ev_ctx *ctx, bool debug)
{
    if (debug)
        cachet_ev_fail(ctx, CACHET_EV_CONTENT, "nitro.debug", NITRO_SPEC_DEBUG,
                       "PCR0, PCR1 and PCR2 are all zero: a debug-mode enclave, whose memory "
                       "the parent instance can read");
    else
        cachet_ev_pass(ctx, "nitro.debug", NITRO_SPEC_DEBUG, "PCR0-2 are measured (not debug)");
}

cachet_rc nitro_verify(const cachet_evidence_ops *self, const cachet_verify_request *req,
                       cachet_ev_ctx *ctx)
{
    const nitro_config *cfg = self ? (const nitro_config *)self->config : NULL;
    nitro_doc d;
    if (!step_parse(ctx, req, &d))
        return CACHET_OK; /* nothing trustworthy to report on */
    bool debug = nitro_doc_debug(&d);
    nitro_doc_claims(ctx, &d, debug);

    const cachet_x509 *anchor = cfg && cfg->root ? cfg->root : nitro_root_builtin();
    if (!anchor) {
        cachet_ev_internal_error(ctx, "nitro: the built-in AWS root does not load");
        return CACHET_OK;
    }
    cachet_pkey *key = NULL;
    int64_t nb = 0, na = 0;
    bool certs_ok = nitro_check_certs(ctx, req, &d, anchor, &key, &nb, &na);
    bool sig_ok = step_signature(ctx, &d, key);
    bool time_ok = step_timestamp(ctx, req, &d, key != NULL, nb, na);
    cachet_pkey_free(key);
    if (certs_ok && sig_ok && time_ok)
        cachet_ev_authentic(ctx);
    step_nonce(ctx, req, &d);
    step_debug(ctx, debug);
    return CACHET_OK;
}
