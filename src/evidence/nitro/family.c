/* The AWS Nitro Enclaves family's entry in the verifier core. */
#include <string.h>

#include "evidence/nitro/nitro.h"
#include "evidence/registry.h"

/* A Nitro document is a COSE_Sign1 (optionally tag 18, 0xD2) whose
 * protected header is the 4-byte map {1: -35}: 84 44 A1 01 38 22.  Any other
 * COSE_Sign1 shape gets a low score, so that the parser reports what is
 * wrong with it rather than "unrecognised format". */
int nitro_detect(const uint8_t *buf, size_t len)
{
    static const uint8_t prefix[] = { 0x84, 0x44, 0xA1, 0x01, 0x38, 0x22 };
    if (!buf || len == 0)
        return 0;
    size_t o = buf[0] == 0xD2 ? 1 : 0;
    if (len - o >= sizeof prefix && memcmp(buf + o, prefix, sizeof prefix) == 0)
        return 90;
    if (len - o >= 2 && buf[o] == 0x84 && (buf[o + 1] & 0xE0) == 0x40)
        return 20;
    return 0;
}

static const char *const nitro_aliases[] = { "aws-nitro", "nitro-enclaves", NULL };

static const char *const nitro_key_claims[] = {
    "measurement", "pcr1", "pcr2", "debug", "module_id", "timestamp_utc",
    "user_data", "public_key", "nonce", "freshness", NULL,
};

const cachet_evidence_ops cachet_nitro_ops = {
    .name = "nitro",
    .aliases = nitro_aliases,
    .description = "AWS Nitro Enclaves attestation document",
    .detect = nitro_detect,
    .verify = nitro_verify,
    .key_claims = nitro_key_claims,
    .config = NULL,
};
