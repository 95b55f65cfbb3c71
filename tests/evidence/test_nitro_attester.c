/* The Nitro attester at its interface.  There is no Nitro hardware here: a
 * fake transport stands in for the NSM at the ioctl boundary.  It decodes
 * the CBOR request the attester sends, checks it, and answers with a
 * generated document (or an error), as the NSM driver would through
 * NSM_IOCTL_RAW's response iovec.  The device path is a temporary file. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "attester/nitro/nsm.h"
#include "cachet/attester.h"
#include "cachet/evidence.h"
#include "ev_assert.h"
#include "evidence/nitro/nitro.h"
#include "nitro_gen.h"

#include <cbor.h>

typedef enum fake_mode {
    FAKE_DOCUMENT,    /* answer {"Attestation": {"document": doc}} */
    FAKE_ERROR,       /* answer {"Error": "InvalidArgument"} */
    FAKE_ERRNO,       /* fail the ioctl with EIO */
    FAKE_OVERLONG,    /* claim more response bytes than the buffer holds */
    FAKE_GARBAGE,     /* answer bytes that are not CBOR */
} fake_mode;

typedef struct fake_nsm {
    fake_mode mode;
    const uint8_t *doc;
    size_t doc_len;
    int calls;
    /* what the request carried */
    bool got_user_data, got_nonce, got_public_key;
    uint8_t nonce[NITRO_NONCE_MAX];
    size_t nonce_len;
    uint8_t user_data[NITRO_USER_DATA_MAX];
    size_t user_data_len;
    size_t public_key_len;
} fake_nsm;

static nitrogen_pki *pki;
static char *dir;
static char *device;

static int setup(void **state)
{
    (void)state;
    pki = nitrogen_pki_new(NITROGEN_T0);
    dir = tu_mkdtemp();
    device = tu_asprintf("%s/nsm", dir);
    tu_write_file(device, "", 0);
    return pki ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    nitrogen_pki_free(pki);
    tu_rmtree(dir);
    free(dir);
    free(device);
    return 0;
}

static bool text_is(const nitro_cbor_item *it, const char *s)
{
    return it->kind == NITRO_CBOR_TEXT && it->len == strlen(s) && memcmp(it->data, s, it->len) == 0;
}

/* Decode {"Attestation": {"user_data": b/null, "nonce": b/null, "public_key": b/null}}. */
static void decode_request(fake_nsm *f, const uint8_t *req, size_t len)
{
    nitro_cbor_limits l = { .max_depth = 2, .max_entries = 4, .max_items = 16,
                            .max_string = 2048 };
    assert_int_equal(nitro_cbor_check(req, len, &l), CACHET_OK);
    nitro_cbor_reader r;
    nitro_cbor_item m, k, v;
    nitro_cbor_reader_init(&r, req, len);
    assert_int_equal(nitro_cbor_next(&r, &m), CACHET_OK);
    assert_int_equal(m.kind, NITRO_CBOR_MAP);
    assert_int_equal(m.u, 1);
    assert_int_equal(nitro_cbor_next(&r, &k), CACHET_OK);
    assert_true(text_is(&k, "Attestation"));
    assert_int_equal(nitro_cbor_next(&r, &m), CACHET_OK);
    assert_int_equal(m.kind, NITRO_CBOR_MAP);
    assert_int_equal(m.u, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(nitro_cbor_next(&r, &k), CACHET_OK);
        assert_int_equal(nitro_cbor_next(&r, &v), CACHET_OK);
        assert_true(v.kind == NITRO_CBOR_NULL || v.kind == NITRO_CBOR_BYTES);
        bool present = v.kind == NITRO_CBOR_BYTES;
        if (text_is(&k, "user_data")) {
            f->got_user_data = present;
            f->user_data_len = v.len;
            if (present)
                memcpy(f->user_data, v.data, v.len);
        } else if (text_is(&k, "nonce")) {
            f->got_nonce = present;
            f->nonce_len = v.len;
            if (present)
                memcpy(f->nonce, v.data, v.len);
        } else if (text_is(&k, "public_key")) {
            f->got_public_key = present;
            f->public_key_len = v.len;
        } else {
            fail_msg("unexpected request field");
        }
    }
    assert_int_equal(r.off, len);
}

