/* nvgpu units: the root pins, the SPDM and opaque-data parsers, FWID
 * extraction, evidence decoding and detection, the hardened RIM reader
 * (DOCTYPE, wrapping, signature shape) and the OCSP checker. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"

#include "cachet/encoding.h"
#include "cachet/evidence.h"
#include "evidence/nvgpu/nvgpu.h"
#include "evidence/registry.h"
#include "nvgpu_gen.h"

static nvgen_pki *pki;
static int64_t t_now;

static int setup(void **state)
{
    (void)state;
    t_now = (int64_t)time(NULL);
    pki = nvgen_pki_new(t_now, false);
    return pki ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    nvgen_pki_free(pki);
    return 0;
}

static uint8_t *gen_report(const nvgen_report *o, size_t *len)
{
    uint8_t *r = nvgen_report_build(pki, o, len);
    assert_non_null(r);
    return r;
}

static uint8_t *default_report(size_t *len)
{
    nvgen_report o;
    nvgen_report_defaults(&o);
    return gen_report(&o, len);
}

/* ---- pins (evidence-formats §0.4) ------------------------------------------------------ */

static void test_root_pins(void **state)
{
    (void)state;
    /* Independent copies of the §0.4 table. */
    static const char *const cert_fp[] = {
        "102bf659d5419614c9d8e6aecebc80454eb26b1df6a769ac720b9a690b167b48",
        "12977b5115acb0381179279fffeb5a8c4d264971ebb32298023a465fa41df5d1",
    };
    static const char *const spki_fp[] = {
        "a90c4eb5acfd3e3d03a25db6a26b84f720ad0503196c627c21ddd48dd85b06a4",
        "dec1dc316477aa851eebdf51327ae9f864bc8d89254657ed1e7eb9168af1e1a3",
    };
    static const char *const cns[] = { "NVIDIA Device Identity CA", "NVIDIA CoRIM signing Root CA" };
    size_t n = 0;
    const nvgpu_root_pin *pins = nvgpu_root_pins(&n);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++) {
        cachet_x509 *c = NULL;
        assert_int_equal(cachet_x509_parse((const uint8_t *)pins[i].pem, strlen(pins[i].pem), &c),
                         CACHET_OK);
        uint8_t fp[32];
        char hex[65], cn[64];
        assert_int_equal(cachet_x509_fingerprint(c, fp), CACHET_OK);
        cachet_hex_encode(fp, 32, hex);
        assert_string_equal(hex, cert_fp[i]);
        assert_int_equal(cachet_x509_spki_fingerprint(c, fp), CACHET_OK);
        cachet_hex_encode(fp, 32, hex);
        assert_string_equal(hex, spki_fp[i]);
        assert_int_equal(cachet_x509_subject_cn(c, cn, sizeof cn), CACHET_OK);
        assert_string_equal(cn, cns[i]);
        cachet_x509_free(c);
    }
    const nvgpu_trust *t = nvgpu_trust_builtin();
    assert_non_null(t);
    char cn[64];
    assert_int_equal(cachet_x509_subject_cn(t->device_root, cn, sizeof cn), CACHET_OK);
    assert_string_equal(cn, "NVIDIA Device Identity CA");
    assert_int_equal(cachet_x509_subject_cn(t->rim_root, cn, sizeof cn), CACHET_OK);
    assert_string_equal(cn, "NVIDIA CoRIM signing Root CA");

    /* The public vectors' copies are the same certificates. */
    static const char *const rel[] = { "nvgpu/nvidia_roots/NVIDIA_Device_Identity_CA.pem",
                                       "nvgpu/nvidia_roots/NVIDIA_CoRIM_signing_Root_CA.pem" };
    for (size_t i = 0; i < 2; i++) {
        size_t len;
        uint8_t *pem = tu_read_vector(rel[i], &len);
        if (!pem) {
            print_message("# vectors absent: root files not compared\n");
            continue;
        }
        cachet_x509 *c = NULL;
        uint8_t fp[32];
        char hex[65];
        assert_int_equal(cachet_x509_parse(pem, len, &c), CACHET_OK);
        assert_int_equal(cachet_x509_fingerprint(c, fp), CACHET_OK);
        cachet_hex_encode(fp, 32, hex);
        assert_string_equal(hex, cert_fp[i]);
        cachet_x509_free(c);
        free(pem);
    }
}

static void test_family_registered(void **state)
{
    (void)state;
    assert_ptr_equal(cachet_evidence_find("nvgpu"), &cachet_nvgpu_ops);
    assert_ptr_equal(cachet_evidence_find("nvidia"), &cachet_nvgpu_ops);
}

/* ---- formats ------------------------------------------------------------------------- */

