/* Units of the Nitro family: the bounded CBOR walk, the COSE envelope
 * rules, the Sig_structure bytes, the built-in root and its pin, and the
 * content detector. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "cachet/encoding.h"
#include "cachet/evidence.h"
#include "evidence/nitro/nitro.h"

static const nitro_cbor_limits lim = {
    .max_depth = 4, .max_entries = 8, .max_items = 64, .max_string = 16,
    .allow_indefinite_top_map = false, .allow_top_tag = false,
};

static cachet_rc check_hex(const char *hex, const nitro_cbor_limits *l)
{
    uint8_t buf[256];
    size_t n = 0;
    assert_int_equal(cachet_hex_decode(hex, buf, sizeof buf, &n), CACHET_OK);
    /* Exact-size copy so that an over-read is an ASan error. */
    uint8_t *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, buf, n);
    cachet_rc rc = nitro_cbor_check(copy, n, l ? l : &lim);
    free(copy);
    return rc;
}

#define CODE(rc) cachet_rc_code(rc)

static void test_cbor_accepts(void **state)
{
    (void)state;
    static const char *const good[] = {
        "00", "17", "1818", "1bffffffffffffffff", "20", "3bffffffffffffffff",
        "40", "4401020304", "60", "6161", "f4", "f5", "f6",
        "80", "8301020 3",
        "a0", "a201020304", "a2616101616202", "a2420102014201 0302",
        "8181818100",          /* depth 4 */
        "62c3a9",              /* é in UTF-8 */
        "64f09f9880",          /* U+1F600 */
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char hex[64];
        size_t k = 0;
        for (const char *p = good[i]; *p; p++)
            if (*p != ' ')
                hex[k++] = *p;
        hex[k] = '\0';
        cachet_rc rc = check_hex(hex, NULL);
        if (rc != CACHET_OK)
            fail_msg("%s rejected: %s", hex, cachet_err_detail());
    }
}

typedef struct bad_case {
    const char *hex;
    uint32_t code;
} bad_case;

static void test_cbor_rejects(void **state)
{
    (void)state;
    static const bad_case bad[] = {
        { "", CACHET_E_TRUNCATED },
        { "18", CACHET_E_TRUNCATED },             /* argument missing */
        { "5b00000000000000ff00", CACHET_E_TRUNCATED }, /* huge length */
        { "5bffffffffffffffff", CACHET_E_TRUNCATED },
        { "9bffffffffffffffff", CACHET_E_LIMIT },  /* count beyond the limit */
        { "8301 02", CACHET_E_TRUNCATED },         /* array of 3 holding 2 */
        { "0000", CACHET_E_FORMAT },               /* trailing byte */
        { "a201020103", CACHET_E_FORMAT },         /* duplicate int key */
        { "a2616101616102", CACHET_E_FORMAT },     /* duplicate text key */
        { "a201021801 03", CACHET_E_FORMAT },      /* 1 and 24-encoded 1: same value */
        { "a2410101410102", CACHET_E_FORMAT },     /* duplicate byte-string key */
        { "a1800 1", CACHET_E_FORMAT },            /* array as a key */
        { "a1f601", CACHET_E_FORMAT },             /* null as a key */
        { "818181818100", CACHET_E_LIMIT },        /* depth 5 */
        { "89000000000000000000", CACHET_E_LIMIT },/* 9 entries > 8 */
        { "5101020304050607080910111213141516 17", CACHET_E_LIMIT }, /* 17-byte string */
        { "9f00ff", CACHET_E_FORMAT },             /* indefinite array */
        { "bf0102ff", CACHET_E_FORMAT },           /* indefinite map not allowed here */
        { "5f4101ff", CACHET_E_FORMAT },           /* indefinite byte string */
        { "7f6161ff", CACHET_E_FORMAT },           /* indefinite text string */
        { "ff", CACHET_E_FORMAT },                 /* stray break */
        { "8100ff", CACHET_E_FORMAT },             /* break after a definite item */
        { "f97e00", CACHET_E_FORMAT },             /* half float */
        { "fb3ff0000000000000", CACHET_E_FORMAT }, /* double */
        { "f7", CACHET_E_FORMAT },                 /* undefined */
        { "f0", CACHET_E_FORMAT },                 /* unassigned simple */
        { "f820", CACHET_E_FORMAT },               /* 1-byte simple */
        { "1c", CACHET_E_FORMAT },                 /* reserved additional info */
        { "d20100", CACHET_E_FORMAT },             /* tag not allowed */
        { "61ff", CACHET_E_FORMAT },               /* invalid UTF-8 */
        { "62c0af", CACHET_E_FORMAT },             /* overlong UTF-8 */
        { "63eda080", CACHET_E_FORMAT },           /* UTF-16 surrogate */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char hex[80];
        size_t k = 0;
        for (const char *p = bad[i].hex; *p; p++)
            if (*p != ' ')
                hex[k++] = *p;
        hex[k] = '\0';
        cachet_rc rc = check_hex(hex, NULL);
        if (rc == CACHET_OK)
            fail_msg("%s accepted", hex);
        if (CODE(rc) != bad[i].code)
            fail_msg("%s: code %u (%s), wanted %u", hex, CODE(rc), cachet_err_detail(),
                     bad[i].code);
    }
}

