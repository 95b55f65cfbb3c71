/* Units of the evidence core and the SNP family: built-in root pins, product
 * and TCB tables, the VCEK extension reader, the report parser, endorsement
 * classification, the chain cache and the family registry. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"

#include "cachet/encoding.h"
#include "ev_assert.h"
#include "evidence/family.h"
#include "evidence/registry.h"
#include "snp_gen.h"

/* ---- built-in AMD roots (evidence-formats §0.4) ---------------------------------- */

static void hex_of(const uint8_t *b, char out[65]) { cachet_hex_encode(b, 32, out); }

static void test_root_pins(void **state)
{
    (void)state;
    static const struct {
        snp_product p;
        const char *cert, *spki;
    } arks[] = {
        { SNP_PRODUCT_MILAN, "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd",
          "9f056bee44377e29308cb5ffa895bdfb62d18881fa6bed8d6f075b0204089cb9" },
        { SNP_PRODUCT_GENOA, "4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1",
          "429a69c9422aa258ee4d8db5fcda9c6470ef15f8cd5a9cebd6cbc7d90b863831" },
        { SNP_PRODUCT_TURIN, "1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a",
          "4f125410563a2ab9a50356f9243f6fe0b6f73de98603f53f90339c70e9d7ad08" },
    };
    /* Intermediates: prefix ... suffix of the certificate SHA-256. */
    static const struct {
        snp_product p;
        bool vlek;
        const char *prefix, *suffix;
    } mids[] = {
        { SNP_PRODUCT_MILAN, false, "67d303bd", "0bac1b" },
        { SNP_PRODUCT_GENOA, false, "5464738c", "828521" },
        { SNP_PRODUCT_TURIN, false, "5b77ef5f", "3b3185" },
        { SNP_PRODUCT_MILAN, true, "c5e081f5", "439082f5" },
        { SNP_PRODUCT_GENOA, true, "197e6107", "457372" },
        { SNP_PRODUCT_TURIN, true, "104e10a8", "df1a3c" },
    };
    const snp_trust *t = snp_trust_builtin();
    assert_non_null(t);
    uint8_t fp[32];
    char hex[65];
    for (size_t i = 0; i < 3; i++) {
        const cachet_x509 *ark = t->products[arks[i].p].ark;
        assert_non_null(ark);
        assert_int_equal(cachet_x509_fingerprint(ark, fp), CACHET_OK);
        hex_of(fp, hex);
        assert_string_equal(hex, arks[i].cert);
        assert_int_equal(cachet_x509_spki_fingerprint(ark, fp), CACHET_OK);
        hex_of(fp, hex);
        assert_string_equal(hex, arks[i].spki);
        /* Each ARK is self-signed and anchors its own intermediates, at a
         * time inside every validity window. */
        const snp_product_roots *pr = &t->products[arks[i].p];
        cachet_x509 *roots[] = { pr->ark };
        cachet_x509 *const leaves[] = { pr->ask, pr->asvk };
        for (size_t j = 0; j < 2; j++) {
            cachet_chain_params cp = { .leaf = leaves[j], .roots = roots, .n_roots = 1,
                                       .time = 2000000000 };
            cachet_chain_result res;
            memset(&res, 0, sizeof res);
            assert_int_equal(cachet_x509_verify_chain(&cp, &res), CACHET_OK);
            assert_int_equal(res.depth, 2);
            cachet_chain_result_clear(&res);
        }
    }
    for (size_t i = 0; i < sizeof mids / sizeof mids[0]; i++) {
        const snp_product_roots *pr = &t->products[mids[i].p];
        assert_int_equal(cachet_x509_fingerprint(mids[i].vlek ? pr->asvk : pr->ask, fp), CACHET_OK);
        hex_of(fp, hex);
        assert_memory_equal(hex, mids[i].prefix, strlen(mids[i].prefix));
        assert_string_equal(hex + 64 - strlen(mids[i].suffix), mids[i].suffix);
    }
    /* The ARKs are not interchangeable. */
    cachet_x509 *roots[] = { t->products[SNP_PRODUCT_GENOA].ark };
    cachet_chain_params cp = { .leaf = t->products[SNP_PRODUCT_MILAN].ask, .roots = roots,
                               .n_roots = 1, .time = 2000000000 };
    assert_int_not_equal(cachet_x509_verify_chain(&cp, NULL), CACHET_OK);
}

