/* Verified platforms by content digest.
 *
 * The key covers everything a platform result depends on except the time:
 * the family, the trust anchors, the certification data of the quote
 * (attestation key, QE report and its signature, QE auth data, PCK chain)
 * and the bytes of every endorsement, in order.  The time is covered by the
 * platform's window (every input valid and every candidate's state fixed
 * inside it).  The core cache (cachet_verify_cache, given per request)
 * decides whether a key is a hit at time t; this table keeps the parsed,
 * verified objects behind it, so that a hit costs no parsing at all. */
#include <pthread.h>
#include <string.h>

#include "evidence/tdx/tdx.h"

#define TABLE_SIZE 32

static const char label[] = "cachet/tdx/platform/v1";

static bool update_u64(cachet_hash_ctx *h, uint64_t v)
{
    uint8_t b[8];
    cachet_put_le64(b, v);
    return cachet_hash_update(h, b, sizeof b) == CACHET_OK;
}

bool tdx_platform_key(const tdx_platform_input *in, uint8_t key[32])
{
    cachet_hash_ctx *h = cachet_hash_new(CACHET_HASH_SHA256);
    bool ok = h && cachet_hash_update(h, label, sizeof label) == CACHET_OK &&
              update_u64(h, (uint64_t)in->fam) && update_u64(h, in->n_roots);
    for (size_t i = 0; ok && i < in->n_roots; i++) {
        uint8_t fp[CACHET_SHA256_LEN];
        ok = cachet_x509_fingerprint(in->roots[i], fp) == CACHET_OK &&
             cachet_hash_update(h, fp, sizeof fp) == CACHET_OK;
    }
    ok = ok && update_u64(h, in->quote->certified_len) &&
         cachet_hash_update(h, in->quote->certified, in->quote->certified_len) == CACHET_OK;
    size_t n = cachet_endorsements_count(in->endorsements);
    ok = ok && update_u64(h, n);
    for (size_t i = 0; ok && i < n; i++) {
        const cachet_endorsement *en = cachet_endorsements_get(in->endorsements, i);
        uint8_t d[CACHET_SHA256_LEN];
        ok = update_u64(h, en->len) && cachet_sha256(en->data, en->len, d) == CACHET_OK &&
             cachet_hash_update(h, d, sizeof d) == CACHET_OK;
    }
    ok = ok && cachet_hash_final(h, key) == CACHET_OK;
    cachet_hash_free(h);
    return ok;
}

typedef struct slot {
    uint8_t key[32];
    tdx_platform *p;
    uint64_t stamp;
} slot;

static slot table[TABLE_SIZE];
static uint64_t clock_;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

tdx_platform *tdx_platform_cache_get(const uint8_t key[32])
{
    tdx_platform *p = NULL;
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < TABLE_SIZE; i++) {
        if (table[i].p && memcmp(table[i].key, key, 32) == 0) {
            table[i].stamp = ++clock_;
            p = tdx_platform_ref(table[i].p);
            break;
        }
    }
    pthread_mutex_unlock(&mu);
    return p;
}

void tdx_platform_cache_put(const uint8_t key[32], tdx_platform *p)
{
    tdx_platform *old = NULL;
    pthread_mutex_lock(&mu);
    /* The slot of the same key, else an empty one, else the least recently used. */
    size_t victim = TABLE_SIZE;
    for (size_t i = 0; i < TABLE_SIZE && victim == TABLE_SIZE; i++)
        if (table[i].p && memcmp(table[i].key, key, 32) == 0)
            victim = i;
    for (size_t i = 0; i < TABLE_SIZE && victim == TABLE_SIZE; i++)
        if (!table[i].p)
            victim = i;
    if (victim == TABLE_SIZE) {
        victim = 0;
        for (size_t i = 1; i < TABLE_SIZE; i++)
            if (table[i].stamp < table[victim].stamp)
                victim = i;
    }
    old = table[victim].p;
    memcpy(table[victim].key, key, 32);
    table[victim].p = tdx_platform_ref(p);
    table[victim].stamp = ++clock_;
    pthread_mutex_unlock(&mu);
    tdx_platform_release(old);
}
