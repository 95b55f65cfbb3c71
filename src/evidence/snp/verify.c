/* SEV-SNP verification procedure (evidence-formats §1.9):
 *
 *   structure → signing key → VCEK/VLEK and its extensions → product
 *   (report CPUID × productName) → chain to the built-in ARK for that
 *   product → AMD CRL for the ASK/ASVK → report signature → certificate
 *   TCB == REPORTED_TCB, hwID == CHIP_ID → TCB relations → guest policy
 *   → REPORT_DATA against the nonce.
 *
 * Every step records a check; a step that cannot run because an earlier one
 * failed is recorded as not applicable with the reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/clock.h"
#include "cachet/encoding.h"
#include "evidence/family.h"
#include "evidence/snp/snp.h"

typedef struct snp_run {
    cachet_ev_ctx *ctx;
    const cachet_verify_request *req;
    const snp_trust *trust;
    snp_report rep;
    unsigned key_kind;
    snp_product report_product; /* from CPUID (v3+) */
    snp_product product;        /* decided */
    const cachet_x509 *leaf;
    size_t leaf_src;
    snp_vcek_info info;
    bool info_ok;
    cachet_chain_result chain;  /* path when verified now (not on a cache hit) */
    const cachet_x509 *issuer;  /* ASK/ASVK of the verified path */
    bool auth_ok;               /* no authenticity step failed or was skipped */
} snp_run;

static const char *key_name(unsigned k)
{
    return k == SNP_KEY_VCEK ? "VCEK" : k == SNP_KEY_VLEK ? "VLEK" : "none";
}

static const char *leaf_cn(unsigned k) { return k == SNP_KEY_VLEK ? "SEV-VLEK" : "SEV-VCEK"; }

static bool all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

static void skip(snp_run *s, const char *id, const char *spec, const char *why)
{
    cachet_ev_na(s->ctx, false, id, spec, "not checked: %s", why);
    s->auth_ok = false;
}

/* ---- 1. structure ------------------------------------------------------------ */

static bool step_parse(snp_run *s)
{
    static const struct { snp_parse_stage st; const char *spec; } stages[] = {
        { SNP_PARSE_SIZE, SNP_SPEC_REPORT },
        { SNP_PARSE_VERSION, SNP_SPEC_REPORT },
        { SNP_PARSE_SIG_ALGO, SNP_SPEC_REPORT },
        { SNP_PARSE_RESERVED, SNP_SPEC_REPORT },
        { SNP_PARSE_POLICY, SNP_SPEC_POLICY },
        { SNP_PARSE_SIGNER, SNP_SPEC_REPORT },
        { SNP_PARSE_PLATFORM, SNP_SPEC_PLATFORM },
    };
    snp_parse_stage failed = SNP_PARSE_OK;
    cachet_rc rc = snp_report_parse(s->req->evidence, s->req->evidence_len, &s->rep, &failed);
    for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++) {
        const char *id = snp_parse_stage_check(stages[i].st);
        if (rc != CACHET_OK && stages[i].st == failed) {
            cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, stages[i].spec, "%s",
                           cachet_err_detail());
            return false;
        }
        switch (stages[i].st) {
        case SNP_PARSE_SIZE:
            cachet_ev_pass(s->ctx, id, stages[i].spec, "%u bytes", SNP_REPORT_SIZE);
            break;
        case SNP_PARSE_VERSION:
            cachet_ev_pass(s->ctx, id, stages[i].spec, "version %u", s->rep.version);
            break;
        case SNP_PARSE_SIG_ALGO:
            cachet_ev_pass(s->ctx, id, stages[i].spec, "ECDSA P-384 with SHA-384");
            break;
        case SNP_PARSE_RESERVED:
            cachet_ev_pass(s->ctx, id, stages[i].spec, "every reserved range of a v%u report is zero",
                           s->rep.version);
            break;
        case SNP_PARSE_POLICY:
            cachet_ev_pass(s->ctx, id, stages[i].spec,
                           "0x%016llx: bit 17 set, bits 63:26 clear",
                           (unsigned long long)s->rep.policy);
            break;
        case SNP_PARSE_SIGNER:
            cachet_ev_pass(s->ctx, id, stages[i].spec, "0x%08x: bits 31:5 clear",
                           s->rep.signer_info);
            break;
        case SNP_PARSE_PLATFORM:
            cachet_ev_pass(s->ctx, id, stages[i].spec, "0x%016llx: reserved bits clear",
                           (unsigned long long)s->rep.platform_info);
            break;
        default:
            break;
        }
    }
    return true;
}

/* ---- 2. signing key and VMPL ------------------------------------------------ */

