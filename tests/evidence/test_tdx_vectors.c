/* Real Intel TDX and SGX quotes (../shared/vectors/tdx, other/; MANIFEST.md
 * §2 and §7): each gets its manifest verdict at its pinned time against the
 * built-in Intel SGX Root CA, and negative cases are made from them by
 * mutation, each rejected with the failing check named. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "cachet/clock.h"
#include "cachet/encoding.h"
#include "cachet/evidence.h"
#include "ev_assert.h"
#include "evidence/registry.h"
#include "evidence/tdx/tdx.h"
#include "testpki.h"

#define TINFOIL "tdx/collateral_tinfoil_2026-01"
#define C50806F "tdx/collateral_50806f_gotdxguest_2023-06"
#define B0C06F "tdx/b0c06f_v4_dcapqvl_2025-06"

typedef struct vector {
    const char *name;
    const char *quote;
    bool hex;                 /* the quote file is hex text */
    const char *endorse[4];   /* files or directories */
    const char *at;
    const char *tee;
    cachet_ev_status status;
    bool verified;
    const char *tcb_status;
    const char *fail;         /* the one failing check, or NULL */
    const char *advisories;   /* JSON array text */
    bool debug;
} vector;

static const vector vectors[] = {
    { "b0c06f_v4_dcapqvl_2025-06", B0C06F "/quote.bin", false, { B0C06F "/collateral.json" },
      "2025-07-19T10:00:34Z", "tdx", CACHET_EV_AFFIRMING, true, "UpToDate", NULL, "[]", false },
    { "90c06f_v5_gotdxguest_2026-01", "tdx/90c06f_v5_gotdxguest_2026-01/quote.bin", false,
      { "tdx/90c06f_v5_gotdxguest_2026-01/tcb_info_90c06f000000_gotdxguest_2026-02.json", TINFOIL },
      "2026-02-03T01:00:00Z", "tdx", CACHET_EV_AFFIRMING, true, "UpToDate", NULL, "[]", false },
    { "90c06f_v5 with dcap-qvl collateral", "tdx/90c06f_v5_gotdxguest_2026-01/quote.bin", false,
      { "tdx/invalid_tcb_unsupported/90c06f_dcapqvl_collateral_2026-02.json" },
      "2026-03-01T00:00:00Z", "tdx", CACHET_EV_AFFIRMING, true, "UpToDate", NULL, "[]", false },
    { "50806f_v4_trustee_quote4_DEBUG_TD", "tdx/50806f_v4_trustee_quote4_DEBUG_TD/quote.bin", false,
      { C50806F }, "2023-07-01T01:00:00Z", "tdx", CACHET_EV_CONTRAINDICATED, true, "UpToDate",
      "tdx.td.debug", "[]", true },
    { "00a06d_v4_trustee_quote6_outofdate", "tdx/00a06d_v4_trustee_quote6_outofdate/quote.bin",
      false, { TINFOIL }, "2026-02-01T00:00:00Z", "tdx", CACHET_EV_WARNING, true, "OutOfDate",
      NULL, "[]", false },
    { "00a06d with trustee's 2025-10 collateral (no PCK CRL)",
      "tdx/00a06d_v4_trustee_quote6_outofdate/quote.bin", false,
      { "tdx/00a06d_v4_trustee_quote6_outofdate/tcb_info_00a06d080000_trustee_2025-10.json",
        "tdx/00a06d_v4_trustee_quote6_outofdate/qe_identity_trustee_2025-10.json",
        TINFOIL "/tcb_info_00a06d080000_chain.txt", TINFOIL "/root_ca.crl" },
      "2025-11-01T00:00:00Z", "tdx", CACHET_EV_WARNING, true, "OutOfDate", NULL, "[]", false },
    { "invalid: 90c06f_v5_dcapqvl_outdated", "tdx/invalid_tcb_unsupported/90c06f_v5_dcapqvl_outdated_quote.bin",
      false, { "tdx/invalid_tcb_unsupported/90c06f_dcapqvl_collateral_2026-02.json" },
      "2026-03-20T10:41:14Z", "tdx", CACHET_EV_CONTRAINDICATED, true, "TcbNotSupported",
      "tdx.tcb.level", "[]", false },
    { "invalid: b0c06f_v4_tappd", "tdx/invalid_tcb_unsupported/b0c06f_v4_tappd_quote.hex", true,
      { B0C06F "/collateral.json" }, "2025-07-19T10:00:34Z", "tdx", CACHET_EV_CONTRAINDICATED,
      true, "TcbNotSupported", "tdx.tcb.level", "[]", false },
    { "invalid: 50806f_v4_gotdxguest_SPR_E4", "tdx/invalid_tcb_unsupported/50806f_v4_gotdxguest_SPR_E4_quote.bin",
      false, { C50806F }, "2023-07-01T01:00:00Z", "tdx", CACHET_EV_CONTRAINDICATED, true,
      "TcbNotSupported", "tdx.tcb.level", "[]", false },
    { "invalid: 90c06f_v5_trustee_quote5", "tdx/invalid_tcb_unsupported/90c06f_v5_trustee_quote5.bin",
      false, { TINFOIL }, "2026-02-01T00:00:00Z", "tdx", CACHET_EV_CONTRAINDICATED, true,
      "TcbNotSupported", "tdx.tcb.level", "[]", false },
    { "00806f05_v4_gotdxguest_cos113_nocollateral",
      "tdx/00806f05_v4_gotdxguest_cos113_nocollateral/cos-113-tdx-quote.dat", false, { NULL },
      "2025-01-01T00:00:00Z", "tdx", CACHET_EV_WARNING, true, "unknown", NULL, NULL, false },
    { "azure td-quote (nocollateral)", "azure/tdx_vtpm_trustee_nocollateral/td-quote.bin", false,
      { NULL }, "2025-01-01T00:00:00Z", "tdx", CACHET_EV_WARNING, true, "unknown", NULL, NULL, false },
    { "sgx_00a067110000_dcapqvl_2025-06", "other/sgx_00a067110000_dcapqvl_2025-06/quote.bin", false,
      { "other/sgx_00a067110000_dcapqvl_2025-06/collateral.json" }, "2025-07-19T10:01:17Z", "sgx",
      CACHET_EV_WARNING, true, "ConfigurationAndSWHardeningNeeded", NULL,
      "[\"INTEL-SA-00289\",\"INTEL-SA-00615\"]", false },
    { "sgx_occlum_trustee_nocollateral", "other/sgx_occlum_trustee_nocollateral/quote.bin", false,
      { NULL }, "2025-01-01T00:00:00Z", "sgx", CACHET_EV_CONTRAINDICATED, true, "unknown",
      "sgx.enclave.debug", NULL, true },
};
#define N_VECTORS (sizeof vectors / sizeof vectors[0])

