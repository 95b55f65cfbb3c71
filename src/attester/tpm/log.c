/* The attester's event log (TCG PC Client PFP §10.2): a crypto-agile log
 * whose TCG_PCR_EVENT2 records carry the digests the TPM computed for each
 * bank the log declares.  Little-endian, as the format is. */
#include <stdlib.h>
#include <string.h>

#include "attester/tpm/tpm_int.h"
#include "cachet/reader.h"

#define MAX_LOG (16u << 20)

static cachet_rc reserve(tpm_log *l, size_t more)
{
    if (more > MAX_LOG || l->len > MAX_LOG - more)
        return cachet_err(AT_RC(LIMIT), "tpm: event log over %u bytes", MAX_LOG);
    if (l->len + more <= l->cap)
        return CACHET_OK;
    size_t cap = l->cap ? l->cap : 1024;
    while (cap < l->len + more)
        cap *= 2;
    uint8_t *b = realloc(l->buf, cap);
    if (!b)
        return cachet_err(AT_RC(NOMEM), "tpm: out of memory");
    l->buf = b;
    l->cap = cap;
    return CACHET_OK;
}

static void put_u32(tpm_log *l, uint32_t v)
{
    cachet_put_le32(l->buf + l->len, v);
    l->len += 4;
}

static void put_u16(tpm_log *l, uint16_t v)
{
    cachet_put_le16(l->buf + l->len, v);
    l->len += 2;
}

static void put(tpm_log *l, const void *p, size_t n)
{
    if (n)
        memcpy(l->buf + l->len, p, n);
    l->len += n;
}

cachet_rc tpm_log_init(tpm_log *l, const uint16_t *algs, size_t n_algs)
{
    memset(l, 0, sizeof *l);
    if (n_algs == 0 || n_algs > TPM_EVENTLOG_MAX_ALGS)
        return cachet_err(AT_RC(INVALID_ARG), "tpm: %zu log algorithms", n_algs);
    for (size_t i = 0; i < n_algs; i++) {
        l->algs[i] = algs[i];
        l->sizes[i] = (uint16_t)tpm_alg_digest_len(algs[i]);
        if (!l->sizes[i])
            return cachet_err(AT_RC(UNSUPPORTED), "tpm: bank 0x%04x", algs[i]);
    }
    l->n_algs = n_algs;
    /* TCG_EfiSpecIDEvent: signature, platformClass, spec 2.0 errata 0,
     * uintnSize 2 (UINT64), the algorithms, no vendor info. */
    uint32_t spec_len = 16 + 4 + 4 + 4 + 4 * (uint32_t)n_algs + 1;
    cachet_rc rc = reserve(l, 32 + spec_len);
    if (rc != CACHET_OK)
        return rc;
    static const uint8_t zero20[20];
    put_u32(l, 0);                 /* PCR 0 */
    put_u32(l, TPM_EV_NO_ACTION);
    put(l, zero20, sizeof zero20);
    put_u32(l, spec_len);
    put(l, "Spec ID Event03", 16); /* with its NUL */
    put_u32(l, 0);                 /* platformClass: client */
    static const uint8_t ver[4] = { 0, 2, 0, 2 }; /* minor, major, errata, uintnSize */
    put(l, ver, sizeof ver);
    put_u32(l, (uint32_t)n_algs);
    for (size_t i = 0; i < n_algs; i++) {
        put_u16(l, l->algs[i]);
        put_u16(l, l->sizes[i]);
    }
    static const uint8_t no_vendor = 0;
    put(l, &no_vendor, 1);
    return CACHET_OK;
}

cachet_rc tpm_log_load(tpm_log *l, const uint8_t *buf, size_t len)
{
    memset(l, 0, sizeof *l);
    tpm_eventlog parsed;
    cachet_rc rc = tpm_eventlog_parse(buf, len, &parsed);
    if (rc != CACHET_OK)
        return rc;
    if (!parsed.crypto_agile) {
        tpm_eventlog_free(&parsed);
        return cachet_err(AT_RC(UNSUPPORTED), "tpm: the firmware log is not crypto-agile");
    }
    l->n_algs = parsed.n_algs;
    memcpy(l->algs, parsed.algs, sizeof l->algs);
    memcpy(l->sizes, parsed.sizes, sizeof l->sizes);
    /* Continue right after the last record (drop a zeroed tail). */
    const tpm_event *last = &parsed.ev[parsed.n - 1];
    size_t used = (size_t)(last->data - buf) + last->data_len;
    tpm_eventlog_free(&parsed);
    if ((rc = reserve(l, used)) != CACHET_OK)
        return rc;
    put(l, buf, used);
    return CACHET_OK;
}

cachet_rc tpm_log_append(tpm_log *l, unsigned pcr, uint32_t type, const TPML_DIGEST_VALUES *d,
                         const uint8_t *event, size_t len)
{
    size_t need = 12 + 4 + len;
    for (size_t i = 0; i < l->n_algs; i++)
        need += 2u + l->sizes[i];
    const TPMT_HA *found[TPM_EVENTLOG_MAX_ALGS] = { 0 };
    for (size_t i = 0; i < l->n_algs; i++) {
        for (uint32_t k = 0; k < d->count; k++)
            if (d->digests[k].hashAlg == l->algs[i])
                found[i] = &d->digests[k];
        if (!found[i])
            return cachet_err(AT_RC(NOT_FOUND), "tpm: the TPM returned no %s digest for the log",
                              tpm_alg_name(l->algs[i]) ? tpm_alg_name(l->algs[i]) : "such");
    }
    cachet_rc rc = reserve(l, need);
    if (rc != CACHET_OK)
        return rc;
    put_u32(l, pcr);
    put_u32(l, type);
    put_u32(l, (uint32_t)l->n_algs);
    for (size_t i = 0; i < l->n_algs; i++) {
        put_u16(l, l->algs[i]);
        put(l, &found[i]->digest, l->sizes[i]);
    }
    put_u32(l, (uint32_t)len);
    put(l, event, len);
    return CACHET_OK;
}

void tpm_log_free(tpm_log *l)
{
    if (!l)
        return;
    free(l->buf);
    memset(l, 0, sizeof *l);
}
