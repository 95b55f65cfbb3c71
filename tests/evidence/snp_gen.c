/* snp_gen: see snp_gen.h. */
#include "snp_gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/reader.h"
#include "evidence/registry.h"

/* ---- reports ---------------------------------------------------------------- */

uint64_t snpgen_default_tcb(snp_product p)
{
    snp_tcb t;
    memset(&t, 0, sizeof t);
    t.fmc = snp_product_turin_layout(p) ? 1 : 0;
    t.bootloader = 4;
    t.tee = 0;
    t.snp = 24;
    t.microcode = 219;
    return snp_tcb_encode(&t, p);
}

void snpgen_report_default(snpgen_report *r, snp_product p)
{
    memset(r, 0, sizeof *r);
    r->version = snp_product_turin_layout(p) ? 5 : 3;
    r->policy = 0x30000;
    r->sig_algo = 1;
    uint64_t tcb = snpgen_default_tcb(p);
    r->current_tcb = r->reported_tcb = r->committed_tcb = r->launch_tcb = tcb;
    r->platform_info = 0x25;
    r->signer_info = SNP_KEY_VCEK << SNP_SIGNER_KEY_SHIFT;
    r->report_data[0] = 1;
    r->report_data[1] = 2;
    r->report_data[2] = 3;
    memset(r->measurement, 0xA5, sizeof r->measurement);
    memset(r->report_id, 0x5A, sizeof r->report_id);
    memset(r->report_id_ma, 0xFF, sizeof r->report_id_ma);
    switch (p) {
    case SNP_PRODUCT_GENOA: r->cpuid_fam = 0x19; r->cpuid_mod = 0x11; r->cpuid_step = 1; break;
    case SNP_PRODUCT_TURIN: r->cpuid_fam = 0x1A; r->cpuid_mod = 0x02; r->cpuid_step = 1; break;
    default: r->cpuid_fam = 0x19; r->cpuid_mod = 0x01; r->cpuid_step = 1; break;
    }
    size_t n = snp_product_turin_layout(p) ? SNP_TURIN_CHIP_ID_LEN : SNP_CHIP_ID_LEN;
    for (size_t i = 0; i < n; i++)
        r->chip_id[i] = (uint8_t)(0x11 + i);
    r->current_major = r->committed_major = 1;
    r->current_minor = r->committed_minor = 55;
    r->current_build = r->committed_build = 29;
}

static uint8_t *put32(uint8_t *p, uint32_t v) { cachet_put_le32(p, v); return p + 4; }
static uint8_t *put64(uint8_t *p, uint64_t v) { cachet_put_le64(p, v); return p + 8; }
static uint8_t *putb(uint8_t *p, const void *b, size_t n) { memcpy(p, b, n); return p + n; }

void snpgen_encode(const snpgen_report *r, uint8_t out[SNP_REPORT_SIZE])
{
    memset(out, 0, SNP_REPORT_SIZE);
    uint8_t *p = out;
    p = put32(p, r->version);
    p = put32(p, r->guest_svn);
    p = put64(p, r->policy);
    p = putb(p, r->family_id, 16);
    p = putb(p, r->image_id, 16);
    p = put32(p, r->vmpl);
    p = put32(p, r->sig_algo);
    p = put64(p, r->current_tcb);
    p = put64(p, r->platform_info);
    p = put32(p, r->signer_info);
    p += 4;
    p = putb(p, r->report_data, 64);
    p = putb(p, r->measurement, 48);
    p = putb(p, r->host_data, 32);
    p = putb(p, r->id_key_digest, 48);
    p = putb(p, r->author_key_digest, 48);
    p = putb(p, r->report_id, 32);
    p = putb(p, r->report_id_ma, 32);
    p = put64(p, r->reported_tcb); /* 0x180 */
    out[0x188] = r->cpuid_fam;
    out[0x189] = r->cpuid_mod;
    out[0x18A] = r->cpuid_step;
    memcpy(out + 0x1A0, r->chip_id, 64);
    put64(out + 0x1E0, r->committed_tcb);
    out[0x1E8] = r->current_build;
    out[0x1E9] = r->current_minor;
    out[0x1EA] = r->current_major;
    out[0x1EC] = r->committed_build;
    out[0x1ED] = r->committed_minor;
    out[0x1EE] = r->committed_major;
    put64(out + 0x1F0, r->launch_tcb);
    put64(out + 0x1F8, r->launch_mit_vector);
    put64(out + 0x200, r->current_mit_vector);
    (void)p;
}

