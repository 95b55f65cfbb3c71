/* One generation request, shared by the HTTP side (which waits for it or
 * streams it) and the worker (which runs the engine): a reference count, a
 * lock, and the output buffer the engine's piece callback fills: SSE events
 * for a streamed request, the completion text otherwise. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cachet/encoding.h"
#include "cachet/log.h"
#include "serve/serve_int.h"

serve_job *serve_job_new(oai_request *req, const char *model_id, cachet_engine *e,
                         const atomic_bool *stopping, unsigned hold_ms)
{
    serve_job *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    uint8_t rnd[12];
    char hex[sizeof rnd * 2 + 1];
    if (cachet_random(rnd, sizeof rnd) != CACHET_OK || !(j->model = strdup(model_id))) {
        free(j);
        return NULL;
    }
    cachet_hex_encode(rnd, sizeof rnd, hex);
    snprintf(j->id, sizeof j->id, "%s-%s", req->kind == OAI_CHAT ? "chatcmpl" : "cmpl", hex);
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    j->refs = 1;
    j->req = *req;
    memset(req, 0, sizeof *req);
    j->engine = e;
    j->stopping = stopping;
    j->hold_ms = hold_ms;
    j->meta = (oai_meta){.kind = j->req.kind, .id = j->id, .created = (int64_t)time(NULL),
                         .model = j->model};
    j->t_queued = serve_mono_now();
    return j;
}

void serve_job_ref(serve_job *j)
{
    pthread_mutex_lock(&j->mu);
    j->refs++;
    pthread_mutex_unlock(&j->mu);
}

void serve_job_unref(serve_job *j)
{
    if (!j)
        return;
    pthread_mutex_lock(&j->mu);
    int left = --j->refs;
    pthread_mutex_unlock(&j->mu);
    if (left)
        return;
    oai_request_clear(&j->req);
    if (j->buf) /* completions are never logged and never left behind */
        memset(j->buf, 0, j->cap);
    free(j->buf);
    free(j->model);
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->mu);
    free(j);
}

