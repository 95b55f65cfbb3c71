/* Software TPMs with EK certificates (swtpm_harness.h) plus an owner's AK
 * CA, for the enrollment, key-broker and serve tests: everything lives in a
 * private temp directory and every swtpm dies with the test. */
#ifndef CACHET_TESTS_TPM_WORLD_H
#define CACHET_TESTS_TPM_WORLD_H

#include <stdbool.h>

#include "cachet/crypto.h"
#include "cachet/tpm.h"
#include "swtpm_harness.h"

#define TPM_WORLD_MAX 2

typedef struct tpm_world {
    const char *skip;              /* why the tests skip (printed), or NULL */
    char *dir, *ca_dir;
    char *ek_root_path, *ek_issuer_path; /* swtpm's local CA: root, issuer */
    cachet_x509 *ek_root, *ek_issuer;
    swtpm tpm[TPM_WORLD_MAX];
    int n;
    cachet_pkey *akca_key;         /* the owner's AK CA (P-256), self-issued */
    cachet_x509 *akca;
    char *akca_path, *akca_key_path;
    char *ak_cert_path[TPM_WORLD_MAX]; /* set by tpm_world_enroll */
} tpm_world;

/* n (1..2) manufactured and started swtpms and the AK CA; on any failure
 * w->skip says why (swtpm not installed, or set-up failed). */
void tpm_world_setup(tpm_world *w, int n);
/* Enroll TPM i's AK of type ak through the library; the certificate goes to
 * dir/akI.pem (w->ak_cert_path[i]).  Returns the library's rc. */
cachet_rc tpm_world_enroll(tpm_world *w, int i, cachet_tpm_ak_type ak);
void tpm_world_teardown(tpm_world *w);

#define TPM_WORLD_REQUIRE(w)                                                               \
    do {                                                                                   \
        if ((w)->skip) {                                                                   \
            print_message("# SKIP %s\n", (w)->skip);                                       \
            skip();                                                                        \
        }                                                                                  \
    } while (0)

#endif
