/* The attester interface: a handle over one implementation's ops. */
#include <stdlib.h>

#include "attester/attester_int.h"

#define AT_RC(code) CACHET_RC(CACHET_SUB_ATTESTER, CACHET_E_##code)

struct cachet_attester {
    const cachet_attester_ops *ops;
    void *impl;
};

cachet_rc cachet_attester_wrap(const cachet_attester_ops *ops, void *impl, cachet_attester **out)
{
    if (!ops || !ops->collect || !out) {
        if (ops && ops->close)
            ops->close(impl);
        return cachet_err(AT_RC(INVALID_ARG), "attester: incomplete implementation");
    }
    *out = NULL;
    cachet_attester *a = calloc(1, sizeof *a);
    if (!a) {
        if (ops->close)
            ops->close(impl);
        return cachet_err(AT_RC(NOMEM), "attester: out of memory");
    }
    a->ops = ops;
    a->impl = impl;
    *out = a;
    return CACHET_OK;
}

cachet_rc cachet_attester_collect(cachet_attester *a, const cachet_attest_request *req,
                                  uint8_t **evidence, size_t *len)
{
    if (evidence)
        *evidence = NULL;
    if (len)
        *len = 0;
    if (!a || !req || !evidence || !len)
        return cachet_err(AT_RC(INVALID_ARG), "attester: NULL argument");
    if ((req->nonce_len && !req->nonce) || (req->user_data_len && !req->user_data) ||
        (req->public_key_len && !req->public_key))
        return cachet_err(AT_RC(INVALID_ARG), "attester: a length without its bytes");
    return a->ops->collect(a->impl, req, evidence, len);
}

cachet_rc cachet_attester_collect_bound(cachet_attester *a, const uint8_t report_data[64],
                                        const char *runtime_data, size_t runtime_data_len,
                                        uint8_t **evidence, size_t *len)
{
    if (evidence)
        *evidence = NULL;
    if (len)
        *len = 0;
    if (!a || !report_data || !evidence || !len || (runtime_data_len && !runtime_data))
        return cachet_err(AT_RC(INVALID_ARG), "attester: NULL argument");
    if (!a->ops->collect_bound)
        return cachet_err(AT_RC(UNSUPPORTED), "attester: %s evidence has no 64-byte report "
                          "data field to fill", a->ops->tee);
    return a->ops->collect_bound(a->impl, report_data, runtime_data, runtime_data_len, evidence,
                                 len);
}

void *cachet_attester_impl(const cachet_attester *a, const cachet_attester_ops *ops)
{
    return a && a->ops == ops ? a->impl : NULL;
}

const char *cachet_attester_tee(const cachet_attester *a) { return a ? a->ops->tee : NULL; }

void cachet_attester_free(cachet_attester *a)
{
    if (!a)
        return;
    if (a->ops->close)
        a->ops->close(a->impl);
    free(a);
}