/* ---- helpers ------------------------------------------------------------------ */

static int64_t at(const char *s)
{
    int64_t t = 0;
    assert_int_equal(cachet_time_parse_rfc3339(s, &t), CACHET_OK);
    return t;
}

static uint8_t *read_vec(const char *rel, size_t *len)
{
    uint8_t *b = tu_read_vector(rel, len);
    if (!b) {
        print_message("# SKIP vector %s not found\n", rel);
        skip();
    }
    return b;
}

/* Hex text (white space ignored) to bytes. */
static uint8_t *unhex(const uint8_t *text, size_t len, size_t *out_len)
{
    char *clean = malloc(len + 1);
    assert_non_null(clean);
    size_t k = 0;
    for (size_t i = 0; i < len; i++)
        if (text[i] != '\n' && text[i] != '\r' && text[i] != ' ')
            clean[k++] = (char)text[i];
    clean[k] = 0;
    uint8_t *b = malloc(k / 2 + 1);
    assert_non_null(b);
    assert_int_equal(cachet_hex_decode(clean, b, k / 2 + 1, out_len), CACHET_OK);
    free(clean);
    return b;
}

static uint8_t *load_quote(const vector *v, size_t *len)
{
    TU_REQUIRE_VECTORS();
    uint8_t *q = read_vec(v->quote, len);
    if (v->hex) {
        size_t n;
        uint8_t *b = unhex(q, *len, &n);
        free(q);
        q = b;
        *len = n;
    }
    return q;
}

static void add_path(cachet_endorsements *e, const char *rel)
{
    char *p = tu_vector_path(rel);
    if (!p) {
        print_message("# SKIP vector %s not found\n", rel);
        cachet_endorsements_free(e);
        skip();
    }
    assert_int_equal(cachet_endorsements_add_path(e, p), CACHET_OK);
    free(p);
}

static cachet_endorsements *endorse(const vector *v)
{
    cachet_endorsements *e = cachet_endorsements_new();
    assert_non_null(e);
    for (size_t i = 0; i < 4 && v->endorse[i]; i++)
        add_path(e, v->endorse[i]);
    return e;
}

static const vector *find(const char *name)
{
    for (size_t i = 0; i < N_VECTORS; i++)
        if (strcmp(vectors[i].name, name) == 0)
            return &vectors[i];
    fail_msg("no vector %s", name);
    return NULL;
}

static char *id(const char *tee, const char *suffix)
{
    return tu_asprintf("%s.%s", tee, suffix);
}

/* ---- every vector's verdict ---------------------------------------------------- */

static void test_vector_verdict(void **state)
{
    const vector *v = *state;
    size_t len;
    uint8_t *q = load_quote(v, &len);
    cachet_endorsements *e = endorse(v);
    cachet_verify_result *r = ev_verify(q, len, e, at(v->at), NULL);

    assert_true(r->auto_detected);
    assert_string_equal(r->tee, v->tee);
    ev_assert_verdict(r, v->status, v->verified);
    if (v->fail) {
        ev_assert_fail(r, v->fail);
        ev_assert_only_failures(r, v->fail);
    } else {
        ev_assert_no_failures(r);
    }
    const char *must_pass[] = { "quote.format", "pck.chain", "pck.extensions", "qe_report.signature",
                                "qe_report.binding", "quote.signature" };
    for (size_t i = 0; i < sizeof must_pass / sizeof must_pass[0]; i++) {
        char *c = id(v->tee, must_pass[i]);
        ev_assert_pass(r, c);
        free(c);
    }
    assert_string_equal(ev_claim_str(r, "tcb_status"), v->tcb_status);
    assert_int_equal(json_is_true(json_object_get(r->claims, "debug")), v->debug);
    if (v->advisories) {
        char *adv = json_dumps(json_object_get(r->claims, "advisory_ids"), JSON_COMPACT);
        assert_non_null(adv);
        assert_string_equal(adv, v->advisories);
        free(adv);
    }
    if (!v->endorse[0]) {
        /* No collateral: authentic, TCB unjudged, never affirming. */
        char *c = id(v->tee, "tcb_info.select");
        ev_assert_na(r, c);
        free(c);
        assert_int_not_equal(r->status, CACHET_EV_AFFIRMING);
    }
    print_message("# %s: %s, verified=%s, tcb_status %s\n", v->name, cachet_ev_status_str(r->status),
                  r->verified ? "true" : "false", v->tcb_status);
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
    free(q);
}

