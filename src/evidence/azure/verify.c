/* Azure confidential VM evidence (evidence-formats §6.4), one binding chain:
 *
 *   HCL report structure → hardware report verified by the SNP (or TDX)
 *   family, VMPL 0 → REPORT_DATA == H(HCL runtime data) → HCLAkPub from the
 *   runtime data → the vTPM quote signed by that AK, extraData == nonce,
 *   PCR digest → (evidence v2) user-data == nonce.
 *
 * The runtime data is parsed only after its hash is matched with the
 * authenticated hardware report; each layer that cannot be checked is
 * recorded as not verified and the result is then not authentic. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cachet/encoding.h"
#include "cachet/reader.h"
#include "evidence/azure/azure.h"
#include "evidence/family.h"

#define SNP_REPORT_DATA_OFF 0x50u
#define SNP_VMPL_OFF 0x30u
#define TDREPORT_REPORTDATA_OFF 128u
#define TDQ_HEADER_LEN 48u
#define TD_BODY_REPORTDATA_OFF 520u
#define REPORT_DATA_LEN 64u

typedef struct az_run {
    cachet_ev_ctx *ctx;
    const cachet_verify_request *req;
    const az_flavour *fl;
    az_evidence ev;
    az_hcl hcl;
    cachet_pkey *ak;
    json_t *var;
} az_run;

/* ---- structure ------------------------------------------------------------------ */

static bool step_structure(az_run *s)
{
    if (az_evidence_parse(s->req->evidence, s->req->evidence_len, &s->ev) != CACHET_OK) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, "azure.evidence.structure", AZ_SPEC_EVIDENCE,
                       "%s", cachet_err_detail());
        return false;
    }
    bool tdx = s->fl->report_type == AZ_REPORT_TYPE_TDX;
    if (tdx ? !s->ev.td_quote.len : !s->ev.vcek.len) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, "azure.evidence.structure", AZ_SPEC_EVIDENCE,
                       "%s evidence without its %s", tdx ? "az-tdx-vtpm" : "az-snp-vtpm",
                       tdx ? "td_quote" : "vcek");
        return false;
    }
    cachet_ev_pass(s->ctx, "azure.evidence.structure", AZ_SPEC_EVIDENCE,
                   "evidence v%d: vTPM quote, %zu PCRs, HCL report%s", s->ev.version,
                   s->ev.n_pcrs, tdx ? ", TD quote" : ", VCEK");
    cachet_ev_claim_int(s->ctx, NULL, "evidence_version", s->ev.version);

    if (az_hcl_parse(s->ev.hcl.p, s->ev.hcl.len, &s->hcl) != CACHET_OK) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, "azure.hcl.structure", AZ_SPEC_HCL, "%s",
                       cachet_err_detail());
        return false;
    }
    cachet_ev_pass(s->ctx, "azure.hcl.structure", AZ_SPEC_HCL,
                   "HCLA v%u, %u bytes of runtime data, trailing bytes zero", s->hcl.version,
                   s->hcl.var_size);
    if (s->hcl.report_type != s->fl->report_type) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, "azure.hcl.report_type", AZ_SPEC_HCL,
                       "report type %u, %s evidence needs %u", s->hcl.report_type,
                       tdx ? "az-tdx-vtpm" : "az-snp-vtpm", s->fl->report_type);
        return false;
    }
    cachet_ev_pass(s->ctx, "azure.hcl.report_type", AZ_SPEC_HCL, "report type %u (%s)",
                   s->hcl.report_type, tdx ? "TDX" : "SEV-SNP");
    return true;
}

/* ---- the hardware layer ---------------------------------------------------------- */

/* REPORT_DATA of the authenticated hardware evidence (64 bytes), or NULL. */
static const uint8_t *tdq_report_data(const tpm_blob *q)
{
    if (q->len < TDQ_HEADER_LEN + 6)
        return NULL;
    uint16_t version = cachet_le16(q->p);
    size_t body = version == 4 ? TDQ_HEADER_LEN : version == 5 ? TDQ_HEADER_LEN + 6 : 0;
    if (!body || q->len < body + TD_BODY_REPORTDATA_OFF + REPORT_DATA_LEN)
        return NULL;
    return q->p + body + TD_BODY_REPORTDATA_OFF;
}

