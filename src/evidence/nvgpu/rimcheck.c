/* Driver and VBIOS RIMs among the endorsements (evidence-formats §3.6):
 *
 *   nvgpu.rim.read               every XML endorsement must read as a RIM
 *   nvgpu.rim.<role>.version     a RIM for this GPU's signed driver / VBIOS
 *                                version (from the report's opaque data, never
 *                                from the host); RIMs for other versions fail
 *   nvgpu.rim.<role>.product     the RIM's product is this GPU's chip
 *   nvgpu.rim.<role>.cert_chain  KeyInfo's first certificate (EC P-384 end
 *                                entity) chains to the built-in NVIDIA CoRIM
 *                                root at the request's time; KeyInfo's own
 *                                root is never trusted
 *   nvgpu.rim.<role>.ocsp        OCSP for the signing chain (but the root)
 *   nvgpu.rim.<role>.signature   the XML signature verifies with that key
 *
 * Roles: a VBIOS version is five dotted hex bytes, anything else is a driver
 * version.  Each RIM is read and verified once per verification however many
 * GPUs use it.  RIM failures are content failures: the GPU's evidence stays
 * authentic, but it cannot be judged against these reference values, so the
 * result is contraindicated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cachet/clock.h"
#include "cachet/encoding.h"
#include "cachet/reader.h"
#include "evidence/nvgpu/steps.h"

#define CHAIN_FLAGS CACHET_CHAIN_STRICT

/* ---- loading ------------------------------------------------------------------ */

static void load_one(nv_run *r, nv_rim_cand *c, const cachet_endorsement *en)
{
    cachet_rc rc;
    if (r->req->cache) {
        uint8_t digest[CACHET_SHA256_LEN];
        if (cachet_sha256(en->data, en->len, digest) == CACHET_OK &&
            (c->rim = nvgpu_rim_memo_get(digest)) != NULL)
            goto done;
    }
    rc = nvgpu_rim_read(en->data, en->len, &c->rim, &c->doc);
    if (rc != CACHET_OK) {
        snprintf(c->read_error, sizeof c->read_error, "%s", cachet_err_detail());
        return;
    }
    if (r->req->cache)
        nvgpu_rim_memo_put(c->rim);
done:
    c->role = nvgpu_version_is_vbios(c->rim->version) ? NVGPU_RIM_VBIOS : NVGPU_RIM_DRIVER;
}

void nv_rims_load(nv_run *r)
{
    const cachet_endorsements *e = r->req->endorsements;
    size_t n = 0;
    for (size_t i = 0; i < cachet_endorsements_count(e); i++)
        n += cachet_endorsements_get(e, i)->kind == CACHET_ENDORSEMENT_XML;
    if (n == 0)
        return;
    r->rims = calloc(n, sizeof *r->rims);
    if (!r->rims) {
        cachet_ev_internal_error(r->ctx, "nvgpu: out of memory");
        return;
    }
    nv_gpu top = { .run = r, .prefix = "nvgpu.", .auth_ok = true };
    for (size_t i = 0; i < cachet_endorsements_count(e); i++) {
        const cachet_endorsement *en = cachet_endorsements_get(e, i);
        if (en->kind != CACHET_ENDORSEMENT_XML)
            continue;
        nv_rim_cand *c = &r->rims[r->n_rims++];
        c->src = i;
        c->name = en->name;
        load_one(r, c, en);
        if (!c->rim) {
            /* cachet reads no other XML: a RIM that does not read fails. */
            cachet_ev_mark_used(r->ctx, i);
            nv_fail(&top, CACHET_EV_CONTENT, "rim.read", NVGPU_SPEC_RIM, "%s: %s", en->name,
                    c->read_error);
        }
    }
}

void nv_rims_free(nv_run *r)
{
    for (size_t i = 0; i < r->n_rims; i++) {
        nvgpu_rim_free(r->rims[i].rim);
        nvgpu_xml_free(r->rims[i].doc);
        cachet_chain_result_clear(&r->rims[i].path);
    }
    free(r->rims);
    r->rims = NULL;
    r->n_rims = 0;
}

