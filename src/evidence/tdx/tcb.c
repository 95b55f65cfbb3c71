/* TCB level matching as Intel's QVL does it (evidence-formats §2.8; QVL
 * TcbLevelCheck, TdxModuleCheck, TDRelaunchCheck, EnclaveReportVerifier):
 *
 *  1. levels in QVL order (greatest first, see tdx_tcb_level_cmp);
 *  2. SGX level: first with every PCK component >= the level's and PCESVN >=;
 *  3. TDX level: from there on, first whose TDX components are <= TEE_TCB_SVN,
 *     skipping indices 0 and 1 when TEE_TCB_SVN[1] > 0 (the module identity
 *     covers them);
 *  4. TEE_TCB_SVN[1] > 0: the module identity "TDX_%02X" level with
 *     TEE_TCB_SVN[0] >= isvsvn, converged into the TDX status;
 *  5. TD report 1.5: the relaunch rule on TEE_TCB_SVN2;
 *  6. converge with the QE identity status. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "evidence/tdx/tdx.h"

const tdx_qe_level *tdx_qe_level_match(const tdx_qe_identity *q, uint16_t isvsvn)
{
    for (size_t i = 0; q && i < q->n_levels; i++)
        if (q->levels[i].isvsvn <= isvsvn)
            return &q->levels[i];
    return NULL;
}

const tdx_module_identity *tdx_module_identity_find(const tdx_tcb_info *t, uint8_t major)
{
    char want[8];
    snprintf(want, sizeof want, "TDX_%02X", major);
    for (size_t i = 0; t && i < t->n_identities; i++) {
        const char *id = t->identities[i].id;
        size_t k = 0;
        while (id[k] && want[k] && toupper((unsigned char)id[k]) == want[k])
            k++;
        if (id[k] == 0 && want[k] == 0)
            return &t->identities[i];
    }
    return NULL;
}

static bool sgx_ge(const tdx_pck_ext *pck, const tdx_tcb_level *l)
{
    for (int i = 0; i < 16; i++)
        if (pck->comp[i] < l->sgx[i])
            return false;
    return pck->pcesvn >= l->pcesvn;
}

static bool tdx_ge(const uint8_t *svn, const tdx_tcb_level *l)
{
    for (int i = svn[1] > 0 ? 2 : 0; i < 16; i++)
        if (svn[i] < l->tdx[i])
            return false;
    return true;
}

static bool config_needed(tdx_tcb_status s)
{
    return s == TDX_TCB_CONFIGURATION_NEEDED || s == TDX_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED ||
           s == TDX_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED ||
           s == TDX_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED;
}

/* An OutOfDate or Revoked component status pulls the platform status down
 * (QVL convergeTcbStatusWith{TdxModule,Qe}TcbStatus). */
static tdx_tcb_status converge(tdx_tcb_status platform, tdx_tcb_status other)
{
    if (other == TDX_TCB_OUT_OF_DATE) {
        if (platform == TDX_TCB_UP_TO_DATE || platform == TDX_TCB_SW_HARDENING_NEEDED)
            return TDX_TCB_OUT_OF_DATE;
        if (platform == TDX_TCB_CONFIGURATION_NEEDED ||
            platform == TDX_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED)
            return TDX_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
    }
    if (other == TDX_TCB_REVOKED)
        return TDX_TCB_REVOKED;
    if (other == TDX_TCB_NOT_SUPPORTED)
        return TDX_TCB_NOT_SUPPORTED;
    return platform;
}

/* QE identity levels are UpToDate, OutOfDate or Revoked (QVL treats any
 * other served status as OutOfDate). */
static tdx_tcb_status qe_status(const tdx_qe_level *qe)
{
    if (!qe)
        return TDX_TCB_NOT_SUPPORTED;
    if (qe->status == TDX_TCB_UP_TO_DATE || qe->status == TDX_TCB_REVOKED)
        return qe->status;
    return TDX_TCB_OUT_OF_DATE;
}