void snpgen_sign(uint8_t report[SNP_REPORT_SIZE], const cachet_pkey *key)
{
    uint8_t rs[2 * SNP_SIG_COMP_LEN];
    if (cachet_ecdsa_sign_raw(key, CACHET_HASH_SHA384, report, SNP_SIGNED_SIZE, rs,
                              SNP_SIG_COMP_LEN, CACHET_LITTLE_ENDIAN) != CACHET_OK) {
        fprintf(stderr, "snpgen_sign: %s\n", cachet_err_detail());
        abort();
    }
    memcpy(report + 0x2A0, rs, sizeof rs);
}

/* ---- certificates ------------------------------------------------------------- */

size_t snpgen_der_uint(uint8_t v, uint8_t *buf)
{
    buf[0] = 0x02;
    if (v & 0x80) {
        buf[1] = 2;
        buf[2] = 0;
        buf[3] = v;
        return 4;
    }
    buf[1] = 1;
    buf[2] = v;
    return 3;
}

#define MAX_EXTS 20

typedef struct ext_builder {
    testpki_ext ext[MAX_EXTS];
    uint8_t store[MAX_EXTS][300];
    char oids[MAX_EXTS][48];
    size_t n;
} ext_builder;

static void add_ext(ext_builder *b, const char *oid, const uint8_t *v, size_t len)
{
    if (b->n >= MAX_EXTS || len > sizeof b->store[0])
        abort();
    snprintf(b->oids[b->n], sizeof b->oids[0], "%s", oid);
    memcpy(b->store[b->n], v, len);
    b->ext[b->n] = (testpki_ext){ .oid = b->oids[b->n], .value = b->store[b->n], .len = len };
    b->n++;
}

static void add_uint(ext_builder *b, const char *oid, uint8_t v)
{
    uint8_t der[4];
    add_ext(b, oid, der, snpgen_der_uint(v, der));
}

static void add_spl(ext_builder *b, unsigned n, uint8_t v)
{
    char oid[48];
    snprintf(oid, sizeof oid, "%s%u", SNP_OID_SPL_PREFIX, n);
    add_uint(b, oid, v);
}

static void add_ia5(ext_builder *b, const char *oid, const char *s)
{
    uint8_t der[260];
    size_t n = strlen(s);
    if (n > 127)
        abort();
    der[0] = 0x16;
    der[1] = (uint8_t)n;
    memcpy(der + 2, s, n);
    add_ext(b, oid, der, n + 2);
}

static testpki_cert *mint_leaf(snp_product p, const testpki_cert *issuer, bool vlek,
                               const snpgen_leaf_opts *o)
{
    snpgen_leaf_opts d;
    memset(&d, 0, sizeof d);
    if (!o)
        o = &d;
    bool turin = snp_product_turin_layout(p);
    ext_builder *b = calloc(1, sizeof *b);
    if (!b)
        abort();

    int sv = o->has_struct_version ? o->struct_version : (turin ? 1 : 0);
    if (sv >= 0)
        add_uint(b, SNP_OID_STRUCT_VERSION, (uint8_t)sv);
    char name[64];
    if (o->product_name)
        snprintf(name, sizeof name, "%s", o->product_name);
    else
        snprintf(name, sizeof name, vlek ? "%s" : "%s-B0", snp_product_name(p));
    if (!o->omit_product_name)
        add_ia5(b, SNP_OID_PRODUCT_NAME, name);

    snp_tcb t = snp_tcb_decode(o->has_tcb ? o->tcb : snpgen_default_tcb(p), p);
    if (turin && !o->omit_fmc)
        add_spl(b, SNP_SPL_FMC, t.fmc);
    add_spl(b, SNP_SPL_BL, t.bootloader);
    add_spl(b, SNP_SPL_TEE, t.tee);
    if (!turin)
        add_spl(b, 4, t.reserved[0]);
    add_spl(b, 5, t.reserved[turin ? 0 : 1]);
    add_spl(b, 6, t.reserved[turin ? 1 : 2]);
    add_spl(b, 7, t.reserved[turin ? 2 : 3]);
    add_spl(b, SNP_SPL_SNP, t.snp);
    if (o->duplicate_snp_spl)
        add_spl(b, SNP_SPL_SNP, t.snp);
    add_spl(b, SNP_SPL_UCODE, t.microcode);

    if (!vlek && !o->omit_hwid) {
        uint8_t def[64];
        snpgen_report r;
        snpgen_report_default(&r, p);
        memcpy(def, r.chip_id, 64);
        const uint8_t *hw = o->hwid ? o->hwid : def;
        size_t hl = o->hwid ? o->hwid_len : (turin ? SNP_TURIN_CHIP_ID_LEN : SNP_CHIP_ID_LEN);
        if (o->hwid_octet_string) {
            uint8_t w[2 + 64];
            w[0] = 0x04;
            w[1] = (uint8_t)hl;
            memcpy(w + 2, hw, hl);
            add_ext(b, SNP_OID_HWID, w, hl + 2);
        } else {
            add_ext(b, SNP_OID_HWID, hw, hl);
        }
    }
    if (vlek || o->add_csp_to_vcek)
        add_ia5(b, SNP_OID_CSP_ID, o->csp_id ? o->csp_id : "CN=cachet-test-csp");

    static const uint8_t zero = 0;
    testpki_cert_opts co = {
        .cn = vlek ? "SEV-VLEK" : "SEV-VCEK",
        .org = "Advanced Micro Devices",
        .key = o->p256_key ? TESTPKI_KEY_P256 : TESTPKI_KEY_P384,
        .not_before = SNPGEN_NOT_BEFORE,
        .not_after = SNPGEN_NOT_AFTER,
        .serial = &zero,
        .serial_len = 1,
        .no_akid = true,
        .no_key_usage = true,
        .sig_hash = CACHET_HASH_SHA384,
        .exts = b->ext,
        .n_exts = b->n,
    };
    testpki_cert *c = testpki_mint(&co, issuer);
    free(b);
    return c;
}

