/* Trust in the attestation key (evidence-formats §4.4):
 *
 *   AK certificate: its key is the AK; it chains to a --trust-anchor (a TPM
 *   vendor or cloud EK/AK CA) through untrusted intermediates from the
 *   evidence and the endorsements; CRLs from the endorsements are applied.
 *
 *   Credential activation: the EK certificate chains to a --trust-anchor and
 *   certifies the EK public area in the evidence; the activation record is
 *   exactly the TPM2_MakeCredential a verifier derives from the nonce for
 *   this EK and the AK's Name (docs/evidence/tpm.md), so the TPM released
 *   the nonce only with this AK loaded beside this EK.
 *
 * Every mechanism the evidence offers must hold; at least one must exist. */
#include <stdlib.h>
#include <string.h>

#include "cachet/clock.h"
#include "evidence/family.h"
#include "evidence/tpm/tpm.h"

#define MAX_INTERMEDIATES 32

/* DER of OID 2.23.133.8.1 (tcg-kp-EKCertificate). */
static const uint8_t oid_ek_cert[] = { 0x06, 0x05, 0x67, 0x81, 0x05, 0x08, 0x01 };

typedef struct pool {
    cachet_x509 *own[2 * TPM_MAX_CHAIN]; /* parsed from the evidence */
    size_t n_own;
    cachet_x509 *all[MAX_INTERMEDIATES];
    size_t n_all;
} pool;

static void pool_clear(pool *p)
{
    for (size_t i = 0; i < p->n_own; i++)
        cachet_x509_free(p->own[i]);
    memset(p, 0, sizeof *p);
}

/* Intermediates: the evidence's chain, then every endorsement certificate. */
static void pool_fill(pool *p, const cachet_verify_request *req, const tpm_blob *chain, size_t n)
{
    for (size_t i = 0; i < n && p->n_own < 2 * TPM_MAX_CHAIN; i++) {
        cachet_x509 *c = NULL;
        if (cachet_x509_parse(chain[i].p, chain[i].len, &c) == CACHET_OK)
            p->own[p->n_own++] = c;
    }
    for (size_t i = 0; i < p->n_own && p->n_all < MAX_INTERMEDIATES; i++)
        p->all[p->n_all++] = p->own[i];
    const cachet_endorsements *e = req->endorsements;
    for (size_t i = 0; i < cachet_endorsements_count(e); i++) {
        const cachet_endorsement *en = cachet_endorsements_get(e, i);
        if (en->kind != CACHET_ENDORSEMENT_CERTS)
            continue;
        for (size_t j = 0; j < en->n_certs && p->n_all < MAX_INTERMEDIATES; j++)
            p->all[p->n_all++] = en->certs[j];
    }
}

static bool same_cert(const cachet_x509 *a, const cachet_x509 *b)
{
    uint8_t fa[CACHET_SHA256_LEN], fb[CACHET_SHA256_LEN];
    return cachet_x509_fingerprint(a, fa) == CACHET_OK &&
           cachet_x509_fingerprint(b, fb) == CACHET_OK && memcmp(fa, fb, sizeof fa) == 0;
}

/* Endorsements whose certificates the verified path went through. */
static void mark_path(cachet_ev_ctx *ctx, const cachet_verify_request *req,
                      const cachet_chain_result *res)
{
    const cachet_endorsements *e = req->endorsements;
    for (size_t i = 0; i < cachet_endorsements_count(e); i++) {
        const cachet_endorsement *en = cachet_endorsements_get(e, i);
        for (size_t j = 0; en->kind == CACHET_ENDORSEMENT_CERTS && j < en->n_certs; j++)
            for (size_t k = 0; k < res->depth; k++)
                if (same_cert(en->certs[j], res->path[k]))
                    cachet_ev_mark_used(ctx, i);
    }
}

/* CRLs among the endorsements, applied to each certificate of the path
 * whose issuer they name.  Returns false on a revoked certificate or an
 * invalid CRL from a CA of the path. */
