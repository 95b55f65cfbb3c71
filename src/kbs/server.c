/* The KBS HTTP server (libmicrohttpd): routing, bounded bodies, the
 * protocol handlers (protocols.md §1.2-1.11). */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "cachet/buffer.h"
#include "cachet/netaddr.h"
#include "cachet/encoding.h"
#include "cachet/fileio.h"
#include "cachet/log.h"
#include "cachet/runtime_data.h"
#include "cachet/secmem.h"
#include "cachet/token.h"
#include "kbs/kbs_int.h"
#include "kbs/metrics.h"
#include "kbs/ratelimit.h"
#include "kbs/session.h"
#include "kbs/store_int.h"

#define PREFIX "/kbs/v0/"
#define COOKIE "kbs-session-id"

/* A parsed policy shared by the requests using it; freed with the last
 * reference (an admin change or another replica's replaces it in the cache
 * while requests may still hold the old one). */
typedef struct kbs_parsed_policy {
    atomic_int refs;
    char *text;                 /* the stored text it was parsed from; NULL: none stored */
    cachet_policy *ap;          /* attestation */
    cachet_kbs_rpolicy *rp;     /* resource */
} kbs_parsed_policy;

/* The last parsed attestation and resource policy, keyed by their text.
 * Every request still reads the text from the store (one kept statement,
 * so a change by kbs-admin, the admin API or another replica is seen by
 * the very next request); only the parse is skipped when it is unchanged. */
typedef struct kbs_policy_cache {
    pthread_mutex_t mu;
    kbs_parsed_policy *slot[2]; /* 0: attestation, 1: resource */
} kbs_policy_cache;

struct cachet_kbs {
    struct MHD_Daemon *d;
    cachet_kbs_store *store;
    cachet_token_issuer *issuer;
    cachet_token_keys *keys;
    kbs_verifier verifier;
    cachet_pkey **trust_keys;
    cachet_pkey **admin_keys;
    size_t n_admin_keys;
    kbs_sessions sessions;
    kbs_ratelimit rl;
    const cachet_clock *clock;
    int64_t timeout;
    size_t max_body;
    uint16_t port;
    char *tls_cert, *tls_key;
    kbs_metrics metrics;
    kbs_policy_cache pcache;
};

typedef struct conn_ctx {
    char *body;
    size_t len;
    bool too_large;
    bool limited;
    double start; /* monotonic seconds at the first call */
} conn_ctx;

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct reply {
    unsigned status;
    char *body; /* malloc'd */
    const char *ctype;
    char cookie[160];
    char detail[256]; /* why it was refused (for the audit log) */
} reply;

static int64_t now_of(const cachet_kbs *k)
{
    return cachet_clock_now(k->clock);
}

static void reply_error(reply *r, unsigned status, cachet_kbs_error e, const char *detail)
{
    free(r->body);
    r->status = status;
    snprintf(r->detail, sizeof r->detail, "%.32s: %.200s", cachet_kbs_error_name(e),
             detail ? detail : "");
    r->body = cachet_kbs_error_json(e, detail);
    r->ctype = "application/json";
}

static void reply_json(reply *r, char *body)
{
    r->status = body ? MHD_HTTP_OK : MHD_HTTP_INTERNAL_SERVER_ERROR;
    r->body = body;
    r->ctype = "application/json";
}

/* Max-Age rather than Expires: one exact integer every client honours. */
static void set_cookie(reply *r, const char *id, int64_t max_age)
{
    snprintf(r->cookie, sizeof r->cookie, COOKIE "=%s; Path=/kbs/v0; Max-Age=%lld; HttpOnly", id,
             (long long)(max_age > 0 ? max_age : 0));
}

/* "address session-prefix" for the audit log (no secret: the session id
 * is cut to 8 characters, enough to correlate, too short to use). */
static void who_of(struct MHD_Connection *conn, const char *sid, char *buf, size_t cap)
{
    char addr[INET6_ADDRSTRLEN] = "?";
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, addr, sizeof addr);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, addr, sizeof addr);
    snprintf(buf, cap, "%s session %.8s", addr, sid ? sid : "-");
}

static void audit(cachet_kbs *k, const char *event, const char *who, const char *what,
                  const reply *r, const char *rule)
{
    bool ok = r->status == MHD_HTTP_OK;
    if (cachet_kbs_store_audit(k->store, event, who, what, ok ? "allow" : "deny", rule,
                               ok ? NULL : r->detail) != CACHET_OK)
        cachet_log(CACHET_LOG_ERROR, "kbs: audit write failed: %s", cachet_err_detail());
}

/* ---- policies ---------------------------------------------------------------- */