testpki_cert *snpgen_mint_leaf(const snpgen_pki *k, bool vlek, const snpgen_leaf_opts *o)
{
    return mint_leaf(k->product, vlek ? k->asvk : k->ask, vlek, o);
}

static testpki_cert *mint_ca(const char *cn, const testpki_cert *issuer)
{
    testpki_cert_opts co = {
        .cn = cn,
        .org = "Advanced Micro Devices",
        .key = TESTPKI_KEY_P384,
        .not_before = SNPGEN_NOT_BEFORE,
        .not_after = SNPGEN_NOT_AFTER,
        .ca = true,
        .sig_hash = CACHET_HASH_SHA384,
    };
    return testpki_mint(&co, issuer);
}

void snpgen_pki_free(snpgen_pki *k)
{
    if (!k)
        return;
    for (int i = 0; i < SNP_PRODUCT__COUNT; i++) {
        cachet_x509_free(k->trust.products[i].ark);
        cachet_x509_free(k->trust.products[i].ask);
        cachet_x509_free(k->trust.products[i].asvk);
    }
    testpki_free(k->vcek);
    testpki_free(k->vlek);
    testpki_free(k->ask);
    testpki_free(k->asvk);
    testpki_free(k->ark);
    free(k);
}

snpgen_pki *snpgen_pki_new(snp_product p, const snpgen_leaf_opts *vcek,
                           const snpgen_leaf_opts *vlek)
{
    snpgen_pki *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    char cn[32];
    k->product = p;
    snprintf(cn, sizeof cn, "ARK-%s", snp_product_name(p));
    k->ark = mint_ca(cn, NULL);
    snprintf(cn, sizeof cn, "SEV-%s", snp_product_name(p));
    k->ask = k->ark ? mint_ca(cn, k->ark) : NULL;
    snprintf(cn, sizeof cn, "SEV-VLEK-%s", snp_product_name(p));
    k->asvk = k->ark ? mint_ca(cn, k->ark) : NULL;
    k->vcek = k->ask ? mint_leaf(p, k->ask, false, vcek) : NULL;
    k->vlek = k->asvk ? mint_leaf(p, k->asvk, true, vlek) : NULL;
    if (!k->vcek || !k->vlek) {
        snpgen_pki_free(k);
        return NULL;
    }
    k->trust.products[p].ark = testpki_x509(k->ark);
    k->trust.products[p].ask = testpki_x509(k->ask);
    k->trust.products[p].asvk = testpki_x509(k->asvk);
    k->ops = cachet_snp_ops;
    k->ops.config = &k->trust;
    return k;
}

cachet_endorsements *snpgen_endorse(const testpki_cert *const *certs, size_t n)
{
    cachet_endorsements *e = cachet_endorsements_new();
    for (size_t i = 0; e && i < n; i++) {
        size_t len = 0;
        const uint8_t *der = testpki_der(certs[i], &len);
        char name[48];
        snprintf(name, sizeof name, "generated-%zu.der", i);
        if (cachet_endorsements_add_bytes(e, name, der, len) != CACHET_OK) {
            cachet_endorsements_free(e);
            return NULL;
        }
    }
    return e;
}