static bool step_signing_key(snp_run *s)
{
    const char *id = "snp.report.signing_key";
    s->key_kind = snp_report_signing_key(&s->rep);
    if (s->rep.signer_info & SNP_SIGNER_MASK_CHIP_KEY) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, SNP_SPEC_REPORT,
                       "MASK_CHIP_KEY is set: the firmware wrote no signature");
        return false;
    }
    if (s->key_kind == SNP_KEY_NONE) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, SNP_SPEC_REPORT,
                       "SIGNING_KEY is 7: the report is unsigned");
        return false;
    }
    if (s->key_kind != SNP_KEY_VCEK && s->key_kind != SNP_KEY_VLEK) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, SNP_SPEC_REPORT,
                       "SIGNING_KEY %u is reserved", s->key_kind);
        return false;
    }
    cachet_ev_pass(s->ctx, id, SNP_SPEC_REPORT, "signed with the %s", key_name(s->key_kind));
    return true;
}

static void step_vmpl(snp_run *s)
{
    const char *id = "snp.report.vmpl";
    if (s->rep.vmpl <= 3)
        cachet_ev_pass(s->ctx, id, SNP_SPEC_REPORT, "requested at VMPL %u", s->rep.vmpl);
    else
        cachet_ev_fail(s->ctx, CACHET_EV_CONTENT, id, SNP_SPEC_REPORT,
                       "VMPL 0x%x is not a guest privilege level (0-3): not requested by the guest",
                       s->rep.vmpl);
}

/* ---- 3. the VCEK / VLEK ------------------------------------------------------ */

static bool is_amd_ca_cn(const char *cn)
{
    return strncmp(cn, "SEV-", 4) == 0 || strncmp(cn, "ARK-", 4) == 0;
}

/* How well a candidate certificate fits the report (higher is better). */
static int leaf_score(snp_run *s, const cachet_x509 *c)
{
    snp_vcek_info info;
    if (snp_vcek_info_from_cert(c, &info) != CACHET_OK)
        return 0;
    int score = 1;
    snp_product p = s->report_product != SNP_PRODUCT_UNKNOWN
                        ? s->report_product : snp_product_from_name(info.product_name);
    uint64_t raw;
    if (p != SNP_PRODUCT_UNKNOWN && snp_vcek_tcb(&info, p, &raw) == CACHET_OK &&
        raw == s->rep.reported_tcb)
        score += 2;
    if (info.hwid_len && memcmp(info.hwid, s->rep.chip_id, info.hwid_len) == 0)
        score += 4;
    return score;
}

static bool step_find_leaf(snp_run *s)
{
    const char *id = "snp.vcek.present";
    const cachet_endorsements *e = s->req->endorsements;
    const char *want = leaf_cn(s->key_kind);
    size_t candidates = 0;
    int best = -1;
    /* Two passes: count the certificates named like the key, then (only when
     * there are several) pick the one that fits the report best. */
    for (int pass = 0; pass < 2 && best < 0; pass++) {
        for (size_t i = 0; i < cachet_endorsements_count(e); i++) {
            const cachet_endorsement *en = cachet_endorsements_get(e, i);
            if (en->kind != CACHET_ENDORSEMENT_CERTS)
                continue;
            for (size_t j = 0; j < en->n_certs; j++) {
                char cn[64];
                if (cachet_x509_subject_cn(en->certs[j], cn, sizeof cn) != CACHET_OK ||
                    strcmp(cn, want) != 0)
                    continue;
                if (pass == 0) {
                    candidates++;
                    s->leaf = en->certs[j];
                    s->leaf_src = i;
                    continue;
                }
                int sc = leaf_score(s, en->certs[j]);
                if (sc > best) {
                    best = sc;
                    s->leaf = en->certs[j];
                    s->leaf_src = i;
                }
            }
        }
        if (candidates <= 1)
            break;
    }
    if (!s->leaf) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, SNP_SPEC_VCEK,
                       "no %s certificate (CN=%s) among the endorsements: pass the one from the "
                       "host's certificate table or from AMD KDS",
                       key_name(s->key_kind), want);
        return false;
    }
    cachet_ev_mark_used(s->ctx, s->leaf_src);
    const cachet_endorsement *src = cachet_endorsements_get(e, s->leaf_src);
    cachet_ev_pass(s->ctx, id, SNP_SPEC_VCEK, "%s from %s%s", key_name(s->key_kind), src->name,
                   candidates > 1 ? " (best fit of several)" : "");
    return true;
}

