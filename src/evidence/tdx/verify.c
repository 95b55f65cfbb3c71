/* TDX and SGX quote verification (evidence-formats §2.7; Intel QVL
 * QuoteVerifier::verify, steps 4.1.2.4.x):
 *
 *   structure -> the platform (PCK chain, CRLs, SGX extension, TCB info, QE
 *   identity, QE report signature and binding: platform.c, cached by content
 *   digest when the request carries a cache) -> quote signature by the
 *   certified attestation key over header || body -> TDX module identity ->
 *   TCB level and status -> debug -> REPORTDATA against the nonce.
 *
 * Every step records a check; a step that cannot run is recorded as not
 * applicable with the reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/clock.h"
#include "cachet/encoding.h"
#include "evidence/tdx/tdx.h"

typedef struct trun {
    tdx_family fam;
    const char *px;
    cachet_ev_ctx *ctx;
    const cachet_verify_request *req;
    tdx_quote q;
    cachet_x509 *builtin[1];
    cachet_x509 *const *roots;
    size_t n_roots;
    tdx_platform *p;
} trun;

typedef struct idbuf {
    char s[64];
} idbuf;

static idbuf cid(const trun *s, const char *suffix)
{
    idbuf b;
    snprintf(b.s, sizeof b.s, "%s.%s", s->px, suffix);
    return b;
}

/* ---- structure ------------------------------------------------------------------ */

static bool step_parse(trun *s)
{
    cachet_rc rc = tdx_quote_parse(s->req->evidence, s->req->evidence_len, &s->q);
    const char *spec = rc == CACHET_OK || s->q.version ? tdx_quote_spec(&s->q) : TDX_SPEC_QUOTE_V4;
    if (rc != CACHET_OK) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, cid(s, "quote.format").s, spec, "%s",
                       cachet_err_detail());
        return false;
    }
    bool tdx = s->q.tee_type == TDX_TEE_TYPE_TDX;
    if (tdx != (s->fam == TDX_FAM_TDX)) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, cid(s, "quote.tee_type").s, spec,
                       "this is %s quote (tee_type 0x%x): verify it as \"%s\"",
                       tdx ? "a TDX" : "an SGX", s->q.tee_type, tdx ? "tdx" : "sgx");
        return false;
    }
    char extra[64] = "";
    if (s->q.trailing)
        snprintf(extra, sizeof extra, "; %zu bytes after the signature data ignored", s->q.trailing);
    cachet_ev_pass(s->ctx, cid(s, "quote.format").s, spec,
                   "quote v%u, %s quote, %s (%u bytes), ECDSA P-256 attestation key, Intel QE, "
                   "signature data %u bytes, certification data %u%s -> PCK chain%s",
                   s->q.version, tdx ? "TDX" : "SGX", tdx_body_type_str(s->q.body_type),
                   s->q.body_len, s->q.sig_data_len, s->q.outer_cert_type,
                   s->q.outer_cert_type == TDX_CERT_QE_REPORT ? " (QE report)" : "", extra);
    return true;
}

static void note_trust_anchors(trun *s)
{
    if (!s->req->n_trust_anchors)
        return;
    cachet_ev_na(s->ctx, false, cid(s, "pck.trust_anchors").s, TDX_SPEC_PCK_CHAIN,
                 "%zu --trust-anchor certificate(s) not used: DCAP chains end only at the built-in "
                 "Intel SGX Root CA", s->req->n_trust_anchors);
}

/* ---- the platform (cached) ---------------------------------------------------------- */

static bool cacheable(const tdx_platform *p)
{
    return !p->recs.failed && !p->recs.oom && p->not_before <= p->not_after;
}

static bool step_platform(trun *s)
{
    tdx_platform_input in = {
        .fam = s->fam,
        .quote = &s->q,
        .endorsements = s->req->endorsements,
        .roots = s->roots,
        .n_roots = s->n_roots,
        .time = s->req->time,
    };
    uint8_t key[32];
    bool keyed = s->req->cache && tdx_platform_key(&in, key);
    bool hit = false;
    if (keyed && cachet_ev_cache_lookup(s->req->cache, key, s->req->time, NULL, NULL)) {
        s->p = tdx_platform_cache_get(key);
        if (s->p && (s->req->time < s->p->not_before || s->req->time > s->p->not_after)) {
            tdx_platform_release(s->p);
            s->p = NULL;
        }
        hit = s->p != NULL;
    }
    if (!s->p)
        s->p = tdx_platform_build(&in);
    if (!s->p) {
        cachet_ev_internal_error(s->ctx, "tdx: out of memory");
        return false;
    }
    if (hit)
        cachet_ev_pass(s->ctx, cid(s, "collateral.cache").s, "cachet verify cache",
                       "PCK chain, CRLs, TCB info, QE identity and QE report verified earlier for "
                       "these exact bytes and valid at this time: reused");
    else if (keyed && cacheable(s->p)) {
        cachet_ev_cache_store(s->req->cache, key, s->p->not_before, s->p->not_after, NULL, 0);
        tdx_platform_cache_put(key, s->p);
    }
    tdx_recs_replay(&s->p->recs, s->ctx);
    for (size_t i = 0; i < s->p->n_used; i++)
        cachet_ev_mark_used(s->ctx, s->p->used[i]);
    return true;
}

