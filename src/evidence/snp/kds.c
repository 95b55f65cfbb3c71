/* AMD KDS collateral: see kds.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cachet/encoding.h"
#include "cachet/fileio.h"
#include "evidence/snp/kds.h"

#define KDS_ERR(code) CACHET_RC(CACHET_SUB_EVIDENCE, code)
#define RATE_FILE "kds-not-before"

static cachet_rc url_out(char *buf, size_t cap, int n)
{
    if (n < 0 || (size_t)n >= cap) {
        if (cap)
            buf[0] = 0; /* never hand back a truncated URL */
        return cachet_err(KDS_ERR(CACHET_E_LIMIT), "kds: URL does not fit %zu bytes", cap);
    }
    return CACHET_OK;
}

static bool product_ok(snp_product p)
{
    return p == SNP_PRODUCT_MILAN || p == SNP_PRODUCT_GENOA || p == SNP_PRODUCT_TURIN;
}

cachet_rc snp_kds_vcek_url(snp_product p, const uint8_t chip_id[SNP_CHIP_ID_LEN],
                           uint64_t reported_tcb, char *buf, size_t cap)
{
    if (!product_ok(p) || !chip_id || !buf)
        return cachet_err(KDS_ERR(CACHET_E_INVALID_ARG), "kds: product unknown");
    bool turin = snp_product_turin_layout(p);
    char hw[2 * SNP_CHIP_ID_LEN + 1];
    cachet_hex_encode(chip_id, turin ? SNP_TURIN_CHIP_ID_LEN : SNP_CHIP_ID_LEN, hw);
    snp_tcb t = snp_tcb_decode(reported_tcb, p);
    int n;
    if (turin)
        n = snprintf(buf, cap,
                     SNP_KDS_HOST "/vcek/v1/%s/%s?fmcSPL=%u&blSPL=%u&teeSPL=%u&snpSPL=%u&ucodeSPL=%u",
                     snp_product_name(p), hw, t.fmc, t.bootloader, t.tee, t.snp, t.microcode);
    else
        n = snprintf(buf, cap, SNP_KDS_HOST "/vcek/v1/%s/%s?blSPL=%u&teeSPL=%u&snpSPL=%u&ucodeSPL=%u",
                     snp_product_name(p), hw, t.bootloader, t.tee, t.snp, t.microcode);
    return url_out(buf, cap, n);
}

cachet_rc snp_kds_chain_url(snp_product p, bool vlek, char *buf, size_t cap)
{
    if (!product_ok(p) || !buf)
        return cachet_err(KDS_ERR(CACHET_E_INVALID_ARG), "kds: product unknown");
    return url_out(buf, cap, snprintf(buf, cap, SNP_KDS_HOST "/%s/v1/%s/cert_chain",
                                      vlek ? "vlek" : "vcek", snp_product_name(p)));
}

cachet_rc snp_kds_crl_url(snp_product p, bool vlek, char *buf, size_t cap)
{
    if (!product_ok(p) || !buf)
        return cachet_err(KDS_ERR(CACHET_E_INVALID_ARG), "kds: product unknown");
    return url_out(buf, cap, snprintf(buf, cap, SNP_KDS_HOST "/%s/v1/%s/crl",
                                      vlek ? "vlek" : "vcek", snp_product_name(p)));
}

/* ---- the cache ------------------------------------------------------------------ */

/* <dir>/<sha256(url) in hex>: the URL itself never becomes a path. */
static char *cache_path(const char *dir, const char *url)
{
    uint8_t h[CACHET_SHA256_LEN];
    char hex[2 * CACHET_SHA256_LEN + 1];
    char *p = NULL;
    if (cachet_sha256(url, strlen(url), h) != CACHET_OK)
        return NULL;
    cachet_hex_encode(h, sizeof h, hex);
    if (asprintf(&p, "%s/%s.kds", dir, hex) < 0)
        return NULL;
    return p;
}

/* Is body what it should be (and, for a CRL, current under its issuer)? */
static bool good(cachet_endorsement_kind kind, const uint8_t *body, size_t len,
                 const cachet_x509 *crl_issuer, int64_t now)
{
    if (kind == CACHET_ENDORSEMENT_CERTS) {
        cachet_x509 **certs = NULL;
        size_t n = 0;
        if (cachet_x509_parse_all(body, len, &certs, &n) != CACHET_OK)
            return false;
        cachet_x509_free_all(certs, n);
        return n > 0;
    }
    if (kind == CACHET_ENDORSEMENT_CRL) {
        cachet_x509_crl *crl = NULL;
        if (cachet_crl_parse(body, len, &crl) != CACHET_OK)
            return false;
        bool ok = !crl_issuer || cachet_crl_verify(crl, crl_issuer, now) == CACHET_OK;
        cachet_crl_free(crl);
        return ok;
    }
    return false;
}

