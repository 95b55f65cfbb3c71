/* Units of the TDX/SGX family: the built-in root pin, the raw JSON member
 * finder, URL decoding, the DER walker and the SGX extension parser, TCB
 * level ordering and matching, the quote parser's edge cases, detection. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "cachet/crypto.h"
#include "cachet/encoding.h"
#include "evidence/registry.h"
#include "evidence/tdx/tdx.h"
#include "testpki.h"

/* ---- the root pin (evidence-formats §0.4) ------------------------------------------- */

static void test_root_pin(void **state)
{
    (void)state;
    cachet_x509 *root = tdx_intel_root();
    assert_non_null(root);
    uint8_t fp[32], spki[32];
    assert_int_equal(cachet_x509_fingerprint(root, fp), CACHET_OK);
    assert_int_equal(cachet_x509_spki_fingerprint(root, spki), CACHET_OK);
    char hex[65];
    cachet_hex_encode(fp, 32, hex);
    assert_string_equal(hex, "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3");
    cachet_hex_encode(spki, 32, hex);
    assert_string_equal(hex, "a0af031289f5d5d4132f9186068a7fc13628633ba235777472e29b6b6c67a49e");
    char cn[64];
    assert_int_equal(cachet_x509_subject_cn(root, cn, sizeof cn), CACHET_OK);
    assert_string_equal(cn, "Intel SGX Root CA");
    int64_t nb, na;
    assert_int_equal(cachet_x509_validity(root, &nb, &na), CACHET_OK);
    assert_true(nb == 1526899510 && na == 2524607999); /* 2018-05-21T10:45:10Z .. 2049-12-31T23:59:59Z */
    /* Byte-identical to the copy in the vectors, when present. */
    size_t len;
    uint8_t *der = tu_read_vector("tdx/intel_root/Intel_SGX_Root_CA.der", &len);
    if (der) {
        const uint8_t *mine;
        size_t mlen;
        assert_int_equal(cachet_x509_der(root, &mine, &mlen), CACHET_OK);
        assert_int_equal(mlen, len);
        assert_memory_equal(mine, der, len);
        free(der);
    }
    assert_ptr_equal(tdx_intel_root(), root); /* loaded once */
}

/* ---- JSON ---------------------------------------------------------------------------- */

static void span_ok(const char *doc, const char *key, const char *want)
{
    const char *v;
    size_t n;
    assert_int_equal(tdx_json_member_span(doc, strlen(doc), key, &v, &n), CACHET_OK);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(v, want, n);
}

static void span_bad(const char *doc, const char *key)
{
    const char *v;
    size_t n;
    assert_int_not_equal(tdx_json_member_span(doc, strlen(doc), key, &v, &n), CACHET_OK);
}

static void test_json_span(void **state)
{
    (void)state;
    span_ok("{\"tcbInfo\":{\"a\":[1,2,{\"b\":\"}\"}]},\"signature\":\"ab\"}", "tcbInfo",
            "{\"a\":[1,2,{\"b\":\"}\"}]}");
    span_ok(" \r\n{ \"signature\" : \"x\" , \"tcbInfo\" :  {\"s\":\"\\\"q\\u0041\"}  }\n", "tcbInfo",
            "{\"s\":\"\\\"q\\u0041\"}");
    span_ok("\xEF\xBB\xBF{\"k\":-1.5e+3}", "k", "-1.5e+3");
    span_ok("{\"k\":[true,false,null,{}]}", "k", "[true,false,null,{}]");
    span_ok("{\"tcbInfoX\":1,\"tcbInfo\":2}", "tcbInfo", "2");
    span_bad("{\"tcbInfo\":{},\"tcbInfo\":{}}", "tcbInfo");       /* repeated */
    span_bad("{\"tcb\\u0049nfo\":{},\"tcbInfo\":{}}", "tcbInfo"); /* escaped name */
    span_bad("{\"tcbInfo\":{}", "tcbInfo");                       /* unterminated */
    span_bad("{\"tcbInfo\":{}} x", "tcbInfo");                    /* trailing bytes */
    span_bad("[{\"tcbInfo\":{}}]", "tcbInfo");                    /* not an object */
    span_bad("{\"a\":1}", "tcbInfo");                             /* absent */
    span_bad("{\"tcbInfo\":\"\x01\"}", "tcbInfo");                /* control character */
    span_bad("{\"tcbInfo\":\"\\x\"}", "tcbInfo");                 /* bad escape */
    span_bad("{\"tcbInfo\":\"\\u12\"}", "tcbInfo");
    /* Deep nesting is bounded. */
    char deep[400];
    size_t k = 0;
    k += (size_t)snprintf(deep, sizeof deep, "{\"k\":");
    for (int i = 0; i < 100; i++)
        deep[k++] = '[';
    for (int i = 0; i < 100; i++)
        deep[k++] = ']';
    deep[k++] = '}';
    deep[k] = 0;
    span_bad(deep, "k");
}

