/* Session table: bounded, mutex-guarded, expired entries reclaimed lazily. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/crypto.h"
#include "cachet/encoding.h"
#include "cachet/log.h"
#include "cachet/secmem.h"
#include "kbs/kbs_int.h"
#include "kbs/session.h"
#include "kbs/store_int.h"

cachet_rc kbs_sessions_init(kbs_sessions *ss, size_t cap)
{
    memset(ss, 0, sizeof *ss);
    if (cap == 0 || cap >= UINT32_MAX / 2)
        return kbs_err(INVALID_ARG, "sessions: bad capacity %zu", cap);
    size_t nb = 16;
    while (nb < cap)
        nb *= 2;
    ss->s = calloc(cap, sizeof *ss->s);
    ss->next = calloc(cap, sizeof *ss->next);
    ss->head = calloc(nb, sizeof *ss->head);
    ss->free_slots = calloc(cap, sizeof *ss->free_slots);
    if (!ss->s || !ss->next || !ss->head || !ss->free_slots) {
        free(ss->s);
        free(ss->next);
        free(ss->head);
        free(ss->free_slots);
        memset(ss, 0, sizeof *ss);
        return kbs_err(NOMEM, "sessions: out of memory");
    }
    ss->cap = cap;
    ss->n_buckets = nb;
    for (size_t i = 0; i < cap; i++) /* lowest index on top */
        ss->free_slots[i] = (uint32_t)(cap - 1 - i);
    ss->n_free = cap;
    ss->min_expiry = INT64_MAX;
    pthread_mutex_init(&ss->mu, NULL);
    return CACHET_OK;
}

/* The bucket of an id: its first 8 characters read as hex (ids are random;
 * a malformed one lands in some bucket and matches nothing there).  The
 * lookup time then depends on how many live sessions share the bucket,
 * which tells nothing usable about their ids beyond a few leading bits of
 * 122 random ones; each candidate is still compared in constant time. */
static size_t bucket_of(const kbs_sessions *ss, const char *id)
{
    uint32_t h = 0;
    for (size_t i = 0; i < 8; i++) {
        unsigned char c = (unsigned char)id[i];
        uint32_t v = c >= '0' && c <= '9' ? (uint32_t)(c - '0')
                     : c >= 'a' && c <= 'f' ? (uint32_t)(c - 'a' + 10)
                                            : (uint32_t)c;
        h = h * 16u + v;
    }
    return h & (ss->n_buckets - 1);
}

static void unlink_slot(kbs_sessions *ss, size_t idx)
{
    uint32_t *p = &ss->head[bucket_of(ss, ss->s[idx].id)];
    while (*p && *p != idx + 1)
        p = &ss->next[*p - 1];
    if (*p)
        *p = ss->next[idx];
    ss->next[idx] = 0;
}

static void wipe(kbs_sessions *ss, kbs_session *s)
{
    size_t idx = (size_t)(s - ss->s);
    if (s->id[0]) {
        unlink_slot(ss, idx);
        ss->free_slots[ss->n_free++] = (uint32_t)idx;
    }
    free(s->token);
    memset(s, 0, sizeof *s);
}

void kbs_sessions_fini(kbs_sessions *ss)
{
    if (!ss->s)
        return;
    for (size_t i = 0; i < ss->cap; i++)
        free(ss->s[i].token);
    memset(ss->s, 0, ss->cap * sizeof *ss->s);
    free(ss->s);
    free(ss->next);
    free(ss->head);
    free(ss->free_slots);
    ss->s = NULL;
    ss->next = ss->head = ss->free_slots = NULL;
    pthread_mutex_destroy(&ss->mu);
}

static kbs_session *find(kbs_sessions *ss, const char *id)
{
    if (!id || strlen(id) != KBS_SESSION_ID_LEN)
        return NULL;
    for (uint32_t i = ss->head[bucket_of(ss, id)]; i; i = ss->next[i - 1])
        if (cachet_memeq_ct(ss->s[i - 1].id, id, KBS_SESSION_ID_LEN) == 0)
            return &ss->s[i - 1];
    return NULL;
}

