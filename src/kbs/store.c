/* The broker's store: SQLite in WAL mode (PostgreSQL in store_pg.c when
 * the path is a libpq connection string) (synchronous=FULL, so an
 * acknowledged write survives a crash), resources sealed with AES-256-GCM
 * under the KEK (AAD binds the resource path), policies in clear. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "cachet/encoding.h"
#include "cachet/fileio.h"
#include "cachet/secmem.h"
#include "kbs/kbs_int.h"

#define CHECK_TEXT KBS_KEK_CHECK_TEXT
#define AAD_PREFIX "cachet-kbs-resource-v1:"

#include "kbs/store_int.h"

static cachet_rc exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        cachet_rc rc = kbs_err(IO, "store: %s", msg ? msg : "sqlite error");
        sqlite3_free(msg);
        return rc;
    }
    return CACHET_OK;
}

cachet_rc kbs_seal(cachet_kbs_store *s, const char *label, const uint8_t *pt, size_t len,
                      uint8_t **blob, size_t *blen)
{
    size_t n = CACHET_GCM_IV_LEN + len + CACHET_GCM_TAG_LEN;
    uint8_t *b = malloc(n);
    char aad[CACHET_KBS_MAX_PATH + 32];
    snprintf(aad, sizeof aad, AAD_PREFIX "%s", label);
    if (!b)
        return kbs_err(NOMEM, "store: out of memory");
    cachet_rc rc = cachet_random(b, CACHET_GCM_IV_LEN);
    if (rc == CACHET_OK)
        rc = cachet_aead_seal(s->aead, b, aad, strlen(aad), pt, len, b + CACHET_GCM_IV_LEN,
                              b + CACHET_GCM_IV_LEN + len);
    if (rc != CACHET_OK) {
        free(b);
        return rc;
    }
    *blob = b;
    *blen = n;
    return CACHET_OK;
}

cachet_rc kbs_unseal(cachet_kbs_store *s, const char *label, const uint8_t *b, size_t n,
                        uint8_t **pt, size_t *len)
{
    if (n < CACHET_GCM_IV_LEN + CACHET_GCM_TAG_LEN)
        return kbs_err(FORMAT, "store: sealed record truncated");
    size_t m = n - CACHET_GCM_IV_LEN - CACHET_GCM_TAG_LEN;
    uint8_t *out = cachet_secure_alloc(m ? m : 1);
    char aad[CACHET_KBS_MAX_PATH + 32];
    snprintf(aad, sizeof aad, AAD_PREFIX "%s", label);
    if (!out)
        return kbs_err(NOMEM, "store: out of memory");
    cachet_rc rc = cachet_aead_open(s->aead, b, aad, strlen(aad), b + CACHET_GCM_IV_LEN, m, out,
                                    b + CACHET_GCM_IV_LEN + m);
    if (rc != CACHET_OK) {
        cachet_secure_free(out);
        return kbs_err(AUTH, "store: record cannot be decrypted (wrong KEK or tampered)");
    }
    *pt = out;
    *len = m;
    return CACHET_OK;
}

sqlite3_stmt *kbs_stmt(cachet_kbs_store *s, sqlite3 *db, int which, const char *sql)
{
    if (which < 0 || which >= KBS_ST_COUNT)
        return NULL;
    if (!s->st[which] &&
        sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->st[which], NULL) !=
            SQLITE_OK) {
        sqlite3_finalize(s->st[which]);
        s->st[which] = NULL;
    }
    return s->st[which];
}

void kbs_stmt_done(sqlite3_stmt *st)
{
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
}

static cachet_rc check_kek(cachet_kbs_store *s)
{
    sqlite3_stmt *st = NULL;
    cachet_rc rc = CACHET_OK;
    if (sqlite3_prepare_v2(s->db, "SELECT v FROM meta WHERE k='kek_check'", -1, &st, NULL) !=
        SQLITE_OK)
        return kbs_err(IO, "store: %s", sqlite3_errmsg(s->db));
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        uint8_t *pt = NULL;
        size_t n = 0;
        rc = kbs_unseal(s, "kek_check", sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0),
                    &pt, &n);
        if (rc == CACHET_OK && (n != strlen(CHECK_TEXT) || memcmp(pt, CHECK_TEXT, n) != 0))
            rc = kbs_err(AUTH, "store: KEK check value mismatch");
        else if (rc != CACHET_OK)
            rc = kbs_err(AUTH, "store: the KEK does not open this store");
        cachet_secure_free(pt);
        sqlite3_finalize(st);
        return rc;
    }
    sqlite3_finalize(st);
    if (r != SQLITE_DONE)
        return kbs_err(IO, "store: %s", sqlite3_errmsg(s->db));
    uint8_t *blob = NULL;
    size_t blen = 0;
    rc = kbs_seal(s, "kek_check", (const uint8_t *)CHECK_TEXT, strlen(CHECK_TEXT), &blob, &blen);
    if (rc != CACHET_OK)
        return rc;
    if (sqlite3_prepare_v2(s->db, "INSERT INTO meta(k, v) VALUES('kek_check', ?)", -1, &st, NULL) !=
            SQLITE_OK ||
        sqlite3_bind_blob(st, 1, blob, (int)blen, SQLITE_TRANSIENT) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_DONE)
        rc = kbs_err(IO, "store: %s", sqlite3_errmsg(s->db));
    sqlite3_finalize(st);
    free(blob);
    return rc;
}

cachet_rc cachet_kbs_store_open(const char *path, const uint8_t kek[CACHET_KBS_KEK_LEN],
                                cachet_kbs_store **out)
{
    if (!path || !kek || !out)
        return kbs_err(INVALID_ARG, "store: missing argument");
    *out = NULL;
    cachet_kbs_store *s = calloc(1, sizeof *s);
    if (!s)
        return kbs_err(NOMEM, "store: out of memory");
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->gmu, NULL);
    pthread_mutex_init(&s->rmu, NULL);
    pthread_cond_init(&s->gcv, NULL);
    cachet_rc rc = CACHET_OK;
    s->aead = cachet_aead_new(kek);
    if ((rc = cachet_hkdf_sha256(NULL, 0, kek, CACHET_KBS_KEK_LEN, "cachet-kbs-audit-v1", 19,
                                 s->audit_key, sizeof s->audit_key)) != CACHET_OK)
        goto fail;
    if (!s->aead) {
        rc = kbs_err(NOMEM, "store: out of memory");
        goto fail;
    }
    if (kbs_pg_is_conninfo(path)) {
        if ((rc = kbs_pg_open(s, path)) != CACHET_OK || (rc = kbs_pg_check_kek(s)) != CACHET_OK)
            goto fail;
        *out = s;
        return CACHET_OK;
    }
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK) {
        rc = kbs_err(IO, "store: cannot open %s: %s", path,
                     s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(s->db, 5000);
    if ((rc = exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")) != CACHET_OK ||
        (rc = exec(s->db,
                   "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v BLOB NOT NULL);"
                   "CREATE TABLE IF NOT EXISTS resources(path TEXT PRIMARY KEY, sealed BLOB NOT "
                   "NULL, updated INTEGER NOT NULL DEFAULT (strftime('%s','now')));"
                   "CREATE TABLE IF NOT EXISTS policies(name TEXT PRIMARY KEY, text TEXT NOT "
                   "NULL);"
                   "CREATE TABLE IF NOT EXISTS audit(seq INTEGER PRIMARY KEY, record TEXT NOT "
                   "NULL, mac BLOB NOT NULL);")) != CACHET_OK ||
        (rc = check_kek(s)) != CACHET_OK)
        goto fail;
    /* A second, read-only connection for the per-request reads (resource,
     * policy): in WAL mode it sees every committed write and never waits
     * for a writer's fsync (an audit commit holds s->mu across it). */
    if (strcmp(path, ":memory:") != 0 && strncmp(path, "file:", 5) != 0 && path[0]) {
        if (sqlite3_open_v2(path, &s->rdb, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, NULL) !=
            SQLITE_OK) {
            sqlite3_close(s->rdb); /* fall back to the one connection */
            s->rdb = NULL;
        } else {
            sqlite3_busy_timeout(s->rdb, 5000);
        }
    }
    *out = s;
    return CACHET_OK;