/* Facts the manifest states about individual vectors. */
static void test_vector_facts(void **state)
{
    (void)state;
    size_t len;
    const vector *v = find("b0c06f_v4_dcapqvl_2025-06");
    uint8_t *q = load_quote(v, &len);
    cachet_endorsements *e = endorse(v);
    cachet_verify_result *r = ev_verify(q, len, e, at(v->at), NULL);
    assert_string_equal(ev_claim_str(r, "measurement"),
                        "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7");
    assert_string_equal(ev_claim_str(r, "mrtd"), ev_claim_str(r, "measurement"));
    assert_string_equal(ev_claim_str(r, "report_data"),
                        "9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9eca3efdbb481601c163cf52493d6e44aed55d51ec39b7e518fadb92c2b523f20");
    assert_string_equal(ev_claim_str(r, "td_attributes"), "0x0000000010000000");
    /* MANIFEST.md prints 0x206e7; the bytes e7 02 06 00.. read little-endian are 0x602e7. */
    assert_string_equal(ev_claim_str(r, "xfam"), "0x00000000000602e7");
    assert_string_equal(ev_claim_str(r, "fmspc"), "b0c06f000000");
    assert_string_equal(ev_claim_str(r, "pck_ca"), "platform");
    assert_string_equal(ev_claim_str(r, "sgx_type"), "Scalable");
    assert_string_equal(ev_claim_str(r, "rtmr3"),
                        "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000");
    json_t *tcb = json_object_get(r->claims, "tcb");
    assert_string_equal(json_string_value(json_object_get(tcb, "tdx_module_identity")), "TDX_01");
    assert_string_equal(json_string_value(json_object_get(tcb, "platform_tcb_date")),
                        "2024-03-13T00:00:00Z");
    json_t *pck = json_object_get(r->claims, "pck_tcb");
    assert_int_equal(json_integer_value(json_object_get(pck, "pcesvn")), 11);
    assert_true(json_is_true(json_object_get(json_object_get(r->claims, "td_attributes_flags"),
                                             "sept_ve_disable")));
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
    free(q);

    /* 00a06d: TDX_03 module identity UpToDate, MRCONFIGID non-zero, SGX type 2. */
    v = find("00a06d_v4_trustee_quote6_outofdate");
    q = load_quote(v, &len);
    e = endorse(v);
    r = ev_verify(q, len, e, at(v->at), NULL);
    tcb = json_object_get(r->claims, "tcb");
    assert_string_equal(json_string_value(json_object_get(tcb, "tdx_module_identity")), "TDX_03");
    assert_string_equal(json_string_value(json_object_get(tcb, "tdx_module_status")), "UpToDate");
    assert_string_equal(json_string_value(json_object_get(tcb, "platform_status")), "OutOfDate");
    assert_string_equal(ev_claim_str(r, "sgx_type"), "ScalableWithIntegrity");
    assert_memory_equal(ev_claim_str(r, "mrconfigid"), "889abf47", 8);
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
    free(q);

    /* The SGX quote: Processor CA, MRENCLAVE, report data "Hello, world!". */
    v = find("sgx_00a067110000_dcapqvl_2025-06");
    q = load_quote(v, &len);
    e = endorse(v);
    r = ev_verify(q, len, e, at(v->at), NULL);
    assert_string_equal(ev_claim_str(r, "pck_ca"), "processor");
    assert_string_equal(ev_claim_str(r, "measurement"),
                        "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb");
    assert_string_equal(ev_claim_str(r, "sgx_type"), "Standard");
    assert_memory_equal(ev_claim_str(r, "report_data"), "48656c6c6f2c20776f726c6421", 26);
    assert_int_equal(json_integer_value(json_object_get(r->claims, "quote_version")), 3);
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);
    free(q);
}

/* ---- mutations of real quotes ---------------------------------------------------- */

typedef struct real {
    uint8_t *q;
    size_t len;
    tdx_quote pq;
    cachet_endorsements *e;
    int64_t t;
} real;

static void real_load(real *x, const char *name)
{
    const vector *v = find(name);
    x->q = load_quote(v, &x->len);
    x->e = endorse(v);
    x->t = at(v->at);
    assert_int_equal(tdx_quote_parse(x->q, x->len, &x->pq), CACHET_OK);
}

static void real_free(real *x)
{
    cachet_endorsements_free(x->e);
    free(x->q);
}

/* Verify a mutated copy and expect `check` to fail (and the evidence to be
 * unverified when auth). */
