/* The certificates of a Nitro document (attestation_process.md §3.2.3):
 *
 *   nitro.cert.leaf        the signing certificate: DER, EC P-384, an end
 *                          entity whose keyUsage has digitalSignature
 *   nitro.cabundle.root    cabundle[0] byte-identical to the anchor (the
 *                          built-in AWS root); it is compared, never trusted
 *   nitro.cert.chain       leaf → cabundle[n-1] … cabundle[1] → anchor at the
 *                          request's time, every certificate valid then
 *   nitro.cert.revocation  CRL endorsements, when given, for the path
 *
 * Verified paths are remembered in the request's chain cache (keyed by the
 * anchor, the leaf and the bundle) for the time the whole path is valid. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/clock.h"
#include "cachet/encoding.h"
#include "cachet/reader.h"
#include "evidence/family.h"
#include "evidence/nitro/nitro.h"

#define CHAIN_FLAGS (CACHET_CHAIN_STRICT | CACHET_CHAIN_ALLOW_NO_AKID)

typedef struct certs_run {
    cachet_ev_ctx *ctx;
    const cachet_verify_request *req;
    const nitro_doc *d;
    const cachet_x509 *anchor;
    cachet_x509 *leaf;
    cachet_x509 *inter[NITRO_CABUNDLE_MAX];
    size_t n_inter;
} certs_run;

/* A certificate field must be DER (a SEQUENCE), never PEM text. */
static cachet_rc parse_der_cert(const nitro_bytes *b, cachet_x509 **out)
{
    *out = NULL;
    if (b->len < 2 || b->p[0] != 0x30)
        return cachet_err(CACHET_RC(CACHET_SUB_EVIDENCE, CACHET_E_FORMAT),
                          "not a DER certificate");
    return cachet_x509_parse(b->p, b->len, out);
}

static bool step_leaf(certs_run *s, cachet_pkey **key, int64_t *nb, int64_t *na)
{
    const char *id = "nitro.cert.leaf";
    uint32_t ku = 0;
    bool ku_present = false;
    char cn[128] = "";
    if (parse_der_cert(&s->d->certificate, &s->leaf) != CACHET_OK) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, NITRO_SPEC_LEAF, "certificate: %s",
                       cachet_err_detail());
        return false;
    }
    if (cachet_x509_public_key(s->leaf, key) != CACHET_OK) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, NITRO_SPEC_LEAF, "leaf key: %s",
                       cachet_err_detail());
        return false;
    }
    if (!cachet_pkey_is_ec(*key, CACHET_CURVE_P384)) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, NITRO_SPEC_LEAF,
                       "leaf key is not EC P-384 (ES384 needs one)");
        return false;
    }
    if (cachet_x509_is_ca(s->leaf)) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, NITRO_SPEC_LEAF,
                       "the signing certificate is a CA certificate");
        return false;
    }
    if (cachet_x509_key_usage(s->leaf, &ku, &ku_present) != CACHET_OK) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, NITRO_SPEC_LEAF, "%s", cachet_err_detail());
        return false;
    }
    if (!ku_present || !(ku & CACHET_KU_DIGITAL_SIGNATURE)) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, NITRO_SPEC_LEAF,
                       "leaf keyUsage lacks digitalSignature");
        return false;
    }
    if (cachet_x509_validity(s->leaf, nb, na) != CACHET_OK) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, NITRO_SPEC_LEAF, "leaf validity: %s",
                       cachet_err_detail());
        return false;
    }
    if (cachet_x509_subject_cn(s->leaf, cn, sizeof cn) != CACHET_OK)
        snprintf(cn, sizeof cn, "(no CN)");
    cachet_ev_pass(s->ctx, id, NITRO_SPEC_LEAF, "EC P-384 end entity, digitalSignature: CN=%s",
                   cn);
    return true;
}

/* cabundle[0] is AWS's root by the format's own definition; it must be the
 * anchor byte for byte (evidence-formats §5.3), and is otherwise unused. */
static bool step_root_pin(certs_run *s)
{
    const char *id = "nitro.cabundle.root";
    uint8_t want[CACHET_SHA256_LEN], got[CACHET_SHA256_LEN];
    if (cachet_x509_fingerprint(s->anchor, want) != CACHET_OK ||
        cachet_sha256(s->d->cabundle[0].p, s->d->cabundle[0].len, got) != CACHET_OK) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, NITRO_SPEC_ROOT, "fingerprint: %s",
                       cachet_err_detail());
        return false;
    }
    char w[2 * CACHET_SHA256_LEN + 1], g[2 * CACHET_SHA256_LEN + 1];
    cachet_hex_encode(want, sizeof want, w);
    cachet_hex_encode(got, sizeof got, g);
    if (memcmp(want, got, sizeof want) != 0) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, NITRO_SPEC_ROOT,
                       "cabundle[0] (sha256 %s) is not the pinned root (sha256 %s)", g, w);
        return false;
    }
    cachet_ev_pass(s->ctx, id, NITRO_SPEC_ROOT, "cabundle[0] is the pinned root, sha256 %s", w);
    return true;
}