fail:
    cachet_kbs_store_close(s);
    return rc;
}

void cachet_kbs_store_close(cachet_kbs_store *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < KBS_ST_COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->rdb);
    sqlite3_close(s->db);
    kbs_pg_close(s);
    cachet_aead_free(s->aead);
    cachet_wipe(s->audit_key, sizeof s->audit_key);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->gmu);
    pthread_mutex_destroy(&s->rmu);
    pthread_cond_destroy(&s->gcv);
    free(s);
}

cachet_rc cachet_kbs_store_put(cachet_kbs_store *s, const char *path, const uint8_t *data,
                               size_t len)
{
    if (!s || !cachet_kbs_resource_path_valid(path) || (!data && len))
        return kbs_err(INVALID_ARG, "store: invalid resource path or data");
    if (len > CACHET_KBS_MAX_RESOURCE)
        return kbs_err(LIMIT, "store: resource of %zu bytes exceeds %zu", len,
                       CACHET_KBS_MAX_RESOURCE);
    uint8_t *blob = NULL;
    size_t blen = 0;
    cachet_rc rc = kbs_seal(s, path, data, len, &blob, &blen);
    if (rc != CACHET_OK)
        return rc;
    if (s->pg) {
        rc = kbs_pg_put(s, path, blob, blen);
        free(blob);
        return rc;
    }
    sqlite3_stmt *st = NULL;
    pthread_mutex_lock(&s->mu);
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO resources(path, sealed) VALUES(?, ?) ON CONFLICT(path) DO "
                           "UPDATE SET sealed=excluded.sealed, updated=strftime('%s','now')",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_bind_text(st, 1, path, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
        sqlite3_bind_blob(st, 2, blob, (int)blen, SQLITE_TRANSIENT) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_DONE)
        rc = kbs_err(IO, "store: put: %s", sqlite3_errmsg(s->db));
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    free(blob);
    return rc;
}