static void parsed_policy_put(kbs_parsed_policy *pp)
{
    if (!pp || atomic_fetch_sub(&pp->refs, 1) != 1)
        return;
    cachet_policy_free(pp->ap);
    cachet_kbs_rpolicy_free(pp->rp);
    free(pp->text);
    free(pp);
}

static bool same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The named policy ("attestation" or "resource") as stored now, parsed
 * (deny-all when unset, as kbs_load_policy/kbs_load_rpolicy); a reference
 * the caller drops with parsed_policy_put(). */
static cachet_rc policy_get(cachet_kbs *k, bool resource, kbs_parsed_policy **out)
{
    *out = NULL;
    const char *name = resource ? "resource" : "attestation";
    char *text = NULL;
    cachet_rc rc = cachet_kbs_store_get_policy(k->store, name, &text);
    if (rc != CACHET_OK && cachet_rc_code(rc) != CACHET_E_NOT_FOUND)
        return rc;
    kbs_policy_cache *pc = &k->pcache;
    pthread_mutex_lock(&pc->mu);
    kbs_parsed_policy *pp = pc->slot[resource];
    if (pp && same_text(pp->text, text)) {
        atomic_fetch_add(&pp->refs, 1);
        pthread_mutex_unlock(&pc->mu);
        free(text);
        *out = pp;
        return CACHET_OK;
    }
    pthread_mutex_unlock(&pc->mu);
    pp = calloc(1, sizeof *pp);
    if (!pp) {
        free(text);
        return kbs_err(NOMEM, "policy: out of memory");
    }
    atomic_init(&pp->refs, 1);
    pp->text = text;
    if (resource)
        rc = cachet_kbs_rpolicy_parse(text, text ? strlen(text) : 0, &pp->rp);
    else
        rc = text ? cachet_policy_parse(text, strlen(text), &pp->ap)
                  : cachet_policy_parse("{}", 2, &pp->ap);
    if (rc != CACHET_OK) {
        parsed_policy_put(pp);
        return rc;
    }
    atomic_fetch_add(&pp->refs, 1); /* the cache's reference */
    pthread_mutex_lock(&pc->mu);
    kbs_parsed_policy *old = pc->slot[resource];
    pc->slot[resource] = pp;
    pthread_mutex_unlock(&pc->mu);
    parsed_policy_put(old);
    *out = pp;
    return CACHET_OK;
}

/* ---- POST /auth ------------------------------------------------------------ */

static void handle_auth(cachet_kbs *k, const conn_ctx *c, reply *r)
{
    cachet_kbs_request rq;
    if (cachet_kbs_parse_request(c->body, c->len, &rq) != CACHET_OK) {
        reply_error(r, MHD_HTTP_UNAUTHORIZED, CACHET_KBS_ERR_SERDE, cachet_err_detail());
        return;
    }
    char id[KBS_SESSION_ID_LEN + 1], nonce[KBS_NONCE_TEXT_MAX + 1];
    int64_t now = now_of(k);
    if (kbs_session_new(&k->sessions, rq.tee, now, k->timeout, id, nonce) != CACHET_OK) {
        reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, CACHET_KBS_ERR_HTTP, cachet_err_detail());
        return;
    }
    json_t *j = json_pack("{s:s,s:s}", "nonce", nonce, "extra-params", "");
    reply_json(r, j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL);
    json_decref(j);
    set_cookie(r, id, k->timeout);
}

/* ---- POST /attest ---------------------------------------------------------- */

static char *token_body(const char *token)
{
    json_t *j = json_pack("{s:s}", "token", token);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return s;
}

static cachet_rc issue_token(cachet_kbs *k, const kbs_outcome *o, const char *nonce, int64_t now,
                             char **jwt)
{
    uint8_t *nb = NULL;
    size_t nl = 0;
    if (cachet_base64_decode(nonce, strlen(nonce), &nb, &nl) != CACHET_OK)
        nb = NULL;
    cachet_ear_params p = {
        .primary = o->result,
        .appraisal = o->appraisal,
        .runtime_data = o->runtime_data,
        .devices = (const cachet_verify_result *const *)o->devices,
        .n_devices = o->n_devices,
        .iat = now,
        .lifetime = k->timeout,
        .nonce = nb,
        .nonce_len = nb ? nl : 0,
    };
    cachet_rc rc = cachet_ear_issue(k->issuer, &p, jwt);
    free(nb);
    return rc;
}

