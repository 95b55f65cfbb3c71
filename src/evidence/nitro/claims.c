/* Claims of a Nitro attestation document (docs/evidence/nitro.md lists
 * them): measurement (= PCR0), debug, module_id, digest, timestamp,
 * timestamp_utc, pcr0..pcr8, pcrs (every locked PCR by index), user_data,
 * public_key, nonce (hex, null when absent). */
#include <stdio.h>

#include "cachet/clock.h"
#include "evidence/family.h"
#include "evidence/nitro/nitro.h"

static bool all_zero(const nitro_bytes *b)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < b->len; i++)
        acc |= b->p[i];
    return acc == 0;
}

/* AWS: an enclave started in debug mode reports PCRs of zeros; PCR0-2
 * (image, kernel, application) are the ones a production enclave always
 * measures, so all three zero means debug. */
bool nitro_doc_debug(const nitro_doc *d)
{
    for (unsigned i = 0; i < 3; i++)
        if (!(d->pcr_present & (1u << i)) || !all_zero(&d->pcr[i]))
            return false;
    return true;
}

static void optional_hex(cachet_ev_ctx *ctx, const char *key, bool present, const nitro_bytes *b)
{
    if (present)
        cachet_ev_claim_hex(ctx, NULL, key, b->p, b->len);
    else
        cachet_ev_claim(ctx, NULL, key, json_null());
}

void nitro_doc_claims(cachet_ev_ctx *ctx, const nitro_doc *d, bool debug)
{
    cachet_ev_claim_hex(ctx, NULL, "measurement", d->pcr[0].p, d->pcr[0].len);
    cachet_ev_claim_bool(ctx, NULL, "debug", debug);
    cachet_ev_claim(ctx, NULL, "module_id",
                    json_stringn((const char *)d->module_id.p, d->module_id.len));
    cachet_ev_claim(ctx, NULL, "digest", json_stringn((const char *)d->digest.p, d->digest.len));
    cachet_ev_claim_int(ctx, NULL, "timestamp", (int64_t)d->timestamp);
    char base[21], utc[32];
    cachet_time_format_rfc3339((int64_t)(d->timestamp / 1000), base);
    /* "YYYY-MM-DDThh:mm:ss" + ".mmm" + "Z" */
    snprintf(utc, sizeof utc, "%.19s.%03uZ", base, (unsigned)(d->timestamp % 1000));
    cachet_ev_claim_str(ctx, NULL, "timestamp_utc", utc);
    for (unsigned i = 0; i <= 8; i++) {
        if (!(d->pcr_present & (1u << i)))
            continue;
        char key[8];
        snprintf(key, sizeof key, "pcr%u", i);
        cachet_ev_claim_hex(ctx, NULL, key, d->pcr[i].p, d->pcr[i].len);
    }
    json_t *pcrs = cachet_ev_claim_object(ctx, NULL, "pcrs");
    for (unsigned i = 0; pcrs && i < NITRO_PCR_COUNT; i++) {
        if (!(d->pcr_present & (1u << i)))
            continue;
        char key[4];
        snprintf(key, sizeof key, "%u", i);
        cachet_ev_claim_hex(ctx, pcrs, key, d->pcr[i].p, d->pcr[i].len);
    }
    optional_hex(ctx, "user_data", d->has_user_data, &d->user_data);
    optional_hex(ctx, "public_key", d->has_public_key, &d->public_key);
    optional_hex(ctx, "nonce", d->has_nonce, &d->nonce);
}
