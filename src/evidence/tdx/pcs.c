/* Intel PCS collateral: see pcs.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cachet/encoding.h"
#include "cachet/fileio.h"
#include "evidence/tdx/pcs.h"

#define PCS_ERR(code) CACHET_RC(CACHET_SUB_EVIDENCE, code)
#define RATE_FILE "pcs-not-before"

static const char *const tcb_hdrs[] = { "TCB-Info-Issuer-Chain", "SGX-TCB-Info-Issuer-Chain",
                                        NULL };
static const char *const qe_hdrs[] = { "SGX-Enclave-Identity-Issuer-Chain",
                                       "Enclave-Identity-Issuer-Chain", NULL };

const char *tdx_pcs_doc_str(tdx_pcs_doc d)
{
    switch (d) {
    case TDX_PCS_TCB_INFO: return "TCB info";
    case TDX_PCS_QE_IDENTITY: return "QE identity";
    case TDX_PCS_PCK_CRL: return "PCK CRL";
    case TDX_PCS_ROOT_CRL: return "root CA CRL";
    default: return "document";
    }
}

static bool is_json_doc(tdx_pcs_doc d)
{
    return d == TDX_PCS_TCB_INFO || d == TDX_PCS_QE_IDENTITY;
}

cachet_rc tdx_pcs_url(tdx_family fam, tdx_pcs_doc doc, const uint8_t fmspc[6], tdx_pck_ca ca,
                      char *buf, size_t cap)
{
    const char *f = fam == TDX_FAM_TDX ? "tdx" : "sgx";
    char hex[13];
    int n = -1;
    if (!buf || !cap)
        return cachet_err(PCS_ERR(CACHET_E_INVALID_ARG), "pcs: bad arguments");
    switch (doc) {
    case TDX_PCS_TCB_INFO:
        if (!fmspc)
            return cachet_err(PCS_ERR(CACHET_E_INVALID_ARG), "pcs: no FMSPC");
        cachet_hex_encode(fmspc, 6, hex);
        n = snprintf(buf, cap, TDX_PCS_HOST "/%s/certification/v4/tcb?fmspc=%s", f, hex);
        break;
    case TDX_PCS_QE_IDENTITY:
        n = snprintf(buf, cap, TDX_PCS_HOST "/%s/certification/v4/qe/identity", f);
        break;
    case TDX_PCS_PCK_CRL:
        if (ca != TDX_PCK_CA_PLATFORM && ca != TDX_PCK_CA_PROCESSOR)
            return cachet_err(PCS_ERR(CACHET_E_INVALID_ARG), "pcs: the PCK CA is unknown");
        n = snprintf(buf, cap, TDX_PCS_HOST "/sgx/certification/v4/pckcrl?ca=%s&encoding=der",
                     ca == TDX_PCK_CA_PLATFORM ? "platform" : "processor");
        break;
    case TDX_PCS_ROOT_CRL:
        n = snprintf(buf, cap, TDX_PCS_CERTS_HOST "/IntelSGXRootCA.der");
        break;
    default:
        return cachet_err(PCS_ERR(CACHET_E_INVALID_ARG), "pcs: unknown document");
    }
    if (n < 0 || (size_t)n >= cap) {
        buf[0] = 0; /* never hand back a truncated URL */
        return cachet_err(PCS_ERR(CACHET_E_LIMIT), "pcs: URL does not fit %zu bytes", cap);
    }
    return CACHET_OK;
}

/* ---- what a document must be ------------------------------------------------------ */

/* A PCS JSON body: one object with the member, a parseable signed document;
 * *next_update set. */