static void handle_attest(cachet_kbs *k, struct MHD_Connection *conn, const conn_ctx *c, reply *r)
{
    const char *sid = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, COOKIE);
    int64_t now = now_of(k);
    kbs_session s;
    if (!sid || kbs_session_claim(&k->sessions, sid, now, &s) != CACHET_OK) {
        reply_error(r, MHD_HTTP_UNAUTHORIZED, CACHET_KBS_ERR_ATTESTATION,
                    sid ? cachet_err_detail() : "no kbs-session-id cookie");
        char who[128];
        who_of(conn, NULL, who, sizeof who);
        audit(k, "attest", who, NULL, r, NULL);
        return;
    }
    if (s.attested) { /* §1.3: the stored token again, no re-verification */
        reply_json(r, token_body(s.token));
        set_cookie(r, s.id, s.expiry - now);
        kbs_session_release(&k->sessions, s.id, NULL);
        kbs_session_copy_clear(&s);
        return;
    }
    cachet_kbs_attestation a;
    kbs_outcome o;
    memset(&o, 0, sizeof o);
    kbs_parsed_policy *policy = NULL;
    char *jwt = NULL;
    if (cachet_kbs_parse_attestation(c->body, c->len, &a) != CACHET_OK) {
        reply_error(r, MHD_HTTP_UNAUTHORIZED, CACHET_KBS_ERR_SERDE, cachet_err_detail());
        goto out;
    }
    if (strcmp(a.nonce, s.nonce) != 0) {
        reply_error(r, MHD_HTTP_UNAUTHORIZED, CACHET_KBS_ERR_ATTESTATION,
                    "runtime-data nonce is not this session's challenge");
        goto out;
    }
    if (policy_get(k, false, &policy) != CACHET_OK) {
        reply_error(r, MHD_HTTP_UNAUTHORIZED, CACHET_KBS_ERR_ATTESTATION,
                    "the attestation policy cannot be loaded");
        goto out;
    }
    /* Certificates sent with the evidence join the broker's endorsements for
     * this request only (untrusted: chains still end at the pinned roots). */
    kbs_verifier vv = k->verifier;
    if (a.carried) {
        for (size_t i = 0; k->verifier.endorsements &&
                           i < cachet_endorsements_count(k->verifier.endorsements);
             i++) {
            const cachet_endorsement *e = cachet_endorsements_get(k->verifier.endorsements, i);
            (void)cachet_endorsements_add_bytes(a.carried, e->name, e->data, e->len);
        }
        vv.endorsements = a.carried;
    }
    if (kbs_verify_and_appraise(&vv, policy->ap, s.tee, a.evidence, a.evidence_len,
                                a.runtime_data, a.additional_evidence, NULL, 0, now, &o) != CACHET_OK) {
        reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, CACHET_KBS_ERR_ATTESTATION,
                    "internal error");
        goto out;
    }
    if (!o.admitted) {
        reply_error(r, MHD_HTTP_UNAUTHORIZED, CACHET_KBS_ERR_ATTESTATION, o.why);
        goto out;
    }
    if (issue_token(k, &o, s.nonce, now, &jwt) != CACHET_OK) {
        reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, CACHET_KBS_ERR_ATTESTATION,
                    "cannot issue the attestation token");
        goto out;
    }
    reply_json(r, token_body(jwt));
    set_cookie(r, s.id, s.expiry - now);
out:
    kbs_metrics_verification(&k->metrics, s.tee, r->status == MHD_HTTP_OK);
    cachet_log(CACHET_LOG_INFO, "kbs: attest session %.8s tee %s: %s", s.id, s.tee,
               r->status == MHD_HTTP_OK ? "admitted" : "refused");
    char who[128];
    who_of(conn, s.id, who, sizeof who);
    audit(k, "attest", who, s.tee, r, o.appraisal ? cachet_appraisal_rule(o.appraisal) : NULL);
    kbs_session_release(&k->sessions, s.id, r->status == MHD_HTTP_OK ? jwt : NULL);
    kbs_session_copy_clear(&s);
    kbs_outcome_clear(&o);
    parsed_policy_put(policy);
    cachet_kbs_attestation_clear(&a);
    free(jwt);
}

/* ---- GET /resource/<repo>/<type>/<tag> -------------------------------------- */

/* The attestation token: the session's, else the Bearer header's (malloc'd). */
static char *find_token(cachet_kbs *k, struct MHD_Connection *conn)
{
    const char *sid = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, COOKIE);
    if (sid) {
        kbs_session s;
        if (kbs_session_get(&k->sessions, sid, now_of(k), &s) == CACHET_OK && s.attested) {
            char *t = s.token;
            s.token = NULL;
            kbs_session_copy_clear(&s);
            return t;
        }
        kbs_session_copy_clear(&s);
    }
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    if (auth && strncmp(auth, "Bearer ", 7) == 0 && strlen(auth + 7) < CACHET_TOKEN_MAX_LEN)
        return strdup(auth + 7);
    return NULL;
}

