/* libFuzzer: what any network client can send `cachet serve` before its
 * request reaches the engine (src/serve/openai.c, attest_ep.c): chat and
 * text completion bodies (first byte picks which) and the attestation
 * endpoint's POST body.  Nothing may crash; an accepted request must hold
 * what the engine relies on (sane sampling values, at least one message or
 * a prompt). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serve/serve_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    if (data[0] == 0xff) {
        free(serve_attest_nonce_from_body(body, len));
        return 0;
    }
    oai_kind kind = data[0] & 1 ? OAI_COMPLETION : OAI_CHAT;
    oai_request r;
    memset(&r, 0, sizeof r);
    char *err = NULL;
    unsigned st = oai_parse(kind, body, len, "tiny", 16, &r, &err);
    if (st == 0) {
        if (r.gen.max_tokens < 1 || r.gen.temperature < 0 || r.gen.top_p <= 0 ||
            r.gen.top_p > 1)
            abort();
        if (kind == OAI_CHAT ? r.n_msgs == 0 || !r.msgs : !r.prompt)
            abort();
    } else if (st < 400 || st > 599 || !err) {
        abort();
    }
    free(err);
    oai_request_clear(&r);
    return 0;
}