/* ---- verification, once per RIM ------------------------------------------------------ */

static bool rim_cache_key(nv_run *r, const nv_rim_cand *c, uint8_t key[32])
{
    static const char label[] = "cachet nvgpu RIM signature v1";
    uint8_t fp[CACHET_SHA256_LEN];
    cachet_hash_ctx *h = cachet_hash_new(CACHET_HASH_SHA256);
    bool ok = h && cachet_hash_update(h, label, sizeof label) == CACHET_OK &&
              cachet_x509_fingerprint(r->trust->rim_root, fp) == CACHET_OK &&
              cachet_hash_update(h, fp, sizeof fp) == CACHET_OK &&
              cachet_hash_update(h, c->rim->digest, sizeof c->rim->digest) == CACHET_OK &&
              cachet_hash_final(h, key) == CACHET_OK;
    cachet_hash_free(h);
    return ok;
}

static bool signer_profile(nv_rim_cand *c)
{
    const cachet_x509 *s = c->rim->certs[0];
    cachet_pkey *pk = NULL;
    uint32_t ku = 0;
    bool ku_present = false;
    cachet_x509_subject_cn(s, c->signer_cn, sizeof c->signer_cn);
    int64_t nb;
    cachet_x509_validity(s, &nb, &c->not_after);
    bool ec = cachet_x509_public_key(s, &pk) == CACHET_OK && cachet_pkey_is_ec(pk, CACHET_CURVE_P384);
    cachet_pkey_free(pk);
    if (!ec || cachet_x509_is_ca(s) || cachet_x509_key_usage(s, &ku, &ku_present) != CACHET_OK ||
        (ku_present && !(ku & CACHET_KU_DIGITAL_SIGNATURE))) {
        snprintf(c->chain_detail, sizeof c->chain_detail,
                 "the signing certificate \"%s\" is not an EC P-384 end entity for signatures",
                 c->signer_cn);
        return false;
    }
    return true;
}

static void verify_chain(nv_run *r, nv_rim_cand *c)
{
    char when[21];
    cachet_time_format_rfc3339(r->req->time, when);
    cachet_x509 *roots[1] = { r->trust->rim_root };
    cachet_chain_params p = {
        .leaf = c->rim->certs[0],
        .intermediates = c->rim->certs + 1,
        .n_intermediates = c->rim->n_certs - 1,
        .roots = roots,
        .n_roots = 1,
        .time = r->req->time,
        .flags = CHAIN_FLAGS,
    };
    if (cachet_x509_verify_chain(&p, &c->path) != CACHET_OK) {
        snprintf(c->chain_detail, sizeof c->chain_detail,
                 "\"%s\" does not chain to the pinned NVIDIA CoRIM signing Root CA at %s: %s",
                 c->signer_cn, when, c->path.error_str[0] ? c->path.error_str : cachet_err_detail());
        return;
    }
    c->chain_ok = true;
    snprintf(c->chain_detail, sizeof c->chain_detail,
             "\"%s\" chains to the pinned NVIDIA CoRIM signing Root CA at %s (%zu certificates)",
             c->signer_cn, when, c->path.depth);
}

static void verify_signature(nv_run *r, nv_rim_cand *c)
{
    const cachet_endorsement *en = cachet_endorsements_get(r->req->endorsements, c->src);
    if (!c->doc) {
        /* Content came from the memo: parse again for xmlsec. */
        nvgpu_rim *again = NULL;
        if (nvgpu_rim_read(en->data, en->len, &again, &c->doc) != CACHET_OK) {
            snprintf(c->sig_detail, sizeof c->sig_detail, "%s", cachet_err_detail());
            return;
        }
        nvgpu_rim_free(again);
    }
    const uint8_t *der;
    size_t len;
    if (cachet_x509_der(c->rim->certs[0], &der, &len) != CACHET_OK ||
        nvgpu_xml_verify(c->doc, der, len) != CACHET_OK) {
        snprintf(c->sig_detail, sizeof c->sig_detail, "%s", cachet_err_detail());
        return;
    }
    c->sig_ok = true;
    snprintf(c->sig_detail, sizeof c->sig_detail,
             "enveloped XML signature (C14N 1.1, SHA-384 digest, ECDSA-SHA384) verifies with "
             "\"%s\"", c->signer_cn);
}