static void lift_claim(az_run *s, const cachet_verify_result *sub, const char *key)
{
    const json_t *v = json_object_get(sub->claims, key);
    if (v)
        cachet_ev_claim(s->ctx, NULL, key, json_deep_copy(v));
}

/* H(runtime data) with the HCL's hash type, or 0 for an unknown type. */
static size_t runtime_hash(const az_run *s, uint8_t out[REPORT_DATA_LEN])
{
    cachet_hash_alg h;
    switch (s->hcl.hash_type) {
    case 1: h = CACHET_HASH_SHA256; break;
    case 2: h = CACHET_HASH_SHA384; break;
    case 3: h = CACHET_HASH_SHA512; break;
    default: return 0;
    }
    if (cachet_hash(h, s->hcl.var, s->hcl.var_size, out) != CACHET_OK)
        return 0;
    return cachet_hash_len(h);
}

static bool step_hardware(az_run *s, const uint8_t **report_data)
{
    uint8_t want[REPORT_DATA_LEN];
    size_t want_len = runtime_hash(s, want);
    bool tdx = s->fl->report_type == AZ_REPORT_TYPE_TDX;
    const uint8_t *ev = tdx ? s->ev.td_quote.p : s->hcl.hw;
    size_t len = tdx ? s->ev.td_quote.len : AZ_HW_REPORT_LEN;
    cachet_verify_result *sub =
        az_run_family(s->ctx, s->req, s->fl->hw_family, s->fl->hw_family, ev, len,
                      tdx ? NULL : s->ev.vcek.p, tdx ? 0 : s->ev.vcek.len,
                      "vcek (from the evidence)", want_len ? want : NULL, want_len);
    *report_data = NULL;
    if (!sub)
        return false;
    bool ok = sub->verified;
    if (ok)
        cachet_ev_pass(s->ctx, "azure.hardware", AZ_SPEC_HCL, "the %s is authentic (%s)",
                       s->fl->hw_name, cachet_ev_status_str(sub->status));
    else
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, "azure.hardware", AZ_SPEC_HCL,
                       "the %s is not authentic", s->fl->hw_name);
    lift_claim(s, sub, "measurement");
    lift_claim(s, sub, "debug");
    lift_claim(s, sub, "tcb_status");
    cachet_verify_result_free(sub);

    if (!tdx) {
        /* The paravisor runs at VMPL 0; a report from another level does not
         * speak for the HCL's runtime data. */
        uint32_t vmpl = cachet_le32(s->hcl.hw + SNP_VMPL_OFF);
        if (vmpl != 0) {
            cachet_ev_fail(s->ctx, CACHET_EV_AUTH, "azure.snp.vmpl", AZ_SPEC_HCL,
                           "the SNP report was requested at VMPL %u, not by the paravisor "
                           "(VMPL 0)", vmpl);
            ok = false;
        } else {
            cachet_ev_pass(s->ctx, "azure.snp.vmpl", AZ_SPEC_HCL, "VMPL 0 (the paravisor)");
        }
        *report_data = s->hcl.hw + SNP_REPORT_DATA_OFF;
        return ok;
    }
    const uint8_t *rd = tdq_report_data(&s->ev.td_quote);
    if (!rd) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, "azure.tdx.report_data", AZ_SPEC_HCL,
                       "the TD quote has no REPORTDATA to bind");
        return false;
    }
    /* The TDREPORT in the HCL report is what the paravisor turned into the
     * quote: both must carry the same REPORTDATA. */
    if (memcmp(rd, s->hcl.hw + TDREPORT_REPORTDATA_OFF, REPORT_DATA_LEN) != 0) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, "azure.tdx.report_data", AZ_SPEC_HCL,
                       "the TD quote's REPORTDATA differs from the HCL TDREPORT's");
        return false;
    }
    cachet_ev_pass(s->ctx, "azure.tdx.report_data", AZ_SPEC_HCL,
                   "the TD quote and the HCL TDREPORT carry the same REPORTDATA");
    *report_data = rd;
    return ok;
}

