/* libFuzzer: Intel collateral readers over attacker-chosen bytes: the raw
 * member finder (the exact signed bytes of "tcbInfo"/"enclaveIdentity"),
 * the TCB info and QE identity parsers on those bytes and on the whole
 * input, TCB level matching on whatever parses, URL-decoding of issuer
 * chains, and the family's gathering of endorsements (combined collateral
 * JSON, PCS bodies) from one endorsement made of the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/evidence.h"
#include "evidence/tdx/tdx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void evaluate(const tdx_tcb_info *t, const uint8_t *data, size_t size)
{
    tdx_pck_ext pck;
    memset(&pck, 0, sizeof pck);
    uint8_t svn[16] = { 0 }, svn2[16] = { 0 };
    for (size_t i = 0; i < 16 && i < size; i++)
        pck.comp[i] = svn[i] = svn2[15 - i] = data[i];
    pck.pcesvn = size > 17 ? (uint16_t)(data[16] | data[17] << 8) : 0;
    tdx_qe_level qe = { .isvsvn = 4, .status = TDX_TCB_UP_TO_DATE };
    tdx_tcb_eval e;
    tdx_tcb_evaluate(t, &pck, t->is_tdx ? svn : NULL, t->is_tdx ? svn2 : NULL, &qe, &e);
    if (e.status == TDX_TCB_UNKNOWN)
        abort();
    if (e.status != TDX_TCB_NOT_SUPPORTED && e.status != TDX_TCB_MODULE_MISMATCH && !e.sgx_level)
        abort();
    (void)tdx_tcb_status_str(e.status);
}

static void parse_both(const char *text, size_t len, const uint8_t *data, size_t size)
{
    tdx_tcb_info t;
    if (tdx_tcb_info_parse(text, len, &t) == CACHET_OK) {
        for (size_t i = 1; i < t.n_levels; i++)
            if (tdx_tcb_level_cmp(&t.levels[i - 1], &t.levels[i], t.is_tdx) < 0)
                abort(); /* not in QVL order */
        evaluate(&t, data, size);
        tdx_tcb_info_clear(&t);
    }
    tdx_qe_identity q;
    if (tdx_qe_identity_parse(text, len, &q) == CACHET_OK) {
        for (size_t i = 1; i < q.n_levels; i++)
            if (q.levels[i - 1].isvsvn < q.levels[i].isvsvn)
                abort();
        (void)tdx_qe_level_match(&q, size > 0 ? data[0] : 0);
        tdx_qe_identity_clear(&q);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    static const char *const members[] = { "tcbInfo", "enclaveIdentity" };
    for (int i = 0; i < 2; i++) {
        const char *v;
        size_t n;
        if (tdx_json_member_span(text, size, members[i], &v, &n) == CACHET_OK) {
            if (v < text || n > size || (size_t)(v - text) > size - n || n == 0)
                abort();
            parse_both(v, n, data, size);
        }
    }
    parse_both(text, size, data, size);

    uint8_t *pem;
    size_t pem_len;
    if (tdx_url_decode(data, size, &pem, &pem_len) == CACHET_OK) {
        if (pem_len > size)
            abort();
        free(pem);
    }

    cachet_endorsements *e = cachet_endorsements_new();
    if (e && cachet_endorsements_add_bytes(e, "fuzz", data, size) == CACHET_OK) {
        tdx_pool pool;
        tdx_pool_gather(&pool, e);
        for (size_t i = 0; i < pool.n_tcb_infos; i++)
            parse_both(pool.tcb_infos[i].body, pool.tcb_infos[i].len, data, size);
        tdx_pool_clear(&pool);
    }
    cachet_endorsements_free(e);
    return 0;
}
