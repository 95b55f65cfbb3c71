/* The store on PostgreSQL (libpq), for several broker replicas: the same
 * tables as SQLite plus sessions, so that any replica continues a session
 * another began.  Every statement is parameterised; bytea travels in
 * binary; the store's mutex serialises use of the one connection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "cachet/secmem.h"
#include "kbs/kbs_int.h"
#include "kbs/store_int.h"

#define PG(s) ((PGconn *)(s)->pg)

bool kbs_pg_is_conninfo(const char *path)
{
    return path && (strncmp(path, "postgresql://", 13) == 0 || strncmp(path, "postgres://", 11) == 0 ||
                    strncmp(path, "host=", 5) == 0 || strncmp(path, "dbname=", 7) == 0);
}

static cachet_rc pg_fail(cachet_kbs_store *s, PGresult *r, const char *what)
{
    cachet_rc rc = kbs_err(IO, "store (postgresql): %s: %.200s", what, PQerrorMessage(PG(s)));
    PQclear(r);
    return rc;
}

static bool ok_cmd(PGresult *r)
{
    return r && PQresultStatus(r) == PGRES_COMMAND_OK;
}

static bool ok_rows(PGresult *r)
{
    return r && PQresultStatus(r) == PGRES_TUPLES_OK;
}

cachet_rc kbs_pg_open(cachet_kbs_store *s, const char *conninfo)
{
    PGconn *c = PQconnectdb(conninfo);
    s->pg = (struct pg_conn *)c;
    if (!c || PQstatus(c) != CONNECTION_OK)
        return kbs_err(IO, "store (postgresql): cannot connect: %.200s",
                       c ? PQerrorMessage(c) : "out of memory");
    PGresult *r = PQexec(c,
                         "SET client_min_messages = warning;"
                         "CREATE TABLE IF NOT EXISTS kbs_meta(k TEXT PRIMARY KEY, v BYTEA NOT NULL);"
                         "CREATE TABLE IF NOT EXISTS kbs_resources(path TEXT PRIMARY KEY, sealed "
                         "BYTEA NOT NULL, updated TIMESTAMPTZ NOT NULL DEFAULT now());"
                         "CREATE TABLE IF NOT EXISTS kbs_policies(name TEXT PRIMARY KEY, text TEXT "
                         "NOT NULL);"
                         "CREATE TABLE IF NOT EXISTS kbs_audit(seq BIGINT PRIMARY KEY, record TEXT "
                         "NOT NULL, mac BYTEA NOT NULL);"
                         "CREATE TABLE IF NOT EXISTS kbs_sessions(id TEXT PRIMARY KEY, tee TEXT NOT "
                         "NULL, nonce TEXT NOT NULL, expiry BIGINT NOT NULL, busy BOOLEAN NOT NULL "
                         "DEFAULT false, token TEXT);");
    if (!ok_cmd(r))
        return pg_fail(s, r, "schema");
    PQclear(r);
    return CACHET_OK;
}

void kbs_pg_close(cachet_kbs_store *s)
{
    if (s && s->pg) {
        PQfinish(PG(s));
        s->pg = NULL;
    }
}

/* One statement with text and binary parameters (lens[i] > 0 or fmts[i] = 1 for binary). */
static PGresult *run(cachet_kbs_store *s, const char *sql, int n, const char *const *vals,
                     const int *lens, const int *fmts)
{
    return PQexecParams(PG(s), sql, n, NULL, vals, lens, fmts, 0);
}

/* A bytea column in text result format, unescaped (malloc'd via PQ: PQfreemem). */
static uint8_t *bytea(PGresult *r, int row, int col, size_t *n)
{
    return PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, col), n);
}

