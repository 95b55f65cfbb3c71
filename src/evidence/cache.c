/* The verified-chain cache: a small, thread-safe table from a 32-byte key
 * (a digest the family computes over the leaf certificate and the anchor it
 * chained to) to the validity window of the verified path and a short value.
 * A hit outside the window is a miss, so the verification time still governs
 * every certificate; the family re-runs everything else (signature, TCB,
 * revocation) each time. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "evidence/family.h"

typedef struct cache_entry {
    uint8_t key[32];
    int64_t not_before, not_after;
    uint8_t value[CACHET_EV_CACHE_VALUE_MAX];
    size_t value_len;
    uint64_t stamp; /* last use, for eviction */
    bool live;
} cache_entry;

struct cachet_verify_cache {
    pthread_mutex_t mu;
    cache_entry *entries;
    size_t cap;
    uint64_t clock;
    size_t hits;
};

cachet_verify_cache *cachet_verify_cache_new(size_t max_entries)
{
    if (max_entries == 0)
        max_entries = 64;
    if (max_entries > 65536)
        max_entries = 65536;
    cachet_verify_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->entries = calloc(max_entries, sizeof *c->entries);
    if (!c->entries || pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c->entries);
        free(c);
        return NULL;
    }
    c->cap = max_entries;
    return c;
}

void cachet_verify_cache_free(cachet_verify_cache *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->mu);
    free(c->entries);
    free(c);
}

size_t cachet_verify_cache_hits(const cachet_verify_cache *c)
{
    if (!c)
        return 0;
    pthread_mutex_lock((pthread_mutex_t *)&c->mu);
    size_t h = c->hits;
    pthread_mutex_unlock((pthread_mutex_t *)&c->mu);
    return h;
}

bool cachet_ev_cache_lookup(cachet_verify_cache *c, const uint8_t key[32], int64_t t,
                            uint8_t *value, size_t *value_len)
{
    bool hit = false;
    if (!c)
        return false;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->cap; i++) {
        cache_entry *e = &c->entries[i];
        if (!e->live || memcmp(e->key, key, 32) != 0)
            continue;
        if (t >= e->not_before && t <= e->not_after) {
            hit = true;
            e->stamp = ++c->clock;
            c->hits++;
            if (value && value_len) {
                memcpy(value, e->value, e->value_len);
                *value_len = e->value_len;
            }
        }
        break;
    }
    pthread_mutex_unlock(&c->mu);
    return hit;
}

void cachet_ev_cache_store(cachet_verify_cache *c, const uint8_t key[32], int64_t not_before,
                           int64_t not_after, const uint8_t *value, size_t value_len)
{
    if (!c || value_len > CACHET_EV_CACHE_VALUE_MAX || (value_len && !value))
        return;
    pthread_mutex_lock(&c->mu);
    cache_entry *slot = NULL;
    for (size_t i = 0; i < c->cap; i++) {
        cache_entry *e = &c->entries[i];
        if (e->live && memcmp(e->key, key, 32) == 0) {
            slot = e;
            break;
        }
        if (!slot || (!e->live && slot->live) || (e->live == slot->live && e->stamp < slot->stamp))
            slot = e;
    }
    memcpy(slot->key, key, 32);
    slot->not_before = not_before;
    slot->not_after = not_after;
    if (value_len)
        memcpy(slot->value, value, value_len);
    slot->value_len = value_len;
    slot->stamp = ++c->clock;
    slot->live = true;
    pthread_mutex_unlock(&c->mu);
}
