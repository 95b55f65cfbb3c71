/* The Nitro Secure Module (NSM) attester (internal to src/attester/nitro and
 * its tests).  No Nitro hardware is available to cachet's tests: they drive
 * the attester through the ioctl boundary below with a fake transport.
 *
 * Sources: Linux include/uapi/linux/nsm.h (NSM_IOCTL_RAW, struct nsm_raw,
 * request/response size limits) and aws-nitro-enclaves-nsm-api src/api
 * (the CBOR messages, serde's externally tagged enums:
 *   request  {"Attestation": {"user_data": bstr/null, "nonce": bstr/null,
 *                             "public_key": bstr/null}}
 *   response {"Attestation": {"document": bstr}} or {"Error": "<ErrorCode>"}). */
#ifndef CACHET_ATTESTER_NSM_H
#define CACHET_ATTESTER_NSM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include "cachet/attester.h"

#define NSM_DEVICE "/dev/nsm"
#define NSM_MAGIC 0x0A
#define NSM_REQUEST_MAX_SIZE 0x1000u
#define NSM_RESPONSE_MAX_SIZE 0x3000u

/* include/uapi/linux/nsm.h (Linux 6.8+), restated: Debian 12's headers
 * predate it. */
struct nsm_iovec {
    uint64_t addr; /* user address of the buffer */
    uint64_t len;  /* its length; the driver sets the response's to what it wrote */
};
struct nsm_raw {
    struct nsm_iovec request;
    struct nsm_iovec response;
};
#define NSM_IOCTL_RAW _IOWR(NSM_MAGIC, 0x0, struct nsm_raw)

/* The ioctl boundary: the real one calls ioctl(2); tests pass a fake. */
typedef int (*nsm_ioctl_fn)(void *ctx, int fd, unsigned long request, struct nsm_raw *msg);

/* An NSM attester over device, talking through fn (NULL: ioctl(2)). */
cachet_rc nsm_attester_new(const char *device, nsm_ioctl_fn fn, void *fn_ctx,
                           cachet_attester **out);

/* The Attestation request, CBOR-encoded into buf (cap >= NSM_REQUEST_MAX_SIZE
 * is always enough). */
cachet_rc nsm_encode_attestation(const cachet_attest_request *req, uint8_t *buf, size_t cap,
                                 size_t *len);
/* The document inside an Attestation response (points into buf), or the
 * NSM's error code as CACHET_E_IO with its name in the detail. */
cachet_rc nsm_decode_attestation(const uint8_t *buf, size_t len, const uint8_t **doc,
                                 size_t *doc_len);

#endif