static void test_cbor_flags(void **state)
{
    (void)state;
    nitro_cbor_limits l = lim;
    l.allow_indefinite_top_map = true;
    assert_int_equal(check_hex("bf0102ff", &l), CACHET_OK);
    assert_int_equal(check_hex("bfff", &l), CACHET_OK);
    /* Only at the top, and never with a dangling key. */
    assert_int_not_equal(check_hex("81bf0102ff", &l), CACHET_OK);
    assert_int_not_equal(check_hex("bf01ff", &l), CACHET_OK);
    assert_int_not_equal(check_hex("bf0102", &l), CACHET_OK);
    assert_int_not_equal(check_hex("bf01020102ff", &l), CACHET_OK); /* duplicate */
    l.allow_top_tag = true;
    assert_int_equal(check_hex("d28100", &l), CACHET_OK);
    assert_int_not_equal(check_hex("81d200", &l), CACHET_OK); /* tag below the top */
    assert_int_not_equal(check_hex("d2d200", &l), CACHET_OK); /* two tags */
    /* The item budget. */
    l.max_items = 3;
    assert_int_equal(check_hex("820102", &l), CACHET_OK);
    assert_int_equal(cachet_rc_code(check_hex("83010203", &l)), CACHET_E_LIMIT);
}

/* The Sig_structure for tiny inputs, byte for byte (RFC 9052 §4.4). */
static void test_sig_structure(void **state)
{
    (void)state;
    static const uint8_t prot[] = { 0xa1, 0x01, 0x38, 0x22 };
    static const uint8_t payload[] = { 0xa0 };
    nitro_doc d;
    memset(&d, 0, sizeof d);
    d.protected_hdr = (nitro_bytes){ prot, sizeof prot };
    d.payload = (nitro_bytes){ payload, sizeof payload };
    uint8_t *out = NULL;
    size_t n = 0;
    assert_int_equal(nitro_sig_structure(&d, &out, &n), CACHET_OK);
    char *hex = cachet_hex_string(out, n);
    assert_string_equal(hex, "846a5369676e61747572653144a101382240" "41a0");
    free(hex);
    free(out);
    /* A payload of 300 bytes gets a two-byte length, as received. */
    uint8_t big[300];
    memset(big, 0x55, sizeof big);
    d.payload = (nitro_bytes){ big, sizeof big };
    assert_int_equal(nitro_sig_structure(&d, &out, &n), CACHET_OK);
    assert_int_equal(n, 1 + 11 + 5 + 1 + 3 + 300);
    assert_int_equal(out[18], 0x59);
    assert_int_equal(out[19], 0x01);
    assert_int_equal(out[20], 0x2c);
    free(out);
}

static cachet_rc parse_hex(const char *hex, nitro_parse_stage *stage)
{
    uint8_t buf[512];
    size_t n = 0;
    assert_int_equal(cachet_hex_decode(hex, buf, sizeof buf, &n), CACHET_OK);
    nitro_doc d;
    return nitro_doc_parse(buf, n, &d, stage);
}

/* Envelope shapes, each stopped at the right stage.  A 96-byte signature
 * is 5860 followed by 96 bytes. */
