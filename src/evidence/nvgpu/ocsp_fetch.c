/* OCSP responses fetched for NVIDIA evidence: see ocsp_fetch.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cachet/encoding.h"
#include "cachet/fileio.h"
#include "evidence/nvgpu/ocsp_fetch.h"

#define OF_ERR(code) CACHET_RC(CACHET_SUB_EVIDENCE, code)
#define RATE_FILE "ocsp-not-before"
#define PATH_MAX_CERTS (NVGPU_RIM_MAX_CERTS + 8)
#define MAX_CHAINS 64
#define MAX_RESP 256

typedef struct of_chain {
    cachet_x509 *c[PATH_MAX_CERTS]; /* leaf first, ending at a self-issued root; owned refs */
    size_t n;
    bool device;
} of_chain;

typedef struct of_state {
    of_chain chains[MAX_CHAINS];
    size_t n_chains;
    cachet_ocsp *resp[MAX_RESP]; /* what the endorsements cover, plus what was added */
    size_t n_resp;
} of_state;

static bool self_issued(const cachet_x509 *c)
{
    char s[256], i[256];
    return cachet_x509_subject_cn(c, s, sizeof s) == CACHET_OK &&
           cachet_x509_issuer_cn(c, i, sizeof i) == CACHET_OK && strcmp(s, i) == 0;
}

static bool issued_by(const cachet_x509 *c, const cachet_x509 *issuer)
{
    char s[256], i[256];
    return cachet_x509_issuer_cn(c, i, sizeof i) == CACHET_OK &&
           cachet_x509_subject_cn(issuer, s, sizeof s) == CACHET_OK && strcmp(s, i) == 0;
}

/* One chain as given (leaf first), completed with the trusted root when it
 * stops below one; a chain whose root stays unknown is skipped (its
 * responses could not be verified anyway). */
static void add_chain(of_state *st, cachet_x509 *const *certs, size_t n, bool device,
                      const cachet_x509 *root)
{
    if (!n || st->n_chains >= MAX_CHAINS || n >= PATH_MAX_CERTS)
        return;
    of_chain *ch = &st->chains[st->n_chains];
    memset(ch, 0, sizeof *ch);
    ch->device = device;
    for (size_t i = 0; i < n; i++)
        ch->c[ch->n++] = cachet_x509_ref(certs[i]);
    if (!self_issued(ch->c[ch->n - 1])) {
        if (root && issued_by(ch->c[ch->n - 1], root)) {
            ch->c[ch->n++] = cachet_x509_ref((cachet_x509 *)root);
        } else {
            for (size_t i = 0; i < ch->n; i++)
                cachet_x509_free(ch->c[i]);
            ch->n = 0;
            return;
        }
    }
    st->n_chains++;
}

static void state_free(of_state *st)
{
    for (size_t k = 0; k < st->n_chains; k++)
        for (size_t i = 0; i < st->chains[k].n; i++)
            cachet_x509_free(st->chains[k].c[i]);
    for (size_t i = 0; i < st->n_resp; i++)
        cachet_ocsp_free(st->resp[i]);
}

static void collect(of_state *st, const nvgpu_trust *trust, const uint8_t *ev, size_t len,
                    const cachet_endorsements *e)
{
    nvgpu_input *in = calloc(1, sizeof *in);
    if (in && ev && len && nvgpu_input_decode(ev, len, in) == CACHET_OK) {
        for (size_t i = 0; i < in->n; i++) {
            cachet_x509 **certs = NULL;
            size_t n = 0;
            if (!in->items[i].chain ||
                cachet_x509_parse_all(in->items[i].chain, in->items[i].chain_len, &certs, &n) !=
                    CACHET_OK)
                continue;
            add_chain(st, certs, n, true, trust->device_root);
            cachet_x509_free_all(certs, n);
        }
        nvgpu_input_clear(in);
    }
    free(in);
    for (size_t i = 0; i < cachet_endorsements_count(e); i++) {
        const cachet_endorsement *en = cachet_endorsements_get(e, i);
        if (en->kind == CACHET_ENDORSEMENT_CERTS) {
            add_chain(st, en->certs, en->n_certs, true, trust->device_root);
        } else if (en->kind == CACHET_ENDORSEMENT_XML) {
            nvgpu_rim *rim = NULL;
            if (nvgpu_rim_read(en->data, en->len, &rim, NULL) == CACHET_OK)
                add_chain(st, rim->certs, rim->n_certs, false, trust->rim_root);
            nvgpu_rim_free(rim);
        } else if (en->kind == CACHET_ENDORSEMENT_OTHER && st->n_resp < MAX_RESP) {
            cachet_ocsp *o = NULL;
            if (en->len >= 2 && en->data[0] == 0x30 &&
                cachet_ocsp_parse(en->data, en->len, &o) == CACHET_OK)
                st->resp[st->n_resp++] = o;
        }
    }
}

