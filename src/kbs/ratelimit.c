/* Token buckets per client address: rate tokens per second up to burst.
 * The table is direct-mapped by a hash of the address; a colliding client
 * takes the slot over with a full bucket (bounded memory, never a lockout
 * of an innocent client for long). */
#include <string.h>
#include <time.h>

#include "kbs/ratelimit.h"

void kbs_rl_init(kbs_ratelimit *rl, unsigned rate, unsigned burst)
{
    memset(rl, 0, sizeof *rl);
    pthread_mutex_init(&rl->mu, NULL);
    rl->rate = rate;
    rl->burst = burst < 1 ? 1 : burst;
}

void kbs_rl_fini(kbs_ratelimit *rl)
{
    pthread_mutex_destroy(&rl->mu);
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool kbs_rl_take(kbs_ratelimit *rl, const uint8_t *addr, size_t len)
{
    if (len > 16)
        len = 16;
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ addr[i]) * 16777619u;
    double now = mono();
    pthread_mutex_lock(&rl->mu);
    kbs_rl_slot *s = &rl->slots[h % KBS_RL_SLOTS];
    if (s->len != len || memcmp(s->addr, addr, len) != 0) {
        memcpy(s->addr, addr, len);
        s->len = (uint8_t)len;
        s->tokens = rl->burst;
        s->last = now;
    }
    s->tokens += (now - s->last) * rl->rate;
    if (s->tokens > rl->burst)
        s->tokens = rl->burst;
    s->last = now;
    bool ok = s->tokens >= 1.0;
    if (ok)
        s->tokens -= 1.0;
    pthread_mutex_unlock(&rl->mu);
    return ok;
}
