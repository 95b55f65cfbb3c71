/* A fake configfs-tsm report interface for tests (no TEE here).
 *
 * It stands behind cachet_tsm_opts.mkdir_fn: when the attester creates its
 * report directory, the fake creates the attributes configfs would show —
 * provider, generation, auxblob as files, inblob and outblob as FIFOs — and
 * a thread that, like the kernel, waits for a write to inblob, bumps the
 * generation and serves the configured report (a real captured one) back
 * through outblob.  Everything the attester does after mkdir is its real
 * code path: open/write/read on those paths.  What it cannot show: kernel
 * timing, EFBIG, privlevel floors, and the real provider's behaviour. */
#ifndef CACHET_TESTS_FAKE_TSM_H
#define CACHET_TESTS_FAKE_TSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fake_tsm_cfg {
    const char *provider;      /* written to "provider" with a newline */
    const uint8_t *outblob;    /* served for every request (may be empty) */
    size_t outblob_len;
    const uint8_t *auxblob;    /* NULL: no auxblob attribute */
    size_t auxblob_len;
    unsigned requests;         /* requests to serve; 0 means 1 */
    unsigned racing_writes;    /* extra generation bumps per request (another writer) */
    unsigned timeout_ms;       /* how long the server waits for the attester; 0: 5000 */
} fake_tsm_cfg;

typedef struct fake_tsm fake_tsm;

fake_tsm *fake_tsm_new(const fake_tsm_cfg *cfg);
/* The mkdir_fn to put in cachet_tsm_opts, with the fake as its argument. */
int fake_tsm_mkdir(const char *path, unsigned mode, void *arg);
/* Wait for the server thread (bounded by its own timeouts). */
void fake_tsm_join(fake_tsm *f);
/* What the last request wrote to inblob, and how many requests were served. */
const uint8_t *fake_tsm_inblob(const fake_tsm *f, size_t *len);
unsigned fake_tsm_served(const fake_tsm *f);
void fake_tsm_free(fake_tsm *f);

#endif
