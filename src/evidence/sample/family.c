/* The sample family's entry in the verifier core. */
#include <string.h>

#include "evidence/sample/sample.h"

/* Recognised only by its 8-byte magic. */
static int sample_detect(const uint8_t *buf, size_t len)
{
    if (!buf || len < SAMPLE_MAGIC_LEN)
        return 0;
    return memcmp(buf, SAMPLE_MAGIC, SAMPLE_MAGIC_LEN) == 0 ? 100 : 0;
}

static const char *const sample_key_claims[] = {
    "platform", "measurement", "report_data", "svn", "debug", "key_id", "freshness", NULL,
};

const cachet_evidence_ops cachet_sample_ops = {
    .name = "sample",
    .aliases = NULL,
    .description = "cachet sample evidence (software only, for development; not a TEE)",
    .detect = sample_detect,
    .verify = sample_verify,
    .key_claims = sample_key_claims,
    .config = NULL,
};
