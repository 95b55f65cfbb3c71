/* The GPU's device identity chain (evidence-formats §3.5):
 *
 *   nvgpu.cert_chain.present  the chain from the container entry, or the
 *                             certificate endorsement that holds it
 *   nvgpu.cert_chain.length   five certificates with the root (nvtrust
 *                             MAX_CERT_CHAIN_LENGTH): FMC LF, BROM,
 *                             provisioner ICA, identity CA, root
 *   nvgpu.cert_chain.root     a root in the supplied chain must be the pinned
 *                             NVIDIA Device Identity CA byte for byte; it is
 *                             compared and dropped, never trusted
 *   nvgpu.cert_chain          leaf → supplied intermediates → the built-in
 *                             root at the request's time (X.509 strict)
 *   nvgpu.cert_chain.leaf     the signing certificate: EC P-384, not a CA,
 *                             digitalSignature, CN "... GSP FMC LF"
 *   nvgpu.cert_chain.fwid     FWID of the leaf's DICE extension == opaque FWID
 *   nvgpu.cert_chain.ocsp     OCSP for the certificates between leaf and root
 *
 * Verified chains are remembered in the request's verify cache, keyed by the
 * pinned root and the exact certificates, for the path's validity window. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/clock.h"
#include "cachet/encoding.h"
#include "cachet/reader.h"
#include "evidence/nvgpu/steps.h"

#define CHAIN_FLAGS CACHET_CHAIN_STRICT

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Preference of a certificate endorsement as the device chain. */
static int chain_score(const cachet_endorsement *en)
{
    char cn[96];
    if (en->kind != CACHET_ENDORSEMENT_CERTS || en->n_certs == 0)
        return -1;
    if (cachet_x509_subject_cn(en->certs[0], cn, sizeof cn) != CACHET_OK)
        return 0;
    if (ends_with(cn, "FMC LF"))
        return 3;
    if (strstr(cn, " GSP "))
        return 2;
    return en->n_certs > 1 ? 1 : 0;
}

static bool find_chain(nv_gpu *g)
{
    const char *check = "cert_chain.present";
    if (g->item->chain) {
        cachet_rc rc = cachet_x509_parse_all(g->item->chain, g->item->chain_len, &g->chain,
                                             &g->n_chain);
        if (rc != CACHET_OK) {
            nv_fail(g, CACHET_EV_AUTH, check, NVGPU_SPEC_CHAIN,
                    "the container's \"certificate\" does not parse: %s", cachet_err_detail());
            return false;
        }
        g->own_chain = true;
        nv_pass(g, check, NVGPU_SPEC_CHAIN, "%zu certificates from the evidence container",
                g->n_chain);
        return true;
    }
    const cachet_endorsements *e = g->run->req->endorsements;
    int best = -1;
    size_t src = 0;
    for (size_t i = 0; i < cachet_endorsements_count(e); i++) {
        int s = chain_score(cachet_endorsements_get(e, i));
        if (s > best) {
            best = s;
            src = i;
        }
    }
    if (best < 0) {
        nv_fail(g, CACHET_EV_AUTH, check, NVGPU_SPEC_CHAIN,
                "no certificate chain: pass the GPU's attestation certificate chain (NVML "
                "attestationCertChain, leaf first) as an endorsement");
        return false;
    }
    const cachet_endorsement *en = cachet_endorsements_get(e, src);
    cachet_ev_mark_used(g->run->ctx, src);
    g->chain = en->certs;
    g->n_chain = en->n_certs;
    g->own_chain = false;
    nv_pass(g, check, NVGPU_SPEC_CHAIN, "%zu certificates from %s", g->n_chain, en->name);
    return true;
}

static bool self_issued(const cachet_x509 *c)
{
    char s[128], i[128];
    return cachet_x509_subject_cn(c, s, sizeof s) == CACHET_OK &&
           cachet_x509_issuer_cn(c, i, sizeof i) == CACHET_OK && strcmp(s, i) == 0;
}

