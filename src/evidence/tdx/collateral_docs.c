/* TCB info and QE identity (evidence-formats §2.7 steps 3, 4, 6; Intel QVL
 * 4.1.2.4.8-4.1.2.4.10, 4.1.2.4.14):
 *
 *   select (id for this TEE, FMSPC of the PCK; the newest valid one) ->
 *   signing chain: an "Intel SGX TCB Signing" certificate that chains to the
 *   pinned root and is not in the root CA CRL -> its ECDSA P-256 signature
 *   over the exact bytes as served -> issueDate <= t < nextUpdate ->
 *   FMSPC and PCE-ID equal to the PCK's.
 *
 * A document that is present but broken fails; one that is absent leaves
 * the TCB unjudged (warning), never affirmed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/clock.h"
#include "evidence/tdx/platform_int.h"

typedef struct doc_kind {
    const char *id;   /* "tcb_info" */
    const char *spec;
    const char *what; /* "TCB info" */
} doc_kind;

static const doc_kind TCB_INFO = { "tcb_info", TDX_SPEC_TCB_INFO, "TCB info" };
static const doc_kind QE_IDENTITY = { "qe_identity", TDX_SPEC_QE_IDENTITY, "QE identity" };

static void rec_id(char *buf, size_t cap, const doc_kind *k, const char *suffix)
{
    snprintf(buf, cap, "%s.%s", k->id, suffix);
}

static bool revoked_by_root(const tdx_prun *s, const cachet_x509 *c)
{
    for (size_t i = 0; i < s->n_root_crls; i++)
        if (cachet_crl_is_revoked(s->root_crls[i], c))
            return true;
    return false;
}

/* Signing chain and signature of one document.  Every "TCB Signing"
 * certificate among the endorsements is tried (Intel re-issued it in 2025
 * with the same key, so two may be present); the first that chains at t,
 * is not revoked and verifies the signature wins. */