cachet_rc cachet_kbs_store_get(cachet_kbs_store *s, const char *path, uint8_t **data, size_t *len)
{
    if (!s || !cachet_kbs_resource_path_valid(path) || !data || !len)
        return kbs_err(INVALID_ARG, "store: invalid resource path");
    *data = NULL;
    if (s->pg)
        return kbs_pg_get(s, path, data, len);
    sqlite3_stmt *st = NULL;
    cachet_rc rc;
    sqlite3 *db = s->rdb ? s->rdb : s->db;
    pthread_mutex_t *mu = s->rdb ? &s->rmu : &s->mu;
    pthread_mutex_lock(mu);
    if (!(st = kbs_stmt(s, db, KBS_ST_GET, "SELECT sealed FROM resources WHERE path=?")) ||
        sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC) != SQLITE_OK) {
        rc = kbs_err(IO, "store: get: %s", sqlite3_errmsg(db));
    } else {
        int r = sqlite3_step(st);
        if (r == SQLITE_ROW)
            rc = kbs_unseal(s, path, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0),
                        data, len);
        else if (r == SQLITE_DONE)
            rc = kbs_err(NOT_FOUND, "store: no resource %s", path);
        else
            rc = kbs_err(IO, "store: get: %s", sqlite3_errmsg(db));
    }
    kbs_stmt_done(st);
    pthread_mutex_unlock(mu);
    return rc;
}