/* SHA-256 over the anchor's fingerprint and the length-prefixed leaf and
 * intermediates: the cache key of this exact path question. */
static bool hash_bytes(cachet_hash_ctx *h, const nitro_bytes *b)
{
    uint8_t len4[4];
    cachet_put_be32(len4, (uint32_t)b->len);
    return cachet_hash_update(h, len4, sizeof len4) == CACHET_OK &&
           cachet_hash_update(h, b->p, b->len) == CACHET_OK;
}

static bool cache_key(const certs_run *s, uint8_t key[CACHET_SHA256_LEN])
{
    static const char label[] = "cachet nitro chain v1";
    uint8_t fp[CACHET_SHA256_LEN];
    cachet_hash_ctx *h = cachet_hash_new(CACHET_HASH_SHA256);
    bool ok = h && cachet_x509_fingerprint(s->anchor, fp) == CACHET_OK &&
              cachet_hash_update(h, label, sizeof label) == CACHET_OK &&
              cachet_hash_update(h, fp, sizeof fp) == CACHET_OK &&
              hash_bytes(h, &s->d->certificate);
    /* cabundle[0] is never offered to the path builder, so it is not part
     * of the question either. */
    for (size_t i = 1; ok && i < s->d->n_cabundle; i++)
        ok = hash_bytes(h, &s->d->cabundle[i]);
    ok = ok && cachet_hash_final(h, key) == CACHET_OK;
    cachet_hash_free(h);
    return ok;
}

/* The window in which every certificate of the path is valid. */
static bool path_window(const cachet_chain_result *res, int64_t *nb, int64_t *na)
{
    *nb = INT64_MIN;
    *na = INT64_MAX;
    for (size_t i = 0; i < res->depth; i++) {
        int64_t b, a;
        if (cachet_x509_validity(res->path[i], &b, &a) != CACHET_OK)
            return false;
        if (b > *nb)
            *nb = b;
        if (a < *na)
            *na = a;
    }
    return *nb <= *na;
}

static size_t crl_endorsements(const cachet_verify_request *req)
{
    size_t n = 0;
    for (size_t i = 0; i < cachet_endorsements_count(req->endorsements); i++)
        if (cachet_endorsements_get(req->endorsements, i)->kind == CACHET_ENDORSEMENT_CRL)
            n++;
    return n;
}

/* Revocation from CRL endorsements: each CRL issued by a certificate of the
 * path must verify at t and must not list the certificate below its issuer.
 * AWS's own procedure checks no CRL (§3.2.4), so none given is not a warning. */
static bool step_revocation(certs_run *s, const cachet_chain_result *res)
{
    const char *id = "nitro.cert.revocation";
    size_t used = 0;
    for (size_t e = 0; e < cachet_endorsements_count(s->req->endorsements); e++) {
        const cachet_endorsement *en = cachet_endorsements_get(s->req->endorsements, e);
        if (en->kind != CACHET_ENDORSEMENT_CRL || !en->crl)
            continue;
        for (size_t i = 1; i < res->depth; i++) {
            if (!cachet_crl_issued_by(en->crl, res->path[i]))
                continue;
            cachet_ev_mark_used(s->ctx, e);
            used++;
            char cn[128] = "?";
            cachet_x509_subject_cn(res->path[i - 1], cn, sizeof cn);
            if (cachet_crl_verify(en->crl, res->path[i], s->req->time) != CACHET_OK) {
                cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, NITRO_SPEC_CRL, "%s: %s", en->name,
                               cachet_err_detail());
                return false;
            }
            if (cachet_crl_is_revoked(en->crl, res->path[i - 1])) {
                cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, NITRO_SPEC_CRL,
                               "CN=%s is revoked by %s", cn, en->name);
                return false;
            }
            break;
        }
    }
    if (used)
        cachet_ev_pass(s->ctx, id, NITRO_SPEC_CRL, "%zu CRL(s) checked; nothing revoked", used);
    else
        cachet_ev_na(s->ctx, false, id, NITRO_SPEC_CRL,
                     "no CRL for this path supplied; AWS's procedure checks none");
    return true;
}