static bool covered(const of_state *st, const cachet_x509 *cert, const cachet_x509 *issuer)
{
    for (size_t i = 0; i < st->n_resp; i++)
        if (cachet_ocsp_covers(st->resp[i], cert, issuer))
            return true;
    return false;
}

/* ---- the cache and the rate-limit record -------------------------------------------- */

static char *cache_path(const char *dir, const char *url, const uint8_t *req, size_t req_len)
{
    size_t ul = strlen(url);
    uint8_t *buf = malloc(ul + 1 + req_len), h[CACHET_SHA256_LEN];
    char hex[2 * CACHET_SHA256_LEN + 1], *p = NULL;
    if (!buf)
        return NULL;
    memcpy(buf, url, ul);
    buf[ul] = '\n';
    memcpy(buf + ul + 1, req, req_len);
    cachet_rc rc = cachet_sha256(buf, ul + 1 + req_len, h);
    free(buf);
    if (rc != CACHET_OK)
        return NULL;
    cachet_hex_encode(h, sizeof h, hex);
    if (asprintf(&p, "%s/%s.ocsp", dir, hex) < 0)
        return NULL;
    return p;
}

/* Does the DER parse, answer for path[i] and verify at o->now?  On success
 * the parsed response goes to *out. */
static bool usable(const nvgpu_ocsp_fetch_opts *o, const of_chain *ch, size_t i,
                   const uint8_t *der, size_t len, cachet_ocsp **out)
{
    cachet_ocsp *r = NULL;
    *out = NULL;
    if (!len || cachet_ocsp_parse(der, len, &r) != CACHET_OK)
        return false;
    if (!cachet_ocsp_covers(r, ch->c[i], ch->c[i + 1])) {
        cachet_ocsp_free(r);
        return false;
    }
    cachet_x509 *root = ch->c[ch->n - 1];
    cachet_ocsp_params p = {
        .cert = ch->c[i], .issuer = ch->c[i + 1], .roots = &root, .n_roots = 1,
        .intermediates = ch->c + 1, .n_intermediates = ch->n - 2, .time = o->now,
        .max_age = NVGPU_OCSP_MAX_AGE_S,
    };
    cachet_ocsp_result res;
    if (cachet_ocsp_check(r, &p, &res) != CACHET_OK) {
        cachet_ocsp_free(r);
        return false;
    }
    *out = r;
    return true;
}

/* One certificate's response: from the cache while it verifies, else from
 * the responder (then cached).  On success *der is malloc'd. */
static cachet_rc fetch_one(const nvgpu_ocsp_fetch_opts *o, const of_chain *ch, size_t i,
                           const char *url, uint8_t **der, size_t *len, cachet_ocsp **parsed,
                           bool *from_cache)
{
    uint8_t *req = NULL;
    size_t req_len = 0;
    *der = NULL;
    *len = 0;
    *from_cache = false;
    cachet_rc rc = cachet_ocsp_request(ch->c[i], ch->c[i + 1], NULL, 0, &req, &req_len);
    if (rc != CACHET_OK)
        return rc;
    char *path = o->cache_dir ? cache_path(o->cache_dir, url, req, req_len) : NULL;
    if (o->cache_dir && !path) {
        free(req);
        return cachet_err(OF_ERR(CACHET_E_NOMEM), "ocsp fetch: out of memory");
    }
    if (path) {
        uint8_t *b = NULL;
        size_t n = 0;
        if (cachet_file_read(path, NVGPU_OCSP_MAX_BODY, &b, &n) == CACHET_OK) {
            if (usable(o, ch, i, b, n, parsed)) {
                *der = b;
                *len = n;
                *from_cache = true;
                free(path);
                free(req);
                return CACHET_OK;
            }
            free(b);
            (void)remove(path); /* damaged or stale: fetch again */
        }
    }
    if (!o->post) {
        rc = cachet_err(OF_ERR(CACHET_E_NOT_FOUND), "ocsp fetch: %s: not cached and fetching is off",
                        url);
        goto out;
    }
    int64_t not_before = cachet_cache_not_before(o->cache_dir, RATE_FILE);
    if (not_before > o->now) {
        rc = cachet_err(OF_ERR(CACHET_E_LIMIT),
                        "ocsp fetch: rate-limited by the OCSP responder; next request allowed in %" PRId64
                        " s",
                        not_before - o->now);
        goto out;
    }
    uint8_t *b = NULL;
    size_t n = 0;
    int status = 0;
    int64_t retry_after = 0;
    rc = o->post(o->post_arg, url, "application/ocsp-request", req, req_len, &b, &n, &status,
                 &retry_after);
    if (rc != CACHET_OK) {
        char why[512]; /* the detail is the buffer cachet_err() writes: copy it first */
        snprintf(why, sizeof why, "%s", cachet_err_detail());
        free(b);
        rc = cachet_err(OF_ERR(CACHET_E_IO), "ocsp fetch: POST %s failed: %s", url, why);
        goto out;
    }
    if (status == 429 || status == 503) {
        cachet_cache_set_not_before(o->cache_dir, RATE_FILE,
                         o->now + (retry_after > 0 ? retry_after : NVGPU_OCSP_DEFAULT_BACKOFF));
        free(b);
        rc = cachet_err(OF_ERR(CACHET_E_LIMIT), "ocsp fetch: POST %s: HTTP %d (rate-limited)", url,
                        status);
        goto out;
    }
    if (status != 200 || n > NVGPU_OCSP_MAX_BODY || !usable(o, ch, i, b, n, parsed)) {
        free(b);
        rc = cachet_err(OF_ERR(status == 404 ? CACHET_E_NOT_FOUND : CACHET_E_FORMAT),
                        "ocsp fetch: POST %s: HTTP %d, %zu bytes that are not a valid OCSP "
                        "response for this certificate",
                        url, status, n);
        goto out;
    }
    if (path) {
        (void)mkdir(o->cache_dir, 0700); /* best effort; a write failure only loses caching */
        (void)cachet_file_write_atomic(path, b, n, 0600);
    }
    *der = b;
    *len = n;
    rc = CACHET_OK;
out:
    free(path);
    free(req);
    return rc;
}

