/* TPM 2.0 quote verification (evidence-formats §4.3):
 *
 *   container (cachet bundle / go-tpm-tools protobuf) → AK public area and
 *   its attributes (restricted signing key) → AK trust (certificate chain,
 *   or EK certificate + credential activation) → each quote: structure,
 *   signature, extraData, selection, PCR digest → event-log replay →
 *   claims.
 *
 * A bare TCG event log is accepted as evidence too: it is parsed and
 * replayed into claims, and reported unverified (nothing binds it to a TPM). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/encoding.h"
#include "evidence/family.h"
#include "evidence/tpm/tpm.h"

typedef struct tpm_run {
    cachet_ev_ctx *ctx;
    const cachet_verify_request *req;
    tpm_evidence ev;
    TPMT_PUBLIC ak;
    cachet_pkey *ak_key;
    uint8_t ak_name[TPM_MAX_NAME];
    size_t ak_name_len;
    bool auth_ok;
} tpm_run;

/* ---- container ------------------------------------------------------------------- */

static bool step_container(tpm_run *s)
{
    const uint8_t *buf = s->req->evidence;
    size_t len = s->req->evidence_len;
    cachet_rc rc;
    if (tpm_bundle_looks(buf, len) || (len && buf[0] == '{'))
        rc = tpm_bundle_parse(buf, len, &s->ev);
    else
        rc = tpm_gce_parse(buf, len, &s->ev);
    if (rc != CACHET_OK) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, "tpm.evidence.structure", TPM_SPEC_CONTAINER,
                       "%s: %s", s->ev.format ? s->ev.format : "TPM evidence",
                       cachet_err_detail());
        return false;
    }
    char banks[64] = "";
    for (size_t i = 0; i < s->ev.pcrs.n; i++) {
        size_t n = strlen(banks);
        snprintf(banks + n, sizeof banks - n, "%s%s", i ? "," : "",
                 tpm_alg_name(s->ev.pcrs.bank[i].alg));
    }
    cachet_ev_pass(s->ctx, "tpm.evidence.structure", TPM_SPEC_CONTAINER,
                   "%s: %zu quote(s), PCR banks %s%s%s%s", s->ev.format, s->ev.n_quotes, banks,
                   s->ev.event_log.len ? ", event log" : "", s->ev.ak_cert.len ? ", AK cert" : "",
                   s->ev.cred_blob.len ? ", activation record" : "");
    cachet_ev_claim_str(s->ctx, NULL, "evidence_format", s->ev.format);
    /* A TPM has no debug attestation mode (the appraisal requires the claim
     * false): how the platform booted shows in its PCRs, which a policy pins. */
    cachet_ev_claim_bool(s->ctx, NULL, "debug", false);
    return true;
}

/* ---- the AK ------------------------------------------------------------------------- */

