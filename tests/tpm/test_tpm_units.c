/* Units of the TPM and Azure parsers: the event-log reader (every length
 * and count bounded), the protobuf reader, PCR selections and value sets,
 * KDFa, the HCL report, and the verifier-side public API. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "cachet/reader.h"
#include "cachet/tpm.h"
#include "evidence/azure/azure.h"
#include "evidence/tpm/tpm.h"

/* ---- event log ------------------------------------------------------------------ */

/* A minimal crypto-agile log: header (SHA-256 only) + one event. */
static size_t mini_log(uint8_t *b, uint32_t pcr, uint32_t count, uint16_t alg)
{
    uint8_t *p = b;
    memset(b, 0, 256);
    cachet_put_le32(p, 0);
    cachet_put_le32(p + 4, TPM_EV_NO_ACTION);
    cachet_put_le32(p + 28, 16 + 12 + 4 + 1);
    memcpy(p + 32, "Spec ID Event03", 16);
    p[32 + 16 + 4 + 1] = 2; /* major */
    p[32 + 16 + 4 + 3] = 2; /* uintn */
    cachet_put_le32(p + 32 + 24, 1);
    cachet_put_le16(p + 32 + 28, TPM2_ALG_SHA256);
    cachet_put_le16(p + 32 + 30, 32);
    p += 32 + 33;
    cachet_put_le32(p, pcr);
    cachet_put_le32(p + 4, TPM_EV_IPL);
    cachet_put_le32(p + 8, count);
    cachet_put_le16(p + 12, alg);
    memset(p + 14, 0xab, 32);
    cachet_put_le32(p + 46, 3);
    memcpy(p + 50, "abc", 3);
    return (size_t)(p + 53 - b);
}

static void test_eventlog_parse(void **state)
{
    (void)state;
    uint8_t b[300];
    tpm_eventlog l;
    size_t n = mini_log(b, 15, 1, TPM2_ALG_SHA256);
    assert_true(tpm_looks_like_eventlog(b, n));
    assert_int_equal(tpm_eventlog_parse(b, n, &l), CACHET_OK);
    assert_true(l.crypto_agile);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.ev[1].pcr, 15);
    assert_int_equal(l.ev[1].data_len, 3);
    uint8_t pcr[TPM_PCR_COUNT][TPM_MAX_DIGEST];
    uint32_t touched;
    assert_int_equal(tpm_eventlog_replay(&l, TPM2_ALG_SHA256, pcr, &touched), CACHET_OK);
    assert_int_equal(touched, 1u << 15);
    assert_int_not_equal(tpm_eventlog_replay(&l, TPM2_ALG_SHA1, pcr, &touched), CACHET_OK);
    assert_int_not_equal(tpm_eventlog_replay(&l, TPM2_ALG_SHA384, pcr, &touched), CACHET_OK);
    tpm_eventlog_free(&l);

    /* A zeroed tail (a fixed-size log area) is the end; anything else is not. */
    memset(b + n, 0, 16);
    assert_int_equal(tpm_eventlog_parse(b, n + 16, &l), CACHET_OK);
    assert_int_equal(l.n, 2);
    tpm_eventlog_free(&l);
    b[n + 15] = 1;
    assert_int_not_equal(tpm_eventlog_parse(b, n + 16, &l), CACHET_OK);

    /* Every truncation fails cleanly. */
    for (size_t cut = 1; cut < n; cut++)
        if (cut != 32 + 33) /* the header alone is a valid (empty) log */
            assert_int_not_equal(tpm_eventlog_parse(b, cut, &l), CACHET_OK);

    /* Wrong digest count, undeclared algorithm, PCR out of range. */
    n = mini_log(b, 15, 2, TPM2_ALG_SHA256);
    assert_int_not_equal(tpm_eventlog_parse(b, n, &l), CACHET_OK);
    n = mini_log(b, 15, 1, TPM2_ALG_SHA384);
    assert_int_not_equal(tpm_eventlog_parse(b, n, &l), CACHET_OK);
    n = mini_log(b, 24, 1, TPM2_ALG_SHA256);
    assert_int_not_equal(tpm_eventlog_parse(b, n, &l), CACHET_OK);
    /* An event size past the end. */
    n = mini_log(b, 15, 1, TPM2_ALG_SHA256);
    cachet_put_le32(b + n - 7, 0x7fffffff);
    assert_int_not_equal(tpm_eventlog_parse(b, n, &l), CACHET_OK);
    /* A Spec ID event with too many algorithms. */
    n = mini_log(b, 15, 1, TPM2_ALG_SHA256);
    cachet_put_le32(b + 32 + 24, 9);
    assert_int_not_equal(tpm_eventlog_parse(b, n, &l), CACHET_OK);
    /* A digest size that contradicts the algorithm. */
    n = mini_log(b, 15, 1, TPM2_ALG_SHA256);
    cachet_put_le16(b + 32 + 30, 20);
    assert_int_not_equal(tpm_eventlog_parse(b, n, &l), CACHET_OK);
    /* Trailing bytes inside the Spec ID event. */
    n = mini_log(b, 15, 1, TPM2_ALG_SHA256);
    cachet_put_le32(b + 28, 34);
    assert_int_not_equal(tpm_eventlog_parse(b, n, &l), CACHET_OK);
}