static void test_vbios_format(void **state)
{
    (void)state;
    char out[20];
    const uint8_t a[8] = { 0x00, 0x5e, 0x00, 0x96, 0x01, 0, 0, 0 };
    nvgpu_vbios_format(a, out);
    assert_string_equal(out, "96.00.5E.00.01");
    const uint8_t b[8] = { 0x00, 0x74, 0x00, 0x96, 0x1a, 0, 0, 0 };
    nvgpu_vbios_format(b, out);
    assert_string_equal(out, "96.00.74.00.1A");
    assert_true(nvgpu_version_is_vbios("96.00.5E.00.01"));
    assert_true(nvgpu_version_is_vbios("97.00.88.00.0f"));
    assert_false(nvgpu_version_is_vbios("550.90.07"));
    assert_false(nvgpu_version_is_vbios("545.00"));
    assert_false(nvgpu_version_is_vbios("96.00.5E.00.0G"));
    assert_false(nvgpu_version_is_vbios(""));
}

/* ---- SPDM ------------------------------------------------------------------------------- */

static void test_spdm_parse_good(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = default_report(&len);
    nvgpu_report r;
    nvgpu_parse_stage st;
    assert_int_equal(nvgpu_report_parse(b, len, &r, &st), CACHET_OK);
    assert_int_equal(r.n_blocks, 64);
    assert_int_equal(r.record_len, 64 * 55);
    assert_int_equal(r.signed_len, len - NVGPU_SIG_LEN);
    assert_int_equal(r.trailing, 0);
    assert_string_equal(r.od.driver_version, "550.144.03");
    assert_string_equal(r.od.vbios_version, "96.00.9F.00.01");
    assert_string_equal(r.od.project, "1010");
    assert_non_null(r.od.fwid);
    assert_int_equal(r.od.nvdec0, 0);
    const nvgpu_block *blk = nvgpu_report_block(&r, 10);
    assert_non_null(blk);
    assert_int_equal(blk->index, 10);
    assert_int_equal(blk->value_len, 48);
    assert_null(nvgpu_report_block(&r, 65));
    assert_int_equal(nvgpu_report_block(&r, 0) == NULL, 1);
    free(b);
}

static void test_spdm_truncations(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = default_report(&len);
    /* Every prefix fails cleanly, never reads past the end (ASan). */
    for (size_t n = 0; n < len; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, b, n);
        nvgpu_report r;
        nvgpu_parse_stage st = NVGPU_PARSE_OK;
        assert_int_not_equal(nvgpu_report_parse(n ? copy : NULL, n, &r, &st), CACHET_OK);
        assert_int_not_equal(st, NVGPU_PARSE_OK);
        free(copy);
    }
    free(b);
}

static void expect_stage(uint8_t *b, size_t len, nvgpu_parse_stage want, uint32_t code)
{
    nvgpu_report r;
    nvgpu_parse_stage st = NVGPU_PARSE_OK;
    cachet_rc rc = nvgpu_report_parse(b, len, &r, &st);
    if (st != want || cachet_rc_code(rc) != code)
        print_error("stage %d rc %u (%s), wanted stage %d code %u\n", st, cachet_rc_code(rc),
                    cachet_err_detail(), want, code);
    assert_int_equal(st, want);
    assert_int_equal(cachet_rc_code(rc), code);
}

