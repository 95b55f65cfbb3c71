/* libFuzzer: the TCG PC Client event-log parser and replay.  Checks the
 * parser's promises: every event's digests and data lie inside the input,
 * extended PCRs are 0..23, a crypto-agile log declares 1..8 algorithms,
 * and replay touches only PCRs that have events. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "evidence/tpm/tpm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool inside(const uint8_t *p, size_t n, const uint8_t *data, size_t size)
{
    return p >= data && n <= size && p <= data + size - n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tpm_eventlog l;
    if (tpm_eventlog_parse(data, size, &l) != CACHET_OK)
        return 0;
    if (l.n == 0 || l.n_algs == 0 || l.n_algs > TPM_EVENTLOG_MAX_ALGS)
        abort();
    uint32_t extended = 0;
    for (size_t i = 0; i < l.n; i++) {
        const tpm_event *e = &l.ev[i];
        if (e->data_len && !inside(e->data, e->data_len, data, size))
            abort();
        for (size_t k = 0; k < l.n_algs; k++)
            if (e->digest[k] && !inside(e->digest[k], l.sizes[k], data, size))
                abort();
        if (e->type != TPM_EV_NO_ACTION && !(i == 0 && l.crypto_agile)) {
            if (e->pcr >= TPM_PCR_COUNT)
                abort();
            extended |= 1u << e->pcr;
        }
    }
    static const uint16_t banks[] = { TPM2_ALG_SHA256, TPM2_ALG_SHA384, TPM2_ALG_SHA512,
                                      TPM2_ALG_SHA1 };
    for (size_t b = 0; b < sizeof banks / sizeof banks[0]; b++) {
        uint8_t pcr[TPM_PCR_COUNT][TPM_MAX_DIGEST];
        uint32_t touched = 0;
        if (tpm_eventlog_replay(&l, banks[b], pcr, &touched) == CACHET_OK && touched != extended)
            abort();
    }
    tpm_eventlog_free(&l);
    return 0;
}