void serve_job_cancel(serve_job *j)
{
    pthread_mutex_lock(&j->mu);
    j->cancelled = true;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

/* Under the lock. */
static bool append(serve_job *j, const char *s, size_t n)
{
    if (j->off && j->off == j->len)
        j->off = j->len = 0;
    if (j->len + n + 1 > j->cap) {
        size_t cap = j->cap ? j->cap : 1024;
        while (cap < j->len + n + 1)
            cap *= 2;
        char *b = malloc(cap);
        if (!b)
            return false;
        if (j->buf) {
            memcpy(b, j->buf, j->len);
            memset(j->buf, 0, j->cap);
            free(j->buf);
        }
        j->buf = b;
        j->cap = cap;
    }
    memcpy(j->buf + j->len, s, n);
    j->len += n;
    j->buf[j->len] = 0;
    return true;
}

/* ev and *n come from one oai_sse_* call made before this one (its length
 * is written through n, so it must not be read as an argument alongside
 * the call: the order of evaluation is unspecified). */
static bool append_event(serve_job *j, char *ev, const size_t *n)
{
    bool ok = ev && append(j, ev, *n);
    free(ev);
    return ok;
}

/* Under the lock: the chat stream's first chunk carries the role. */
static bool send_role(serve_job *j)
{
    if (j->role_sent || j->req.kind != OAI_CHAT)
        return true;
    j->role_sent = true;
    size_t n = 0;
    char *ev = oai_sse_delta(&j->meta, true, "", 0, NULL, &n);
    return append_event(j, ev, &n);
}

static bool on_piece(void *arg, const char *text, size_t len)
{
    serve_job *j = arg;
    pthread_mutex_lock(&j->mu);
    bool ok = !j->cancelled && !atomic_load(j->stopping);
    if (ok && j->req.stream) {
        size_t n = 0;
        ok = send_role(j);
        char *ev = ok ? oai_sse_delta(&j->meta, false, text, len, NULL, &n) : NULL;
        ok = ok && append_event(j, ev, &n);
        j->emitted = true;
    } else if (ok) {
        ok = append(j, text, len);
    }
    /* Wake the connection's thread only when it has something to do: every
     * piece of a stream, but for a whole answer just the first (it waits for
     * the end).  A needless wake-up per token preempts one of the compute
     * threads, and the other spins at ggml's barrier meanwhile. */
    bool wake = j->req.stream || !j->started;
    j->started = true;
    if (wake)
        pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    return ok;
}

static void hold(serve_job *j)
{
    for (unsigned t = 0; t < j->hold_ms && !atomic_load(j->stopping); t += 10) {
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* Under the lock: the end of a stream. */
static void finish_stream(serve_job *j)
{
    size_t n = 0;
    if (j->rc == CACHET_OK) {
        send_role(j);
        char *ev = oai_sse_delta(&j->meta, false, NULL, 0, oai_finish_str(j->stats.finish), &n);
        append_event(j, ev, &n);
        if (j->req.include_usage) {
            ev = oai_sse_usage(&j->meta, &j->stats, &n);
            append_event(j, ev, &n);
        }
    } else if (j->started) { /* headers went out already: an error event */
        char *ev = oai_sse_error("server_error", j->why, &n);
        append_event(j, ev, &n);
    }
    append(j, OAI_SSE_DONE, strlen(OAI_SSE_DONE));
}

void serve_job_run(void *p, bool cancelled, void *arg)
{
    (void)arg;
    serve_job *j = p;
    pthread_mutex_lock(&j->mu);
    bool skip = cancelled || j->cancelled || atomic_load(j->stopping);
    j->state = JOB_RUNNING;
    j->t_start = serve_mono_now();
    pthread_mutex_unlock(&j->mu);
    cachet_rc rc = CACHET_OK;
    char why[256] = "";
    cachet_gen_stats st;
    memset(&st, 0, sizeof st);
    if (skip) {
        rc = serve_err(STATE, "cancelled: the server is stopping or the client went away");
    } else {
        hold(j);
        char *prompt = NULL;
        if (j->req.kind == OAI_CHAT)
            rc = cachet_engine_chat_prompt(j->engine, j->req.msgs, j->req.n_msgs, &prompt);
        if (rc == CACHET_OK)
            rc = cachet_engine_generate(j->engine, prompt ? prompt : j->req.prompt, &j->req.gen,
                                        on_piece, j, &st);
        if (prompt) {
            memset(prompt, 0, strlen(prompt));
            free(prompt);
        }
    }
    if (rc != CACHET_OK)
        snprintf(why, sizeof why, "%s", cachet_err_detail());
    pthread_mutex_lock(&j->mu);
    j->rc = rc;
    j->stats = st;
    snprintf(j->why, sizeof j->why, "%s", why);
    if (rc == CACHET_OK && st.finish == CACHET_FINISH_CANCELLED && !j->cancelled) {
        j->rc = serve_err(STATE, "cancelled: the server is stopping");
        snprintf(j->why, sizeof j->why, "cancelled: the server is stopping");
    }
    if (j->req.stream && !j->cancelled)
        finish_stream(j);
    j->state = JOB_DONE;
    j->started = true;
    j->t_end = serve_mono_now();
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    serve_job_unref(j);
}

void serve_job_wait_started(serve_job *j)
{
    pthread_mutex_lock(&j->mu);
    while (!j->started && j->state != JOB_DONE)
        pthread_cond_wait(&j->cv, &j->mu);
    pthread_mutex_unlock(&j->mu);
}

void serve_job_wait_done(serve_job *j)
{
    pthread_mutex_lock(&j->mu);
    while (j->state != JOB_DONE)
        pthread_cond_wait(&j->cv, &j->mu);
    pthread_mutex_unlock(&j->mu);
}

long serve_job_read(serve_job *j, char *out, size_t max)
{
    pthread_mutex_lock(&j->mu);
    while (j->off == j->len && j->state != JOB_DONE && !j->cancelled)
        pthread_cond_wait(&j->cv, &j->mu);
    long n;
    if (j->off < j->len) {
        size_t k = j->len - j->off < max ? j->len - j->off : max;
        memcpy(out, j->buf + j->off, k);
        memset(j->buf + j->off, 0, k);
        j->off += k;
        n = (long)k;
    } else {
        n = j->cancelled ? -1 : 0;
    }
    pthread_mutex_unlock(&j->mu);
    return n;
}