static void test_eventlog_sha1_only(void **state)
{
    (void)state;
    /* A TCG 1.2-style log: legacy records only. */
    uint8_t b[64] = { 0 };
    cachet_put_le32(b, 4);
    cachet_put_le32(b + 4, 0x0d);
    cachet_put_le32(b + 28, 2);
    b[32] = 'h';
    b[33] = 'i';
    tpm_eventlog l;
    assert_false(tpm_looks_like_eventlog(b, 34));
    assert_int_equal(tpm_eventlog_parse(b, 34, &l), CACHET_OK);
    assert_false(l.crypto_agile);
    assert_int_equal(l.algs[0], TPM2_ALG_SHA1);
    uint8_t pcr[TPM_PCR_COUNT][TPM_MAX_DIGEST];
    uint32_t touched;
    assert_int_not_equal(tpm_eventlog_replay(&l, TPM2_ALG_SHA1, pcr, &touched), CACHET_OK);
    tpm_eventlog_free(&l);
}

/* Found by fuzz_tpm_eventlog: a crypto-agile log whose Spec ID event
 * declares a first bank of 63-byte digests.  The header's 20-byte legacy
 * SHA-1 field must not be handed out as a digest of that bank (a reader
 * would copy 63 bytes from a 20-byte field, past the end of the log). */
static void test_eventlog_specid_header_has_no_bank_digest(void **state)
{
    (void)state;
    static const uint8_t b[] = {
        0, 0, 0, 0, 3, 0, 0, 0, /* pcr 0, EV_NO_ACTION */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* SHA-1 field */
        0x21, 0, 0, 0, /* 33 bytes of event data */
        'S', 'p', 'e', 'c', ' ', 'I', 'D', ' ', 'E', 'v', 'e', 'n', 't', '0', '3', 0,
        0, 0, 0, 0, 0, 2, 0, 2, /* platform class, version 2.0, uintn 2 */
        1, 0, 0, 0, 0x0b, 0x20, 0x3f, 0x00, /* 1 algorithm: 0x200b, 63 bytes */
        0 /* no vendor info */
    };
    tpm_eventlog l;
    assert_int_equal(tpm_eventlog_parse(b, sizeof b, &l), CACHET_OK);
    assert_true(l.crypto_agile);
    assert_int_equal(l.n, 1);
    for (size_t k = 0; k < l.n_algs; k++)
        assert_null(l.ev[0].digest[k]);
    tpm_eventlog_free(&l);
}

/* ---- protobuf --------------------------------------------------------------------- */

static void test_gce_protobuf_errors(void **state)
{
    (void)state;
    tpm_evidence e;
    /* Field 1 with a length past the end. */
    static const uint8_t trunc[] = { 0x0a, 0x10, 0x00, 0x01 };
    assert_int_not_equal(tpm_gce_parse(trunc, sizeof trunc, &e), CACHET_OK);
    /* An eleven-byte varint. */
    static const uint8_t longvar[] = { 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                       0xff, 0xff, 0xff, 0xff, 0x01 };
    assert_int_not_equal(tpm_gce_parse(longvar, sizeof longvar, &e), CACHET_OK);
    /* ak_pub given as a varint. */
    static const uint8_t wiretype[] = { 0x08, 0x01 };
    assert_int_not_equal(tpm_gce_parse(wiretype, sizeof wiretype, &e), CACHET_OK);
    /* ak_pub twice. */
    static const uint8_t twice[] = { 0x0a, 0x01, 0x00, 0x0a, 0x01, 0x00 };
    assert_int_not_equal(tpm_gce_parse(twice, sizeof twice, &e), CACHET_OK);
    /* A group (wire type 3). */
    static const uint8_t group[] = { 0x0b };
    assert_int_not_equal(tpm_gce_parse(group, sizeof group, &e), CACHET_OK);
    /* No quotes. */
    static const uint8_t noquote[] = { 0x0a, 0x02, 0x00, 0x01 };
    assert_int_not_equal(tpm_gce_parse(noquote, sizeof noquote, &e), CACHET_OK);
    /* A Quote without its PCRs. */
    static const uint8_t nopcrs[] = { 0x0a, 0x02, 0x00, 0x01, 0x12, 0x06,
                                      0x0a, 0x01, 0xff, 0x12, 0x01, 0x00 };
    assert_int_not_equal(tpm_gce_parse(nopcrs, sizeof nopcrs, &e), CACHET_OK);
    assert_false(tpm_gce_looks(nopcrs, 4));
}