static void handle_resource(cachet_kbs *k, struct MHD_Connection *conn, const char *path, reply *r)
{
    if (!cachet_kbs_resource_path_valid(path)) {
        reply_error(r, MHD_HTTP_NOT_FOUND, CACHET_KBS_ERR_INVALID_PATH,
                    "resource path must be repo/type/tag");
        return;
    }
    char *tok = find_token(k, conn);
    json_t *claims = NULL;
    kbs_parsed_policy *rp = NULL;
    uint8_t *secret = NULL;
    size_t slen = 0;
    char why[512];
    if (!tok) {
        reply_error(r, MHD_HTTP_UNAUTHORIZED, CACHET_KBS_ERR_TOKEN_NOT_FOUND,
                    "no attested session and no Bearer token");
        goto out;
    }
    cachet_clock clk = cachet_clock_fixed(now_of(k));
    cachet_token_verify_opts vo = {.clock = &clk};
    if (cachet_token_verify(k->keys, tok, strlen(tok), &vo, &claims) != CACHET_OK) {
        reply_error(r, MHD_HTTP_UNAUTHORIZED, CACHET_KBS_ERR_TOKEN_VERIFIER, cachet_err_detail());
        goto out;
    }
    if (policy_get(k, true, &rp) != CACHET_OK) {
        reply_error(r, MHD_HTTP_UNAUTHORIZED, CACHET_KBS_ERR_POLICY_DENY,
                    "the resource policy cannot be loaded");
        goto out;
    }
    if (!cachet_kbs_rpolicy_allows(rp->rp, claims, path, why, sizeof why)) {
        reply_error(r, MHD_HTTP_UNAUTHORIZED, CACHET_KBS_ERR_POLICY_DENY, why);
        goto out;
    }
    const json_t *jwk = cachet_ear_tee_pubkey(claims);
    if (!jwk) {
        reply_error(r, MHD_HTTP_UNAUTHORIZED, CACHET_KBS_ERR_JWE, "the token carries no tee-pubkey");
        goto out;
    }
    cachet_rc rc = cachet_kbs_store_get(k->store, path, &secret, &slen);
    if (rc != CACHET_OK) {
        bool absent = cachet_rc_code(rc) == CACHET_E_NOT_FOUND;
        reply_error(r, absent ? MHD_HTTP_NOT_FOUND : MHD_HTTP_UNAUTHORIZED,
                    CACHET_KBS_ERR_PLUGIN_INTERNAL,
                    absent ? "resource not found" : "resource unreadable");
        goto out;
    }
    char *jwe = NULL;
    if (cachet_jwe_encrypt(jwk, secret, slen, &jwe) != CACHET_OK) {
        reply_error(r, MHD_HTTP_UNAUTHORIZED, CACHET_KBS_ERR_JWE, cachet_err_detail());
        goto out;
    }
    reply_json(r, jwe);
out:
    kbs_metrics_release(&k->metrics, r->status == MHD_HTTP_OK);
    cachet_log(CACHET_LOG_INFO, "kbs: resource %s: %s", path,
               r->status == MHD_HTTP_OK ? "released" : "refused");
    char who[128];
    who_of(conn, MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, COOKIE), who, sizeof who);
    audit(k, "resource", who, path, r,
          json_string_value(json_object_get(json_object_get(claims, "cachet.appraisal"), "rule")));
    cachet_secure_free(secret);
    parsed_policy_put(rp);
    json_decref(claims);
    free(tok);
}

/* ---- admin API (protocols.md §1.2, §1.10) ----------------------------------- */

static void reply_ok(reply *r)
{
    r->status = MHD_HTTP_OK;
    r->body = strdup("");
    r->ctype = "text/plain";
}

/* {"policy":"<b64url>"} → the policy text (malloc'd, NUL-terminated). */
static char *policy_text(const conn_ctx *c, char *why, size_t cap)
{
    json_t *j = c->body ? json_loadb(c->body, c->len, JSON_REJECT_DUPLICATES, NULL) : NULL;
    const json_t *p = json_object_get(j, "policy");
    const char *type = json_string_value(json_object_get(j, "type"));
    uint8_t *b = NULL;
    size_t n = 0;
    char *out = NULL;
    if (!json_is_string(p))
        snprintf(why, cap, "body must be {\"policy\":\"<base64url>\"}");
    else if (type && strcmp(type, "json") != 0)
        snprintf(why, cap, "policy type \"%.16s\" is not supported (cachet policies are json)",
                 type);
    else if (cachet_base64url_decode(json_string_value(p), json_string_length(p), &b, &n) !=
             CACHET_OK)
        snprintf(why, cap, "policy is not base64url");
    else if (!(out = malloc(n + 1)))
        snprintf(why, cap, "out of memory");
    else {
        memcpy(out, b, n);
        out[n] = 0;
        if (strlen(out) != n) {
            free(out);
            out = NULL;
            snprintf(why, cap, "policy text holds a NUL byte");
        }
    }
    free(b);
    json_decref(j);
    return out;
}