static bool step_ak(tpm_run *s)
{
    const char *id = "tpm.ak.public";
    cachet_rc rc = tpm_public_parse(s->ev.ak_public.p, s->ev.ak_public.len, &s->ak);
    if (rc == CACHET_OK)
        rc = tpm_public_pkey(&s->ak, &s->ak_key);
    if (rc == CACHET_OK)
        rc = tpm_public_name(&s->ak, s->ev.ak_public.p, s->ev.ak_public.len, s->ak_name,
                             &s->ak_name_len);
    if (rc != CACHET_OK) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, TPM_SPEC_PUBLIC, "%s", cachet_err_detail());
        return false;
    }
    char what[32];
    if (s->ak.type == TPM2_ALG_RSA)
        snprintf(what, sizeof what, "RSA-%u", s->ak.parameters.rsaDetail.keyBits);
    else
        snprintf(what, sizeof what, "ECC curve 0x%04x", s->ak.parameters.eccDetail.curveID);
    cachet_ev_pass(s->ctx, id, TPM_SPEC_PUBLIC, "%s AK, nameAlg %s", what,
                   tpm_alg_name(s->ak.nameAlg));
    cachet_ev_claim_hex(s->ctx, NULL, "ak_name", s->ak_name, s->ak_name_len);
    uint8_t *spki = NULL;
    size_t spki_len = 0;
    if (cachet_pkey_spki_der(s->ak_key, &spki, &spki_len) == CACHET_OK) {
        char *b64 = cachet_base64_string(spki, spki_len);
        cachet_ev_claim_str(s->ctx, NULL, "ak_public", b64 ? b64 : "");
        free(b64);
    }
    free(spki);

    /* A restricted signing key never signs outside data that starts with
     * TPM_GENERATED_VALUE: only then does the magic mean "made by the TPM". */
    id = "tpm.ak.attributes";
    TPMA_OBJECT a = s->ak.objectAttributes;
    TPMA_OBJECT need = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                       TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_RESTRICTED |
                       TPMA_OBJECT_SIGN_ENCRYPT;
    if ((a & need) != need || (a & TPMA_OBJECT_DECRYPT)) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, TPM_SPEC_OBJECT,
                       "attributes 0x%08x: an AK must be fixedTPM, fixedParent, "
                       "sensitiveDataOrigin, restricted and sign, and not decrypt", a);
        return false;
    }
    cachet_ev_pass(s->ctx, id, TPM_SPEC_OBJECT,
                   "0x%08x: restricted signing key, fixedTPM, fixedParent, sensitiveDataOrigin", a);
    return true;
}

/* ---- quotes -------------------------------------------------------------------------- */

static int bank_index(const tpm_pcrs *p, uint16_t alg)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->bank[i].alg == alg)
            return (int)i;
    return -1;
}

/* Returns the mask (over ev.pcrs.bank) of banks vouched for by a verified
 * quote; *all_ok false when any quote failed; *nonce_ok when every quote's
 * extraData matched a given nonce. */
static uint32_t step_quotes(tpm_run *s, bool *all_ok, bool *nonce_ok)
{
    uint32_t ok_banks = 0;
    *all_ok = true;
    *nonce_ok = s->req->nonce != NULL;
    json_t *quotes = json_array();
    for (size_t i = 0; i < s->ev.n_quotes; i++) {
        char label[32];
        snprintf(label, sizeof label, "quote %zu of %zu", i + 1, s->ev.n_quotes);
        const tpm_quote_raw *q = &s->ev.quotes[i];
        TPMT_SIGNATURE sig;
        if (tpm_signature_parse(q->sig.p, q->sig.len, &sig) != CACHET_OK) {
            cachet_ev_fail(s->ctx, CACHET_EV_AUTH, "tpm.signature.structure", TPM_SPEC_SIGNATURE,
                           "%s: %s", label, cachet_err_detail());
            cachet_ev_na(s->ctx, false, "tpm.quote.signature", TPM_SPEC_QUOTE,
                         "%s: not checked: the signature is malformed", label);
            *all_ok = false;
            *nonce_ok = false;
            continue;
        }
        cachet_ev_pass(s->ctx, "tpm.signature.structure", TPM_SPEC_SIGNATURE,
                       "%s: TPMT_SIGNATURE unmarshals exactly", label);
        tpm_quote_result r;
        tpm_check_quote(s->ctx, s->req, label, q->attest.p, q->attest.len, &sig, s->ak_key,
                        &s->ev.pcrs, &r);
        if (!r.parsed || !r.signature_ok || !r.digest_ok)
            *all_ok = false;
        if (!r.nonce_ok)
            *nonce_ok = false;
        if (!r.parsed)
            continue;
        const TPMS_ATTEST *a = &r.attest;
        if (r.signature_ok && r.digest_ok) {
            const TPML_PCR_SELECTION *sel = &a->attested.quote.pcrSelect;
            for (uint32_t k = 0; k < sel->count; k++) {
                int b = bank_index(&s->ev.pcrs, sel->pcrSelections[k].hash);
                if (b >= 0)
                    ok_banks |= 1u << b;
            }
        }
        json_t *qo = json_object();
        if (quotes && qo) {
            char *ed = cachet_hex_string(a->extraData.buffer, a->extraData.size);
            char *qs = cachet_hex_string(a->qualifiedSigner.name, a->qualifiedSigner.size);
            char fw[20];
            snprintf(fw, sizeof fw, "%016llx", (unsigned long long)a->firmwareVersion);
            json_object_set_new(qo, "extra_data", json_string(ed ? ed : ""));
            json_object_set_new(qo, "qualified_signer", json_string(qs ? qs : ""));
            json_object_set_new(qo, "clock", json_integer((json_int_t)a->clockInfo.clock));
            json_object_set_new(qo, "reset_count", json_integer(a->clockInfo.resetCount));
            json_object_set_new(qo, "restart_count", json_integer(a->clockInfo.restartCount));
            json_object_set_new(qo, "safe", json_boolean(a->clockInfo.safe));
            json_object_set_new(qo, "firmware_version", json_string(fw));
            json_object_set_new(qo, "verified", json_boolean(r.signature_ok && r.digest_ok));
            json_array_append(quotes, qo);
            if (i == 0)
                cachet_ev_claim_hex(s->ctx, NULL, "report_data", a->extraData.buffer,
                                    a->extraData.size);
            free(ed);
            free(qs);
        }
        json_decref(qo);
    }
    if (quotes)
        cachet_ev_claim(s->ctx, NULL, "quotes", quotes);
    else
        cachet_ev_internal_error(s->ctx, "tpm: out of memory");
    cachet_ev_claim_str(s->ctx, NULL, "freshness",
                        !s->req->nonce ? "not-checked" : *nonce_ok ? "nonce-matched" : "mismatch");
    return ok_banks;
}

