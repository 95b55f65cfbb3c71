/* cachet serve: lifecycle and HTTP routing over libmicrohttpd (one thread
 * per connection, so that a handler may wait for its queued job and a
 * stream's content callback may wait for the engine's next piece). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "cachet/buffer.h"
#include "cachet/netaddr.h"
#include "cachet/log.h"
#include "cachet/secmem.h"
#include "serve/serve_int.h"

struct cachet_serve {
    cachet_serve_opts o;
    serve_tls tls;
    serve_model model;
    cachet_serve_timings t;
    serve_queue *q;
    struct MHD_Daemon *d;
    uint16_t port;
    pthread_mutex_t attest_lock;
    serve_attest_ctx actx;
    atomic_bool stopping;
    atomic_ulong next_req;
    int64_t created;
    size_t max_body;
    char *api_key;
};

typedef struct conn_ctx {
    char *body;
    size_t len;
    bool too_large;
    unsigned long rid;
    double start;
} conn_ctx;

typedef struct reply {
    unsigned status;
    char *body; /* malloc'd */
    const char *ctype;
} reply;

static void reply_err(reply *r, unsigned status, const char *type, const char *msg,
                      const char *param, const char *code)
{
    free(r->body);
    r->status = status;
    r->body = oai_error_json(type, msg, param, code);
    r->ctype = "application/json";
}

