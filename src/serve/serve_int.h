/* Internal to src/serve: the modules of `cachet serve` and what they share.
 *
 *   tlscert.c    the TLS key and its self-issued certificate (docs/serve.md §4)
 *   attest_ep.c  the /cachet/v1/attestation document (§2)
 *   openai.c     OpenAI request parsing, response JSON, SSE chunks (§5)
 *   queue.c      the bounded request queue and its worker thread
 *   job.c        one generation request: producer/consumer buffer, worker side
 *   startup.c    the fail-closed start-up (§1): key release, unseal, load
 *   serve.c      lifecycle and HTTP routing (libmicrohttpd) */
#ifndef CACHET_SERVE_INT_H
#define CACHET_SERVE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cachet/crypto.h"
#include "cachet/seal.h"
#include "engine/engine.h"
#include "serve/serve.h"

#define SERVE_RC(code) CACHET_RC(CACHET_SUB_SERVE, CACHET_E_##code)
#define serve_err(code, ...) cachet_err(SERVE_RC(code), __VA_ARGS__)

#define SERVE_DEFAULT_MAX_BODY ((size_t)1 << 20)
#define SERVE_DEFAULT_QUEUE 8
#define SERVE_PROFILE "tag:cachet.dev,2026:atls/1"
#define SERVE_EVIDENCE_OID "2.23.133.5.4.9"
#define SERVE_CMW_TAG 60000
#define SERVE_CERT_DAYS 7

double serve_mono_now(void);
/* "step: <the current detail>" as a serve error keeping rc's error class
 * (copies the detail first: cachet_err must not format its own buffer). */
cachet_rc serve_step_err(cachet_rc rc, const char *step);

/* ---- tlscert.c ------------------------------------------------------------- */

typedef struct serve_tls {
    cachet_pkey *key;      /* P-256, generated in the process */
    char *cert_pem;
    char *key_pem;         /* PEM of the private key, for the TLS library; wiped on clear */
    uint8_t spki_sha256[CACHET_SHA256_LEN];
    char spki_hex[2 * CACHET_SHA256_LEN + 1];
} serve_tls;

/* claims = CBOR {"pubkey-hash": bstr(CBOR [1, bstr spki_sha256])} (malloc'd). */
cachet_rc serve_cert_claims(const uint8_t spki_sha256[CACHET_SHA256_LEN], uint8_t **out,
                            size_t *len);
/* The extension value: CBOR tag 60000 over [bstr evidence, bstr claims]. */
cachet_rc serve_cert_ext_value(const uint8_t *evidence, size_t ev_len, const uint8_t *claims,
                               size_t claims_len, uint8_t **out, size_t *len);
/* Key, evidence with report data SHA-256(claims) || 0^32, certificate. */
cachet_rc serve_tls_make(cachet_attester *a, int64_t now, serve_tls *out);
void serve_tls_clear(serve_tls *t);

/* ---- attest_ep.c ----------------------------------------------------------- */

typedef struct serve_attest_ctx {
    cachet_attester *attester;
    pthread_mutex_t *lock;              /* serialises the attester */
    const cachet_pkey *tls_key;
    const uint8_t *model_digest;        /* 32 bytes */
    const char *model_digest_str;       /* "sha256:<hex>" */
    const char *model_id;
} serve_attest_ctx;

/* nonce: the client's text (NULL when absent).  Returns the HTTP status;
 * *body: the document or an OpenAI error (malloc'd). */
unsigned serve_attest_answer(const serve_attest_ctx *c, const char *nonce, char **body);
/* The nonce from a POST body {"nonce":"..."} (malloc'd; NULL when absent). */
char *serve_attest_nonce_from_body(const char *body, size_t len);

/* ---- openai.c -------------------------------------------------------------- */

typedef enum oai_kind { OAI_CHAT, OAI_COMPLETION } oai_kind;

typedef struct oai_request {
    oai_kind kind;
    json_t *root;                /* the parsed body; strings below point into it */
    char *prompt;                /* completions: the prompt (malloc'd); chat: set later */
    cachet_chat_msg *msgs;       /* chat */
    char **contents;             /* chat: malloc'd message texts */
    size_t n_msgs;
    bool stream;
    bool include_usage;
    cachet_gen_params gen;
} oai_request;

/* Parse and validate a request body.  Returns 0 on success; otherwise the
 * HTTP status, with *err an OpenAI error body (malloc'd). */
unsigned oai_parse(oai_kind kind, const char *body, size_t len, const char *model_id,
                   int max_tokens_default, oai_request *out, char **err);
void oai_request_clear(oai_request *r);

/* {"error":{"message","type","param","code"}} (malloc'd). */
char *oai_error_json(const char *type, const char *message, const char *param, const char *code);

typedef struct oai_meta {
    oai_kind kind;
    const char *id;
    int64_t created;
    const char *model;
} oai_meta;