/* ---- the quote signature (QVL 4.1.2.4.16) ------------------------------------------------ */

static bool step_signature(trun *s)
{
    idbuf idb = cid(s, "quote.signature");
    const char *id = idb.s;
    if (!s->p->attest_key) {
        cachet_ev_na(s->ctx, false, id, TDX_SPEC_QUOTE_SIG, "not checked: no usable attestation key");
        return false;
    }
    if (cachet_ecdsa_verify_raw(s->p->attest_key, CACHET_HASH_SHA256, s->q.bytes, s->q.signed_len,
                                s->q.signature, 32, CACHET_BIG_ENDIAN) != CACHET_OK) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, TDX_SPEC_QUOTE_SIG,
                       "the quote signature over bytes 0..%zu (header || body) does not verify "
                       "with the attestation key", s->q.signed_len);
        return false;
    }
    cachet_ev_pass(s->ctx, id, TDX_SPEC_QUOTE_SIG,
                   "ECDSA P-256/SHA-256 over bytes 0..%zu (header%s || body) verifies with the "
                   "attestation key", s->q.signed_len, s->q.version == 5 ? " || body descriptor" : "");
    return true;
}

/* ---- TDX module identity (QVL 4.1.2.4.11) -------------------------------------------------- */

static bool step_module(trun *s, const tdx_tcb_info *ti)
{
    const uint8_t *svn = s->q.td.tee_tcb_svn;
    const uint8_t *mrsigner = ti->module_mrsigner, *attrs = ti->module_attributes;
    const char *which = "tdxModule";
    if (svn[1] > 0) {
        const tdx_module_identity *m = tdx_module_identity_find(ti, svn[1]);
        if (!m) {
            cachet_ev_fail(s->ctx, CACHET_EV_CONTENT, cid(s, "module.identity").s, TDX_SPEC_MODULE,
                           "TEE_TCB_SVN[1] = %u but the TCB info has no TDX module identity "
                           "TDX_%02X (TdxModuleMismatch)", svn[1], svn[1]);
            return false;
        }
        mrsigner = m->mrsigner;
        attrs = m->attributes;
        which = m->id;
    }
    cachet_ev_pass(s->ctx, cid(s, "module.identity").s, TDX_SPEC_MODULE,
                   "TDX module major version %u: expected values from %s", svn[1], which);
    char exp[97], act[97];
    tdx_hex(mrsigner, 48, exp);
    tdx_hex(s->q.td.mrsignerseam, 48, act);
    bool ok = cachet_ev_compare(s->ctx, CACHET_EV_CONTENT, cid(s, "module.mrsignerseam").s,
                                TDX_SPEC_MODULE " MRSIGNERSEAM", exp, act);
    tdx_hex(attrs, 8, exp);
    tdx_hex(s->q.td.seam_attributes, 8, act);
    /* QVL: every SEAMATTRIBUTES byte must be zero and equal the identity's. */
    if (!tdx_all_zero(attrs, 8))
        snprintf(exp, sizeof exp, "0000000000000000");
    ok = cachet_ev_compare(s->ctx, CACHET_EV_CONTENT, cid(s, "module.seamattributes").s,
                           TDX_SPEC_MODULE " SEAMATTRIBUTES", exp, act) && ok;
    return ok;
}

/* ---- TCB level and status (QVL 4.1.2.4.17) --------------------------------------------------- */

static bool warn_status(tdx_tcb_status st)
{
    return st != TDX_TCB_UP_TO_DATE && st != TDX_TCB_REVOKED;
}

static void advisories_text(const tdx_tcb_eval *e, char *buf, size_t cap)
{
    buf[0] = 0;
    const tdx_advisories *lists[3] = {
        e->tdx_level ? &e->tdx_level->adv : e->sgx_level ? &e->sgx_level->adv : NULL,
        e->module_level ? &e->module_level->adv : NULL,
        e->qe_level ? &e->qe_level->adv : NULL,
    };
    for (int l = 0; l < 3; l++) {
        for (size_t i = 0; lists[l] && i < lists[l]->n; i++) {
            if (strstr(buf, lists[l]->ids[i]))
                continue;
            size_t used = strlen(buf);
            snprintf(buf + used, cap - used, "%s%s", used ? ", " : "", lists[l]->ids[i]);
        }
    }
}

