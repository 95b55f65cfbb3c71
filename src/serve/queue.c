/* The bounded request queue: at most max_waiting jobs wait while one runs
 * on the single worker thread (the engine serialises generation anyway);
 * beyond that a push is refused at once, which the server answers with 503
 * server_busy rather than letting latency grow without bound. */
#include <stdlib.h>

#include "serve/serve_int.h"

typedef struct qnode {
    void *job;
    struct qnode *next;
} qnode;

struct serve_queue {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    qnode *head, *tail;
    size_t waiting, max_waiting;
    bool stopping, joined;
    serve_queue_fn fn;
    void *arg;
    pthread_t worker;
};

static void *worker_main(void *p)
{
    serve_queue *q = p;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (!q->head && !q->stopping)
            pthread_cond_wait(&q->cv, &q->mu);
        if (!q->head)
            break;
        qnode *n = q->head;
        q->head = n->next;
        if (!q->head)
            q->tail = NULL;
        q->waiting--;
        bool cancelled = q->stopping;
        pthread_mutex_unlock(&q->mu);
        q->fn(n->job, cancelled, q->arg);
        free(n);
        pthread_mutex_lock(&q->mu);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

cachet_rc serve_queue_new(int max_waiting, serve_queue_fn fn, void *arg, serve_queue **out)
{
    *out = NULL;
    if (max_waiting < 0 || !fn)
        return serve_err(INVALID_ARG, "queue: bad argument");
    serve_queue *q = calloc(1, sizeof *q);
    if (!q)
        return serve_err(NOMEM, "queue: out of memory");
    q->max_waiting = (size_t)max_waiting;
    q->fn = fn;
    q->arg = arg;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    if (pthread_create(&q->worker, NULL, worker_main, q) != 0) {
        pthread_cond_destroy(&q->cv);
        pthread_mutex_destroy(&q->mu);
        free(q);
        return serve_err(IO, "queue: cannot start the worker thread");
    }
    *out = q;
    return CACHET_OK;
}

cachet_rc serve_queue_push(serve_queue *q, void *job)
{
    qnode *n = malloc(sizeof *n);
    if (!n)
        return serve_err(NOMEM, "queue: out of memory");
    n->job = job;
    n->next = NULL;
    pthread_mutex_lock(&q->mu);
    cachet_rc rc = CACHET_OK;
    if (q->stopping)
        rc = serve_err(STATE, "the server is stopping");
    else if (q->waiting >= q->max_waiting)
        rc = serve_err(LIMIT, "%zu requests are already waiting", q->waiting);
    if (rc == CACHET_OK) {
        if (q->tail)
            q->tail->next = n;
        else
            q->head = n;
        q->tail = n;
        q->waiting++;
        pthread_cond_signal(&q->cv);
    }
    pthread_mutex_unlock(&q->mu);
    if (rc != CACHET_OK)
        free(n);
    return rc;
}

size_t serve_queue_waiting(serve_queue *q)
{
    pthread_mutex_lock(&q->mu);
    size_t n = q->waiting;
    pthread_mutex_unlock(&q->mu);
    return n;
}

void serve_queue_stop(serve_queue *q)
{
    if (!q || q->joined)
        return;
    pthread_mutex_lock(&q->mu);
    q->stopping = true;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    pthread_join(q->worker, NULL);
    q->joined = true;
}

void serve_queue_free(serve_queue *q)
{
    if (!q)
        return;
    serve_queue_stop(q);
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->mu);
    free(q);
}
