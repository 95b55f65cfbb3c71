/* A software TPM for tests: swtpm manufactured by swtpm_setup with an EK
 * certificate from swtpm's local CA (configured in a private temp
 * directory, never /etc or /var), served on free loopback ports, and always
 * stopped: by swtpm_stop(), at exit, and by the kernel if the test process
 * dies (PR_SET_PDEATHSIG). */
#ifndef CACHET_TESTS_SWTPM_HARNESS_H
#define CACHET_TESTS_SWTPM_HARNESS_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct swtpm {
    char *state_dir;
    int port;          /* server; control is port + 1 */
    pid_t pid;
    char tcti[96];     /* "swtpm:host=127.0.0.1,port=N" */
} swtpm;

/* NULL when swtpm, swtpm_setup and swtpm_localca are all installed, else
 * the name of the one missing. */
const char *swtpm_missing(void);

/* Write the local CA's configuration under ca_dir (its state lives there
 * too); returns the setup config path (malloc'd) or NULL. */
char *swtpm_ca_config(const char *ca_dir);
/* Manufacture a TPM 2.0 in state_dir (EK + EK certificate + platform
 * certificate, SHA-256 bank); 0 on success. */
int swtpm_manufacture(const char *state_dir, const char *setup_conf);
/* Start swtpm on free loopback ports; 0 on success (it answers). */
int swtpm_start(swtpm *s, const char *state_dir);
void swtpm_stop(swtpm *s);

#endif
