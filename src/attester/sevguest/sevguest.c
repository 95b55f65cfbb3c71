/* /dev/sev-guest attester: SNP_GET_REPORT and SNP_GET_EXT_REPORT
 * (include/uapi/linux/sev-guest.h, Documentation/virt/coco/sev-guest.rst;
 * evidence-formats.md §6.2).
 *
 * The uapi structs are mirrored here with their natural layout (checked by
 * static assertions) so that the build does not depend on the installed
 * kernel headers.  Nothing the device returns is trusted for its size: the
 * response's report_size must be exactly 1184 and fit the response buffer,
 * the firmware status must be 0, the report must echo our REPORT_DATA, and
 * the certificate table is parsed only within the buffer we own.
 *
 * Tested here only through an injected ioctl (tests/attester/); never on
 * SEV-SNP hardware (see docs/attester.md). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "attester/attester_int.h"
#include "attester/binding.h"
#include "cachet/reader.h"

struct sg_report_req {
    uint8_t user_data[64];
    uint32_t vmpl;
    uint8_t rsvd[28];
};
struct sg_report_resp {
    uint8_t data[4000];
};
struct sg_request_ioctl {
    uint8_t msg_version;
    uint64_t req_data;
    uint64_t resp_data;
    union {
        uint64_t exitinfo2;
        struct {
            uint32_t fw_error;
            uint32_t vmm_error;
        } err;
    };
};
struct sg_ext_report_req {
    struct sg_report_req data;
    uint64_t certs_address;
    uint32_t certs_len;
};
_Static_assert(sizeof(struct sg_report_req) == 96, "snp_report_req layout");
_Static_assert(sizeof(struct sg_report_resp) == 4000, "snp_report_resp layout");
_Static_assert(sizeof(struct sg_request_ioctl) == 32, "snp_guest_request_ioctl layout");
_Static_assert(sizeof(struct sg_ext_report_req) == 112, "snp_ext_report_req layout");

#define SG_GET_REPORT _IOWR('S', 0x0, struct sg_request_ioctl)
#define SG_GET_EXT_REPORT _IOWR('S', 0x2, struct sg_request_ioctl)
#define SG_VMM_ERR_INVALID_LEN 1
#define SG_VMM_ERR_BUSY 2

#define SNP_REPORT_LEN 0x4A0
#define SNP_REPORT_DATA_OFF 0x50
#define MSG_RSP_REPORT_OFF 0x20
#define PAGE 4096u
#define CERTS_INITIAL (4 * PAGE)
#define CERTS_MAX ((size_t)1 << 20)
#define MAX_TRIES 4

typedef struct sg_impl {
    char device[256];
    unsigned vmpl;
    bool extended;
    int (*ioctl_fn)(int, unsigned long, void *, void *);
    void *ctx;
    uint8_t *certs;
    size_t certs_len;
} sg_impl;

static int real_ioctl(int fd, unsigned long request, void *arg, void *ctx)
{
    (void)ctx;
    return ioctl(fd, request, arg);
}

static const cachet_attester_ops sg_ops;

/* MSG_REPORT_RSP (SNP ABI 56860 Table 25): status, report_size, 24
 * reserved bytes, the report. */
static cachet_rc take_report(const struct sg_report_resp *resp, const uint8_t report_data[64],
                             uint8_t **out)
{
    uint32_t status = cachet_le32(resp->data), size = cachet_le32(resp->data + 4);
    if (status != 0)
        return cachet_err(AT_RC(IO), "sev-guest: the firmware answered status 0x%x", status);
    if (size != SNP_REPORT_LEN || MSG_RSP_REPORT_OFF + (size_t)size > sizeof resp->data)
        return cachet_err(AT_RC(FORMAT), "sev-guest: report_size %u (want %u)", size,
                          SNP_REPORT_LEN);
    const uint8_t *rep = resp->data + MSG_RSP_REPORT_OFF;
    if (memcmp(rep + SNP_REPORT_DATA_OFF, report_data, 64) != 0)
        return cachet_err(AT_RC(MISMATCH), "sev-guest: the report does not carry the "
                                           "REPORT_DATA we asked for");
    uint8_t *copy = malloc(SNP_REPORT_LEN);
    if (!copy)
        return cachet_err(AT_RC(NOMEM), "sev-guest: out of memory");
    memcpy(copy, rep, SNP_REPORT_LEN);
    *out = copy;
    return CACHET_OK;
}

static cachet_rc ioctl_error(const char *what, const struct sg_request_ioctl *io, int e)
{
    return cachet_err(AT_RC(IO), "sev-guest: %s failed: %s (firmware error 0x%x, VMM error %u)",
                      what, strerror(e), io->err.fw_error, io->err.vmm_error);
}

static cachet_rc get_report(sg_impl *s, int fd, const uint8_t rd[64], struct sg_report_resp *resp)
{
    struct sg_report_req req;
    memset(&req, 0, sizeof req);
    memcpy(req.user_data, rd, 64);
    req.vmpl = s->vmpl;
    struct sg_request_ioctl io;
    for (int tries = 0; tries < MAX_TRIES; tries++) {
        memset(&io, 0, sizeof io);
        io.msg_version = 1;
        io.req_data = (uint64_t)(uintptr_t)&req;
        io.resp_data = (uint64_t)(uintptr_t)resp;
        if (s->ioctl_fn(fd, SG_GET_REPORT, &io, s->ctx) == 0)
            return CACHET_OK;
        if (io.err.vmm_error != SG_VMM_ERR_BUSY)
            break;
    }
    return ioctl_error("SNP_GET_REPORT", &io, errno);
}