static void step_tcb(trun *s)
{
    const tdx_platform *p = s->p;
    idbuf lvb = cid(s, "tcb.level");
    const char *id_level = lvb.s;
    if (!p->pck_ok || !p->has_tcb_info) {
        cachet_ev_na(s->ctx, false, id_level, TDX_SPEC_TCB_LEVEL,
                     "no verified TCB info: the platform TCB is not evaluated (tcb_status unknown)");
        return;
    }
    const tdx_tcb_info *ti = &p->tcb_info;
    bool tdx = s->fam == TDX_FAM_TDX;
    if (tdx && !step_module(s, ti)) {
        cachet_ev_claim_str(s->ctx, NULL, "tcb_status", tdx_tcb_status_str(TDX_TCB_MODULE_MISMATCH));
        cachet_ev_na(s->ctx, false, id_level, TDX_SPEC_TCB_LEVEL, "not evaluated: TDX module mismatch");
        return;
    }
    tdx_tcb_eval e;
    tdx_tcb_evaluate(ti, &p->pck, tdx ? s->q.td.tee_tcb_svn : NULL,
                     tdx ? s->q.td.tee_tcb_svn2 : NULL, p->qe_level, &e);
    if (p->has_qe_identity && !p->qe_level_ok)
        e.status = TDX_TCB_NOT_SUPPORTED; /* the QE's own level failed (qe_identity.tcb) */
    tdx_claims_tcb(s->ctx, &e);
    if (e.status == TDX_TCB_NOT_SUPPORTED || e.status == TDX_TCB_MODULE_MISMATCH) {
        if (e.why[0])
            cachet_ev_fail(s->ctx, CACHET_EV_CONTENT, id_level, TDX_SPEC_TCB_LEVEL, "%s: %s",
                           tdx_tcb_status_str(e.status), e.why);
        else
            cachet_ev_na(s->ctx, false, id_level, TDX_SPEC_TCB_LEVEL,
                         "not evaluated: the QE TCB matches no level");
        return;
    }
    const tdx_tcb_level *pl = e.tdx_level ? e.tdx_level : e.sgx_level;
    char date[21], mod[96] = "", qe[64] = "";
    cachet_time_format_rfc3339(pl->tcb_date, date);
    if (e.module && e.module_level)
        snprintf(mod, sizeof mod, "; TDX module %s level isvsvn %u: %s", e.module->id,
                 e.module_level->isvsvn, tdx_tcb_status_str(e.module_level->status));
    if (e.qe_level)
        snprintf(qe, sizeof qe, "; QE level isvsvn %u: %s", e.qe_level->isvsvn,
                 tdx_tcb_status_str(e.qe_level->status));
    cachet_ev_pass(s->ctx, id_level, TDX_SPEC_TCB_LEVEL, "platform level tcbDate %s: %s%s%s", date,
                   tdx_tcb_status_str(pl->status), mod, qe);

    idbuf stb = cid(s, "tcb.status");
    const char *id_status = stb.s;
    char adv[512];
    advisories_text(&e, adv, sizeof adv);
    if (e.status == TDX_TCB_REVOKED) {
        cachet_ev_fail(s->ctx, CACHET_EV_CONTENT, id_status, TDX_SPEC_TCB_LEVEL,
                       "the TCB is Revoked%s%s", adv[0] ? ": " : "", adv);
    } else if (warn_status(e.status)) {
        cachet_ev_pass(s->ctx, id_status, TDX_SPEC_TCB_LEVEL, "%s%s%s", tdx_tcb_status_str(e.status),
                       adv[0] ? ": " : "", adv);
        cachet_ev_warn(s->ctx, "tcb_status: %s%s%s%s", tdx_tcb_status_str(e.status),
                       adv[0] ? " (advisories: " : "", adv, adv[0] ? ")" : "");
    } else {
        cachet_ev_pass(s->ctx, id_status, TDX_SPEC_TCB_LEVEL, "UpToDate%s%s", adv[0] ? ": " : "", adv);
    }
}

/* ---- content: debug, service TDs, nonce ------------------------------------------------------ */

