/* Gathering Intel collateral from the endorsements, by content:
 *
 *   - certificates (PEM/DER files) and CRLs, as the core classified them;
 *   - PCS response bodies {"tcbInfo":{...},"signature":"..."} and
 *     {"enclaveIdentity":{...},"signature":"..."} (the signed bytes are the
 *     raw inner object, located in the file's own bytes);
 *   - PCS issuer-chain headers saved as files (URL-encoded PEM);
 *   - one combined collateral JSON (dcap-qvl's QuoteCollateralV3 shape:
 *     tcb_info / qe_identity as the exact signed text, their hex signatures,
 *     PEM issuer chains, hex DER CRLs).
 *
 * Nothing here is trusted: it only collects.  An item that looks like Intel
 * collateral but is broken is recorded as a problem, so that the platform
 * checks fail instead of quietly running without it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/encoding.h"
#include "evidence/tdx/tdx.h"

#define GROW(arr, n, cap, oomflag)                                                     \
    do {                                                                              \
        if ((n) == (cap)) {                                                           \
            size_t c_ = (cap) ? 2 * (cap) : 8;                                        \
            void *p_ = realloc((arr), c_ * sizeof *(arr));                            \
            if (!p_) {                                                                \
                (oomflag) = true;                                                     \
                break;                                                                \
            }                                                                         \
            (arr) = p_;                                                               \
            (cap) = c_;                                                               \
        }                                                                             \
    } while (0)

static void add_cert(tdx_pool *p, cachet_x509 *c, size_t src, bool owned)
{
    GROW(p->certs, p->n_certs, p->cap_certs, p->oom);
    if (p->n_certs == p->cap_certs) {
        if (owned)
            cachet_x509_free(c);
        return;
    }
    p->certs[p->n_certs++] = (tdx_pool_cert){ .cert = c, .src = src, .owned = owned };
}

static void add_crl(tdx_pool *p, cachet_x509_crl *crl, size_t src, bool owned)
{
    GROW(p->crls, p->n_crls, p->cap_crls, p->oom);
    if (p->n_crls == p->cap_crls) {
        if (owned)
            cachet_crl_free(crl);
        return;
    }
    p->crls[p->n_crls++] = (tdx_pool_crl){ .crl = crl, .src = src, .owned = owned };
}

static void add_problem(tdx_pool *p, size_t src, const char *name, const char *what,
                        const char *why)
{
    GROW(p->problems, p->n_problems, p->cap_problems, p->oom);
    if (p->n_problems == p->cap_problems)
        return;
    size_t *ps = realloc(p->problem_src, p->cap_problems * sizeof *ps);
    if (!ps) {
        p->oom = true;
        return;
    }
    p->problem_src = ps;
    char *s = NULL;
    if (asprintf(&s, "%s: %s: %s", name, what, why) < 0) {
        p->oom = true;
        return;
    }
    p->problem_src[p->n_problems] = src;
    p->problems[p->n_problems++] = s;
}

static void add_doc(tdx_pool *p, bool tcb_info, const char *body, size_t len, const uint8_t sig[64],
                    size_t src, const char *form)
{
    tdx_signed_doc d = { .body = body, .len = len, .src = src, .form = form };
    memcpy(d.sig, sig, 64);
    if (tcb_info) {
        GROW(p->tcb_infos, p->n_tcb_infos, p->cap_tcb_infos, p->oom);
        if (p->n_tcb_infos < p->cap_tcb_infos)
            p->tcb_infos[p->n_tcb_infos++] = d;
    } else {
        GROW(p->qe_ids, p->n_qe_ids, p->cap_qe_ids, p->oom);
        if (p->n_qe_ids < p->cap_qe_ids)
            p->qe_ids[p->n_qe_ids++] = d;
    }
}

static void add_pem_chain(tdx_pool *p, const uint8_t *pem, size_t len, size_t src,
                          const char *name, const char *what)
{
    cachet_x509 **certs = NULL;
    size_t n = 0;
    if (cachet_x509_parse_all(pem, len, &certs, &n) != CACHET_OK) {
        add_problem(p, src, name, what, cachet_err_detail());
        return;
    }
    for (size_t i = 0; i < n; i++)
        add_cert(p, certs[i], src, true);
    free(certs); /* the handles now belong to the pool */
}

static bool sig_from_hex(const char *hex, uint8_t sig[64])
{
    return hex && tdx_hex_fixed(hex, sig, 64) == CACHET_OK;
}