static bool step_leaf_profile(snp_run *s)
{
    const char *id = "snp.vcek.extensions";
    cachet_rc rc = snp_vcek_info_from_cert(s->leaf, &s->info);
    if (rc != CACHET_OK) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, SNP_SPEC_VCEK, "%s", cachet_err_detail());
        return false;
    }
    if (s->key_kind == SNP_KEY_VCEK && s->info.hwid_len == 0) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, SNP_SPEC_VCEK,
                       "VCEK lacks the hwID extension (%s)", SNP_OID_HWID);
        return false;
    }
    if (s->key_kind == SNP_KEY_VLEK && (s->info.hwid_len || !s->info.has_csp_id)) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, SNP_SPEC_VCEK,
                       "a VLEK carries cspID and no hwID");
        return false;
    }
    s->info_ok = true;
    cachet_ev_pass(s->ctx, id, SNP_SPEC_VCEK, "productName %s, bl=%u tee=%u snp=%u ucode=%u%s",
                   s->info.product_name, s->info.spl[SNP_SPL_BL], s->info.spl[SNP_SPL_TEE],
                   s->info.spl[SNP_SPL_SNP], s->info.spl[SNP_SPL_UCODE],
                   s->info.hwid_len == SNP_TURIN_CHIP_ID_LEN ? ", 8-byte hwID" : "");

    id = "snp.vcek.key";
    cachet_pkey *pk = NULL;
    if (cachet_x509_public_key(s->leaf, &pk) != CACHET_OK || !cachet_pkey_is_ec(pk, CACHET_CURVE_P384)) {
        cachet_pkey_free(pk);
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, SNP_SPEC_VCEK,
                       "the %s public key is not an ECDSA P-384 key", key_name(s->key_kind));
        return false;
    }
    cachet_pkey_free(pk);
    cachet_ev_pass(s->ctx, id, SNP_SPEC_VCEK, "ECDSA P-384");
    return true;
}

/* ---- 4. product ---------------------------------------------------------------- */

static bool step_product(snp_run *s)
{
    const char *id = "snp.product";
    snp_product cert_p = snp_product_from_name(s->info.product_name);
    if (cert_p == SNP_PRODUCT_UNKNOWN) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, SNP_SPEC_VCEK,
                       "productName \"%s\" is not a known SNP product line", s->info.product_name);
        return false;
    }
    if (s->rep.version >= 3) {
        if (s->report_product == SNP_PRODUCT_UNKNOWN) {
            cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, SNP_SPEC_REPORT,
                           "report CPUID family %02xh model %02xh is not a known SNP product",
                           s->rep.cpuid_fam, s->rep.cpuid_mod);
            return false;
        }
        if (s->report_product != cert_p) {
            cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, SNP_SPEC_REPORT,
                           "report CPUID says %s (family %02xh model %02xh), the %s says %s",
                           snp_product_name(s->report_product), s->rep.cpuid_fam,
                           s->rep.cpuid_mod, key_name(s->key_kind), s->info.product_name);
            return false;
        }
    }
    /* structVersion names the TCB layout: 0 legacy, 1 Turin. */
    if (s->info.has_struct_version &&
        s->info.struct_version != (snp_product_turin_layout(cert_p) ? 1u : 0u)) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, SNP_SPEC_VCEK,
                       "structVersion %llu does not match the %s TCB layout",
                       (unsigned long long)s->info.struct_version, snp_product_name(cert_p));
        return false;
    }
    s->product = cert_p;
    if (s->rep.version >= 3)
        cachet_ev_pass(s->ctx, id, SNP_SPEC_REPORT,
                       "%s: report CPUID family %02xh model %02xh stepping %u; productName %s",
                       snp_product_name(cert_p), s->rep.cpuid_fam, s->rep.cpuid_mod,
                       s->rep.cpuid_step, s->info.product_name);
    else
        cachet_ev_pass(s->ctx, id, SNP_SPEC_VCEK,
                       "%s: a v2 report carries no CPUID; product from productName %s "
                       "(authenticated by the chain)",
                       snp_product_name(cert_p), s->info.product_name);
    return true;
}

/* ---- 5. chain ------------------------------------------------------------------- */

/* A root among the endorsements is never trusted; one that claims to be an
 * AMD ARK but is not the pinned one is an attempt to substitute the root. */
static void step_supplied_ark(snp_run *s)
{
    const char *id = "snp.chain.supplied_ark";
    const cachet_endorsements *e = s->req->endorsements;
    size_t seen = 0;
    for (size_t i = 0; i < cachet_endorsements_count(e); i++) {
        const cachet_endorsement *en = cachet_endorsements_get(e, i);
        if (en->kind != CACHET_ENDORSEMENT_CERTS)
            continue;
        for (size_t j = 0; j < en->n_certs; j++) {
            char cn[64];
            if (cachet_x509_subject_cn(en->certs[j], cn, sizeof cn) != CACHET_OK ||
                strncmp(cn, "ARK-", 4) != 0)
                continue;
            seen++;
            snp_product p = snp_product_from_name(cn + 4);
            const cachet_x509 *pin = p != SNP_PRODUCT_UNKNOWN ? s->trust->products[p].ark : NULL;
            uint8_t a[CACHET_SHA256_LEN], b[CACHET_SHA256_LEN];
            if (!pin || cachet_x509_fingerprint(en->certs[j], a) != CACHET_OK ||
                cachet_x509_fingerprint(pin, b) != CACHET_OK || memcmp(a, b, sizeof a) != 0) {
                cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, SNP_SPEC_CHAIN,
                               "%s carries a certificate named %s that is not AMD's pinned root",
                               en->name, cn);
                return;
            }
        }
    }
    if (seen)
        cachet_ev_pass(s->ctx, id, SNP_SPEC_CHAIN,
                       "%zu ARK certificate(s) among the endorsements, identical to the pins", seen);
    else
        cachet_ev_na(s->ctx, false, id, SNP_SPEC_CHAIN,
                     "no ARK among the endorsements; the built-in pin is the anchor");
}

