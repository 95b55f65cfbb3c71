/* The request binding shared by the report-data attesters (tsm, sev-guest,
 * tdx-guest, sample): cachet_attest_request → runtime data → REPORT_DATA
 * (protocols.md §1.7). */
#ifndef CACHET_ATTESTER_BINDING_H
#define CACHET_ATTESTER_BINDING_H

#include <stddef.h>
#include <stdint.h>

#include "cachet/attester.h"

#ifndef AT_RC
#define AT_RC(code) CACHET_RC(CACHET_SUB_ATTESTER, CACHET_E_##code)
#endif

/* report_data (64 bytes) and, when runtime_jcs is non-NULL, the JCS text
 * of the runtime data (malloc'd).  The nonce is required. */
cachet_rc attester_bind_request(const cachet_attest_request *req, uint8_t report_data[64],
                                char **runtime_jcs, size_t *jcs_len);

/* Read a small text or binary attribute/file fully (at most max bytes),
 * from regular files, configfs attributes and FIFOs alike. */
cachet_rc attester_read_all(const char *path, size_t max, uint8_t **out, size_t *len);
/* Write buf to an existing attribute in one write(2) (configfs takes an
 * attribute's value in one write). */
cachet_rc attester_write_attr(const char *path, const void *buf, size_t len);

#endif
