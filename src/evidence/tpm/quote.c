/* The checks of one TPM2_Quote (evidence-formats §4.3 steps 2-5), shared by
 * the tpm and Azure vTPM families:
 *
 *   TPMS_ATTEST structure (magic, type, no trailing bytes) → signature
 *   algorithm → signature over the exact TPMS_ATTEST bytes with the AK →
 *   extraData against the nonce → the selection against the supplied PCR
 *   values → pcrDigest recomputed with the signature's hash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/encoding.h"
#include "evidence/family.h"
#include "evidence/tpm/tpm.h"

static void parse_checks(cachet_ev_ctx *ctx, const char *label, cachet_rc rc,
                         tpm_attest_stage failed)
{
    static const struct { tpm_attest_stage st; const char *spec; const char *ok; } stages[] = {
        { TPM_ATTEST_MAGIC, TPM_SPEC_GENERATED, "TPM_GENERATED_VALUE 0xff544347" },
        { TPM_ATTEST_TYPE, TPM_SPEC_ST, "TPM_ST_ATTEST_QUOTE 0x8018" },
        { TPM_ATTEST_STRUCTURE, TPM_SPEC_ATTEST, "TPMS_ATTEST unmarshals exactly" },
    };
    for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++) {
        const char *id = tpm_attest_stage_check(stages[i].st);
        if (rc != CACHET_OK && stages[i].st == failed) {
            cachet_ev_fail(ctx, CACHET_EV_AUTH, id, stages[i].spec, "%s: %s", label,
                           cachet_err_detail());
            return;
        }
        cachet_ev_pass(ctx, id, stages[i].spec, "%s: %s", label, stages[i].ok);
    }
}

static bool check_sig_alg(cachet_ev_ctx *ctx, const char *label, const TPMT_SIGNATURE *sig,
                          const cachet_pkey *ak, uint16_t *hash)
{
    const char *id = "tpm.signature.algorithm";
    uint16_t alg = sig->sigAlg;
    uint16_t h = alg == TPM2_ALG_ECDSA ? sig->signature.ecdsa.hash : sig->signature.rsassa.hash;
    cachet_hash_alg ch;
    if (alg != TPM2_ALG_RSASSA && alg != TPM2_ALG_RSAPSS && alg != TPM2_ALG_ECDSA) {
        cachet_ev_fail(ctx, CACHET_EV_AUTH, id, TPM_SPEC_SIGNATURE,
                       "%s: scheme %s (0x%04x) is not accepted (RSASSA, RSAPSS, ECDSA only)",
                       label, tpm_sig_alg_name(alg), alg);
        return false;
    }
    if (!tpm_alg_hash(h, &ch)) {
        cachet_ev_fail(ctx, CACHET_EV_AUTH, id, TPM_SPEC_SIGNATURE,
                       "%s: signature hash %s (0x%04x) is not accepted (SHA-1 never is)", label,
                       tpm_alg_name(h) ? tpm_alg_name(h) : "unknown", h);
        return false;
    }
    bool rsa = alg != TPM2_ALG_ECDSA;
    if (rsa != cachet_pkey_is_rsa(ak)) {
        cachet_ev_fail(ctx, CACHET_EV_AUTH, id, TPM_SPEC_SIGNATURE,
                       "%s: a %s signature from a%s AK", label, tpm_sig_alg_name(alg),
                       cachet_pkey_is_rsa(ak) ? "n RSA" : "n ECC");
        return false;
    }
    *hash = h;
    cachet_ev_pass(ctx, id, TPM_SPEC_SIGNATURE, "%s: %s with %s", label, tpm_sig_alg_name(alg),
                   tpm_alg_name(h));
    return true;
}

static void check_nonce(cachet_ev_ctx *ctx, const cachet_verify_request *req, const char *label,
                        const TPMS_ATTEST *a, tpm_quote_result *out)
{
    const char *id = "tpm.quote.nonce";
    const char *spec = TPM_SPEC_ATTEST " extraData";
    if (!req->nonce) {
        cachet_ev_na(ctx, false, id, spec, "%s: no nonce given: freshness not checked", label);
        return;
    }
    out->nonce_checked = true;
    /* Exact equality over the whole field: no padding, no prefix match. */
    char *exp = cachet_hex_string(req->nonce, req->nonce_len);
    char *act = cachet_hex_string(a->extraData.buffer, a->extraData.size);
    if (!exp || !act)
        cachet_ev_internal_error(ctx, "tpm: out of memory");
    else
        out->nonce_ok = cachet_ev_compare(ctx, CACHET_EV_CONTENT, id, spec, exp, act);
    free(exp);
    free(act);
}

