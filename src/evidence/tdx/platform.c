/* The platform checks: everything the quote's certification data and the
 * endorsements establish, independent of the quote body and its signature
 * (evidence-formats §2.7 steps 2-10; Intel QVL 4.1.2.4.3-4.1.2.4.15):
 *
 *   PCK chain to the pinned root -> SGX extension -> Root CA CRL and PCK
 *   CRL -> revocation -> TCB info -> QE identity -> QE report signature by
 *   the PCK key -> QE report data binding -> QE identity match -> the
 *   certified attestation key.
 *
 * The result is a pure function of (certification data, endorsement bytes,
 * anchors, time) that stays the same for a window of times, so verify.c can
 * cache it by content digest: a second quote from the same platform then
 * costs only its own signature. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/clock.h"
#include "cachet/encoding.h"
#include "evidence/tdx/platform_int.h"

/* ---- window and bookkeeping ------------------------------------------------ */

void tdx_prun_window(tdx_prun *s, int64_t nb, int64_t na)
{
    if (nb > s->p->not_before)
        s->p->not_before = nb;
    if (na < s->p->not_after)
        s->p->not_after = na;
}

void tdx_prun_edge(tdx_prun *s, int64_t edge)
{
    if (edge > s->t0) {
        if (edge - 1 < s->p->not_after)
            s->p->not_after = edge - 1;
    } else if (edge > s->p->not_before) {
        s->p->not_before = edge;
    }
}

void tdx_prun_use(tdx_prun *s, size_t src)
{
    if (src == TDX_SRC_QUOTE)
        return;
    for (size_t i = 0; i < s->p->n_used; i++)
        if (s->p->used[i] == src)
            return;
    size_t *u = realloc(s->p->used, (s->p->n_used + 1) * sizeof *u);
    if (!u) {
        s->r->oom = true;
        return;
    }
    s->p->used = u;
    s->p->used[s->p->n_used++] = src;
}

const char *tdx_prun_src_name(const tdx_prun *s, size_t src)
{
    if (src == TDX_SRC_QUOTE)
        return "the quote";
    const cachet_endorsement *en = cachet_endorsements_get(s->in->endorsements, src);
    return en && en->name ? en->name : "an endorsement";
}

void tdx_prun_cert_edges(tdx_prun *s, const cachet_x509 *c)
{
    int64_t nb, na;
    if (cachet_x509_validity(c, &nb, &na) == CACHET_OK) {
        tdx_prun_edge(s, nb);
        tdx_prun_edge(s, na + 1);
    }
}

void tdx_prun_path_window(tdx_prun *s, const cachet_chain_result *res)
{
    for (size_t i = 0; i < res->depth; i++) {
        int64_t nb, na;
        if (cachet_x509_validity(res->path[i], &nb, &na) == CACHET_OK)
            tdx_prun_window(s, nb, na);
        else
            tdx_prun_window(s, INT64_MAX, INT64_MIN); /* never cache */
    }
}

bool tdx_prun_is_anchor(const tdx_prun *s, const cachet_x509 *c)
{
    uint8_t a[CACHET_SHA256_LEN], b[CACHET_SHA256_LEN];
    if (cachet_x509_fingerprint(c, a) != CACHET_OK)
        return false;
    for (size_t i = 0; i < s->in->n_roots; i++)
        if (cachet_x509_fingerprint(s->in->roots[i], b) == CACHET_OK && memcmp(a, b, sizeof a) == 0)
            return true;
    return false;
}

static bool cn_has(const cachet_x509 *c, const char *needle, char *cn, size_t cap)
{
    cn[0] = 0;
    return cachet_x509_subject_cn(c, cn, cap) == CACHET_OK && strstr(cn, needle) != NULL;
}

/* ---- PCK chain (QVL 4.1.2.4.3-4.1.2.4.4) --------------------------------------- */

