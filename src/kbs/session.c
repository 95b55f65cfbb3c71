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
    ss->s = calloc(cap, sizeof *ss->s);
    if (!ss->s)
        return kbs_err(NOMEM, "sessions: out of memory");
    ss->cap = cap;
    pthread_mutex_init(&ss->mu, NULL);
    return CACHET_OK;
}

static void wipe(kbs_session *s)
{
    free(s->token);
    memset(s, 0, sizeof *s);
}

void kbs_sessions_fini(kbs_sessions *ss)
{
    if (!ss->s)
        return;
    for (size_t i = 0; i < ss->cap; i++)
        wipe(&ss->s[i]);
    free(ss->s);
    ss->s = NULL;
    pthread_mutex_destroy(&ss->mu);
}

static kbs_session *find(kbs_sessions *ss, const char *id)
{
    if (!id || strlen(id) != KBS_SESSION_ID_LEN)
        return NULL;
    for (size_t i = 0; i < ss->cap; i++)
        if (ss->s[i].id[0] && cachet_memeq_ct(ss->s[i].id, id, KBS_SESSION_ID_LEN) == 0)
            return &ss->s[i];
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
    kbs_session *slot = NULL;
    for (size_t i = 0; i < ss->cap; i++) {
        kbs_session *s = &ss->s[i];
        if (s->id[0] && s->expiry <= now && !s->busy)
            wipe(s);
        if (!slot && !s->id[0])
            slot = s;
    }
    if (!slot) {
        pthread_mutex_unlock(&ss->mu);
        return kbs_err(LIMIT, "sessions: table full (%zu)", ss->cap);
    }
    memcpy(slot->id, id, KBS_SESSION_ID_LEN + 1);
    memcpy(slot->nonce, nonce, strlen(nonce) + 1);
    snprintf(slot->tee, sizeof slot->tee, "%s", tee);
    slot->expiry = now + timeout;
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
            wipe(s);
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