static void expect_fail(real *x, uint8_t *mut, size_t len, const char *check, bool auth)
{
    ev_opts o = { .ops = &cachet_tdx_ops };
    cachet_verify_result *r = ev_verify(mut, len, x->e, x->t, &o);
    ev_assert_fail(r, check);
    assert_int_equal(r->status, CACHET_EV_CONTRAINDICATED);
    assert_int_equal(r->verified, !auth);
    cachet_verify_result_free(r);
}

static void flip_and_expect(real *x, size_t off, const char *check)
{
    uint8_t *m = malloc(x->len);
    assert_non_null(m);
    memcpy(m, x->q, x->len);
    m[off] ^= 0x01;
    expect_fail(x, m, x->len, check, true);
    free(m);
}

static void test_flipped_quote_signature(void **state)
{
    (void)state;
    real x;
    real_load(&x, "b0c06f_v4_dcapqvl_2025-06");
    flip_and_expect(&x, (size_t)(x.pq.signature - x.q) + 5, "tdx.quote.signature");
    flip_and_expect(&x, (size_t)(x.pq.signature - x.q) + 63, "tdx.quote.signature");
    real_free(&x);
}

static void test_flipped_body_and_header(void **state)
{
    (void)state;
    real x;
    real_load(&x, "b0c06f_v4_dcapqvl_2025-06");
    flip_and_expect(&x, 48 + 136, "tdx.quote.signature");      /* MRTD */
    flip_and_expect(&x, 48 + 520 + 63, "tdx.quote.signature"); /* last REPORTDATA byte */
    flip_and_expect(&x, 28, "tdx.quote.signature");            /* header user data */
    real_free(&x);
    real_load(&x, "90c06f_v5_gotdxguest_2026-01");
    flip_and_expect(&x, 54 + 600, "tdx.quote.signature");      /* MRSERVICETD (1.5 only) */
    real_free(&x);
}

static void test_qe_report_tampered(void **state)
{
    (void)state;
    real x;
    real_load(&x, "b0c06f_v4_dcapqvl_2025-06");
    flip_and_expect(&x, (size_t)(x.pq.qe_report_raw - x.q) + 128, "tdx.qe_report.signature");
    flip_and_expect(&x, (size_t)(x.pq.qe_report_sig - x.q) + 10, "tdx.qe_report.signature");
    real_free(&x);
}

static void test_wrong_qe_binding(void **state)
{
    (void)state;
    real x;
    real_load(&x, "b0c06f_v4_dcapqvl_2025-06");
    /* QE auth data is not covered by the QE report signature, only by the
     * binding: change it and only the binding fails. */
    uint8_t *m = malloc(x.len);
    memcpy(m, x.q, x.len);
    m[x.pq.qe_auth - x.q] ^= 0x80;
    ev_opts o = { .ops = &cachet_tdx_ops };
    cachet_verify_result *r = ev_verify(m, x.len, x.e, x.t, &o);
    ev_assert_fail(r, "tdx.qe_report.binding");
    ev_assert_pass(r, "tdx.qe_report.signature");
    ev_assert_pass(r, "tdx.quote.signature");
    ev_assert_only_failures(r, "tdx.qe_report.binding");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);
    free(m);
    /* Another attestation key: the binding fails (and so does the signature). */
    flip_and_expect(&x, (size_t)(x.pq.attest_key - x.q) + 3, "tdx.qe_report.binding");
    real_free(&x);
}

/* Re-assemble a v4/v5 quote around a different PEM chain. */
static uint8_t *with_chain(const real *x, const char *pem, size_t pem_len, size_t *out_len)
{
    const tdx_quote *p = &x->pq;
    size_t qe_part = 384 + 64 + 2 + p->qe_auth_len + 6 + pem_len;
    size_t sd = 128 + 6 + qe_part;
    size_t n = p->signed_len + 4 + sd;
    uint8_t *b = malloc(n), *w = b;
    assert_non_null(b);
    memcpy(w, x->q, p->signed_len), w += p->signed_len;
    cachet_put_le32(w, (uint32_t)sd), w += 4;
    memcpy(w, p->signature, 128), w += 128;
    cachet_put_le16(w, 6), w += 2;
    cachet_put_le32(w, (uint32_t)qe_part), w += 4;
    memcpy(w, p->qe_report_raw, 448), w += 448;
    cachet_put_le16(w, p->qe_auth_len), w += 2;
    memcpy(w, p->qe_auth, p->qe_auth_len), w += p->qe_auth_len;
    cachet_put_le16(w, 5), w += 2;
    cachet_put_le32(w, (uint32_t)pem_len), w += 4;
    memcpy(w, pem, pem_len), w += pem_len;
    assert_int_equal((size_t)(w - b), n);
    *out_len = n;
    return b;
}

/* The first `n` certificates of the quote's PEM chain. */
static char *chain_prefix(const real *x, int n)
{
    const char *s = (const char *)x->pq.pck_chain;
    const char *end = s;
    for (int i = 0; i < n; i++) {
        end = strstr(end, "-----END CERTIFICATE-----");
        assert_non_null(end);
        end += strlen("-----END CERTIFICATE-----\n");
    }
    char *p = malloc((size_t)(end - s) + 1);
    memcpy(p, s, (size_t)(end - s));
    p[end - s] = 0;
    return p;
}

