/* libFuzzer: what a `cachet serve` endpoint sends the attested client
 * (src/client/atls.c), which it parses before it trusts anything: the
 * attestation document (first byte even) and the server-sent-event stream
 * of a chat answer (first byte odd).  Nothing may crash, and a document is
 * never admitted: no trust anchor is configured, so no evidence verifies. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/appraisal.h"
#include "client/atls_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cachet_policy *policy;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (!policy) {
        static const char text[] = "{\"rules\":[{\"name\":\"any\",\"tee\":[\"sample\"],"
                                   "\"status\":[\"affirming\",\"warning\"],\"any_workload\":true}]}";
        if (cachet_policy_parse(text, sizeof text - 1, &policy) != CACHET_OK)
            abort();
    }
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    if (data[0] & 1) {
        /* the stream in two chunks, split where the second byte says */
        size_t cut = len ? (size_t)data[0] % (len + 1) : 0;
        atls_fuzz_sse(body, cut);
        if (len > cut)
            atls_fuzz_sse(body + cut, len - cut);
        return 0;
    }
    static const uint8_t thumb[32] = {1}, spki[32] = {2};
    cachet_atls_opts o = {.policy = policy};
    if (atls_fuzz_document(body, len, &o, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", thumb, spki))
        abort(); /* admitted without any trust anchor */
    return 0;
}