void tpm_check_quote(cachet_ev_ctx *ctx, const cachet_verify_request *req, const char *label,
                     const uint8_t *attest, size_t attest_len, const TPMT_SIGNATURE *sig,
                     const cachet_pkey *ak, const tpm_pcrs *pcrs, tpm_quote_result *out)
{
    memset(out, 0, sizeof *out);
    tpm_attest_stage stage = TPM_ATTEST_OK;
    cachet_rc rc = tpm_attest_parse(attest, attest_len, &out->attest, &stage);
    parse_checks(ctx, label, rc, stage);
    if (rc != CACHET_OK) {
        cachet_ev_na(ctx, false, "tpm.quote.signature", TPM_SPEC_QUOTE,
                     "%s: not checked: the TPMS_ATTEST is malformed", label);
        return;
    }
    out->parsed = true;

    /* Signature over the exact TPMS_ATTEST bytes (never TPM2B_ATTEST). */
    uint16_t h = TPM2_ALG_NULL;
    if (!ak) {
        cachet_ev_na(ctx, false, "tpm.quote.signature", TPM_SPEC_QUOTE,
                     "%s: not checked: no usable AK public key", label);
    } else if (check_sig_alg(ctx, label, sig, ak, &h)) {
        out->sig_hash = h;
        rc = tpm_signature_verify(ak, sig, attest, attest_len);
        if (rc == CACHET_OK) {
            out->signature_ok = true;
            cachet_ev_pass(ctx, "tpm.quote.signature", TPM_SPEC_QUOTE,
                           "%s: %s/%s over the %zu-byte TPMS_ATTEST verifies with the AK", label,
                           tpm_sig_alg_name(sig->sigAlg), tpm_alg_name(h), attest_len);
        } else {
            cachet_ev_fail(ctx, CACHET_EV_AUTH, "tpm.quote.signature", TPM_SPEC_QUOTE,
                           "%s: the signature does not verify with the AK: %s", label,
                           cachet_err_detail());
        }
    } else {
        cachet_ev_na(ctx, false, "tpm.quote.signature", TPM_SPEC_QUOTE,
                     "%s: not checked: signature algorithm refused", label);
    }

    check_nonce(ctx, req, label, &out->attest, out);

    /* Selection, then the digest (with the signing scheme's hash). */
    const TPMS_QUOTE_INFO *qi = &out->attest.attested.quote;
    char why[160];
    if (!tpm_selection_matches(&qi->pcrSelect, pcrs, why, sizeof why)) {
        cachet_ev_fail(ctx, CACHET_EV_AUTH, "tpm.pcrs.selection", TPM_SPEC_PCR_SELECT, "%s: %s",
                       label, why);
        cachet_ev_na(ctx, false, "tpm.pcrs.digest", TPM_SPEC_QUOTE,
                     "%s: not checked: the values do not match the selection", label);
        return;
    }
    cachet_ev_pass(ctx, "tpm.pcrs.selection", TPM_SPEC_PCR_SELECT, "%s: %s", label, why);
    cachet_hash_alg ch;
    if (!tpm_alg_hash(h, &ch)) {
        cachet_ev_na(ctx, false, "tpm.pcrs.digest", TPM_SPEC_QUOTE,
                     "%s: not checked: no accepted signature hash", label);
        return;
    }
    uint8_t d[CACHET_HASH_MAX_LEN];
    if (tpm_pcr_digest(&qi->pcrSelect, pcrs, ch, d) != CACHET_OK) {
        cachet_ev_fail(ctx, CACHET_EV_AUTH, "tpm.pcrs.digest", TPM_SPEC_QUOTE, "%s: %s", label,
                       cachet_err_detail());
        return;
    }
    char *exp = cachet_hex_string(d, cachet_hash_len(ch));
    char *act = cachet_hex_string(qi->pcrDigest.buffer, qi->pcrDigest.size);
    if (!exp || !act)
        cachet_ev_internal_error(ctx, "tpm: out of memory");
    else
        out->digest_ok = cachet_ev_compare(ctx, CACHET_EV_AUTH, "tpm.pcrs.digest",
                                           TPM_SPEC_QUOTE " pcrDigest", exp, act);
    free(exp);
    free(act);
}

void tpm_claim_pcrs(cachet_ev_ctx *ctx, json_t *parent, const tpm_pcr_bank *b)
{
    size_t dl = tpm_alg_digest_len(b->alg);
    for (unsigned i = 0; i < TPM_PCR_COUNT; i++) {
        if (!(b->present & (1u << i)))
            continue;
        char key[8];
        snprintf(key, sizeof key, "pcr%02u", i);
        cachet_ev_claim_hex(ctx, parent, key, b->v[i], dl);
    }
}