static void test_spdm_mutations(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = default_report(&len);
    const size_t resp = NVGPU_REQUEST_LEN;
    const size_t rec = resp + 8;
    struct {
        size_t off;
        uint8_t val;
        nvgpu_parse_stage st;
        uint32_t code;
    } m[] = {
        { 1, 0xE1, NVGPU_PARSE_REQUEST, CACHET_E_FORMAT },        /* not GET_MEASUREMENTS */
        { 2, 0x00, NVGPU_PARSE_REQUEST, CACHET_E_FORMAT },        /* no signature requested */
        { 2, 0x03, NVGPU_PARSE_REQUEST, CACHET_E_FORMAT },        /* reserved Param1 bits */
        { 3, 0x00, NVGPU_PARSE_REQUEST, CACHET_E_FORMAT },        /* count only */
        { 36, 0x09, NVGPU_PARSE_REQUEST, CACHET_E_FORMAT },       /* slot 9 */
        { 0, 0x12, NVGPU_PARSE_REQUEST, CACHET_E_UNSUPPORTED },   /* SPDM 1.2 */
        { 0, 0x21, NVGPU_PARSE_REQUEST, CACHET_E_FORMAT },        /* SPDM 2.x */
        { resp + 1, 0x61, NVGPU_PARSE_RESPONSE, CACHET_E_FORMAT },
        { resp + 0, 0x10, NVGPU_PARSE_RESPONSE, CACHET_E_FORMAT }, /* version differs */
        { resp + 3, 0x02, NVGPU_PARSE_RESPONSE, CACHET_E_FORMAT }, /* slot differs */
        { resp + 4, 0x00, NVGPU_PARSE_MEASUREMENTS, CACHET_E_FORMAT },
        { resp + 4, 0x41, NVGPU_PARSE_MEASUREMENTS, CACHET_E_FORMAT },  /* more blocks than held */
        { resp + 4, 0x3F, NVGPU_PARSE_MEASUREMENTS, CACHET_E_FORMAT },  /* fewer: bytes left over */
        { rec + 1, 0x02, NVGPU_PARSE_MEASUREMENTS, CACHET_E_FORMAT },   /* not DMTF */
        { rec + 0, 0x00, NVGPU_PARSE_MEASUREMENTS, CACHET_E_FORMAT },   /* index 0 */
        { rec + 55, 0x01, NVGPU_PARSE_MEASUREMENTS, CACHET_E_FORMAT },  /* index 1 twice */
        { rec + 5, 0x2F, NVGPU_PARSE_MEASUREMENTS, CACHET_E_FORMAT },   /* value size 47 != 48 */
        { rec + 3, 0xFF, NVGPU_PARSE_MEASUREMENTS, CACHET_E_TRUNCATED }, /* block runs past */
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        uint8_t *c = malloc(len);
        memcpy(c, b, len);
        c[m[i].off] = m[i].val;
        if (m[i].off == 0)
            c[resp] = m[i].val; /* keep request and response versions equal */
        expect_stage(c, len, m[i].st, m[i].code);
        free(c);
    }
    /* Record length pointing past the report. */
    uint8_t *c = malloc(len);
    memcpy(c, b, len);
    c[resp + 7] = 0x7F;
    expect_stage(c, len, NVGPU_PARSE_MEASUREMENTS, CACHET_E_TRUNCATED);
    /* OpaqueLength above 1024. */
    memcpy(c, b, len);
    size_t ol = rec + 64 * 55 + 32;
    c[ol] = 0x01;
    c[ol + 1] = 0x04;
    expect_stage(c, len, NVGPU_PARSE_OPAQUE, CACHET_E_FORMAT);
    free(c);
    /* Too large for NVML's buffer. */
    uint8_t *big = calloc(1, NVGPU_REPORT_MAX + 1);
    memcpy(big, b, len);
    expect_stage(big, NVGPU_REPORT_MAX + 1, NVGPU_PARSE_SIZE, CACHET_E_FORMAT);
    free(big);
    free(b);
}

static void test_spdm_trailing(void **state)
{
    (void)state;
    nvgen_report o;
    nvgen_report_defaults(&o);
    o.trailing = 3;
    size_t len;
    uint8_t *b = gen_report(&o, &len);
    nvgpu_report r;
    nvgpu_parse_stage st;
    assert_int_equal(nvgpu_report_parse(b, len, &r, &st), CACHET_OK);
    assert_int_equal(r.trailing, 3);
    assert_int_equal(r.signed_len, len - 3 - NVGPU_SIG_LEN);
    free(b);
    o.trailing_byte = 0x01;
    b = gen_report(&o, &len);
    expect_stage(b, len, NVGPU_PARSE_TRAILING, CACHET_E_FORMAT);
    free(b);
}

/* ---- opaque data -------------------------------------------------------------------- */

static void test_opaque(void **state)
{
    (void)state;
    nvgpu_opaque o;
    /* driver "1.0", VBIOS, unknown type 99, FWID, NVDEC0 enabled. */
    uint8_t good[200];
    size_t n = 0;
#define T(type, len)                                                                           \
    do {                                                                                       \
        good[n++] = (uint8_t)(type);                                                           \
        good[n++] = (uint8_t)((type) >> 8);                                                    \
        good[n++] = (uint8_t)(len);                                                            \
        good[n++] = 0;                                                                         \
    } while (0)
    T(3, 4);
    memcpy(good + n, "1.0\0", 4);
    n += 4;
    T(6, 8);
    const uint8_t vb[8] = { 0x00, 0x5e, 0x00, 0x96, 0x01, 0, 0, 0 };
    memcpy(good + n, vb, 8);
    n += 8;
    T(99, 2);
    good[n++] = 1;
    good[n++] = 2;
    T(20, 48);
    memset(good + n, 0x77, 48);
    n += 48;
    T(11, 1);
    good[n++] = 0xAA;
    assert_int_equal(nvgpu_opaque_parse(good, n, &o), CACHET_OK);
    assert_string_equal(o.driver_version, "1.0");
    assert_string_equal(o.vbios_version, "96.00.5E.00.01");
    assert_int_equal(o.n_tlvs, 5);
    assert_int_equal(o.n_unknown, 1);
    assert_int_equal(o.nvdec0, 1);
    assert_non_null(o.fwid);
    /* Cut inside the last entry. */
    assert_int_equal(cachet_rc_code(nvgpu_opaque_parse(good, n - 1, &o)), CACHET_E_TRUNCATED);
    /* A repeated known type. */
    uint8_t dup[16] = { 3, 0, 2, 0, 'a', 0, 3, 0, 2, 0, 'b', 0 };
    assert_int_equal(cachet_rc_code(nvgpu_opaque_parse(dup, 12, &o)), CACHET_E_FORMAT);
    /* Wrong sizes and values. */
    uint8_t vb7[11] = { 6, 0, 7, 0 };
    assert_int_equal(cachet_rc_code(nvgpu_opaque_parse(vb7, 11, &o)), CACHET_E_FORMAT);
    uint8_t fw[4 + 47] = { 20, 0, 47, 0 };
    assert_int_equal(cachet_rc_code(nvgpu_opaque_parse(fw, sizeof fw, &o)), CACHET_E_FORMAT);
    uint8_t nv[5] = { 11, 0, 1, 0, 0x12 };
    assert_int_equal(cachet_rc_code(nvgpu_opaque_parse(nv, 5, &o)), CACHET_E_FORMAT);
    uint8_t np[8] = { 3, 0, 4, 0, 'a', 0x07, 'b', 0 };
    assert_int_equal(cachet_rc_code(nvgpu_opaque_parse(np, 8, &o)), CACHET_E_FORMAT);
    uint8_t after_nul[8] = { 3, 0, 4, 0, 'a', 0, 'b', 0 };
    assert_int_equal(cachet_rc_code(nvgpu_opaque_parse(after_nul, 8, &o)), CACHET_E_FORMAT);
    uint8_t invalid[5] = { 255, 0, 1, 0, 0 };
    assert_int_equal(cachet_rc_code(nvgpu_opaque_parse(invalid, 5, &o)), CACHET_E_FORMAT);
    assert_int_equal(nvgpu_opaque_parse(NULL, 0, &o), CACHET_OK); /* empty is allowed */
#undef T
}