static bool json_doc_ok(tdx_pcs_doc doc, const uint8_t *b, size_t n, int64_t *next_update)
{
    const char *member = doc == TDX_PCS_TCB_INFO ? "tcbInfo" : "enclaveIdentity";
    const char *v = NULL;
    size_t vl = 0;
    if (tdx_json_member_span((const char *)b, n, member, &v, &vl) != CACHET_OK)
        return false;
    json_error_t jerr;
    json_t *j = json_loadb((const char *)b, n, JSON_REJECT_DUPLICATES, &jerr);
    bool sig = j && json_is_string(json_object_get(j, "signature")) &&
               json_string_length(json_object_get(j, "signature")) == 128;
    json_decref(j);
    if (!sig)
        return false;
    if (doc == TDX_PCS_TCB_INFO) {
        tdx_tcb_info t;
        if (tdx_tcb_info_parse(v, vl, &t) != CACHET_OK)
            return false;
        *next_update = t.next_update;
        tdx_tcb_info_clear(&t);
    } else {
        tdx_qe_identity q;
        if (tdx_qe_identity_parse(v, vl, &q) != CACHET_OK)
            return false;
        *next_update = q.next_update;
        tdx_qe_identity_clear(&q);
    }
    return true;
}

static bool chain_ok(const char *chain)
{
    uint8_t *pem = NULL;
    size_t n = 0;
    cachet_x509 **certs = NULL;
    size_t nc = 0;
    if (!chain || !chain[0] ||
        tdx_url_decode((const uint8_t *)chain, strlen(chain), &pem, &n) != CACHET_OK)
        return false;
    bool ok = cachet_x509_parse_all(pem, n, &certs, &nc) == CACHET_OK && nc > 0;
    cachet_x509_free_all(certs, nc);
    free(pem);
    return ok;
}

/* fresh: also current at now (a cached copy); a CRL then verifies under
 * crl_issuer when given. */
static bool good(tdx_pcs_doc doc, const uint8_t *b, size_t n, const char *chain,
                 const cachet_x509 *crl_issuer, bool fresh, int64_t now)
{
    if (!b || !n)
        return false;
    if (is_json_doc(doc)) {
        int64_t next = 0;
        return json_doc_ok(doc, b, n, &next) && chain_ok(chain) && (!fresh || now < next);
    }
    cachet_x509_crl *crl = NULL;
    if (cachet_crl_parse(b, n, &crl) != CACHET_OK)
        return false;
    bool ok = true;
    if (fresh) {
        int64_t tu = 0, nu = 0;
        ok = cachet_crl_validity(crl, &tu, &nu) == CACHET_OK && tu <= now && now < nu &&
             (!crl_issuer || cachet_crl_verify(crl, crl_issuer, now) == CACHET_OK);
    }
    cachet_crl_free(crl);
    return ok;
}

/* ---- the cache: <dir>/<sha256(url)>.pcs (body) and .chain (header) ------------------ */

static char *cache_path(const char *dir, const char *url, const char *ext)
{
    uint8_t h[CACHET_SHA256_LEN];
    char hex[2 * CACHET_SHA256_LEN + 1];
    char *p = NULL;
    if (cachet_sha256(url, strlen(url), h) != CACHET_OK)
        return NULL;
    cachet_hex_encode(h, sizeof h, hex);
    if (asprintf(&p, "%s/%s.%s", dir, hex, ext) < 0)
        return NULL;
    return p;
}

/* A cached document (and its chain), or false. */
static bool cache_read(const tdx_pcs_opts *o, const char *bpath, const char *cpath,
                       tdx_pcs_doc doc, const cachet_x509 *crl_issuer, uint8_t **body,
                       size_t *len, char **chain)
{
    uint8_t *b = NULL, *c = NULL;
    size_t n = 0, cn = 0;
    if (cachet_file_read(bpath, TDX_PCS_MAX_BODY, &b, &n) != CACHET_OK)
        return false;
    if (is_json_doc(doc)) {
        if (cachet_file_read(cpath, TDX_PCS_MAX_CHAIN, &c, &cn) == CACHET_OK) {
            char *z = realloc(c, cn + 1);
            if (z) {
                z[cn] = 0;
                c = (uint8_t *)z;
            } else {
                free(c);
                c = NULL;
            }
        }
    }
    if (good(doc, b, n, (const char *)c, crl_issuer, true, o->now)) {
        *body = b;
        *len = n;
        *chain = (char *)c;
        return true;
    }
    free(b);
    free(c);
    (void)remove(bpath); /* damaged or stale: fetch again */
    if (cpath)
        (void)remove(cpath);
    return false;
}