static bool verify_doc(tdx_prun *s, const tdx_signed_doc *d, const doc_kind *k)
{
    char id_chain[40], id_sig[40];
    rec_id(id_chain, sizeof id_chain, k, "chain");
    rec_id(id_sig, sizeof id_sig, k, "signature");

    cachet_x509 **inter = calloc(s->pool.n_certs ? s->pool.n_certs : 1, sizeof *inter);
    if (!inter) {
        s->r->oom = true;
        return false;
    }
    for (size_t i = 0; i < s->pool.n_certs; i++)
        inter[i] = s->pool.certs[i].cert;

    size_t candidates = 0, chained = 0;
    bool revoked = false, ok = false;
    char err[200] = "", signer_from[160] = "";
    for (size_t i = 0; i < s->pool.n_certs && !ok; i++) {
        const cachet_x509 *c = s->pool.certs[i].cert;
        char cn[80];
        if (cachet_x509_subject_cn(c, cn, sizeof cn) != CACHET_OK || !strstr(cn, "TCB Signing"))
            continue;
        candidates++;
        tdx_prun_cert_edges(s, c);
        cachet_chain_result res;
        memset(&res, 0, sizeof res);
        cachet_chain_params cp = {
            .leaf = c,
            .intermediates = inter,
            .n_intermediates = s->pool.n_certs,
            .roots = s->in->roots,
            .n_roots = s->in->n_roots,
            .time = s->t0,
            .flags = CACHET_CHAIN_STRICT,
        };
        if (cachet_x509_verify_chain(&cp, &res) != CACHET_OK || res.depth < 2 ||
            !tdx_prun_is_anchor(s, res.path[res.depth - 1])) {
            if (!err[0])
                snprintf(err, sizeof err, "%s", res.error_str[0] ? res.error_str : cachet_err_detail());
            cachet_chain_result_clear(&res);
            continue;
        }
        if (revoked_by_root(s, c)) {
            revoked = true;
            cachet_chain_result_clear(&res);
            continue;
        }
        chained++;
        cachet_pkey *pk = NULL;
        if (cachet_x509_public_key(c, &pk) == CACHET_OK &&
            cachet_ecdsa_verify_raw(pk, CACHET_HASH_SHA256, d->body, d->len, d->sig, 32,
                                    CACHET_BIG_ENDIAN) == CACHET_OK) {
            ok = true;
            tdx_prun_path_window(s, &res);
            tdx_prun_use(s, s->pool.certs[i].src);
            snprintf(signer_from, sizeof signer_from, "%s", tdx_prun_src_name(s, s->pool.certs[i].src));
        }
        cachet_pkey_free(pk);
        cachet_chain_result_clear(&res);
    }
    free(inter);

    if (ok) {
        tdx_recs_pass(s->r, id_chain, k->spec,
                      "Intel SGX TCB Signing (from %s) -> Intel SGX Root CA (pinned)%s", signer_from,
                      s->n_root_crls ? "; not in the root CA CRL" : "");
        tdx_recs_pass(s->r, id_sig, k->spec,
                      "ECDSA P-256/SHA-256 over the %zu bytes of the %s as served verifies", d->len,
                      k->what);
        return true;
    }
    if (!candidates) {
        tdx_recs_fail(s->r, CACHET_EV_AUTH, id_chain, k->spec,
                      "no Intel SGX TCB Signing certificate among the endorsements: pass the %s "
                      "issuer chain", k->what);
        tdx_recs_na(s->r, false, id_sig, k->spec, "not checked: no signer");
    } else if (chained) {
        tdx_recs_pass(s->r, id_chain, k->spec, "Intel SGX TCB Signing -> Intel SGX Root CA (pinned)");
        tdx_recs_fail(s->r, CACHET_EV_AUTH, id_sig, k->spec,
                      "the signature over the %zu served bytes does not verify with the TCB "
                      "signing key: the %s was altered or is not Intel's", d->len, k->what);
    } else if (revoked) {
        tdx_recs_fail(s->r, CACHET_EV_AUTH, id_chain, k->spec,
                      "the TCB signing certificate is revoked by the Intel SGX Root CA CRL");
        tdx_recs_na(s->r, false, id_sig, k->spec, "not checked: no trusted signer");
    } else {
        char when[21];
        cachet_time_format_rfc3339(s->t0, when);
        tdx_recs_fail(s->r, CACHET_EV_AUTH, id_chain, k->spec,
                      "no TCB signing certificate chains to the Intel SGX Root CA at %s: %s", when, err);
        tdx_recs_na(s->r, false, id_sig, k->spec, "not checked: no trusted signer");
    }
    return false;
}

static bool validity(tdx_prun *s, const doc_kind *k, int64_t issue, int64_t next)
{
    char id[40], a[21], b[21];
    rec_id(id, sizeof id, k, "validity");
    cachet_time_format_rfc3339(issue, a);
    cachet_time_format_rfc3339(next, b);
    if (issue <= s->t0 && s->t0 < next) {
        tdx_prun_window(s, issue, next - 1);
        tdx_recs_pass(s->r, id, k->spec, "issueDate %s <= t < nextUpdate %s", a, b);
        return true;
    }
    char when[21];
    cachet_time_format_rfc3339(s->t0, when);
    tdx_recs_fail(s->r, CACHET_EV_AUTH, id, k->spec,
                  "%s is valid %s..%s, not at %s (stale or not yet valid collateral)", k->what, a, b,
                  when);
    return false;
}

static bool preferred(int64_t t, int64_t ia, int64_t na, int64_t ea, int64_t ib, int64_t nb, int64_t eb)
{
    bool va = ia <= t && t < na, vb = ib <= t && t < nb;
    if (va != vb)
        return va;
    if (ea != eb)
        return ea > eb;
    return ia > ib;
}

/* ---- TCB info --------------------------------------------------------------------- */