static bool check_crls(cachet_ev_ctx *ctx, const cachet_verify_request *req, const char *id,
                       const char *what, const cachet_chain_result *res)
{
    const cachet_endorsements *e = req->endorsements;
    bool leaf_covered = false;
    size_t used = 0;
    for (size_t i = 0; i < cachet_endorsements_count(e); i++) {
        const cachet_endorsement *en = cachet_endorsements_get(e, i);
        if (en->kind != CACHET_ENDORSEMENT_CRL)
            continue;
        for (size_t k = 0; k + 1 < res->depth; k++) {
            const cachet_x509 *issuer = res->path[k + 1];
            if (!cachet_crl_names_issuer(en->crl, issuer))
                continue;
            cachet_ev_mark_used(ctx, i);
            used++;
            if (cachet_crl_verify(en->crl, issuer, req->time) != CACHET_OK) {
                cachet_ev_fail(ctx, CACHET_EV_AUTH, id, TPM_SPEC_AK_CERT,
                               "CRL %s from a CA of the %s path is not valid now: %s", en->name,
                               what, cachet_err_detail());
                return false;
            }
            if (cachet_crl_is_revoked(en->crl, res->path[k])) {
                cachet_ev_fail(ctx, CACHET_EV_AUTH, id, TPM_SPEC_AK_CERT,
                               "certificate %zu of the %s path is revoked by %s", k, what,
                               en->name);
                return false;
            }
            if (k == 0)
                leaf_covered = true;
        }
    }
    if (!leaf_covered)
        cachet_ev_na(ctx, true, id, TPM_SPEC_AK_CERT,
                     "no CRL from the %s certificate's issuer among the endorsements: "
                     "revocation not checked", what);
    else
        cachet_ev_pass(ctx, id, TPM_SPEC_AK_CERT, "%zu CRL(s) applied; nothing on the %s path "
                       "is revoked", used, what);
    return true;
}

/* Path validation of leaf to a --trust-anchor; records <prefix>.chain and
 * <prefix>.crl. */
static bool check_chain(cachet_ev_ctx *ctx, const cachet_verify_request *req, const char *prefix,
                        const char *what, const cachet_x509 *leaf, const tpm_blob *chain,
                        size_t n_chain)
{
    char id[48], crl_id[48], when[21];
    snprintf(id, sizeof id, "%s.chain", prefix);
    snprintf(crl_id, sizeof crl_id, "%s.crl", prefix);
    cachet_time_format_rfc3339(req->time, when);
    if (req->n_trust_anchors == 0) {
        cachet_ev_fail(ctx, CACHET_EV_AUTH, id, TPM_SPEC_AK_CERT,
                       "no --trust-anchor: the %s certificate cannot be anchored (give the TPM "
                       "vendor's or cloud's EK/AK CA)", what);
        cachet_ev_na(ctx, false, crl_id, TPM_SPEC_AK_CERT, "not checked: no verified path");
        return false;
    }
    pool p = { 0 };
    pool_fill(&p, req, chain, n_chain);
    cachet_chain_result res = { 0 };
    cachet_chain_params cp = {
        .leaf = leaf,
        .intermediates = p.all,
        .n_intermediates = p.n_all,
        .roots = req->trust_anchors,
        .n_roots = req->n_trust_anchors,
        .time = req->time,
        .flags = CACHET_CHAIN_DEFAULT,
    };
    cachet_rc rc = cachet_x509_verify_chain(&cp, &res);
    bool ok = rc == CACHET_OK;
    if (!ok) {
        cachet_ev_fail(ctx, CACHET_EV_AUTH, id, TPM_SPEC_AK_CERT,
                       "the %s certificate does not chain to a --trust-anchor at %s: %s", what,
                       when, res.error_str[0] ? res.error_str : cachet_err_detail());
        cachet_ev_na(ctx, false, crl_id, TPM_SPEC_AK_CERT, "not checked: no verified path");
    } else {
        char cn[128] = "";
        if (res.depth && cachet_x509_subject_cn(res.path[res.depth - 1], cn, sizeof cn) != CACHET_OK)
            cn[0] = 0;
        cachet_ev_pass(ctx, id, TPM_SPEC_AK_CERT,
                       "the %s certificate chains to the trust anchor \"%s\" at %s (%zu deep)",
                       what, cn, when, res.depth);
        mark_path(ctx, req, &res);
        ok = check_crls(ctx, req, crl_id, what, &res);
    }
    cachet_chain_result_clear(&res);
    pool_clear(&p);
    return ok;
}