static bool step_pck_chain(tdx_prun *s)
{
    const tdx_quote *q = s->in->quote;
    if (cachet_x509_parse_all(q->pck_chain, q->pck_chain_len, &s->qchain, &s->n_qchain) !=
        CACHET_OK) {
        s->qchain = NULL;
        s->n_qchain = 0;
        tdx_recs_fail(s->r, CACHET_EV_AUTH, "pck.chain", TDX_SPEC_PCK_CHAIN,
                      "the quote's PEM PCK certificate chain does not parse: %s",
                      cachet_err_detail());
        return false;
    }
    cachet_chain_params cp = {
        .leaf = s->qchain[0],
        .intermediates = s->qchain + 1,
        .n_intermediates = s->n_qchain - 1,
        .roots = s->in->roots,
        .n_roots = s->in->n_roots,
        .time = s->t0,
        .flags = CACHET_CHAIN_STRICT,
    };
    if (cachet_x509_verify_chain(&cp, &s->path) != CACHET_OK) {
        char when[21];
        cachet_time_format_rfc3339(s->t0, when);
        tdx_recs_fail(s->r, CACHET_EV_AUTH, "pck.chain", TDX_SPEC_PCK_CHAIN,
                      "the PCK certificate does not chain to the Intel SGX Root CA at %s: %s", when,
                      s->path.error_str[0] ? s->path.error_str : cachet_err_detail());
        return false;
    }
    char leaf_cn[80], ca_cn[80], root_cn[80];
    if (s->path.depth != 3) {
        tdx_recs_fail(s->r, CACHET_EV_AUTH, "pck.chain", TDX_SPEC_PCK_CHAIN,
                      "the PCK path has %zu certificates; Intel's is leaf -> PCK CA -> root",
                      s->path.depth);
        return false;
    }
    if (!tdx_prun_is_anchor(s, s->path.path[2])) {
        tdx_recs_fail(s->r, CACHET_EV_AUTH, "pck.chain", TDX_SPEC_PCK_CHAIN,
                      "the PCK path does not end at the pinned Intel SGX Root CA");
        return false;
    }
    s->anchor = s->path.path[2];
    s->pck_ca = s->path.path[1];
    cachet_x509_subject_cn(s->anchor, root_cn, sizeof root_cn);
    if (cn_has(s->pck_ca, "SGX PCK Platform CA", ca_cn, sizeof ca_cn))
        s->p->pck_ca = TDX_PCK_CA_PLATFORM;
    else if (cn_has(s->pck_ca, "SGX PCK Processor CA", ca_cn, sizeof ca_cn))
        s->p->pck_ca = TDX_PCK_CA_PROCESSOR;
    else {
        tdx_recs_fail(s->r, CACHET_EV_AUTH, "pck.chain", TDX_SPEC_PCK_CHAIN,
                      "the PCK was issued by \"%s\", not an Intel SGX PCK Platform/Processor CA",
                      ca_cn);
        return false;
    }
    uint8_t fp[CACHET_SHA256_LEN];
    char fphex[2 * CACHET_SHA256_LEN + 1] = "";
    if (cachet_x509_fingerprint(s->anchor, fp) == CACHET_OK)
        tdx_hex(fp, sizeof fp, fphex);
    tdx_recs_pass(s->r, "pck.chain", TDX_SPEC_PCK_CHAIN, "PCK certificate -> %s -> %s (pinned, sha256 %s)",
                  ca_cn, root_cn, fphex);
    tdx_prun_path_window(s, &s->path);

    /* 4.1.2.4.4: the leaf is a PCK certificate with a P-256 key. */
    cachet_pkey *pk = NULL;
    bool key_ok = cachet_x509_public_key(s->qchain[0], &pk) == CACHET_OK &&
                  cachet_pkey_is_ec(pk, CACHET_CURVE_P256);
    cachet_pkey_free(pk);
    if (!cn_has(s->path.path[0], "SGX PCK Certificate", leaf_cn, sizeof leaf_cn) || !key_ok) {
        tdx_recs_fail(s->r, CACHET_EV_AUTH, "pck.profile", TDX_SPEC_PCK_CHAIN,
                      "the leaf (CN \"%s\") is not an Intel SGX PCK Certificate with a P-256 key",
                      leaf_cn);
        return false;
    }
    tdx_recs_pass(s->r, "pck.profile", TDX_SPEC_PCK_CHAIN, "CN \"%s\", ECDSA P-256 key", leaf_cn);
    return true;
}