const char *oai_finish_str(cachet_finish f);
char *oai_response_json(const oai_meta *m, const char *text, size_t len,
                        const cachet_gen_stats *st);
/* One SSE event "data: {...}\n\n" (malloc'd; *len its length): role (chat,
 * first chunk), content delta, finish reason (finish non-NULL), usage. */
char *oai_sse_delta(const oai_meta *m, bool role, const char *text, size_t len,
                    const char *finish, size_t *outlen);
char *oai_sse_usage(const oai_meta *m, const cachet_gen_stats *st, size_t *outlen);
char *oai_sse_error(const char *type, const char *message, size_t *outlen);
#define OAI_SSE_DONE "data: [DONE]\n\n"

char *oai_models_json(const char *model_id, int64_t created, bool single);

/* ---- queue.c --------------------------------------------------------------- */

/* Runs one job on the worker thread; cancelled: the queue is stopping and
 * the job never ran (finish it as cancelled). */
typedef void (*serve_queue_fn)(void *job, bool cancelled, void *arg);
typedef struct serve_queue serve_queue;

cachet_rc serve_queue_new(int max_waiting, serve_queue_fn fn, void *arg, serve_queue **out);
/* CACHET_E_LIMIT: max_waiting jobs already wait; CACHET_E_STATE: stopping. */
cachet_rc serve_queue_push(serve_queue *q, void *job);
size_t serve_queue_waiting(serve_queue *q);
/* Refuse new jobs, hand the waiting ones to fn as cancelled, let the
 * running one finish, join the worker.  Pushes keep being refused until
 * serve_queue_free (which stops first if needed). */
void serve_queue_stop(serve_queue *q);
void serve_queue_free(serve_queue *q);

/* ---- job.c ----------------------------------------------------------------- */

typedef enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_DONE } job_state;

typedef struct serve_job {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs;
    oai_request req;
    oai_meta meta;
    char id[48];
    char *model;
    cachet_engine *engine;
    const atomic_bool *stopping;  /* the server's flag: cancel at once */
    unsigned hold_ms;            /* tests: wait this long before generating */
    job_state state;
    bool role_sent;
    bool emitted;                /* a stream event with content went out (or is queued) */
    bool cancelled;              /* the client went away, or shutdown */
    bool started;                /* the first piece (or the end) is there */
    /* output: SSE bytes (stream) or the completion text */
    char *buf;
    size_t len, cap, off;        /* off: consumed (stream) */
    cachet_rc rc;
    char why[256];               /* rc's detail */
    cachet_gen_stats stats;
    double t_queued, t_start, t_end;
} serve_job;

/* Takes over *req (cleared). */
serve_job *serve_job_new(oai_request *req, const char *model_id, cachet_engine *e,
                         const atomic_bool *stopping, unsigned hold_ms);
void serve_job_ref(serve_job *j);
void serve_job_unref(serve_job *j);
void serve_job_cancel(serve_job *j);
/* The queue's worker function. */
void serve_job_run(void *job, bool cancelled, void *arg);
/* Block until the job produced its first output or finished. */
void serve_job_wait_started(serve_job *j);
void serve_job_wait_done(serve_job *j);
/* Stream consumer: copy up to max pending bytes, blocking until some are
 * there; 0 when the job is over and everything was read; -1 on cancel. */
long serve_job_read(serve_job *j, char *out, size_t max);

/* ---- startup.c ------------------------------------------------------------- */

typedef struct serve_model {
    uint8_t digest[CACHET_SEAL_DIGEST_LEN];
    char digest_str[CACHET_SEAL_DIGEST_STR_LEN];
    char *id;
    cachet_engine *engine;
} serve_model;

/* The content digest of a sealed file from its public parts (header and
 * chunk tags, docs/sealed-format.md §5), before any key is known. */
cachet_rc serve_sealed_digest(const char *path, uint8_t out[CACHET_SEAL_DIGEST_LEN]);
/* docs/serve.md §1 steps 1, 3, 4: key release bound to the digest d the
 * caller measured, unseal into a sealed memfd, load.  The file read must
 * still claim d (else it changed since it was measured: refused).  The
 * detail names the failing step. */
cachet_rc serve_startup(const cachet_serve_opts *o, const uint8_t d[CACHET_SEAL_DIGEST_LEN],
                        serve_model *m, cachet_serve_timings *t);
/* TPM attesters only (nothing to do otherwise): extend the sealed model's
 * content digest d into opts->tpm_model_pcr with an event-log entry, before
 * any evidence is collected (docs/serve.md §1 step 1b). */
cachet_rc serve_measure_model(const cachet_serve_opts *o, const uint8_t d[CACHET_SEAL_DIGEST_LEN]);
void serve_model_clear(serve_model *m);

#endif
