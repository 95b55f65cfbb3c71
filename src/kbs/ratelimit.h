/* Per-client-address token buckets (IPv4 and IPv6 addresses as bytes). */
#ifndef CACHET_KBS_RATELIMIT_H
#define CACHET_KBS_RATELIMIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KBS_RL_SLOTS 1024

typedef struct kbs_rl_slot {
    uint8_t addr[16];
    uint8_t len;
    double tokens;
    double last; /* monotonic seconds */
} kbs_rl_slot;

typedef struct kbs_ratelimit {
    pthread_mutex_t mu;
    double rate, burst;
    kbs_rl_slot slots[KBS_RL_SLOTS];
} kbs_ratelimit;

void kbs_rl_init(kbs_ratelimit *rl, unsigned rate, unsigned burst);
void kbs_rl_fini(kbs_ratelimit *rl);
/* Take one token for addr; false when the client is over its rate. */
bool kbs_rl_take(kbs_ratelimit *rl, const uint8_t *addr, size_t len);

#endif