/* A root carried in the quote is never trusted; one that differs from the
 * pin is an attempt to substitute it. */
static void step_supplied_root(tdx_prun *s)
{
    size_t seen = 0;
    for (size_t i = 1; i < s->n_qchain; i++) {
        char sub[80] = "", iss[80] = "";
        if (cachet_x509_subject_cn(s->qchain[i], sub, sizeof sub) != CACHET_OK ||
            cachet_x509_issuer_cn(s->qchain[i], iss, sizeof iss) != CACHET_OK ||
            strcmp(sub, iss) != 0)
            continue;
        seen++;
        if (!tdx_prun_is_anchor(s, s->qchain[i])) {
            tdx_recs_fail(s->r, CACHET_EV_AUTH, "pck.supplied_root", TDX_SPEC_PCK_CHAIN,
                          "the quote carries a self-issued certificate \"%s\" that is not the "
                          "pinned Intel SGX Root CA", sub);
            return;
        }
    }
    if (seen)
        tdx_recs_pass(s->r, "pck.supplied_root", TDX_SPEC_PCK_CHAIN,
                      "the root in the quote's chain is byte-identical to the pin");
    else
        tdx_recs_na(s->r, false, "pck.supplied_root", TDX_SPEC_PCK_CHAIN,
                    "the quote's chain carries no root; the built-in pin is the anchor");
}

static bool step_extensions(tdx_prun *s)
{
    const uint8_t *der;
    size_t len;
    cachet_rc rc = cachet_x509_extension(s->qchain[0], TDX_OID_SGX_EXT, &der, &len);
    if (rc == CACHET_OK)
        rc = tdx_pck_ext_parse(der, len, &s->p->pck);
    if (rc != CACHET_OK) {
        tdx_recs_fail(s->r, CACHET_EV_AUTH, "pck.extensions", TDX_SPEC_PCK_EXT,
                      "the PCK certificate's SGX extension (%s): %s", TDX_OID_SGX_EXT,
                      cachet_err_detail());
        return false;
    }
    const tdx_pck_ext *e = &s->p->pck;
    char fmspc[13], pceid[5], comps[16 * 4 + 1] = "";
    tdx_hex(e->fmspc, 6, fmspc);
    tdx_hex(e->pceid, 2, pceid);
    for (int i = 0; i < 16; i++)
        snprintf(comps + strlen(comps), sizeof comps - strlen(comps), "%s%u", i ? "," : "",
                 e->comp[i]);
    tdx_recs_pass(s->r, "pck.extensions", TDX_SPEC_PCK_EXT,
                  "FMSPC %s, PCE-ID %s, PCESVN %u, TCB components [%s], SGX type %s", fmspc, pceid,
                  e->pcesvn, comps, tdx_sgx_type_str(e->sgx_type));
    s->p->pck_ok = true;
    return true;
}

/* ---- CRLs (QVL 4.1.2.4.5-4.1.2.4.7) --------------------------------------------- */

/* Every CRL named as issued by `issuer` is verified at t; those that verify
 * are kept.  Returns -1 (some, none valid), 0 (none), or the count. */