cachet_rc tdx_pcs_get(const tdx_pcs_opts *o, const char *url, tdx_pcs_doc doc,
                      const cachet_x509 *crl_issuer, uint8_t **body, size_t *len, char **chain)
{
    if (!o || !url || !body || !len || !chain || doc >= TDX_PCS_N_DOCS)
        return cachet_err(PCS_ERR(CACHET_E_INVALID_ARG), "pcs: bad arguments");
    *body = NULL;
    *len = 0;
    *chain = NULL;
    char *bpath = NULL, *cpath = NULL;
    if (o->cache_dir) {
        bpath = cache_path(o->cache_dir, url, "pcs");
        cpath = cache_path(o->cache_dir, url, "chain");
        if (!bpath || !cpath) {
            free(bpath);
            free(cpath);
            return cachet_err(PCS_ERR(CACHET_E_NOMEM), "pcs: out of memory");
        }
        if (cache_read(o, bpath, cpath, doc, crl_issuer, body, len, chain)) {
            free(bpath);
            free(cpath);
            return CACHET_OK;
        }
    }
    cachet_rc rc = CACHET_OK;
    uint8_t *b = NULL;
    size_t n = 0;
    char *hdr = NULL;
    int status = 0;
    int64_t retry_after = 0, not_before = 0;
    if (!o->get) {
        rc = cachet_err(PCS_ERR(CACHET_E_NOT_FOUND), "pcs: %s not cached and fetching is off",
                        url);
        goto out;
    }
    if ((not_before = cachet_cache_not_before(o->cache_dir, RATE_FILE)) > o->now) {
        rc = cachet_err(PCS_ERR(CACHET_E_LIMIT),
                        "pcs: rate-limited by Intel PCS; next request allowed in %" PRId64 " s",
                        not_before - o->now);
        goto out;
    }
    rc = o->get(o->get_arg, url, doc == TDX_PCS_TCB_INFO      ? tcb_hdrs
                                 : doc == TDX_PCS_QE_IDENTITY ? qe_hdrs
                                                              : NULL,
                &hdr, &b, &n, &status, &retry_after);
    if (rc != CACHET_OK) {
        char why[512]; /* the detail is the buffer cachet_err() writes: copy it first */
        snprintf(why, sizeof why, "%s", cachet_err_detail());
        rc = cachet_err(PCS_ERR(CACHET_E_IO), "pcs: GET %s failed: %s", url, why);
        goto out;
    }
    if (status == 429 || status == 503) {
        cachet_cache_set_not_before(o->cache_dir, RATE_FILE,
                         o->now + (retry_after > 0 ? retry_after : TDX_PCS_DEFAULT_BACKOFF));
        rc = cachet_err(PCS_ERR(CACHET_E_LIMIT), "pcs: GET %s: HTTP %d (rate-limited)", url,
                        status);
        goto out;
    }
    if (status != 200 || n == 0 || n > TDX_PCS_MAX_BODY ||
        (hdr && strlen(hdr) > TDX_PCS_MAX_CHAIN) ||
        !good(doc, b, n, hdr, crl_issuer, false, o->now)) {
        rc = cachet_err(PCS_ERR(status == 404 ? CACHET_E_NOT_FOUND : CACHET_E_FORMAT),
                        "pcs: GET %s: HTTP %d, %zu bytes that are not a usable %s%s", url, status,
                        n, tdx_pcs_doc_str(doc),
                        status == 200 && is_json_doc(doc) && !chain_ok(hdr)
                            ? " (no usable issuer-chain header)"
                            : "");
        goto out;
    }
    if (bpath) {
        (void)mkdir(o->cache_dir, 0700); /* best effort; a write failure only loses caching */
        if (hdr)
            (void)cachet_file_write_atomic(cpath, hdr, strlen(hdr), 0600);
        (void)cachet_file_write_atomic(bpath, b, n, 0600);
    }
    *body = b;
    *len = n;
    *chain = is_json_doc(doc) ? hdr : NULL;
    if (!is_json_doc(doc))
        free(hdr);
    b = NULL;
    hdr = NULL;
out:
    free(b);
    free(hdr);
    free(bpath);
    free(cpath);
    return rc;
}