cachet_rc kbs_pg_check_kek(cachet_kbs_store *s)
{
    pthread_mutex_lock(&s->mu);
    const char *v0[] = {"kek_check"};
    PGresult *r = run(s, "SELECT v FROM kbs_meta WHERE k = $1", 1, v0, NULL, NULL);
    cachet_rc rc = CACHET_OK;
    if (!ok_rows(r)) {
        rc = pg_fail(s, r, "kek check");
        goto out;
    }
    if (PQntuples(r) == 1) {
        size_t n = 0, m = 0;
        uint8_t *b = bytea(r, 0, 0, &n), *pt = NULL;
        PQclear(r);
        rc = b ? kbs_unseal(s, "kek_check", b, n, &pt, &m) : kbs_err(NOMEM, "store: out of memory");
        if (rc == CACHET_OK && (m != strlen(KBS_KEK_CHECK_TEXT) ||
                                memcmp(pt, KBS_KEK_CHECK_TEXT, m) != 0))
            rc = kbs_err(AUTH, "store: KEK check value mismatch");
        else if (rc != CACHET_OK)
            rc = kbs_err(AUTH, "store: the KEK does not open this store");
        cachet_secure_free(pt);
        PQfreemem(b);
        goto out;
    }
    PQclear(r);
    uint8_t *blob = NULL;
    size_t blen = 0;
    rc = kbs_seal(s, "kek_check", (const uint8_t *)KBS_KEK_CHECK_TEXT, strlen(KBS_KEK_CHECK_TEXT),
                  &blob, &blen);
    if (rc == CACHET_OK) {
        const char *v[] = {"kek_check", (const char *)blob};
        int lens[] = {0, (int)blen}, fmts[] = {0, 1};
        r = run(s, "INSERT INTO kbs_meta(k, v) VALUES($1, $2) ON CONFLICT (k) DO NOTHING", 2, v,
                lens, fmts);
        if (!ok_cmd(r))
            rc = pg_fail(s, r, "kek check");
        else
            PQclear(r);
    }
    free(blob);
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

cachet_rc kbs_pg_put(cachet_kbs_store *s, const char *path, const uint8_t *blob, size_t blen)
{
    const char *v[] = {path, (const char *)blob};
    int lens[] = {0, (int)blen}, fmts[] = {0, 1};
    pthread_mutex_lock(&s->mu);
    PGresult *r = run(s,
                      "INSERT INTO kbs_resources(path, sealed) VALUES($1, $2) ON CONFLICT (path) "
                      "DO UPDATE SET sealed = excluded.sealed, updated = now()",
                      2, v, lens, fmts);
    cachet_rc rc = ok_cmd(r) ? (PQclear(r), CACHET_OK) : pg_fail(s, r, "put");
    pthread_mutex_unlock(&s->mu);
    return rc;
}

cachet_rc kbs_pg_get(cachet_kbs_store *s, const char *path, uint8_t **data, size_t *len)
{
    const char *v[] = {path};
    pthread_mutex_lock(&s->mu);
    PGresult *r = run(s, "SELECT sealed FROM kbs_resources WHERE path = $1", 1, v, NULL, NULL);
    cachet_rc rc;
    if (!ok_rows(r)) {
        rc = pg_fail(s, r, "get");
    } else if (PQntuples(r) == 0) {
        PQclear(r);
        rc = kbs_err(NOT_FOUND, "store: no resource %s", path);
    } else {
        size_t n = 0;
        uint8_t *b = bytea(r, 0, 0, &n);
        PQclear(r);
        rc = b ? kbs_unseal(s, path, b, n, data, len) : kbs_err(NOMEM, "store: out of memory");
        PQfreemem(b);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

cachet_rc kbs_pg_delete(cachet_kbs_store *s, const char *path)
{
    const char *v[] = {path};
    pthread_mutex_lock(&s->mu);
    PGresult *r = run(s, "DELETE FROM kbs_resources WHERE path = $1", 1, v, NULL, NULL);
    cachet_rc rc;
    if (!ok_cmd(r)) {
        rc = pg_fail(s, r, "delete");
    } else {
        rc = strcmp(PQcmdTuples(r), "0") == 0 ? kbs_err(NOT_FOUND, "store: no resource %s", path)
                                               : CACHET_OK;
        PQclear(r);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

cachet_rc kbs_pg_list(cachet_kbs_store *s, json_t **out)
{
    pthread_mutex_lock(&s->mu);
    PGresult *r = PQexec(PG(s), "SELECT path FROM kbs_resources ORDER BY path");
    cachet_rc rc = CACHET_OK;
    json_t *a = json_array();
    if (!ok_rows(r)) {
        rc = pg_fail(s, r, "list");
        r = NULL;
    }
    for (int i = 0; rc == CACHET_OK && i < PQntuples(r); i++)
        if (!a || json_array_append_new(a, json_string(PQgetvalue(r, i, 0))))
            rc = kbs_err(NOMEM, "store: out of memory");
    PQclear(r);
    pthread_mutex_unlock(&s->mu);
    if (rc != CACHET_OK) {
        json_decref(a);
        return rc;
    }
    *out = a;
    return CACHET_OK;
}

cachet_rc kbs_pg_set_policy(cachet_kbs_store *s, const char *name, const char *text)
{
    const char *v[] = {name, text};
    pthread_mutex_lock(&s->mu);
    PGresult *r = run(s,
                      "INSERT INTO kbs_policies(name, text) VALUES($1, $2) ON CONFLICT (name) DO "
                      "UPDATE SET text = excluded.text",
                      2, v, NULL, NULL);
    cachet_rc rc = ok_cmd(r) ? (PQclear(r), CACHET_OK) : pg_fail(s, r, "set policy");
    pthread_mutex_unlock(&s->mu);
    return rc;
}

cachet_rc kbs_pg_get_policy(cachet_kbs_store *s, const char *name, char **text)
{
    const char *v[] = {name};
    pthread_mutex_lock(&s->mu);
    PGresult *r = run(s, "SELECT text FROM kbs_policies WHERE name = $1", 1, v, NULL, NULL);
    cachet_rc rc;
    if (!ok_rows(r)) {
        rc = pg_fail(s, r, "get policy");
    } else if (PQntuples(r) == 0) {
        PQclear(r);
        rc = kbs_err(NOT_FOUND, "store: no %s policy", name);
    } else {
        *text = strdup(PQgetvalue(r, 0, 0));
        PQclear(r);
        rc = *text ? CACHET_OK : kbs_err(NOMEM, "store: out of memory");
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

cachet_rc kbs_pg_audit_append(cachet_kbs_store *s, const char *record, kbs_audit_mac_fn mac_fn)
{
    pthread_mutex_lock(&s->mu);
    cachet_rc rc = CACHET_OK;
    PGresult *r = PQexec(PG(s), "BEGIN; LOCK TABLE kbs_audit IN EXCLUSIVE MODE");
    if (!ok_cmd(r)) {
        rc = pg_fail(s, r, "audit lock");
        goto rollback;
    }
    PQclear(r);
    r = PQexec(PG(s), "SELECT seq, mac FROM kbs_audit ORDER BY seq DESC LIMIT 1");
    if (!ok_rows(r)) {
        rc = pg_fail(s, r, "audit");
        goto rollback;
    }
    uint8_t prev[32] = {0}, mac[32];
    long long seq = 1;
    if (PQntuples(r) == 1) {
        seq = strtoll(PQgetvalue(r, 0, 0), NULL, 10) + 1;
        size_t n = 0;
        uint8_t *b = bytea(r, 0, 1, &n);
        if (b && n == 32)
            memcpy(prev, b, 32);
        PQfreemem(b);
    }
    PQclear(r);
    if ((rc = mac_fn(s, prev, seq, record, mac)) != CACHET_OK)
        goto rollback;
    char seqs[24];
    snprintf(seqs, sizeof seqs, "%lld", seq);
    const char *v[] = {seqs, record, (const char *)mac};
    int lens[] = {0, 0, 32}, fmts[] = {0, 0, 1};
    r = run(s, "INSERT INTO kbs_audit(seq, record, mac) VALUES($1, $2, $3)", 3, v, lens, fmts);
    if (!ok_cmd(r)) {
        rc = pg_fail(s, r, "audit insert");
        goto rollback;
    }
    PQclear(r);
    r = PQexec(PG(s), "COMMIT");
    if (!ok_cmd(r))
        rc = pg_fail(s, r, "audit commit");
    else
        PQclear(r);
    pthread_mutex_unlock(&s->mu);
    return rc;
rollback:
    PQclear(PQexec(PG(s), "ROLLBACK"));
    pthread_mutex_unlock(&s->mu);
    return rc;
}

cachet_rc kbs_pg_audit_rows(cachet_kbs_store *s, int64_t after, size_t max, kbs_audit_row_fn fn,
                            void *arg)
{
    char a[24], m[24];
    snprintf(a, sizeof a, "%lld", (long long)after);
    snprintf(m, sizeof m, "%zu", max);
    const char *v[] = {a, m};
    pthread_mutex_lock(&s->mu);
    PGresult *r = run(s, "SELECT seq, record, mac FROM kbs_audit WHERE seq > $1 ORDER BY seq LIMIT $2",
                      2, v, NULL, NULL);
    cachet_rc rc = CACHET_OK;
    if (!ok_rows(r)) {
        rc = pg_fail(s, r, "audit read");
        r = NULL;
    }
    for (int i = 0; rc == CACHET_OK && i < PQntuples(r); i++) {
        size_t n = 0;
        uint8_t *b = bytea(r, i, 2, &n);
        rc = fn(strtoll(PQgetvalue(r, i, 0), NULL, 10), PQgetvalue(r, i, 1), b, b ? n : 0, arg);
        PQfreemem(b);
    }
    PQclear(r);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

cachet_rc kbs_pg_session_put(cachet_kbs_store *s, const char *id, const char *tee,
                             const char *nonce, int64_t expiry)
{
    char e[24];
    snprintf(e, sizeof e, "%lld", (long long)expiry);
    const char *v[] = {id, tee, nonce, e};
    pthread_mutex_lock(&s->mu);
    PQclear(PQexec(PG(s), "DELETE FROM kbs_sessions WHERE expiry < extract(epoch from now()) - 3600"));
    PGresult *r = run(s, "INSERT INTO kbs_sessions(id, tee, nonce, expiry) VALUES($1, $2, $3, $4)", 4,
                      v, NULL, NULL);
    cachet_rc rc = ok_cmd(r) ? (PQclear(r), CACHET_OK) : pg_fail(s, r, "session");
    pthread_mutex_unlock(&s->mu);
    return rc;
}

cachet_rc kbs_pg_session_load(cachet_kbs_store *s, const char *id, int64_t now, bool claim,
                              char *tee, size_t tee_cap, char *nonce, size_t nonce_cap,
                              int64_t *expiry, char **token)
{
    char n[24];
    snprintf(n, sizeof n, "%lld", (long long)now);
    const char *v[] = {id, n};
    *token = NULL;
    pthread_mutex_lock(&s->mu);
    PGresult *r = claim ? run(s,
                              "UPDATE kbs_sessions SET busy = true WHERE id = $1 AND expiry > $2 "
                              "AND NOT busy RETURNING tee, nonce, expiry, token",
                              2, v, NULL, NULL)
                        : run(s,
                              "SELECT tee, nonce, expiry, token FROM kbs_sessions WHERE id = $1 "
                              "AND expiry > $2",
                              2, v, NULL, NULL);
    cachet_rc rc = CACHET_OK;
    if (!ok_rows(r)) {
        rc = pg_fail(s, r, "session");
    } else if (PQntuples(r) != 1) {
        PQclear(r);
        rc = kbs_err(NOT_FOUND, "session: unknown, expired or busy kbs-session-id");
    } else {
        snprintf(tee, tee_cap, "%s", PQgetvalue(r, 0, 0));
        snprintf(nonce, nonce_cap, "%s", PQgetvalue(r, 0, 1));
        *expiry = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
        if (!PQgetisnull(r, 0, 3)) {
            *token = strdup(PQgetvalue(r, 0, 3));
            if (!*token)
                rc = kbs_err(NOMEM, "session: out of memory");
        }
        PQclear(r);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

cachet_rc kbs_pg_session_release(cachet_kbs_store *s, const char *id, const char *token)
{
    const char *v[] = {id, token};
    pthread_mutex_lock(&s->mu);
    PGresult *r = token ? run(s,
                              "UPDATE kbs_sessions SET busy = false, token = COALESCE(token, $2) "
                              "WHERE id = $1",
                              2, v, NULL, NULL)
                        : run(s, "UPDATE kbs_sessions SET busy = false WHERE id = $1", 1, v, NULL,
                              NULL);
    cachet_rc rc = ok_cmd(r) ? (PQclear(r), CACHET_OK) : pg_fail(s, r, "session");
    pthread_mutex_unlock(&s->mu);
    return rc;
}
