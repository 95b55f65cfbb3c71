/* `cachet serve` (docs/serve.md): attest, receive the model key from the
 * key broker, unseal the model into a sealed memfd, load it, and serve the
 * OpenAI-compatible API over TLS with a key bound into fresh evidence.
 *
 *   cachet_serve *s;
 *   if (cachet_serve_start(&opts, &s) != CACHET_OK) { log why; exit(1); }
 *   ... cachet_serve_port(s) ...
 *   cachet_serve_stop(s);
 */
#ifndef CACHET_SERVE_H
#define CACHET_SERVE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cachet/attester.h"
#include "cachet/kbs_client.h"
#include "cachet/rc.h"

typedef struct cachet_serve_opts {
    const char *listen;            /* "127.0.0.1:8443"; port 0: any free port */
    const char *model_path;        /* the sealed model (cachet seal) */
    const char *model_id;          /* NULL: the file's base name without ".sealed" */
    const char *kbs_url;           /* the key broker */
    cachet_kbs_client_opts kbs;    /* CA file, timeout */
    const char *kbs_resource;      /* NULL: the sealed header's key id */
    cachet_attester *attester;     /* borrowed; evidence for the broker and clients */
    /* With a TPM attester: the PCR the model's content digest is extended
     * into (TPM2_PCR_Event of "cachet-model sha256:<hex D>", with an event-log
     * entry) before any evidence is made, so every quote covers which model
     * is loaded.  0: CACHET_SERVE_TPM_PCR (15); 1..23 otherwise. */
    int tpm_model_pcr;
    /* TPM: where the event log lives between starts; rewritten (0600) after
     * the model is measured, so that the next start on the same TPM boot
     * continues it.  NULL: not kept. */
    const char *tpm_event_log;
    int threads;                   /* 0: online CPUs */
    int n_ctx;                     /* 0: engine default */
    int queue_max;                 /* waiting requests; 0: 8 */
    size_t max_body;               /* 0: 1 MiB */
    int max_tokens_default;        /* 0: 256 (chat), 16 (completions) */
    const char *api_key;           /* when set, /v1 requests need Bearer api_key */
    unsigned test_hold_ms;         /* tests only: the worker waits this long before each
                                      generation, so that requests overlap; 0 in production */
} cachet_serve_opts;

/* Defaults and limits. */
#define CACHET_SERVE_TPM_PCR 15
#define CACHET_SERVE_MAX_BODY ((size_t)1 << 20)
#define CACHET_SERVE_QUEUE 8

/* Start-up timings (seconds), for logs and the benchmark. */
typedef struct cachet_serve_timings {
    double attest_release;         /* evidence + key-broker protocol */
    double unseal;                 /* decrypt into the memfd */
    double load;                   /* llama.cpp model load */
} cachet_serve_timings;

typedef struct cachet_serve cachet_serve;

/* Everything of docs/serve.md §1, then start the HTTPS server.  Any failure:
 * nothing is served, *out is NULL, and the detail says which step failed
 * ("attestation: ...", "key release: ...", "unseal: ...", "model: ..."). */
cachet_rc cachet_serve_start(const cachet_serve_opts *opts, cachet_serve **out);
uint16_t cachet_serve_port(const cachet_serve *s);
const cachet_serve_timings *cachet_serve_timings_get(const cachet_serve *s);
/* hex SHA-256 of the TLS key's DER SubjectPublicKeyInfo. */
const char *cachet_serve_tls_spki_sha256(const cachet_serve *s);
/* The model id served (/v1/models). */
const char *cachet_serve_model_id(const cachet_serve *s);
/* "sha256:<hex>": the sealed model's content digest bound into evidence. */
const char *cachet_serve_model_digest(const cachet_serve *s);
/* Stop accepting, finish or cancel running requests, free the model and
 * wipe the keys. */
void cachet_serve_stop(cachet_serve *s);

#endif