static void test_pck_chain_mutations(void **state)
{
    (void)state;
    real x;
    real_load(&x, "b0c06f_v4_dcapqvl_2025-06");
    size_t n;

    /* The same chain re-assembled still verifies (the helper is right). */
    char *full = chain_prefix(&x, 3);
    uint8_t *m = with_chain(&x, full, strlen(full), &n);
    ev_opts o = { .ops = &cachet_tdx_ops };
    cachet_verify_result *r = ev_verify(m, n, x.e, x.t, &o);
    ev_assert_verdict(r, CACHET_EV_AFFIRMING, true);
    cachet_verify_result_free(r);
    free(m);

    /* Without the PCK CA the path cannot be built. */
    char *leaf = chain_prefix(&x, 1);
    m = with_chain(&x, leaf, strlen(leaf), &n);
    expect_fail(&x, m, n, "tdx.pck.chain", true);
    free(m);

    /* A look-alike "Intel SGX Root CA" in the quote is refused even though
     * the path itself ends at the pin. */
    testpki_cert *fake = testpki_mint(&(testpki_cert_opts){ .cn = "Intel SGX Root CA", .ca = true,
                                                            .not_before = x.t - 86400,
                                                            .not_after = x.t + 86400 }, NULL);
    assert_non_null(fake);
    char *two = chain_prefix(&x, 2), *fpem = testpki_pem(fake);
    char *sub = tu_asprintf("%s%s", two, fpem);
    m = with_chain(&x, sub, strlen(sub), &n);
    expect_fail(&x, m, n, "tdx.pck.supplied_root", true);
    free(m);

    /* Garbage instead of PEM. */
    m = with_chain(&x, "not a certificate", 17, &n);
    expect_fail(&x, m, n, "tdx.pck.chain", true);
    free(m);

    testpki_free(fake);
    free(full);
    free(leaf);
    free(two);
    free(fpem);
    free(sub);
    real_free(&x);
}

/* A copy of the combined collateral JSON with one edit inside the signed
 * tcb_info / qe_identity text. */
static cachet_endorsements *edited_collateral(const char *rel, const char *key, const char *from,
                                              const char *to)
{
    size_t len;
    uint8_t *raw = read_vec(rel, &len);
    json_t *j = json_loadb((const char *)raw, len, 0, NULL);
    assert_non_null(j);
    const char *text = json_string_value(json_object_get(j, key));
    assert_non_null(text);
    const char *hit = strstr(text, from);
    assert_non_null(hit);
    char *edited = tu_asprintf("%.*s%s%s", (int)(hit - text), text, to, hit + strlen(from));
    json_object_set_new(j, key, json_string(edited));
    char *out = json_dumps(j, JSON_COMPACT);
    cachet_endorsements *e = cachet_endorsements_new();
    assert_int_equal(cachet_endorsements_add_bytes(e, "edited-collateral.json", out, strlen(out)),
                     CACHET_OK);
    free(out);
    free(edited);
    json_decref(j);
    free(raw);
    return e;
}

static void test_tampered_tcb_info(void **state)
{
    (void)state;
    real x;
    real_load(&x, "b0c06f_v4_dcapqvl_2025-06");
    /* One byte of the signed TCB info: the evaluation data number 17 -> 18. */
    cachet_endorsements *e = edited_collateral(B0C06F "/collateral.json", "tcb_info",
                                               "\"tcbEvaluationDataNumber\":17",
                                               "\"tcbEvaluationDataNumber\":18");
    ev_opts o = { .ops = &cachet_tdx_ops };
    cachet_verify_result *r = ev_verify(x.q, x.len, e, x.t, &o);
    ev_assert_fail(r, "tdx.tcb_info.signature");
    ev_assert_pass(r, "tdx.quote.signature");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    assert_string_equal(ev_claim_str(r, "tcb_status"), "unknown");
    cachet_verify_result_free(r);
    cachet_endorsements_free(e);

    /* A PCS body (raw bytes as served): one byte of the QE identity. */
    real_free(&x);
    real_load(&x, "00a06d_v4_trustee_quote6_outofdate");
    cachet_endorsements_free(x.e);
    x.e = cachet_endorsements_new();
    static const char *const files[] = {
        "qe_identity_chain.txt", "root_ca.crl", "pck_crl_platform.crl", "pck_crl_platform_chain.txt",
        "tcb_info_00a06d080000.json", "tcb_info_00a06d080000_chain.txt",
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char *rel = tu_asprintf(TINFOIL "/%s", files[i]);
        add_path(x.e, rel);
        free(rel);
    }
    size_t qlen;
    uint8_t *qe = read_vec(TINFOIL "/qe_identity.json", &qlen);
    char *hit = strstr((char *)qe, "\"isvprodid\":2");
    assert_non_null(hit);
    hit[12] = '3';
    assert_int_equal(cachet_endorsements_add_bytes(x.e, "qe_identity.json", qe, qlen), CACHET_OK);
    r = ev_verify(x.q, x.len, x.e, x.t, &o);
    ev_assert_fail(r, "tdx.qe_identity.signature");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);
    free(qe);
    real_free(&x);
}

