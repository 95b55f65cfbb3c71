/* Event-log checks and claims (evidence-formats §4.3 step 6): the log is
 * replayed into every quoted bank it carries (never SHA-1), each PCR that
 * has events must equal its quoted value, and the events become claims,
 * each marked with whether a quoted PCR vouches for it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/encoding.h"
#include "evidence/family.h"
#include "evidence/tpm/tpm.h"

/* Preference for the bank whose digests the claims show. */
static const uint16_t bank_pref[] = { TPM2_ALG_SHA256, TPM2_ALG_SHA384, TPM2_ALG_SHA512,
                                      TPM2_ALG_SHA1 };

static json_t *alg_list(const tpm_eventlog *l)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < l->n_algs; i++) {
        const char *n = tpm_alg_name(l->algs[i]);
        char buf[8];
        if (!n) {
            snprintf(buf, sizeof buf, "0x%04x", l->algs[i]);
            n = buf;
        }
        json_array_append_new(a, json_string(n));
    }
    return a;
}

/* The events as claims, with bank's digests; vouched: PCRs whose replay
 * matched a quoted value (NULL: none, the bare-log case). */
static void claim_events(cachet_ev_ctx *ctx, const tpm_eventlog *l, uint16_t bank,
                         const uint32_t *vouched)
{
    json_t *o = cachet_ev_claim_object(ctx, NULL, "event_log");
    if (!o)
        return;
    cachet_ev_claim_str(ctx, o, "format", l->crypto_agile ? "crypto-agile" : "sha1");
    cachet_ev_claim(ctx, o, "algorithms", alg_list(l));
    int k = tpm_eventlog_alg_index(l, bank);
    if (k >= 0)
        cachet_ev_claim_str(ctx, o, "bank", tpm_alg_name(bank));
    json_t *events = json_array();
    if (!events) {
        cachet_ev_internal_error(ctx, "tpm: out of memory");
        return;
    }
    for (size_t i = 0; i < l->n; i++) {
        const tpm_event *e = &l->ev[i];
        json_t *ev = json_object();
        char *data = cachet_base64_string(e->data, e->data_len);
        char *dig = k >= 0 && e->digest[k] ? cachet_hex_string(e->digest[k], l->sizes[k]) : NULL;
        const char *tn = tpm_event_type_name(e->type);
        bool extended = e->type != TPM_EV_NO_ACTION && !(i == 0 && l->crypto_agile);
        int bad = !ev || !data;
        bad = bad || json_object_set_new(ev, "seq", json_integer((json_int_t)i)) != 0;
        bad = bad || json_object_set_new(ev, "pcr", json_integer(e->pcr)) != 0;
        bad = bad || json_object_set_new(ev, "type", tn ? json_string(tn) : json_null()) != 0;
        bad = bad || json_object_set_new(ev, "type_id", json_integer(e->type)) != 0;
        if (dig)
            bad = bad || json_object_set_new(ev, "digest", json_string(dig)) != 0;
        bad = bad || json_object_set_new(ev, "data", json_string(data)) != 0;
        bad = bad || json_object_set_new(ev, "extended", json_boolean(extended)) != 0;
        bad = bad || json_object_set_new(ev, "verified",
                                         json_boolean(extended && vouched && e->pcr < 32 &&
                                                      (*vouched & (1u << e->pcr)))) != 0;
        bad = bad || json_array_append(events, ev) != 0;
        json_decref(ev);
        free(data);
        free(dig);
        if (bad) {
            json_decref(events);
            cachet_ev_internal_error(ctx, "tpm: out of memory");
            return;
        }
    }
    cachet_ev_claim(ctx, o, "events", events);
}

static uint16_t claim_bank(const tpm_eventlog *l, const uint16_t *replayed, size_t n)
{
    for (size_t p = 0; p < sizeof bank_pref / sizeof bank_pref[0]; p++)
        for (size_t i = 0; i < n; i++)
            if (replayed[i] == bank_pref[p])
                return replayed[i];
    for (size_t p = 0; p < sizeof bank_pref / sizeof bank_pref[0]; p++)
        if (tpm_eventlog_alg_index(l, bank_pref[p]) >= 0)
            return bank_pref[p];
    return l->n_algs ? l->algs[0] : TPM2_ALG_ERROR;
}

