/* The /dev/tdx_guest attester through an injected TDX_CMD_GET_REPORT0 and a
 * fake configfs-tsm (provider tdx_guest) that serves a real captured quote.
 * Interface only: no TDX hardware here. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "cachet/attester.h"
#include "fake_tsm.h"

#define QUOTE_RD_OFF 568

typedef struct fake_td {
    uint8_t type;       /* REPORTTYPE.TYPE to answer (0x81 for TDX) */
    bool corrupt_data;  /* answer with other REPORTDATA */
    bool fail;
    unsigned calls;
} fake_td;

static int fake_ioctl(int fd, unsigned long request, void *arg, void *ctx)
{
    (void)fd;
    fake_td *t = ctx;
    t->calls++;
    assert_int_equal((unsigned)(request & 0xff), 1);
    assert_int_equal((unsigned)((request >> 8) & 0xff), 'T');
    if (t->fail)
        return -1;
    uint8_t *req = arg; /* reportdata[64] then tdreport[1024] */
    uint8_t *tdreport = req + 64;
    memset(tdreport, 0x33, 1024);
    tdreport[0] = t->type;
    memcpy(tdreport + 128, req, 64);
    if (t->corrupt_data)
        tdreport[128] ^= 0xff;
    return 0;
}

static void test_tdreport(void **state)
{
    (void)state;
    fake_td t = {.type = 0x81};
    cachet_tdxguest_opts o = {.device = "/dev/null", .ioctl_fn = fake_ioctl, .ioctl_ctx = &t};
    uint8_t rd[64], rep[CACHET_TDREPORT_LEN];
    memset(rd, 0x42, sizeof rd);
    assert_int_equal(cachet_tdxguest_report(&o, rd, rep), CACHET_OK);
    assert_memory_equal(rep + 128, rd, 64);
    t.type = 0x00; /* an SGX report type */
    assert_int_equal(cachet_rc_code(cachet_tdxguest_report(&o, rd, rep)), CACHET_E_FORMAT);
    t.type = 0x81;
    t.corrupt_data = true;
    assert_int_equal(cachet_rc_code(cachet_tdxguest_report(&o, rd, rep)), CACHET_E_MISMATCH);
    t.corrupt_data = false;
    t.fail = true;
    assert_int_equal(cachet_rc_code(cachet_tdxguest_report(&o, rd, rep)), CACHET_E_IO);
    o.device = "/nonexistent/tdx_guest";
    assert_int_equal(cachet_rc_code(cachet_tdxguest_report(&o, rd, rep)), CACHET_E_NOT_FOUND);
}

static void test_quote_through_tsm(void **state)
{
    (void)state;
    char *root = tu_mkdtemp();
    size_t qlen = 0;
    uint8_t *quote = tu_read_vector("tdx/b0c06f_v4_dcapqvl_2025-06/quote.bin", &qlen);
    uint8_t stand_in[1024] = {0};
    if (!quote) { /* no vectors: a stand-in quote whose REPORTDATA is set below */
        quote = malloc(sizeof stand_in);
        memcpy(quote, stand_in, sizeof stand_in);
        memset(quote + QUOTE_RD_OFF, 0x24, 64);
        qlen = sizeof stand_in;
    }
    fake_tsm_cfg cfg = {.provider = "tdx_guest", .outblob = quote, .outblob_len = qlen,
                        .requests = 2};
    fake_tsm *f = fake_tsm_new(&cfg);
    fake_td t = {.type = 0x81};
    cachet_tdxguest_opts o = {.device = "/dev/null", .ioctl_fn = fake_ioctl, .ioctl_ctx = &t};
    o.tsm.root = root;
    o.tsm.privlevel = -1;
    o.tsm.mkdir_fn = fake_tsm_mkdir;
    o.tsm.mkdir_arg = f;
    cachet_attester *a = NULL;
    assert_int_equal(cachet_attester_tdxguest_new(&o, &a), CACHET_OK);
    assert_string_equal(cachet_attester_tee(a), "tdx");
    uint8_t *ev = NULL;
    size_t len = 0;
    assert_int_equal(cachet_attester_collect_bound(a, quote + QUOTE_RD_OFF, NULL, 0, &ev, &len),
                     CACHET_OK);
    assert_int_equal(len, qlen);
    assert_memory_equal(ev, quote, qlen);
    assert_int_equal(t.calls, 1);
    free(ev);
    /* a quote that does not carry what we asked for is refused */
    uint8_t other[64];
    memset(other, 0x99, sizeof other);
    assert_int_equal(cachet_rc_code(cachet_attester_collect_bound(a, other, NULL, 0, &ev, &len)),
                     CACHET_E_MISMATCH);
    assert_null(ev);
    cachet_attester_free(a);
    fake_tsm_free(f);
    /* no configfs-tsm: no quote, and the attester says so */
    o.tsm.root = "/nonexistent/tsm";
    o.tsm.mkdir_fn = NULL;
    assert_int_equal(cachet_rc_code(cachet_attester_tdxguest_new(&o, &a)), CACHET_E_NOT_FOUND);
    assert_non_null(strstr(cachet_err_detail(), "configfs-tsm"));
    free(quote);
    tu_rmtree(root);
    free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tdreport),
        cmocka_unit_test(test_quote_through_tsm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