static void test_expired_collateral(void **state)
{
    (void)state;
    real x;
    real_load(&x, "b0c06f_v4_dcapqvl_2025-06");
    ev_opts o = { .ops = &cachet_tdx_ops };
    /* A day after the TCB info's nextUpdate (and the PCK CRL's). */
    cachet_verify_result *r = ev_verify(x.q, x.len, x.e, at("2025-07-20T12:00:00Z"), &o);
    ev_assert_fail(r, "tdx.tcb_info.validity");
    ev_assert_fail(r, "tdx.qe_identity.validity");
    ev_assert_fail(r, "tdx.crl.pck");
    assert_int_equal(r->status, CACHET_EV_CONTRAINDICATED);
    cachet_verify_result_free(r);
    /* Before it was issued. */
    r = ev_verify(x.q, x.len, x.e, at("2025-06-01T00:00:00Z"), &o);
    ev_assert_fail(r, "tdx.tcb_info.validity");
    assert_int_equal(r->status, CACHET_EV_CONTRAINDICATED);
    cachet_verify_result_free(r);
    /* Past the PCK certificate's notAfter (2032-02-06). */
    r = ev_verify(x.q, x.len, x.e, at("2033-01-01T00:00:00Z"), &o);
    ev_assert_fail(r, "tdx.pck.chain");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);
    real_free(&x);
}

static void test_fmspc_mismatch(void **state)
{
    (void)state;
    real x;
    real_load(&x, "00a06d_v4_trustee_quote6_outofdate");
    cachet_endorsements_free(x.e);
    x.e = cachet_endorsements_new();
    /* Everything from tinfoil except the TCB info for this platform's FMSPC. */
    static const char *const files[] = {
        "qe_identity.json", "qe_identity_chain.txt", "root_ca.crl", "pck_crl_platform.crl",
        "tcb_info_90c06f000000.json", "tcb_info_90c06f000000_chain.txt",
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char *rel = tu_asprintf(TINFOIL "/%s", files[i]);
        add_path(x.e, rel);
        free(rel);
    }
    ev_opts o = { .ops = &cachet_tdx_ops };
    cachet_verify_result *r = ev_verify(x.q, x.len, x.e, x.t, &o);
    ev_assert_fail(r, "tdx.tcb_info.fmspc");
    ev_assert_only_failures(r, "tdx.tcb_info.fmspc");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    const cachet_check *c = cachet_checklog_find(r->checks, "tdx.tcb_info.fmspc");
    assert_string_equal(c->expected, "00a06d080000");
    assert_string_equal(c->actual, "90c06f000000");
    cachet_verify_result_free(r);
    real_free(&x);
}

static void test_qe_identity_mismatch(void **state)
{
    (void)state;
    /* The SGX QE identity ("QE") offered for a TD quote. */
    real x;
    real_load(&x, "b0c06f_v4_dcapqvl_2025-06");
    cachet_endorsements *e = cachet_endorsements_new();
    size_t len;
    uint8_t *tdx = read_vec(B0C06F "/collateral.json", &len);
    json_t *j = json_loadb((const char *)tdx, len, 0, NULL);
    uint8_t *sgx = read_vec("other/sgx_00a067110000_dcapqvl_2025-06/collateral.json", &len);
    json_t *s = json_loadb((const char *)sgx, len, 0, NULL);
    assert_non_null(j);
    assert_non_null(s);
    json_object_set(j, "qe_identity", json_object_get(s, "qe_identity"));
    json_object_set(j, "qe_identity_signature", json_object_get(s, "qe_identity_signature"));
    char *out = json_dumps(j, JSON_COMPACT);
    assert_int_equal(cachet_endorsements_add_bytes(e, "mixed.json", out, strlen(out)), CACHET_OK);
    ev_opts o = { .ops = &cachet_tdx_ops };
    cachet_verify_result *r = ev_verify(x.q, x.len, e, at("2025-07-19T10:00:00Z"), &o);
    ev_assert_fail(r, "tdx.qe_identity.id");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);
    free(out);
    json_decref(j);
    json_decref(s);
    free(tdx);
    free(sgx);
    cachet_endorsements_free(e);
    real_free(&x);
}

static void test_nonce(void **state)
{
    (void)state;
    real x;
    real_load(&x, "b0c06f_v4_dcapqvl_2025-06");
    uint8_t wrong[32];
    memset(wrong, 0x11, sizeof wrong);
    ev_opts o = { .ops = &cachet_tdx_ops, .nonce = wrong, .nonce_len = sizeof wrong };
    cachet_verify_result *r = ev_verify(x.q, x.len, x.e, x.t, &o);
    ev_assert_fail(r, "tdx.report_data.nonce");
    ev_assert_only_failures(r, "tdx.report_data.nonce");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, true);
    assert_string_equal(ev_claim_str(r, "freshness"), "mismatch");
    cachet_verify_result_free(r);

    o.nonce = x.pq.td.reportdata;
    o.nonce_len = 64;
    r = ev_verify(x.q, x.len, x.e, x.t, &o);
    ev_assert_pass(r, "tdx.report_data.nonce");
    ev_assert_verdict(r, CACHET_EV_AFFIRMING, true);
    assert_string_equal(ev_claim_str(r, "freshness"), "nonce-matched");
    cachet_verify_result_free(r);

    /* 00a06d's REPORTDATA is 48 bytes + 16 zeros: a 48-byte nonce matches. */
    real_free(&x);
    real_load(&x, "00a06d_v4_trustee_quote6_outofdate");
    o.nonce = x.pq.td.reportdata;
    o.nonce_len = 48;
    r = ev_verify(x.q, x.len, x.e, x.t, &o);
    ev_assert_pass(r, "tdx.report_data.nonce");
    cachet_verify_result_free(r);
    real_free(&x);
}

