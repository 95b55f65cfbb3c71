/* Claims of TDX and SGX quotes (documented in docs/evidence/tdx.md).  The
 * values come straight from the parsed quote, the PCK certificate and the
 * collateral; the verdict on them is in the checks. */
#include <stdio.h>
#include <string.h>

#include "cachet/clock.h"
#include "evidence/tdx/tdx.h"

static void claim_u64(cachet_ev_ctx *ctx, json_t *parent, const char *key, uint64_t v)
{
    char hex[19];
    snprintf(hex, sizeof hex, "0x%016llx", (unsigned long long)v);
    cachet_ev_claim_str(ctx, parent, key, hex);
}

static void claim_time(cachet_ev_ctx *ctx, json_t *parent, const char *key, int64_t t)
{
    char buf[21];
    cachet_time_format_rfc3339(t, buf);
    cachet_ev_claim_str(ctx, parent, key, buf);
}

static void td_claims(cachet_ev_ctx *ctx, const tdx_quote *q)
{
    const tdx_td_report *td = &q->td;
    cachet_ev_claim_hex(ctx, NULL, "measurement", td->mrtd, 48);
    cachet_ev_claim_hex(ctx, NULL, "report_data", td->reportdata, 64);
    cachet_ev_claim_bool(ctx, NULL, "debug", td->td_attributes & TDX_TD_ATTR_DEBUG);
    cachet_ev_claim_str(ctx, NULL, "tcb_status", "unknown"); /* set by the TCB checks */
    cachet_ev_claim_hex(ctx, NULL, "mrtd", td->mrtd, 48);
    static const char *const rtmr[4] = { "rtmr0", "rtmr1", "rtmr2", "rtmr3" };
    for (int i = 0; i < 4; i++)
        cachet_ev_claim_hex(ctx, NULL, rtmr[i], td->rtmr[i], 48);
    cachet_ev_claim_hex(ctx, NULL, "mrconfigid", td->mrconfigid, 48);
    cachet_ev_claim_hex(ctx, NULL, "mrowner", td->mrowner, 48);
    cachet_ev_claim_hex(ctx, NULL, "mrownerconfig", td->mrownerconfig, 48);
    cachet_ev_claim_hex(ctx, NULL, "mrseam", td->mrseam, 48);
    cachet_ev_claim_hex(ctx, NULL, "mrsignerseam", td->mrsignerseam, 48);
    cachet_ev_claim_hex(ctx, NULL, "seam_attributes", td->seam_attributes, 8);
    claim_u64(ctx, NULL, "td_attributes", td->td_attributes);
    json_t *f = cachet_ev_claim_object(ctx, NULL, "td_attributes_flags");
    if (f) {
        uint64_t a = td->td_attributes;
        cachet_ev_claim_bool(ctx, f, "debug", a & TDX_TD_ATTR_DEBUG);
        cachet_ev_claim_bool(ctx, f, "tud_reserved", a & TDX_TD_ATTR_TUD_RESERVED);
        cachet_ev_claim_bool(ctx, f, "sept_ve_disable", a & TDX_TD_ATTR_SEPT_VE_DISABLE);
        cachet_ev_claim_bool(ctx, f, "migratable", a & TDX_TD_ATTR_MIGRATABLE);
        cachet_ev_claim_bool(ctx, f, "pks", a & TDX_TD_ATTR_PKS);
        cachet_ev_claim_bool(ctx, f, "kl", a & TDX_TD_ATTR_KL);
        cachet_ev_claim_bool(ctx, f, "perfmon", a & TDX_TD_ATTR_PERFMON);
    }
    claim_u64(ctx, NULL, "xfam", td->xfam);
    cachet_ev_claim_hex(ctx, NULL, "tee_tcb_svn", td->tee_tcb_svn, 16);
    if (td->tee_tcb_svn2)
        cachet_ev_claim_hex(ctx, NULL, "tee_tcb_svn2", td->tee_tcb_svn2, 16);
    if (td->mrservicetd)
        cachet_ev_claim_hex(ctx, NULL, "mrservicetd", td->mrservicetd, 48);
}

