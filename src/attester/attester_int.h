/* What an attester implementation provides (internal to src/attester). */
#ifndef CACHET_ATTESTER_INT_H
#define CACHET_ATTESTER_INT_H

#include "cachet/attester.h"

typedef struct cachet_attester_ops {
    const char *tee; /* the evidence family produced, as `cachet verify --tee` names it */
    /* Evidence into a malloc'd buffer the caller frees. */
    cachet_rc (*collect)(void *impl, const cachet_attest_request *req, uint8_t **evidence,
                         size_t *len);
    void (*close)(void *impl);
    /* Optional: evidence whose report data is exactly report_data, the
     * caller having computed the binding (runtime_data: the JCS text that
     * hashes to it, which formats that carry it embed; may be NULL). */
    cachet_rc (*collect_bound)(void *impl, const uint8_t report_data[64],
                               const char *runtime_data, size_t runtime_data_len,
                               uint8_t **evidence, size_t *len);
} cachet_attester_ops;

/* The implementation behind a, when it was wrapped with ops (else NULL):
 * for attester-specific calls such as cachet_tsm_request(). */
void *cachet_attester_impl(const cachet_attester *a, const cachet_attester_ops *ops);

/* Wrap an implementation (takes impl; on failure ops->close(impl) is called). */
cachet_rc cachet_attester_wrap(const cachet_attester_ops *ops, void *impl, cachet_attester **out);

#endif