/* The embedded PEMs are AMD's KDS cert_chain files (when the vectors are here). */
static void test_roots_match_vectors(void **state)
{
    (void)state;
    TU_REQUIRE_VECTORS();
    static const char *const files[] = {
        "snp/amd_roots/ask_ark_milan_vcek.pem", "snp/amd_roots/ask_ark_genoa_vcek.pem",
        "snp/amd_roots/ask_ark_turin_vcek.pem", "snp/amd_roots/asvk_ark_milan_vlek.pem",
        "snp/amd_roots/asvk_ark_genoa_vlek.pem", "snp/amd_roots/asvk_ark_turin_vlek.pem",
    };
    const snp_trust *t = snp_trust_builtin();
    for (size_t i = 0; i < 6; i++) {
        size_t len;
        uint8_t *pem = tu_read_vector(files[i], &len);
        assert_non_null(pem);
        cachet_x509 **certs = NULL;
        size_t n = 0;
        assert_int_equal(cachet_x509_parse_all(pem, len, &certs, &n), CACHET_OK);
        assert_int_equal(n, 2);
        snp_product p = (snp_product)(SNP_PRODUCT_MILAN + i % 3);
        const cachet_x509 *mid = i < 3 ? t->products[p].ask : t->products[p].asvk;
        uint8_t a[32], b[32];
        assert_int_equal(cachet_x509_fingerprint(certs[0], a), CACHET_OK);
        assert_int_equal(cachet_x509_fingerprint(mid, b), CACHET_OK);
        assert_memory_equal(a, b, 32);
        assert_int_equal(cachet_x509_fingerprint(certs[1], a), CACHET_OK);
        assert_int_equal(cachet_x509_fingerprint(t->products[p].ark, b), CACHET_OK);
        assert_memory_equal(a, b, 32);
        cachet_x509_free_all(certs, n);
        free(pem);
    }
}

/* ---- products and TCB ------------------------------------------------------------ */

static void test_products(void **state)
{
    (void)state;
    assert_int_equal(snp_product_from_cpuid(0x19, 0x01), SNP_PRODUCT_MILAN);
    assert_int_equal(snp_product_from_cpuid(0x19, 0x00), SNP_PRODUCT_MILAN);
    assert_int_equal(snp_product_from_cpuid(0x19, 0x11), SNP_PRODUCT_GENOA);
    assert_int_equal(snp_product_from_cpuid(0x19, 0xA0), SNP_PRODUCT_GENOA);
    assert_int_equal(snp_product_from_cpuid(0x19, 0x20), SNP_PRODUCT_UNKNOWN);
    assert_int_equal(snp_product_from_cpuid(0x1A, 0x02), SNP_PRODUCT_TURIN);
    assert_int_equal(snp_product_from_cpuid(0x1A, 0x12), SNP_PRODUCT_UNKNOWN);
    assert_int_equal(snp_product_from_cpuid(0x17, 0x01), SNP_PRODUCT_UNKNOWN);
    assert_int_equal(snp_product_from_cpuid(0, 0), SNP_PRODUCT_UNKNOWN);
    assert_int_equal(snp_product_from_name("Milan-B0"), SNP_PRODUCT_MILAN);
    assert_int_equal(snp_product_from_name("Milan"), SNP_PRODUCT_MILAN);
    assert_int_equal(snp_product_from_name("Genoa"), SNP_PRODUCT_GENOA);
    assert_int_equal(snp_product_from_name("Turin-B1"), SNP_PRODUCT_TURIN);
    assert_int_equal(snp_product_from_name("Milanx"), SNP_PRODUCT_UNKNOWN);
    assert_int_equal(snp_product_from_name("milan"), SNP_PRODUCT_UNKNOWN);
    assert_int_equal(snp_product_from_name(""), SNP_PRODUCT_UNKNOWN);
    assert_int_equal(snp_product_from_name(NULL), SNP_PRODUCT_UNKNOWN);
}