static void note_trust_anchors(snp_run *s)
{
    if (s->req->n_trust_anchors == 0)
        return;
    cachet_ev_na(s->ctx, false, "snp.chain.trust_anchors", SNP_SPEC_CHAIN,
                 "%zu --trust-anchor certificate(s) not used: SNP chains end only at the "
                 "built-in AMD ARK for the product",
                 s->req->n_trust_anchors);
}

/* Intermediates offered to the path builder: the built-in ASK/ASVK and every
 * AMD-named certificate among the endorsements (all untrusted). */
static cachet_rc collect_intermediates(snp_run *s, cachet_x509 ***out, size_t *n)
{
    const cachet_endorsements *e = s->req->endorsements;
    const snp_product_roots *pr = &s->trust->products[s->product];
    size_t cap = 2;
    for (size_t i = 0; i < cachet_endorsements_count(e); i++)
        cap += cachet_endorsements_get(e, i)->n_certs;
    cachet_x509 **v = calloc(cap, sizeof *v);
    if (!v)
        return CACHET_RC(CACHET_SUB_EVIDENCE, CACHET_E_NOMEM);
    size_t k = 0;
    cachet_x509 *helper = s->key_kind == SNP_KEY_VLEK ? pr->asvk : pr->ask;
    if (helper)
        v[k++] = helper;
    for (size_t i = 0; i < cachet_endorsements_count(e); i++) {
        const cachet_endorsement *en = cachet_endorsements_get(e, i);
        if (en->kind != CACHET_ENDORSEMENT_CERTS)
            continue;
        bool used = false;
        for (size_t j = 0; j < en->n_certs; j++) {
            char cn[64];
            if (en->certs[j] == s->leaf ||
                cachet_x509_subject_cn(en->certs[j], cn, sizeof cn) != CACHET_OK ||
                !is_amd_ca_cn(cn))
                continue;
            v[k++] = en->certs[j];
            used = true;
        }
        if (used)
            cachet_ev_mark_used(s->ctx, i);
    }
    *out = v;
    *n = k;
    return CACHET_OK;
}

static bool chain_cache_key(snp_run *s, uint8_t key[32])
{
    const uint8_t *der;
    size_t der_len;
    uint8_t fp[CACHET_SHA256_LEN];
    uint8_t tag[2] = { (uint8_t)s->product, (uint8_t)s->key_kind };
    static const char label[] = "cachet/snp/chain/v1";
    if (!s->req->cache || cachet_x509_der(s->leaf, &der, &der_len) != CACHET_OK ||
        cachet_x509_fingerprint(s->trust->products[s->product].ark, fp) != CACHET_OK)
        return false;
    cachet_hash_ctx *h = cachet_hash_new(CACHET_HASH_SHA256);
    bool ok = h && cachet_hash_update(h, label, sizeof label) == CACHET_OK &&
              cachet_hash_update(h, tag, sizeof tag) == CACHET_OK &&
              cachet_hash_update(h, fp, sizeof fp) == CACHET_OK &&
              cachet_hash_update(h, der, der_len) == CACHET_OK &&
              cachet_hash_final(h, key) == CACHET_OK;
    cachet_hash_free(h);
    return ok;
}

/* Any CRL at all disables the cache for this verification: the ASK/ASVK
 * must then come from a freshly verified path to be looked up. */
static bool crls_apply(snp_run *s)
{
    const cachet_endorsements *e = s->req->endorsements;
    for (size_t i = 0; i < cachet_endorsements_count(e); i++)
        if (cachet_endorsements_get(e, i)->kind == CACHET_ENDORSEMENT_CRL)
            return true;
    return false;
}