static void step_debug(trun *s)
{
    if (s->q.body_type == TDX_BODY_SGX) {
        const tdx_enclave_report *e = &s->q.enclave;
        if (e->attr_flags & TDX_SGX_ATTR_DEBUG)
            cachet_ev_fail(s->ctx, CACHET_EV_CONTENT, cid(s, "enclave.debug").s, TDX_SPEC_SGX_ATTR,
                           "ATTRIBUTES bit 1 (DEBUG) is set: the enclave's memory can be read and "
                           "altered by a debugger");
        else
            cachet_ev_pass(s->ctx, cid(s, "enclave.debug").s, TDX_SPEC_SGX_ATTR,
                           "the enclave is not in debug mode");
        return;
    }
    const tdx_td_report *td = &s->q.td;
    if (td->td_attributes & TDX_TD_ATTR_DEBUG)
        cachet_ev_fail(s->ctx, CACHET_EV_CONTENT, cid(s, "td.debug").s, TDX_SPEC_TD_ATTR,
                       "TDATTRIBUTES bit 0 (DEBUG) is set (0x%016llx): the host can read and alter "
                       "the TD's state", (unsigned long long)td->td_attributes);
    else
        cachet_ev_pass(s->ctx, cid(s, "td.debug").s, TDX_SPEC_TD_ATTR,
                       "the TD is not in debug mode (TDATTRIBUTES 0x%016llx)",
                       (unsigned long long)td->td_attributes);
    if (td->mrservicetd) {
        if (tdx_all_zero(td->mrservicetd, 48)) {
            cachet_ev_pass(s->ctx, cid(s, "td.mrservicetd").s, TDX_SPEC_TD_ATTR,
                           "no service TD is bound (MRSERVICETD is zero)");
        } else {
            cachet_ev_pass(s->ctx, cid(s, "td.mrservicetd").s, TDX_SPEC_TD_ATTR,
                           "service TDs are bound to this TD (MRSERVICETD non-zero)");
            cachet_ev_warn(s->ctx, "%s: service TDs are bound; a policy must judge MRSERVICETD",
                           cid(s, "td.mrservicetd").s);
        }
    }
}

static void step_nonce(trun *s)
{
    idbuf idb = cid(s, "report_data.nonce");
    const char *id = idb.s;
    const uint8_t *rd = s->q.body_type == TDX_BODY_SGX ? s->q.enclave.reportdata : s->q.td.reportdata;
    if (!s->req->nonce) {
        cachet_ev_na(s->ctx, false, id, TDX_SPEC_REPORTDATA, "no nonce given: freshness not checked");
        cachet_ev_claim_str(s->ctx, NULL, "freshness", "not-checked");
        return;
    }
    if (s->req->nonce_len > 64) {
        cachet_ev_fail(s->ctx, CACHET_EV_CONTENT, id, TDX_SPEC_REPORTDATA,
                       "nonce is %zu bytes; REPORTDATA holds 64", s->req->nonce_len);
        cachet_ev_claim_str(s->ctx, NULL, "freshness", "mismatch");
        return;
    }
    /* Shorter nonces are zero-padded and all 64 bytes compared. */
    uint8_t want[64] = { 0 };
    memcpy(want, s->req->nonce, s->req->nonce_len);
    char exp[129], act[129];
    tdx_hex(want, 64, exp);
    tdx_hex(rd, 64, act);
    bool ok = cachet_ev_compare(s->ctx, CACHET_EV_CONTENT, id, TDX_SPEC_REPORTDATA, exp, act);
    cachet_ev_claim_str(s->ctx, NULL, "freshness", ok ? "nonce-matched" : "mismatch");
}

/* ---- the procedure ----------------------------------------------------------------------------- */

static cachet_rc run(tdx_family fam, const cachet_evidence_ops *self,
                     const cachet_verify_request *req, cachet_ev_ctx *ctx)
{
    trun s;
    memset(&s, 0, sizeof s);
    s.fam = fam;
    s.px = tdx_family_prefix(fam);
    s.ctx = ctx;
    s.req = req;
    const tdx_config *cfg = self ? (const tdx_config *)self->config : NULL;
    if (cfg && cfg->n_roots) {
        s.roots = cfg->roots;
        s.n_roots = cfg->n_roots;
    } else {
        s.builtin[0] = tdx_intel_root();
        if (!s.builtin[0]) {
            cachet_ev_internal_error(ctx, "tdx: the built-in Intel SGX Root CA does not match its pin");
            return CACHET_OK;
        }
        s.roots = s.builtin;
        s.n_roots = 1;
    }

    if (!step_parse(&s))
        return CACHET_OK; /* nothing trustworthy to report on */
    note_trust_anchors(&s);
    if (!step_platform(&s))
        return CACHET_OK;
    bool sig_ok = step_signature(&s);
    if (sig_ok && s.p->auth_ok)
        cachet_ev_authentic(ctx);

    tdx_claims_quote(ctx, &s.q);
    tdx_claims_platform(ctx, s.p);
    step_tcb(&s);
    step_debug(&s);
    step_nonce(&s);
    tdx_platform_release(s.p);
    return CACHET_OK;
}

cachet_rc tdx_verify_tdx(const cachet_evidence_ops *self, const cachet_verify_request *req,
                         cachet_ev_ctx *ctx)
{
    return run(TDX_FAM_TDX, self, req, ctx);
}

cachet_rc tdx_verify_sgx(const cachet_evidence_ops *self, const cachet_verify_request *req,
                         cachet_ev_ctx *ctx)
{
    return run(TDX_FAM_SGX, self, req, ctx);
}
