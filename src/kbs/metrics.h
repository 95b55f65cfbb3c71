/* Prometheus metrics of the broker (text exposition format 0.0.4). */
#ifndef CACHET_KBS_METRICS_H
#define CACHET_KBS_METRICS_H

#include <pthread.h>
#include <stddef.h>

#define KBS_METRICS_FAMILIES 16
#define KBS_METRICS_BUCKETS 9

typedef enum kbs_metric_op { KBS_OP_AUTH, KBS_OP_ATTEST, KBS_OP_RESOURCE, KBS_OP__COUNT } kbs_metric_op;

typedef struct kbs_metrics {
    pthread_mutex_t mu;
    struct {
        char name[24];
        unsigned long ok, fail;
    } fam[KBS_METRICS_FAMILIES];
    size_t n_fam;
    unsigned long requests, released, refused, limited;
    unsigned long buckets[KBS_OP__COUNT][KBS_METRICS_BUCKETS]; /* cumulative at render */
    double sum[KBS_OP__COUNT];
    unsigned long count[KBS_OP__COUNT];
} kbs_metrics;

void kbs_metrics_init(kbs_metrics *m);
void kbs_metrics_fini(kbs_metrics *m);
void kbs_metrics_request(kbs_metrics *m, bool limited);
void kbs_metrics_verification(kbs_metrics *m, const char *tee, bool admitted);
void kbs_metrics_release(kbs_metrics *m, bool released);
void kbs_metrics_latency(kbs_metrics *m, kbs_metric_op op, double seconds);
/* The exposition text (malloc'd). */
char *kbs_metrics_render(kbs_metrics *m);

#endif