static void reply_json(reply *r, unsigned status, char *body)
{
    free(r->body);
    r->status = body ? status : MHD_HTTP_INTERNAL_SERVER_ERROR;
    r->body = body;
    r->ctype = "application/json";
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, reply *r)
{
    if (!r->body) {
        r->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        r->body = oai_error_json("server_error", "internal error", NULL, NULL);
        r->ctype = "application/json";
    }
    const char *b = r->body ? r->body : "";
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(b), (void *)b, MHD_RESPMEM_MUST_COPY);
    if (r->body)
        cachet_wipe(r->body, strlen(r->body));
    free(r->body);
    r->body = NULL;
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->ctype ? r->ctype : "text/plain");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ret = MHD_queue_response(conn, r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ---- generation ------------------------------------------------------------ */

static void reply_job_error(reply *r, cachet_rc rc, const char *why)
{
    switch (cachet_rc_code(rc)) {
    case CACHET_E_LIMIT:
        reply_err(r, MHD_HTTP_BAD_REQUEST, "invalid_request_error", why, "messages",
                  "context_length_exceeded");
        break;
    case CACHET_E_STATE:
        reply_err(r, MHD_HTTP_SERVICE_UNAVAILABLE, "server_error", why, NULL, NULL);
        break;
    case CACHET_E_UNSUPPORTED:
        reply_err(r, MHD_HTTP_BAD_REQUEST, "invalid_request_error", why, NULL, NULL);
        break;
    default:
        reply_err(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "server_error", why, NULL, NULL);
    }
}

static void log_job(const serve_job *j, unsigned long rid, unsigned status, const char *how)
{
    cachet_log(CACHET_LOG_INFO,
               "serve: request %lu %s %s %s status %u prompt_tokens %d completion_tokens %d "
               "finish %s wait %.3fs prompt %.3fs gen %.3fs",
               rid, j->id, j->req.kind == OAI_CHAT ? "/v1/chat/completions" : "/v1/completions",
               how, status, j->stats.prompt_tokens, j->stats.completion_tokens,
               cachet_finish_str(j->stats.finish),
               j->t_start > 0 ? j->t_start - j->t_queued : 0.0, j->stats.prompt_seconds,
               j->stats.gen_seconds);
}

typedef struct stream_ctx {
    serve_job *job;
    unsigned long rid;
} stream_ctx;

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    stream_ctx *sc = cls;
    long n = serve_job_read(sc->job, buf, max);
    if (n > 0)
        return (ssize_t)n;
    return n == 0 ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void stream_free(void *cls)
{
    stream_ctx *sc = cls;
    /* The client went away or the stream ended: either way nothing more is
     * wanted (a running generation stops at its next piece). */
    serve_job_cancel(sc->job);
    pthread_mutex_lock(&sc->job->mu);
    bool done = sc->job->state == JOB_DONE;
    pthread_mutex_unlock(&sc->job->mu);
    if (done)
        log_job(sc->job, sc->rid, 200, "stream");
    else
        cachet_log(CACHET_LOG_INFO, "serve: request %lu %s: the client went away, cancelled",
                   sc->rid, sc->job->id);
    serve_job_unref(sc->job);
    free(sc);
}

static enum MHD_Result handle_generate(cachet_serve *s, struct MHD_Connection *conn, oai_kind kind,
                                       const conn_ctx *c, reply *r)
{
    oai_request req;
    char *err = NULL;
    unsigned st = oai_parse(kind, c->body, c->len, s->model.id, s->o.max_tokens_default, &req,
                            &err);
    if (st) {
        oai_request_clear(&req);
        reply_json(r, st, err);
        return send_reply(conn, r);
    }
    bool stream = req.stream;
    serve_job *j = serve_job_new(&req, s->model.id, s->model.engine, &s->stopping,
                                 s->o.test_hold_ms);
    if (!j) {
        oai_request_clear(&req);
        reply_err(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "server_error", "out of memory", NULL, NULL);
        return send_reply(conn, r);
    }
    serve_job_ref(j); /* the worker's */
    cachet_rc rc = serve_queue_push(s->q, j);
    if (rc != CACHET_OK) {
        serve_job_unref(j);
        serve_job_unref(j);
        bool busy = cachet_rc_code(rc) == CACHET_E_LIMIT;
        cachet_log(CACHET_LOG_INFO, "serve: request %lu refused: %s", c->rid,
                   busy ? "queue full" : "stopping");
        reply_err(r, MHD_HTTP_SERVICE_UNAVAILABLE, busy ? "server_busy" : "server_error",
                  busy ? "the server is busy: too many requests are waiting; retry later"
                       : "the server is stopping",
                  NULL, busy ? "server_busy" : NULL);
        return send_reply(conn, r);
    }
    if (!stream) {
        serve_job_wait_done(j);
        if (j->rc != CACHET_OK)
            reply_job_error(r, j->rc, j->why);
        else
            reply_json(r, MHD_HTTP_OK, oai_response_json(&j->meta, j->buf ? j->buf : "", j->len,
                                                         &j->stats));
        log_job(j, c->rid, r->status, "json");
        serve_job_unref(j);
        return send_reply(conn, r);
    }
    /* A stream: the status is decided by what comes first, a piece (200
     * and events from then on) or the end (an error before any output is
     * still a plain JSON error with its status). */
    serve_job_wait_started(j);
    pthread_mutex_lock(&j->mu);
    bool failed = j->state == JOB_DONE && j->rc != CACHET_OK && !j->emitted;
    pthread_mutex_unlock(&j->mu);
    if (failed) {
        reply_job_error(r, j->rc, j->why);
        log_job(j, c->rid, r->status, "stream");
        serve_job_unref(j);
        return send_reply(conn, r);
    }
    stream_ctx *sc = malloc(sizeof *sc);
    struct MHD_Response *resp =
        sc ? MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_read, sc,
                                               stream_free)
           : NULL;
    if (!resp) {
        free(sc);
        serve_job_cancel(j);
        serve_job_unref(j);
        return MHD_NO;
    }
    sc->job = j;
    sc->rid = c->rid;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ---- routing --------------------------------------------------------------- */

static bool authorized(const cachet_serve *s, struct MHD_Connection *conn)
{
    if (!s->api_key)
        return true;
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    if (!h || strncmp(h, "Bearer ", 7) != 0)
        return false;
    size_t n = strlen(h + 7), m = strlen(s->api_key);
    return n == m && cachet_memeq_ct(h + 7, s->api_key, n) == 0;
}

static enum MHD_Result route(cachet_serve *s, struct MHD_Connection *conn, const char *url,
                             const char *method, const conn_ctx *c, reply *r)
{
    bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    if (strcmp(url, "/health") == 0 && get) {
        reply_json(r, MHD_HTTP_OK, strdup("{\"status\":\"ok\"}"));
    } else if (strcmp(url, "/cachet/v1/attestation") == 0 && (get || post)) {
        char *nonce = post ? serve_attest_nonce_from_body(c->body, c->len) : NULL;
        const char *n = get ? MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "nonce")
                            : nonce;
        char *body = NULL;
        unsigned st = serve_attest_answer(&s->actx, n, &body);
        free(nonce);
        reply_json(r, st, body);
    } else if (strncmp(url, "/v1/", 4) == 0 && !authorized(s, conn)) {
        reply_err(r, MHD_HTTP_UNAUTHORIZED, "authentication_error",
                  "a valid API key is required (Authorization: Bearer ...)", NULL,
                  "invalid_api_key");
    } else if (strcmp(url, "/v1/models") == 0 && get) {
        reply_json(r, MHD_HTTP_OK, oai_models_json(s->model.id, s->created, false));
    } else if (strncmp(url, "/v1/models/", 11) == 0 && get) {
        if (strcmp(url + 11, s->model.id) == 0)
            reply_json(r, MHD_HTTP_OK, oai_models_json(s->model.id, s->created, true));
        else
            reply_err(r, MHD_HTTP_NOT_FOUND, "not_found_error", "no such model", "model",
                      "model_not_found");
    } else if (strcmp(url, "/v1/chat/completions") == 0 && post) {
        return handle_generate(s, conn, OAI_CHAT, c, r);
    } else if (strcmp(url, "/v1/completions") == 0 && post) {
        return handle_generate(s, conn, OAI_COMPLETION, c, r);
    } else if (strcmp(url, "/v1/chat/completions") == 0 || strcmp(url, "/v1/completions") == 0 ||
               strcmp(url, "/v1/models") == 0 || strcmp(url, "/health") == 0 ||
               strcmp(url, "/cachet/v1/attestation") == 0) {
        reply_err(r, MHD_HTTP_METHOD_NOT_ALLOWED, "invalid_request_error",
                  "method not allowed", NULL, NULL);
    } else {
        reply_err(r, MHD_HTTP_NOT_FOUND, "not_found_error", "no such endpoint", NULL, NULL);
    }
    cachet_log(CACHET_LOG_INFO, "serve: request %lu %s %s status %u %.3fs", c->rid, method, url,
               r->status, serve_mono_now() - c->start);
    return send_reply(conn, r);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **con_cls)
{
    (void)version;
    cachet_serve *s = cls;
    conn_ctx *c = *con_cls;
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c)
            return MHD_NO;
        c->rid = atomic_fetch_add(&s->next_req, 1) + 1;
        c->start = serve_mono_now();
        *con_cls = c;
        return MHD_YES;
    }
    if (*data_size) {
        cachet_append_result ar = c->too_large ? CACHET_APPEND_LIMIT
                                               : cachet_buf_append(&c->body, &c->len, data,
                                                                   *data_size, s->max_body);
        if (ar == CACHET_APPEND_NOMEM)
            return MHD_NO;
        c->too_large = ar == CACHET_APPEND_LIMIT;
        *data_size = 0;
        return MHD_YES;
    }
    reply r = {0};
    if (c->too_large) {
        cachet_log(CACHET_LOG_INFO, "serve: request %lu %s %s status 413", c->rid, method, url);
        reply_err(&r, MHD_HTTP_CONTENT_TOO_LARGE, "invalid_request_error",
                  "the request body exceeds the limit", NULL, "request_too_large");
        return send_reply(conn, &r);
    }
    return route(s, conn, url, method, c, &r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    conn_ctx *c = *con_cls;
    if (c) {
        if (c->body) { /* prompts do not outlive their request */
            cachet_wipe(c->body, c->len);
            free(c->body);
        }
        free(c);
    }
    *con_cls = NULL;
}

