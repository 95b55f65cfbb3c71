/* A small pool of pthreads that share one chunk counter.  Workers claim chunk
 * indices in increasing order, so reads stay roughly sequential; the caller's
 * thread is worker 0 and is the only one that reports progress. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seal/seal_int.h"

typedef struct pool_state {
    const seal_pool_job *job;
    atomic_uint_fast64_t next;   /* next unclaimed chunk */
    atomic_uint_fast64_t done;   /* chunks finished */
    atomic_bool stop;            /* a worker failed: claim nothing more */
    pthread_mutex_t lock;        /* guards the failure record */
    uint64_t fail_index;
    cachet_rc fail_rc;
    char fail_detail[480];
} pool_state;

typedef struct pool_worker {
    pool_state *st;
    unsigned id;
} pool_worker;

unsigned seal_pool_threads(unsigned requested, uint64_t chunk_count)
{
    unsigned t = requested ? requested : 1;
    if (t > CACHET_SEAL_MAX_THREADS)
        t = CACHET_SEAL_MAX_THREADS;
    if ((uint64_t)t > chunk_count)
        t = (unsigned)chunk_count;
    return t ? t : 1;
}

static void record_failure(pool_state *st, uint64_t index, cachet_rc rc)
{
    pthread_mutex_lock(&st->lock);
    if (st->fail_rc == CACHET_OK || index < st->fail_index) {
        st->fail_index = index;
        st->fail_rc = rc;
        snprintf(st->fail_detail, sizeof st->fail_detail, "%s", cachet_err_detail());
    }
    pthread_mutex_unlock(&st->lock);
    atomic_store(&st->stop, true);
}

static void report_progress(pool_state *st)
{
    const seal_pool_job *job = st->job;
    uint64_t bytes = (uint64_t)atomic_load(&st->done) * job->chunk_size;
    if (bytes > job->total_bytes)
        bytes = job->total_bytes;
    job->progress(job->progress_arg, bytes, job->total_bytes);
}

static void work(pool_state *st, unsigned id)
{
    const seal_pool_job *job = st->job;
    while (!atomic_load_explicit(&st->stop, memory_order_relaxed)) {
        uint64_t i = atomic_fetch_add(&st->next, 1);
        if (i >= job->chunk_count)
            break;
        cachet_rc rc = job->fn(job->ctx, id, i);
        if (rc != CACHET_OK) {
            record_failure(st, i, rc);
            break;
        }
        atomic_fetch_add(&st->done, 1);
        if (id == 0 && job->progress)
            report_progress(st);
    }
}

static void *worker_main(void *arg)
{
    pool_worker *w = arg;
    work(w->st, w->id);
    return NULL;
}

cachet_rc seal_pool_run(const seal_pool_job *job)
{
    pool_state st = {.job = job};
    atomic_init(&st.next, 0);
    atomic_init(&st.done, 0);
    atomic_init(&st.stop, false);
    pthread_mutex_init(&st.lock, NULL);

    unsigned extra = job->threads > 1 ? job->threads - 1 : 0;
    pthread_t *tids = NULL;
    pool_worker *workers = NULL;
    unsigned started = 0;
    if (extra) {
        tids = calloc(extra, sizeof *tids);
        workers = calloc(extra, sizeof *workers);
        if (!tids || !workers) {
            free(tids);
            free(workers);
            pthread_mutex_destroy(&st.lock);
            return seal_err(NOMEM, "no memory for %u worker threads", extra);
        }
        for (; started < extra; started++) {
            workers[started] = (pool_worker){&st, started + 1};
            if (pthread_create(&tids[started], NULL, worker_main, &workers[started]) != 0)
                break; /* run with the workers we got; worker 0 finishes the rest */
        }
    }
    work(&st, 0);
    for (unsigned i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    free(tids);
    free(workers);
    pthread_mutex_destroy(&st.lock);

    if (st.fail_rc != CACHET_OK)
        return cachet_err(st.fail_rc, "%s", st.fail_detail);
    if (job->progress)
        job->progress(job->progress_arg, job->total_bytes, job->total_bytes);
    return CACHET_OK;
}
