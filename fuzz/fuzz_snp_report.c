/* libFuzzer: the SEV-SNP report parser and the family's whole verify path
 * over attacker-chosen report bytes (no endorsements, so every check after
 * the structure runs on unauthenticated data: claims, TCB relations, nonce).
 * Checks the parser's promises: success only for 1184 bytes of a known
 * version with every reserved range zero, and slices inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/evidence.h"
#include "evidence/registry.h"
#include "evidence/snp/snp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    snp_report r;
    snp_parse_stage st;
    if (snp_report_parse(data, size, &r, &st) == CACHET_OK) {
        if (size != SNP_REPORT_SIZE || st != SNP_PARSE_OK ||
            (r.version != 2 && r.version != 3 && r.version != 5) || r.sig_algo != 1 ||
            r.measurement != data + 0x90 || r.sig_s != data + 0x2E8 ||
            (r.policy & SNP_POLICY_MBZ) || !(r.policy & SNP_POLICY_RESERVED1))
            abort();
        for (size_t i = 0x330; i < SNP_REPORT_SIZE; i++)
            if (data[i])
                abort();
    } else if (st == SNP_PARSE_OK) {
        abort();
    }

    /* The whole family, with a nonce taken from the first bytes. */
    cachet_verify_request req = {
        .evidence = data,
        .evidence_len = size,
        .time = 1735689600, /* 2025-01-01 */
        .nonce = data,
        .nonce_len = size < 16 ? size : 16,
    };
    cachet_verify_result *res = NULL;
    if (cachet_evidence_verify_with(&cachet_snp_ops, &req, &res) != CACHET_OK)
        abort();
    /* Nothing without a certificate is ever authentic. */
    if (res->verified || res->status != CACHET_EV_CONTRAINDICATED)
        abort();
    json_t *j = cachet_verify_result_to_json(res);
    if (!j)
        abort();
    json_decref(j);
    cachet_verify_result_free(res);
    (void)cachet_evidence_detect(data, size);
    return 0;
}