/* ---- lifecycle ------------------------------------------------------------- */

void cachet_serve_stop(cachet_serve *s)
{
    if (!s)
        return;
    atomic_store(&s->stopping, true);
    /* Jobs end first (the running one at its next piece, waiting ones as
     * cancelled), which releases every handler and stream; then the
     * connection threads are joined. */
    serve_queue_stop(s->q);
    if (s->d)
        MHD_stop_daemon(s->d);
    serve_queue_free(s->q);
    serve_model_clear(&s->model);
    serve_tls_clear(&s->tls);
    if (s->api_key) {
        cachet_wipe(s->api_key, strlen(s->api_key));
        free(s->api_key);
    }
    pthread_mutex_destroy(&s->attest_lock);
    free(s);
}

cachet_rc cachet_serve_start(const cachet_serve_opts *opts, cachet_serve **out)
{
    if (!out)
        return serve_err(INVALID_ARG, "serve: NULL argument");
    *out = NULL;
    if (!opts || !opts->model_path || !opts->kbs_url || !opts->attester)
        return serve_err(INVALID_ARG, "serve: a sealed model, a key broker and an attester are "
                                      "required");
    struct sockaddr_in sa;
    cachet_rc rc = cachet_listen_parse(opts->listen ? opts->listen : "127.0.0.1:8443", &sa);
    if (rc != CACHET_OK)
        return rc;
    if (opts->queue_max < 0 || opts->threads < 0 || opts->n_ctx < 0 ||
        opts->max_tokens_default < 0)
        return serve_err(INVALID_ARG, "serve: negative limit");
    cachet_serve *s = calloc(1, sizeof *s);
    if (!s)
        return serve_err(NOMEM, "serve: out of memory");
    s->o = *opts;
    pthread_mutex_init(&s->attest_lock, NULL);
    s->max_body = opts->max_body ? opts->max_body : CACHET_SERVE_MAX_BODY;
    s->created = (int64_t)time(NULL);
    if (opts->api_key && !(s->api_key = strdup(opts->api_key))) {
        rc = serve_err(NOMEM, "serve: out of memory");
        goto fail;
    }
    s->o.api_key = NULL;
    /* §1 step 1: the model's public content digest, read once; 1b: on a
     * TPM, measure it before any evidence is made */
    uint8_t digest[CACHET_SEAL_DIGEST_LEN];
    if ((rc = serve_sealed_digest(opts->model_path, digest)) != CACHET_OK) {
        rc = serve_step_err(rc, "unseal: sealed model");
        goto fail;
    }
    if ((rc = serve_measure_model(opts, digest)) != CACHET_OK)
        goto fail;
    /* §1 step 2: the TLS key and its certificate */
    if ((rc = serve_tls_make(opts->attester, s->created, &s->tls)) != CACHET_OK)
        goto fail;
    /* steps 1, 3, 4 */
    if ((rc = serve_startup(opts, digest, &s->model, &s->t)) != CACHET_OK)
        goto fail;
    s->o.model_id = s->model.id;
    s->actx = (serve_attest_ctx){.attester = opts->attester, .lock = &s->attest_lock,
                                 .tls_key = s->tls.key, .model_digest = s->model.digest,
                                 .model_digest_str = s->model.digest_str,
                                 .model_id = s->model.id};
    if ((rc = serve_queue_new(opts->queue_max ? opts->queue_max : CACHET_SERVE_QUEUE,
                              serve_job_run, NULL, &s->q)) != CACHET_OK)
        goto fail;
    /* step 5 */
    s->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                                MHD_USE_TLS,
                            0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, &sa,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                            MHD_OPTION_CONNECTION_TIMEOUT, 60u,
                            MHD_OPTION_CONNECTION_LIMIT, 128u,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 << 10,
                            MHD_OPTION_HTTPS_MEM_CERT, s->tls.cert_pem,
                            MHD_OPTION_HTTPS_MEM_KEY, s->tls.key_pem, MHD_OPTION_END);
    if (!s->d) {
        rc = serve_err(IO, "listen: cannot serve HTTPS on %s",
                       opts->listen ? opts->listen : "127.0.0.1:8443");
        goto fail;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : ntohs(sa.sin_port);
    cachet_log(CACHET_LOG_INFO, "serve: listening on port %u, model %s %s", s->port,
               s->model.id, s->model.digest_str);
    *out = s;
    return CACHET_OK;
fail:
    cachet_serve_stop(s);
    return rc;
}

uint16_t cachet_serve_port(const cachet_serve *s)
{
    return s ? s->port : 0;
}

const cachet_serve_timings *cachet_serve_timings_get(const cachet_serve *s)
{
    return s ? &s->t : NULL;
}

const char *cachet_serve_tls_spki_sha256(const cachet_serve *s)
{
    return s ? s->tls.spki_hex : NULL;
}

const char *cachet_serve_model_digest(const cachet_serve *s)
{
    return s ? s->model.digest_str : NULL;
}

const char *cachet_serve_model_id(const cachet_serve *s)
{
    return s ? s->model.id : NULL;
}