static long verify_crls(tdx_prun *s, const cachet_x509 *issuer, cachet_x509_crl ***out,
                        size_t *n_out, char *err, size_t errcap)
{
    long found = 0;
    err[0] = 0;
    for (size_t i = 0; i < s->pool.n_crls; i++) {
        cachet_x509_crl *crl = s->pool.crls[i].crl;
        if (!cachet_crl_names_issuer(crl, issuer))
            continue;
        found++;
        int64_t tu, nu;
        if (cachet_crl_validity(crl, &tu, &nu) == CACHET_OK) {
            tdx_prun_edge(s, tu);
            tdx_prun_edge(s, nu);
        }
        if (cachet_crl_verify(crl, issuer, s->t0) != CACHET_OK) {
            if (!err[0])
                snprintf(err, errcap, "%s: %s", tdx_prun_src_name(s, s->pool.crls[i].src),
                         cachet_err_detail());
            continue;
        }
        cachet_x509_crl **v = realloc(*out, (*n_out + 1) * sizeof *v);
        if (!v) {
            s->r->oom = true;
            return -1;
        }
        *out = v;
        v[(*n_out)++] = crl;
        tdx_prun_use(s, s->pool.crls[i].src);
        tdx_prun_window(s, tu, nu - 1);
    }
    if (found && !*n_out)
        return -1;
    return (long)*n_out;
}

static void crl_window_text(const cachet_x509_crl *crl, char *buf, size_t cap)
{
    int64_t tu, nu;
    char a[21], b[21];
    if (cachet_crl_validity(crl, &tu, &nu) != CACHET_OK) {
        snprintf(buf, cap, "?");
        return;
    }
    cachet_time_format_rfc3339(tu, a);
    cachet_time_format_rfc3339(nu, b);
    snprintf(buf, cap, "%s..%s", a, b);
}

static void step_crls(tdx_prun *s)
{
    char err[300], win[48];
    const cachet_x509 *root = s->anchor ? s->anchor : (s->in->n_roots ? s->in->roots[0] : NULL);
    long n = root ? verify_crls(s, root, &s->root_crls, &s->n_root_crls, err, sizeof err) : 0;
    if (n < 0)
        tdx_recs_fail(s->r, CACHET_EV_AUTH, "crl.root", TDX_SPEC_ROOT_CRL,
                      "no Intel SGX Root CA CRL verifies at this time (%s)", err);
    else if (n == 0)
        tdx_recs_na(s->r, true, "crl.root", TDX_SPEC_ROOT_CRL,
                    "no Intel SGX Root CA CRL among the endorsements: revocation of the PCK CA and "
                    "the TCB signing certificate not checked");
    else {
        crl_window_text(s->root_crls[0], win, sizeof win);
        tdx_recs_pass(s->r, "crl.root", TDX_SPEC_ROOT_CRL,
                      "%ld CRL%s signed by the Intel SGX Root CA, valid %s", n, n > 1 ? "s" : "", win);
    }

    const char *ca = s->p->pck_ca == TDX_PCK_CA_PROCESSOR ? "Processor" : "Platform";
    if (!s->pck_ca) {
        tdx_recs_na(s->r, false, "crl.pck", TDX_SPEC_PCK_CRL, "not checked: no verified PCK CA");
        return;
    }
    n = verify_crls(s, s->pck_ca, &s->pck_crls, &s->n_pck_crls, err, sizeof err);
    if (n < 0)
        tdx_recs_fail(s->r, CACHET_EV_AUTH, "crl.pck", TDX_SPEC_PCK_CRL,
                      "no PCK %s CA CRL verifies at this time (%s)", ca, err);
    else if (n == 0)
        tdx_recs_na(s->r, true, "crl.pck", TDX_SPEC_PCK_CRL,
                    "no CRL from the Intel SGX PCK %s CA among the endorsements: revocation of the "
                    "PCK certificate not checked", ca);
    else {
        crl_window_text(s->pck_crls[0], win, sizeof win);
        tdx_recs_pass(s->r, "crl.pck", TDX_SPEC_PCK_CRL,
                      "%ld CRL%s signed by the Intel SGX PCK %s CA (issuer equals the PCK's issuer), "
                      "valid %s", n, n > 1 ? "s" : "", ca, win);
    }
}