/* A self-issued last certificate claims to be the root: it must be the pin. */
static bool step_supplied_root(nv_gpu *g, bool *has_root)
{
    const char *check = "cert_chain.root";
    const cachet_x509 *last = g->chain[g->n_chain - 1];
    *has_root = g->n_chain > 1 && self_issued(last);
    if (!*has_root) {
        nv_na(g, false, check, NVGPU_SPEC_ROOT,
              "the supplied chain ends below the root; the built-in pin is the anchor");
        return true;
    }
    uint8_t a[CACHET_SHA256_LEN], b[CACHET_SHA256_LEN];
    char hex[2 * CACHET_SHA256_LEN + 1];
    if (cachet_x509_fingerprint(last, a) != CACHET_OK ||
        cachet_x509_fingerprint(g->run->trust->device_root, b) != CACHET_OK) {
        nv_fail(g, CACHET_EV_AUTH, check, NVGPU_SPEC_ROOT, "fingerprint: %s", cachet_err_detail());
        return false;
    }
    cachet_hex_encode(a, sizeof a, hex);
    if (memcmp(a, b, sizeof a) != 0) {
        char cn[96] = "?";
        cachet_x509_subject_cn(last, cn, sizeof cn);
        nv_fail(g, CACHET_EV_AUTH, check, NVGPU_SPEC_ROOT,
                "the chain ends at \"%s\" (sha256 %s), which is not the pinned NVIDIA Device "
                "Identity CA: a substituted root", cn, hex);
        return false;
    }
    nv_pass(g, check, NVGPU_SPEC_ROOT, "the supplied root is the pinned one (sha256 %s)", hex);
    return true;
}

/* SHA-256 over a domain label, the anchor's fingerprint and every supplied
 * certificate's DER (length-prefixed): the cache key of this exact path. */
static bool cache_key(nv_gpu *g, size_t n_used, uint8_t key[32])
{
    cachet_hash_ctx *h = cachet_hash_new(CACHET_HASH_SHA256);
    uint8_t fp[CACHET_SHA256_LEN];
    static const char label[] = "cachet nvgpu device chain v1";
    bool ok = h && cachet_hash_update(h, label, sizeof label) == CACHET_OK &&
              cachet_x509_fingerprint(g->run->trust->device_root, fp) == CACHET_OK &&
              cachet_hash_update(h, fp, sizeof fp) == CACHET_OK;
    for (size_t i = 0; ok && i < n_used; i++) {
        const uint8_t *der;
        size_t len;
        uint8_t l4[4];
        ok = cachet_x509_der(g->chain[i], &der, &len) == CACHET_OK;
        cachet_put_be32(l4, (uint32_t)len);
        ok = ok && cachet_hash_update(h, l4, 4) == CACHET_OK &&
             cachet_hash_update(h, der, len) == CACHET_OK;
    }
    ok = ok && cachet_hash_final(h, key) == CACHET_OK;
    cachet_hash_free(h);
    return ok;
}

static void path_window(const cachet_chain_result *p, int64_t *nb, int64_t *na)
{
    *nb = INT64_MIN;
    *na = INT64_MAX;
    for (size_t i = 0; i < p->depth; i++) {
        int64_t a, b;
        if (cachet_x509_validity(p->path[i], &a, &b) != CACHET_OK) {
            *nb = INT64_MAX; /* an empty window: never a hit */
            *na = INT64_MIN;
            return;
        }
        if (a > *nb)
            *nb = a;
        if (b < *na)
            *na = b;
    }
}