/* PCR claims from the verified banks; SHA-1 values are shown but never
 * the source of pcrNN. */
static bool step_pcr_claims(tpm_run *s, uint32_t ok_banks)
{
    static const uint16_t pref[] = { TPM2_ALG_SHA256, TPM2_ALG_SHA384, TPM2_ALG_SHA512 };
    const char *id = "tpm.pcrs.bank";
    json_t *all = cachet_ev_claim_object(s->ctx, NULL, "pcrs");
    for (size_t b = 0; all && b < s->ev.pcrs.n; b++) {
        if (!(ok_banks & (1u << b)))
            continue;
        json_t *o = cachet_ev_claim_object(s->ctx, all, tpm_alg_name(s->ev.pcrs.bank[b].alg));
        if (o)
            tpm_claim_pcrs(s->ctx, o, &s->ev.pcrs.bank[b]);
    }
    for (size_t p = 0; p < sizeof pref / sizeof pref[0]; p++) {
        int b = bank_index(&s->ev.pcrs, pref[p]);
        if (b < 0 || !(ok_banks & (1u << b)))
            continue;
        const tpm_pcr_bank *bk = &s->ev.pcrs.bank[b];
        tpm_claim_pcrs(s->ctx, NULL, bk);
        cachet_ev_claim_str(s->ctx, NULL, "pcr_bank", tpm_alg_name(bk->alg));
        if (bk->present & (1u << 8))
            cachet_ev_claim_hex(s->ctx, NULL, "init_data", bk->v[8], tpm_alg_digest_len(bk->alg));
        cachet_ev_pass(s->ctx, id, TPM_SPEC_QUOTE, "claims from the verified %s bank",
                       tpm_alg_name(bk->alg));
        return true;
    }
    if (ok_banks)
        cachet_ev_fail(s->ctx, CACHET_EV_CONTENT, id, TPM_SPEC_QUOTE,
                       "only a SHA-1 bank was quoted: SHA-1 PCR values are not accepted");
    else
        cachet_ev_na(s->ctx, false, id, TPM_SPEC_QUOTE, "no verified quote: no PCR claims");
    return false;
}

