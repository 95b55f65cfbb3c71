/* A memo of parsed RIM content, keyed by the SHA-256 of the document bytes.
 *
 * Parsing a 20 KiB RIM with libxml2 costs more than the report's ECDSA
 * verification, and a verifier that checks many GPUs sees the same two or
 * three RIMs again and again.  The memo stores what nvgpu_rim_read() made
 * of those exact bytes (a pure function of them); it says nothing about
 * trust.  Whether the signature and the chain verified at the request's
 * time is a separate, time-windowed entry in the request's verify cache
 * (verify.c), and the memo is consulted only when the request carries one.
 * Bounded (NVGPU_MEMO_SLOTS entries, least recently used evicted),
 * thread-safe, and copies in and out so that no caller shares memory. */
#include <pthread.h>
#include <string.h>

#include "evidence/nvgpu/nvgpu.h"

#define NVGPU_MEMO_SLOTS 16

typedef struct memo_slot {
    nvgpu_rim *rim;
    uint64_t stamp;
} memo_slot;

static pthread_mutex_t memo_mu = PTHREAD_MUTEX_INITIALIZER;
static memo_slot memo[NVGPU_MEMO_SLOTS];
static uint64_t memo_clock;

nvgpu_rim *nvgpu_rim_memo_get(const uint8_t digest[CACHET_SHA256_LEN])
{
    nvgpu_rim *out = NULL;
    pthread_mutex_lock(&memo_mu);
    for (size_t i = 0; i < NVGPU_MEMO_SLOTS; i++) {
        if (memo[i].rim && memcmp(memo[i].rim->digest, digest, CACHET_SHA256_LEN) == 0) {
            memo[i].stamp = ++memo_clock;
            out = nvgpu_rim_clone(memo[i].rim);
            break;
        }
    }
    pthread_mutex_unlock(&memo_mu);
    return out;
}

void nvgpu_rim_memo_put(const nvgpu_rim *r)
{
    nvgpu_rim *copy = nvgpu_rim_clone(r);
    if (!copy)
        return; /* a memo miss later, nothing worse */
    nvgpu_rim *old = NULL;
    pthread_mutex_lock(&memo_mu);
    memo_slot *slot = NULL;
    for (size_t i = 0; i < NVGPU_MEMO_SLOTS; i++) {
        memo_slot *s = &memo[i];
        if (s->rim && memcmp(s->rim->digest, r->digest, CACHET_SHA256_LEN) == 0) {
            slot = s;
            break;
        }
        if (!slot || (!s->rim && slot->rim) || (!!s->rim == !!slot->rim && s->stamp < slot->stamp))
            slot = s;
    }
    old = slot->rim;
    slot->rim = copy;
    slot->stamp = ++memo_clock;
    pthread_mutex_unlock(&memo_mu);
    nvgpu_rim_free(old);
}
