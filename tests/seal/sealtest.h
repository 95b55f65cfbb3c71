/* Helpers shared by the seal tests: deterministic keys and inputs, sealing a
 * buffer, and checking that a failed unseal leaves nothing behind. */
#ifndef CACHET_SEALTEST_H
#define CACHET_SEALTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "testutil.h"
#include "cachet/seal.h"

#define ST_CHUNK 4096u
#define ST_SEAL_RC(code) CACHET_RC(CACHET_SUB_SEAL, CACHET_E_##code)

/* Assert rc equals the expected seal rc, printing the detail if not. */
#define assert_seal_rc(rc, code)                                                             \
    do {                                                                                     \
        cachet_rc rc_ = (rc);                                                                \
        if (rc_ != ST_SEAL_RC(code))                                                         \
            fail_msg("expected %s, got %s (%s)", cachet_rc_str(ST_SEAL_RC(code)),            \
                     cachet_rc_str(rc_), cachet_err_detail());                               \
    } while (0)
#define assert_seal_ok(rc)                                                                   \
    do {                                                                                     \
        cachet_rc rc_ = (rc);                                                                \
        if (rc_ != CACHET_OK)                                                                \
            fail_msg("unexpected failure %s: %s", cachet_rc_str(rc_), cachet_err_detail());  \
    } while (0)

/* A key whose 32 bytes are derived from seed (asserts). */
cachet_seal_key *st_key(uint8_t seed);
/* Deterministic pseudo-random bytes (malloc'd; asserts). */
uint8_t *st_pattern(size_t len, uint32_t seed);
/* Write data to dir/name and seal it to dir/sealed_name with chunk size
 * chunk and threads; returns the malloc'd sealed path. */
char *st_seal_buffer(const char *dir, const char *name, const uint8_t *data, size_t len,
                     const cachet_seal_key *key, uint32_t chunk, unsigned threads,
                     uint8_t digest[CACHET_SEAL_DIGEST_LEN]);
/* Number of entries in dir (., .. excluded). */
int st_count_entries(const char *dir);
bool st_exists(const char *path);
/* Flip one bit of a file in place. */
void st_flip_bit(const char *path, uint64_t offset, unsigned bit);
/* Parse the header of a sealed file (asserts). */
void st_read_header(const char *path, cachet_seal_header *h, uint8_t **bytes, size_t *len);

#endif