/* The certificate's key is the given key (DER SubjectPublicKeyInfo equal). */
static bool same_key(const cachet_x509 *c, const cachet_pkey *k)
{
    cachet_pkey *ck = NULL;
    uint8_t *a = NULL, *b = NULL;
    size_t al = 0, bl = 0;
    bool eq = cachet_x509_public_key(c, &ck) == CACHET_OK &&
              cachet_pkey_spki_der(ck, &a, &al) == CACHET_OK &&
              cachet_pkey_spki_der(k, &b, &bl) == CACHET_OK && al == bl && memcmp(a, b, al) == 0;
    free(a);
    free(b);
    cachet_pkey_free(ck);
    return eq;
}

/* Issuer CN and serial of an AK/EK certificate (TPM certificates often have
 * an empty subject: the TPM's identity is in the SAN). */
static void claim_cert(cachet_ev_ctx *ctx, const char *key, const cachet_x509 *c)
{
    json_t *o = cachet_ev_claim_object(ctx, NULL, key);
    if (!o)
        return;
    char cn[256];
    if (cachet_x509_issuer_cn(c, cn, sizeof cn) == CACHET_OK)
        cachet_ev_claim_str(ctx, o, "issuer_cn", cn);
    uint8_t serial[64];
    size_t n = 0;
    if (cachet_x509_serial(c, serial, sizeof serial, &n) == CACHET_OK)
        cachet_ev_claim_hex(ctx, o, "serial", serial, n);
}

/* ---- the AK certificate ----------------------------------------------------------- */

static bool ak_cert_trust(cachet_ev_ctx *ctx, const tpm_trust_in *in)
{
    cachet_x509 *c = NULL;
    if (cachet_x509_parse(in->ev->ak_cert.p, in->ev->ak_cert.len, &c) != CACHET_OK) {
        cachet_ev_fail(ctx, CACHET_EV_AUTH, "tpm.ak.cert.key", TPM_SPEC_AK_CERT,
                       "the AK certificate does not parse: %s", cachet_err_detail());
        cachet_ev_na(ctx, false, "tpm.ak.cert.chain", TPM_SPEC_AK_CERT, "not checked");
        return false;
    }
    bool ok = true;
    if (!in->ak_key || !same_key(c, in->ak_key)) {
        cachet_ev_fail(ctx, CACHET_EV_AUTH, "tpm.ak.cert.key", TPM_SPEC_AK_CERT,
                       "the AK certificate certifies another key than the AK public area");
        ok = false;
    } else {
        cachet_ev_pass(ctx, "tpm.ak.cert.key", TPM_SPEC_AK_CERT,
                       "the AK certificate certifies the AK public area");
    }
    claim_cert(ctx, "ak_cert", c);
    ok = check_chain(ctx, in->req, "tpm.ak.cert", "AK", c, in->ev->ak_chain, in->ev->n_ak_chain) &&
         ok;
    cachet_x509_free(c);
    return ok;
}

/* ---- the EK and the activation record ----------------------------------------------- */