cachet_rc nvgpu_ocsp_fetch(const nvgpu_ocsp_fetch_opts *o, const uint8_t *evidence, size_t len,
                           cachet_endorsements *e, nvgpu_ocsp_fetch_stats *stats)
{
    if (!o || !e)
        return cachet_err(OF_ERR(CACHET_E_INVALID_ARG), "ocsp fetch: bad arguments");
    nvgpu_ocsp_fetch_stats local = { 0 };
    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    const nvgpu_trust *trust = o->trust ? o->trust : nvgpu_trust_builtin();
    if (!trust)
        return cachet_err(OF_ERR(CACHET_E_STATE), "ocsp fetch: built-in NVIDIA roots unavailable");
    of_state *st = calloc(1, sizeof *st);
    if (!st)
        return cachet_err(OF_ERR(CACHET_E_NOMEM), "ocsp fetch: out of memory");
    collect(st, trust, evidence, len, e);

    cachet_rc first = CACHET_OK;
    char first_why[512] = "";
    size_t tries = 0;
    for (size_t k = 0; k < st->n_chains; k++) {
        const of_chain *ch = &st->chains[k];
        /* as revocation.c: the device leaf (made at boot) and the root have no entry */
        for (size_t i = ch->device ? 1 : 0; i + 1 < ch->n; i++) {
            if (covered(st, ch->c[i], ch->c[i + 1]))
                continue;
            stats->wanted++;
            char url[NVGPU_OCSP_URL_MAX], cn[96] = "?";
            cachet_x509_subject_cn(ch->c[i], cn, sizeof cn);
            if (o->url)
                snprintf(url, sizeof url, "%s", o->url);
            else if (cachet_x509_ocsp_url(ch->c[i], url, sizeof url) != CACHET_OK)
                snprintf(url, sizeof url, "%s", NVGPU_OCSP_DEFAULT_URL);
            uint8_t *der = NULL;
            size_t dl = 0;
            cachet_ocsp *parsed = NULL;
            bool hit = false;
            cachet_rc rc;
            if (++tries > NVGPU_OCSP_MAX_FETCH)
                rc = cachet_err(OF_ERR(CACHET_E_LIMIT), "ocsp fetch: more than %d certificates",
                                NVGPU_OCSP_MAX_FETCH);
            else
                rc = fetch_one(o, ch, i, url, &der, &dl, &parsed, &hit);
            if (rc == CACHET_OK) {
                char *name = NULL;
                if (asprintf(&name, "%s (OCSP, CN=%s)", url, cn) < 0)
                    name = NULL;
                rc = name ? cachet_endorsements_add_bytes(e, name, der, dl)
                          : cachet_err(OF_ERR(CACHET_E_NOMEM), "ocsp fetch: out of memory");
                free(name);
            }
            free(der);
            if (rc == CACHET_OK && st->n_resp < MAX_RESP) {
                st->resp[st->n_resp++] = parsed;
                parsed = NULL;
                if (hit)
                    stats->cached++;
                else
                    stats->fetched++;
            }
            cachet_ocsp_free(parsed);
            if (rc != CACHET_OK && first == CACHET_OK) {
                first = rc;
                snprintf(first_why, sizeof first_why, "CN=%s: %s", cn, cachet_err_detail());
            }
        }
    }
    state_free(st);
    free(st);
    if (first != CACHET_OK)
        return cachet_err(first, "%s", first_why);
    return CACHET_OK;
}