static cachet_rc get_ext_report(sg_impl *s, int fd, const uint8_t rd[64],
                                struct sg_report_resp *resp)
{
    size_t size = CERTS_INITIAL;
    struct sg_request_ioctl io;
    memset(&io, 0, sizeof io);
    for (int tries = 0; tries < MAX_TRIES; tries++) {
        uint8_t *buf = NULL;
        if (posix_memalign((void **)&buf, PAGE, size) != 0)
            return cachet_err(AT_RC(NOMEM), "sev-guest: out of memory");
        memset(buf, 0, size);
        struct sg_ext_report_req req;
        memset(&req, 0, sizeof req);
        memcpy(req.data.user_data, rd, 64);
        req.data.vmpl = s->vmpl;
        req.certs_address = (uint64_t)(uintptr_t)buf;
        req.certs_len = (uint32_t)size;
        memset(&io, 0, sizeof io);
        io.msg_version = 1;
        io.req_data = (uint64_t)(uintptr_t)&req;
        io.resp_data = (uint64_t)(uintptr_t)resp;
        if (s->ioctl_fn(fd, SG_GET_EXT_REPORT, &io, s->ctx) == 0) {
            free(s->certs);
            s->certs = buf;      /* the table is parsed within size bytes, */
            s->certs_len = size; /* whatever certs_len now says */
            return CACHET_OK;
        }
        int e = errno;
        free(buf);
        if (io.err.vmm_error == SG_VMM_ERR_BUSY)
            continue;
        if (io.err.vmm_error != SG_VMM_ERR_INVALID_LEN)
            return ioctl_error("SNP_GET_EXT_REPORT", &io, e);
        /* the host wants a bigger buffer: bounded, page-rounded, and growing */
        size_t want = req.certs_len;
        if (want <= size || want > CERTS_MAX)
            return cachet_err(AT_RC(LIMIT), "sev-guest: the host asks for a %zu-byte "
                                            "certificate buffer (have %zu, limit %zu)",
                              want, size, CERTS_MAX);
        size = (want + PAGE - 1) / PAGE * PAGE;
    }
    return ioctl_error("SNP_GET_EXT_REPORT", &io, errno);
}

static cachet_rc sg_collect_bound(void *impl, const uint8_t report_data[64],
                                  const char *runtime_data, size_t runtime_len,
                                  uint8_t **evidence, size_t *len)
{
    (void)runtime_data;
    (void)runtime_len;
    sg_impl *s = impl;
    int fd = open(s->device, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return cachet_err(CACHET_RC(CACHET_SUB_ATTESTER,
                                    errno == ENOENT ? CACHET_E_NOT_FOUND : CACHET_E_IO),
                          "sev-guest: cannot open %s: %s", s->device, strerror(errno));
    struct sg_report_resp *resp = calloc(1, sizeof *resp);
    cachet_rc rc = resp ? CACHET_OK : cachet_err(AT_RC(NOMEM), "sev-guest: out of memory");
    if (rc == CACHET_OK)
        rc = s->extended ? get_ext_report(s, fd, report_data, resp)
                         : get_report(s, fd, report_data, resp);
    close(fd);
    uint8_t *rep = NULL;
    if (rc == CACHET_OK)
        rc = take_report(resp, report_data, &rep);
    free(resp);
    if (rc != CACHET_OK)
        return rc;
    *evidence = rep;
    *len = SNP_REPORT_LEN;
    return CACHET_OK;
}

static cachet_rc sg_collect(void *impl, const cachet_attest_request *req, uint8_t **evidence,
                            size_t *len)
{
    uint8_t rd[64];
    cachet_rc rc = attester_bind_request(req, rd, NULL, NULL);
    if (rc != CACHET_OK)
        return rc;
    return sg_collect_bound(impl, rd, NULL, 0, evidence, len);
}

static void sg_close(void *impl)
{
    sg_impl *s = impl;
    if (!s)
        return;
    free(s->certs);
    free(s);
}

static const cachet_attester_ops sg_ops = {
    .tee = "snp",
    .collect = sg_collect,
    .close = sg_close,
    .collect_bound = sg_collect_bound,
};

cachet_rc cachet_attester_sevguest_new(const cachet_sevguest_opts *opts, cachet_attester **out)
{
    if (!out)
        return cachet_err(AT_RC(INVALID_ARG), "sev-guest: NULL output");
    *out = NULL;
    const char *dev = opts && opts->device ? opts->device : "/dev/sev-guest";
    if (opts && opts->vmpl > 3)
        return cachet_err(AT_RC(RANGE), "sev-guest: vmpl must be 0..3");
    if (strlen(dev) >= sizeof ((sg_impl *)0)->device)
        return cachet_err(AT_RC(LIMIT), "sev-guest: device path too long");
    if (access(dev, F_OK) != 0)
        return cachet_err(AT_RC(NOT_FOUND), "sev-guest: %s is not there (not an SEV-SNP guest, "
                                            "or the sev-guest driver is not loaded)", dev);
    sg_impl *s = calloc(1, sizeof *s);
    if (!s)
        return cachet_err(AT_RC(NOMEM), "sev-guest: out of memory");
    strcpy(s->device, dev);
    s->vmpl = opts ? opts->vmpl : 0;
    s->extended = opts && opts->extended;
    s->ioctl_fn = opts && opts->ioctl_fn ? opts->ioctl_fn : real_ioctl;
    s->ctx = opts ? opts->ioctl_ctx : NULL;
    return cachet_attester_wrap(&sg_ops, s, out);
}

const uint8_t *cachet_attester_sevguest_certs(const cachet_attester *a, size_t *len)
{
    sg_impl *s = cachet_attester_impl(a, &sg_ops);
    if (len)
        *len = s ? s->certs_len : 0;
    return s ? s->certs : NULL;
}