/* ---- what the endorsements already hold ------------------------------------------- */

typedef struct have {
    bool doc[TDX_PCS_N_DOCS];
} have;

static void what_we_have(const cachet_endorsements *e, tdx_family fam, const uint8_t fmspc[6],
                         const cachet_x509 *pck_ca, have *h)
{
    tdx_pool p;
    memset(h, 0, sizeof *h);
    tdx_pool_gather(&p, e);
    for (size_t i = 0; i < p.n_tcb_infos; i++) {
        tdx_tcb_info t;
        if (tdx_tcb_info_parse(p.tcb_infos[i].body, p.tcb_infos[i].len, &t) != CACHET_OK)
            continue;
        if (t.is_tdx == (fam == TDX_FAM_TDX) && memcmp(t.fmspc, fmspc, 6) == 0)
            h->doc[TDX_PCS_TCB_INFO] = true;
        tdx_tcb_info_clear(&t);
    }
    for (size_t i = 0; i < p.n_qe_ids; i++) {
        tdx_qe_identity q;
        if (tdx_qe_identity_parse(p.qe_ids[i].body, p.qe_ids[i].len, &q) != CACHET_OK)
            continue;
        if (strcmp(q.id, fam == TDX_FAM_TDX ? "TD_QE" : "QE") == 0)
            h->doc[TDX_PCS_QE_IDENTITY] = true;
        tdx_qe_identity_clear(&q);
    }
    const cachet_x509 *root = tdx_intel_root();
    for (size_t i = 0; i < p.n_crls; i++) {
        if (pck_ca && cachet_crl_names_issuer(p.crls[i].crl, pck_ca))
            h->doc[TDX_PCS_PCK_CRL] = true;
        if (root && cachet_crl_names_issuer(p.crls[i].crl, root))
            h->doc[TDX_PCS_ROOT_CRL] = true;
    }
    tdx_pool_clear(&p);
}

/* ---- collect ---------------------------------------------------------------------- */

/* FMSPC and CA type from the quote's PCK chain: the certificate carrying the
 * SGX extension is the PCK; its issuer names the CA. */
static cachet_rc pck_facts(const tdx_quote *q, uint8_t fmspc[6], tdx_pck_ca *ca,
                           cachet_x509 ***certs, size_t *n, const cachet_x509 **ca_cert)
{
    *ca = TDX_PCK_CA_UNKNOWN;
    *ca_cert = NULL;
    if (cachet_x509_parse_all(q->pck_chain, q->pck_chain_len, certs, n) != CACHET_OK)
        return cachet_err(PCS_ERR(CACHET_E_FORMAT), "pcs: the quote's PCK chain does not parse");
    for (size_t i = 0; i < *n; i++) {
        const uint8_t *der = NULL;
        size_t dl = 0;
        tdx_pck_ext ext;
        char issuer[256], subj[256];
        if (cachet_x509_extension((*certs)[i], TDX_OID_SGX_EXT, &der, &dl) != CACHET_OK ||
            tdx_pck_ext_parse(der, dl, &ext) != CACHET_OK)
            continue;
        memcpy(fmspc, ext.fmspc, 6);
        if (cachet_x509_issuer_cn((*certs)[i], issuer, sizeof issuer) != CACHET_OK)
            break;
        if (strstr(issuer, "SGX PCK Platform CA"))
            *ca = TDX_PCK_CA_PLATFORM;
        else if (strstr(issuer, "SGX PCK Processor CA"))
            *ca = TDX_PCK_CA_PROCESSOR;
        for (size_t k = 0; k < *n; k++)
            if (k != i && cachet_x509_subject_cn((*certs)[k], subj, sizeof subj) == CACHET_OK &&
                strcmp(subj, issuer) == 0)
                *ca_cert = (*certs)[k];
        return CACHET_OK;
    }
    return cachet_err(PCS_ERR(CACHET_E_FORMAT),
                      "pcs: no certificate in the quote's PCK chain has a usable SGX extension");
}