/* {"tcbInfo":{...},"signature":"..."} or {"enclaveIdentity":...}. */
static bool pcs_body(tdx_pool *p, const cachet_endorsement *en, size_t src, const char *member,
                     bool tcb_info)
{
    if (!json_object_get(en->json, member))
        return false;
    const char *what = tcb_info ? "TCB info" : "QE identity";
    const json_t *sigv = json_object_get(en->json, "signature");
    uint8_t sig[64];
    if (!json_is_string(sigv) || !sig_from_hex(json_string_value(sigv), sig)) {
        add_problem(p, src, en->name, what, "\"signature\" is not 64 bytes of hex");
        return true;
    }
    const char *body;
    size_t len;
    if (tdx_json_member_span((const char *)en->data, en->len, member, &body, &len) != CACHET_OK) {
        add_problem(p, src, en->name, what, cachet_err_detail());
        return true;
    }
    add_doc(p, tcb_info, body, len, sig, src, "PCS body");
    return true;
}

static void hex_crl(tdx_pool *p, const cachet_endorsement *en, size_t src, const char *key)
{
    const json_t *v = json_object_get(en->json, key);
    if (!v)
        return;
    const char *s = json_string_value(v);
    size_t slen = json_string_length(v);
    cachet_x509_crl *crl = NULL;
    if (!s) {
        add_problem(p, src, en->name, key, "is not a string");
        return;
    }
    if (slen > 16 && strncmp(s, "-----BEGIN", 10) == 0) {
        if (cachet_crl_parse((const uint8_t *)s, slen, &crl) != CACHET_OK) {
            add_problem(p, src, en->name, key, cachet_err_detail());
            return;
        }
    } else {
        size_t cap = slen / 2 + 1, n = 0;
        uint8_t *der = malloc(cap);
        if (!der) {
            p->oom = true;
            return;
        }
        if (cachet_hex_decode(s, der, cap, &n) != CACHET_OK ||
            cachet_crl_parse(der, n, &crl) != CACHET_OK) {
            add_problem(p, src, en->name, key, "is neither hex DER nor PEM of a CRL");
            free(der);
            return;
        }
        free(der);
    }
    add_crl(p, crl, src, true);
}

static void combined_doc(tdx_pool *p, const cachet_endorsement *en, size_t src, const char *key,
                         const char *sigkey, bool tcb_info)
{
    const json_t *v = json_object_get(en->json, key);
    if (!v)
        return;
    const char *what = tcb_info ? "TCB info" : "QE identity";
    const json_t *sigv = json_object_get(en->json, sigkey);
    uint8_t sig[64];
    if (!json_is_string(v)) {
        add_problem(p, src, en->name, what, "is not the signed JSON text (a string)");
        return;
    }
    if (!json_is_string(sigv) || !sig_from_hex(json_string_value(sigv), sig)) {
        add_problem(p, src, en->name, what, "its signature is not 64 bytes of hex");
        return;
    }
    /* The string's decoded bytes are the signed text itself (the file
     * escapes them; jansson's value is exactly what Intel signed). */
    add_doc(p, tcb_info, json_string_value(v), json_string_length(v), sig, src,
            "combined collateral");
}

static void combined_chain(tdx_pool *p, const cachet_endorsement *en, size_t src, const char *key)
{
    const json_t *v = json_object_get(en->json, key);
    if (!v)
        return;
    if (!json_is_string(v)) {
        add_problem(p, src, en->name, key, "is not a PEM string");
        return;
    }
    add_pem_chain(p, (const uint8_t *)json_string_value(v), json_string_length(v), src, en->name,
                  key);
}

static bool combined(tdx_pool *p, const cachet_endorsement *en, size_t src)
{
    static const char *const keys[] = { "tcb_info", "qe_identity", "pck_crl", "root_ca_crl" };
    bool any = false;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        any = any || json_object_get(en->json, keys[i]);
    if (!any)
        return false;
    combined_doc(p, en, src, "tcb_info", "tcb_info_signature", true);
    combined_doc(p, en, src, "qe_identity", "qe_identity_signature", false);
    /* Only the TCB signing chain is needed (the PCK CA that issues the PCK
     * CRL comes from the quote's own chain); it is usually the same text
     * twice, parsed once. */
    combined_chain(p, en, src, "tcb_info_issuer_chain");
    const char *a = json_string_value(json_object_get(en->json, "tcb_info_issuer_chain"));
    const char *b = json_string_value(json_object_get(en->json, "qe_identity_issuer_chain"));
    if (!a || !b || strcmp(a, b) != 0)
        combined_chain(p, en, src, "qe_identity_issuer_chain");
    hex_crl(p, en, src, "pck_crl");
    hex_crl(p, en, src, "root_ca_crl");
    return true;
}