static size_t encode_response(const fake_nsm *f, uint8_t *out, size_t cap)
{
    size_t n = 0;
    n += cbor_encode_map_start(1, out + n, cap - n);
    if (f->mode == FAKE_ERROR) {
        n += cbor_encode_string_start(5, out + n, cap - n);
        memcpy(out + n, "Error", 5);
        n += 5;
        n += cbor_encode_string_start(15, out + n, cap - n);
        memcpy(out + n, "InvalidArgument", 15);
        return n + 15;
    }
    n += cbor_encode_string_start(11, out + n, cap - n);
    memcpy(out + n, "Attestation", 11);
    n += 11;
    n += cbor_encode_map_start(1, out + n, cap - n);
    n += cbor_encode_string_start(8, out + n, cap - n);
    memcpy(out + n, "document", 8);
    n += 8;
    n += cbor_encode_bytestring_start(f->doc_len, out + n, cap - n);
    assert_true(f->doc_len <= cap - n);
    memcpy(out + n, f->doc, f->doc_len);
    return n + f->doc_len;
}

/* The ioctl boundary, as the NSM driver implements it. */
static int fake_ioctl(void *ctx, int fd, unsigned long request, struct nsm_raw *msg)
{
    fake_nsm *f = ctx;
    f->calls++;
    assert_true(fd >= 0);
    assert_int_equal(request, NSM_IOCTL_RAW);
    assert_true(msg->request.len > 0 && msg->request.len <= NSM_REQUEST_MAX_SIZE);
    assert_int_equal(msg->response.len, NSM_RESPONSE_MAX_SIZE);
    decode_request(f, (const uint8_t *)(uintptr_t)msg->request.addr, (size_t)msg->request.len);
    uint8_t *resp = (uint8_t *)(uintptr_t)msg->response.addr;
    switch (f->mode) {
    case FAKE_ERRNO:
        errno = EIO;
        return -1;
    case FAKE_OVERLONG:
        msg->response.len = NSM_RESPONSE_MAX_SIZE + 1;
        return 0;
    case FAKE_GARBAGE:
        memset(resp, 0xff, 16);
        msg->response.len = 16;
        return 0;
    case FAKE_DOCUMENT:
    case FAKE_ERROR:
        msg->response.len = encode_response(f, resp, NSM_RESPONSE_MAX_SIZE);
        return 0;
    }
    return -1;
}

static uint8_t *make_doc(const uint8_t *nonce, size_t nlen, const uint8_t *ud, size_t ulen,
                         const uint8_t *pk, size_t plen, size_t *len)
{
    nitrogen_doc d;
    nitrogen_doc_default(&d, pki, NITROGEN_T0);
    d.nonce = (nitrogen_bytes){ nonce, nlen };
    d.user_data = (nitrogen_bytes){ ud, ulen };
    d.public_key = (nitrogen_bytes){ pk, plen };
    uint8_t *doc = nitrogen_encode(&d, len);
    assert_non_null(doc);
    return doc;
}

static const uint8_t nonce[32] = { 0x6e, 0x6f, 0x6e, 0x63, 0x65 };
static const uint8_t user_data[20] = { 0x75, 0x73 };
static const uint8_t pubkey[91] = { 0x30, 0x59, 0x30, 0x13 };