static bool check_path_names(snp_run *s)
{
    const char *id = "snp.chain.ark";
    const snp_product_roots *pr = &s->trust->products[s->product];
    const char *pname = snp_product_name(s->product);
    char want_ca[32], got_ca[64] = "", got_root[64] = "";
    snprintf(want_ca, sizeof want_ca, s->key_kind == SNP_KEY_VLEK ? "SEV-VLEK-%s" : "SEV-%s", pname);
    uint8_t a[CACHET_SHA256_LEN], b[CACHET_SHA256_LEN];
    if (s->chain.depth != 3 ||
        cachet_x509_subject_cn(s->chain.path[1], got_ca, sizeof got_ca) != CACHET_OK ||
        cachet_x509_subject_cn(s->chain.path[2], got_root, sizeof got_root) != CACHET_OK) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, SNP_SPEC_CHAIN,
                       "path has %zu certificates; an AMD chain is %s -> %s -> ARK-%s",
                       s->chain.depth, leaf_cn(s->key_kind), want_ca, pname);
        return false;
    }
    if (strcmp(got_ca, want_ca) != 0) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, SNP_SPEC_CHAIN,
                       "the %s was issued by %s, expected %s", key_name(s->key_kind), got_ca,
                       want_ca);
        return false;
    }
    if (cachet_x509_fingerprint(s->chain.path[2], a) != CACHET_OK ||
        cachet_x509_fingerprint(pr->ark, b) != CACHET_OK || memcmp(a, b, sizeof a) != 0) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, SNP_SPEC_CHAIN,
                       "the path ends at %s, not at the pinned ARK-%s", got_root, pname);
        return false;
    }
    char hex[2 * CACHET_SHA256_LEN + 1];
    cachet_hex_encode(a, sizeof a, hex);
    cachet_ev_pass(s->ctx, id, SNP_SPEC_CHAIN, "%s -> %s -> %s (pinned, sha256 %s)",
                   leaf_cn(s->key_kind), got_ca, got_root, hex);
    s->issuer = s->chain.path[1];
    return true;
}

static void path_window(const cachet_chain_result *res, int64_t *nb, int64_t *na)
{
    *nb = INT64_MIN;
    *na = INT64_MAX;
    for (size_t i = 0; i < res->depth; i++) {
        int64_t b, a;
        if (cachet_x509_validity(res->path[i], &b, &a) != CACHET_OK) {
            *nb = INT64_MAX; /* an empty window: never a hit */
            *na = INT64_MIN;
            return;
        }
        if (b > *nb)
            *nb = b;
        if (a < *na)
            *na = a;
    }
}

static bool step_chain(snp_run *s)
{
    const char *id = "snp.chain";
    const snp_product_roots *pr = &s->trust->products[s->product];
    char when[21];
    cachet_time_format_rfc3339(s->req->time, when);
    if (!pr->ark) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, SNP_SPEC_CHAIN,
                       "no pinned ARK for %s", snp_product_name(s->product));
        skip(s, "snp.chain.ark", SNP_SPEC_CHAIN, "no chain");
        return false;
    }

    uint8_t key[32];
    bool use_cache = !crls_apply(s) && chain_cache_key(s, key);
    if (use_cache && cachet_ev_cache_lookup(s->req->cache, key, s->req->time, NULL, NULL)) {
        cachet_ev_pass(s->ctx, id, SNP_SPEC_CHAIN,
                       "%s chains to the pinned ARK-%s at %s (verified earlier, cached)",
                       key_name(s->key_kind), snp_product_name(s->product), when);
        cachet_ev_pass(s->ctx, "snp.chain.ark", SNP_SPEC_CHAIN, "pinned ARK-%s (cached path)",
                       snp_product_name(s->product));
        return true;
    }

    cachet_x509 **inter = NULL;
    size_t n_inter = 0;
    if (collect_intermediates(s, &inter, &n_inter) != CACHET_OK) {
        cachet_ev_internal_error(s->ctx, "snp: out of memory");
        return false;
    }
    cachet_x509 *roots[1] = { pr->ark };
    cachet_chain_params p = {
        .leaf = s->leaf,
        .intermediates = inter,
        .n_intermediates = n_inter,
        .roots = roots,
        .n_roots = 1,
        .time = s->req->time,
        /* No strict mode: AMD VCEKs have no AKID (evidence-formats §0.3). */
        .flags = CACHET_CHAIN_DEFAULT,
    };
    cachet_rc rc = cachet_x509_verify_chain(&p, &s->chain);
    free(inter);
    if (rc != CACHET_OK) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, SNP_SPEC_CHAIN,
                       "%s does not chain to the pinned ARK-%s at %s: %s", key_name(s->key_kind),
                       snp_product_name(s->product), when,
                       s->chain.error_str[0] ? s->chain.error_str : cachet_err_detail());
        skip(s, "snp.chain.ark", SNP_SPEC_CHAIN, "no verified path");
        return false;
    }
    cachet_ev_pass(s->ctx, id, SNP_SPEC_CHAIN, "%s chains to the pinned ARK-%s at %s",
                   key_name(s->key_kind), snp_product_name(s->product), when);
    if (!check_path_names(s))
        return false;
    if (s->req->cache && chain_cache_key(s, key)) {
        int64_t nb, na;
        path_window(&s->chain, &nb, &na);
        cachet_ev_cache_store(s->req->cache, key, nb, na, NULL, 0);
    }
    return true;
}