void tdx_step_tcb_info(tdx_prun *s)
{
    const doc_kind *k = &TCB_INFO;
    bool want_tdx = s->in->fam == TDX_FAM_TDX;
    const char *want_id = want_tdx ? "TDX" : "SGX";
    size_t n = s->pool.n_tcb_infos;
    char fmspc[13];
    tdx_hex(s->p->pck.fmspc, 6, fmspc);
    if (!n) {
        tdx_recs_na(s->r, true, "tcb_info.select", k->spec,
                    "no TCB info among the endorsements (FMSPC %s): the platform TCB cannot be "
                    "evaluated", fmspc);
        return;
    }
    tdx_tcb_info *v = calloc(n, sizeof *v);
    bool *parsed = calloc(n, sizeof *parsed);
    if (!v || !parsed) {
        free(v);
        free(parsed);
        s->r->oom = true;
        return;
    }
    size_t n_parsed = 0, n_id = 0, best = n;
    char others[200] = "";
    for (size_t i = 0; i < n; i++) {
        const tdx_signed_doc *d = &s->pool.tcb_infos[i];
        if (tdx_tcb_info_parse(d->body, d->len, &v[i]) != CACHET_OK) {
            tdx_prun_use(s, d->src);
            tdx_recs_fail(s->r, CACHET_EV_AUTH, "tcb_info.format", k->spec, "%s: %s",
                          tdx_prun_src_name(s, d->src), cachet_err_detail());
            continue;
        }
        parsed[i] = true;
        n_parsed++;
        if (v[i].is_tdx != want_tdx)
            continue;
        n_id++;
        char f[13];
        tdx_hex(v[i].fmspc, 6, f);
        if (memcmp(v[i].fmspc, s->p->pck.fmspc, 6) != 0) {
            size_t used = strlen(others);
            if (used + 16 < sizeof others)
                snprintf(others + used, sizeof others - used, "%s%s", used ? "," : "", f);
            continue;
        }
        tdx_prun_edge(s, v[i].issue_date);
        tdx_prun_edge(s, v[i].next_update);
        if (best == n || preferred(s->t0, v[i].issue_date, v[i].next_update, v[i].eval_number,
                                   v[best].issue_date, v[best].next_update, v[best].eval_number))
            best = i;
    }
    if (n_parsed && !n_id) {
        tdx_recs_compare(s->r, CACHET_EV_AUTH, "tcb_info.id", TDX_SPEC_TCB_INFO_MATCH, want_id,
                         want_tdx ? "SGX" : "TDX");
    } else if (n_id && best == n) {
        tdx_recs_compare(s->r, CACHET_EV_AUTH, "tcb_info.fmspc", TDX_SPEC_TCB_INFO_MATCH, fmspc,
                         others);
    } else if (best < n) {
        const tdx_signed_doc *d = &s->pool.tcb_infos[best];
        tdx_tcb_info *ti = &v[best];
        tdx_prun_use(s, d->src);
        tdx_recs_pass(s->r, "tcb_info.select", k->spec,
                      "TCB info v%d for FMSPC %s from %s (%s), tcbEvaluationDataNumber %lld%s",
                      ti->version, fmspc, tdx_prun_src_name(s, d->src), d->form,
                      (long long)ti->eval_number, n > 1 ? ", the newest valid one" : "");
        bool ok = verify_doc(s, d, k);
        ok = validity(s, k, ti->issue_date, ti->next_update) && ok;
        tdx_recs_pass(s->r, "tcb_info.id", TDX_SPEC_TCB_INFO_MATCH, "id %s, version %d for a %s quote",
                      want_id, ti->version, want_tdx ? "TDX" : "SGX");
        char f[13], pe[5], pe2[5];
        tdx_hex(ti->fmspc, 6, f);
        ok = tdx_recs_compare(s->r, CACHET_EV_AUTH, "tcb_info.fmspc", TDX_SPEC_TCB_INFO_MATCH, fmspc, f) && ok;
        tdx_hex(s->p->pck.pceid, 2, pe);
        tdx_hex(ti->pceid, 2, pe2);
        ok = tdx_recs_compare(s->r, CACHET_EV_AUTH, "tcb_info.pceid", TDX_SPEC_TCB_INFO_MATCH, pe, pe2) && ok;
        if (ok) {
            s->p->tcb_info = *ti;
            memset(ti, 0, sizeof *ti);
            s->p->has_tcb_info = true;
        }
    }
    for (size_t i = 0; i < n; i++)
        if (parsed[i])
            tdx_tcb_info_clear(&v[i]);
    free(v);
    free(parsed);
}