bool tpm_check_eventlog(cachet_ev_ctx *ctx, const uint8_t *log, size_t len,
                        const tpm_pcrs *quoted, uint32_t quoted_ok_banks_mask)
{
    tpm_eventlog l;
    if (tpm_eventlog_parse(log, len, &l) != CACHET_OK) {
        cachet_ev_fail(ctx, CACHET_EV_AUTH, "tpm.eventlog.structure", TPM_SPEC_EVENTLOG, "%s",
                       cachet_err_detail());
        cachet_ev_na(ctx, false, "tpm.eventlog.replay", TPM_SPEC_EVENTLOG,
                     "not checked: the log is malformed");
        return false;
    }
    cachet_ev_pass(ctx, "tpm.eventlog.structure", TPM_SPEC_EVENTLOG, "%s log, %zu events",
                   l.crypto_agile ? "crypto-agile" : "SHA-1", l.n);

    bool ok = true;
    uint16_t replayed[TPM_MAX_BANKS];
    uint32_t vouched_by[TPM_MAX_BANKS];
    size_t n_replayed = 0;
    for (size_t b = 0; b < quoted->n; b++) {
        const tpm_pcr_bank *qb = &quoted->bank[b];
        const char *bn = tpm_alg_name(qb->alg);
        cachet_hash_alg h;
        if (!(quoted_ok_banks_mask & (1u << b)) || tpm_eventlog_alg_index(&l, qb->alg) < 0)
            continue;
        if (!tpm_alg_hash(qb->alg, &h)) {
            cachet_ev_na(ctx, false, "tpm.eventlog.replay", TPM_SPEC_EVENTLOG,
                         "%s bank not replayed: SHA-1 is not accepted", bn);
            continue;
        }
        uint8_t pcr[TPM_PCR_COUNT][TPM_MAX_DIGEST];
        uint32_t touched = 0, vouched = 0;
        if (tpm_eventlog_replay(&l, qb->alg, pcr, &touched) != CACHET_OK) {
            cachet_ev_fail(ctx, CACHET_EV_AUTH, "tpm.eventlog.replay", TPM_SPEC_EVENTLOG,
                           "%s: %s", bn, cachet_err_detail());
            ok = false;
            continue;
        }
        size_t dl = cachet_hash_len(h);
        for (unsigned i = 0; i < TPM_PCR_COUNT; i++) {
            if (!(touched & (1u << i)))
                continue;
            if (!(qb->present & (1u << i))) {
                cachet_ev_na(ctx, false, "tpm.eventlog.replay", TPM_SPEC_EVENTLOG,
                             "%s PCR %u has events but is not quoted: those events are not "
                             "vouched for", bn, i);
                continue;
            }
            if (memcmp(pcr[i], qb->v[i], dl) != 0) {
                char a[2 * TPM_MAX_DIGEST + 1], q[2 * TPM_MAX_DIGEST + 1];
                cachet_hex_encode(pcr[i], dl, a);
                cachet_hex_encode(qb->v[i], dl, q);
                cachet_ev_fail(ctx, CACHET_EV_AUTH, "tpm.eventlog.replay", TPM_SPEC_EVENTLOG,
                               "%s PCR %u: the log replays to %s, the quote says %s", bn, i, a, q);
                ok = false;
                continue;
            }
            vouched |= 1u << i;
            cachet_ev_pass(ctx, "tpm.eventlog.replay", TPM_SPEC_EVENTLOG,
                           "%s PCR %u: the log replays to the quoted value", bn, i);
        }
        if (!touched)
            cachet_ev_na(ctx, false, "tpm.eventlog.replay", TPM_SPEC_EVENTLOG,
                         "%s: the log extends no PCR", bn);
        replayed[n_replayed] = qb->alg;
        vouched_by[n_replayed++] = vouched;
    }
    if (n_replayed == 0)
        cachet_ev_na(ctx, true, "tpm.eventlog.replay", TPM_SPEC_EVENTLOG,
                     "no verified quoted bank the log carries: the events are not vouched for");
    uint16_t bank = claim_bank(&l, replayed, n_replayed);
    const uint32_t *v = NULL;
    for (size_t i = 0; i < n_replayed; i++)
        if (replayed[i] == bank)
            v = ok ? &vouched_by[i] : NULL;
    uint32_t none = 0;
    claim_events(ctx, &l, bank, v ? v : &none);
    tpm_eventlog_free(&l);
    return ok;
}

void tpm_claim_eventlog_only(cachet_ev_ctx *ctx, const uint8_t *log, size_t len)
{
    tpm_eventlog l;
    if (tpm_eventlog_parse(log, len, &l) != CACHET_OK) {
        cachet_ev_fail(ctx, CACHET_EV_AUTH, "tpm.eventlog.structure", TPM_SPEC_EVENTLOG, "%s",
                       cachet_err_detail());
        return;
    }
    cachet_ev_pass(ctx, "tpm.eventlog.structure", TPM_SPEC_EVENTLOG, "%s log, %zu events",
                   l.crypto_agile ? "crypto-agile" : "SHA-1", l.n);
    /* The PCR values the log replays to, per bank (claims only: nothing
     * vouches for them without a quote). */
    json_t *pcrs = cachet_ev_claim_object(ctx, NULL, "replayed_pcrs");
    for (size_t a = 0; pcrs && a < l.n_algs; a++) {
        uint8_t pcr[TPM_PCR_COUNT][TPM_MAX_DIGEST];
        uint32_t touched = 0;
        cachet_hash_alg h;
        if (!tpm_alg_hash(l.algs[a], &h) ||
            tpm_eventlog_replay(&l, l.algs[a], pcr, &touched) != CACHET_OK)
            continue;
        tpm_pcr_bank b = { .alg = l.algs[a], .present = touched };
        memcpy(b.v, pcr, sizeof pcr);
        json_t *bo = cachet_ev_claim_object(ctx, pcrs, tpm_alg_name(l.algs[a]));
        if (bo)
            tpm_claim_pcrs(ctx, bo, &b);
        cachet_ev_na(ctx, false, "tpm.eventlog.replay", TPM_SPEC_EVENTLOG,
                     "%s: replayed into %d PCRs, compared with nothing (no quote)",
                     tpm_alg_name(l.algs[a]), __builtin_popcount(touched));
    }
    claim_events(ctx, &l, claim_bank(&l, NULL, 0), NULL);
    tpm_eventlog_free(&l);
}