cachet_rc snp_kds_get(const snp_kds_opts *o, const char *url, cachet_endorsement_kind kind,
                      const cachet_x509 *crl_issuer, uint8_t **body, size_t *len)
{
    if (!o || !url || !body || !len)
        return cachet_err(KDS_ERR(CACHET_E_INVALID_ARG), "kds: bad arguments");
    *body = NULL;
    *len = 0;
    char *path = o->cache_dir ? cache_path(o->cache_dir, url) : NULL;
    if (o->cache_dir && !path)
        return cachet_err(KDS_ERR(CACHET_E_NOMEM), "kds: out of memory");

    if (path) {
        uint8_t *b = NULL;
        size_t n = 0;
        if (cachet_file_read(path, SNP_KDS_MAX_BODY, &b, &n) == CACHET_OK) {
            if (good(kind, b, n, crl_issuer, o->now)) {
                *body = b;
                *len = n;
                free(path);
                return CACHET_OK;
            }
            free(b);
            (void)remove(path); /* damaged or stale: fetch again */
        }
    }
    if (!o->get) {
        free(path);
        return cachet_err(KDS_ERR(CACHET_E_NOT_FOUND), "kds: %s not cached and fetching is off",
                          url);
    }
    int64_t not_before = cachet_cache_not_before(o->cache_dir, RATE_FILE);
    if (not_before > o->now) {
        free(path);
        return cachet_err(KDS_ERR(CACHET_E_LIMIT),
                          "kds: rate-limited by AMD KDS; next request allowed in %" PRId64 " s",
                          not_before - o->now);
    }

    uint8_t *b = NULL;
    size_t n = 0;
    int status = 0;
    int64_t retry_after = 0;
    cachet_rc rc = o->get(o->get_arg, url, &b, &n, &status, &retry_after);
    if (rc != CACHET_OK) {
        char why[512]; /* the detail is the buffer cachet_err() writes: copy it first */
        snprintf(why, sizeof why, "%s", cachet_err_detail());
        free(b);
        free(path);
        return cachet_err(KDS_ERR(CACHET_E_IO), "kds: GET %s failed: %s", url, why);
    }
    if (status == 429 || status == 503) {
        cachet_cache_set_not_before(o->cache_dir, RATE_FILE,
                         o->now + (retry_after > 0 ? retry_after : SNP_KDS_DEFAULT_BACKOFF));
        free(b);
        free(path);
        return cachet_err(KDS_ERR(CACHET_E_LIMIT), "kds: GET %s: HTTP %d (rate-limited)", url,
                          status);
    }
    if (status != 200 || n == 0 || n > SNP_KDS_MAX_BODY || !good(kind, b, n, crl_issuer, o->now)) {
        free(b);
        free(path);
        return cachet_err(KDS_ERR(status == 404 ? CACHET_E_NOT_FOUND : CACHET_E_FORMAT),
                          "kds: GET %s: HTTP %d, %zu bytes that are not a usable %s", url, status,
                          n, cachet_endorsement_kind_str(kind));
    }
    if (path) {
        (void)mkdir(o->cache_dir, 0700); /* best effort; a write failure only loses caching */
        (void)cachet_file_write_atomic(path, b, n, 0600);
    }
    free(path);
    *body = b;
    *len = n;
    return CACHET_OK;
}

static cachet_rc fetch_into(const snp_kds_opts *o, const char *url, cachet_endorsement_kind kind,
                            const cachet_x509 *issuer, cachet_endorsements *e)
{
    uint8_t *b = NULL;
    size_t n = 0;
    cachet_rc rc = snp_kds_get(o, url, kind, issuer, &b, &n);
    if (rc == CACHET_OK)
        rc = cachet_endorsements_add_bytes(e, url, b, n);
    free(b);
    return rc;
}

cachet_rc snp_kds_collect(const snp_kds_opts *o, const uint8_t *report, size_t len,
                          snp_product p, cachet_endorsements *e, cachet_rc *crl_rc)
{
    snp_report r;
    snp_parse_stage st;
    cachet_rc rc = snp_report_parse(report, len, &r, &st);
    if (rc != CACHET_OK)
        return rc;
    if (r.version >= 3 && p == SNP_PRODUCT_UNKNOWN)
        p = snp_product_from_cpuid(r.cpuid_fam, r.cpuid_mod);
    if (!product_ok(p))
        return cachet_err(KDS_ERR(CACHET_E_NOT_FOUND),
                          "kds: the product is unknown (a v2 report does not say; name it)");
    const snp_trust *trust = snp_trust_builtin();
    if (!trust)
        return cachet_err(KDS_ERR(CACHET_E_STATE), "kds: built-in AMD roots unavailable");
    unsigned key = snp_report_signing_key(&r);
    bool vlek = key == SNP_KEY_VLEK;
    char url[SNP_KDS_URL_MAX];

    if (key == SNP_KEY_VCEK) {
        bool masked = true;
        for (size_t i = 0; i < SNP_CHIP_ID_LEN; i++)
            if (r.chip_id[i])
                masked = false;
        if (masked)
            return cachet_err(KDS_ERR(CACHET_E_NOT_FOUND),
                              "kds: CHIP_ID is masked; the VCEK cannot be looked up");
        if ((rc = snp_kds_vcek_url(p, r.chip_id, r.reported_tcb, url, sizeof url)) != CACHET_OK ||
            (rc = fetch_into(o, url, CACHET_ENDORSEMENT_CERTS, NULL, e)) != CACHET_OK)
            return rc;
    }
    if ((rc = snp_kds_chain_url(p, vlek, url, sizeof url)) != CACHET_OK ||
        (rc = fetch_into(o, url, CACHET_ENDORSEMENT_CERTS, NULL, e)) != CACHET_OK)
        return rc;
    if ((rc = snp_kds_crl_url(p, vlek, url, sizeof url)) == CACHET_OK)
        rc = fetch_into(o, url, CACHET_ENDORSEMENT_CRL, trust->products[p].ark, e);
    if (crl_rc)
        *crl_rc = rc;
    return CACHET_OK;
}