/* ---- FWID ----------------------------------------------------------------------------- */

static void test_fwid(void **state)
{
    (void)state;
    uint8_t out[48];
    cachet_x509 *leaf = testpki_x509(pki->leaf);
    assert_int_equal(nvgpu_fwid_from_cert(leaf, out), CACHET_OK);
    assert_memory_equal(out, pki->fwid, 48);
    cachet_x509_free(leaf);
    cachet_x509 *brom = testpki_x509(pki->brom);
    assert_int_equal(cachet_rc_code(nvgpu_fwid_from_cert(brom, out)), CACHET_E_NOT_FOUND);
    cachet_x509_free(brom);

    /* TCG DiceTcbInfo: [0] vendor, [6] fwids { FWID(sha384), FWID(sha384) }. */
    uint8_t dice[3 + 8 + 2 + 2 * 63];
    size_t n = 0;
    dice[n++] = 0x30;
    dice[n++] = 0x81; /* long form: 136 content bytes */
    dice[n++] = (uint8_t)(sizeof dice - 3);
    const uint8_t vendor[] = { 0x80, 0x06, 'N', 'V', 'I', 'D', 'I', 'A' };
    memcpy(dice + n, vendor, sizeof vendor);
    n += sizeof vendor;
    dice[n++] = 0xA6;
    dice[n++] = 2 * 63;
    for (int k = 0; k < 2; k++) {
        const uint8_t fh[] = { 0x30, 0x3d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
                               0x03, 0x04, 0x02, 0x02, 0x04, 0x30 };
        memcpy(dice + n, fh, sizeof fh);
        n += sizeof fh;
        memset(dice + n, k ? 0x00 : 0xD0, 48);
        n += 48;
    }
    assert_int_equal(n, sizeof dice);
    assert_int_equal(nvgpu_fwid_from_ext(dice, n, out), CACHET_OK);
    assert_int_equal(out[0], 0xD0); /* the first FWID, not the trailing 48 bytes */
    assert_int_equal(cachet_rc_code(nvgpu_fwid_from_ext(dice, n - 1, out)), CACHET_E_FORMAT);
    dice[2]++; /* outer length past the end */
    assert_int_equal(cachet_rc_code(nvgpu_fwid_from_ext(dice, n, out)), CACHET_E_FORMAT);
    const uint8_t no_fwid[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
    assert_int_equal(cachet_rc_code(nvgpu_fwid_from_ext(no_fwid, sizeof no_fwid, out)),
                     CACHET_E_NOT_FOUND);
    const uint8_t indefinite[] = { 0x30, 0x80, 0x00, 0x00 };
    assert_int_equal(cachet_rc_code(nvgpu_fwid_from_ext(indefinite, sizeof indefinite, out)),
                     CACHET_E_FORMAT);
}

/* ---- evidence input and detection -------------------------------------------------------- */

static char *container(const char *shape, const uint8_t *rep, size_t len, bool hex_evidence,
                       const char *chain_pem, bool pem_plain)
{
    char *ev = hex_evidence ? cachet_hex_string(rep, len) : cachet_base64_string(rep, len);
    char *cert = pem_plain ? NULL : cachet_base64_string((const uint8_t *)chain_pem,
                                                           strlen(chain_pem));
    json_t *entry = json_pack("{s:s, s:s, s:s}", "arch", "HOPPER", "evidence", ev, "certificate",
                              pem_plain ? chain_pem : cert);
    json_t *root = strcmp(shape, "array") == 0 ? json_pack("[o]", entry)
                                               : json_pack("{s:[o]}", shape, entry);
    char *s = json_dumps(root, JSON_INDENT(1));
    json_decref(root);
    free(ev);
    free(cert);
    return s;
}

static void test_input_decode(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = default_report(&len);
    nvgpu_input in;
    assert_int_equal(nvgpu_input_decode(b, len, &in), CACHET_OK);
    assert_int_equal(in.kind, NVGPU_INPUT_RAW);
    assert_int_equal(in.items[0].report_len, len);
    nvgpu_input_clear(&in);

    /* Hex text with line breaks and a trailing newline. */
    char *hex = cachet_hex_string(b, len);
    size_t hl = strlen(hex);
    char *wrapped = malloc(hl + hl / 64 + 2);
    size_t k = 0;
    for (size_t i = 0; i < hl; i++) {
        wrapped[k++] = hex[i];
        if (i % 64 == 63)
            wrapped[k++] = '\n';
    }
    wrapped[k++] = '\n';
    assert_int_equal(nvgpu_input_decode((uint8_t *)wrapped, k, &in), CACHET_OK);
    assert_int_equal(in.kind, NVGPU_INPUT_HEX);
    assert_memory_equal(in.items[0].report, b, len);
    nvgpu_input_clear(&in);
    assert_int_equal(nvgpu_detect((uint8_t *)wrapped, k), 70);
    wrapped[5] = 'x';
    assert_int_not_equal(nvgpu_input_decode((uint8_t *)wrapped, k, &in), CACHET_OK);
    free(wrapped);
    free(hex);

    char *chain = nvgen_chain_pem(pki, true);
    const char *shapes[] = { "array", "evidences", "evidence_list", "device_evidence_list" };
    for (size_t i = 0; i < 4; i++) {
        for (int variant = 0; variant < 2; variant++) {
            char *c = container(shapes[i], b, len, variant, chain, variant);
            assert_int_equal(nvgpu_detect((uint8_t *)c, strlen(c)), 70);
            assert_int_equal(nvgpu_input_decode((uint8_t *)c, strlen(c), &in), CACHET_OK);
            assert_int_equal(in.kind, NVGPU_INPUT_CONTAINER);
            assert_string_equal(in.container_shape, shapes[i]);
            assert_int_equal(in.n, 1);
            assert_memory_equal(in.items[0].report, b, len);
            assert_int_equal(in.items[0].chain_len, strlen(chain));
            assert_string_equal(in.items[0].arch, "HOPPER");
            nvgpu_input_clear(&in);
            free(c);
        }
    }
    free(chain);

    static const char *const bad[] = {
        "[]",
        "{}",
        "[1]",
        "[{\"certificate\":\"x\"}]",
        "[{\"evidence\":\"%%%%\"}]",
        "[{\"evidence\":\"EeAB\",\"evidence\":\"EeAB\"}]",
        "[{\"evidence\":\"EeAB\",\"nonce\":\"00\"}]",
        "[{\"evidence\":\"EeAB\",\"arch\":5}]",
        "{\"evidences\":[],\"evidence_list\":[]}",
        "[{\"evidence\":\"EeAB\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_not_equal(nvgpu_input_decode((const uint8_t *)bad[i], strlen(bad[i]), &in),
                             CACHET_OK);
    /* 17 GPUs. */
    json_t *arr = json_array();
    for (int i = 0; i < 17; i++)
        json_array_append_new(arr, json_pack("{s:s}", "evidence", "EeAB"));
    char *many = json_dumps(arr, 0);
    json_decref(arr);
    assert_int_equal(cachet_rc_code(nvgpu_input_decode((uint8_t *)many, strlen(many), &in)),
                     CACHET_E_LIMIT);
    free(many);
    /* Neither a report nor hex nor JSON. */
    const uint8_t junk[] = { 0x01, 0x02, 0x03 };
    assert_int_not_equal(nvgpu_input_decode(junk, sizeof junk, &in), CACHET_OK);
    free(b);
}

static void test_detect(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = default_report(&len);
    assert_int_equal(nvgpu_detect(b, len), 70);
    assert_int_equal(nvgpu_detect(b, 39), 0);
    b[38] = 0x61;
    assert_int_equal(nvgpu_detect(b, len), 0);
    uint8_t zero[1184] = { 0 };
    assert_int_equal(nvgpu_detect(zero, sizeof zero), 0);
    const char *json = "{\"quote\":\"AAAA\",\"evidence\":\"x\"}";
    assert_int_equal(nvgpu_detect((const uint8_t *)json, strlen(json)), 0);
    free(b);
}

/* ---- RIM reader -------------------------------------------------------------------------- */

static char *gen_rim(nvgen_rim *o, size_t *len)
{
    static uint8_t values[8][48];
    for (size_t i = 0; i < 8; i++)
        memset(values[i], (int)(0x10 + i), 48);
    if (!o->values) {
        o->values = (const uint8_t(*)[48])values;
        o->n = 8;
    }
    if (!o->version)
        o->version = "550.144.03";
    char *x = nvgen_rim_build(pki, o, len);
    assert_non_null(x);
    return x;
}

static void test_rim_read_and_verify(void **state)
{
    (void)state;
    nvgen_rim o = { 0 };
    size_t len;
    char *x = gen_rim(&o, &len);
    nvgpu_rim *rim = NULL;
    nvgpu_xml *doc = NULL;
    assert_int_equal(nvgpu_rim_read((uint8_t *)x, len, &rim, &doc), CACHET_OK);
    assert_string_equal(rim->version, "550.144.03");
    assert_string_equal(rim->product, "GH100");
    assert_int_equal(rim->n, 8);
    assert_int_equal(rim->n_active, 8);
    assert_int_equal(rim->n_certs, 3);
    const uint8_t *der;
    size_t dl;
    assert_int_equal(cachet_x509_der(rim->certs[0], &der, &dl), CACHET_OK);
    assert_int_equal(nvgpu_xml_verify(doc, der, dl), CACHET_OK);
    /* Another key (the CA's certificate from the same KeyInfo) does not. */
    assert_int_equal(cachet_x509_der(rim->certs[1], &der, &dl), CACHET_OK);
    assert_int_equal(cachet_rc_code(nvgpu_xml_verify(doc, der, dl)), CACHET_E_SIGNATURE);
    nvgpu_xml_free(doc);

    /* The memo returns an equal copy. */
    nvgpu_rim_memo_put(rim);
    nvgpu_rim *m = nvgpu_rim_memo_get(rim->digest);
    assert_non_null(m);
    assert_string_equal(m->version, rim->version);
    assert_int_equal(m->n, rim->n);
    assert_memory_equal(m->entries[3].alt, rim->entries[3].alt, 48);
    nvgpu_rim_free(m);
    nvgpu_rim_free(rim);
    free(x);
}

static void test_rim_tampered(void **state)
{
    (void)state;
    nvgen_rim o = { .corrupt_after_sign = true };
    size_t len;
    char *x = gen_rim(&o, &len);
    nvgpu_rim *rim = NULL;
    nvgpu_xml *doc = NULL;
    assert_int_equal(nvgpu_rim_read((uint8_t *)x, len, &rim, &doc), CACHET_OK);
    const uint8_t *der;
    size_t dl;
    assert_int_equal(cachet_x509_der(rim->certs[0], &der, &dl), CACHET_OK);
    assert_int_equal(cachet_rc_code(nvgpu_xml_verify(doc, der, dl)), CACHET_E_SIGNATURE);
    nvgpu_xml_free(doc);
    nvgpu_rim_free(rim);
    free(x);
}

static void test_rim_wrapping(void **state)
{
    (void)state;
    /* A Payload smuggled into the Signature (ds:Object): the signature still
     * verifies, and the reader never looks at it. */
    nvgen_rim o = { .wrap_payload = true };
    size_t len;
    char *x = gen_rim(&o, &len);
    nvgpu_rim *rim = NULL;
    nvgpu_xml *doc = NULL;
    assert_int_equal(nvgpu_rim_read((uint8_t *)x, len, &rim, &doc), CACHET_OK);
    const uint8_t *der;
    size_t dl;
    assert_int_equal(cachet_x509_der(rim->certs[0], &der, &dl), CACHET_OK);
    assert_int_equal(nvgpu_xml_verify(doc, der, dl), CACHET_OK);
    assert_int_equal(rim->n, 8);
    assert_int_equal(rim->entries[0].alt[0], 0x10);
    nvgpu_xml_free(doc);
    nvgpu_rim_free(rim);
    free(x);
}

static void test_rim_hardening(void **state)
{
    (void)state;
    nvgen_rim o = { .doctype = true };
    size_t len;
    char *x = gen_rim(&o, &len);
    nvgpu_rim *rim = NULL;
    assert_int_equal(cachet_rc_code(nvgpu_rim_read((uint8_t *)x, len, &rim, NULL)),
                     CACHET_E_FORMAT);
    assert_non_null(strstr(cachet_err_detail(), "DOCTYPE"));
    free(x);

    /* Structural attacks on a valid document, each refused before any
     * signature work. */
    nvgen_rim base = { 0 };
    x = gen_rim(&base, &len);
    static const struct {
        const char *from, *to;
    } edits[] = {
        { "<ds:Reference URI=\"\">", "<ds:Reference URI=\"#x\">" },
        { "xml-c14n11\"/></ds:Transforms>", "xml-exc-c14n#\"/></ds:Transforms>" },
        { "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2006/12/xml-c14n11\"/>",
          "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/TR/2001/REC-xml-c14n-20010315\"/>" },
        { "xmldsig-more#ecdsa-sha384", "xmldsig-more#ecdsa-sha256" },
        { "xmldsig-more#sha384\"/>", "xmlenc#sha256\"/>" },
        { "</ns0:Payload>", "</ns0:Payload><ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"/>" },
        { "<ns0:Payload>", "<ns0:Payload><ns0:Resource type=\"Measurement\" index=\"0\" "
                           "active=\"True\" alternatives=\"1\" size=\"48\"/>" },
        { "colloquialVersion=", "colloquialVersio=" },
        { "index=\"3\"", "index=\"300\"" },
        { "alternatives=\"1\"", "alternatives=\"0\"" },
        { "size=\"48\"", "size=\"32\"" },
        { "active=\"True\"", "active=\"maybe\"" },
        { "&", "&ent;" },
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        const char *at = strstr(x, edits[i].from);
        if (!at && strcmp(edits[i].from, "&") == 0)
            at = strstr(x, "<ns0:Payload>");
        assert_non_null(at);
        size_t pre = (size_t)(at - x);
        const char *to = strcmp(edits[i].from, "&") == 0 ? "<ns0:Payload>&ent;" : edits[i].to;
        size_t from_len = strcmp(edits[i].from, "&") == 0 ? strlen("<ns0:Payload>")
                                                          : strlen(edits[i].from);
        char *y = tu_asprintf("%.*s%s%s", (int)pre, x, to, at + from_len);
        cachet_rc rc = nvgpu_rim_read((uint8_t *)y, strlen(y), &rim, NULL);
        if (rc == CACHET_OK)
            print_error("edit %zu accepted\n", i);
        assert_int_not_equal(rc, CACHET_OK);
        free(y);
    }
    free(x);
    /* Too large, empty, not XML. */
    uint8_t *huge = calloc(1, NVGPU_RIM_MAX + 1);
    memset(huge, ' ', NVGPU_RIM_MAX);
    huge[0] = '<';
    assert_int_equal(cachet_rc_code(nvgpu_rim_read(huge, NVGPU_RIM_MAX + 1, &rim, NULL)),
                     CACHET_E_LIMIT);
    free(huge);
    assert_int_not_equal(nvgpu_rim_read((const uint8_t *)"<a>", 3, &rim, NULL), CACHET_OK);
    assert_int_not_equal(nvgpu_rim_read((const uint8_t *)"<a/>", 4, &rim, NULL), CACHET_OK);
}

/* ---- OCSP (src/crypto/ocsp.c) ------------------------------------------------------------ */

static void ocsp_case(const testpki_cert *cert, const testpki_cert *issuer,
                      const testpki_cert *responder, int status, int reason, int64_t tu,
                      int64_t nu, int64_t t, const testpki_cert *root, cachet_rc want_rc,
                      cachet_ocsp_status want_status)
{
    size_t len;
    uint8_t *der = nvgen_ocsp(cert, issuer, responder, status, reason, tu, nu, &len);
    assert_non_null(der);
    cachet_ocsp *o = NULL;
    assert_int_equal(cachet_ocsp_parse(der, len, &o), CACHET_OK);
    cachet_x509 *c = testpki_x509(cert), *i = testpki_x509(issuer), *r = testpki_x509(root);
    cachet_x509 *inter[] = { testpki_x509(pki->ica), testpki_x509(pki->identity) };
    assert_true(cachet_ocsp_covers(o, c, i));
    cachet_ocsp_params p = { .cert = c, .issuer = i, .roots = &r, .n_roots = 1,
                             .intermediates = inter, .n_intermediates = 2, .time = t,
                             .max_age = 3600 };
    cachet_ocsp_result res;
    cachet_rc rc = cachet_ocsp_check(o, &p, &res);
    if (cachet_rc_code(rc) != cachet_rc_code(want_rc))
        print_error("ocsp: %s\n", cachet_err_detail());
    assert_int_equal(cachet_rc_code(rc), cachet_rc_code(want_rc));
    if (rc == CACHET_OK)
        assert_int_equal(res.status, want_status);
    /* A response about another certificate does not cover this one. */
    cachet_x509 *other = testpki_x509(pki->leaf);
    assert_false(cachet_ocsp_covers(o, other, i));
    cachet_x509_free(other);
    cachet_x509_free(c);
    cachet_x509_free(i);
    cachet_x509_free(r);
    cachet_x509_free(inter[0]);
    cachet_x509_free(inter[1]);
    cachet_ocsp_free(o);
    free(der);
}

static void test_ocsp(void **state)
{
    (void)state;
    int64_t t = t_now + 60, tu = t_now - 600, nu = t_now + 86400;
    testpki_cert *delegated = nvgen_ocsp_responder(pki->ica, t_now);
    testpki_cert *stranger = nvgen_ocsp_responder(pki->identity, t_now); /* not the BROM's issuer */
    testpki_cert *plain = testpki_mint(&(testpki_cert_opts){ .cn = "no EKU", .key = TESTPKI_KEY_P384,
                                                           .not_before = t_now - 86400,
                                                           .not_after = t_now + 86400 },
                                       pki->ica);
    assert_non_null(delegated);
    assert_non_null(stranger);
    assert_non_null(plain);
    const testpki_cert *brom = pki->brom, *ica = pki->ica, *root = pki->root;
    /* The issuer signs itself; a delegated responder; each status. */
    ocsp_case(brom, ica, ica, 0, -1, tu, nu, t, root, CACHET_OK, CACHET_OCSP_GOOD);
    ocsp_case(brom, ica, delegated, 0, -1, tu, nu, t, root, CACHET_OK, CACHET_OCSP_GOOD);
    ocsp_case(brom, ica, ica, 1, 1, tu, nu, t, root, CACHET_OK, CACHET_OCSP_REVOKED);
    ocsp_case(brom, ica, ica, 2, -1, tu, nu, t, root, CACHET_OK, CACHET_OCSP_UNKNOWN);
    /* Not authorised: a responder of another CA, a certificate without the EKU. */
    ocsp_case(brom, ica, stranger, 0, -1, tu, nu, t, root,
              CACHET_RC(CACHET_SUB_CRYPTO, CACHET_E_SIGNATURE), CACHET_OCSP_GOOD);
    ocsp_case(brom, ica, plain, 0, -1, tu, nu, t, root,
              CACHET_RC(CACHET_SUB_CRYPTO, CACHET_E_SIGNATURE), CACHET_OCSP_GOOD);
    /* A responder path to another root. */
    ocsp_case(brom, ica, ica, 0, -1, tu, nu, t, pki->rim_root,
              CACHET_RC(CACHET_SUB_CRYPTO, CACHET_E_SIGNATURE), CACHET_OCSP_GOOD);
    /* Stale: nextUpdate passed; no nextUpdate and older than max_age. */
    ocsp_case(brom, ica, ica, 0, -1, tu - 7200, tu - 3600, t, root,
              CACHET_RC(CACHET_SUB_CRYPTO, CACHET_E_EXPIRED), CACHET_OCSP_GOOD);
    ocsp_case(brom, ica, ica, 0, -1, tu - 7200, 0, t, root,
              CACHET_RC(CACHET_SUB_CRYPTO, CACHET_E_EXPIRED), CACHET_OCSP_GOOD);
    ocsp_case(brom, ica, ica, 0, -1, t_now - 60, 0, t, root, CACHET_OK, CACHET_OCSP_GOOD);
    /* From the future (thisUpdate after the verification time). */
    ocsp_case(brom, ica, ica, 0, -1, t + 3600, t + 7200, t, root,
              CACHET_RC(CACHET_SUB_CRYPTO, CACHET_E_EXPIRED), CACHET_OCSP_GOOD);
    /* The responder's certificate expired at the verification time. */
    ocsp_case(brom, ica, delegated, 0, -1, tu, t_now + 90 * 86400, t_now + 60 * 86400, root,
              CACHET_RC(CACHET_SUB_CRYPTO, CACHET_E_SIGNATURE), CACHET_OCSP_GOOD);

    /* Not OCSP at all, trailing bytes, a corrupted signature. */
    cachet_ocsp *o = NULL;
    size_t dl;
    const uint8_t *cert_der = testpki_der(pki->brom, &dl);
    assert_int_equal(cachet_rc_code(cachet_ocsp_parse(cert_der, dl, &o)), CACHET_E_FORMAT);
    size_t len;
    uint8_t *der = nvgen_ocsp(brom, ica, ica, 0, -1, tu, nu, &len);
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, der, len);
    longer[len] = 0;
    assert_int_equal(cachet_rc_code(cachet_ocsp_parse(longer, len + 1, &o)), CACHET_E_FORMAT);
    free(longer);
    der[len - 5] ^= 0x01; /* inside the signature */
    if (cachet_ocsp_parse(der, len, &o) == CACHET_OK) {
        cachet_x509 *c = testpki_x509(brom), *i = testpki_x509(ica), *r = testpki_x509(root);
        cachet_ocsp_params p = { .cert = c, .issuer = i, .roots = &r, .n_roots = 1, .time = t };
        cachet_ocsp_result res;
        assert_int_not_equal(cachet_ocsp_check(o, &p, &res), CACHET_OK);
        cachet_ocsp_free(o);
        cachet_x509_free(c);
        cachet_x509_free(i);
        cachet_x509_free(r);
    }
    free(der);
    testpki_free(delegated);
    testpki_free(stranger);
    testpki_free(plain);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_root_pins),
        cmocka_unit_test(test_family_registered),
        cmocka_unit_test(test_vbios_format),
        cmocka_unit_test(test_spdm_parse_good),
        cmocka_unit_test(test_spdm_truncations),
        cmocka_unit_test(test_spdm_mutations),
        cmocka_unit_test(test_spdm_trailing),
        cmocka_unit_test(test_opaque),
        cmocka_unit_test(test_fwid),
        cmocka_unit_test(test_input_decode),
        cmocka_unit_test(test_detect),
        cmocka_unit_test(test_rim_read_and_verify),
        cmocka_unit_test(test_rim_tampered),
        cmocka_unit_test(test_rim_wrapping),
        cmocka_unit_test(test_rim_hardening),
        cmocka_unit_test(test_ocsp),
    };
    return cmocka_run_group_tests_name("nvgpu_units", tests, setup, teardown);
}