static void verify_once(nv_run *r, nv_rim_cand *c)
{
    if (c->checked)
        return;
    c->checked = true;
    c->leaf_ok = signer_profile(c);
    if (!c->leaf_ok)
        return;
    uint8_t key[32];
    bool use_cache = r->req->cache && nvgpu_ocsp_count(r->ocsp) == 0 && rim_cache_key(r, c, key);
    if (use_cache && cachet_ev_cache_lookup(r->req->cache, key, r->req->time, NULL, NULL)) {
        c->chain_ok = c->sig_ok = c->from_cache = true;
        snprintf(c->chain_detail, sizeof c->chain_detail,
                 "\"%s\" chains to the pinned NVIDIA CoRIM signing Root CA (verified earlier, "
                 "cached)", c->signer_cn);
        snprintf(c->sig_detail, sizeof c->sig_detail,
                 "the XML signature over these exact bytes verified earlier (cached)");
        return;
    }
    verify_chain(r, c);
    verify_signature(r, c);
    if (use_cache && c->chain_ok && c->sig_ok) {
        int64_t nb = INT64_MIN, na = INT64_MAX;
        for (size_t i = 0; i < c->path.depth; i++) {
            int64_t a, b;
            if (cachet_x509_validity(c->path.path[i], &a, &b) != CACHET_OK)
                return;
            nb = a > nb ? a : nb;
            na = b < na ? b : na;
        }
        cachet_ev_cache_store(r->req->cache, key, nb, na, NULL, 0);
    }
}

static void ocsp_once(nv_run *r, nv_rim_cand *c)
{
    if (c->ocsp_done)
        return;
    c->ocsp_done = true;
    if (nvgpu_ocsp_count(r->ocsp) == 0 || !c->path.depth) {
        memset(&c->ocsp, 0, sizeof c->ocsp);
        snprintf(c->ocsp.status, sizeof c->ocsp.status, "not-checked");
        c->ocsp.missing = 1;
        snprintf(c->ocsp.detail, sizeof c->ocsp.detail,
                 "no OCSP response among the endorsements");
        return;
    }
    /* Every certificate but the root (nvtrust: indices 0..n-2). */
    nvgpu_ocsp_check_path(r->ctx, r->ocsp, c->path.path, c->path.depth, 0, c->path.depth - 1,
                          r->req->time, &c->ocsp);
}

/* ---- per GPU ---------------------------------------------------------------------- */