static void test_truncated(void **state)
{
    (void)state;
    real x;
    real_load(&x, "b0c06f_v4_dcapqvl_2025-06");
    size_t end = x.pq.signed_len + 4 + x.pq.sig_data_len; /* padding follows */
    ev_opts o = { .ops = &cachet_tdx_ops };
    size_t checked = 0;
    for (size_t n = 0; n < end; n += (n < 700 ? 1 : 97)) {
        cachet_verify_result *r = ev_verify(x.q, n, x.e, x.t, &o);
        ev_assert_fail(r, "tdx.quote.format");
        ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
        cachet_verify_result_free(r);
        checked++;
    }
    /* Cutting only padding leaves a valid quote. */
    cachet_verify_result *r = ev_verify(x.q, end, x.e, x.t, &o);
    ev_assert_verdict(r, CACHET_EV_AFFIRMING, true);
    cachet_verify_result_free(r);
    print_message("# %zu truncations rejected\n", checked);
    real_free(&x);
}

static void test_huge_lengths(void **state)
{
    (void)state;
    real x;
    real_load(&x, "b0c06f_v4_dcapqvl_2025-06");
    const uint8_t *q = x.q;
    size_t sdl = x.pq.signed_len;                       /* signature_data_len */
    size_t cdl = (size_t)(x.pq.attest_key - q) + 64 + 2; /* certification data size */
    size_t aul = (size_t)(x.pq.qe_report_sig - q) + 64;  /* QE auth data size (u16) */
    size_t pem = (size_t)(x.pq.qe_auth - q) + x.pq.qe_auth_len + 2; /* PEM size */
    const struct { size_t off; uint32_t v; int width; } cases[] = {
        { sdl, 0xffffffffu, 4 }, { sdl, 0x80000000u, 4 }, { sdl, 10, 4 },
        { cdl, 0xfffffff0u, 4 }, { cdl, 0, 4 },
        { aul, 0xffff, 2 }, { aul, 4000, 2 },
        { pem, 0xffffffffu, 4 }, { pem, 1, 4 },
    };
    uint8_t *m = malloc(x.len);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(m, q, x.len);
        if (cases[i].width == 4)
            cachet_put_le32(m + cases[i].off, cases[i].v);
        else
            cachet_put_le16(m + cases[i].off, (uint16_t)cases[i].v);
        expect_fail(&x, m, x.len, "tdx.quote.format", true);
    }
    free(m);
    real_free(&x);

    /* v5: a body size that is not the layout's. */
    real_load(&x, "90c06f_v5_gotdxguest_2026-01");
    m = malloc(x.len);
    memcpy(m, x.q, x.len);
    cachet_put_le32(m + 50, 0xffffff00u);
    expect_fail(&x, m, x.len, "tdx.quote.format", true);
    memcpy(m, x.q, x.len);
    cachet_put_le16(m + 48, 1); /* an SGX body in a TDX quote */
    expect_fail(&x, m, x.len, "tdx.quote.format", true);
    free(m);
    real_free(&x);
}

static void test_wrong_family_and_anchors(void **state)
{
    (void)state;
    real x;
    real_load(&x, "b0c06f_v4_dcapqvl_2025-06");
    ev_opts o = { .tee = "sgx" };
    cachet_verify_result *r = ev_verify(x.q, x.len, x.e, x.t, &o);
    ev_assert_fail(r, "sgx.quote.tee_type");
    ev_assert_verdict(r, CACHET_EV_CONTRAINDICATED, false);
    cachet_verify_result_free(r);

    /* --trust-anchor never stands in for the Intel root (noted, unused). */
    testpki_cert *ta = testpki_mint(&(testpki_cert_opts){ .cn = "Some CA", .ca = true }, NULL);
    cachet_x509 *anchors[1] = { testpki_x509(ta) };
    o = (ev_opts){ .tee = "tdx", .anchors = anchors, .n_anchors = 1 };
    r = ev_verify(x.q, x.len, x.e, x.t, &o);
    ev_assert_na(r, "tdx.pck.trust_anchors");
    ev_assert_verdict(r, CACHET_EV_AFFIRMING, true);
    cachet_verify_result_free(r);
    cachet_x509_free(anchors[0]);
    testpki_free(ta);

    /* The alias and the SGX quote through --tee tdx. */
    o = (ev_opts){ .tee = "intel-tdx" };
    r = ev_verify(x.q, x.len, x.e, x.t, &o);
    assert_string_equal(r->tee, "tdx");
    cachet_verify_result_free(r);
    real_free(&x);
}