static void test_tcb_layouts(void **state)
{
    (void)state;
    /* Milan vector: 0x4405000000000002 = bl 2, tee 0, snp 5, ucode 68. */
    snp_tcb m = snp_tcb_decode(0x4405000000000002ull, SNP_PRODUCT_MILAN);
    assert_int_equal(m.bootloader, 2);
    assert_int_equal(m.tee, 0);
    assert_int_equal(m.snp, 5);
    assert_int_equal(m.microcode, 68);
    assert_int_equal(snp_tcb_encode(&m, SNP_PRODUCT_MILAN), 0x4405000000000002ull);
    /* Turin vector: 0x4700000002000100 = fmc 0, bl 1, tee 0, snp 2, ucode 71. */
    snp_tcb t = snp_tcb_decode(0x4700000002000100ull, SNP_PRODUCT_TURIN);
    assert_int_equal(t.fmc, 0);
    assert_int_equal(t.bootloader, 1);
    assert_int_equal(t.tee, 0);
    assert_int_equal(t.snp, 2);
    assert_int_equal(t.microcode, 71);
    assert_int_equal(snp_tcb_encode(&t, SNP_PRODUCT_TURIN), 0x4700000002000100ull);
    /* The same bytes in the wrong layout say something else. */
    snp_tcb wrong = snp_tcb_decode(0x4700000002000100ull, SNP_PRODUCT_MILAN);
    assert_int_equal(wrong.bootloader, 0);
    assert_int_equal(wrong.tee, 1);
    assert_int_equal(wrong.snp, 0);

    /* Component-wise order: a higher microcode does not mask a lower SNP SPL. */
    snp_tcb a = { .bootloader = 4, .snp = 24, .microcode = 200 };
    snp_tcb b = { .bootloader = 4, .snp = 23, .microcode = 219 };
    assert_false(snp_tcb_le(&a, &b, false));
    assert_false(snp_tcb_le(&b, &a, false));
    assert_true(snp_tcb_encode(&b, SNP_PRODUCT_MILAN) > snp_tcb_encode(&a, SNP_PRODUCT_MILAN));
    assert_true(snp_tcb_le(&a, &a, false));
    snp_tcb f = a;
    f.fmc = 1;
    assert_true(snp_tcb_le(&a, &f, true));
    assert_false(snp_tcb_le(&f, &a, true));
    assert_true(snp_tcb_le(&f, &a, false)); /* fmc means nothing before Turin */
    assert_false(snp_tcb_eq(&a, &f, true));
    char buf[64];
    snp_tcb_format(&t, true, buf, sizeof buf);
    assert_string_equal(buf, "fmc=0 bl=1 tee=0 snp=2 ucode=71");
}

/* ---- VCEK extension reader ---------------------------------------------------------- */

typedef struct fake_ext {
    const char *oid;
    uint8_t val[80];
    size_t len;
    int count; /* 2: duplicated */
} fake_ext;

typedef struct fake_cert {
    fake_ext ext[16];
    size_t n;
} fake_cert;

static cachet_rc fake_lookup(void *arg, const char *oid, const uint8_t **val, size_t *len)
{
    fake_cert *c = arg;
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->ext[i].oid, oid) != 0)
            continue;
        if (c->ext[i].count > 1)
            return CACHET_RC(CACHET_SUB_CRYPTO, CACHET_E_FORMAT);
        *val = c->ext[i].val;
        *len = c->ext[i].len;
        return CACHET_OK;
    }
    return CACHET_RC(CACHET_SUB_CRYPTO, CACHET_E_NOT_FOUND);
}

static void fake_add(fake_cert *c, const char *oid, const void *val, size_t len)
{
    fake_ext *e = &c->ext[c->n++];
    e->oid = oid;
    memcpy(e->val, val, len);
    e->len = len;
    e->count = 1;
}

static fake_cert milan_cert(void)
{
    fake_cert c;
    memset(&c, 0, sizeof c);
    fake_add(&c, SNP_OID_STRUCT_VERSION, "\x02\x01\x00", 3);
    fake_add(&c, SNP_OID_PRODUCT_NAME, "\x16\x08Milan-B0", 10);
    fake_add(&c, "1.3.6.1.4.1.3704.1.3.1", "\x02\x01\x02", 3);
    fake_add(&c, "1.3.6.1.4.1.3704.1.3.2", "\x02\x01\x00", 3);
    fake_add(&c, "1.3.6.1.4.1.3704.1.3.3", "\x02\x01\x05", 3);
    fake_add(&c, "1.3.6.1.4.1.3704.1.3.8", "\x02\x02\x00\xd9", 4);
    uint8_t hw[64];
    for (int i = 0; i < 64; i++)
        hw[i] = (uint8_t)i;
    fake_add(&c, SNP_OID_HWID, hw, 64);
    return c;
}