/* ---- REPORT_DATA == H(runtime data) ------------------------------------------------ */

static bool step_binding(az_run *s, const uint8_t *report_data)
{
    const char *id = "azure.hcl.binding";
    /* All 64 bytes: the digest, then zeros. */
    uint8_t want[REPORT_DATA_LEN] = { 0 };
    if (!runtime_hash(s, want)) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, AZ_SPEC_BINDING,
                       "runtime-data hash type %u is not 1 (SHA-256), 2 or 3", s->hcl.hash_type);
        return false;
    }
    if (!report_data) {
        cachet_ev_na(s->ctx, false, id, AZ_SPEC_BINDING,
                     "not checked: no authenticated REPORT_DATA");
        return false;
    }
    char *exp = cachet_hex_string(want, sizeof want);
    char *act = cachet_hex_string(report_data, REPORT_DATA_LEN);
    bool ok = false;
    if (!exp || !act)
        cachet_ev_internal_error(s->ctx, "azure: out of memory");
    else
        ok = cachet_ev_compare(s->ctx, CACHET_EV_AUTH, id, AZ_SPEC_BINDING, exp, act);
    free(exp);
    free(act);
    return ok;
}

/* ---- the runtime data: HCLAkPub ------------------------------------------------------ */

static cachet_rc jwk_rsa(const json_t *k, cachet_pkey **out)
{
    const json_t *kty = json_object_get(k, "kty"), *n = json_object_get(k, "n"),
                 *e = json_object_get(k, "e");
    if (!json_is_string(kty) || strcmp(json_string_value(kty), "RSA") != 0 ||
        !json_is_string(n) || !json_is_string(e))
        return cachet_err(CACHET_RC(CACHET_SUB_EVIDENCE, CACHET_E_FORMAT),
                          "HCLAkPub is not an RSA JWK with n and e");
    uint8_t *nb = NULL, *eb = NULL;
    size_t nl = 0, el = 0;
    cachet_rc rc = cachet_base64url_decode(json_string_value(n), json_string_length(n), &nb, &nl);
    if (rc == CACHET_OK)
        rc = cachet_base64url_decode(json_string_value(e), json_string_length(e), &eb, &el);
    if (rc == CACHET_OK)
        rc = cachet_pkey_from_rsa(nb, nl, eb, el, out);
    free(nb);
    free(eb);
    return rc;
}