cachet_rc cachet_kbs_store_delete(cachet_kbs_store *s, const char *path)
{
    if (!s || !cachet_kbs_resource_path_valid(path))
        return kbs_err(INVALID_ARG, "store: invalid resource path");
    if (s->pg)
        return kbs_pg_delete(s, path);
    sqlite3_stmt *st = NULL;
    cachet_rc rc = CACHET_OK;
    pthread_mutex_lock(&s->mu);
    if (sqlite3_prepare_v2(s->db, "DELETE FROM resources WHERE path=?", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_bind_text(st, 1, path, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_DONE)
        rc = kbs_err(IO, "store: delete: %s", sqlite3_errmsg(s->db));
    else if (sqlite3_changes(s->db) == 0)
        rc = kbs_err(NOT_FOUND, "store: no resource %s", path);
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

cachet_rc cachet_kbs_store_list(cachet_kbs_store *s, json_t **out)
{
    if (!s || !out)
        return kbs_err(INVALID_ARG, "store: missing argument");
    if (s->pg)
        return kbs_pg_list(s, out);
    json_t *a = json_array();
    sqlite3_stmt *st = NULL;
    cachet_rc rc = a ? CACHET_OK : kbs_err(NOMEM, "store: out of memory");
    pthread_mutex_lock(&s->mu);
    if (rc == CACHET_OK &&
        sqlite3_prepare_v2(s->db, "SELECT path FROM resources ORDER BY path", -1, &st, NULL) !=
            SQLITE_OK)
        rc = kbs_err(IO, "store: list: %s", sqlite3_errmsg(s->db));
    int r;
    while (rc == CACHET_OK && (r = sqlite3_step(st)) == SQLITE_ROW)
        if (json_array_append_new(a, json_string((const char *)sqlite3_column_text(st, 0))))
            rc = kbs_err(NOMEM, "store: out of memory");
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    if (rc != CACHET_OK) {
        json_decref(a);
        return rc;
    }
    *out = a;
    return CACHET_OK;
}

cachet_rc cachet_kbs_store_set_policy(cachet_kbs_store *s, const char *name, const char *text)
{
    if (!s || !name || !text || strlen(text) > ((size_t)1 << 20))
        return kbs_err(INVALID_ARG, "store: bad policy");
    if (s->pg)
        return kbs_pg_set_policy(s, name, text);
    sqlite3_stmt *st = NULL;
    cachet_rc rc = CACHET_OK;
    pthread_mutex_lock(&s->mu);
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO policies(name, text) VALUES(?, ?) ON CONFLICT(name) DO "
                           "UPDATE SET text=excluded.text",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
        sqlite3_bind_text(st, 2, text, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_DONE)
        rc = kbs_err(IO, "store: set policy: %s", sqlite3_errmsg(s->db));
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

cachet_rc cachet_kbs_store_get_policy(cachet_kbs_store *s, const char *name, char **text)
{
    if (!s || !name || !text)
        return kbs_err(INVALID_ARG, "store: missing argument");
    *text = NULL;
    if (s->pg)
        return kbs_pg_get_policy(s, name, text);
    sqlite3_stmt *st = NULL;
    cachet_rc rc;
    sqlite3 *db = s->rdb ? s->rdb : s->db;
    pthread_mutex_t *mu = s->rdb ? &s->rmu : &s->mu;
    pthread_mutex_lock(mu);
    if (!(st = kbs_stmt(s, db, KBS_ST_GET_POLICY, "SELECT text FROM policies WHERE name=?")) ||
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) != SQLITE_OK) {
        rc = kbs_err(IO, "store: %s", sqlite3_errmsg(db));
    } else {
        int r = sqlite3_step(st);
        if (r == SQLITE_ROW) {
            *text = strdup((const char *)sqlite3_column_text(st, 0));
            rc = *text ? CACHET_OK : kbs_err(NOMEM, "store: out of memory");
        } else if (r == SQLITE_DONE) {
            rc = kbs_err(NOT_FOUND, "store: no %s policy", name);
        } else {
            rc = kbs_err(IO, "store: %s", sqlite3_errmsg(db));
        }
    }
    kbs_stmt_done(st);
    pthread_mutex_unlock(mu);
    return rc;
}

cachet_rc cachet_kbs_kek_load(const char *path, uint8_t kek[CACHET_KBS_KEK_LEN])
{
    if (!kek)
        return kbs_err(INVALID_ARG, "kek: no output");
    uint8_t *buf = NULL;
    size_t len = 0;
    cachet_rc rc;
    if (path) {
        rc = cachet_file_read(path, 4096, &buf, &len);
        if (rc != CACHET_OK)
            return kbs_err(IO, "kek: cannot read %s", path);
    } else {
        const char *e = getenv(CACHET_KBS_KEK_ENV);
        if (!e)
            return kbs_err(NOT_FOUND, "kek: neither a KEK file nor $" CACHET_KBS_KEK_ENV);
        len = strlen(e);
        buf = (uint8_t *)strdup(e);
        if (!buf)
            return kbs_err(NOMEM, "kek: out of memory");
    }
    rc = CACHET_OK;
    if (path && len == CACHET_KBS_KEK_LEN) {
        memcpy(kek, buf, CACHET_KBS_KEK_LEN);
    } else {
        while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
            buf[--len] = 0;
        size_t n = 0;
        if (len != 2 * CACHET_KBS_KEK_LEN ||
            cachet_hex_decode((const char *)buf, kek, CACHET_KBS_KEK_LEN, &n) != CACHET_OK ||
            n != CACHET_KBS_KEK_LEN)
            rc = kbs_err(FORMAT, "kek: must be 32 raw bytes or 64 hex digits");
    }
    cachet_wipe(buf, len);
    free(buf);
    return rc;
}