static bool revoked_by(cachet_x509_crl *const *crls, size_t n, const cachet_x509 *c)
{
    for (size_t i = 0; i < n; i++)
        if (cachet_crl_is_revoked(crls[i], c))
            return true;
    return false;
}

static void serial_hex(const cachet_x509 *c, char *out, size_t cap)
{
    uint8_t ser[32];
    size_t n = 0;
    out[0] = 0;
    if (cachet_x509_serial(c, ser, sizeof ser, &n) == CACHET_OK && 2 * n + 1 <= cap)
        tdx_hex(ser, n, out);
}

static void step_revocation(tdx_prun *s)
{
    const char *id = "pck.revocation";
    if (!s->path_ok) {
        tdx_recs_na(s->r, false, id, TDX_SPEC_PCK_CRL, "not checked: no verified PCK path");
        return;
    }
    char ser[80];
    if (s->n_pck_crls && revoked_by(s->pck_crls, s->n_pck_crls, s->path.path[0])) {
        serial_hex(s->path.path[0], ser, sizeof ser);
        tdx_recs_fail(s->r, CACHET_EV_AUTH, id, TDX_SPEC_PCK_CRL,
                      "the PCK certificate (serial %s) is revoked by the PCK CRL", ser);
        return;
    }
    if (s->n_root_crls && revoked_by(s->root_crls, s->n_root_crls, s->pck_ca)) {
        serial_hex(s->pck_ca, ser, sizeof ser);
        tdx_recs_fail(s->r, CACHET_EV_AUTH, id, TDX_SPEC_PCK_CRL,
                      "the PCK CA (serial %s) is revoked by the Intel SGX Root CA CRL", ser);
        return;
    }
    if (!s->n_pck_crls && !s->n_root_crls) {
        tdx_recs_na(s->r, false, id, TDX_SPEC_PCK_CRL, "no CRL available: revocation not checked");
        return;
    }
    s->p->crl_checked = s->n_pck_crls && s->n_root_crls;
    tdx_recs_pass(s->r, id, TDX_SPEC_PCK_CRL, "%s%s%s",
                  s->n_pck_crls ? "the PCK certificate is not in the PCK CRL" : "",
                  s->n_pck_crls && s->n_root_crls ? "; " : "",
                  s->n_root_crls ? "the PCK CA is not in the root CA CRL" : "");
}

/* ---- QE report (QVL 4.1.2.4.12-4.1.2.4.15) ---------------------------------------- */

static bool step_qe_signature(tdx_prun *s)
{
    const tdx_quote *q = s->in->quote;
    const char *id = "qe_report.signature";
    if (!s->path_ok) {
        tdx_recs_na(s->r, false, id, TDX_SPEC_QE_SIG, "not checked: no verified PCK certificate");
        return false;
    }
    cachet_pkey *pk = NULL;
    cachet_rc rc = cachet_x509_public_key(s->path.path[0], &pk);
    if (rc == CACHET_OK)
        rc = cachet_ecdsa_verify_raw(pk, CACHET_HASH_SHA256, q->qe_report_raw, TDX_ENCLAVE_REPORT_LEN,
                                     q->qe_report_sig, 32, CACHET_BIG_ENDIAN);
    cachet_pkey_free(pk);
    if (rc != CACHET_OK) {
        tdx_recs_fail(s->r, CACHET_EV_AUTH, id, TDX_SPEC_QE_SIG,
                      "the QE report signature does not verify with the PCK key");
        return false;
    }
    tdx_recs_pass(s->r, id, TDX_SPEC_QE_SIG,
                  "ECDSA P-256/SHA-256 over the 384-byte QE report verifies with the PCK key");
    return true;
}

