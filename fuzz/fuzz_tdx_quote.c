/* libFuzzer: the DCAP quote parser (v3/v4/v5, TDX and SGX bodies, nested
 * certification data) and both families' whole verify path over
 * attacker-chosen bytes without endorsements.  Checks the parser's promises
 * (every slice inside the input, the signed region before the signature
 * data, lengths consumed exactly) and that nothing is ever authentic: the
 * seeds are synthetic quotes whose chains end at a test root, never at the
 * built-in Intel SGX Root CA. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/evidence.h"
#include "evidence/registry.h"
#include "evidence/tdx/tdx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(const uint8_t *data, size_t size, const uint8_t *p, size_t n)
{
    if (!p || p < data || n > size || (size_t)(p - data) > size - n)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tdx_quote q;
    if (tdx_quote_parse(data, size, &q) == CACHET_OK) {
        if (q.version < 3 || q.version > 5 || q.att_key_type != TDX_ATT_KEY_ECDSA_P256 ||
            q.signed_len > size || q.signed_len < TDX_HEADER_LEN + TDX_ENCLAVE_REPORT_LEN)
            abort();
        inside(data, size, q.body, q.body_len);
        inside(data, size, q.signature, 64);
        inside(data, size, q.attest_key, 64);
        inside(data, size, q.qe_report_raw, TDX_ENCLAVE_REPORT_LEN);
        inside(data, size, q.qe_report_sig, 64);
        inside(data, size, q.pck_chain, q.pck_chain_len);
        inside(data, size, q.certified, q.certified_len);
        if (q.qe_auth_len)
            inside(data, size, q.qe_auth, q.qe_auth_len);
        if (q.signature != data + q.signed_len + 4 ||
            q.signed_len + 4 + q.sig_data_len + q.trailing != size ||
            (q.body_type == TDX_BODY_SGX) != (q.tee_type == TDX_TEE_TYPE_SGX) ||
            memchr(q.pck_chain, 0, q.pck_chain_len))
            abort();
        if (q.body_type == TDX_BODY_TD15 && (!q.td.mrservicetd || !q.td.tee_tcb_svn2))
            abort();
    }

    const cachet_evidence_ops *fams[2] = { &cachet_tdx_ops, &cachet_sgx_ops };
    for (int i = 0; i < 2; i++) {
        cachet_verify_request req = {
            .evidence = data,
            .evidence_len = size,
            .time = 1735689600, /* 2025-01-01 */
            .nonce = data,
            .nonce_len = size < 48 ? size : 48,
        };
        cachet_verify_result *res = NULL;
        if (cachet_evidence_verify_with(fams[i], &req, &res) != CACHET_OK)
            abort();
        if (res->verified || res->status == CACHET_EV_AFFIRMING)
            abort();
        json_t *j = cachet_verify_result_to_json(res);
        if (!j)
            abort();
        json_decref(j);
        cachet_verify_result_free(res);
    }
    (void)cachet_evidence_detect(data, size);
    return 0;
}