static void test_collect_and_verify(void **state)
{
    (void)state;
    fake_nsm f = { .mode = FAKE_DOCUMENT };
    uint8_t *doc = make_doc(nonce, sizeof nonce, user_data, sizeof user_data, pubkey,
                            sizeof pubkey, &f.doc_len);
    f.doc = doc;
    cachet_attester *a = NULL;
    assert_int_equal(nsm_attester_new(device, fake_ioctl, &f, &a), CACHET_OK);
    assert_string_equal(cachet_attester_tee(a), "nitro");
    cachet_attest_request rq = {
        .nonce = nonce, .nonce_len = sizeof nonce,
        .user_data = user_data, .user_data_len = sizeof user_data,
        .public_key = pubkey, .public_key_len = sizeof pubkey,
    };
    uint8_t *ev = NULL;
    size_t len = 0;
    assert_int_equal(cachet_attester_collect(a, &rq, &ev, &len), CACHET_OK);
    assert_int_equal(f.calls, 1);
    /* The request carried exactly what was asked for. */
    assert_true(f.got_nonce && f.got_user_data && f.got_public_key);
    assert_int_equal(f.nonce_len, sizeof nonce);
    assert_memory_equal(f.nonce, nonce, sizeof nonce);
    assert_int_equal(f.user_data_len, sizeof user_data);
    assert_int_equal(f.public_key_len, sizeof pubkey);
    /* The evidence is the document, and it verifies with the nonce. */
    assert_int_equal(len, f.doc_len);
    assert_memory_equal(ev, doc, len);
    cachet_verify_request req = { .evidence = ev, .evidence_len = len, .time = NITROGEN_T0,
                                  .nonce = nonce, .nonce_len = sizeof nonce };
    cachet_verify_result *r = NULL;
    assert_int_equal(cachet_evidence_verify_with(&pki->ops, &req, &r), CACHET_OK);
    ev_assert_verdict(r, CACHET_EV_AFFIRMING, true);
    ev_assert_pass(r, "nitro.nonce");
    cachet_verify_result_free(r);
    free(ev);
    cachet_attester_free(a);
    free(doc);
}

/* Absent inputs go as null; the document must then carry none. */
static void test_collect_nulls(void **state)
{
    (void)state;
    fake_nsm f = { .mode = FAKE_DOCUMENT };
    uint8_t *doc = make_doc(NULL, 0, NULL, 0, NULL, 0, &f.doc_len);
    f.doc = doc;
    cachet_attester *a = NULL;
    assert_int_equal(nsm_attester_new(device, fake_ioctl, &f, &a), CACHET_OK);
    cachet_attest_request rq = { 0 };
    uint8_t *ev = NULL;
    size_t len = 0;
    assert_int_equal(cachet_attester_collect(a, &rq, &ev, &len), CACHET_OK);
    assert_false(f.got_nonce || f.got_user_data || f.got_public_key);
    free(ev);
    /* Asking for a nonce the module leaves out is refused. */
    rq.nonce = nonce;
    rq.nonce_len = sizeof nonce;
    cachet_rc rc = cachet_attester_collect(a, &rq, &ev, &len);
    assert_int_equal(cachet_rc_code(rc), CACHET_E_MISMATCH);
    assert_null(ev);
    cachet_attester_free(a);
    free(doc);
}

static void test_collect_failures(void **state)
{
    (void)state;
    static const struct { fake_mode mode; uint32_t code; } cases[] = {
        { FAKE_ERROR, CACHET_E_IO },
        { FAKE_ERRNO, CACHET_E_IO },
        { FAKE_OVERLONG, CACHET_E_FORMAT },
        { FAKE_GARBAGE, CACHET_E_FORMAT },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fake_nsm f = { .mode = cases[i].mode };
        cachet_attester *a = NULL;
        assert_int_equal(nsm_attester_new(device, fake_ioctl, &f, &a), CACHET_OK);
        cachet_attest_request rq = { .nonce = nonce, .nonce_len = sizeof nonce };
        uint8_t *ev = (uint8_t *)"x";
        size_t len = 1;
        cachet_rc rc = cachet_attester_collect(a, &rq, &ev, &len);
        if (cachet_rc_code(rc) != cases[i].code || cachet_rc_subsys(rc) != CACHET_SUB_ATTESTER)
            fail_msg("case %zu: rc 0x%x (%s)", i, rc, cachet_err_detail());
        assert_null(ev);
        assert_int_equal(len, 0);
        cachet_attester_free(a);
    }
    /* The module's own error code is named. */
    fake_nsm f = { .mode = FAKE_ERROR };
    cachet_attester *a = NULL;
    assert_int_equal(nsm_attester_new(device, fake_ioctl, &f, &a), CACHET_OK);
    cachet_attest_request rq = { 0 };
    uint8_t *ev;
    size_t len;
    assert_int_not_equal(cachet_attester_collect(a, &rq, &ev, &len), CACHET_OK);
    assert_non_null(strstr(cachet_err_detail(), "InvalidArgument"));
    cachet_attester_free(a);
}