/* ---- PCR sets and selections -------------------------------------------------------- */

static void test_pcr_sets(void **state)
{
    (void)state;
    tpm_pcrs p;
    memset(&p, 0, sizeof p);
    uint8_t v[32] = { 1 }, w[32] = { 2 };
    assert_int_equal(tpm_pcrs_set(&p, TPM2_ALG_SHA256, 0, v, 32), CACHET_OK);
    assert_int_equal(tpm_pcrs_set(&p, TPM2_ALG_SHA256, 0, v, 32), CACHET_OK);
    assert_int_not_equal(tpm_pcrs_set(&p, TPM2_ALG_SHA256, 0, w, 32), CACHET_OK);
    assert_int_not_equal(tpm_pcrs_set(&p, TPM2_ALG_SHA256, 24, v, 32), CACHET_OK);
    assert_int_not_equal(tpm_pcrs_set(&p, TPM2_ALG_SHA256, 1, v, 20), CACHET_OK);
    assert_int_not_equal(tpm_pcrs_set(&p, 0x0012, 1, v, 32), CACHET_OK); /* SM3 */

    TPML_PCR_SELECTION sel = { .count = 1 };
    sel.pcrSelections[0].hash = TPM2_ALG_SHA256;
    sel.pcrSelections[0].sizeofSelect = 3;
    sel.pcrSelections[0].pcrSelect[0] = 0x01;
    char why[160];
    assert_true(tpm_selection_matches(&sel, &p, why, sizeof why));
    sel.pcrSelections[0].pcrSelect[0] = 0x03;
    assert_false(tpm_selection_matches(&sel, &p, why, sizeof why));
    sel.pcrSelections[0].hash = TPM2_ALG_SHA384;
    assert_false(tpm_selection_matches(&sel, &p, why, sizeof why));
    sel.count = 0;
    assert_false(tpm_selection_matches(&sel, &p, why, sizeof why));
}

/* ---- KDFa ------------------------------------------------------------------------------ */

static void test_kdfa(void **state)
{
    (void)state;
    /* KDFa(SHA-256, K, "L", U, V, 256) is one HMAC block:
     * HMAC(K, 00000001 || "L" 00 || U || V || 00000100). */
    static const uint8_t key[4] = { 1, 2, 3, 4 }, u[2] = { 5, 6 }, v[1] = { 7 };
    uint8_t out[64], want[32];
    static const uint8_t in[] = { 0, 0, 0, 1, 'L', 0, 5, 6, 7, 0, 0, 1, 0 };
    assert_int_equal(tpm_kdfa(CACHET_HASH_SHA256, key, 4, "L", u, 2, v, 1, 256, out), CACHET_OK);
    assert_int_equal(cachet_hmac_sha256(key, 4, in, sizeof in, want), CACHET_OK);
    assert_memory_equal(out, want, 32);
    /* 128 bits: the first half of the same construction with L = 128. */
    static const uint8_t in2[] = { 0, 0, 0, 1, 'L', 0, 5, 6, 7, 0, 0, 0, 0x80 };
    assert_int_equal(tpm_kdfa(CACHET_HASH_SHA256, key, 4, "L", u, 2, v, 1, 128, out), CACHET_OK);
    assert_int_equal(cachet_hmac_sha256(key, 4, in2, sizeof in2, want), CACHET_OK);
    assert_memory_equal(out, want, 16);
    /* 512 bits: two blocks, counters 1 and 2. */
    static const uint8_t in3[] = { 0, 0, 0, 2, 'L', 0, 5, 6, 7, 0, 0, 2, 0 };
    assert_int_equal(tpm_kdfa(CACHET_HASH_SHA256, key, 4, "L", u, 2, v, 1, 512, out), CACHET_OK);
    assert_int_equal(cachet_hmac_sha256(key, 4, in3, sizeof in3, want), CACHET_OK);
    assert_memory_equal(out + 32, want, 32);
    assert_int_not_equal(tpm_kdfa(CACHET_HASH_SHA256, key, 4, "L", NULL, 0, NULL, 0, 12, out),
                         CACHET_OK);
}

/* ---- the HCL report ------------------------------------------------------------------- */