/* ---- QE identity ------------------------------------------------------------------- */

void tdx_step_qe_identity(tdx_prun *s)
{
    const doc_kind *k = &QE_IDENTITY;
    const char *want = s->in->fam == TDX_FAM_TDX ? "TD_QE" : "QE";
    size_t n = s->pool.n_qe_ids;
    if (!n) {
        tdx_recs_na(s->r, true, "qe_identity.select", k->spec,
                    "no QE identity among the endorsements: the quoting enclave's identity and TCB "
                    "are not judged");
        return;
    }
    tdx_qe_identity *v = calloc(n, sizeof *v);
    bool *parsed = calloc(n, sizeof *parsed);
    if (!v || !parsed) {
        free(v);
        free(parsed);
        s->r->oom = true;
        return;
    }
    size_t n_parsed = 0, best = n;
    char ids[64] = "";
    for (size_t i = 0; i < n; i++) {
        const tdx_signed_doc *d = &s->pool.qe_ids[i];
        if (tdx_qe_identity_parse(d->body, d->len, &v[i]) != CACHET_OK) {
            tdx_prun_use(s, d->src);
            tdx_recs_fail(s->r, CACHET_EV_AUTH, "qe_identity.format", k->spec, "%s: %s",
                          tdx_prun_src_name(s, d->src), cachet_err_detail());
            continue;
        }
        parsed[i] = true;
        n_parsed++;
        if (strcmp(v[i].id, want) != 0) {
            size_t used = strlen(ids);
            if (used + 10 < sizeof ids)
                snprintf(ids + used, sizeof ids - used, "%s%s", used ? "," : "", v[i].id);
            continue;
        }
        tdx_prun_edge(s, v[i].issue_date);
        tdx_prun_edge(s, v[i].next_update);
        if (best == n || preferred(s->t0, v[i].issue_date, v[i].next_update, v[i].eval_number,
                                   v[best].issue_date, v[best].next_update, v[best].eval_number))
            best = i;
    }
    if (n_parsed && best == n) {
        tdx_recs_compare(s->r, CACHET_EV_AUTH, "qe_identity.id", TDX_SPEC_QE_IDENTITY, want, ids);
    } else if (best < n) {
        const tdx_signed_doc *d = &s->pool.qe_ids[best];
        tdx_qe_identity *qi = &v[best];
        tdx_prun_use(s, d->src);
        tdx_recs_pass(s->r, "qe_identity.select", k->spec,
                      "QE identity %s v%d from %s (%s), tcbEvaluationDataNumber %lld", qi->id,
                      qi->version, tdx_prun_src_name(s, d->src), d->form, (long long)qi->eval_number);
        bool ok = verify_doc(s, d, k);
        ok = validity(s, k, qi->issue_date, qi->next_update) && ok;
        tdx_recs_pass(s->r, "qe_identity.id", TDX_SPEC_QE_IDENTITY, "id %s, version %d", qi->id,
                      qi->version);
        if (ok) {
            s->p->qe_identity = *qi;
            memset(qi, 0, sizeof *qi);
            s->p->has_qe_identity = true;
        }
    }
    for (size_t i = 0; i < n; i++)
        if (parsed[i])
            tdx_qe_identity_clear(&v[i]);
    free(v);
    free(parsed);
}
