/* The key broker client (docs/kbs.md §7): run the KBS attestation protocol
 * 0.4.0 from inside the workload — auth, evidence bound to the challenge
 * and a fresh ephemeral key, attest, resource — and unwrap the JWE into
 * secure memory.
 *
 *   uint8_t *key; size_t len;
 *   if (cachet_kbs_fetch(url, attester, "default/model-key/llama", NULL, &key, &len) == CACHET_OK) {
 *       ...; cachet_secure_free(key);
 *   }
 */
#ifndef CACHET_KBS_CLIENT_H
#define CACHET_KBS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "cachet/attester.h"
#include "cachet/rc.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CACHET_KBS_CLIENT_MAX_RESPONSE ((size_t)4 << 20)

typedef struct cachet_kbs_client_opts {
    const char *ca_file;   /* HTTPS: trust this CA bundle; NULL: the system store */
    long timeout;          /* seconds per request; 0: 30 */
} cachet_kbs_client_opts;

typedef struct cachet_kbs_client cachet_kbs_client;

/* url: the broker's base ("http://127.0.0.1:8080"); plain http only to a
 * loopback host. */
cachet_rc cachet_kbs_client_new(const char *url, const cachet_kbs_client_opts *opts,
                                cachet_kbs_client **out);
void cachet_kbs_client_free(cachet_kbs_client *c);

/* One request to base+path (e.g. "/kbs/v0/auth") with an optional JSON body
 * and Bearer token; the session cookie (kbs-session-id) is sent when known
 * and updated from Set-Cookie.  *status: the HTTP status; *resp: the body
 * (malloc'd, NUL-terminated; may be NULL).  CACHET_E_IO on transport errors. */
cachet_rc cachet_kbs_client_request(cachet_kbs_client *c, const char *method, const char *path,
                                    const char *body, size_t body_len, const char *bearer,
                                    long *status, char **resp, size_t *resp_len);
/* The session cookie value ("" when none); set: replace it (tests). */
const char *cachet_kbs_client_session(const cachet_kbs_client *c);
void cachet_kbs_client_set_session(cachet_kbs_client *c, const char *id);
/* Bind up to 64 bytes of caller data into the evidence of the next attest
 * (runtime data "user-data"; cachet serve binds its model's content digest,
 * so a broker policy can pin the model).  CACHET_E_LIMIT beyond 64 bytes. */
cachet_rc cachet_kbs_client_set_user_data(cachet_kbs_client *c, const uint8_t *data, size_t len);

/* POST /auth with tee; *nonce: the challenge nonce (malloc'd). */
cachet_rc cachet_kbs_client_auth(cachet_kbs_client *c, const char *tee, char **nonce);
/* auth, then evidence from the attester bound to the challenge and the
 * client's ephemeral P-256 key, then POST /attest; keeps the token. */
cachet_rc cachet_kbs_client_attest(cachet_kbs_client *c, cachet_attester *a);
/* The EAR token from the last successful attest (NULL before). */
const char *cachet_kbs_client_token(const cachet_kbs_client *c);
/* GET /resource/<path> with the session, decrypt with the ephemeral key.
 * *secret is secure memory (cachet_secure_free).  CACHET_E_POLICY for 401,
 * CACHET_E_NOT_FOUND for 404; the detail carries the broker's error body. */
cachet_rc cachet_kbs_client_get_resource(cachet_kbs_client *c, const char *path,
                                         uint8_t **secret, size_t *len);

/* The whole flow in one call. */
cachet_rc cachet_kbs_fetch(const char *url, cachet_attester *a, const char *path,
                           const cachet_kbs_client_opts *opts, uint8_t **secret, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