static bool step_runtime(az_run *s, bool bound)
{
    const char *id = "azure.hcl.runtime_data";
    if (!bound) {
        cachet_ev_na(s->ctx, false, id, AZ_SPEC_RUNTIME,
                     "not read: the runtime data is not bound to an authenticated report");
        return false;
    }
    json_error_t jerr;
    s->var = json_loadb((const char *)s->hcl.var, s->hcl.var_size, JSON_REJECT_DUPLICATES, &jerr);
    const json_t *keys = s->var ? json_object_get(s->var, "keys") : NULL;
    if (!json_is_array(keys)) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, AZ_SPEC_RUNTIME,
                       "the runtime data is not a JSON object with \"keys\"");
        return false;
    }
    const json_t *ak = NULL, *k;
    size_t i, n_ak = 0;
    json_array_foreach(keys, i, k) {
        const json_t *kid = json_object_get(k, "kid");
        if (json_is_string(kid) && strcmp(json_string_value(kid), "HCLAkPub") == 0) {
            ak = k;
            n_ak++;
        }
    }
    if (n_ak != 1) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, AZ_SPEC_RUNTIME,
                       "%zu keys named HCLAkPub (exactly one required)", n_ak);
        return false;
    }
    if (jwk_rsa(ak, &s->ak) != CACHET_OK) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, AZ_SPEC_RUNTIME, "HCLAkPub: %s",
                       cachet_err_detail());
        return false;
    }
    cachet_ev_pass(s->ctx, id, AZ_SPEC_RUNTIME,
                   "HCLAkPub (RSA-%zu) from the bound runtime data",
                   cachet_pkey_rsa_bytes(s->ak) * 8);
    json_t *o = cachet_ev_claim_object(s->ctx, NULL, "hcl");
    if (o) {
        uint8_t *spki = NULL;
        size_t spki_len = 0;
        if (cachet_pkey_spki_der(s->ak, &spki, &spki_len) == CACHET_OK) {
            char *b64 = cachet_base64_string(spki, spki_len);
            cachet_ev_claim_str(s->ctx, o, "ak_public", b64 ? b64 : "");
            cachet_ev_claim_str(s->ctx, NULL, "ak_public", b64 ? b64 : "");
            free(b64);
        }
        free(spki);
        const json_t *vm = json_object_get(s->var, "vm-configuration");
        if (vm)
            cachet_ev_claim(s->ctx, o, "vm_configuration", json_deep_copy(vm));
        const json_t *ud = json_object_get(s->var, "user-data");
        if (json_is_string(ud))
            cachet_ev_claim_str(s->ctx, o, "user_data", json_string_value(ud));
        cachet_ev_claim_int(s->ctx, o, "version", s->hcl.version);
    }
    return true;
}

/* ---- the vTPM quote ------------------------------------------------------------------ */

static bool step_quote(az_run *s, bool *nonce_ok)
{
    tpm_pcrs pcrs;
    memset(&pcrs, 0, sizeof pcrs);
    for (size_t i = 0; i < s->ev.n_pcrs; i++)
        if (tpm_pcrs_set(&pcrs, TPM2_ALG_SHA256, (unsigned)i, s->ev.pcrs[i].p,
                         s->ev.pcrs[i].len) != CACHET_OK) {
            cachet_ev_fail(s->ctx, CACHET_EV_AUTH, "azure.evidence.structure", AZ_SPEC_EVIDENCE,
                           "PCR %zu: %s", i, cachet_err_detail());
            return false;
        }
    /* The CoCo attester sends the bare RSASSA signature of the vTPM AK
     * (RSA-2048, SHA-256): the TPMT_SIGNATURE it stands for. */
    TPMT_SIGNATURE sig;
    memset(&sig, 0, sizeof sig);
    sig.sigAlg = TPM2_ALG_RSASSA;
    sig.signature.rsassa.hash = TPM2_ALG_SHA256;
    if (s->ev.quote_sig.len > sizeof sig.signature.rsassa.sig.buffer) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, "tpm.signature.structure", TPM_SPEC_SIGNATURE,
                       "a %zu-byte signature", s->ev.quote_sig.len);
        return false;
    }
    sig.signature.rsassa.sig.size = (UINT16)s->ev.quote_sig.len;
    memcpy(sig.signature.rsassa.sig.buffer, s->ev.quote_sig.p, s->ev.quote_sig.len);
    cachet_ev_pass(s->ctx, "tpm.signature.structure", TPM_SPEC_SIGNATURE,
                   "vTPM quote: a %zu-byte RSASSA-PKCS1-v1_5/SHA-256 signature (the CoCo "
                   "attester's form)", s->ev.quote_sig.len);
    tpm_quote_result r;
    tpm_check_quote(s->ctx, s->req, "vTPM quote", s->ev.quote_msg.p, s->ev.quote_msg.len, &sig,
                    s->ak, &pcrs, &r);
    *nonce_ok = r.nonce_ok;
    if (r.parsed) {
        cachet_ev_claim_hex(s->ctx, NULL, "report_data", r.attest.extraData.buffer,
                            r.attest.extraData.size);
        json_t *t = cachet_ev_claim_object(s->ctx, NULL, "tpm");
        if (t && r.signature_ok && r.digest_ok) {
            const tpm_pcr_bank *b = tpm_pcrs_find(&pcrs, TPM2_ALG_SHA256);
            tpm_claim_pcrs(s->ctx, t, b);
            cachet_ev_claim_hex(s->ctx, t, "init_data", b->v[8], CACHET_SHA256_LEN);
        }
    }
    cachet_ev_claim_str(s->ctx, NULL, "freshness",
                        !s->req->nonce ? "not-checked" : r.nonce_ok ? "nonce-matched" : "mismatch");
    return r.parsed && r.signature_ok && r.digest_ok;
}