static bool contains(const uint8_t *buf, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; len >= n && i + n <= len; i++)
        if (buf[i] == (uint8_t)needle[0] && memcmp(buf + i, needle, n) == 0)
            return true;
    return false;
}

static void url_chain(tdx_pool *p, const cachet_endorsement *en, size_t src)
{
    if (!en->data || !contains(en->data, en->len, "-----BEGIN%20CERTIFICATE"))
        return;
    uint8_t *pem = NULL;
    size_t n = 0;
    if (tdx_url_decode(en->data, en->len, &pem, &n) != CACHET_OK) {
        add_problem(p, src, en->name, "URL-encoded issuer chain", cachet_err_detail());
        return;
    }
    add_pem_chain(p, pem, n, src, en->name, "URL-encoded issuer chain");
    free(pem);
}

static void json_item(tdx_pool *p, const cachet_endorsement *en, size_t i)
{
    if (!json_is_object(en->json))
        return;
    if (!pcs_body(p, en, i, "tcbInfo", true) && !pcs_body(p, en, i, "enclaveIdentity", false))
        combined(p, en, i);
}

/* A JSON document that the endorsement loader did not classify as JSON.
 * The combined collateral JSON carries PEM chains inside its strings, and a
 * loader that looks for PEM markers first files it as a certificate bundle
 * (broken, or not); it is parsed here (strictly) so that it is not lost. */
static void other_json(tdx_pool *p, const cachet_endorsement *en, size_t i)
{
    const uint8_t *d = en->data, *end = en->data + en->len;
    while (d < end && (*d == ' ' || *d == '\t' || *d == '\r' || *d == '\n'))
        d++;
    if (d >= end || *d != '{')
        return;
    json_error_t jerr;
    json_t *j = json_loadb((const char *)en->data, en->len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j)
        return;
    json_t **v = realloc(p->owned_json, (p->n_owned_json + 1) * sizeof *v);
    if (!v) {
        json_decref(j);
        p->oom = true;
        return;
    }
    p->owned_json = v;
    v[p->n_owned_json++] = j;
    cachet_endorsement view = *en;
    view.kind = CACHET_ENDORSEMENT_JSON;
    view.json = j;
    json_item(p, &view, i);
}

void tdx_pool_gather(tdx_pool *p, const cachet_endorsements *e)
{
    memset(p, 0, sizeof *p);
    for (size_t i = 0; i < cachet_endorsements_count(e); i++) {
        const cachet_endorsement *en = cachet_endorsements_get(e, i);
        switch (en->kind) {
        case CACHET_ENDORSEMENT_CERTS:
            for (size_t k = 0; k < en->n_certs; k++)
                add_cert(p, en->certs[k], i, false);
            other_json(p, en, i); /* a JSON document whose strings hold PEM */
            break;
        case CACHET_ENDORSEMENT_CRL:
            add_crl(p, en->crl, i, false);
            break;
        case CACHET_ENDORSEMENT_JSON:
            json_item(p, en, i);
            break;
        case CACHET_ENDORSEMENT_OTHER:
            url_chain(p, en, i);
            other_json(p, en, i);
            break;
        default:
            break;
        }
    }
}

void tdx_pool_clear(tdx_pool *p)
{
    for (size_t i = 0; i < p->n_certs; i++)
        if (p->certs[i].owned)
            cachet_x509_free(p->certs[i].cert);
    for (size_t i = 0; i < p->n_crls; i++)
        if (p->crls[i].owned)
            cachet_crl_free(p->crls[i].crl);
    for (size_t i = 0; i < p->n_problems; i++)
        free(p->problems[i]);
    free(p->certs);
    free(p->crls);
    free(p->tcb_infos);
    free(p->qe_ids);
    free(p->problems);
    free(p->problem_src);
    for (size_t i = 0; i < p->n_owned_json; i++)
        json_decref(p->owned_json[i]);
    free(p->owned_json);
    memset(p, 0, sizeof *p);
}
