/* A broker on 127.0.0.1 (free port) over a temp SQLite file, for tests. */
#ifndef CACHET_TEST_KBS_FIXTURE_H
#define CACHET_TEST_KBS_FIXTURE_H

#include <stdint.h>

#include "cachet/attester.h"
#include "cachet/kbs.h"
#include "cachet/kbs_client.h"

typedef struct kbs_fix {
    char *dir, *db, *sample_key;
    uint8_t kek[CACHET_KBS_KEK_LEN];
    cachet_pkey *trust;
    cachet_pkey *admin; /* Ed25519; its public half is the broker's admin key */
    cachet_attester *attester;
    cachet_kbs *kbs;
    char url[64];
    /* set before kbs_fix_start: */
    unsigned rate_limit, rate_burst;
    char *tls_cert, *tls_key; /* HTTPS when set */
    cachet_x509 **anchors;    /* certificate trust anchors (borrowed), e.g. a TPM AK CA */
    size_t n_anchors;
} kbs_fix;

extern int64_t kbs_fix_now; /* the server's clock */

#define FIX_POLICY                                                                          \
    "{\"id\":\"test\",\"rules\":[{\"name\":\"dev\",\"tee\":[\"sample\"],"                   \
    "\"status\":[\"affirming\",\"warning\"],\"any_workload\":true}]}"
#define FIX_RPOLICY                                                                         \
    "{\"version\":1,\"grants\":[{\"resources\":[\"default/model-key/*\"],\"rules\":[\"dev\"]," \
    "\"status\":[\"affirming\",\"warning\"]}]}"

/* A temp dir, KEK, sample key and attester; policies set unless deny_all. */
void kbs_fix_setup(kbs_fix *f, bool deny_all);
void kbs_fix_start(kbs_fix *f, size_t max_body);
void kbs_fix_teardown(kbs_fix *f);

#endif