static tdx_tcb_status relaunch(const tdx_tcb_info *t, const uint8_t *svn2, tdx_tcb_status sgx,
                               tdx_tcb_status tdx, tdx_tcb_status module, bool qe_bad,
                               tdx_tcb_eval *out)
{
    if (qe_bad)
        return tdx;
    if (sgx != TDX_TCB_UP_TO_DATE && sgx != TDX_TCB_SW_HARDENING_NEEDED &&
        sgx != TDX_TCB_CONFIGURATION_NEEDED && sgx != TDX_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED)
        return tdx;
    if (tdx != TDX_TCB_OUT_OF_DATE && tdx != TDX_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED)
        return tdx;
    if (module != TDX_TCB_OUT_OF_DATE)
        return tdx;
    const tdx_tcb_level *latest = &t->levels[0];
    bool current;
    if (svn2[1] == 0) {
        current = svn2[0] >= latest->tdx[0] && svn2[2] >= latest->tdx[2];
    } else {
        const tdx_module_identity *m2 = tdx_module_identity_find(t, svn2[1]);
        if (!m2) {
            snprintf(out->why, sizeof out->why,
                     "no TDX module identity TDX_%02X for TEE_TCB_SVN2 (the module at launch)", svn2[1]);
            return TDX_TCB_MODULE_MISMATCH;
        }
        if (m2->n_levels == 0) {
            snprintf(out->why, sizeof out->why, "module identity %s has no TCB levels", m2->id);
            return TDX_TCB_NOT_SUPPORTED;
        }
        current = svn2[0] >= m2->levels[0].isvsvn && svn2[2] >= latest->tdx[2];
    }
    if (!current)
        return tdx;
    return config_needed(sgx) || config_needed(tdx) ? TDX_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED
                                                    : TDX_TCB_TD_RELAUNCH_ADVISED;
}

void tdx_tcb_evaluate(const tdx_tcb_info *t, const tdx_pck_ext *pck, const uint8_t *svn,
                      const uint8_t *svn2, const tdx_qe_level *qe, tdx_tcb_eval *out)
{
    memset(out, 0, sizeof *out);
    out->qe_level = qe;
    bool is_tdx = t->is_tdx && svn;

    for (size_t i = 0; i < t->n_levels; i++) {
        const tdx_tcb_level *l = &t->levels[i];
        if (!sgx_ge(pck, l))
            continue;
        if (!out->sgx_level)
            out->sgx_level = l;
        if (!is_tdx)
            break;
        if (tdx_ge(svn, l)) {
            out->tdx_level = l;
            break;
        }
    }
    if (!out->sgx_level) {
        snprintf(out->why, sizeof out->why,
                 "no TCB level is met by the PCK's SGX components %u,%u,%u,%u,%u,%u,%u,%u,... "
                 "and PCESVN %u", pck->comp[0], pck->comp[1], pck->comp[2], pck->comp[3],
                 pck->comp[4], pck->comp[5], pck->comp[6], pck->comp[7], pck->pcesvn);
        out->status = out->platform_status = TDX_TCB_NOT_SUPPORTED;
        return;
    }
    tdx_tcb_status sgx_status = out->sgx_level->status;
    tdx_tcb_status st = sgx_status;
    out->platform_status = sgx_status;

    if (is_tdx) {
        if (!out->tdx_level) {
            snprintf(out->why, sizeof out->why,
                     "no TCB level at or below the SGX match is met by TEE_TCB_SVN (bytes %s)",
                     svn[1] > 0 ? "2-15" : "0-15");
            out->status = out->platform_status = TDX_TCB_NOT_SUPPORTED;
            return;
        }
        out->platform_status = out->tdx_level->status;
        tdx_tcb_status module = TDX_TCB_UNKNOWN;
        if (svn[1] > 0) {
            out->module = tdx_module_identity_find(t, svn[1]);
            if (!out->module) {
                snprintf(out->why, sizeof out->why,
                         "no TDX module identity TDX_%02X in the TCB info", svn[1]);
                out->status = TDX_TCB_MODULE_MISMATCH;
                return;
            }
            for (size_t i = 0; i < out->module->n_levels; i++) {
                if (svn[0] >= out->module->levels[i].isvsvn) {
                    out->module_level = &out->module->levels[i];
                    break;
                }
            }
            if (!out->module_level) {
                snprintf(out->why, sizeof out->why,
                         "no level of module identity %s has isvsvn <= %u", out->module->id, svn[0]);
                out->status = TDX_TCB_NOT_SUPPORTED;
                return;
            }
            module = out->module_level->status;
            out->module_status = module;
        }
        st = module == TDX_TCB_UNKNOWN ? out->tdx_level->status
                                       : converge(out->tdx_level->status, module);
        if (st == TDX_TCB_REVOKED) {
            out->status = st;
            return;
        }
        if (svn2) {
            bool qe_bad = qe && qe_status(qe) != TDX_TCB_UP_TO_DATE;
            st = relaunch(t, svn2, sgx_status, st, module, qe_bad, out);
            if (st == TDX_TCB_MODULE_MISMATCH || st == TDX_TCB_NOT_SUPPORTED) {
                out->status = st;
                return;
            }
        }
    }
    if (qe) {
        out->qe_status = qe_status(qe);
        st = converge(st, out->qe_status);
    }
    out->status = st;
}