/* ---- 6. revocation --------------------------------------------------------------- */

static bool step_crl(snp_run *s)
{
    const char *id = "snp.crl";
    const cachet_endorsements *e = s->req->endorsements;
    const cachet_x509 *ark = s->trust->products[s->product].ark;
    const char *ca = s->key_kind == SNP_KEY_VLEK ? "ASVK" : "ASK";
    size_t checked = 0;
    for (size_t i = 0; i < cachet_endorsements_count(e); i++) {
        const cachet_endorsement *en = cachet_endorsements_get(e, i);
        if (en->kind != CACHET_ENDORSEMENT_CRL)
            continue;
        /* A CRL naming another issuer is not AMD's for this product (left
         * unused); one naming the ARK must verify under it, be current, and
         * not list the ASK/ASVK: a forged or stale AMD CRL fails closed. */
        cachet_rc rc = cachet_crl_verify(en->crl, ark, s->req->time);
        if (cachet_rc_code(rc) == CACHET_E_MISMATCH)
            continue;
        cachet_ev_mark_used(s->ctx, i);
        if (rc != CACHET_OK) {
            cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, SNP_SPEC_CRL,
                           "CRL %s names ARK-%s but is not valid at this time: %s", en->name,
                           snp_product_name(s->product), cachet_err_detail());
            return false;
        }
        if (!s->issuer) {
            cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, SNP_SPEC_CRL,
                           "no verified %s to look up in the CRL", ca);
            return false;
        }
        if (cachet_crl_is_revoked(en->crl, s->issuer)) {
            cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, SNP_SPEC_CRL,
                           "the %s that issued this %s is revoked by AMD's CRL (%s)", ca,
                           key_name(s->key_kind), en->name);
            return false;
        }
        checked++;
    }
    if (checked == 0) {
        cachet_ev_na(s->ctx, true, id, SNP_SPEC_CRL,
                     "no CRL from ARK-%s among the endorsements: revocation of the %s not checked",
                     snp_product_name(s->product), ca);
        return true;
    }
    cachet_ev_pass(s->ctx, id, SNP_SPEC_CRL, "the %s is not revoked (%zu valid CRL%s from ARK-%s)",
                   ca, checked, checked > 1 ? "s" : "", snp_product_name(s->product));
    return true;
}

/* ---- 7. signature ---------------------------------------------------------------- */

static bool step_signature(snp_run *s)
{
    const char *id = "snp.report.signature";
    cachet_pkey *pk = NULL;
    if (cachet_x509_public_key(s->leaf, &pk) != CACHET_OK) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, SNP_SPEC_SIGNATURE,
                       "cannot read the %s public key", key_name(s->key_kind));
        return false;
    }
    cachet_rc rc = cachet_ecdsa_verify_raw(pk, CACHET_HASH_SHA384, s->rep.bytes, SNP_SIGNED_SIZE,
                                           s->rep.sig_r, SNP_SIG_COMP_LEN, CACHET_LITTLE_ENDIAN);
    cachet_pkey_free(pk);
    if (rc != CACHET_OK) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, SNP_SPEC_SIGNATURE,
                       "the signature over bytes 0x000-0x29f does not verify with the %s",
                       key_name(s->key_kind));
        return false;
    }
    cachet_ev_pass(s->ctx, id, SNP_SPEC_SIGNATURE,
                   "ECDSA P-384/SHA-384 over bytes 0x000-0x29f verifies with the %s",
                   key_name(s->key_kind));
    return true;
}

/* ---- 8. certificate binding: TCB and hwID ------------------------------------------ */

static void render_tcb(uint64_t raw, snp_product p, char *buf, size_t cap)
{
    char parts[64];
    snp_tcb t = snp_tcb_decode(raw, p);
    snp_tcb_format(&t, snp_product_turin_layout(p), parts, sizeof parts);
    snprintf(buf, cap, "%s (%016llx)", parts, (unsigned long long)raw);
}

static bool step_cert_tcb(snp_run *s)
{
    const char *id = "snp.vcek.tcb";
    uint64_t cert_raw = 0;
    if (snp_vcek_tcb(&s->info, s->product, &cert_raw) != CACHET_OK) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, SNP_SPEC_VCEK, "%s", cachet_err_detail());
        return false;
    }
    char exp[96], act[96];
    render_tcb(s->rep.reported_tcb, s->product, exp, sizeof exp);
    render_tcb(cert_raw, s->product, act, sizeof act);
    /* expected: the report's REPORTED_TCB; actual: the certificate's SPLs. */
    return cachet_ev_compare(s->ctx, CACHET_EV_AUTH, id, SNP_SPEC_VCEK " TCB == REPORTED_TCB",
                             exp, act);
}

