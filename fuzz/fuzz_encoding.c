/* libFuzzer: hex, base64 and base64url decoders and the RFC 3339 parser,
 * which all read text from evidence, tokens and the command line.  Checks
 * that decode(encode(decode(x))) is stable. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/clock.h"
#include "cachet/encoding.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';

    uint8_t *out = NULL;
    size_t n = 0;
    if (cachet_base64_decode(s, size, &out, &n) == CACHET_OK) {
        char *again = cachet_base64_string(out, n);
        uint8_t *out2 = NULL;
        size_t n2 = 0;
        if (!again || cachet_base64_decode(again, strlen(again), &out2, &n2) != CACHET_OK ||
            n2 != n || memcmp(out, out2, n))
            abort();
        free(out2);
        free(again);
        free(out);
    }
    if (cachet_base64url_decode(s, size, &out, &n) == CACHET_OK)
        free(out);

    uint8_t hex[64];
    (void)cachet_hex_decode(s, hex, sizeof hex, &n);

    int64_t t;
    if (cachet_time_parse_rfc3339(s, &t) == CACHET_OK) {
        char buf[21];
        cachet_time_format_rfc3339(t, buf);
        int64_t t2;
        if (t >= 0 && t < 253402300800LL && (cachet_time_parse_rfc3339(buf, &t2) != CACHET_OK || t2 != t))
            abort();
    }
    free(s);
    return 0;
}