static fake_ext *fake_find(fake_cert *c, const char *oid)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->ext[i].oid, oid) == 0)
            return &c->ext[i];
    abort(); /* a broken test, not a finding */
}

static void test_vcek_ext_reader(void **state)
{
    (void)state;
    snp_vcek_info v;
    fake_cert c = milan_cert();
    assert_int_equal(snp_vcek_ext_read(fake_lookup, &c, &v), CACHET_OK);
    assert_string_equal(v.product_name, "Milan-B0");
    assert_int_equal(v.spl[SNP_SPL_UCODE], 0xd9);
    assert_int_equal(v.hwid_len, 64);
    assert_false(v.hwid_was_octet_string);
    uint64_t raw;
    assert_int_equal(snp_vcek_tcb(&v, SNP_PRODUCT_MILAN, &raw), CACHET_OK);
    assert_int_equal(raw, 0xd905000000000002ull);
    /* No fmcSPL: not usable as Turin. */
    assert_int_not_equal(snp_vcek_tcb(&v, SNP_PRODUCT_TURIN, &raw), CACHET_OK);

    /* OCTET STRING-wrapped hwID (64 and 8 bytes). */
    fake_ext *hw = fake_find(&c, SNP_OID_HWID);
    uint8_t w[66] = { 0x04, 0x40 };
    memcpy(w + 2, hw->val, 64);
    memcpy(hw->val, w, 66);
    hw->len = 66;
    assert_int_equal(snp_vcek_ext_read(fake_lookup, &c, &v), CACHET_OK);
    assert_true(v.hwid_was_octet_string);
    assert_int_equal(v.hwid[63], 63);
    memcpy(hw->val, "\x04\x08\x3b\x42\x09\x2f\x69\xc6\x56\xd3", 10);
    hw->len = 10;
    assert_int_equal(snp_vcek_ext_read(fake_lookup, &c, &v), CACHET_OK);
    assert_int_equal(v.hwid_len, 8);
    /* Bad hwID lengths. */
    static const size_t bad_lens[] = { 0, 1, 7, 9, 63, 65, 67 };
    for (size_t i = 0; i < sizeof bad_lens / sizeof bad_lens[0]; i++) {
        memset(hw->val, 0x04, sizeof hw->val);
        hw->len = bad_lens[i];
        assert_int_not_equal(snp_vcek_ext_read(fake_lookup, &c, &v), CACHET_OK);
    }
    /* An OCTET STRING whose inner length disagrees. */
    memcpy(hw->val, w, 66);
    hw->val[1] = 0x3f;
    hw->len = 66;
    assert_int_not_equal(snp_vcek_ext_read(fake_lookup, &c, &v), CACHET_OK);

    /* SPLs: INTEGER 0..255 only. */
    c = milan_cert();
    fake_ext *snp = fake_find(&c, "1.3.6.1.4.1.3704.1.3.3");
    memcpy(snp->val, "\x02\x02\x01\x00", 4); /* 256 */
    snp->len = 4;
    assert_int_not_equal(snp_vcek_ext_read(fake_lookup, &c, &v), CACHET_OK);
    memcpy(snp->val, "\x02\x01\xff", 3); /* -1 */
    snp->len = 3;
    assert_int_not_equal(snp_vcek_ext_read(fake_lookup, &c, &v), CACHET_OK);
    memcpy(snp->val, "\x04\x01\x05", 3); /* not an INTEGER */
    assert_int_not_equal(snp_vcek_ext_read(fake_lookup, &c, &v), CACHET_OK);
    memcpy(snp->val, "\x02\x01\x05\x00", 4); /* trailing byte */
    snp->len = 4;
    assert_int_not_equal(snp_vcek_ext_read(fake_lookup, &c, &v), CACHET_OK);
    snp->count = 2; /* duplicated */
    snp->len = 3;
    assert_int_not_equal(snp_vcek_ext_read(fake_lookup, &c, &v), CACHET_OK);
    snp->count = 1;
    snp->oid = "1.3.6.1.4.1.3704.1.3.33"; /* required SPL missing */
    assert_int_not_equal(snp_vcek_ext_read(fake_lookup, &c, &v), CACHET_OK);

    /* productName: required, printable IA5String. */
    c = milan_cert();
    fake_ext *pn = fake_find(&c, SNP_OID_PRODUCT_NAME);
    memcpy(pn->val, "\x16\x08Mil\x01n-B0", 10);
    assert_int_not_equal(snp_vcek_ext_read(fake_lookup, &c, &v), CACHET_OK);
    memcpy(pn->val, "\x16\x09Milan-B0", 10); /* length past the end */
    assert_int_not_equal(snp_vcek_ext_read(fake_lookup, &c, &v), CACHET_OK);
    pn->oid = "1.2.3";
    assert_int_not_equal(snp_vcek_ext_read(fake_lookup, &c, &v), CACHET_OK);

    /* cspID with hwID: neither VCEK nor VLEK. */
    c = milan_cert();
    fake_add(&c, SNP_OID_CSP_ID, "\x16\x03" "aws", 5);
    assert_int_not_equal(snp_vcek_ext_read(fake_lookup, &c, &v), CACHET_OK);
    fake_find(&c, SNP_OID_HWID)->oid = "1.2.3.4";
    assert_int_equal(snp_vcek_ext_read(fake_lookup, &c, &v), CACHET_OK);
    assert_true(v.has_csp_id);
    assert_string_equal(v.csp_id, "aws");

    /* Reserved SPLs: carried into legacy bytes 2..5, must be zero on Turin. */
    c = milan_cert();
    fake_add(&c, "1.3.6.1.4.1.3704.1.3.5", "\x02\x01\x07", 3);
    fake_add(&c, "1.3.6.1.4.1.3704.1.3.9", "\x02\x01\x01", 3);
    assert_int_equal(snp_vcek_ext_read(fake_lookup, &c, &v), CACHET_OK);
    assert_int_not_equal(snp_vcek_tcb(&v, SNP_PRODUCT_MILAN, &raw), CACHET_OK); /* fmc on Milan */
    assert_int_not_equal(snp_vcek_tcb(&v, SNP_PRODUCT_TURIN, &raw), CACHET_OK); /* spl_5 != 0 */
    fake_find(&c, "1.3.6.1.4.1.3704.1.3.9")->oid = "1.9";
    assert_int_equal(snp_vcek_ext_read(fake_lookup, &c, &v), CACHET_OK);
    assert_int_equal(snp_vcek_tcb(&v, SNP_PRODUCT_MILAN, &raw), CACHET_OK);
    assert_int_equal(raw, 0xd905000007000002ull);
}

