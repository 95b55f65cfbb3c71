/* OCSP responses checked offline (RFC 6960), for revocation data that a
 * caller fetched earlier and hands in as bytes (NVIDIA's device and RIM
 * chains are revoked through OCSP only).  Verification follows §3.2 with
 * the rules of evidence-formats §0.3: the responder is the certificate's
 * issuer or a responder that issuer delegated to (id-kp-OCSPSigning), its
 * path ends at a pinned root, every validity check uses the caller's time,
 * and thisUpdate/nextUpdate are compared with that same time. */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509_vfy.h>

#include "crypto/crypto_int.h"
#include "crypto/ec_int.h"

#define OCSP_MAX_CERTS 32

struct cachet_ocsp {
    OCSP_RESPONSE *resp;
    OCSP_BASICRESP *basic;
};

cachet_rc cachet_ocsp_parse(const uint8_t *der, size_t len, cachet_ocsp **out)
{
    if (!der || !len || !out)
        return crypto_err(INVALID_ARG, "ocsp_parse: empty or NULL input");
    *out = NULL;
    if (len > CRYPTO_MAX_OBJECT)
        return crypto_err(LIMIT, "ocsp_parse: %zu bytes exceed %zu", len, CRYPTO_MAX_OBJECT);
    const uint8_t *p = der;
    OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
    if (!resp) {
        ERR_clear_error();
        return crypto_err(FORMAT, "ocsp_parse: not a DER OCSPResponse");
    }
    if ((size_t)(p - der) != len) {
        OCSP_RESPONSE_free(resp);
        return crypto_err(FORMAT, "ocsp_parse: %zu trailing bytes", len - (size_t)(p - der));
    }
    int st = OCSP_response_status(resp);
    if (st != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
        OCSP_RESPONSE_free(resp);
        return crypto_err(UNSUPPORTED, "ocsp_parse: responseStatus %d (%s), not successful", st,
                          OCSP_response_status_str(st));
    }
    OCSP_BASICRESP *basic = OCSP_response_get1_basic(resp);
    if (!basic) {
        OCSP_RESPONSE_free(resp);
        ERR_clear_error();
        return crypto_err(UNSUPPORTED, "ocsp_parse: not an id-pkix-ocsp-basic response");
    }
    cachet_ocsp *o = calloc(1, sizeof *o);
    if (!o) {
        OCSP_BASICRESP_free(basic);
        OCSP_RESPONSE_free(resp);
        return crypto_err(NOMEM, "ocsp_parse: out of memory");
    }
    o->resp = resp;
    o->basic = basic;
    *out = o;
    return CACHET_OK;
}

void cachet_ocsp_free(cachet_ocsp *o)
{
    if (!o)
        return;
    OCSP_BASICRESP_free(o->basic);
    OCSP_RESPONSE_free(o->resp);
    free(o);
}

/* The SingleResponse for (cert, issuer) under any CertID hash the response
 * may have used; -2 when there is more than one, -1 when none. */
static int find_single(const cachet_ocsp *o, const cachet_x509 *cert, const cachet_x509 *issuer)
{
    static const cachet_hash_alg algs[] = { CACHET_HASH_SHA256, CACHET_HASH_SHA384,
                                            CACHET_HASH_SHA512 };
    int found = -1;
    const EVP_MD *mds[4] = { EVP_sha1(), NULL, NULL, NULL };
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
        mds[i + 1] = crypto_md(algs[i]);
    for (size_t i = 0; i < 4; i++) {
        if (!mds[i])
            continue;
        OCSP_CERTID *id = OCSP_cert_to_id(mds[i], cert->x, issuer->x);
        if (!id) {
            ERR_clear_error();
            continue;
        }
        int idx = OCSP_resp_find(o->basic, id, -1);
        if (idx >= 0 && (found >= 0 || OCSP_resp_find(o->basic, id, idx) >= 0))
            found = -2;
        else if (idx >= 0)
            found = idx;
        OCSP_CERTID_free(id);
        if (found == -2)
            break;
    }
    return found;
}

bool cachet_ocsp_covers(const cachet_ocsp *o, const cachet_x509 *cert, const cachet_x509 *issuer)
{
    return o && cert && issuer && find_single(o, cert, issuer) != -1;
}

