/* The audit log: every attestation, release, refusal and admin change as a
 * row whose MAC chains it to the previous one:
 *
 *   mac[n] = HMAC-SHA256(audit_key, mac[n-1] || be64(seq) || record)
 *
 * with mac[0] over 32 zero bytes and audit_key derived from the KEK, so
 * that someone with the database but not the KEK can neither edit, delete
 * nor insert a record, nor recompute the chain after doing so.  Records
 * hold no secret: event, who (client address, session prefix), what
 * (resource path, tee), decision, rule and reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cachet/secmem.h"
#include "kbs/kbs_int.h"
#include "kbs/store_int.h"

static cachet_rc chain_mac(const cachet_kbs_store *s, const uint8_t prev[32], int64_t seq,
                           const char *record, uint8_t out[32])
{
    size_t rl = strlen(record);
    uint8_t *buf = malloc(40 + rl);
    if (!buf)
        return kbs_err(NOMEM, "audit: out of memory");
    memcpy(buf, prev, 32);
    for (int i = 0; i < 8; i++)
        buf[32 + i] = (uint8_t)((uint64_t)seq >> (56 - 8 * i));
    memcpy(buf + 40, record, rl);
    cachet_rc rc = cachet_hmac_sha256(s->audit_key, sizeof s->audit_key, buf, 40 + rl, out);
    free(buf);
    return rc;
}

/* One queued audit row (SQLite group commit). */
typedef struct kbs_audit_req {
    const char *rec;
    cachet_rc rc;
    bool done;
    char why[200]; /* error detail for a follower */
    struct kbs_audit_req *next;
} kbs_audit_req;

/* Append a batch of rows, in queue order, in one transaction: the chain
 * continues from the last row in the database (read inside the write lock,
 * so another process appending to the same file is still chained). */