/* ---- report parser ------------------------------------------------------------------ */

static void test_parser_stages(void **state)
{
    (void)state;
    snpgen_report g;
    uint8_t b[SNP_REPORT_SIZE];
    snp_report r;
    snp_parse_stage st;

    snpgen_report_default(&g, SNP_PRODUCT_GENOA);
    snpgen_encode(&g, b);
    assert_int_equal(snp_report_parse(b, sizeof b, &r, &st), CACHET_OK);
    assert_int_equal(st, SNP_PARSE_OK);
    assert_int_equal(r.version, 3);
    assert_ptr_equal(r.measurement, b + 0x90);
    assert_ptr_equal(r.report_data, b + 0x50);
    assert_ptr_equal(r.chip_id, b + 0x1A0);
    assert_ptr_equal(r.sig_r, b + 0x2A0);
    assert_ptr_equal(r.sig_s, b + 0x2E8);
    assert_int_equal(r.cpuid_mod, 0x11);
    assert_int_equal(r.current_minor, 55);
    assert_int_equal(r.committed_build, 29);

    /* Every length but 1184 is refused. */
    static const size_t lens[] = { 0, 1, 0x2A0, SNP_REPORT_SIZE - 1, SNP_REPORT_SIZE + 1 };
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        assert_int_not_equal(snp_report_parse(b, lens[i], &r, &st), CACHET_OK);
        assert_int_equal(st, SNP_PARSE_SIZE);
    }
    assert_string_equal(snp_parse_stage_check(SNP_PARSE_SIZE), "snp.report.size");

    static const struct { size_t off; uint8_t val; snp_parse_stage st; } muts[] = {
        { 0x000, 4, SNP_PARSE_VERSION },
        { 0x000, 0, SNP_PARSE_VERSION },
        { 0x034, 0, SNP_PARSE_SIG_ALGO },
        { 0x04F, 1, SNP_PARSE_RESERVED },
        { 0x18B, 1, SNP_PARSE_RESERVED },
        { 0x1EB, 1, SNP_PARSE_RESERVED },
        { 0x1F8, 1, SNP_PARSE_RESERVED }, /* v3: mitigation vectors reserved */
        { 0x2A0 + 144, 1, SNP_PARSE_RESERVED },
        { 0x00A, 0x01, SNP_PARSE_POLICY },  /* bit 17 clear */
        { 0x00F, 0x80, SNP_PARSE_POLICY },  /* bit 63 */
        { 0x04B, 0x80, SNP_PARSE_SIGNER },
        { 0x047, 0x01, SNP_PARSE_PLATFORM }, /* bit 56 */
    };
    for (size_t i = 0; i < sizeof muts / sizeof muts[0]; i++) {
        uint8_t m[SNP_REPORT_SIZE];
        memcpy(m, b, sizeof m);
        m[muts[i].off] = muts[i].val;
        assert_int_not_equal(snp_report_parse(m, sizeof m, &r, &st), CACHET_OK);
        assert_int_equal(st, muts[i].st);
        assert_true(strlen(cachet_err_detail()) > 0);
    }

    /* v5: the mitigation vectors are fields; v2: the CPUID bytes are reserved. */
    g.version = 5;
    g.launch_mit_vector = 1;
    snpgen_encode(&g, b);
    assert_int_equal(snp_report_parse(b, sizeof b, &r, &st), CACHET_OK);
    assert_int_equal(r.launch_mit_vector, 1);
    g.version = 2;
    g.launch_mit_vector = 0;
    snpgen_encode(&g, b);
    assert_int_not_equal(snp_report_parse(b, sizeof b, &r, &st), CACHET_OK);
    assert_int_equal(st, SNP_PARSE_RESERVED);
    g.cpuid_fam = g.cpuid_mod = g.cpuid_step = 0;
    snpgen_encode(&g, b);
    assert_int_equal(snp_report_parse(b, sizeof b, &r, &st), CACHET_OK);
    /* Bit 6 of PLATFORM_INFO is set by real Turin firmware. */
    g.platform_info = 0x67;
    snpgen_encode(&g, b);
    assert_int_equal(snp_report_parse(b, sizeof b, &r, &st), CACHET_OK);
}