static bool step_qe_binding(tdx_prun *s)
{
    const tdx_quote *q = s->in->quote;
    uint8_t want[64] = { 0 };
    cachet_hash_ctx *h = cachet_hash_new(CACHET_HASH_SHA256);
    bool ok = h && cachet_hash_update(h, q->attest_key, 64) == CACHET_OK &&
              cachet_hash_update(h, q->qe_auth, q->qe_auth_len) == CACHET_OK &&
              cachet_hash_final(h, want) == CACHET_OK;
    cachet_hash_free(h);
    if (!ok) {
        s->r->oom = true;
        return false;
    }
    char exp[129], act[129];
    tdx_hex(want, 64, exp);
    tdx_hex(q->qe_report.reportdata, 64, act);
    return tdx_recs_compare(s->r, CACHET_EV_AUTH, "qe_report.binding",
                            TDX_SPEC_QE_BINDING " = SHA-256(attestation key || QE auth data) || 0^32",
                            exp, act);
}

static bool step_qe_debug(tdx_prun *s)
{
    const tdx_enclave_report *qe = &s->in->quote->qe_report;
    if (qe->attr_flags & TDX_SGX_ATTR_DEBUG) {
        tdx_recs_fail(s->r, CACHET_EV_AUTH, "qe_report.debug", TDX_SPEC_QE_MATCH,
                      "the quoting enclave runs in debug mode (ATTRIBUTES bit 1): its attestation "
                      "key is not protected");
        return false;
    }
    tdx_recs_pass(s->r, "qe_report.debug", TDX_SPEC_QE_MATCH, "the quoting enclave is not in debug mode");
    return true;
}

static void masked_hex(const uint8_t *v, const uint8_t *mask, size_t n, char *out)
{
    uint8_t b[16];
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(v[i] & mask[i]);
    tdx_hex(b, n, out);
}

static bool step_qe_match(tdx_prun *s)
{
    const tdx_enclave_report *qe = &s->in->quote->qe_report;
    const tdx_qe_identity *id = &s->p->qe_identity;
    if (!s->p->has_qe_identity) {
        tdx_recs_na(s->r, false, "qe_identity.match", TDX_SPEC_QE_MATCH,
                    "no verified QE identity: MRSIGNER, ISVPRODID, MISCSELECT, ATTRIBUTES and the "
                    "QE TCB not compared");
        return true;
    }
    char exp[65], act[65];
    bool ok = true;
    tdx_hex(id->mrsigner, 32, exp);
    tdx_hex(qe->mrsigner, 32, act);
    ok &= tdx_recs_compare(s->r, CACHET_EV_AUTH, "qe_identity.mrsigner", TDX_SPEC_QE_MATCH, exp, act);
    snprintf(exp, sizeof exp, "%u", id->isvprodid);
    snprintf(act, sizeof act, "%u", qe->isvprodid);
    ok &= tdx_recs_compare(s->r, CACHET_EV_AUTH, "qe_identity.isvprodid", TDX_SPEC_QE_MATCH, exp, act);
    /* QVL compares (report & mask) with the unmasked expected value. */
    tdx_hex(id->miscselect, 4, exp);
    masked_hex(qe->miscselect_raw, id->miscselect_mask, 4, act);
    ok &= tdx_recs_compare(s->r, CACHET_EV_AUTH, "qe_identity.miscselect", TDX_SPEC_QE_MATCH, exp, act);
    tdx_hex(id->attributes, 16, exp);
    masked_hex(qe->attributes, id->attributes_mask, 16, act);
    ok &= tdx_recs_compare(s->r, CACHET_EV_AUTH, "qe_identity.attributes", TDX_SPEC_QE_MATCH, exp, act);

    s->p->qe_level = tdx_qe_level_match(id, qe->isvsvn);
    if (!s->p->qe_level) {
        tdx_recs_fail(s->r, CACHET_EV_CONTENT, "qe_identity.tcb", TDX_SPEC_QE_MATCH,
                      "QE ISVSVN %u is below every QE identity TCB level (TcbNotSupported)",
                      qe->isvsvn);
    } else {
        s->p->qe_level_ok = true;
        tdx_recs_pass(s->r, "qe_identity.tcb", TDX_SPEC_QE_MATCH,
                      "QE ISVSVN %u matches the level isvsvn %u: %s", qe->isvsvn,
                      s->p->qe_level->isvsvn, tdx_tcb_status_str(s->p->qe_level->status));
    }
    return ok;
}