/* ---- event log ----------------------------------------------------------------------- */

static bool step_eventlog(tpm_run *s, uint32_t ok_banks)
{
    if (s->ev.event_log.len)
        return tpm_check_eventlog(s->ctx, s->ev.event_log.p, s->ev.event_log.len, &s->ev.pcrs,
                                  ok_banks);
    /* A TCG log given as an endorsement file (verify-contract). */
    const cachet_endorsements *e = s->req->endorsements;
    for (size_t i = 0; i < cachet_endorsements_count(e); i++) {
        const cachet_endorsement *en = cachet_endorsements_get(e, i);
        if (en->kind != CACHET_ENDORSEMENT_OTHER || !tpm_looks_like_eventlog(en->data, en->len))
            continue;
        cachet_ev_mark_used(s->ctx, i);
        return tpm_check_eventlog(s->ctx, en->data, en->len, &s->ev.pcrs, ok_banks);
    }
    cachet_ev_na(s->ctx, false, "tpm.eventlog.replay", TPM_SPEC_EVENTLOG,
                 "no event log: the PCR values are not explained by events");
    return true;
}

/* ---- the procedure ------------------------------------------------------------------- */

cachet_rc tpm_verify(const cachet_evidence_ops *self, const cachet_verify_request *req,
                     cachet_ev_ctx *ctx)
{
    (void)self;
    tpm_run s;
    memset(&s, 0, sizeof s);
    s.ctx = ctx;
    s.req = req;

    if (tpm_looks_like_eventlog(req->evidence, req->evidence_len)) {
        cachet_ev_pass(ctx, "tpm.evidence.structure", TPM_SPEC_CONTAINER,
                       "a TCG event log without a quote");
        cachet_ev_claim_str(ctx, NULL, "evidence_format", "TCG PC Client event log");
        tpm_claim_eventlog_only(ctx, req->evidence, req->evidence_len);
        cachet_ev_fail(ctx, CACHET_EV_AUTH, "tpm.quote.present", TPM_SPEC_QUOTE,
                       "no quote: nothing binds these events to a TPM");
        return CACHET_OK;
    }
    if (!step_container(&s))
        return CACHET_OK;

    bool ak_ok = step_ak(&s);
    bool trust_ok = false;
    if (ak_ok) {
        tpm_trust_in in = { .req = req, .ev = &s.ev, .ak = &s.ak, .ak_key = s.ak_key,
                            .ak_name = s.ak_name, .ak_name_len = s.ak_name_len };
        trust_ok = tpm_check_ak_trust(ctx, &in);
    } else {
        cachet_ev_na(ctx, false, "tpm.ak.trust", TPM_SPEC_OBJECT, "not checked: no usable AK");
    }

    bool quotes_ok = false, nonce_ok = false;
    uint32_t ok_banks = step_quotes(&s, &quotes_ok, &nonce_ok);
    step_pcr_claims(&s, ok_banks); /* content: SHA-1-only banks fail there */
    bool log_ok = step_eventlog(&s, ok_banks);

    /* With credential activation the nonce is what binds the quote to the
     * activated AK: a mismatch is then a failure of authenticity too. */
    bool act_binds = s.ev.cred_blob.len == 0 || nonce_ok;
    if (s.ev.cred_blob.len && !nonce_ok && req->nonce)
        cachet_ev_fail(ctx, CACHET_EV_AUTH, "tpm.ak.activation.quote", TPM_SPEC_CREDENTIAL,
                       "the quote's extraData is not the activated nonce");
    if (ak_ok && trust_ok && quotes_ok && log_ok && act_binds)
        cachet_ev_authentic(ctx);

    cachet_pkey_free(s.ak_key);
    tpm_evidence_free(&s.ev);
    return CACHET_OK;
}