/* ---- endorsements ----------------------------------------------------------------- */

static void test_endorsement_classes(void **state)
{
    (void)state;
    snpgen_pki *k = snpgen_pki_new(SNP_PRODUCT_MILAN, NULL, NULL);
    assert_non_null(k);
    cachet_endorsements *e = cachet_endorsements_new();
    size_t der_len, crl_len;
    const uint8_t *der = testpki_der(k->vcek, &der_len);
    const testpki_cert *chain[] = { k->ask, k->ark };
    char *bundle = testpki_bundle_pem(chain, 2);
    uint8_t *crl = testpki_crl(k->ark, NULL, &crl_len);
    char *crl_pem = testpki_crl_pem(crl, crl_len);
    static const char json[] = "  {\"tcbInfo\": {}}";
    static const char dup_json[] = "{\"a\":1,\"a\":2}";
    static const char xml[] = "\xEF\xBB\xBF<?xml version=\"1.0\"?><rim/>";
    static const uint8_t bin[] = { 0x0a, 0x08, 0x01, 0x02 };
    static const uint8_t bad_der[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };

    assert_int_equal(cachet_endorsements_add_bytes(e, "vcek.der", der, der_len), CACHET_OK);
    assert_int_equal(cachet_endorsements_add_bytes(e, "chain.pem", bundle, strlen(bundle)), CACHET_OK);
    assert_int_equal(cachet_endorsements_add_bytes(e, "crl.der", crl, crl_len), CACHET_OK);
    assert_int_equal(cachet_endorsements_add_bytes(e, "crl.pem", crl_pem, strlen(crl_pem)), CACHET_OK);
    assert_int_equal(cachet_endorsements_add_bytes(e, "x.json", json, strlen(json)), CACHET_OK);
    assert_int_equal(cachet_endorsements_add_bytes(e, "dup.json", dup_json, strlen(dup_json)), CACHET_OK);
    assert_int_equal(cachet_endorsements_add_bytes(e, "rim.xml", xml, strlen(xml)), CACHET_OK);
    assert_int_equal(cachet_endorsements_add_bytes(e, "x.bin", bin, sizeof bin), CACHET_OK);
    assert_int_equal(cachet_endorsements_add_bytes(e, "empty", "", 0), CACHET_OK);
    assert_int_equal(cachet_endorsements_add_bytes(e, "bad.der", bad_der, sizeof bad_der), CACHET_OK);
    static const cachet_endorsement_kind want[] = {
        CACHET_ENDORSEMENT_CERTS, CACHET_ENDORSEMENT_CERTS, CACHET_ENDORSEMENT_CRL,
        CACHET_ENDORSEMENT_CRL,   CACHET_ENDORSEMENT_JSON,  CACHET_ENDORSEMENT_OTHER,
        CACHET_ENDORSEMENT_XML,   CACHET_ENDORSEMENT_OTHER, CACHET_ENDORSEMENT_OTHER,
        CACHET_ENDORSEMENT_OTHER,
    };
    assert_int_equal(cachet_endorsements_count(e), 10);
    for (size_t i = 0; i < 10; i++) {
        const cachet_endorsement *en = cachet_endorsements_get(e, i);
        assert_int_equal(en->kind, want[i]);
        if (en->kind == CACHET_ENDORSEMENT_OTHER)
            assert_non_null(en->why);
    }
    assert_int_equal(cachet_endorsements_get(e, 1)->n_certs, 2);
    assert_null(cachet_endorsements_get(e, 10));
    assert_string_equal(cachet_endorsement_kind_str(CACHET_ENDORSEMENT_CRL), "CRL");

    /* Files and directories: name order, regular files only, no recursion. */
    char *dir = tu_mkdtemp();
    char *p1 = tu_asprintf("%s/b.der", dir), *p2 = tu_asprintf("%s/a.pem", dir);
    char *sub = tu_asprintf("%s/sub", dir), *p3 = tu_asprintf("%s/sub/c.der", dir);
    tu_write_file(p1, der, der_len);
    tu_write_file(p2, bundle, strlen(bundle));
    assert_int_equal(mkdir(sub, 0700), 0);
    tu_write_file(p3, der, der_len);
    cachet_endorsements *d = cachet_endorsements_new();
    assert_int_equal(cachet_endorsements_add_path(d, dir), CACHET_OK);
    assert_int_equal(cachet_endorsements_count(d), 2);
    assert_non_null(strstr(cachet_endorsements_get(d, 0)->name, "/a.pem"));
    assert_non_null(strstr(cachet_endorsements_get(d, 1)->name, "/b.der"));
    assert_int_equal(cachet_endorsements_add_path(d, p1), CACHET_OK);
    assert_int_equal(cachet_endorsements_count(d), 3);
    char *missing = tu_asprintf("%s/nope", dir);
    assert_int_equal(cachet_rc_code(cachet_endorsements_add_path(d, missing)), CACHET_E_NOT_FOUND);
    cachet_endorsements_free(d);
    tu_rmtree(dir);
    free(missing);
    free(p1);
    free(p2);
    free(p3);
    free(sub);
    free(dir);

    cachet_endorsements_free(e);
    free(crl_pem);
    free(crl);
    free(bundle);
    snpgen_pki_free(k);
}

