/* libFuzzer: the sample evidence parser and the family's whole verify path
 * (runtime-data JSON, JCS, binding, nonce) over attacker-chosen bytes, with
 * a fixed trust key.  Checks the parser's promises: on success the parts
 * add up to the input exactly and the runtime data lies inside it; and a
 * result is never "verified" with a signature that is not the key's (the
 * fuzzer cannot forge one). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/evidence.h"
#include "evidence/sample/sample.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cachet_pkey *key;
    if (!key && cachet_pkey_generate_ec(CACHET_CURVE_P256, &key) != CACHET_OK)
        abort();
    sample_report r;
    if (sample_parse(data, size, &r) == CACHET_OK) {
        if (r.signed_len + SAMPLE_SIG_LEN != size || r.signed_part != data ||
            r.signature != data + r.signed_len ||
            r.signed_len != SAMPLE_HEADER_LEN + r.runtime_data_len ||
            (r.runtime_data && r.runtime_data != data + SAMPLE_HEADER_LEN) ||
            r.runtime_data_len > SAMPLE_MAX_RUNTIME)
            abort();
    }
    cachet_pkey *keys[] = {key};
    cachet_verify_request req = {
        .evidence = data,
        .evidence_len = size,
        .tee = "sample",
        .time = 1767225600,
        .nonce = data,
        .nonce_len = size < 32 ? size : 32,
        .trust_keys = keys,
        .n_trust_keys = 1,
    };
    cachet_verify_result *res = NULL;
    if (cachet_evidence_verify(&req, &res) != CACHET_OK)
        abort();
    if (res->verified || res->status == CACHET_EV_AFFIRMING ||
        strcmp(res->tee, "sample") != 0 ||
        !json_is_false(json_object_get(res->claims, "hardware")))
        abort();
    cachet_verify_result_free(res);
    return 0;
}