/* A document that does not parse is not handed out. */
static void test_collect_bad_document(void **state)
{
    (void)state;
    fake_nsm f = { .mode = FAKE_DOCUMENT };
    size_t len = 0;
    uint8_t *doc = make_doc(NULL, 0, NULL, 0, NULL, 0, &len);
    f.doc = doc;
    f.doc_len = len - 10; /* truncated */
    cachet_attester *a = NULL;
    assert_int_equal(nsm_attester_new(device, fake_ioctl, &f, &a), CACHET_OK);
    cachet_attest_request rq = { 0 };
    uint8_t *ev = NULL;
    size_t evlen = 0;
    assert_int_equal(cachet_rc_code(cachet_attester_collect(a, &rq, &ev, &evlen)),
                     CACHET_E_FORMAT);
    assert_null(ev);
    cachet_attester_free(a);
    free(doc);
}

/* Inputs a verifier would refuse are refused before the device is asked. */
static void test_request_limits(void **state)
{
    (void)state;
    static const uint8_t big[1025];
    fake_nsm f = { .mode = FAKE_DOCUMENT };
    cachet_attester *a = NULL;
    assert_int_equal(nsm_attester_new(device, fake_ioctl, &f, &a), CACHET_OK);
    cachet_attest_request cases[] = {
        { .nonce = big, .nonce_len = NITRO_NONCE_MAX + 1 },
        { .user_data = big, .user_data_len = NITRO_USER_DATA_MAX + 1 },
        { .public_key = big, .public_key_len = NITRO_PUBLIC_KEY_MAX + 1 },
        { .public_key = big, .public_key_len = 0 },
        { .nonce = NULL, .nonce_len = 4 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t *ev = NULL;
        size_t len = 0;
        cachet_rc rc = cachet_attester_collect(a, &cases[i], &ev, &len);
        if (cachet_rc_code(rc) != CACHET_E_INVALID_ARG)
            fail_msg("case %zu: rc 0x%x", i, rc);
    }
    assert_int_equal(f.calls, 0);
    /* The largest accepted request fits the NSM's request limit. */
    uint8_t buf[NSM_REQUEST_MAX_SIZE];
    size_t n = 0;
    cachet_attest_request max = { .nonce = big, .nonce_len = NITRO_NONCE_MAX,
                                  .user_data = big, .user_data_len = NITRO_USER_DATA_MAX,
                                  .public_key = big, .public_key_len = NITRO_PUBLIC_KEY_MAX };
    assert_int_equal(nsm_encode_attestation(&max, buf, sizeof buf, &n), CACHET_OK);
    assert_true(n <= NSM_REQUEST_MAX_SIZE);
    cachet_attester_free(a);
}

static void test_no_device(void **state)
{
    (void)state;
    cachet_attester *a = (cachet_attester *)1;
    char *missing = tu_asprintf("%s/absent", dir);
    cachet_rc rc = cachet_attester_nitro_new(missing, &a);
    assert_int_equal(cachet_rc_code(rc), CACHET_E_NOT_FOUND);
    assert_null(a);
    free(missing);
    cachet_attester_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_collect_and_verify),
        cmocka_unit_test(test_collect_nulls),
        cmocka_unit_test(test_collect_failures),
        cmocka_unit_test(test_collect_bad_document),
        cmocka_unit_test(test_request_limits),
        cmocka_unit_test(test_no_device),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