static void test_url_decode(void **state)
{
    (void)state;
    uint8_t *out;
    size_t n;
    const char *in = "-----BEGIN%20CERTIFICATE-----%0AMIIC%2B%2Fw%3D%3D%0A\n";
    assert_int_equal(tdx_url_decode((const uint8_t *)in, strlen(in), &out, &n), CACHET_OK);
    assert_string_equal((char *)out, "-----BEGIN CERTIFICATE-----\nMIIC+/w==\n");
    free(out);
    const char *bad[] = { "%", "%2", "%zz", "a b", "%2G" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_not_equal(tdx_url_decode((const uint8_t *)bad[i], strlen(bad[i]), &out, &n),
                             CACHET_OK);
}

/* ---- DER and the SGX extension -------------------------------------------------------- */

static void test_der_walker(void **state)
{
    (void)state;
    const struct { const char *hex; bool ok; } cases[] = {
        { "020105", true }, { "0481800000", false /* truncated */ },
        { "04810100", false /* non-minimal */ }, { "048200ff", false /* non-minimal */ },
        { "0480", false /* indefinite */ }, { "1f0100", false /* multi-byte tag */ },
        { "02", false }, { "0484000000010000", false /* 4 length bytes */ },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t b[16];
        size_t n;
        assert_int_equal(cachet_hex_decode(cases[i].hex, b, sizeof b, &n), CACHET_OK);
        cachet_reader r;
        cachet_reader_init(&r, b, n);
        tdx_der d;
        assert_int_equal(tdx_der_next(&r, &d) == CACHET_OK, cases[i].ok);
    }
}

/* Real PCK certificate's SGX extension, from the b0c06f vector. */
static const char pck_ext_hex[] =
    "30820226301E060A2A864886F84D010D01010410811DCA2A26B952E85BB6448B097BA4FD30820163060A2A864886F8"
    "4D010D0102308201533010060B2A864886F84D010D0102010201033010060B2A864886F84D010D0102020201033010"
    "060B2A864886F84D010D0102030201023010060B2A864886F84D010D0102040201023010060B2A864886F84D010D01"
    "02050201043010060B2A864886F84D010D0102060201013010060B2A864886F84D010D0102070201003010060B2A86"
    "4886F84D010D0102080201053010060B2A864886F84D010D0102090201003010060B2A864886F84D010D01020A0201"
    "003010060B2A864886F84D010D01020B0201003010060B2A864886F84D010D01020C0201003010060B2A864886F84D"
    "010D01020D0201003010060B2A864886F84D010D01020E0201003010060B2A864886F84D010D01020F020100301006"
    "0B2A864886F84D010D0102100201003010060B2A864886F84D010D01021102010B301F060B2A864886F84D010D0102"
    "120410030302020401000500000000000000003010060A2A864886F84D010D0103040200003014060A2A864886F84D"
    "010D01040406B0C06F000000300F060A2A864886F84D010D01050A0101301E060A2A864886F84D010D010604100782"
    "8474603E7019DC930775FFE8CDD23044060A2A864886F84D010D010730363010060B2A864886F84D010D0107010101"
    "FF3010060B2A864886F84D010D0107020101FF3010060B2A864886F84D010D0107030101FF";

static uint8_t *ext_bytes(size_t *n)
{
    uint8_t *b = malloc(sizeof pck_ext_hex);
    assert_int_equal(cachet_hex_decode(pck_ext_hex, b, sizeof pck_ext_hex, n), CACHET_OK);
    return b;
}

static void test_pck_ext(void **state)
{
    (void)state;
    size_t n;
    uint8_t *b = ext_bytes(&n);
    tdx_pck_ext e;
    assert_int_equal(tdx_pck_ext_parse(b, n, &e), CACHET_OK);
    const uint8_t comp[16] = { 3, 3, 2, 2, 4, 1, 0, 5 };
    assert_memory_equal(e.comp, comp, 16);
    assert_int_equal(e.pcesvn, 11);
    const uint8_t fmspc[6] = { 0xb0, 0xc0, 0x6f, 0, 0, 0 };
    assert_memory_equal(e.fmspc, fmspc, 6);
    assert_int_equal(e.pceid[0] | e.pceid[1], 0);
    assert_int_equal(e.sgx_type, 1);
    assert_true(e.has_platform_instance_id);
    assert_int_equal(e.dynamic_platform, 1);
    assert_int_equal(e.cached_keys, 1);
    assert_int_equal(e.smt_enabled, 1);
    assert_memory_equal(e.cpusvn, comp, 8);

    /* Every truncation fails cleanly. */
    for (size_t k = 0; k < n; k++)
        assert_int_not_equal(tdx_pck_ext_parse(b, k, &e), CACHET_OK);
    /* Trailing garbage after the outer SEQUENCE. */
    uint8_t *t = malloc(n + 1);
    memcpy(t, b, n);
    t[n] = 0;
    assert_int_not_equal(tdx_pck_ext_parse(t, n + 1, &e), CACHET_OK);
    free(t);
    /* The FMSPC entry's OID changed to .9 (unknown, skipped): FMSPC missing. */
    uint8_t *m = malloc(n);
    memcpy(m, b, n);
    static const uint8_t fmspc_oid[] = { 0x06, 0x0a, 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01, 0x04 };
    uint8_t *p = memmem(m, n, fmspc_oid, sizeof fmspc_oid);
    assert_non_null(p);
    p[sizeof fmspc_oid - 1] = 0x09;
    assert_int_not_equal(tdx_pck_ext_parse(m, n, &e), CACHET_OK);
    /* PCE-ID of 3 bytes would not fit: change the FMSPC OCTET STRING tag. */
    memcpy(m, b, n);
    p = memmem(m, n, fmspc_oid, sizeof fmspc_oid);
    p[sizeof fmspc_oid] = 0x02; /* INTEGER instead of OCTET STRING */
    assert_int_not_equal(tdx_pck_ext_parse(m, n, &e), CACHET_OK);
    free(m);
    free(b);
    assert_int_not_equal(tdx_pck_ext_parse(NULL, 0, &e), CACHET_OK);
}

/* ---- TCB levels ------------------------------------------------------------------------ */

static void test_level_order(void **state)
{
    (void)state;
    tdx_tcb_level a = { .sgx = { 3, 3 }, .pcesvn = 11 }, b = { .sgx = { 3, 2, 9 }, .pcesvn = 13 };
    assert_true(tdx_tcb_level_cmp(&a, &b, false) > 0); /* lexicographic, not component-wise */
    b = a;
    b.pcesvn = 5;
    assert_true(tdx_tcb_level_cmp(&a, &b, false) > 0);
    b = a;
    b.tdx[2] = 1;
    assert_true(tdx_tcb_level_cmp(&a, &b, true) < 0); /* TDX components break ties (TDX only) */
    assert_int_equal(tdx_tcb_level_cmp(&a, &b, false), 0);
}

static const char qe_id_json[] =
    "{\"id\":\"TD_QE\",\"version\":2,\"issueDate\":\"2025-06-19T10:32:27Z\",\"nextUpdate\":"
    "\"2025-07-19T10:32:27Z\",\"tcbEvaluationDataNumber\":17,\"miscselect\":\"00000000\","
    "\"miscselectMask\":\"FFFFFFFF\",\"attributes\":\"11000000000000000000000000000000\","
    "\"attributesMask\":\"FBFFFFFFFFFFFFFF0000000000000000\",\"mrsigner\":"
    "\"DC9E2A7C6F948F17474E34A7FC43ED030F7C1563F1BABDDF6340C82E0E54A8C5\",\"isvprodid\":2,"
    "\"tcbLevels\":[{\"tcb\":{\"isvsvn\":2},\"tcbDate\":\"2019-01-01T00:00:00Z\",\"tcbStatus\":"
    "\"OutOfDate\"},{\"tcb\":{\"isvsvn\":4},\"tcbDate\":\"2024-03-13T00:00:00Z\",\"tcbStatus\":"
    "\"UpToDate\"},{\"tcb\":{\"isvsvn\":3},\"tcbDate\":\"2020-01-01T00:00:00Z\",\"tcbStatus\":"
    "\"Revoked\"}]}";

static void test_qe_identity_parse(void **state)
{
    (void)state;
    tdx_qe_identity q;
    assert_int_equal(tdx_qe_identity_parse(qe_id_json, strlen(qe_id_json), &q), CACHET_OK);
    assert_string_equal(q.id, "TD_QE");
    assert_int_equal(q.n_levels, 3);
    assert_int_equal(q.levels[0].isvsvn, 4); /* sorted, highest first */
    assert_int_equal(tdx_qe_level_match(&q, 9)->status, TDX_TCB_UP_TO_DATE);
    assert_int_equal(tdx_qe_level_match(&q, 3)->status, TDX_TCB_REVOKED);
    assert_int_equal(tdx_qe_level_match(&q, 2)->status, TDX_TCB_OUT_OF_DATE);
    assert_null(tdx_qe_level_match(&q, 1));
    assert_int_equal(q.isvprodid, 2);
    assert_int_equal(q.attributes_mask[0], 0xfb);
    tdx_qe_identity_clear(&q);

    /* Version 3 and a bad mrsigner length are refused. */
    char *v3 = tu_asprintf("%s", qe_id_json);
    v3[strstr(v3, "\"version\":2") - v3 + 10] = '3';
    assert_int_not_equal(tdx_qe_identity_parse(v3, strlen(v3), &q), CACHET_OK);
    free(v3);
    char *shortsig = tu_asprintf("%s", qe_id_json);
    char *p = strstr(shortsig, "A8C5\"");
    memmove(p, p + 2, strlen(p + 2) + 1);
    assert_int_not_equal(tdx_qe_identity_parse(shortsig, strlen(shortsig), &q), CACHET_OK);
    free(shortsig);
    assert_int_not_equal(tdx_qe_identity_parse("[]", 2, &q), CACHET_OK);
    assert_int_not_equal(tdx_qe_identity_parse("{\"id\":1}", 8, &q), CACHET_OK);
}

static void test_status_names(void **state)
{
    (void)state;
    const char *served[] = { "UpToDate", "SWHardeningNeeded", "ConfigurationNeeded",
                             "ConfigurationAndSWHardeningNeeded", "OutOfDate",
                             "OutOfDateConfigurationNeeded", "Revoked" };
    for (size_t i = 0; i < sizeof served / sizeof served[0]; i++)
        assert_string_equal(tdx_tcb_status_str(tdx_tcb_status_parse(served[i])), served[i]);
    /* Computed statuses are never accepted from collateral. */
    assert_int_equal(tdx_tcb_status_parse("TDRelaunchAdvised"), TDX_TCB_UNKNOWN);
    assert_int_equal(tdx_tcb_status_parse("TcbNotSupported"), TDX_TCB_UNKNOWN);
    assert_int_equal(tdx_tcb_status_parse("uptodate"), TDX_TCB_UNKNOWN);
    assert_int_equal(tdx_tcb_status_parse(NULL), TDX_TCB_UNKNOWN);
}

/* ---- the quote parser ------------------------------------------------------------------- */

static uint8_t *vector_quote(size_t *len)
{
    uint8_t *q = tu_read_vector("tdx/b0c06f_v4_dcapqvl_2025-06/quote.bin", len);
    if (!q) {
        print_message("# SKIP vectors not found\n");
        skip();
    }
    return q;
}

static void test_quote_parse(void **state)
{
    (void)state;
    size_t len;
    uint8_t *q = vector_quote(&len);
    tdx_quote p;
    assert_int_equal(tdx_quote_parse(q, len, &p), CACHET_OK);
    assert_int_equal(p.version, 4);
    assert_int_equal(p.body_type, TDX_BODY_TD10);
    assert_int_equal(p.signed_len, 632);
    assert_int_equal(p.sig_data_len, 4300);
    assert_int_equal(p.trailing, 70);
    assert_int_equal(p.qe_auth_len, 32);
    assert_int_equal(p.outer_cert_type, 6);
    assert_int_equal(p.pck_cert_type, 5);
    assert_int_equal(p.pck_chain_len, 3677); /* the terminating NUL dropped */
    assert_int_equal(p.td.tee_tcb_svn[0], 6);
    assert_int_equal(p.td.tee_tcb_svn[1], 1);
    assert_int_equal(p.qe_report.isvsvn, 6);
    assert_null(p.td.mrservicetd);

    uint8_t *m = malloc(len);
    const struct { size_t off; uint8_t v; } bad[] = {
        { 0, 2 },    /* version 2 */
        { 0, 6 },    /* version 6 */
        { 2, 3 },    /* attestation key type 3 (P-384) */
        { 4, 0x80 }, /* tee_type */
        { 12, 0 },   /* QE vendor */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memcpy(m, q, len);
        m[bad[i].off] = bad[i].v;
        assert_int_not_equal(tdx_quote_parse(m, len, &p), CACHET_OK);
    }
    /* v3 with tee_type 0x81. */
    memcpy(m, q, len);
    m[0] = 3;
    assert_int_not_equal(tdx_quote_parse(m, len, &p), CACHET_OK);
    /* Certification data type 5 directly (not 6) in a v4 quote. */
    memcpy(m, q, len);
    m[632 + 4 + 128] = 5;
    assert_int_not_equal(tdx_quote_parse(m, len, &p), CACHET_OK);
    /* A NUL inside the PEM chain. */
    memcpy(m, q, len);
    m[len - 70 - 200] = 0;
    assert_int_not_equal(tdx_quote_parse(m, len, &p), CACHET_OK);
    /* Bigger than any quote. */
    assert_int_equal(cachet_rc_code(tdx_quote_parse(q, TDX_QUOTE_MAX + 1, &p)), CACHET_E_LIMIT);
    assert_int_not_equal(tdx_quote_parse(NULL, 0, &p), CACHET_OK);
    free(m);
    free(q);
}

static void test_detect(void **state)
{
    (void)state;
    size_t len;
    uint8_t *q = vector_quote(&len);
    assert_int_equal(tdx_detect_tdx(q, len), 90);
    assert_int_equal(tdx_detect_sgx(q, len), 0);
    assert_ptr_equal(cachet_evidence_detect(q, len), &cachet_tdx_ops);
    assert_int_equal(tdx_detect_tdx(q, 100), 0);
    q[4] = 0; /* tee_type SGX */
    assert_int_equal(tdx_detect_tdx(q, len), 0);
    assert_int_equal(tdx_detect_sgx(q, len), 90);
    q[2] = 7;
    assert_int_equal(tdx_detect_sgx(q, len), 0);
    free(q);
    assert_ptr_equal(cachet_evidence_find("tdx"), &cachet_tdx_ops);
    assert_ptr_equal(cachet_evidence_find("sgx"), &cachet_sgx_ops);
    assert_ptr_equal(cachet_evidence_find("intel-sgx"), &cachet_sgx_ops);
}

/* src/crypto/crl_info.c: CRLs picked by issuer name, then verified. */
static void test_crl_info(void **state)
{
    (void)state;
    testpki_cert *ca = testpki_mint(&(testpki_cert_opts){ .cn = "Intel SGX PCK Platform CA",
                                                          .ca = true, .not_before = 1000000000,
                                                          .not_after = 2000000000 }, NULL);
    testpki_cert *other = testpki_mint(&(testpki_cert_opts){ .cn = "Someone else", .ca = true,
                                                             .not_before = 1000000000,
                                                             .not_after = 2000000000 }, NULL);
    size_t n;
    uint8_t *der = testpki_crl(ca, &(testpki_crl_opts){ .this_update = 1500000000,
                                                        .next_update = 1600000000 }, &n);
    cachet_x509_crl *crl = NULL;
    assert_int_equal(cachet_crl_parse(der, n, &crl), CACHET_OK);
    cachet_x509 *cax = testpki_x509(ca), *ox = testpki_x509(other);
    assert_true(cachet_crl_names_issuer(crl, cax));
    assert_false(cachet_crl_names_issuer(crl, ox));
    assert_false(cachet_crl_names_issuer(NULL, cax));
    int64_t tu = 0, nu = 0;
    assert_int_equal(cachet_crl_validity(crl, &tu, &nu), CACHET_OK);
    assert_int_equal(tu, 1500000000);
    assert_int_equal(nu, 1600000000);
    assert_int_not_equal(cachet_crl_validity(NULL, &tu, &nu), CACHET_OK);
    cachet_crl_free(crl);
    free(der);
    /* No nextUpdate: refused. */
    der = testpki_crl(ca, &(testpki_crl_opts){ .this_update = 1500000000, .no_next_update = true }, &n);
    assert_int_equal(cachet_crl_parse(der, n, &crl), CACHET_OK);
    assert_int_not_equal(cachet_crl_validity(crl, &tu, &nu), CACHET_OK);
    cachet_crl_free(crl);
    free(der);
    cachet_x509_free(cax);
    cachet_x509_free(ox);
    testpki_free(ca);
    testpki_free(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_root_pin),
        cmocka_unit_test(test_json_span),
        cmocka_unit_test(test_url_decode),
        cmocka_unit_test(test_der_walker),
        cmocka_unit_test(test_pck_ext),
        cmocka_unit_test(test_level_order),
        cmocka_unit_test(test_qe_identity_parse),
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_quote_parse),
        cmocka_unit_test(test_detect),
        cmocka_unit_test(test_crl_info),
    };
    return cmocka_run_group_tests_name("tdx_units", tests, NULL, NULL);
}