static bool step_chain(certs_run *s)
{
    const char *id = "nitro.cert.chain";
    const cachet_verify_request *req = s->req;
    char when[21];
    cachet_time_format_rfc3339(req->time, when);
    bool crls = crl_endorsements(req) > 0;
    uint8_t key[CACHET_SHA256_LEN];
    bool keyed = req->cache && !crls && cache_key(s, key);
    if (keyed) {
        uint8_t v[CACHET_EV_CACHE_VALUE_MAX];
        size_t vlen = 0;
        if (cachet_ev_cache_lookup(req->cache, key, req->time, v, &vlen)) {
            cachet_ev_pass(s->ctx, id, NITRO_SPEC_CHAIN,
                           "leaf → %zu intermediate(s) → pinned root at %s (cached)",
                           s->d->n_cabundle - 1, when);
            cachet_ev_na(s->ctx, false, "nitro.cert.revocation", NITRO_SPEC_CRL,
                         "no CRL supplied; AWS's procedure checks none");
            return true;
        }
    }
    for (size_t i = 1; i < s->d->n_cabundle; i++) {
        if (parse_der_cert(&s->d->cabundle[i], &s->inter[s->n_inter]) != CACHET_OK) {
            cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, NITRO_SPEC_CHAIN, "cabundle[%zu]: %s", i,
                           cachet_err_detail());
            cachet_ev_na(s->ctx, false, "nitro.cert.revocation", NITRO_SPEC_CRL,
                         "not checked: no verified chain");
            return false;
        }
        s->n_inter++;
    }
    cachet_x509 *roots[1] = { (cachet_x509 *)s->anchor };
    cachet_chain_params p = {
        .leaf = s->leaf,
        .intermediates = s->inter,
        .n_intermediates = s->n_inter,
        .roots = roots,
        .n_roots = 1,
        .time = req->time,
        .flags = CHAIN_FLAGS,
    };
    cachet_chain_result res;
    if (cachet_x509_verify_chain(&p, &res) != CACHET_OK) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, NITRO_SPEC_CHAIN, "at %s: %s", when,
                       cachet_err_detail());
        cachet_ev_na(s->ctx, false, "nitro.cert.revocation", NITRO_SPEC_CRL,
                     "not checked: no verified chain");
        cachet_chain_result_clear(&res);
        return false;
    }
    cachet_ev_pass(s->ctx, id, NITRO_SPEC_CHAIN, "leaf → %zu intermediate(s) → pinned root at %s",
                   res.depth >= 2 ? res.depth - 2 : 0, when);
    bool ok = step_revocation(s, &res);
    int64_t nb, na;
    if (ok && keyed && path_window(&res, &nb, &na)) {
        uint8_t mark = 1;
        cachet_ev_cache_store(req->cache, key, nb, na, &mark, sizeof mark);
    }
    cachet_chain_result_clear(&res);
    return ok;
}

bool nitro_check_certs(cachet_ev_ctx *ctx, const cachet_verify_request *req,
                       const nitro_doc *d, const cachet_x509 *anchor, cachet_pkey **leaf_key,
                       int64_t *leaf_nb, int64_t *leaf_na)
{
    certs_run s = { .ctx = ctx, .req = req, .d = d, .anchor = anchor };
    *leaf_key = NULL;
    bool leaf_ok = step_leaf(&s, leaf_key, leaf_nb, leaf_na);
    if (!leaf_ok) {
        cachet_pkey_free(*leaf_key);
        *leaf_key = NULL;
    }
    bool pin_ok = step_root_pin(&s);
    bool chain_ok = false;
    if (leaf_ok) {
        chain_ok = step_chain(&s);
    } else {
        cachet_ev_na(ctx, false, "nitro.cert.chain", NITRO_SPEC_CHAIN,
                     "not checked: no usable leaf certificate");
        cachet_ev_na(ctx, false, "nitro.cert.revocation", NITRO_SPEC_CRL,
                     "not checked: no usable leaf certificate");
    }
    if (req->n_trust_anchors)
        cachet_ev_na(ctx, false, "nitro.cert.trust_anchors", NITRO_SPEC_ROOT,
                     "%zu --trust-anchor certificate(s) not used: Nitro chains end only at the "
                     "built-in AWS root", req->n_trust_anchors);
    cachet_x509_free(s.leaf);
    for (size_t i = 0; i < s.n_inter; i++)
        cachet_x509_free(s.inter[i]);
    return leaf_ok && pin_ok && chain_ok;
}