static void enclave_claims(cachet_ev_ctx *ctx, const tdx_enclave_report *e)
{
    cachet_ev_claim_hex(ctx, NULL, "measurement", e->mrenclave, 32);
    cachet_ev_claim_hex(ctx, NULL, "report_data", e->reportdata, 64);
    cachet_ev_claim_bool(ctx, NULL, "debug", e->attr_flags & TDX_SGX_ATTR_DEBUG);
    cachet_ev_claim_str(ctx, NULL, "tcb_status", "unknown");
    cachet_ev_claim_hex(ctx, NULL, "mrenclave", e->mrenclave, 32);
    cachet_ev_claim_hex(ctx, NULL, "mrsigner", e->mrsigner, 32);
    cachet_ev_claim_int(ctx, NULL, "isvprodid", e->isvprodid);
    cachet_ev_claim_int(ctx, NULL, "isvsvn", e->isvsvn);
    cachet_ev_claim_int(ctx, NULL, "configsvn", e->configsvn);
    cachet_ev_claim_hex(ctx, NULL, "configid", e->configid, 64);
    cachet_ev_claim_hex(ctx, NULL, "isvextprodid", e->isvextprodid, 16);
    cachet_ev_claim_hex(ctx, NULL, "isvfamilyid", e->isvfamilyid, 16);
    cachet_ev_claim_hex(ctx, NULL, "cpusvn", e->cpusvn, 16);
    char misc[11];
    snprintf(misc, sizeof misc, "0x%08x", e->miscselect);
    cachet_ev_claim_str(ctx, NULL, "miscselect", misc);
    cachet_ev_claim_hex(ctx, NULL, "attributes", e->attributes, 16);
    json_t *f = cachet_ev_claim_object(ctx, NULL, "attributes_flags");
    if (f) {
        uint64_t a = e->attr_flags;
        cachet_ev_claim_bool(ctx, f, "init", a & TDX_SGX_ATTR_INIT);
        cachet_ev_claim_bool(ctx, f, "debug", a & TDX_SGX_ATTR_DEBUG);
        cachet_ev_claim_bool(ctx, f, "mode64bit", a & TDX_SGX_ATTR_MODE64);
        cachet_ev_claim_bool(ctx, f, "provisionkey", a & TDX_SGX_ATTR_PROVISIONKEY);
        cachet_ev_claim_bool(ctx, f, "einittokenkey", a & TDX_SGX_ATTR_EINITTOKENKEY);
        cachet_ev_claim_bool(ctx, f, "kss", a & TDX_SGX_ATTR_KSS);
    }
    claim_u64(ctx, NULL, "xfrm", e->attr_xfrm);
}

void tdx_claims_quote(cachet_ev_ctx *ctx, const tdx_quote *q)
{
    if (q->body_type == TDX_BODY_SGX)
        enclave_claims(ctx, &q->enclave);
    else
        td_claims(ctx, q);
    cachet_ev_claim_int(ctx, NULL, "quote_version", q->version);
    cachet_ev_claim_str(ctx, NULL, "quote_body", tdx_body_type_str(q->body_type));
    json_t *qe = cachet_ev_claim_object(ctx, NULL, "qe");
    if (qe) {
        cachet_ev_claim_hex(ctx, qe, "mrenclave", q->qe_report.mrenclave, 32);
        cachet_ev_claim_hex(ctx, qe, "mrsigner", q->qe_report.mrsigner, 32);
        cachet_ev_claim_int(ctx, qe, "isvprodid", q->qe_report.isvprodid);
        cachet_ev_claim_int(ctx, qe, "isvsvn", q->qe_report.isvsvn);
    }
}