static cachet_rc add_doc(cachet_endorsements *e, const char *url, const uint8_t *b, size_t n,
                         const char *chain)
{
    cachet_rc rc = cachet_endorsements_add_bytes(e, url, b, n);
    if (rc == CACHET_OK && chain) {
        char *name = NULL;
        if (asprintf(&name, "%s#issuer-chain", url) < 0)
            return cachet_err(PCS_ERR(CACHET_E_NOMEM), "pcs: out of memory");
        rc = cachet_endorsements_add_bytes(e, name, chain, strlen(chain));
        free(name);
    }
    return rc;
}

cachet_rc tdx_pcs_collect(const tdx_pcs_opts *o, const uint8_t *quote, size_t len,
                          cachet_endorsements *e, size_t *added)
{
    tdx_quote q;
    if (added)
        *added = 0;
    if (!o || !quote || !e)
        return cachet_err(PCS_ERR(CACHET_E_INVALID_ARG), "pcs: bad arguments");
    cachet_rc rc = tdx_quote_parse(quote, len, &q);
    if (rc != CACHET_OK)
        return rc;
    tdx_family fam = q.tee_type == TDX_TEE_TYPE_TDX ? TDX_FAM_TDX : TDX_FAM_SGX;
    uint8_t fmspc[6] = { 0 };
    tdx_pck_ca ca;
    cachet_x509 **certs = NULL;
    size_t nc = 0;
    const cachet_x509 *ca_cert = NULL;
    if ((rc = pck_facts(&q, fmspc, &ca, &certs, &nc, &ca_cert)) != CACHET_OK)
        return rc;
    have h;
    what_we_have(e, fam, fmspc, ca_cert, &h);

    cachet_rc first = CACHET_OK;
    char why[1024] = "";
    size_t wl = 0;
    for (int d = 0; d < TDX_PCS_N_DOCS; d++) {
        if (h.doc[d])
            continue;
        char url[TDX_PCS_URL_MAX];
        uint8_t *b = NULL;
        size_t n = 0;
        char *chain = NULL;
        const cachet_x509 *issuer = d == TDX_PCS_PCK_CRL    ? ca_cert
                                    : d == TDX_PCS_ROOT_CRL ? tdx_intel_root()
                                                            : NULL;
        rc = tdx_pcs_url(fam, (tdx_pcs_doc)d, fmspc, ca, url, sizeof url);
        if (rc == CACHET_OK)
            rc = tdx_pcs_get(o, url, (tdx_pcs_doc)d, issuer, &b, &n, &chain);
        if (rc == CACHET_OK)
            rc = add_doc(e, url, b, n, chain);
        free(b);
        free(chain);
        if (rc == CACHET_OK) {
            if (added)
                (*added)++;
            continue;
        }
        if (first == CACHET_OK)
            first = rc;
        int k = snprintf(why + wl, sizeof why - wl, "%s%s: %s", wl ? "; " : "",
                         tdx_pcs_doc_str((tdx_pcs_doc)d), cachet_err_detail());
        if (k > 0)
            wl = wl + (size_t)k < sizeof why ? wl + (size_t)k : sizeof why - 1;
    }
    cachet_x509_free_all(certs, nc);
    if (first != CACHET_OK)
        return cachet_err(first, "%s", why);
    return CACHET_OK;
}
