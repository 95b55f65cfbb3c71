/* The /dev/sev-guest attester through an injected ioctl that answers like
 * the driver (MSG_REPORT_RSP with a real captured report, the extended
 * report's certificate buffer and its "buffer too small" retry), and every
 * answer it must refuse.  Interface only: no SEV-SNP hardware here. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "cachet/attester.h"

#define REPORT_LEN 1184
#define RD_OFF 0x50

/* The uapi shapes, as the driver sees them. */
struct req {
    uint8_t user_data[64];
    uint32_t vmpl;
    uint8_t rsvd[28];
};
struct io {
    uint8_t msg_version;
    uint64_t req_data;
    uint64_t resp_data;
    uint32_t fw_error;
    uint32_t vmm_error;
};
struct ext_req {
    struct req data;
    uint64_t certs_address;
    uint32_t certs_len;
};

typedef struct fake_dev {
    uint8_t report[REPORT_LEN];
    uint32_t status;          /* MSG_REPORT_RSP status */
    uint32_t report_size;     /* what the response claims */
    bool wrong_report_data;   /* the firmware "forgets" our REPORT_DATA */
    uint32_t need_certs;      /* ext: ask for a buffer this large first */
    uint32_t busy;            /* answer BUSY this many times */
    const uint8_t *table;     /* ext: the certificate table to return */
    size_t table_len;
    unsigned calls;
    uint32_t vmpl_seen;
    uint32_t certs_len_seen;
} fake_dev;

static int fake_ioctl(int fd, unsigned long request, void *arg, void *ctx)
{
    (void)fd;
    fake_dev *d = ctx;
    struct io *io = arg;
    d->calls++;
    unsigned nr = (unsigned)(request & 0xff);
    assert_int_equal(io->msg_version, 1);
    if (d->busy) {
        d->busy--;
        io->vmm_error = 2;
        errno = EAGAIN;
        return -1;
    }
    struct req *rq = (struct req *)(uintptr_t)io->req_data;
    if (nr == 2) {
        struct ext_req *e = (struct ext_req *)(uintptr_t)io->req_data;
        d->certs_len_seen = e->certs_len;
        assert_int_equal(e->certs_len % 4096, 0);
        if (d->need_certs && e->certs_len < d->need_certs) {
            e->certs_len = d->need_certs;
            io->vmm_error = 1;
            errno = EIO;
            return -1;
        }
        if (d->table)
            memcpy((void *)(uintptr_t)e->certs_address, d->table, d->table_len);
        rq = &e->data;
    }
    d->vmpl_seen = rq->vmpl;
    uint8_t *resp = (uint8_t *)(uintptr_t)io->resp_data;
    memset(resp, 0, 4000);
    resp[0] = (uint8_t)d->status;
    uint32_t size = d->report_size ? d->report_size : REPORT_LEN;
    memcpy(resp + 4, &size, 4);
    memcpy(resp + 0x20, d->report, REPORT_LEN);
    memcpy(resp + 0x20 + RD_OFF, rq->user_data, 64);
    if (d->wrong_report_data)
        resp[0x20 + RD_OFF] ^= 1;
    return 0;
}

static cachet_attester *open_fake(fake_dev *d, bool extended, unsigned vmpl)
{
    cachet_sevguest_opts o = {.device = "/dev/null", .vmpl = vmpl, .extended = extended,
                              .ioctl_fn = fake_ioctl, .ioctl_ctx = d};
    cachet_attester *a = NULL;
    assert_int_equal(cachet_attester_sevguest_new(&o, &a), CACHET_OK);
    assert_string_equal(cachet_attester_tee(a), "snp");
    return a;
}

static void fill_report(fake_dev *d)
{
    size_t len = 0;
    uint8_t *r = tu_read_vector("snp/genoa_trustee_e2e/report.derived.bin", &len);
    if (r && len == REPORT_LEN)
        memcpy(d->report, r, REPORT_LEN);
    else
        memset(d->report, 0x11, REPORT_LEN); /* no vectors: a stand-in of the right size */
    free(r);
}

static void test_get_report(void **state)
{
    (void)state;
    fake_dev d = {0};
    fill_report(&d);
    cachet_attester *a = open_fake(&d, false, 1);
    uint8_t rd[64];
    memcpy(rd, d.report + RD_OFF, 64);
    uint8_t *ev = NULL;
    size_t len = 0;
    assert_int_equal(cachet_attester_collect_bound(a, rd, NULL, 0, &ev, &len), CACHET_OK);
    assert_int_equal(len, REPORT_LEN);
    assert_memory_equal(ev, d.report, REPORT_LEN); /* the captured report, unchanged */
    assert_int_equal(d.vmpl_seen, 1);
    free(ev);
    /* BUSY is retried a few times */
    d.busy = 2;
    assert_int_equal(cachet_attester_collect_bound(a, rd, NULL, 0, &ev, &len), CACHET_OK);
    free(ev);
    d.busy = 10;
    assert_int_not_equal(cachet_attester_collect_bound(a, rd, NULL, 0, &ev, &len), CACHET_OK);
    d.busy = 0;
    cachet_attester_free(a);
}