void tdx_claims_platform(cachet_ev_ctx *ctx, const tdx_platform *p)
{
    if (p->pck_ok) {
        const tdx_pck_ext *e = &p->pck;
        cachet_ev_claim_hex(ctx, NULL, "fmspc", e->fmspc, 6);
        cachet_ev_claim_hex(ctx, NULL, "pce_id", e->pceid, 2);
        cachet_ev_claim_str(ctx, NULL, "pck_ca",
                            p->pck_ca == TDX_PCK_CA_PROCESSOR ? "processor"
                            : p->pck_ca == TDX_PCK_CA_PLATFORM ? "platform" : "unknown");
        cachet_ev_claim_str(ctx, NULL, "sgx_type", tdx_sgx_type_str(e->sgx_type));
        json_t *t = cachet_ev_claim_object(ctx, NULL, "pck_tcb");
        if (t) {
            cachet_ev_claim_hex(ctx, t, "cpusvn", e->cpusvn, 16);
            cachet_ev_claim_int(ctx, t, "pcesvn", e->pcesvn);
            json_t *arr = json_array();
            for (int i = 0; arr && i < 16; i++)
                if (json_array_append_new(arr, json_integer(e->comp[i])) != 0) {
                    json_decref(arr);
                    arr = NULL;
                }
            cachet_ev_claim(ctx, t, "sgx_tcb_components", arr);
        }
        if (e->smt_enabled >= 0)
            cachet_ev_claim_bool(ctx, NULL, "platform_smt_enabled", e->smt_enabled);
    }
    json_t *c = cachet_ev_claim_object(ctx, NULL, "collateral");
    if (!c)
        return;
    cachet_ev_claim_bool(ctx, c, "tcb_info", p->has_tcb_info);
    cachet_ev_claim_bool(ctx, c, "qe_identity", p->has_qe_identity);
    cachet_ev_claim_bool(ctx, c, "crls", p->crl_checked);
    if (p->has_tcb_info) {
        cachet_ev_claim_int(ctx, c, "tcb_evaluation_data_number", p->tcb_info.eval_number);
        claim_time(ctx, c, "tcb_info_issue_date", p->tcb_info.issue_date);
        claim_time(ctx, c, "tcb_info_next_update", p->tcb_info.next_update);
    }
    if (p->has_qe_identity) {
        claim_time(ctx, c, "qe_identity_issue_date", p->qe_identity.issue_date);
        claim_time(ctx, c, "qe_identity_next_update", p->qe_identity.next_update);
    }
}

static void add_advisories(json_t *arr, const tdx_advisories *a)
{
    for (size_t i = 0; a && i < a->n; i++) {
        bool dup = false;
        size_t k;
        json_t *v;
        json_array_foreach(arr, k, v) {
            if (strcmp(json_string_value(v), a->ids[i]) == 0)
                dup = true;
        }
        if (!dup)
            json_array_append_new(arr, json_string(a->ids[i]));
    }
}

void tdx_claims_tcb(cachet_ev_ctx *ctx, const tdx_tcb_eval *e)
{
    cachet_ev_claim_str(ctx, NULL, "tcb_status", tdx_tcb_status_str(e->status));
    const tdx_tcb_level *pl = e->tdx_level ? e->tdx_level : e->sgx_level;
    json_t *adv = json_array();
    if (adv) {
        if (pl)
            add_advisories(adv, &pl->adv);
        if (e->module_level)
            add_advisories(adv, &e->module_level->adv);
        if (e->qe_level)
            add_advisories(adv, &e->qe_level->adv);
    }
    cachet_ev_claim(ctx, NULL, "advisory_ids", adv);
    json_t *d = cachet_ev_claim_object(ctx, NULL, "tcb");
    if (!d)
        return;
    if (pl) {
        cachet_ev_claim_str(ctx, d, "platform_status", tdx_tcb_status_str(pl->status));
        claim_time(ctx, d, "platform_tcb_date", pl->tcb_date);
    }
    if (e->module && e->module_level) {
        cachet_ev_claim_str(ctx, d, "tdx_module_identity", e->module->id);
        cachet_ev_claim_str(ctx, d, "tdx_module_status", tdx_tcb_status_str(e->module_level->status));
    }
    if (e->qe_level)
        cachet_ev_claim_str(ctx, d, "qe_status", tdx_tcb_status_str(e->qe_level->status));
}