static size_t mini_hcl(uint8_t *b, size_t cap, const char *var)
{
    size_t v = strlen(var), total = AZ_VAR_OFF + v + 8;
    assert_true(total <= cap);
    memset(b, 0, total);
    memcpy(b, "HCLA", 4);
    cachet_put_le32(b + 4, 2);
    cachet_put_le32(b + 8, (uint32_t)(AZ_RUNTIME_OFF + AZ_RUNTIME_HDR_LEN + v));
    cachet_put_le32(b + 12, 2);
    cachet_put_le32(b + AZ_RUNTIME_OFF, (uint32_t)(AZ_RUNTIME_HDR_LEN + v));
    cachet_put_le32(b + AZ_RUNTIME_OFF + 4, 1);
    cachet_put_le32(b + AZ_RUNTIME_OFF + 8, AZ_REPORT_TYPE_SNP);
    cachet_put_le32(b + AZ_RUNTIME_OFF + 12, 1);
    cachet_put_le32(b + AZ_RUNTIME_OFF + 16, (uint32_t)v);
    memcpy(b + AZ_VAR_OFF, var, v);
    return total;
}

static void test_hcl_parse(void **state)
{
    (void)state;
    uint8_t b[2048];
    az_hcl h;
    size_t n = mini_hcl(b, sizeof b, "{\"keys\":[]}");
    assert_int_equal(az_hcl_parse(b, n, &h), CACHET_OK);
    assert_int_equal(h.var_size, 11);
    assert_int_equal(h.report_type, AZ_REPORT_TYPE_SNP);
    for (size_t cut = 0; cut < AZ_VAR_OFF + 11; cut += 97)
        assert_int_not_equal(az_hcl_parse(b, cut, &h), CACHET_OK);
    b[n - 1] = 1; /* a non-zero tail */
    assert_int_not_equal(az_hcl_parse(b, n, &h), CACHET_OK);
    n = mini_hcl(b, sizeof b, "{}");
    b[0] = 'X';
    assert_int_not_equal(az_hcl_parse(b, n, &h), CACHET_OK);
    n = mini_hcl(b, sizeof b, "{}");
    cachet_put_le32(b + AZ_RUNTIME_OFF + 16, 0x100000);
    assert_int_not_equal(az_hcl_parse(b, n, &h), CACHET_OK);
    n = mini_hcl(b, sizeof b, "{}");
    cachet_put_le32(b + 8, 7); /* report size */
    assert_int_not_equal(az_hcl_parse(b, n, &h), CACHET_OK);
    n = mini_hcl(b, sizeof b, "{}");
    cachet_put_le32(b + 16, 1); /* status */
    assert_int_not_equal(az_hcl_parse(b, n, &h), CACHET_OK);
}

static void test_azure_evidence_json(void **state)
{
    (void)state;
    az_evidence e;
    static const char *const bad[] = {
        "{}",
        "{\"version\":3,\"tpm_quote\":{},\"hcl_report\":\"AA\"}",
        "{\"version\":1,\"hcl_report\":\"AA\"}",
        ("{\"version\":1,\"tpm_quote\":{\"signature\":\"00\",\"message\":\"00\",\"pcrs\":[]},"
         "\"hcl_report\":\"AA\"}"),
        "{\"tpm_quote\":{\"signature\":[256],\"message\":[0],\"pcrs\":[]},\"hcl_report\":[0]}",
        "{\"version\":1,\"extra\":1}",
        "[1,2]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_not_equal(az_evidence_parse((const uint8_t *)bad[i], strlen(bad[i]), &e),
                             CACHET_OK);
    assert_int_equal(az_evidence_report_type((const uint8_t *)"{}", 2), 0);
}

/* ---- public API ---------------------------------------------------------------------- */

static void test_api_arguments(void **state)
{
    (void)state;
    uint8_t *b, *s;
    size_t bl, sl, nl;
    uint8_t nonce[8] = { 0 }, name[80];
    static const uint8_t junk[4] = { 0, 2, 0, 1 };
    assert_int_not_equal(cachet_tpm_credential_challenge(junk, 4, junk, 4, nonce, sizeof nonce,
                                                         &b, &bl, &s, &sl),
                         CACHET_OK);
    assert_int_not_equal(cachet_tpm_public_name(junk, 4, name, sizeof name, &nl), CACHET_OK);
    assert_int_not_equal(cachet_tpm_make_credential(junk, 4, name, 34, nonce, 8, &b, &bl, &s,
                                                    &sl),
                         CACHET_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eventlog_parse),
        cmocka_unit_test(test_eventlog_sha1_only),
        cmocka_unit_test(test_eventlog_specid_header_has_no_bank_digest),
        cmocka_unit_test(test_gce_protobuf_errors),
        cmocka_unit_test(test_pcr_sets),
        cmocka_unit_test(test_kdfa),
        cmocka_unit_test(test_hcl_parse),
        cmocka_unit_test(test_azure_evidence_json),
        cmocka_unit_test(test_api_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
