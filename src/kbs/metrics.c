/* Broker metrics: requests, verifications per evidence family, releases,
 * refusals, rate-limited requests, and latency histograms per endpoint. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kbs/metrics.h"

static const double bounds[KBS_METRICS_BUCKETS - 1] = {0.005, 0.01, 0.025, 0.05, 0.1,
                                                        0.25,  0.5,  1.0};
static const char *const op_names[KBS_OP__COUNT] = {"auth", "attest", "resource"};

void kbs_metrics_init(kbs_metrics *m)
{
    memset(m, 0, sizeof *m);
    pthread_mutex_init(&m->mu, NULL);
}

void kbs_metrics_fini(kbs_metrics *m)
{
    pthread_mutex_destroy(&m->mu);
}

void kbs_metrics_request(kbs_metrics *m, bool limited)
{
    pthread_mutex_lock(&m->mu);
    m->requests++;
    m->limited += limited;
    pthread_mutex_unlock(&m->mu);
}

void kbs_metrics_verification(kbs_metrics *m, const char *tee, bool admitted)
{
    pthread_mutex_lock(&m->mu);
    size_t i = 0;
    while (i < m->n_fam && strcmp(m->fam[i].name, tee) != 0)
        i++;
    if (i == m->n_fam && m->n_fam < KBS_METRICS_FAMILIES) {
        snprintf(m->fam[i].name, sizeof m->fam[i].name, "%s", tee);
        m->n_fam++;
    }
    if (i < m->n_fam) {
        if (admitted)
            m->fam[i].ok++;
        else
            m->fam[i].fail++;
    }
    pthread_mutex_unlock(&m->mu);
}

void kbs_metrics_release(kbs_metrics *m, bool released)
{
    pthread_mutex_lock(&m->mu);
    if (released)
        m->released++;
    else
        m->refused++;
    pthread_mutex_unlock(&m->mu);
}

void kbs_metrics_latency(kbs_metrics *m, kbs_metric_op op, double seconds)
{
    if ((unsigned)op >= KBS_OP__COUNT)
        return;
    size_t b = 0;
    while (b < KBS_METRICS_BUCKETS - 1 && seconds > bounds[b])
        b++;
    pthread_mutex_lock(&m->mu);
    m->buckets[op][b]++;
    m->sum[op] += seconds;
    m->count[op]++;
    pthread_mutex_unlock(&m->mu);
}

/* Append with bounds: returns false when out of room. */
static bool put(char *buf, size_t cap, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static bool put(char *buf, size_t cap, size_t *off, const char *fmt, ...)
{
    if (*off >= cap)
        return false;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *off, cap - *off, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap - *off)
        return false;
    *off += (size_t)n;
    return true;
}

char *kbs_metrics_render(kbs_metrics *m)
{
    size_t cap = 16384, off = 0;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    pthread_mutex_lock(&m->mu);
    bool ok = put(buf, cap, &off,
                  "# HELP cachet_kbs_requests_total HTTP requests received.\n"
                  "# TYPE cachet_kbs_requests_total counter\ncachet_kbs_requests_total %lu\n"
                  "# TYPE cachet_kbs_rate_limited_total counter\ncachet_kbs_rate_limited_total %lu\n"
                  "# HELP cachet_kbs_verifications_total Attestations by evidence family and result.\n"
                  "# TYPE cachet_kbs_verifications_total counter\n",
                  m->requests, m->limited);
    for (size_t i = 0; ok && i < m->n_fam; i++)
        ok = put(buf, cap, &off,
                 "cachet_kbs_verifications_total{tee=\"%s\",result=\"admitted\"} %lu\n"
                 "cachet_kbs_verifications_total{tee=\"%s\",result=\"refused\"} %lu\n",
                 m->fam[i].name, m->fam[i].ok, m->fam[i].name, m->fam[i].fail);
    ok = ok && put(buf, cap, &off,
                   "# TYPE cachet_kbs_resources_total counter\n"
                   "cachet_kbs_resources_total{result=\"released\"} %lu\n"
                   "cachet_kbs_resources_total{result=\"refused\"} %lu\n"
                   "# HELP cachet_kbs_request_seconds Handling time per endpoint.\n"
                   "# TYPE cachet_kbs_request_seconds histogram\n",
                   m->released, m->refused);
    for (int op = 0; ok && op < KBS_OP__COUNT; op++) {
        unsigned long cum = 0;
        for (size_t b = 0; ok && b < KBS_METRICS_BUCKETS; b++) {
            cum += m->buckets[op][b];
            if (b < KBS_METRICS_BUCKETS - 1)
                ok = put(buf, cap, &off,
                         "cachet_kbs_request_seconds_bucket{endpoint=\"%s\",le=\"%g\"} %lu\n",
                         op_names[op], bounds[b], cum);
            else
                ok = put(buf, cap, &off,
                         "cachet_kbs_request_seconds_bucket{endpoint=\"%s\",le=\"+Inf\"} %lu\n",
                         op_names[op], cum);
        }
        ok = ok && put(buf, cap, &off,
                       "cachet_kbs_request_seconds_sum{endpoint=\"%s\"} %.6f\n"
                       "cachet_kbs_request_seconds_count{endpoint=\"%s\"} %lu\n",
                       op_names[op], m->sum[op], op_names[op], m->count[op]);
    }
    pthread_mutex_unlock(&m->mu);
    if (!ok) {
        free(buf);
        return NULL;
    }
    return buf;
}