static cachet_rc audit_write_batch(cachet_kbs_store *s, kbs_audit_req *batch)
{
    cachet_rc rc = CACHET_OK;
    uint8_t prev[32] = {0}, mac[32];
    int64_t seq = 1;
    sqlite3_stmt *st = NULL;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *begin = kbs_stmt(s, s->db, KBS_ST_BEGIN, "BEGIN IMMEDIATE");
    int brc = begin ? sqlite3_step(begin) : SQLITE_ERROR;
    kbs_stmt_done(begin);
    if (brc != SQLITE_DONE) {
        rc = kbs_err(IO, "audit: %s", sqlite3_errmsg(s->db));
        goto out;
    }
    if (!(st = kbs_stmt(s, s->db, KBS_ST_AUDIT_LAST,
                        "SELECT seq, mac FROM audit ORDER BY seq DESC LIMIT 1"))) {
        rc = kbs_err(IO, "audit: %s", sqlite3_errmsg(s->db));
    } else if (sqlite3_step(st) == SQLITE_ROW) {
        seq = sqlite3_column_int64(st, 0) + 1;
        if (sqlite3_column_bytes(st, 1) == 32)
            memcpy(prev, sqlite3_column_blob(st, 1), 32);
    }
    kbs_stmt_done(st);
    st = NULL;
    if (rc == CACHET_OK &&
        !(st = kbs_stmt(s, s->db, KBS_ST_AUDIT_INS,
                        "INSERT INTO audit(seq, record, mac) VALUES(?, ?, ?)")))
        rc = kbs_err(IO, "audit: %s", sqlite3_errmsg(s->db));
    for (kbs_audit_req *r = batch; rc == CACHET_OK && r; r = r->next, seq++) {
        if ((rc = chain_mac(s, prev, seq, r->rec, mac)) != CACHET_OK)
            break;
        if (sqlite3_bind_int64(st, 1, seq) != SQLITE_OK ||
            sqlite3_bind_text(st, 2, r->rec, -1, SQLITE_STATIC) != SQLITE_OK ||
            sqlite3_bind_blob(st, 3, mac, 32, SQLITE_STATIC) != SQLITE_OK ||
            sqlite3_step(st) != SQLITE_DONE) {
            rc = kbs_err(IO, "audit: %s", sqlite3_errmsg(s->db));
            break;
        }
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        memcpy(prev, mac, 32);
    }
    kbs_stmt_done(st);
    if (rc == CACHET_OK) {
        sqlite3_stmt *commit = kbs_stmt(s, s->db, KBS_ST_COMMIT, "COMMIT");
        int crc = commit ? sqlite3_step(commit) : SQLITE_ERROR;
        if (crc != SQLITE_DONE)
            rc = kbs_err(IO, "audit: %s", sqlite3_errmsg(s->db));
        kbs_stmt_done(commit);
        if (rc != CACHET_OK)
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    } else {
        sqlite3_stmt *rb = kbs_stmt(s, s->db, KBS_ST_ROLLBACK, "ROLLBACK");
        if (!rb || sqlite3_step(rb) != SQLITE_DONE)
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        kbs_stmt_done(rb);
    }
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* Group commit: queue the row; whoever finds no leader takes the whole
 * queue and writes it in one transaction (synchronous=FULL: one WAL fsync)
 * while later callers queue behind it.  A caller returns only when the
 * transaction holding its row has committed (or failed), so an
 * acknowledged audit row is exactly as durable as with one transaction per
 * row; the rows keep the order in which the callers queued them. */
static cachet_rc audit_group_commit(cachet_kbs_store *s, kbs_audit_req *req)
{
    pthread_mutex_lock(&s->gmu);
    if (s->gq_tail)
        s->gq_tail->next = req;
    else
        s->gq_head = req;
    s->gq_tail = req;
    while (!req->done) {
        if (s->g_leader) {
            pthread_cond_wait(&s->gcv, &s->gmu);
            continue;
        }
        s->g_leader = true;
        kbs_audit_req *batch = s->gq_head;
        s->gq_head = s->gq_tail = NULL;
        pthread_mutex_unlock(&s->gmu);
        cachet_rc rc = audit_write_batch(s, batch);
        char why[200] = "";
        if (rc != CACHET_OK)
            snprintf(why, sizeof why, "%s", cachet_err_detail());
        pthread_mutex_lock(&s->gmu);
        for (kbs_audit_req *r = batch, *n; r; r = n) {
            n = r->next;
            r->rc = rc;
            memcpy(r->why, why, sizeof why);
            r->done = true; /* r may be gone once gmu is released */
        }
        s->g_leader = false;
        pthread_cond_broadcast(&s->gcv);
    }
    pthread_mutex_unlock(&s->gmu);
    if (req->rc != CACHET_OK)
        return cachet_err(req->rc, "%s", req->why);
    return CACHET_OK;
}

cachet_rc cachet_kbs_store_audit(cachet_kbs_store *s, const char *event, const char *who,
                                 const char *what, const char *decision, const char *rule,
                                 const char *why)
{
    if (!s || !event)
        return kbs_err(INVALID_ARG, "audit: missing argument");
    json_t *j = json_pack("{s:I,s:s,s:s?,s:s?,s:s?,s:s?,s:s?}", "time", (json_int_t)time(NULL),
                          "event", event, "who", who, "what", what, "decision", decision, "rule",
                          rule, "why", why);
    char *rec = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    if (!rec)
        return kbs_err(NOMEM, "audit: out of memory");
    if (s->pg) {
        cachet_rc prc = kbs_pg_audit_append(s, rec, chain_mac);
        free(rec);
        return prc;
    }
    kbs_audit_req req = {.rec = rec};
    cachet_rc rc = audit_group_commit(s, &req);
    free(rec);
    return rc;
}

static cachet_rc read_row(int64_t seq, const char *record, const uint8_t *mac, size_t mac_len,
                          void *arg)
{
    (void)mac;
    (void)mac_len;
    json_t *r = json_loads(record, 0, NULL);
    if (!r || json_object_set_new(r, "seq", json_integer(seq)) || json_array_append_new(arg, r))
        return kbs_err(NOMEM, "audit: out of memory");
    return CACHET_OK;
}

typedef struct verify_state {
    const cachet_kbs_store *s;
    uint8_t prev[32];
    int64_t expect;
    size_t count;
} verify_state;

static cachet_rc verify_row(int64_t seq, const char *rec, const uint8_t *got, size_t got_len,
                            void *arg)
{
    verify_state *v = arg;
    uint8_t mac[32];
    if (seq != v->expect)
        return kbs_err(MISMATCH, "audit: record %lld is missing (next is %lld)",
                       (long long)v->expect, (long long)seq);
    cachet_rc rc = chain_mac(v->s, v->prev, seq, rec, mac);
    if (rc != CACHET_OK)
        return rc;
    if (!got || got_len != 32 || cachet_memeq_ct(mac, got, 32) != 0)
        return kbs_err(MISMATCH, "audit: record %lld was altered", (long long)seq);
    memcpy(v->prev, mac, 32);
    v->expect++;
    v->count++;
    return CACHET_OK;
}

cachet_rc cachet_kbs_store_audit_read(cachet_kbs_store *s, int64_t after, size_t max, json_t **out)
{
    if (!s || !out || max == 0 || max > 10000)
        return kbs_err(INVALID_ARG, "audit: bad argument (max 1..10000)");
    if (s->pg) {
        json_t *l = json_array();
        cachet_rc prc = l ? kbs_pg_audit_rows(s, after, max, read_row, l)
                          : kbs_err(NOMEM, "audit: out of memory");
        if (prc != CACHET_OK)
            json_decref(l);
        else
            *out = l;
        return prc;
    }
    json_t *a = json_array();
    sqlite3_stmt *st = NULL;
    cachet_rc rc = a ? CACHET_OK : kbs_err(NOMEM, "audit: out of memory");
    pthread_mutex_lock(&s->mu);
    if (rc == CACHET_OK &&
        (sqlite3_prepare_v2(s->db, "SELECT seq, record FROM audit WHERE seq > ? ORDER BY seq LIMIT ?",
                            -1, &st, NULL) != SQLITE_OK ||
         sqlite3_bind_int64(st, 1, after) != SQLITE_OK ||
         sqlite3_bind_int64(st, 2, (sqlite3_int64)max) != SQLITE_OK))
        rc = kbs_err(IO, "audit: %s", sqlite3_errmsg(s->db));
    while (rc == CACHET_OK && sqlite3_step(st) == SQLITE_ROW) {
        json_t *r = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
        if (!r || json_object_set_new(r, "seq", json_integer(sqlite3_column_int64(st, 0))) ||
            json_array_append_new(a, r))
            rc = kbs_err(NOMEM, "audit: out of memory");
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    if (rc != CACHET_OK) {
        json_decref(a);
        return rc;
    }
    *out = a;
    return CACHET_OK;
}

cachet_rc cachet_kbs_store_audit_verify(cachet_kbs_store *s, size_t *count)
{
    if (!s || !count)
        return kbs_err(INVALID_ARG, "audit: bad argument");
    *count = 0;
    if (s->pg) {
        verify_state v = {.s = s, .expect = 1};
        cachet_rc prc = kbs_pg_audit_rows(s, 0, (size_t)1 << 40, verify_row, &v);
        *count = v.count;
        return prc;
    }
    sqlite3_stmt *st = NULL;
    uint8_t prev[32] = {0}, mac[32];
    int64_t expect = 1;
    cachet_rc rc = CACHET_OK;
    pthread_mutex_lock(&s->mu);
    if (sqlite3_prepare_v2(s->db, "SELECT seq, record, mac FROM audit ORDER BY seq", -1, &st,
                           NULL) != SQLITE_OK)
        rc = kbs_err(IO, "audit: %s", sqlite3_errmsg(s->db));
    while (rc == CACHET_OK && sqlite3_step(st) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(st, 0);
        const char *rec = (const char *)sqlite3_column_text(st, 1);
        if (seq != expect) {
            rc = kbs_err(MISMATCH, "audit: record %lld is missing (next is %lld)",
                         (long long)expect, (long long)seq);
            break;
        }
        if (!rec || sqlite3_column_bytes(st, 2) != 32 ||
            (rc = chain_mac(s, prev, seq, rec, mac)) != CACHET_OK ||
            cachet_memeq_ct(mac, sqlite3_column_blob(st, 2), 32) != 0) {
            rc = rc != CACHET_OK ? rc
                                 : kbs_err(MISMATCH, "audit: record %lld was altered",
                                           (long long)seq);
            break;
        }
        memcpy(prev, mac, 32);
        expect++;
        (*count)++;
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}
