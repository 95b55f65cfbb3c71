/* Helpers shared by the TPM and Azure tests (include after testutil.h). */
#ifndef CACHET_TESTS_TPM_ASSERT_H
#define CACHET_TESTS_TPM_ASSERT_H

#include <stdlib.h>
#include <string.h>

#include "cachet/clock.h"
#include "cachet/evidence.h"

#include "../evidence/ev_assert.h"

static inline int64_t tt_at(const char *s)
{
    int64_t t = 0;
    assert_int_equal(cachet_time_parse_rfc3339(s, &t), CACHET_OK);
    return t;
}

/* Hex → malloc'd bytes. */
static inline uint8_t *tt_hex(const char *hex, size_t *len)
{
    size_t cap = strlen(hex) / 2 + 1;
    uint8_t *b = malloc(cap);
    assert_non_null(b);
    assert_int_equal(cachet_hex_decode(hex, b, cap, len), CACHET_OK);
    return b;
}

/* Verify with an explicit family (NULL: by content). */
static inline cachet_verify_result *tt_verify(const char *tee, const uint8_t *ev, size_t len,
                                              const uint8_t *nonce, size_t nonce_len,
                                              cachet_x509 *const *anchors, size_t n_anchors,
                                              const cachet_endorsements *e, int64_t t)
{
    cachet_verify_request req = {
        .evidence = ev,
        .evidence_len = len,
        .tee = tee,
        .endorsements = e,
        .trust_anchors = anchors,
        .n_trust_anchors = n_anchors,
        .time = t,
        .nonce = nonce,
        .nonce_len = nonce_len,
    };
    cachet_verify_result *r = NULL;
    assert_int_equal(cachet_evidence_verify(&req, &r), CACHET_OK);
    assert_non_null(r);
    return r;
}

/* A claim under a path of object keys, e.g. tt_claim(r, "tpm", "pcr00", NULL). */
static inline const json_t *tt_claim(const cachet_verify_result *r, const char *k1,
                                     const char *k2, const char *k3)
{
    const json_t *v = json_object_get(r->claims, k1);
    if (v && k2)
        v = json_object_get(v, k2);
    if (v && k3)
        v = json_object_get(v, k3);
    return v;
}

#endif
