/* /dev/tdx_guest attester (include/uapi/linux/tdx-guest.h;
 * evidence-formats.md §6.3): TDX_CMD_GET_REPORT0 runs TDG.MR.REPORT and
 * returns the TDREPORT, which only the platform's quoting enclave can
 * verify; the remotely verifiable quote comes from configfs-tsm (provider
 * tdx_guest).  The TDREPORT is used as a local check that the TD module
 * took our REPORTDATA; the evidence is the quote.
 *
 * Tested here only through an injected ioctl and a fake configfs
 * (tests/attester/); never on TDX hardware (see docs/attester.md). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "attester/attester_int.h"
#include "attester/binding.h"

struct tdx_report_req {
    uint8_t reportdata[64];
    uint8_t tdreport[CACHET_TDREPORT_LEN];
};
_Static_assert(sizeof(struct tdx_report_req) == 1088, "tdx_report_req layout");

#define TDX_CMD_GET_REPORT0 _IOWR('T', 1, struct tdx_report_req)
#define TDREPORT_TYPE_OFF 0      /* REPORTMACSTRUCT.REPORTTYPE.TYPE */
#define TDREPORT_TYPE_TDX 0x81
#define TDREPORT_DATA_OFF 128    /* REPORTMACSTRUCT.REPORTDATA */

typedef struct tg_impl {
    cachet_tdxguest_opts opts;
    char device[256];
    cachet_attester *tsm;
    uint8_t tdreport[CACHET_TDREPORT_LEN];
} tg_impl;

static int real_ioctl(int fd, unsigned long request, void *arg, void *ctx)
{
    (void)ctx;
    return ioctl(fd, request, arg);
}

cachet_rc cachet_tdxguest_report(const cachet_tdxguest_opts *opts, const uint8_t reportdata[64],
                                 uint8_t tdreport[CACHET_TDREPORT_LEN])
{
    if (!reportdata || !tdreport)
        return cachet_err(AT_RC(INVALID_ARG), "tdx-guest: NULL argument");
    const char *dev = opts && opts->device ? opts->device : "/dev/tdx_guest";
    int (*io)(int, unsigned long, void *, void *) =
        opts && opts->ioctl_fn ? opts->ioctl_fn : real_ioctl;
    int fd = open(dev, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return cachet_err(CACHET_RC(CACHET_SUB_ATTESTER,
                                    errno == ENOENT ? CACHET_E_NOT_FOUND : CACHET_E_IO),
                          "tdx-guest: cannot open %s: %s", dev, strerror(errno));
    struct tdx_report_req *req = calloc(1, sizeof *req);
    if (!req) {
        close(fd);
        return cachet_err(AT_RC(NOMEM), "tdx-guest: out of memory");
    }
    memcpy(req->reportdata, reportdata, 64);
    int r = io(fd, TDX_CMD_GET_REPORT0, req, opts ? opts->ioctl_ctx : NULL);
    int e = errno;
    close(fd);
    cachet_rc rc = CACHET_OK;
    if (r != 0)
        rc = cachet_err(AT_RC(IO), "tdx-guest: TDX_CMD_GET_REPORT0 failed: %s", strerror(e));
    else if (req->tdreport[TDREPORT_TYPE_OFF] != TDREPORT_TYPE_TDX)
        rc = cachet_err(AT_RC(FORMAT), "tdx-guest: TDREPORT type 0x%02x, not TDX (0x81)",
                        req->tdreport[TDREPORT_TYPE_OFF]);
    else if (memcmp(req->tdreport + TDREPORT_DATA_OFF, reportdata, 64) != 0)
        rc = cachet_err(AT_RC(MISMATCH), "tdx-guest: the TDREPORT does not carry the "
                                         "REPORTDATA we asked for");
    if (rc == CACHET_OK)
        memcpy(tdreport, req->tdreport, CACHET_TDREPORT_LEN);
    free(req);
    return rc;
}

/* The quote's REPORTDATA (TD quote body at 48, REPORTDATA at 48+520). */
#define QUOTE_HEADER_LEN 48
#define QUOTE_REPORTDATA_OFF (QUOTE_HEADER_LEN + 520)

static cachet_rc tg_collect_bound(void *impl, const uint8_t report_data[64],
                                  const char *runtime_data, size_t runtime_len,
                                  uint8_t **evidence, size_t *len)
{
    tg_impl *t = impl;
    cachet_rc rc = cachet_tdxguest_report(&t->opts, report_data, t->tdreport);
    if (rc != CACHET_OK)
        return rc;
    rc = cachet_attester_collect_bound(t->tsm, report_data, runtime_data, runtime_len, evidence,
                                       len);
    if (rc != CACHET_OK)
        return rc;
    if (*len < QUOTE_REPORTDATA_OFF + 64 ||
        memcmp(*evidence + QUOTE_REPORTDATA_OFF, report_data, 64) != 0) {
        free(*evidence);
        *evidence = NULL;
        *len = 0;
        return cachet_err(AT_RC(MISMATCH), "tdx-guest: the quote does not carry the REPORTDATA "
                                           "we asked for");
    }
    return CACHET_OK;
}

static cachet_rc tg_collect(void *impl, const cachet_attest_request *req, uint8_t **evidence,
                            size_t *len)
{
    uint8_t rd[64];
    cachet_rc rc = attester_bind_request(req, rd, NULL, NULL);
    if (rc != CACHET_OK)
        return rc;
    return tg_collect_bound(impl, rd, NULL, 0, evidence, len);
}

static void tg_close(void *impl)
{
    tg_impl *t = impl;
    if (!t)
        return;
    cachet_attester_free(t->tsm);
    free(t);
}

static const cachet_attester_ops tg_ops = {
    .tee = "tdx",
    .collect = tg_collect,
    .close = tg_close,
    .collect_bound = tg_collect_bound,
};

cachet_rc cachet_attester_tdxguest_new(const cachet_tdxguest_opts *opts, cachet_attester **out)
{
    if (!out)
        return cachet_err(AT_RC(INVALID_ARG), "tdx-guest: NULL output");
    *out = NULL;
    const char *dev = opts && opts->device ? opts->device : "/dev/tdx_guest";
    if (access(dev, F_OK) != 0)
        return cachet_err(AT_RC(NOT_FOUND), "tdx-guest: %s is not there (not a TDX guest, or "
                                            "the tdx_guest driver is not loaded)", dev);
    tg_impl *t = calloc(1, sizeof *t);
    if (!t)
        return cachet_err(AT_RC(NOMEM), "tdx-guest: out of memory");
    if (opts)
        t->opts = *opts;
    if (strlen(dev) >= sizeof t->device) {
        free(t);
        return cachet_err(AT_RC(LIMIT), "tdx-guest: device path too long");
    }
    strcpy(t->device, dev);
    t->opts.device = t->device;
    t->opts.tsm.provider = "tdx_guest";
    if (!opts)
        t->opts.tsm.privlevel = -1;
    cachet_rc rc = cachet_attester_tsm_new(&t->opts.tsm, &t->tsm);
    if (rc != CACHET_OK) {
        char why[256];
        snprintf(why, sizeof why, "%s", cachet_err_detail());
        free(t);
        return cachet_err(rc, "tdx-guest: the quote needs configfs-tsm with provider tdx_guest "
                              "(Linux 6.7+): %s", why);
    }
    return cachet_attester_wrap(&tg_ops, t, out);
}