static void test_refuses_bad_answers(void **state)
{
    (void)state;
    fake_dev d = {0};
    fill_report(&d);
    cachet_attester *a = open_fake(&d, false, 0);
    uint8_t rd[64] = {7};
    uint8_t *ev = NULL;
    size_t len = 0;
    d.status = 0x16; /* firmware error */
    assert_int_equal(cachet_rc_code(cachet_attester_collect_bound(a, rd, NULL, 0, &ev, &len)),
                     CACHET_E_IO);
    d.status = 0;
    d.report_size = 4000; /* never trust a returned length */
    assert_int_equal(cachet_rc_code(cachet_attester_collect_bound(a, rd, NULL, 0, &ev, &len)),
                     CACHET_E_FORMAT);
    d.report_size = 0xFFFFFFFFu;
    assert_int_equal(cachet_rc_code(cachet_attester_collect_bound(a, rd, NULL, 0, &ev, &len)),
                     CACHET_E_FORMAT);
    d.report_size = 0;
    d.wrong_report_data = true;
    assert_int_equal(cachet_rc_code(cachet_attester_collect_bound(a, rd, NULL, 0, &ev, &len)),
                     CACHET_E_MISMATCH);
    assert_null(ev);
    cachet_attester_free(a);
}

static void test_extended_report_and_certs(void **state)
{
    (void)state;
    fake_dev d = {0};
    fill_report(&d);
    /* a table: VCEK GUID, offset 48, 10 bytes; terminator */
    uint8_t table[58] = {0x8d, 0x75, 0xda, 0x63, 0x64, 0xe6, 0x64, 0x45,
                         0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd, 48, 0, 0, 0, 10};
    memset(table + 48, 0xce, 10);
    d.table = table;
    d.table_len = sizeof table;
    d.need_certs = 5 * 4096 + 100; /* first call: "buffer too small" */
    cachet_attester *a = open_fake(&d, true, 0);
    uint8_t rd[64] = {3};
    uint8_t *ev = NULL;
    size_t len = 0;
    assert_int_equal(cachet_attester_collect_bound(a, rd, NULL, 0, &ev, &len), CACHET_OK);
    assert_int_equal(d.calls, 2);
    assert_int_equal(d.certs_len_seen, 6 * 4096); /* page-rounded retry */
    free(ev);
    size_t tlen = 0;
    const uint8_t *t = cachet_attester_sevguest_certs(a, &tlen);
    assert_non_null(t);
    cachet_snp_cert certs[4];
    size_t n = 0;
    assert_int_equal(cachet_snp_cert_table_parse(t, tlen, certs, 4, &n), CACHET_OK);
    assert_int_equal(n, 1);
    assert_string_equal(certs[0].name, "vcek");
    assert_int_equal(certs[0].len, 10);
    assert_int_equal(certs[0].data[0], 0xce);
    /* a host that asks for an absurd buffer is refused */
    d.need_certs = 64u << 20;
    d.calls = 0;
    assert_int_equal(cachet_rc_code(cachet_attester_collect_bound(a, rd, NULL, 0, &ev, &len)),
                     CACHET_E_LIMIT);
    cachet_attester_free(a);
}

static void test_cert_table_bounds(void **state)
{
    (void)state;
    cachet_snp_cert certs[2];
    size_t n = 0;
    uint8_t t[72] = {0};
    /* terminator only */
    assert_int_equal(cachet_snp_cert_table_parse(t, 24, certs, 2, &n), CACHET_OK);
    assert_int_equal(n, 0);
    /* no terminator */
    memset(t, 0x01, 24);
    assert_int_not_equal(cachet_snp_cert_table_parse(t, 24, certs, 2, &n), CACHET_OK);
    /* an entry pointing outside */
    memset(t, 0, sizeof t);
    t[0] = 1;
    t[16] = 60;
    t[20] = 20; /* 60 + 20 > 72 */
    assert_int_equal(cachet_rc_code(cachet_snp_cert_table_parse(t, sizeof t, certs, 2, &n)),
                     CACHET_E_FORMAT);
    t[20] = 0xff;
    t[23] = 0xff; /* huge length */
    assert_int_not_equal(cachet_snp_cert_table_parse(t, sizeof t, certs, 2, &n), CACHET_OK);
    /* unknown GUID: reported as such */
    t[20] = 12;
    t[23] = 0;
    assert_int_equal(cachet_snp_cert_table_parse(t, sizeof t, certs, 2, &n), CACHET_OK);
    assert_int_equal(n, 1);
    assert_string_equal(certs[0].name, "unknown");
}

static void test_absent_device(void **state)
{
    (void)state;
    cachet_sevguest_opts o = {.device = "/nonexistent/sev-guest"};
    cachet_attester *a = NULL;
    assert_int_equal(cachet_rc_code(cachet_attester_sevguest_new(&o, &a)), CACHET_E_NOT_FOUND);
    o.device = "/dev/null";
    o.vmpl = 4;
    assert_int_not_equal(cachet_attester_sevguest_new(&o, &a), CACHET_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_report),
        cmocka_unit_test(test_refuses_bad_answers),
        cmocka_unit_test(test_extended_report_and_certs),
        cmocka_unit_test(test_cert_table_bounds),
        cmocka_unit_test(test_absent_device),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
