/* The /dev/nsm attester: one NSM_IOCTL_RAW round trip per document.
 *
 * The document that comes back is checked before it is handed out: it must
 * parse as a Nitro attestation document (structure only: the verifier,
 * not the enclave, judges signatures) and carry exactly the nonce, user
 * data and public key that were asked for. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "attester/attester_int.h"
#include "attester/nitro/nsm.h"
#include "cachet/runtime_data.h"
#include "evidence/nitro/nitro.h"

#define AT_RC(code) CACHET_RC(CACHET_SUB_ATTESTER, CACHET_E_##code)

typedef struct nsm_dev {
    int fd;
    nsm_ioctl_fn fn;
    void *fn_ctx;
} nsm_dev;

static int real_ioctl(void *ctx, int fd, unsigned long request, struct nsm_raw *msg)
{
    (void)ctx;
    return ioctl(fd, request, msg);
}

static bool same_field(bool present, const nitro_bytes *got, const uint8_t *want, size_t want_len)
{
    if (!want)
        return !present;
    return present && got->len == want_len && (want_len == 0 || memcmp(got->p, want, want_len) == 0);
}

static cachet_rc check_document(const uint8_t *doc, size_t len, const cachet_attest_request *req)
{
    nitro_doc d;
    nitro_parse_stage stage;
    if (nitro_doc_parse(doc, len, &d, &stage) != CACHET_OK)
        return cachet_err(AT_RC(FORMAT), "nsm: the module returned a bad document (%s: %s)",
                          nitro_parse_stage_check(stage), cachet_err_detail());
    if (!same_field(d.has_nonce, &d.nonce, req->nonce, req->nonce_len) ||
        !same_field(d.has_user_data, &d.user_data, req->user_data, req->user_data_len) ||
        !same_field(d.has_public_key, &d.public_key, req->public_key, req->public_key_len))
        return cachet_err(AT_RC(MISMATCH),
                          "nsm: the document does not carry the nonce, user_data and "
                          "public_key that were requested");
    return CACHET_OK;
}

static cachet_rc nsm_collect(void *impl, const cachet_attest_request *req, uint8_t **evidence,
                             size_t *len)
{
    nsm_dev *dev = impl;
    uint8_t request[NSM_REQUEST_MAX_SIZE];
    size_t request_len = 0;
    cachet_rc rc = nsm_encode_attestation(req, request, sizeof request, &request_len);
    if (rc != CACHET_OK)
        return rc;
    uint8_t *response = calloc(1, NSM_RESPONSE_MAX_SIZE);
    if (!response)
        return cachet_err(AT_RC(NOMEM), "nsm: out of memory");
    struct nsm_raw msg = {
        .request = { (uint64_t)(uintptr_t)request, request_len },
        .response = { (uint64_t)(uintptr_t)response, NSM_RESPONSE_MAX_SIZE },
    };
    int r;
    do
        r = dev->fn(dev->fn_ctx, dev->fd, NSM_IOCTL_RAW, &msg);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        int e = errno;
        free(response);
        return cachet_err(AT_RC(IO), "nsm: NSM_IOCTL_RAW failed: %s", strerror(e));
    }
    if (msg.response.len > NSM_RESPONSE_MAX_SIZE) {
        free(response);
        return cachet_err(AT_RC(FORMAT), "nsm: response length %llu exceeds the buffer",
                          (unsigned long long)msg.response.len);
    }
    const uint8_t *doc = NULL;
    size_t doc_len = 0;
    rc = nsm_decode_attestation(response, (size_t)msg.response.len, &doc, &doc_len);
    if (rc == CACHET_OK)
        rc = check_document(doc, doc_len, req);
    if (rc == CACHET_OK) {
        *evidence = malloc(doc_len);
        if (!*evidence)
            rc = cachet_err(AT_RC(NOMEM), "nsm: out of memory");
        else {
            memcpy(*evidence, doc, doc_len);
            *len = doc_len;
        }
    }
    free(response);
    return rc;
}

static void nsm_close(void *impl)
{
    nsm_dev *dev = impl;
    if (!dev)
        return;
    if (dev->fd >= 0)
        close(dev->fd);
    free(dev);
}

/* The binding rule for Nitro (docs/attester.md §2): the document's nonce is
 * the 48-byte SHA-384 digest, the first 48 bytes of the report data, whose
 * zero padding must be zero. */
static cachet_rc nsm_collect_bound(void *impl, const uint8_t report_data[64],
                                   const char *runtime_data, size_t runtime_len,
                                   uint8_t **evidence, size_t *len)
{
    (void)runtime_data;
    (void)runtime_len;
    size_t n = cachet_runtime_data_binding_len("nitro");
    for (size_t i = n; i < CACHET_REPORT_DATA_LEN; i++)
        if (report_data[i])
            return cachet_err(AT_RC(INVALID_ARG), "nsm: report data byte %zu is not zero: the "
                              "document's nonce carries the first %zu bytes only", i, n);
    cachet_attest_request rq = {.nonce = report_data, .nonce_len = n};
    return nsm_collect(impl, &rq, evidence, len);
}

static const cachet_attester_ops nsm_ops = {
    .tee = "nitro",
    .collect = nsm_collect,
    .close = nsm_close,
    .collect_bound = nsm_collect_bound,
};

cachet_rc nsm_attester_new(const char *device, nsm_ioctl_fn fn, void *fn_ctx,
                           cachet_attester **out)
{
    if (!out)
        return cachet_err(AT_RC(INVALID_ARG), "nsm: NULL argument");
    *out = NULL;
    if (!device)
        device = NSM_DEVICE;
    nsm_dev *dev = calloc(1, sizeof *dev);
    if (!dev)
        return cachet_err(AT_RC(NOMEM), "nsm: out of memory");
    dev->fd = open(device, O_RDWR | O_CLOEXEC);
    if (dev->fd < 0) {
        int e = errno;
        free(dev);
        return cachet_err(CACHET_RC(CACHET_SUB_ATTESTER, e == ENOENT ? CACHET_E_NOT_FOUND : CACHET_E_IO),
                          "nsm: cannot open %s: %s (not inside a Nitro enclave?)", device,
                          strerror(e));
    }
    dev->fn = fn ? fn : real_ioctl;
    dev->fn_ctx = fn_ctx;
    return cachet_attester_wrap(&nsm_ops, dev, out);
}

cachet_rc cachet_attester_nitro_new(const char *device, cachet_attester **out)
{
    return nsm_attester_new(device, NULL, NULL, out);
}