static bool step_hwid(snp_run *s)
{
    const char *id = "snp.vcek.hwid";
    if (s->key_kind == SNP_KEY_VLEK) {
        cachet_ev_na(s->ctx, false, id, SNP_SPEC_VCEK,
                     "a VLEK is not chip-specific (cspID \"%s\")", s->info.csp_id);
        return true;
    }
    if (all_zero(s->rep.chip_id, SNP_CHIP_ID_LEN)) {
        cachet_ev_na(s->ctx, true, id, SNP_SPEC_VCEK,
                     "CHIP_ID is masked (all zero): the VCEK's hwID cannot be compared");
        return true;
    }
    size_t n = s->info.hwid_len;
    char *exp = cachet_hex_string(s->rep.chip_id, n == SNP_TURIN_CHIP_ID_LEN ? n : SNP_CHIP_ID_LEN);
    char *act = cachet_hex_string(s->info.hwid, n);
    if (!exp || !act) {
        free(exp);
        free(act);
        cachet_ev_internal_error(s->ctx, "snp: out of memory");
        return false;
    }
    bool ok;
    if (n == SNP_TURIN_CHIP_ID_LEN && !all_zero(s->rep.chip_id + n, SNP_CHIP_ID_LEN - n)) {
        cachet_ev_fail(s->ctx, CACHET_EV_AUTH, id, SNP_SPEC_VCEK,
                       "the VCEK has an 8-byte hwID but CHIP_ID has non-zero bytes after byte 8");
        ok = false;
    } else {
        ok = cachet_ev_compare(s->ctx, CACHET_EV_AUTH, id, SNP_SPEC_VCEK " hwID == CHIP_ID", exp,
                               act);
    }
    free(exp);
    free(act);
    return ok;
}

/* ---- 9. TCB relations (content) ----------------------------------------------------- */

static void step_tcb_relations(snp_run *s)
{
    snp_product p = s->product;
    bool turin = snp_product_turin_layout(p);
    snp_tcb reported = snp_tcb_decode(s->rep.reported_tcb, p);
    snp_tcb current = snp_tcb_decode(s->rep.current_tcb, p);
    snp_tcb committed = snp_tcb_decode(s->rep.committed_tcb, p);
    char a[64], b[64];

    snp_tcb_format(&reported, turin, a, sizeof a);
    snp_tcb_format(&current, turin, b, sizeof b);
    if (snp_tcb_le(&reported, &current, turin))
        cachet_ev_pass(s->ctx, "snp.tcb.reported", SNP_SPEC_TCB,
                       "REPORTED_TCB %s <= CURRENT_TCB %s", a, b);
    else
        cachet_ev_fail(s->ctx, CACHET_EV_CONTENT, "snp.tcb.reported", SNP_SPEC_TCB,
                       "REPORTED_TCB %s exceeds CURRENT_TCB %s in some component", a, b);

    snp_tcb_format(&committed, turin, a, sizeof a);
    if (!snp_tcb_le(&committed, &current, turin)) {
        cachet_ev_fail(s->ctx, CACHET_EV_CONTENT, "snp.tcb.committed", SNP_SPEC_TCB,
                       "COMMITTED_TCB %s exceeds CURRENT_TCB %s in some component", a, b);
    } else if (!snp_tcb_eq(&committed, &current, turin)) {
        cachet_ev_pass(s->ctx, "snp.tcb.committed", SNP_SPEC_TCB,
                       "COMMITTED_TCB %s < CURRENT_TCB %s: provisional firmware", a, b);
        cachet_ev_warn(s->ctx, "snp.tcb.committed: provisional firmware (COMMITTED_TCB < CURRENT_TCB)");
    } else {
        cachet_ev_pass(s->ctx, "snp.tcb.committed", SNP_SPEC_TCB, "COMMITTED_TCB == CURRENT_TCB");
    }

    /* There is no AMD TCB table to rank against offline: "UpToDate" means the
     * VCEK's TCB is the TCB the firmware runs and has committed; a policy's
     * minimum TCB (issue #7) decides whether that is recent enough. */
    bool up = snp_tcb_eq(&reported, &current, turin) && snp_tcb_eq(&committed, &current, turin);
    cachet_ev_claim_str(s->ctx, NULL, "tcb_status", up ? "UpToDate" : "OutOfDate");
    if (!up)
        cachet_ev_warn(s->ctx, "tcb_status: OutOfDate (REPORTED_TCB or COMMITTED_TCB below CURRENT_TCB)");
}

/* ---- 10. guest policy and freshness (content) ---------------------------------------- */

