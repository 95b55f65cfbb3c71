/* Certificate path validation against pinned roots (RFC 5280 §6 as
 * implemented by X509_verify_cert), with the rules of evidence-formats
 * §0.3: only pinned roots in the store, evidence certificates untrusted, no
 * partial chains, one injected time for every certificate and CRL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "crypto/crypto_int.h"

/* Real chains are 2-4 deep; anything far beyond is not attestation. */
#define CHAIN_MAX_CERTS 32
#define CHAIN_MAX_DEPTH 8

/* STRICT + ALLOW_NO_AKID: AMD VCEK/VLEK carry no authorityKeyIdentifier,
 * which X509_V_FLAG_X509_STRICT reports as error 85 for the leaf.  Tolerate
 * exactly that error, exactly there; every other error stands. */
static int allow_no_akid_cb(int ok, X509_STORE_CTX *ctx)
{
    if (!ok && X509_STORE_CTX_get_error(ctx) == X509_V_ERR_MISSING_AUTHORITY_KEY_IDENTIFIER &&
        X509_STORE_CTX_get_error_depth(ctx) == 0) {
        X509_STORE_CTX_set_error(ctx, X509_V_OK);
        return 1;
    }
    return ok;
}

static cachet_rc map_error(int err)
{
    switch (err) {
    case X509_V_ERR_CERT_NOT_YET_VALID:
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CRL_NOT_YET_VALID:
    case X509_V_ERR_CRL_HAS_EXPIRED:
        return CRYPTO_RC(EXPIRED);
    case X509_V_ERR_CERT_REVOKED:
        return CRYPTO_RC(REVOKED);
    default:
        return CRYPTO_RC(CHAIN);
    }
}

static cachet_rc check_params(const cachet_chain_params *p)
{
    if (!p || !p->leaf)
        return crypto_err(INVALID_ARG, "verify_chain: no leaf");
    /* Fail closed: without a pinned root nothing can be trusted. */
    if (!p->roots || p->n_roots == 0)
        return crypto_err(INVALID_ARG, "verify_chain: no pinned root");
    if ((p->n_intermediates && !p->intermediates) || (p->n_crls && !p->crls))
        return crypto_err(INVALID_ARG, "verify_chain: NULL intermediates or CRLs array");
    if (p->n_roots > CHAIN_MAX_CERTS || p->n_intermediates > CHAIN_MAX_CERTS ||
        p->n_crls > CHAIN_MAX_CERTS)
        return crypto_err(LIMIT, "verify_chain: more than %d roots, intermediates or CRLs",
                          CHAIN_MAX_CERTS);
    for (size_t i = 0; i < p->n_roots; i++)
        if (!p->roots[i])
            return crypto_err(INVALID_ARG, "verify_chain: root %zu is NULL", i);
    for (size_t i = 0; i < p->n_intermediates; i++)
        if (!p->intermediates[i])
            return crypto_err(INVALID_ARG, "verify_chain: intermediate %zu is NULL", i);
    for (size_t i = 0; i < p->n_crls; i++)
        if (!p->crls[i])
            return crypto_err(INVALID_ARG, "verify_chain: CRL %zu is NULL", i);
    if (p->flags & ~(unsigned)(CACHET_CHAIN_STRICT | CACHET_CHAIN_CRL_LEAF_ONLY |
                               CACHET_CHAIN_ALLOW_NO_AKID | CACHET_CHAIN_IGNORE_CRITICAL))
        return crypto_err(INVALID_ARG, "verify_chain: unknown flags 0x%x", p->flags);
    return CACHET_OK;
}

/* The caller's handle for an X509 in the built path (a new reference), or a
 * fresh wrapper when OpenSSL built it from elsewhere (it cannot here). */
static cachet_x509 *path_handle(const cachet_chain_params *p, X509 *x)
{
    if (p->leaf->x == x)
        return cachet_x509_ref((cachet_x509 *)p->leaf);
    for (size_t i = 0; i < p->n_intermediates; i++)
        if (p->intermediates[i]->x == x)
            return cachet_x509_ref(p->intermediates[i]);
    for (size_t i = 0; i < p->n_roots; i++)
        if (p->roots[i]->x == x)
            return cachet_x509_ref(p->roots[i]);
    cachet_x509 *c = NULL;
    if (X509_up_ref(x) != 1 || crypto_x509_wrap(x, &c) != CACHET_OK)
        return NULL;
    return c;
}

static cachet_rc build_path(const cachet_chain_params *p, X509_STORE_CTX *ctx,
                            cachet_chain_result *res)
{
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
    int n = chain ? sk_X509_num(chain) : 0;
    if (n <= 0)
        return crypto_err(CRYPTO, "verify_chain: verified but no path");
    res->path = calloc((size_t)n, sizeof *res->path);
    if (!res->path)
        return crypto_err(NOMEM, "verify_chain: out of memory");
    for (int i = 0; i < n; i++) {
        res->path[i] = path_handle(p, sk_X509_value(chain, i));
        if (!res->path[i]) {
            cachet_x509_free_all(res->path, (size_t)i);
            res->path = NULL;
            return crypto_err(NOMEM, "verify_chain: out of memory");
        }
    }
    res->depth = (size_t)n;
    return CACHET_OK;
}