static void record(nv_gpu *g, nvgpu_rim_role role, nv_rim_cand *c)
{
    nv_run *r = g->run;
    const char *rs = nvgpu_rim_role_str(role);
    char check[48];
    bool ok = true;

    snprintf(check, sizeof check, "rim.%s.product", rs);
    if (!c->rim->product[0] || !g->chip[0])
        nv_na(g, false, check, NVGPU_SPEC_RIM, "product or chip unknown");
    else if (strcasecmp(c->rim->product, g->chip) == 0)
        nv_pass(g, check, NVGPU_SPEC_RIM, "RIM for %s", c->rim->product);
    else {
        nv_fail(g, CACHET_EV_CONTENT, check, NVGPU_SPEC_RIM,
                "the RIM is for %s, this GPU is a %s", c->rim->product, g->chip);
        ok = false;
    }

    verify_once(r, c);
    snprintf(check, sizeof check, "rim.%s.cert_chain", rs);
    if (c->leaf_ok && c->chain_ok) {
        nv_pass(g, check, NVGPU_SPEC_RIM_CHAIN, "%s", c->chain_detail);
    } else {
        nv_fail(g, CACHET_EV_CONTENT, check, NVGPU_SPEC_RIM_CHAIN, "%s", c->chain_detail);
        ok = false;
    }

    snprintf(check, sizeof check, "rim.%s.ocsp", rs);
    if (c->chain_ok) {
        ocsp_once(r, c);
        if (c->ocsp.failed) {
            nv_fail(g, CACHET_EV_CONTENT, check, NVGPU_SPEC_OCSP, "%s: %s", c->ocsp.status,
                    c->ocsp.detail);
            ok = false;
        } else if (c->ocsp.missing) {
            nv_na(g, true, check, NVGPU_SPEC_OCSP,
                  "revocation of the %s RIM's signing chain not checked: %s", rs, c->ocsp.detail);
        } else {
            nv_pass(g, check, NVGPU_SPEC_OCSP, "good for all %zu certificates below the root",
                    c->ocsp.good);
        }
    } else {
        nv_na(g, false, check, NVGPU_SPEC_OCSP, "not checked: no verified signing chain");
    }

    snprintf(check, sizeof check, "rim.%s.signature", rs);
    if (!c->leaf_ok)
        nv_na(g, false, check, NVGPU_SPEC_XMLDSIG, "not checked: unusable signing certificate");
    else if (c->sig_ok)
        nv_pass(g, check, NVGPU_SPEC_XMLDSIG, "%s", c->sig_detail);
    else {
        nv_fail(g, CACHET_EV_CONTENT, check, NVGPU_SPEC_XMLDSIG, "%s", c->sig_detail);
        ok = false;
    }
    g->rim_seen[role] = c;
    g->rim_status[role] = ok ? "verified" : "failed";
    if (ok)
        g->rim[role] = c;
}

static void step_role(nv_gpu *g, nvgpu_rim_role role)
{
    nv_run *r = g->run;
    const char *rs = nvgpu_rim_role_str(role);
    const char *want = role == NVGPU_RIM_DRIVER
                           ? g->rep.od.driver_version
                           : (g->rep.od.has_vbios ? g->rep.od.vbios_version : "");
    char check[48], id[128];
    snprintf(check, sizeof check, "rim.%s.version", rs);
    nv_rim_id(g, role, id, sizeof id);
    g->rim_status[role] = "absent";
    if (!want[0]) {
        nv_na(g, true, check, NVGPU_SPEC_RIM, "the report carries no %s version: no %s RIM "
                                              "applies", rs, rs);
        return;
    }
    nv_rim_cand *match = NULL;
    size_t others = 0;
    char seen[256] = "";
    for (size_t i = 0; i < r->n_rims; i++) {
        nv_rim_cand *c = &r->rims[i];
        if (!c->rim || c->role != role)
            continue;
        if (!match && strcasecmp(c->rim->version, want) == 0) {
            match = c;
            continue;
        }
        others++;
        size_t used = strlen(seen);
        if (used + 4 < sizeof seen)
            snprintf(seen + used, sizeof seen - used, "%s%s", used ? ", " : "", c->rim->version);
    }
    if (match) {
        cachet_ev_mark_used(r->ctx, match->src);
        nv_pass(g, check, NVGPU_SPEC_RIM, "%s (%s): colloquialVersion %s == the report's %s",
                match->name, id, match->rim->version, want);
        record(g, role, match);
        return;
    }
    if (others) {
        for (size_t i = 0; i < r->n_rims; i++)
            if (r->rims[i].rim && r->rims[i].role == role)
                cachet_ev_mark_used(r->ctx, r->rims[i].src);
        g->rim_status[role] = "version-mismatch";
        nv_fail(g, CACHET_EV_CONTENT, check, NVGPU_SPEC_RIM,
                "the %s RIM(s) given are for %s; this GPU's signed %s version is %s (%s)", rs,
                seen, rs, want, id);
        return;
    }
    nv_na(g, true, check, NVGPU_SPEC_RIM,
          "no %s RIM among the endorsements (%s for %s): measurements not compared against it",
          rs, id, want);
}

void nv_step_rims(nv_gpu *g)
{
    if (!g->parsed)
        return;
    step_role(g, NVGPU_RIM_DRIVER);
    step_role(g, NVGPU_RIM_VBIOS);
}