/* ---- cache --------------------------------------------------------------------------- */

static void test_cache(void **state)
{
    (void)state;
    cachet_verify_cache *c = cachet_verify_cache_new(2);
    assert_non_null(c);
    uint8_t k1[32] = { 1 }, k2[32] = { 2 }, k3[32] = { 3 };
    uint8_t v[CACHET_EV_CACHE_VALUE_MAX];
    size_t vl = 0;
    assert_false(cachet_ev_cache_lookup(c, k1, 100, v, &vl));
    cachet_ev_cache_store(c, k1, 100, 200, (const uint8_t *)"abc", 3);
    assert_true(cachet_ev_cache_lookup(c, k1, 100, v, &vl));
    assert_int_equal(vl, 3);
    assert_memory_equal(v, "abc", 3);
    assert_true(cachet_ev_cache_lookup(c, k1, 200, NULL, NULL));
    assert_false(cachet_ev_cache_lookup(c, k1, 99, NULL, NULL));
    assert_false(cachet_ev_cache_lookup(c, k1, 201, NULL, NULL));
    cachet_ev_cache_store(c, k2, 0, 1000, NULL, 0);
    assert_true(cachet_ev_cache_lookup(c, k1, 150, NULL, NULL)); /* k1 now most recent */
    cachet_ev_cache_store(c, k3, 0, 1000, NULL, 0);                /* evicts k2 */
    assert_false(cachet_ev_cache_lookup(c, k2, 500, NULL, NULL));
    assert_true(cachet_ev_cache_lookup(c, k1, 150, NULL, NULL));
    assert_true(cachet_ev_cache_lookup(c, k3, 500, NULL, NULL));
    assert_int_equal(cachet_verify_cache_hits(c), 5);
    cachet_verify_cache_free(c);
    cachet_verify_cache_free(NULL);
}