static void test_envelope_stages(void **state)
{
    (void)state;
    char sig[2 * 96 + 5];
    strcpy(sig, "5860");
    memset(sig + 4, '0', 192);
    sig[196] = '\0';
    struct {
        const char *head;
        bool with_sig;
        nitro_parse_stage stage;
    } cases[] = {
        { "d1844 4a1013822a041a0", true, NITRO_PARSE_COSE },   /* tag 17 */
        { "8344a1013822a041a0", false, NITRO_PARSE_COSE },     /* 3 items */
        { "8440a041a0", true, NITRO_PARSE_ALG },              /* empty protected */
        { "8444a1013826a041a0", true, NITRO_PARSE_ALG },       /* alg -7 */
        { "8446a20138220300a041a0", true, NITRO_PARSE_ALG },   /* extra parameter */
        { "8444a1013822a1040141a0", true, NITRO_PARSE_COSE },  /* unprotected {4: 1} */
        { "8444a1013822a040", true, NITRO_PARSE_COSE },        /* empty payload */
        { "8444a1013822a0f6", true, NITRO_PARSE_COSE },        /* detached (nil) payload */
        { "8444a1013822a041a0", true, NITRO_PARSE_FIELDS },    /* {} payload: fields missing */
        { "8444a1013822a041ff", true, NITRO_PARSE_PAYLOAD_CBOR },
        { "8444a1013822a0429f00", true, NITRO_PARSE_PAYLOAD_CBOR }, /* unterminated */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char hex[400];
        size_t k = 0;
        for (const char *p = cases[i].head; *p; p++)
            if (*p != ' ')
                hex[k++] = *p;
        hex[k] = '\0';
        if (cases[i].with_sig)
            strcat(hex, sig);
        nitro_parse_stage st = NITRO_PARSE_OK;
        cachet_rc rc = parse_hex(hex, &st);
        if (rc == CACHET_OK || st != cases[i].stage)
            fail_msg("case %zu: rc %u stage %d (wanted %d): %s", i, rc, st, cases[i].stage,
                     cachet_err_detail());
    }
    /* A 95-byte signature. */
    char hex[400] = "8444a1013822a041a0585f";
    memset(hex + strlen(hex), '0', 190);
    hex[22 + 190] = '\0';
    nitro_parse_stage st;
    assert_int_not_equal(parse_hex(hex, &st), CACHET_OK);
    assert_int_equal(st, NITRO_PARSE_COSE);
    assert_string_equal(nitro_parse_stage_check(NITRO_PARSE_ALG), "nitro.cose.alg");
    assert_string_equal(nitro_parse_stage_check(NITRO_PARSE_ENVELOPE_CBOR), "nitro.cbor.envelope");
}

static void test_document_limit(void **state)
{
    (void)state;
    size_t n = NITRO_DOC_MAX + 1;
    uint8_t *b = calloc(1, n);
    assert_non_null(b);
    nitro_doc d;
    nitro_parse_stage st;
    cachet_rc rc = nitro_doc_parse(b, n, &d, &st);
    assert_int_equal(cachet_rc_code(rc), CACHET_E_LIMIT);
    assert_int_equal(st, NITRO_PARSE_ENVELOPE_CBOR);
    free(b);
}

/* The embedded root: parses, matches the evidence-formats §0.4 pins (the
 * certificate's and its SPKI's), and is AWS's aws.nitro-enclaves. */
static void test_builtin_root(void **state)
{
    (void)state;
    const cachet_x509 *root = nitro_root_builtin();
    assert_non_null(root);
    uint8_t fp[CACHET_SHA256_LEN];
    char hex[2 * CACHET_SHA256_LEN + 1];
    assert_int_equal(cachet_x509_fingerprint(root, fp), CACHET_OK);
    cachet_hex_encode(fp, sizeof fp, hex);
    assert_string_equal(hex, "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b");
    assert_int_equal(cachet_x509_spki_fingerprint(root, fp), CACHET_OK);
    cachet_hex_encode(fp, sizeof fp, hex);
    assert_string_equal(hex, "f2caf5ecc6190b4a8399b78bc58a2bbcd0382375db8a1bfd78a82743874fd225");
    char cn[64];
    assert_int_equal(cachet_x509_subject_cn(root, cn, sizeof cn), CACHET_OK);
    assert_string_equal(cn, "aws.nitro-enclaves");
    assert_true(cachet_x509_is_ca(root));
    assert_ptr_equal(nitro_root_builtin(), root); /* parsed once */
}

static void test_detect(void **state)
{
    (void)state;
    static const uint8_t nitro[] = { 0x84, 0x44, 0xa1, 0x01, 0x38, 0x22, 0xa0 };
    static const uint8_t tagged[] = { 0xd2, 0x84, 0x44, 0xa1, 0x01, 0x38, 0x22 };
    static const uint8_t other_cose[] = { 0x84, 0x43, 0xa1, 0x01, 0x26 };
    static const uint8_t not_cose[] = { 0x83, 0x44 };
    assert_int_equal(nitro_detect(nitro, sizeof nitro), 90);
    assert_int_equal(nitro_detect(tagged, sizeof tagged), 90);
    assert_int_equal(nitro_detect(other_cose, sizeof other_cose), 20);
    assert_int_equal(nitro_detect(not_cose, sizeof not_cose), 0);
    assert_int_equal(nitro_detect(tagged, 1), 0);
    assert_int_equal(nitro_detect(NULL, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cbor_accepts),
        cmocka_unit_test(test_cbor_rejects),
        cmocka_unit_test(test_cbor_flags),
        cmocka_unit_test(test_sig_structure),
        cmocka_unit_test(test_envelope_stages),
        cmocka_unit_test(test_document_limit),
        cmocka_unit_test(test_builtin_root),
        cmocka_unit_test(test_detect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