static bool step_path(nv_gpu *g, size_t n_used)
{
    const char *check = "cert_chain";
    const cachet_verify_request *req = g->run->req;
    char when[21];
    cachet_time_format_rfc3339(req->time, when);
    uint8_t key[32];
    /* OCSP needs the built path, so a cached answer is used only without it. */
    bool use_cache = req->cache && nvgpu_ocsp_count(g->run->ocsp) == 0 && cache_key(g, n_used, key);
    if (use_cache && cachet_ev_cache_lookup(req->cache, key, req->time, NULL, NULL)) {
        nv_pass(g, check, NVGPU_SPEC_CHAIN,
                "chains to the pinned NVIDIA Device Identity CA at %s (verified earlier, cached)",
                when);
        return true;
    }
    cachet_x509 *roots[1] = { g->run->trust->device_root };
    cachet_chain_params p = {
        .leaf = g->chain[0],
        .intermediates = g->chain + 1,
        .n_intermediates = n_used - 1,
        .roots = roots,
        .n_roots = 1,
        .time = req->time,
        .flags = CHAIN_FLAGS,
    };
    cachet_rc rc = cachet_x509_verify_chain(&p, &g->path);
    if (rc != CACHET_OK) {
        nv_fail(g, CACHET_EV_AUTH, check, NVGPU_SPEC_CHAIN,
                "does not chain to the pinned NVIDIA Device Identity CA at %s: %s", when,
                g->path.error_str[0] ? g->path.error_str : cachet_err_detail());
        return false;
    }
    if (g->path.depth != NVGPU_CHAIN_LEN) {
        nv_fail(g, CACHET_EV_AUTH, check, NVGPU_SPEC_CHAIN,
                "the verified path has %zu certificates, not %u", g->path.depth, NVGPU_CHAIN_LEN);
        return false;
    }
    nv_pass(g, check, NVGPU_SPEC_CHAIN,
            "FMC LF -> BROM -> provisioner ICA -> identity CA -> pinned NVIDIA Device Identity "
            "CA, valid at %s (X.509 strict)", when);
    if (use_cache) {
        int64_t nb, na;
        path_window(&g->path, &nb, &na);
        cachet_ev_cache_store(req->cache, key, nb, na, NULL, 0);
    }
    return true;
}

static bool step_leaf(nv_gpu *g)
{
    const char *check = "cert_chain.leaf";
    const cachet_x509 *leaf = g->chain[0];
    char cn[96] = "";
    cachet_pkey *pk = NULL;
    uint32_t ku = 0;
    bool ku_present = false;
    if (cachet_x509_subject_cn(leaf, cn, sizeof cn) != CACHET_OK || !ends_with(cn, " FMC LF")) {
        nv_fail(g, CACHET_EV_AUTH, check, NVGPU_SPEC_CHAIN,
                "the first certificate (CN \"%s\") is not a GSP FMC LF attestation certificate",
                cn);
        return false;
    }
    bool ec = cachet_x509_public_key(leaf, &pk) == CACHET_OK &&
              cachet_pkey_is_ec(pk, CACHET_CURVE_P384);
    cachet_pkey_free(pk);
    if (!ec) {
        nv_fail(g, CACHET_EV_AUTH, check, NVGPU_SPEC_CHAIN, "the leaf key is not EC P-384");
        return false;
    }
    if (cachet_x509_is_ca(leaf) || cachet_x509_key_usage(leaf, &ku, &ku_present) != CACHET_OK ||
        (ku_present && !(ku & CACHET_KU_DIGITAL_SIGNATURE))) {
        nv_fail(g, CACHET_EV_AUTH, check, NVGPU_SPEC_CHAIN,
                "the leaf is a CA or its keyUsage lacks digitalSignature");
        return false;
    }
    nv_pass(g, check, NVGPU_SPEC_CHAIN, "CN \"%s\": EC P-384 end entity, digitalSignature", cn);
    return true;
}

/* Decimal rendering of a big-endian serial (the UEID NVIDIA reports). */
static void serial_decimal(const uint8_t *s, size_t n, char *out, size_t cap)
{
    uint8_t digits[96];
    size_t nd = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned carry = s[i];
        for (size_t k = 0; k < nd; k++) {
            unsigned v = digits[k] * 256u + carry;
            digits[k] = (uint8_t)(v % 10);
            carry = v / 10;
        }
        while (carry && nd < sizeof digits) {
            digits[nd++] = (uint8_t)(carry % 10);
            carry /= 10;
        }
    }
    if (nd == 0)
        digits[nd++] = 0;
    size_t k = 0;
    for (; k < nd && k + 1 < cap; k++)
        out[k] = (char)('0' + digits[nd - 1 - k]);
    out[k] = 0;
}

static void identity_facts(nv_gpu *g)
{
    char cn[96] = "";
    if (cachet_x509_subject_cn(g->chain[0], cn, sizeof cn) == CACHET_OK) {
        size_t w = strcspn(cn, " ");
        snprintf(g->chip, sizeof g->chip, "%.*s", (int)(w < sizeof g->chip ? w : 0), cn);
    }
    g->arch = strncmp(g->chip, "GH", 2) == 0   ? "HOPPER"
              : strncmp(g->chip, "GB", 2) == 0 ? "BLACKWELL"
                                               : "UNKNOWN";
    if (g->n_chain > 1)
        cachet_x509_subject_cn(g->chain[1], g->hwmodel, sizeof g->hwmodel);
    uint8_t serial[32];
    size_t n = 0;
    if (cachet_x509_serial(g->chain[0], serial, sizeof serial, &n) == CACHET_OK)
        serial_decimal(serial, n, g->ueid, sizeof g->ueid);
}

