/* In-memory sessions of the KBS protocol (protocols.md §1.3). */
#ifndef CACHET_KBS_SESSION_H
#define CACHET_KBS_SESSION_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cachet/rc.h"

#define KBS_SESSION_ID_LEN 32 /* UUIDv4 "simple" form */
#define KBS_NONCE_TEXT_MAX 48

typedef struct kbs_session {
    char id[KBS_SESSION_ID_LEN + 1];
    char tee[32];
    char nonce[KBS_NONCE_TEXT_MAX + 1];
    int64_t expiry;
    bool attested;
    bool busy;      /* an /attest is verifying it */
    char *token;    /* attested only */
} kbs_session;

struct cachet_kbs_store;

typedef struct kbs_sessions {
    struct cachet_kbs_store *db; /* PostgreSQL store: sessions live there (replicas) */
    pthread_mutex_t mu;
    kbs_session *s;
    size_t cap;
    /* Index by id: bucket heads and chain links hold slot index + 1 (0 ends
     * a chain); the bucket is taken from the id's first hex digits. */
    uint32_t *head, *next;
    size_t n_buckets; /* a power of two */
    uint32_t *free_slots; /* stack of empty slot indices */
    size_t n_free;
    int64_t min_expiry; /* no live session expires before this */
} kbs_sessions;

cachet_rc kbs_sessions_init(kbs_sessions *ss, size_t cap);
void kbs_sessions_fini(kbs_sessions *ss);
/* A new session (expired ones are reclaimed first); id and nonce out. */
cachet_rc kbs_session_new(kbs_sessions *ss, const char *tee, int64_t now, int64_t timeout,
                          char id[KBS_SESSION_ID_LEN + 1], char nonce[KBS_NONCE_TEXT_MAX + 1]);
/* Copy a live session (an expired one is deleted: CACHET_E_EXPIRED);
 * CACHET_E_NOT_FOUND when unknown.  The copy's token is malloc'd. */
cachet_rc kbs_session_get(kbs_sessions *ss, const char *id, int64_t now, kbs_session *copy);
/* Claim a session for verification (one /attest at a time). */
cachet_rc kbs_session_claim(kbs_sessions *ss, const char *id, int64_t now, kbs_session *copy);
/* Release a claim; token non-NULL marks it attested (copied). */
void kbs_session_release(kbs_sessions *ss, const char *id, const char *token);
void kbs_session_copy_clear(kbs_session *copy);

#endif