/* ---- registry ----------------------------------------------------------------------- */

static void test_registry(void **state)
{
    (void)state;
    size_t n = 0;
    const cachet_evidence_ops *const *f = cachet_evidence_families(&n);
    assert_true(n >= 1);
    assert_non_null(f);
    assert_ptr_equal(cachet_evidence_find("snp"), &cachet_snp_ops);
    assert_ptr_equal(cachet_evidence_find("sev-snp"), &cachet_snp_ops);
    assert_null(cachet_evidence_find("SNP"));
    assert_null(cachet_evidence_find("tdx-not-yet"));
    assert_null(cachet_evidence_find(NULL));

    snpgen_report g;
    uint8_t b[SNP_REPORT_SIZE];
    snpgen_report_default(&g, SNP_PRODUCT_MILAN);
    snpgen_encode(&g, b);
    assert_ptr_equal(cachet_evidence_detect(b, sizeof b), &cachet_snp_ops);
    g.version = 9; /* still an SNP report by shape: the parser names the version */
    snpgen_encode(&g, b);
    assert_ptr_equal(cachet_evidence_detect(b, sizeof b), &cachet_snp_ops);
    assert_null(cachet_evidence_detect(b, sizeof b - 1));
    b[0x34] = 2;
    assert_null(cachet_evidence_detect(b, sizeof b));
    assert_null(cachet_evidence_detect(NULL, 0));

    /* Unknown family and unrecognised formats are errors without a result. */
    cachet_verify_request req = { .evidence = b, .evidence_len = sizeof b, .tee = "nope" };
    cachet_verify_result *r = (cachet_verify_result *)1;
    assert_int_equal(cachet_rc_code(cachet_evidence_verify(&req, &r)), CACHET_E_NOT_FOUND);
    assert_null(r);
    req.tee = NULL;
    assert_int_equal(cachet_rc_code(cachet_evidence_verify(&req, &r)), CACHET_E_NOT_FOUND);
    assert_int_equal(cachet_rc_code(cachet_evidence_verify_with(NULL, &req, &r)),
                     CACHET_E_INVALID_ARG);
    assert_string_equal(cachet_ev_status_str(CACHET_EV_WARNING), "warning");
}

/* A family that asserts nothing is never "verified"; one whose verify fails
 * internally is contraindicated. */
static cachet_rc silent_verify(const cachet_evidence_ops *self, const cachet_verify_request *req,
                               cachet_ev_ctx *ctx)
{
    (void)self;
    (void)req;
    cachet_ev_pass(ctx, "x.check", "spec", "fine");
    return CACHET_OK;
}

static cachet_rc broken_verify(const cachet_evidence_ops *self, const cachet_verify_request *req,
                               cachet_ev_ctx *ctx)
{
    (void)self;
    (void)req;
    cachet_ev_authentic(ctx);
    return cachet_err(CACHET_RC(CACHET_SUB_EVIDENCE, CACHET_E_NOMEM), "simulated");
}

static void test_core_status_rules(void **state)
{
    (void)state;
    cachet_evidence_ops ops = { .name = "t", .description = "test", .verify = silent_verify };
    uint8_t b[1] = { 0 };
    cachet_verify_request req = { .evidence = b, .evidence_len = 1 };
    cachet_verify_result *r = NULL;
    assert_int_equal(cachet_evidence_verify_with(&ops, &req, &r), CACHET_OK);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    assert_int_equal(json_array_size(r->errors), 1);
    cachet_verify_result_free(r);
    ops.verify = broken_verify;
    assert_int_equal(cachet_evidence_verify_with(&ops, &req, &r), CACHET_OK);
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_root_pins),
        cmocka_unit_test(test_roots_match_vectors),
        cmocka_unit_test(test_products),
        cmocka_unit_test(test_tcb_layouts),
        cmocka_unit_test(test_vcek_ext_reader),
        cmocka_unit_test(test_parser_stages),
        cmocka_unit_test(test_endorsement_classes),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_core_status_rules),
    };
    return cmocka_run_group_tests_name("snp_units", tests, NULL, NULL);
}
