/* The attested inference client (docs/serve.md §3): verify a `cachet serve`
 * endpoint — fresh evidence bound to our nonce and to the TLS key of the
 * very connection we hold, appraised by the owner's policy — then pin that
 * key and talk to the OpenAI-compatible API over it.
 *
 *   cachet_atls_opts o = {.policy = pol, .trust_keys = keys, .n_trust_keys = 1};
 *   cachet_atls *s;
 *   if (cachet_atls_connect("https://127.0.0.1:8443", &o, &s) == CACHET_OK) {
 *       cachet_chat_msg m[] = {{"user", "Hello"}};
 *       cachet_atls_chat(s, m, 1, &req, on_delta, arg, &answer);
 *       cachet_atls_free(s);
 *   }
 *
 * Nothing is sent to the server before verification has passed except the
 * attestation request (which carries only our nonce).
 */
#ifndef CACHET_CHAT_H
#define CACHET_CHAT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include "cachet/appraisal.h"
#include "cachet/evidence.h"
#include "cachet/rc.h"
#ifdef __cplusplus
extern "C" {
#endif

/* Largest attestation document or non-streamed response read. */
#define CACHET_ATLS_MAX_RESPONSE ((size_t)8 << 20)

typedef struct cachet_atls_opts {
    const cachet_policy *policy;              /* required: deny by default */
    const cachet_endorsements *endorsements;  /* may be NULL */
    cachet_x509 *const *trust_anchors;        /* may be NULL */
    size_t n_trust_anchors;
    cachet_pkey *const *trust_keys;           /* sample evidence signers; may be NULL */
    size_t n_trust_keys;
    long timeout;                             /* seconds per request; 0: 120 */
    const char *api_key;                      /* sent as Bearer once verified; may be NULL */
    /* Plain http:// to a loopback host, for tests of the refusal paths only:
     * without TLS there is no key to bind, so verification always fails
     * ("tls: no peer certificate"). */
    bool allow_http;
} cachet_atls_opts;

typedef struct cachet_atls cachet_atls;

/* What cachet_atls_connect found (filled whether it admitted or not). */
typedef struct cachet_atls_report {
    char tee[32];
    char status[24];                /* "affirming" | "warning" | "contraindicated" | "" */
    bool verified;
    bool key_bound;                 /* tee-pubkey = the peer's TLS key */
    bool nonce_matched;
    bool admitted;
    char rule[129];                 /* the admitting rule, "" when none */
    char model_id[256];             /* the server's name for it (not attested) */
    char model_digest[72];          /* "sha256:<hex>" of the verified user-data, "" when none */
    char tls_spki_sha256[65];       /* hex of SHA-256(DER SPKI) of the peer key */
    char why[512];                  /* first reason for refusal, "" when admitted */
    cachet_verify_result *result;   /* owned; may be NULL */
    cachet_appraisal *appraisal;    /* owned; may be NULL */
} cachet_atls_report;
void cachet_atls_report_free(cachet_atls_report *r);
/* One paragraph for people: tee, status, model, key, rule (or why not). */
void cachet_atls_report_print(const cachet_atls_report *r, FILE *out);

/* Connect, fetch fresh evidence with a random 32-byte nonce (base64url,
 * GET /cachet/v1/attestation?nonce=), verify, bind, appraise (docs/serve.md
 * §3).  CACHET_OK only when everything passed; then *out holds the pinned
 * session.  CACHET_E_POLICY when the server is refused, the detail (and
 * report->why) naming the check: "tls: ..." (not https, no peer
 * certificate), "document: ...", "binding: nonce ...", "binding: tee-pubkey
 * is not the TLS key", "binding: model digest ...", "evidence: <first error
 * of the verifier>", "policy: rule <name>: <condition>: <why>".
 * CACHET_E_IO for transport errors and an attestation endpoint that answered
 * an HTTP error ("tls: ...", "attestation: HTTP 503: ...").  Errors use the
 * CACHET_SUB_SERVE subsystem.  *out is set to NULL on failure; when report
 * is non-NULL it receives the verification report either way (caller frees
 * with cachet_atls_report_free). */
cachet_rc cachet_atls_connect(const char *url, const cachet_atls_opts *opts, cachet_atls **out,
                              cachet_atls_report *report);
void cachet_atls_free(cachet_atls *s);

/* A request on the pinned session: method, path ("/v1/models"), optional
 * JSON body.  *status, *resp (malloc'd, NUL-terminated, at most
 * CACHET_ATLS_MAX_RESPONSE bytes).  Every connection refuses any
 * certificate key but the verified one (CACHET_E_IO, "SSL public key does
 * not match pinned public key"); redirects are never followed. */
cachet_rc cachet_atls_request(cachet_atls *s, const char *method, const char *path,
                              const char *body, size_t body_len, long *status, char **resp,
                              size_t *resp_len);

typedef struct cachet_chat_request {
    const char *model;        /* NULL: the attested model id */
    int max_tokens;           /* 0: server default */
    double temperature;       /* < 0: server default */
    double top_p;             /* <= 0: server default */
    int64_t seed;             /* < 0: none */
    bool stream;
} cachet_chat_request;

/* Called with each piece of the answer as it arrives (streaming), or once
 * with the whole answer.  Return false to stop. */
typedef bool (*cachet_chat_delta_fn)(void *arg, const char *text, size_t len);

typedef struct cachet_chat_message {
    const char *role;
    const char *content;
} cachet_chat_message;

/* POST /v1/chat/completions over the pinned session.  *answer (malloc'd;
 * answer may be NULL): the whole assistant message (NULL on failure);
 * *finish: "stop" / "length" / "tool_calls" / "content_filter" (static
 * text) or "".  With req->stream, server-sent events are read line by line
 * (lines at most 1 MiB, the answer at most CACHET_ATLS_MAX_RESPONSE) until
 * `data: [DONE]`; on_delta returning false ends the stream early (CACHET_OK
 * with what arrived).  CACHET_E_FORMAT for a malformed reply, a stream
 * without [DONE], or an error event (the server's message in the detail);
 * CACHET_E_IO for transport errors and HTTP errors (the server's
 * error.message in the detail); CACHET_E_LIMIT for an oversized answer. */
cachet_rc cachet_atls_chat(cachet_atls *s, const cachet_chat_message *msgs, size_t n,
                           const cachet_chat_request *req, cachet_chat_delta_fn on_delta,
                           void *arg, char **answer, const char **finish);

#ifdef __cplusplus
}
#endif
#endif