cachet_rc kbs_session_new(kbs_sessions *ss, const char *tee, int64_t now, int64_t timeout,
                          char id[KBS_SESSION_ID_LEN + 1], char nonce[KBS_NONCE_TEXT_MAX + 1])
{
    uint8_t rid[16], rn[32];
    if (cachet_random(rid, sizeof rid) != CACHET_OK || cachet_random(rn, sizeof rn) != CACHET_OK)
        return kbs_err(CRYPTO, "sessions: no randomness");
    rid[6] = (uint8_t)((rid[6] & 0x0f) | 0x40); /* UUID version 4 */
    rid[8] = (uint8_t)((rid[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    cachet_hex_encode(rid, sizeof rid, id);
    cachet_base64_encode(rn, sizeof rn, nonce);
    if (ss->db)
        return kbs_pg_session_put(ss->db, id, tee, nonce, now + timeout);
    pthread_mutex_lock(&ss->mu);
    /* Expired sessions are reclaimed here, all of them whenever there is
     * one (the sweep runs only when some session may have expired). */
    if (now >= ss->min_expiry) {
        int64_t min = INT64_MAX;
        for (size_t i = 0; i < ss->cap; i++) {
            kbs_session *s = &ss->s[i];
            if (s->id[0] && s->expiry <= now && !s->busy)
                wipe(ss, s);
            else if (s->id[0] && s->expiry < min)
                min = s->expiry;
        }
        ss->min_expiry = min;
    }
    kbs_session *slot = ss->n_free ? &ss->s[ss->free_slots[--ss->n_free]] : NULL;
    if (!slot) {
        pthread_mutex_unlock(&ss->mu);
        return kbs_err(LIMIT, "sessions: table full (%zu)", ss->cap);
    }
    memcpy(slot->id, id, KBS_SESSION_ID_LEN + 1);
    memcpy(slot->nonce, nonce, strlen(nonce) + 1);
    snprintf(slot->tee, sizeof slot->tee, "%s", tee);
    slot->expiry = now + timeout;
    if (slot->expiry < ss->min_expiry)
        ss->min_expiry = slot->expiry;
    size_t idx = (size_t)(slot - ss->s), b = bucket_of(ss, slot->id);
    ss->next[idx] = ss->head[b];
    ss->head[b] = (uint32_t)(idx + 1);
    pthread_mutex_unlock(&ss->mu);
    return CACHET_OK;
}

static cachet_rc db_lookup(kbs_sessions *ss, const char *id, int64_t now, kbs_session *copy,
                           bool claim)
{
    if (!id || strlen(id) != KBS_SESSION_ID_LEN)
        return kbs_err(NOT_FOUND, "session: unknown kbs-session-id");
    cachet_rc rc = kbs_pg_session_load(ss->db, id, now, claim, copy->tee, sizeof copy->tee,
                                       copy->nonce, sizeof copy->nonce, &copy->expiry,
                                       &copy->token);
    if (rc != CACHET_OK)
        return rc;
    memcpy(copy->id, id, KBS_SESSION_ID_LEN + 1);
    copy->attested = copy->token != NULL;
    copy->busy = claim;
    return CACHET_OK;
}

static cachet_rc lookup(kbs_sessions *ss, const char *id, int64_t now, kbs_session *copy,
                        bool claim)
{
    memset(copy, 0, sizeof *copy);
    if (ss->db)
        return db_lookup(ss, id, now, copy, claim);
    pthread_mutex_lock(&ss->mu);
    kbs_session *s = find(ss, id);
    cachet_rc rc = CACHET_OK;
    if (!s) {
        rc = kbs_err(NOT_FOUND, "session: unknown kbs-session-id");
    } else if (s->expiry <= now) {
        if (!s->busy)
            wipe(ss, s);
        rc = kbs_err(EXPIRED, "session: expired");
    } else if (claim && s->busy) {
        rc = kbs_err(STATE, "session: an attestation is already in progress");
    } else {
        *copy = *s;
        copy->token = s->token ? strdup(s->token) : NULL;
        if (s->token && !copy->token)
            rc = kbs_err(NOMEM, "session: out of memory");
        else if (claim)
            s->busy = true;
    }
    pthread_mutex_unlock(&ss->mu);
    return rc;
}

cachet_rc kbs_session_get(kbs_sessions *ss, const char *id, int64_t now, kbs_session *copy)
{
    return lookup(ss, id, now, copy, false);
}

cachet_rc kbs_session_claim(kbs_sessions *ss, const char *id, int64_t now, kbs_session *copy)
{
    return lookup(ss, id, now, copy, true);
}

void kbs_session_release(kbs_sessions *ss, const char *id, const char *token)
{
    if (ss->db) {
        if (kbs_pg_session_release(ss->db, id, token) != CACHET_OK)
            cachet_log(CACHET_LOG_ERROR, "kbs: session release: %s", cachet_err_detail());
        return;
    }
    pthread_mutex_lock(&ss->mu);
    kbs_session *s = find(ss, id);
    if (s) {
        s->busy = false;
        if (token && !s->attested) {
            s->token = strdup(token);
            s->attested = s->token != NULL;
        }
    }
    pthread_mutex_unlock(&ss->mu);
}

void kbs_session_copy_clear(kbs_session *copy)
{
    free(copy->token);
    memset(copy, 0, sizeof *copy);
}