static void admin_set_policy(cachet_kbs *k, const char *name, const conn_ctx *c, reply *r)
{
    char why[256];
    char *text = policy_text(c, why, sizeof why);
    if (!text) {
        reply_error(r, MHD_HTTP_UNAUTHORIZED, CACHET_KBS_ERR_PARSE_POLICY, why);
        return;
    }
    cachet_rc rc;
    if (strcmp(name, "attestation") == 0) {
        cachet_policy *p = NULL;
        rc = cachet_policy_parse(text, strlen(text), &p);
        cachet_policy_free(p);
    } else {
        cachet_kbs_rpolicy *p = NULL;
        rc = cachet_kbs_rpolicy_parse(text, strlen(text), &p);
        cachet_kbs_rpolicy_free(p);
    }
    if (rc != CACHET_OK)
        reply_error(r, MHD_HTTP_UNAUTHORIZED, CACHET_KBS_ERR_PARSE_POLICY, cachet_err_detail());
    else if (cachet_kbs_store_set_policy(k->store, name, text) != CACHET_OK)
        reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, CACHET_KBS_ERR_PLUGIN_INTERNAL,
                    "the store refused the policy");
    else
        reply_ok(r);
    free(text);
}

static void handle_admin_op(cachet_kbs *k, struct MHD_Connection *conn, const char *method,
                            const char *rest, const conn_ctx *c, reply *r);

static void handle_admin(cachet_kbs *k, struct MHD_Connection *conn, const char *method,
                         const char *rest, const conn_ctx *c, reply *r)
{
    char why[256];
    const char *authz = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    char who[128], what[CACHET_KBS_MAX_PATH + 32];
    who_of(conn, "admin", who, sizeof who);
    snprintf(what, sizeof what, "%s /kbs/v0/%.256s", method, rest);
    if (!kbs_admin_verify(k->admin_keys, k->n_admin_keys, authz, now_of(k), why, sizeof why)) {
        cachet_log(CACHET_LOG_WARN, "kbs: admin %s /kbs/v0/%.64s refused: %s", method, rest, why);
        reply_error(r, MHD_HTTP_UNAUTHORIZED, CACHET_KBS_ERR_ADMIN_AUTH, why);
        audit(k, "admin", who, what, r, NULL);
        return;
    }
    handle_admin_op(k, conn, method, rest, c, r);
    if (strcmp(method, "GET") != 0)
        audit(k, "admin", who, what, r, NULL);
}

static void handle_admin_op(cachet_kbs *k, struct MHD_Connection *conn, const char *method,
                            const char *rest, const conn_ctx *c, reply *r)
{
    bool post = strcmp(method, "POST") == 0, del = strcmp(method, "DELETE") == 0,
         get = strcmp(method, "GET") == 0;
    if (strncmp(rest, "resource/", 9) == 0 && (post || del)) {
        const char *path = rest + 9;
        if (!cachet_kbs_resource_path_valid(path)) {
            reply_error(r, MHD_HTTP_NOT_FOUND, CACHET_KBS_ERR_INVALID_PATH,
                        "resource path must be repo/type/tag");
            return;
        }
        cachet_rc rc = post ? cachet_kbs_store_put(k->store, path,
                                                   (const uint8_t *)(c->body ? c->body : ""), c->len)
                            : cachet_kbs_store_delete(k->store, path);
        if (rc == CACHET_OK)
            reply_ok(r);
        else
            reply_error(r, cachet_rc_code(rc) == CACHET_E_NOT_FOUND ? MHD_HTTP_NOT_FOUND
                                                                    : MHD_HTTP_UNAUTHORIZED,
                        CACHET_KBS_ERR_PLUGIN_INTERNAL, cachet_err_detail());
        cachet_log(CACHET_LOG_INFO, "kbs: admin %s resource %s: %s", method, path,
                   rc == CACHET_OK ? "done" : "failed");
    } else if (strcmp(rest, "audit") == 0 && get) {
        const char *after = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "after");
        char *end = NULL;
        long long a = after ? strtoll(after, &end, 10) : 0;
        json_t *l = NULL;
        if (after && (*end || a < 0))
            reply_error(r, MHD_HTTP_NOT_FOUND, CACHET_KBS_ERR_INVALID_PATH, "after must be >= 0");
        else if (cachet_kbs_store_audit_read(k->store, a, 1000, &l) != CACHET_OK)
            reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, CACHET_KBS_ERR_PLUGIN_INTERNAL,
                        "cannot read the audit log");
        else
            reply_json(r, json_dumps(l, JSON_COMPACT));
        json_decref(l);
    } else if (strcmp(rest, "resources") == 0 && get) {
        json_t *l = NULL;
        if (cachet_kbs_store_list(k->store, &l) != CACHET_OK)
            reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, CACHET_KBS_ERR_PLUGIN_INTERNAL,
                        "cannot list");
        else
            reply_json(r, json_dumps(l, JSON_COMPACT));
        json_decref(l);
    } else if (strcmp(rest, "resource-policy") == 0 && post) {
        admin_set_policy(k, "resource", c, r);
    } else if (strcmp(rest, "attestation-policy") == 0 && post) {
        admin_set_policy(k, "attestation", c, r);
    } else if ((strcmp(rest, "resource-policy") == 0 || strcmp(rest, "attestation-policy") == 0) &&
               get) {
        char *t = NULL;
        cachet_rc rc = cachet_kbs_store_get_policy(
            k->store, rest[0] == 'r' ? "resource" : "attestation", &t);
        if (rc == CACHET_OK) {
            r->status = MHD_HTTP_OK;
            r->body = t;
            r->ctype = "application/json";
        } else {
            reply_error(r, MHD_HTTP_NOT_FOUND, CACHET_KBS_ERR_PLUGIN_INTERNAL, "no policy set");
        }
    } else {
        reply_error(r, MHD_HTTP_NOT_FOUND, CACHET_KBS_ERR_PLUGIN_NOT_FOUND, "no such admin path");
    }
}