static bool step_attest_key(tdx_prun *s)
{
    const tdx_quote *q = s->in->quote;
    if (cachet_pkey_from_ec_point(CACHET_CURVE_P256, q->attest_key, 64, &s->p->attest_key) !=
        CACHET_OK) {
        s->p->attest_key = NULL;
        tdx_recs_fail(s->r, CACHET_EV_AUTH, "quote.attestation_key", TDX_SPEC_QUOTE_SIG,
                      "the attestation key is not a point on P-256");
        return false;
    }
    tdx_recs_pass(s->r, "quote.attestation_key", TDX_SPEC_QUOTE_SIG,
                  "a P-256 point, certified by the QE report");
    return true;
}

/* ---- the whole platform ------------------------------------------------------------- */

static void collateral_problems(tdx_prun *s)
{
    for (size_t i = 0; i < s->pool.n_problems; i++) {
        tdx_prun_use(s, s->pool.problem_src[i]);
        tdx_recs_fail(s->r, CACHET_EV_AUTH, "collateral.format", TDX_SPEC_TCB_INFO,
                      "unusable Intel collateral: %s", s->pool.problems[i]);
    }
}

tdx_platform *tdx_platform_build(const tdx_platform_input *in)
{
    tdx_platform *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->refs = 1;
    p->not_before = INT64_MIN;
    p->not_after = INT64_MAX;
    tdx_recs_init(&p->recs, tdx_family_prefix(in->fam));

    tdx_prun s;
    memset(&s, 0, sizeof s);
    s.in = in;
    s.p = p;
    s.r = &p->recs;
    s.t0 = in->time;
    tdx_pool_gather(&s.pool, in->endorsements);
    if (s.pool.oom)
        s.r->oom = true;
    collateral_problems(&s);

    s.path_ok = step_pck_chain(&s);
    if (s.n_qchain)
        step_supplied_root(&s);
    s.ext_ok = s.n_qchain && step_extensions(&s);
    step_crls(&s);
    step_revocation(&s);
    if (s.ext_ok) {
        tdx_step_tcb_info(&s);
        tdx_step_qe_identity(&s);
    } else {
        tdx_recs_na(s.r, false, "tcb_info.select", TDX_SPEC_TCB_INFO,
                    "not checked: the PCK certificate's FMSPC is not available");
        tdx_recs_na(s.r, false, "qe_identity.select", TDX_SPEC_QE_IDENTITY,
                    "not checked: no usable PCK certificate");
    }
    bool qe_sig = step_qe_signature(&s);
    bool binding = step_qe_binding(&s);
    bool qe_nodebug = step_qe_debug(&s);
    bool qe_match = step_qe_match(&s);
    bool ak = step_attest_key(&s);
    p->auth_ok = s.path_ok && s.ext_ok && qe_sig && binding && qe_nodebug && qe_match && ak &&
                 !s.r->auth_failed && !s.r->oom;

    cachet_chain_result_clear(&s.path);
    cachet_x509_free_all(s.qchain, s.n_qchain);
    free(s.root_crls);
    free(s.pck_crls);
    tdx_pool_clear(&s.pool);
    return p;
}

tdx_platform *tdx_platform_ref(tdx_platform *p)
{
    if (p)
        __atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
    return p;
}

void tdx_platform_release(tdx_platform *p)
{
    if (!p || __atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    tdx_recs_clear(&p->recs);
    free(p->used);
    cachet_pkey_free(p->attest_key);
    tdx_tcb_info_clear(&p->tcb_info);
    tdx_qe_identity_clear(&p->qe_identity);
    free(p);
}
