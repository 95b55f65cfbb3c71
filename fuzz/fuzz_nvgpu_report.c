/* libFuzzer: the NVIDIA GPU report parser (SPDM GET_MEASUREMENTS request ||
 * MEASUREMENTS response, opaque TLVs), the evidence decoder (raw, hex,
 * JSON containers) and the family's whole verify path over attacker-chosen
 * bytes without endorsements.  Checks the parser's promises: on success the
 * request, response, signature and zero padding account for every byte,
 * every slice lies inside the input, and nothing without a certificate
 * chain is ever authentic. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/evidence.h"
#include "evidence/nvgpu/nvgpu.h"
#include "evidence/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(const uint8_t *p, size_t n, const uint8_t *data, size_t size)
{
    if (n && (p < data || p + n > data + size))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nvgpu_report r;
    nvgpu_parse_stage st;
    if (nvgpu_report_parse(data, size, &r, &st) == CACHET_OK) {
        if (st != NVGPU_PARSE_OK || r.signed_len + NVGPU_SIG_LEN + r.trailing != size ||
            r.spdm_version != NVGPU_SPDM_VERSION_11 || !(r.req_param1 & 1))
            abort();
        inside(r.nonce, NVGPU_NONCE_LEN, data, size);
        inside(r.record, r.record_len, data, size);
        inside(r.opaque, r.opaque_len, data, size);
        inside(r.signature, NVGPU_SIG_LEN, data, size);
        for (size_t i = 0; i < r.n_blocks; i++) {
            inside(r.blocks[i].value, r.blocks[i].value_len, data, size);
            if (nvgpu_report_block(&r, r.blocks[i].index) != &r.blocks[i])
                abort();
        }
        for (size_t i = r.signed_len + NVGPU_SIG_LEN; i < size; i++)
            if (data[i])
                abort();
    } else if (st == NVGPU_PARSE_OK) {
        abort();
    }

    nvgpu_input in;
    if (nvgpu_input_decode(data, size, &in) == CACHET_OK) {
        if (in.n == 0 || in.n > NVGPU_MAX_GPUS)
            abort();
        nvgpu_input_clear(&in);
    }

    cachet_verify_request req = {
        .evidence = data,
        .evidence_len = size,
        .time = 1735689600, /* 2025-01-01 */
        .nonce = data,
        .nonce_len = size < 32 ? size : 32,
    };
    cachet_verify_result *res = NULL;
    if (cachet_evidence_verify_with(&cachet_nvgpu_ops, &req, &res) != CACHET_OK)
        abort();
    /* A container may carry its own chain, but never one that ends at the
     * pinned NVIDIA root with a key the fuzzer holds. */
    if (res->status == CACHET_EV_AFFIRMING)
        abort();
    json_t *j = cachet_verify_result_to_json(res);
    if (!j)
        abort();
    json_decref(j);
    cachet_verify_result_free(res);
    (void)nvgpu_detect(data, size);
    return 0;
}