bool nv_step_chain(nv_gpu *g)
{
    if (!find_chain(g)) {
        nv_skip(g, "cert_chain", NVGPU_SPEC_CHAIN, "no certificate chain");
        return false;
    }
    bool has_root = false;
    bool root_ok = step_supplied_root(g, &has_root);
    size_t n_used = has_root ? g->n_chain - 1 : g->n_chain;
    size_t with_root = n_used + 1;
    if (with_root == NVGPU_CHAIN_LEN)
        nv_pass(g, "cert_chain.length", NVGPU_SPEC_CHAIN, "%u certificates with the root",
                NVGPU_CHAIN_LEN);
    else
        nv_fail(g, CACHET_EV_AUTH, "cert_chain.length", NVGPU_SPEC_CHAIN,
                "%zu certificates with the root; a GPU chain has %u (leaf, BROM, provisioner "
                "ICA, identity CA, root)", with_root, NVGPU_CHAIN_LEN);
    bool path_ok = step_path(g, n_used);
    bool leaf_ok = step_leaf(g);
    identity_facts(g);
    g->chain_ok = root_ok && with_root == NVGPU_CHAIN_LEN && path_ok && leaf_ok;
    return g->chain_ok;
}

void nv_step_fwid(nv_gpu *g)
{
    const char *check = "cert_chain.fwid";
    cachet_rc rc = nvgpu_fwid_from_cert(g->chain[0], g->fwid);
    if (rc != CACHET_OK) {
        nv_fail(g, CACHET_EV_AUTH, check, NVGPU_SPEC_FWID, "%s", cachet_err_detail());
        return;
    }
    g->has_fwid = true;
    if (!g->rep.od.fwid) {
        nv_na(g, false, check, NVGPU_SPEC_FWID,
              "the report carries no FWID (older firmware); the leaf's FWID is not compared");
        return;
    }
    char exp[2 * NVGPU_FWID_LEN + 1], act[2 * NVGPU_FWID_LEN + 1];
    cachet_hex_encode(g->fwid, NVGPU_FWID_LEN, exp);
    cachet_hex_encode(g->rep.od.fwid, NVGPU_FWID_LEN, act);
    /* expected: the certificate's FWID; actual: the report's opaque FWID. */
    nv_compare(g, CACHET_EV_AUTH, check, NVGPU_SPEC_FWID " leaf FWID == opaque FWID", exp, act);
}

void nv_step_chain_ocsp(nv_gpu *g)
{
    const char *check = "cert_chain.ocsp";
    nv_run *r = g->run;
    if (nvgpu_ocsp_count(r->ocsp) == 0 || g->path.depth != NVGPU_CHAIN_LEN) {
        snprintf(g->ocsp.status, sizeof g->ocsp.status, "not-checked");
        nv_na(g, true, check, NVGPU_SPEC_OCSP,
              "no OCSP response among the endorsements: revocation of the GPU's certificates "
              "not checked");
        return;
    }
    /* BROM, provisioner ICA and identity CA (indices 1..depth-2). */
    nvgpu_ocsp_check_path(r->ctx, r->ocsp, g->path.path, g->path.depth, 1, g->path.depth - 1,
                          r->req->time, &g->ocsp);
    if (g->ocsp.failed)
        nv_fail(g, CACHET_EV_AUTH, check, NVGPU_SPEC_OCSP, "%s: %s", g->ocsp.status,
                g->ocsp.detail);
    else if (g->ocsp.missing)
        nv_na(g, true, check, NVGPU_SPEC_OCSP, "%zu of %zu certificates without OCSP data: %s",
              g->ocsp.missing, g->ocsp.wanted, g->ocsp.detail);
    else
        nv_pass(g, check, NVGPU_SPEC_OCSP, "good for all %zu certificates above the leaf",
                g->ocsp.good);
}
