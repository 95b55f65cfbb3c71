/* The store's state, shared by store.c and audit.c. */
#ifndef CACHET_KBS_STORE_INT_H
#define CACHET_KBS_STORE_INT_H

#include <pthread.h>

#include <sqlite3.h>

#include "cachet/crypto.h"
#include "cachet/kbs.h"

#define KBS_KEK_CHECK_TEXT "cachet-kbs-kek-check-v1"

struct pg_conn; /* PGconn, kept opaque here */

/* SQLite statements prepared once and kept for the store's life (each
 * used under the mutex of its connection, reset after every use). */
enum {
    KBS_ST_GET,        /* rdb (or db): sealed resource by path */
    KBS_ST_GET_POLICY, /* rdb (or db): policy text by name */
    KBS_ST_BEGIN,      /* db: BEGIN IMMEDIATE */
    KBS_ST_COMMIT,     /* db */
    KBS_ST_ROLLBACK,   /* db */
    KBS_ST_AUDIT_LAST, /* db: the chain's last row */
    KBS_ST_AUDIT_INS,  /* db: append a row */
    KBS_ST_COUNT
};

struct cachet_kbs_store {
    sqlite3 *db;
    sqlite3 *rdb;        /* read-only connection for get/get_policy, or NULL */
    pthread_mutex_t rmu; /* guards rdb */
    struct pg_conn *pg; /* PostgreSQL instead of SQLite */
    cachet_aead *aead;
    uint8_t audit_key[32]; /* HKDF(KEK, "cachet-kbs-audit-v1"): MACs the audit chain */
    pthread_mutex_t mu;
    /* SQLite audit group commit (audit.c): rows queued by concurrent callers
     * are appended by one leader in one transaction (one WAL fsync); each
     * caller returns only after the transaction holding its row committed. */
    pthread_mutex_t gmu;
    pthread_cond_t gcv;
    struct kbs_audit_req *gq_head, *gq_tail;
    bool g_leader;
    sqlite3_stmt *st[KBS_ST_COUNT];
};

/* The kept statement `which` on db (prepared on first use; NULL with the
 * connection's error on failure).  The caller holds db's mutex and calls
 * kbs_stmt_done() when finished with it. */
sqlite3_stmt *kbs_stmt(cachet_kbs_store *s, sqlite3 *db, int which, const char *sql);
void kbs_stmt_done(sqlite3_stmt *st);

/* Seal/unseal a record under the KEK, AAD bound to label. */
cachet_rc kbs_seal(cachet_kbs_store *s, const char *label, const uint8_t *pt, size_t len,
                   uint8_t **blob, size_t *blen);
cachet_rc kbs_unseal(cachet_kbs_store *s, const char *label, const uint8_t *b, size_t n,
                     uint8_t **pt, size_t *len);

/* PostgreSQL backend (store_pg.c); the store's mutex guards the connection. */
bool kbs_pg_is_conninfo(const char *path);
cachet_rc kbs_pg_open(cachet_kbs_store *s, const char *conninfo);
void kbs_pg_close(cachet_kbs_store *s);
cachet_rc kbs_pg_check_kek(cachet_kbs_store *s);
cachet_rc kbs_pg_put(cachet_kbs_store *s, const char *path, const uint8_t *blob, size_t blen);
cachet_rc kbs_pg_get(cachet_kbs_store *s, const char *path, uint8_t **data, size_t *len);
cachet_rc kbs_pg_delete(cachet_kbs_store *s, const char *path);
cachet_rc kbs_pg_list(cachet_kbs_store *s, json_t **out);
cachet_rc kbs_pg_set_policy(cachet_kbs_store *s, const char *name, const char *text);
cachet_rc kbs_pg_get_policy(cachet_kbs_store *s, const char *name, char **text);
/* Audit rows: append under a table lock (replicas append to one chain). */
typedef cachet_rc (*kbs_audit_mac_fn)(const cachet_kbs_store *s, const uint8_t prev[32],
                                      int64_t seq, const char *record, uint8_t out[32]);
cachet_rc kbs_pg_audit_append(cachet_kbs_store *s, const char *record, kbs_audit_mac_fn mac);
typedef cachet_rc (*kbs_audit_row_fn)(int64_t seq, const char *record, const uint8_t *mac,
                                      size_t mac_len, void *arg);
cachet_rc kbs_pg_audit_rows(cachet_kbs_store *s, int64_t after, size_t max, kbs_audit_row_fn fn,
                            void *arg);
/* Sessions in the database, so that any replica continues any session. */
cachet_rc kbs_pg_session_put(cachet_kbs_store *s, const char *id, const char *tee,
                             const char *nonce, int64_t expiry);
/* claim: atomically mark busy (fails when busy, unknown or expired). */
cachet_rc kbs_pg_session_load(cachet_kbs_store *s, const char *id, int64_t now, bool claim,
                              char *tee, size_t tee_cap, char *nonce, size_t nonce_cap,
                              int64_t *expiry, char **token);
cachet_rc kbs_pg_session_release(cachet_kbs_store *s, const char *id, const char *token);

#endif