static void test_cache(void **state)
{
    (void)state;
    real x;
    real_load(&x, "b0c06f_v4_dcapqvl_2025-06");
    cachet_verify_cache *c = cachet_verify_cache_new(16);
    ev_opts o = { .ops = &cachet_tdx_ops, .cache = c };
    cachet_verify_result *r1 = ev_verify(x.q, x.len, x.e, x.t, &o);
    ev_assert_verdict(r1, CACHET_EV_AFFIRMING, true);
    assert_int_equal(cachet_verify_cache_hits(c), 0);
    cachet_verify_result *r2 = ev_verify(x.q, x.len, x.e, x.t - 3600, &o);
    ev_assert_verdict(r2, CACHET_EV_AFFIRMING, true);
    ev_assert_pass(r2, "tdx.collateral.cache");
    assert_int_equal(cachet_verify_cache_hits(c), 1);
    /* Same checks otherwise, same claims. */
    assert_int_equal(cachet_checklog_count(r2->checks), cachet_checklog_count(r1->checks) + 1);
    assert_true(json_equal(r1->claims, r2->claims));
    /* A flipped quote signature is still caught on a hit. */
    uint8_t *m = malloc(x.len);
    memcpy(m, x.q, x.len);
    m[x.pq.signature - x.q] ^= 1;
    cachet_verify_result *r3 = ev_verify(m, x.len, x.e, x.t, &o);
    ev_assert_pass(r3, "tdx.collateral.cache");
    ev_assert_fail(r3, "tdx.quote.signature");
    ev_assert_verdict(r3, CACHET_EV_CONTRAINDICATED, false);
    /* Outside the collateral window: no hit, and the expiry is reported. */
    cachet_verify_result *r4 = ev_verify(x.q, x.len, x.e, at("2025-07-20T00:00:00Z"), &o);
    ev_assert_fail(r4, "tdx.tcb_info.validity");
    /* Different endorsements: a different key. */
    real y;
    real_load(&y, "b0c06f_v4_dcapqvl_2025-06");
    cachet_endorsements *none = cachet_endorsements_new();
    cachet_verify_result *r5 = ev_verify(x.q, x.len, none, x.t, &o);
    ev_assert_na(r5, "tdx.tcb_info.select");
    assert_null(cachet_checklog_find(r5->checks, "tdx.collateral.cache"));
    cachet_verify_result_free(r1);
    cachet_verify_result_free(r2);
    cachet_verify_result_free(r3);
    cachet_verify_result_free(r4);
    cachet_verify_result_free(r5);
    cachet_endorsements_free(none);
    cachet_verify_cache_free(c);
    free(m);
    real_free(&y);
    real_free(&x);
}

typedef struct worker {
    real *x;
    cachet_verify_cache *cache;
    int ok;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < 25; i++) {
        cachet_verify_request req = { .evidence = w->x->q, .evidence_len = w->x->len,
                                      .endorsements = w->x->e, .time = w->x->t - i,
                                      .cache = w->cache };
        cachet_verify_result *r = NULL;
        if (cachet_evidence_verify_with(&cachet_tdx_ops, &req, &r) == CACHET_OK && r->verified &&
            r->status == CACHET_EV_AFFIRMING)
            w->ok++;
        cachet_verify_result_free(r);
    }
    return NULL;
}

/* Several threads share one cache (and the family's platform table). */
static void test_cache_threads(void **state)
{
    (void)state;
    real x;
    real_load(&x, "b0c06f_v4_dcapqvl_2025-06");
    cachet_verify_cache *c = cachet_verify_cache_new(8);
    pthread_t th[4];
    worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){ .x = &x, .cache = c };
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].ok, 25);
    }
    assert_true(cachet_verify_cache_hits(c) >= 90);
    cachet_verify_cache_free(c);
    real_free(&x);
}

static void test_trailing_bytes(void **state)
{
    (void)state;
    /* go-tdx-guest appends text after the signature data: ignored, reported. */
    real x;
    real_load(&x, "invalid: 50806f_v4_gotdxguest_SPR_E4");
    assert_int_equal(x.pq.trailing, 39);
    ev_opts o = { .ops = &cachet_tdx_ops };
    cachet_verify_result *r = ev_verify(x.q, x.len, x.e, x.t, &o);
    const cachet_check *c = cachet_checklog_find(r->checks, "tdx.quote.format");
    assert_non_null(strstr(c->detail, "39 bytes after the signature data"));
    cachet_verify_result_free(r);
    real_free(&x);
}

int main(void)
{
    struct CMUnitTest tests[N_VECTORS + 17];
    size_t n = 0;
    for (size_t i = 0; i < N_VECTORS; i++) {
        tests[n] = (struct CMUnitTest)cmocka_unit_test_prestate(test_vector_verdict, (void *)&vectors[i]);
        tests[n++].name = vectors[i].name;
    }
    const struct CMUnitTest more[] = {
        cmocka_unit_test(test_vector_facts),
        cmocka_unit_test(test_flipped_quote_signature),
        cmocka_unit_test(test_flipped_body_and_header),
        cmocka_unit_test(test_qe_report_tampered),
        cmocka_unit_test(test_wrong_qe_binding),
        cmocka_unit_test(test_pck_chain_mutations),
        cmocka_unit_test(test_tampered_tcb_info),
        cmocka_unit_test(test_expired_collateral),
        cmocka_unit_test(test_fmspc_mismatch),
        cmocka_unit_test(test_qe_identity_mismatch),
        cmocka_unit_test(test_nonce),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_huge_lengths),
        cmocka_unit_test(test_wrong_family_and_anchors),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_cache_threads),
        cmocka_unit_test(test_trailing_bytes),
    };
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++)
        tests[n++] = more[i];
    return _cmocka_run_group_tests("tdx_vectors", tests, n, NULL, NULL);
}