/* The extendedKeyUsage value names tcg-kp-EKCertificate (TCG EK profile). */
bool tpm_eku_has_ek(const uint8_t *v, size_t len)
{
    /* SEQUENCE { OBJECT IDENTIFIER ... }: scan the OIDs one by one. */
    if (len < 2 || v[0] != 0x30)
        return false;
    size_t off = 2, end = len;
    if (v[1] & 0x80) {
        size_t nl = v[1] & 0x7f;
        if (nl == 0 || nl > 2 || len < 2 + nl)
            return false;
        size_t l = 0;
        for (size_t i = 0; i < nl; i++)
            l = (l << 8) | v[2 + i];
        off = 2 + nl;
        if (l != len - off)
            return false;
    } else if (v[1] != len - 2) {
        return false;
    }
    while (off + 2 <= end) {
        if (v[off] != 0x06 || v[off + 1] & 0x80 || off + 2 + v[off + 1] > end)
            return false;
        size_t n = 2u + v[off + 1];
        if (n == sizeof oid_ek_cert && memcmp(v + off, oid_ek_cert, n) == 0)
            return true;
        off += n;
    }
    return false;
}

static bool ek_cert_checks(cachet_ev_ctx *ctx, const tpm_trust_in *in, const cachet_x509 *c,
                           const cachet_pkey *ek_key)
{
    bool ok = true;
    if (!same_key(c, ek_key)) {
        cachet_ev_fail(ctx, CACHET_EV_AUTH, "tpm.ek.cert.key", TPM_SPEC_EK,
                       "the EK certificate certifies another key than the EK public area");
        ok = false;
    } else {
        cachet_ev_pass(ctx, "tpm.ek.cert.key", TPM_SPEC_EK,
                       "the EK certificate certifies the EK public area");
    }
    const uint8_t *eku = NULL;
    size_t eku_len = 0;
    cachet_rc rc = cachet_x509_extension(c, "2.5.29.37", &eku, &eku_len);
    if (cachet_rc_code(rc) == CACHET_E_NOT_FOUND) {
        cachet_ev_na(ctx, true, "tpm.ek.cert.profile", TPM_SPEC_EK,
                     "the EK certificate has no extendedKeyUsage naming tcg-kp-EKCertificate");
    } else if (rc != CACHET_OK || !tpm_eku_has_ek(eku, eku_len)) {
        cachet_ev_fail(ctx, CACHET_EV_AUTH, "tpm.ek.cert.profile", TPM_SPEC_EK,
                       "the EK certificate's extendedKeyUsage lacks tcg-kp-EKCertificate "
                       "(2.23.133.8.1)");
        ok = false;
    } else {
        cachet_ev_pass(ctx, "tpm.ek.cert.profile", TPM_SPEC_EK,
                       "extendedKeyUsage tcg-kp-EKCertificate (2.23.133.8.1)");
    }
    claim_cert(ctx, "ek_cert", c);
    return check_chain(ctx, in->req, "tpm.ek.cert", "EK", c, in->ev->ek_chain,
                       in->ev->n_ek_chain) && ok;
}

static bool blob_eq(const tpm_blob *a, const tpm_blob *b)
{
    return a->len == b->len && a->len && memcmp(a->p, b->p, a->len) == 0;
}

