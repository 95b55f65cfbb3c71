/* libFuzzer: the key broker's parsers of untrusted input — the Request and
 * Attestation bodies, resource paths, the resource policy and a JWE
 * response (the client's side).  The first byte picks the parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/kbs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cachet_pkey *client_key(void)
{
    static cachet_pkey *k;
    if (!k && cachet_pkey_generate_ec(CACHET_CURVE_P256, &k) != CACHET_OK)
        abort();
    return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1u << 20))
        return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    switch (data[0] % 5) {
    case 0: {
        cachet_kbs_request r;
        if (cachet_kbs_parse_request(text, len, &r) == CACHET_OK &&
            strcmp(r.version, CACHET_KBS_PROTOCOL_VERSION) != 0)
            abort();
        break;
    }
    case 1: {
        cachet_kbs_attestation a;
        if (cachet_kbs_parse_attestation(text, len, &a) == CACHET_OK) {
            if (!a.nonce || !a.tee_pubkey || !a.evidence || !a.additional_evidence)
                abort();
            cachet_kbs_attestation_clear(&a);
        }
        break;
    }
    case 2: {
        char *p = malloc(len + 1);
        if (!p)
            return 0;
        memcpy(p, text, len);
        p[len] = 0;
        if (cachet_kbs_resource_path_valid(p) && (strstr(p, "..") == p || strstr(p, "//")))
            abort();
        free(p);
        break;
    }
    case 3: {
        cachet_kbs_rpolicy *p = NULL;
        if (cachet_kbs_rpolicy_parse(text, len, &p) == CACHET_OK) {
            json_t *c = json_pack("{s:{s:s,s:s},s:{s:{s:s}}}", "cachet.appraisal", "decision",
                                  "admit", "rule", "dev", "submods", "cpu0", "ear.status",
                                  "affirming");
            char why[128];
            cachet_kbs_rpolicy_allows(p, c, "default/model-key/llama", why, sizeof why);
            json_decref(c);
        }
        cachet_kbs_rpolicy_free(p);
        break;
    }
    default: {
        uint8_t *pt = NULL;
        size_t n = 0;
        if (cachet_jwe_decrypt(client_key(), text, len, &pt, &n) == CACHET_OK)
            abort(); /* nothing random opens under a fresh key */
        break;
    }
    }
    return 0;
}