static void step_policy(snp_run *s)
{
    if (s->rep.policy & SNP_POLICY_DEBUG)
        cachet_ev_fail(s->ctx, CACHET_EV_CONTENT, "snp.policy.debug", SNP_SPEC_POLICY,
                       "POLICY bit 19 (DEBUG) is set: the host may decrypt guest memory");
    else
        cachet_ev_pass(s->ctx, "snp.policy.debug", SNP_SPEC_POLICY, "debugging not allowed");
}

static void step_nonce(snp_run *s)
{
    const char *id = "snp.report_data.nonce";
    const char *spec = SNP_SPEC_REPORT " REPORT_DATA";
    if (!s->req->nonce) {
        cachet_ev_na(s->ctx, false, id, spec, "no nonce given: freshness not checked");
        cachet_ev_claim_str(s->ctx, NULL, "freshness", "not-checked");
        return;
    }
    if (s->req->nonce_len > SNP_REPORT_DATA_LEN) {
        cachet_ev_fail(s->ctx, CACHET_EV_CONTENT, id, spec,
                       "nonce is %zu bytes; REPORT_DATA holds %u", s->req->nonce_len,
                       SNP_REPORT_DATA_LEN);
        cachet_ev_claim_str(s->ctx, NULL, "freshness", "mismatch");
        return;
    }
    /* Shorter nonces are zero-padded, as the key-broker protocol does, and all
     * 64 bytes are compared. */
    uint8_t want[SNP_REPORT_DATA_LEN] = { 0 };
    memcpy(want, s->req->nonce, s->req->nonce_len);
    char *exp = cachet_hex_string(want, sizeof want);
    char *act = cachet_hex_string(s->rep.report_data, SNP_REPORT_DATA_LEN);
    if (!exp || !act) {
        cachet_ev_internal_error(s->ctx, "snp: out of memory");
    } else {
        bool ok = cachet_ev_compare(s->ctx, CACHET_EV_CONTENT, id, spec, exp, act);
        cachet_ev_claim_str(s->ctx, NULL, "freshness", ok ? "nonce-matched" : "mismatch");
    }
    free(exp);
    free(act);
}

/* ---- the procedure ----------------------------------------------------------------- */

static void run_authenticity(snp_run *s)
{
    if (!step_find_leaf(s)) {
        skip(s, "snp.chain", SNP_SPEC_CHAIN, "no certificate");
        skip(s, "snp.report.signature", SNP_SPEC_SIGNATURE, "no certificate");
        return;
    }
    if (!step_leaf_profile(s) || !step_product(s)) {
        skip(s, "snp.chain", SNP_SPEC_CHAIN, "unusable certificate");
        skip(s, "snp.report.signature", SNP_SPEC_SIGNATURE, "unusable certificate");
        return;
    }
    step_supplied_ark(s);
    note_trust_anchors(s);
    bool chained = step_chain(s);
    if (chained)
        step_crl(s);
    else
        skip(s, "snp.crl", SNP_SPEC_CRL, "no verified chain");
    bool signed_ok = step_signature(s);
    bool tcb_ok = step_cert_tcb(s);
    bool hw_ok = step_hwid(s);
    if (chained && signed_ok && tcb_ok && hw_ok && s->auth_ok)
        cachet_ev_authentic(s->ctx);
}

cachet_rc snp_verify(const cachet_evidence_ops *self, const cachet_verify_request *req,
                     cachet_ev_ctx *ctx)
{
    snp_run s;
    memset(&s, 0, sizeof s);
    s.ctx = ctx;
    s.req = req;
    s.auth_ok = true;
    s.trust = self && self->config ? (const snp_trust *)self->config : snp_trust_builtin();
    if (!s.trust) {
        cachet_ev_internal_error(ctx, "snp: the built-in AMD roots do not load");
        return CACHET_OK;
    }

    if (!step_parse(&s))
        return CACHET_OK; /* nothing trustworthy to report on */
    s.report_product = s.rep.version >= 3
                           ? snp_product_from_cpuid(s.rep.cpuid_fam, s.rep.cpuid_mod)
                           : SNP_PRODUCT_UNKNOWN;
    s.product = s.report_product;

    if (step_signing_key(&s))
        run_authenticity(&s);
    else
        skip(&s, "snp.report.signature", SNP_SPEC_SIGNATURE, "no usable signing key");
    step_vmpl(&s);

    /* Claims in the layout of the product decided above (unknown: raw only). */
    snp_report_claims(ctx, &s.rep, s.product);
    if (s.info_ok && s.info.has_csp_id)
        cachet_ev_claim_str(ctx, NULL, "csp_id", s.info.csp_id);
    if (s.product != SNP_PRODUCT_UNKNOWN)
        step_tcb_relations(&s);
    else
        cachet_ev_na(ctx, false, "snp.tcb.reported", SNP_SPEC_TCB,
                     "product unknown: the TCB layout cannot be decided");
    step_policy(&s);
    step_nonce(&s);
    cachet_chain_result_clear(&s.chain);
    return CACHET_OK;
}