static cachet_rc report_failure(X509_STORE_CTX *ctx, cachet_chain_result *res)
{
    int err = X509_STORE_CTX_get_error(ctx);
    int depth = X509_STORE_CTX_get_error_depth(ctx);
    if (err == X509_V_OK) /* failed without a verify error: internal */
        err = X509_V_ERR_UNSPECIFIED;
    char subject[96] = "?";
    X509 *cur = X509_STORE_CTX_get_current_cert(ctx);
    if (cur)
        X509_NAME_get_text_by_NID(X509_get_subject_name(cur), NID_commonName, subject,
                                  sizeof subject);
    const char *reason = X509_verify_cert_error_string(err);
    if (res) {
        res->error = err;
        res->error_depth = depth;
        snprintf(res->error_str, sizeof res->error_str, "%s", reason);
    }
    ERR_clear_error();
    return cachet_err(map_error(err), "verify_chain: %s (X509 error %d) at depth %d, CN=%s",
                      reason, err, depth, subject);
}

cachet_rc cachet_x509_verify_chain(const cachet_chain_params *p, cachet_chain_result *res)
{
    if (res)
        memset(res, 0, sizeof *res);
    cachet_rc rc = check_params(p);
    if (rc != CACHET_OK) {
        if (res) {
            res->error = X509_V_ERR_UNSPECIFIED;
            snprintf(res->error_str, sizeof res->error_str, "%s", cachet_err_detail());
        }
        return rc;
    }
    X509_STORE *store = X509_STORE_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (!store || !untrusted || !crls || !ctx) {
        rc = crypto_ossl(NOMEM, "verify_chain: allocation failed");
        goto out;
    }
    /* No default paths: the pinned roots are the only anchors. */
    for (size_t i = 0; i < p->n_roots; i++)
        if (X509_STORE_add_cert(store, p->roots[i]->x) != 1) {
            rc = crypto_ossl(CRYPTO, "verify_chain: cannot add root %zu", i);
            goto out;
        }
    /* The stacks borrow the X509s; the handles keep them alive. */
    for (size_t i = 0; i < p->n_intermediates; i++)
        if (!sk_X509_push(untrusted, p->intermediates[i]->x)) {
            rc = crypto_ossl(NOMEM, "verify_chain: allocation failed");
            goto out;
        }
    for (size_t i = 0; i < p->n_crls; i++)
        if (!sk_X509_CRL_push(crls, p->crls[i]->crl)) {
            rc = crypto_ossl(NOMEM, "verify_chain: allocation failed");
            goto out;
        }
    if (X509_STORE_CTX_init(ctx, store, p->leaf->x, untrusted) != 1) {
        rc = crypto_ossl(CRYPTO, "verify_chain: context init failed");
        goto out;
    }
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
    unsigned long vflags = 0;
    if (p->flags & CACHET_CHAIN_STRICT)
        vflags |= X509_V_FLAG_X509_STRICT;
    if (p->flags & CACHET_CHAIN_IGNORE_CRITICAL)
        vflags |= X509_V_FLAG_IGNORE_CRITICAL;
    if (p->n_crls) {
        X509_STORE_CTX_set0_crls(ctx, crls);
        vflags |= X509_V_FLAG_CRL_CHECK;
        if (!(p->flags & CACHET_CHAIN_CRL_LEAF_ONLY))
            vflags |= X509_V_FLAG_CRL_CHECK_ALL;
    }
    /* Never X509_V_FLAG_PARTIAL_CHAIN: the path must end at a pinned root. */
    X509_VERIFY_PARAM_clear_flags(vp, X509_V_FLAG_PARTIAL_CHAIN);
    X509_VERIFY_PARAM_set_flags(vp, vflags);
    X509_VERIFY_PARAM_set_time(vp, (time_t)p->time);
    X509_VERIFY_PARAM_set_depth(vp, CHAIN_MAX_DEPTH);
    if ((p->flags & CACHET_CHAIN_STRICT) && (p->flags & CACHET_CHAIN_ALLOW_NO_AKID))
        X509_STORE_CTX_set_verify_cb(ctx, allow_no_akid_cb);

    ERR_clear_error();
    int ok = X509_verify_cert(ctx);
    if (ok != 1) {
        rc = report_failure(ctx, res);
        goto out;
    }
    if (res && (rc = build_path(p, ctx, res)) != CACHET_OK)
        goto out;
    rc = CACHET_OK;
out:
    X509_STORE_CTX_free(ctx);
    sk_X509_CRL_free(crls);
    sk_X509_free(untrusted);
    X509_STORE_free(store);
    return rc;
}

void cachet_chain_result_clear(cachet_chain_result *res)
{
    if (!res)
        return;
    cachet_x509_free_all(res->path, res->depth);
    memset(res, 0, sizeof *res);
}
