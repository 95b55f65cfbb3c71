/* Injectable clock: verification is a pure function of bytes, collateral and
 * a time, so tests pin the time of each real vector. Times are Unix seconds. */
#ifndef CACHET_CLOCK_H
#define CACHET_CLOCK_H

#include <stdint.h>

#include "cachet/rc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cachet_clock {
    int64_t (*now)(const struct cachet_clock *self);
    int64_t fixed; /* used by the fixed clock */
} cachet_clock;

/* The wall clock. */
const cachet_clock *cachet_clock_system(void);
/* A clock that always says t. */
cachet_clock cachet_clock_fixed(int64_t t);
int64_t cachet_clock_now(const cachet_clock *c); /* NULL means the system clock */

/* RFC 3339 ("2025-06-01T00:00:00Z", fractional seconds and +hh:mm offsets
 * accepted; fractions are truncated). */
cachet_rc cachet_time_parse_rfc3339(const char *s, int64_t *out);
/* "YYYY-MM-DDThh:mm:ssZ"; buf must hold 21 bytes. */
void cachet_time_format_rfc3339(int64_t t, char buf[21]);

#ifdef __cplusplus
}
#endif
#endif