/* Trustee evidence v2 also binds the nonce into the HCL user-data (64
 * bytes, hex): compared in full, the nonce zero-padded. */
static void step_user_data(az_run *s)
{
    const char *id = "azure.hcl.user_data";
    if (s->ev.version < 2) {
        cachet_ev_na(s->ctx, false, id, AZ_SPEC_USER_DATA,
                     "evidence v%d does not bind user-data", s->ev.version);
        return;
    }
    if (!s->req->nonce) {
        cachet_ev_na(s->ctx, false, id, AZ_SPEC_USER_DATA, "no nonce given: not compared");
        return;
    }
    const json_t *ud = s->var ? json_object_get(s->var, "user-data") : NULL;
    uint8_t got[64];
    size_t n = 0;
    if (!json_is_string(ud) || cachet_hex_decode(json_string_value(ud), got, sizeof got, &n) !=
                                   CACHET_OK || n != sizeof got) {
        cachet_ev_fail(s->ctx, CACHET_EV_CONTENT, id, AZ_SPEC_USER_DATA,
                       "the runtime data has no 64-byte hex user-data");
        return;
    }
    if (s->req->nonce_len > sizeof got) {
        cachet_ev_fail(s->ctx, CACHET_EV_CONTENT, id, AZ_SPEC_USER_DATA,
                       "a %zu-byte nonce does not fit the 64-byte user-data", s->req->nonce_len);
        return;
    }
    uint8_t want[64] = { 0 };
    memcpy(want, s->req->nonce, s->req->nonce_len);
    char *exp = cachet_hex_string(want, sizeof want), *act = cachet_hex_string(got, sizeof got);
    if (!exp || !act)
        cachet_ev_internal_error(s->ctx, "azure: out of memory");
    else
        cachet_ev_compare(s->ctx, CACHET_EV_CONTENT, id, AZ_SPEC_USER_DATA, exp, act);
    free(exp);
    free(act);
}

cachet_rc az_verify(const cachet_evidence_ops *self, const cachet_verify_request *req,
                    cachet_ev_ctx *ctx)
{
    az_run s;
    memset(&s, 0, sizeof s);
    s.ctx = ctx;
    s.req = req;
    s.fl = (const az_flavour *)self->config;
    if (!s.fl) {
        cachet_ev_internal_error(ctx, "azure: family without its flavour");
        return CACHET_OK;
    }
    cachet_ev_claim_str(ctx, NULL, "hardware", s.fl->hw_family);
    if (step_structure(&s)) {
        const uint8_t *rd = NULL;
        bool hw_ok = step_hardware(&s, &rd);
        bool bound = step_binding(&s, rd);
        bool ak_ok = step_runtime(&s, bound);
        bool nonce_ok = false, quote_ok = false;
        if (ak_ok) {
            quote_ok = step_quote(&s, &nonce_ok);
        } else {
            cachet_ev_na(ctx, false, "tpm.quote.signature", TPM_SPEC_QUOTE,
                         "not checked: no AK from bound runtime data");
            cachet_ev_claim_str(ctx, NULL, "freshness", "not-checked");
        }
        step_user_data(&s);
        if (hw_ok && bound && ak_ok && quote_ok)
            cachet_ev_authentic(ctx);
    }
    json_decref(s.var);
    cachet_pkey_free(s.ak);
    az_evidence_free(&s.ev);
    return CACHET_OK;
}