static cachet_rc verify_responder(const cachet_ocsp *o, const cachet_ocsp_params *p)
{
    cachet_rc rc = CACHET_OK;
    X509_STORE *store = X509_STORE_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    if (!store || !untrusted) {
        rc = crypto_ossl(NOMEM, "ocsp_check: allocation failed");
        goto out;
    }
    for (size_t i = 0; i < p->n_roots; i++)
        if (X509_STORE_add_cert(store, p->roots[i]->x) != 1) {
            rc = crypto_ossl(CRYPTO, "ocsp_check: cannot add root %zu", i);
            goto out;
        }
    /* The issuer may sign its own responses; intermediates help build the
     * responder's path.  All untrusted: only the roots anchor. */
    if (!sk_X509_push(untrusted, p->issuer->x)) {
        rc = crypto_ossl(NOMEM, "ocsp_check: allocation failed");
        goto out;
    }
    for (size_t i = 0; i < p->n_intermediates; i++)
        if (!sk_X509_push(untrusted, p->intermediates[i]->x)) {
            rc = crypto_ossl(NOMEM, "ocsp_check: allocation failed");
            goto out;
        }
    X509_VERIFY_PARAM *vp = X509_STORE_get0_param(store);
    X509_VERIFY_PARAM_clear_flags(vp, X509_V_FLAG_PARTIAL_CHAIN);
    X509_VERIFY_PARAM_set_time(vp, (time_t)p->time);
    ERR_clear_error();
    /* Signature, responder path to a root (at p->time), and the issuer
     * check: the signer is the CA itself or carries id-kp-OCSPSigning and
     * was issued by it (RFC 6960 §4.2.2.2). */
    if (OCSP_basic_verify(o->basic, untrusted, store, 0) != 1) {
        rc = crypto_ossl(SIGNATURE,
                         "ocsp_check: the response's signature or responder does not verify");
        goto out;
    }
out:
    sk_X509_free(untrusted);
    X509_STORE_free(store);
    return rc;
}

cachet_rc cachet_ocsp_check(const cachet_ocsp *o, const cachet_ocsp_params *p,
                            cachet_ocsp_result *res)
{
    if (res)
        memset(res, 0, sizeof *res);
    if (!o || !p || !p->cert || !p->issuer || !res)
        return crypto_err(INVALID_ARG, "ocsp_check: NULL argument");
    if (!p->roots || p->n_roots == 0)
        return crypto_err(INVALID_ARG, "ocsp_check: no pinned root");
    if (p->n_roots > OCSP_MAX_CERTS || p->n_intermediates > OCSP_MAX_CERTS ||
        (p->n_intermediates && !p->intermediates))
        return crypto_err(LIMIT, "ocsp_check: too many or NULL certificates");
    res->reason = -1;

    int idx = find_single(o, p->cert, p->issuer);
    if (idx == -1)
        return crypto_err(NOT_FOUND, "ocsp_check: the response has no entry for this certificate");
    if (idx == -2)
        return crypto_err(FORMAT, "ocsp_check: the response has several entries for this "
                                  "certificate");
    cachet_rc rc = verify_responder(o, p);
    if (rc != CACHET_OK)
        return rc;

    OCSP_SINGLERESP *single = OCSP_resp_get0(o->basic, idx);
    int reason = -1;
    ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
    int st = OCSP_single_get0_status(single, &reason, &rev, &thisupd, &nextupd);
    const ASN1_GENERALIZEDTIME *produced = OCSP_resp_get0_produced_at(o->basic);
    if (st < 0 || !thisupd || !produced)
        return crypto_err(FORMAT, "ocsp_check: malformed SingleResponse");
    if (crypto_asn1_time(thisupd, &res->this_update) != CACHET_OK ||
        crypto_asn1_time(produced, &res->produced_at) != CACHET_OK ||
        (nextupd && crypto_asn1_time(nextupd, &res->next_update) != CACHET_OK) ||
        (rev && crypto_asn1_time(rev, &res->revoked_at) != CACHET_OK))
        return crypto_err(FORMAT, "ocsp_check: invalid time in the response");
    /* §4.2.2.1: thisUpdate <= t < nextUpdate; without nextUpdate the
     * caller's maximum age applies (0: such a response is refused). */
    if (res->this_update > p->time || res->produced_at > p->time)
        return crypto_err(EXPIRED, "ocsp_check: the response is from after the verification time");
    if (nextupd) {
        if (p->time >= res->next_update)
            return crypto_err(EXPIRED, "ocsp_check: the response expired (nextUpdate passed)");
    } else if (p->max_age <= 0 || p->time - res->this_update > p->max_age) {
        return crypto_err(EXPIRED, "ocsp_check: no nextUpdate and older than the allowed age");
    }
    switch (st) {
    case V_OCSP_CERTSTATUS_GOOD: res->status = CACHET_OCSP_GOOD; break;
    case V_OCSP_CERTSTATUS_REVOKED:
        res->status = CACHET_OCSP_REVOKED;
        res->reason = reason;
        break;
    default: res->status = CACHET_OCSP_UNKNOWN; break;
    }
    return CACHET_OK;
}

const char *cachet_ocsp_status_str(cachet_ocsp_status s)
{
    switch (s) {
    case CACHET_OCSP_GOOD: return "good";
    case CACHET_OCSP_REVOKED: return "revoked";
    case CACHET_OCSP_UNKNOWN: return "unknown";
    }
    return "unknown";
}