static void handle_metrics(cachet_kbs *k, reply *r)
{
    r->body = kbs_metrics_render(&k->metrics);
    r->status = r->body ? MHD_HTTP_OK : MHD_HTTP_INTERNAL_SERVER_ERROR;
    r->ctype = "text/plain; version=0.0.4";
}

static void route(cachet_kbs *k, struct MHD_Connection *conn, const char *url, const char *method,
                  const conn_ctx *c, reply *r)
{
    bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    if (get && strcmp(url, "/healthz") == 0) {
        r->status = MHD_HTTP_OK;
        r->body = strdup("ok\n");
        r->ctype = "text/plain";
        return;
    }
    if (get && strcmp(url, "/metrics") == 0) {
        handle_metrics(k, r);
        return;
    }
    if (strncmp(url, PREFIX, strlen(PREFIX)) != 0) {
        reply_error(r, MHD_HTTP_NOT_FOUND, CACHET_KBS_ERR_INVALID_PATH, "not a /kbs/v0 path");
        return;
    }
    const char *rest = url + strlen(PREFIX);
    if (strcmp(rest, "auth") == 0 && post)
        handle_auth(k, c, r);
    else if (strcmp(rest, "attest") == 0 && post)
        handle_attest(k, conn, c, r);
    else if (strncmp(rest, "resource/", 9) == 0 && get)
        handle_resource(k, conn, rest + 9, r);
    else if (strncmp(rest, "resource/", 9) == 0 || strcmp(rest, "resource-policy") == 0 ||
             strcmp(rest, "attestation-policy") == 0 || strcmp(rest, "resources") == 0 ||
             strcmp(rest, "audit") == 0)
        handle_admin(k, conn, method, rest, c, r);
    else
        reply_error(r, MHD_HTTP_NOT_FOUND, CACHET_KBS_ERR_PLUGIN_NOT_FOUND, "no such plugin");
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, reply *r)
{
    if (!r->body) {
        r->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        r->body = cachet_kbs_error_json(CACHET_KBS_ERR_HTTP, "internal error");
        r->ctype = "application/json";
    }
    const char *b = r->body ? r->body : "";
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(b), (void *)b, MHD_RESPMEM_MUST_COPY);
    free(r->body);
    r->body = NULL;
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->ctype ? r->ctype : "text/plain");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (r->cookie[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, r->cookie);
    enum MHD_Result ret = MHD_queue_response(conn, r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **con_cls)
{
    (void)version;
    cachet_kbs *k = cls;
    conn_ctx *c = *con_cls;
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c)
            return MHD_NO;
        *con_cls = c;
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        const struct sockaddr *sa = ci ? ci->client_addr : NULL;
        if (sa && sa->sa_family == AF_INET)
            c->limited = !kbs_rl_take(&k->rl,
                                      (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr, 4);
        else if (sa && sa->sa_family == AF_INET6)
            c->limited = !kbs_rl_take(
                &k->rl, (const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        kbs_metrics_request(&k->metrics, c->limited);
        c->start = mono_now();
        return MHD_YES;
    }
    if (*data_size) {
        cachet_append_result ar = c->limited || c->too_large
                                      ? CACHET_APPEND_LIMIT
                                      : cachet_buf_append(&c->body, &c->len, data, *data_size,
                                                          k->max_body);
        if (ar == CACHET_APPEND_NOMEM)
            return MHD_NO;
        c->too_large = ar == CACHET_APPEND_LIMIT;
        *data_size = 0;
        return MHD_YES;
    }
    reply r = {0};
    if (c->limited)
        reply_error(&r, MHD_HTTP_TOO_MANY_REQUESTS, CACHET_KBS_ERR_HTTP,
                    "rate limit exceeded for this client");
    else if (c->too_large)
        reply_error(&r, MHD_HTTP_CONTENT_TOO_LARGE, CACHET_KBS_ERR_HTTP,
                    "request body exceeds the limit");
    else
        route(k, conn, url, method, c, &r);
    const char *rest = strncmp(url, PREFIX, strlen(PREFIX)) == 0 ? url + strlen(PREFIX) : "";
    if (strcmp(rest, "auth") == 0)
        kbs_metrics_latency(&k->metrics, KBS_OP_AUTH, mono_now() - c->start);
    else if (strcmp(rest, "attest") == 0)
        kbs_metrics_latency(&k->metrics, KBS_OP_ATTEST, mono_now() - c->start);
    else if (strncmp(rest, "resource/", 9) == 0 && strcmp(method, "GET") == 0)
        kbs_metrics_latency(&k->metrics, KBS_OP_RESOURCE, mono_now() - c->start);
    return send_reply(conn, &r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    conn_ctx *c = *con_cls;
    if (c) {
        free(c->body);
        free(c);
    }
    *con_cls = NULL;
}

void cachet_kbs_stop(cachet_kbs *k)
{
    if (!k)
        return;
    if (k->d)
        MHD_stop_daemon(k->d);
    kbs_sessions_fini(&k->sessions);
    kbs_rl_fini(&k->rl);
    kbs_metrics_fini(&k->metrics);
    for (size_t i = 0; i < 2; i++)
        parsed_policy_put(k->pcache.slot[i]);
    pthread_mutex_destroy(&k->pcache.mu);
    cachet_kbs_store_close(k->store);
    cachet_token_keys_free(k->keys);
    cachet_token_issuer_free(k->issuer);
    cachet_endorsements_free(k->verifier.endorsements);
    cachet_verify_cache_free(k->verifier.cache);
    if (k->tls_key) {
        cachet_wipe(k->tls_key, strlen(k->tls_key));
        free(k->tls_key);
    }
    free(k->tls_cert);
    free(k->trust_keys);
    free(k->admin_keys);
    free(k);
}

uint16_t cachet_kbs_port(const cachet_kbs *k)
{
    return k ? k->port : 0;
}

static cachet_rc read_text(const char *path, char **out)
{
    uint8_t *b = NULL;
    size_t n = 0;
    cachet_rc rc = cachet_file_read(path, (size_t)1 << 20, &b, &n);
    if (rc != CACHET_OK)
        return kbs_err(IO, "cannot read %s", path);
    *out = (char *)b;
    return CACHET_OK;
}

cachet_rc cachet_kbs_start(const cachet_kbs_config *cfg, cachet_kbs **out)
{
    if (!cfg || !out || !cfg->db_path || !cfg->kek)
        return kbs_err(INVALID_ARG, "kbs: a database and a KEK are required");
    *out = NULL;
    struct sockaddr_in sa;
    cachet_rc rc = cachet_listen_parse(cfg->listen ? cfg->listen : "127.0.0.1:8080", &sa);
    if (rc != CACHET_OK)
        return rc;
    bool loopback = cachet_addr_is_loopback(&sa);
    if (cfg->http && !loopback)
        return kbs_err(POLICY, "kbs: plain HTTP is only served on a loopback address");
    if (!cfg->http && (!cfg->tls_cert_path || !cfg->tls_key_path))
        return kbs_err(INVALID_ARG, "kbs: HTTPS needs a certificate and key (or --http on loopback)");
    cachet_kbs *k = calloc(1, sizeof *k);
    if (!k)
        return kbs_err(NOMEM, "kbs: out of memory");
    k->clock = cfg->clock;
    pthread_mutex_init(&k->pcache.mu, NULL);
    kbs_metrics_init(&k->metrics);
    kbs_rl_init(&k->rl, cfg->rate_limit ? cfg->rate_limit : 20,
                cfg->rate_burst ? cfg->rate_burst : 100);
    k->timeout = cfg->session_timeout > 0 ? cfg->session_timeout : CACHET_KBS_SESSION_TIMEOUT;
    k->max_body = cfg->max_body ? cfg->max_body : CACHET_KBS_MAX_BODY;
    if (cfg->n_trust_keys) { /* the array is copied; the keys must outlive the server */
        k->trust_keys = calloc(cfg->n_trust_keys, sizeof *k->trust_keys);
        if (!k->trust_keys) {
            cachet_kbs_stop(k);
            return kbs_err(NOMEM, "kbs: out of memory");
        }
        memcpy(k->trust_keys, cfg->trust_keys, cfg->n_trust_keys * sizeof *k->trust_keys);
    }
    if (cfg->n_admin_keys) {
        k->admin_keys = calloc(cfg->n_admin_keys, sizeof *k->admin_keys);
        if (!k->admin_keys) {
            cachet_kbs_stop(k);
            return kbs_err(NOMEM, "kbs: out of memory");
        }
        memcpy(k->admin_keys, cfg->admin_keys, cfg->n_admin_keys * sizeof *k->admin_keys);
        k->n_admin_keys = cfg->n_admin_keys;
    }
    k->verifier.trust_keys = k->trust_keys;
    k->verifier.n_trust_keys = cfg->n_trust_keys;
    k->verifier.trust_anchors = cfg->trust_anchors; /* the caller keeps them alive */
    k->verifier.n_trust_anchors = cfg->n_trust_anchors;
    if ((rc = kbs_sessions_init(&k->sessions, CACHET_KBS_MAX_SESSIONS)) != CACHET_OK ||
        (rc = cachet_kbs_store_open(cfg->db_path, cfg->kek, &k->store)) != CACHET_OK)
        goto fail;
    if (k->store->pg) /* replicas share sessions through the database */
        k->sessions.db = k->store;
    rc = cfg->token_key_path ? cachet_token_issuer_load(cfg->token_key_path, true, &k->issuer, NULL)
                             : cachet_token_issuer_generate(&k->issuer);
    if (rc != CACHET_OK || (rc = cachet_token_keys_from_issuer(k->issuer, &k->keys)) != CACHET_OK)
        goto fail;
    k->verifier.cache = cachet_verify_cache_new(1024);
    k->verifier.nvidia_ops = cfg->nvidia_ops;
    if (cfg->endorsements_dir) {
        k->verifier.endorsements = cachet_endorsements_new();
        if (!k->verifier.endorsements) {
            rc = kbs_err(NOMEM, "kbs: out of memory");
            goto fail;
        }
        if ((rc = cachet_endorsements_add_path(k->verifier.endorsements, cfg->endorsements_dir)) !=
            CACHET_OK)
            goto fail;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
    if (!cfg->http) {
        if ((rc = read_text(cfg->tls_cert_path, &k->tls_cert)) != CACHET_OK ||
            (rc = read_text(cfg->tls_key_path, &k->tls_key)) != CACHET_OK)
            goto fail;
        flags |= MHD_USE_TLS;
    }
    unsigned timeout = cfg->conn_timeout ? cfg->conn_timeout : 15;
    unsigned threads = cfg->threads ? cfg->threads : 4;
    if (cfg->http) {
        k->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, k, MHD_OPTION_SOCK_ADDR, &sa,
                                MHD_OPTION_NOTIFY_COMPLETED, on_completed, k,
                                MHD_OPTION_CONNECTION_TIMEOUT, timeout,
                                MHD_OPTION_THREAD_POOL_SIZE, threads,
                                MHD_OPTION_CONNECTION_LIMIT, 256u,
                                MHD_OPTION_PER_IP_CONNECTION_LIMIT, 64u,
                                MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 << 10,
                                MHD_OPTION_END);
    } else {
        k->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, k, MHD_OPTION_SOCK_ADDR, &sa,
                                MHD_OPTION_NOTIFY_COMPLETED, on_completed, k,
                                MHD_OPTION_CONNECTION_TIMEOUT, timeout,
                                MHD_OPTION_THREAD_POOL_SIZE, threads,
                                MHD_OPTION_CONNECTION_LIMIT, 256u,
                                MHD_OPTION_PER_IP_CONNECTION_LIMIT, 64u,
                                MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 << 10,
                                MHD_OPTION_HTTPS_MEM_CERT, k->tls_cert,
                                MHD_OPTION_HTTPS_MEM_KEY, k->tls_key, MHD_OPTION_END);
    }
    if (!k->d) {
        rc = kbs_err(IO, "kbs: cannot listen on %s", cfg->listen ? cfg->listen : "127.0.0.1:8080");
        goto fail;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(k->d, MHD_DAEMON_INFO_BIND_PORT);
    k->port = info ? info->port : ntohs(sa.sin_port);
    *out = k;
    return CACHET_OK;
fail:
    cachet_kbs_stop(k);
    return rc;
}