static bool activation_trust(cachet_ev_ctx *ctx, const tpm_trust_in *in)
{
    const tpm_evidence *ev = in->ev;
    TPMT_PUBLIC ek;
    cachet_pkey *ek_key = NULL;
    if (tpm_public_parse(ev->ek_public.p, ev->ek_public.len, &ek) != CACHET_OK ||
        tpm_public_pkey(&ek, &ek_key) != CACHET_OK) {
        cachet_ev_fail(ctx, CACHET_EV_AUTH, "tpm.ek.public", TPM_SPEC_PUBLIC,
                       "the EK public area is unusable: %s", cachet_err_detail());
        cachet_ev_na(ctx, false, "tpm.ak.activation", TPM_SPEC_CREDENTIAL, "not checked");
        return false;
    }
    cachet_ev_pass(ctx, "tpm.ek.public", TPM_SPEC_PUBLIC, "%s EK, nameAlg %s",
                   ek.type == TPM2_ALG_RSA ? "RSA" : "ECC",
                   tpm_alg_name(ek.nameAlg) ? tpm_alg_name(ek.nameAlg) : "unknown");
    bool ok = true;
    cachet_x509 *c = NULL;
    if (cachet_x509_parse(ev->ek_cert.p, ev->ek_cert.len, &c) != CACHET_OK) {
        cachet_ev_fail(ctx, CACHET_EV_AUTH, "tpm.ek.cert.key", TPM_SPEC_EK,
                       "the EK certificate does not parse: %s", cachet_err_detail());
        ok = false;
    } else {
        ok = ek_cert_checks(ctx, in, c, ek_key);
    }
    cachet_x509_free(c);
    cachet_pkey_free(ek_key);

    const char *id = "tpm.ak.activation";
    if (!in->ak_name_len) {
        cachet_ev_fail(ctx, CACHET_EV_AUTH, id, TPM_SPEC_CREDENTIAL, "no AK Name to bind");
        return false;
    }
    if (!in->req->nonce) {
        cachet_ev_fail(ctx, CACHET_EV_AUTH, id, TPM_SPEC_CREDENTIAL,
                       "the activation record is checked against the nonce it delivered: "
                       "give --nonce");
        return false;
    }
    tpm_blob blob = { 0 }, secret = { 0 };
    cachet_rc rc = tpm_make_credential(&ek, in->ak_name, in->ak_name_len, in->req->nonce,
                                       in->req->nonce_len, in->req->nonce, in->req->nonce_len,
                                       &blob, &secret);
    if (rc != CACHET_OK) {
        cachet_ev_fail(ctx, CACHET_EV_AUTH, id, TPM_SPEC_CREDENTIAL,
                       "the credential cannot be recomputed: %s", cachet_err_detail());
        ok = false;
    } else if (!blob_eq(&blob, &ev->cred_blob) || !blob_eq(&secret, &ev->enc_secret)) {
        cachet_ev_fail(ctx, CACHET_EV_AUTH, id, TPM_SPEC_CREDENTIAL,
                       "the activation record is not the credential for this nonce, this EK "
                       "and this AK's Name");
        ok = false;
    } else {
        cachet_ev_pass(ctx, id, TPM_SPEC_CREDENTIAL,
                       "the nonce was wrapped to this EK for this AK's Name; only "
                       "TPM2_ActivateCredential with the AK beside the EK could unwrap it");
    }
    tpm_blob_free(&blob);
    tpm_blob_free(&secret);
    return ok;
}

bool tpm_check_ak_trust(cachet_ev_ctx *ctx, const tpm_trust_in *in)
{
    const tpm_evidence *ev = in->ev;
    bool have_cert = ev->ak_cert.len > 0, have_act = ev->cred_blob.len > 0;
    bool ok = true;
    if (have_cert)
        ok = ak_cert_trust(ctx, in) && ok;
    else
        cachet_ev_na(ctx, false, "tpm.ak.cert.chain", TPM_SPEC_AK_CERT, "no AK certificate");
    if (have_act)
        ok = activation_trust(ctx, in) && ok;
    else
        cachet_ev_na(ctx, false, "tpm.ak.activation", TPM_SPEC_CREDENTIAL,
                     "no credential-activation record");
    const char *how = have_cert && have_act ? "certificate+credential-activation"
                      : have_cert           ? "certificate"
                      : have_act            ? "credential-activation" : "none";
    cachet_ev_claim_str(ctx, NULL, "ak_trust", ok && (have_cert || have_act) ? how : "none");
    if (!have_cert && !have_act) {
        cachet_ev_fail(ctx, CACHET_EV_AUTH, "tpm.ak.trust", TPM_SPEC_OBJECT,
                       "no AK certificate and no credential-activation record: nothing shows "
                       "the AK lives in a genuine TPM");
        return false;
    }
    if (!ok) {
        cachet_ev_fail(ctx, CACHET_EV_AUTH, "tpm.ak.trust", TPM_SPEC_OBJECT,
                       "the AK is not trusted (%s did not hold)", how);
        return false;
    }
    cachet_ev_pass(ctx, "tpm.ak.trust", TPM_SPEC_OBJECT, "the AK is trusted by %s", how);
    return true;
}
