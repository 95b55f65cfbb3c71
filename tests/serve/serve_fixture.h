/* Shared by the cachet serve tests: a real broker (tests/kbs/kbs_fixture.h),
 * a generated model sealed under the broker's model key, and HTTPS requests
 * through libcurl with certificate verification off (these tests check the
 * served certificate themselves; the attested client is cachet chat's). */
#ifndef CACHET_TEST_SERVE_FIXTURE_H
#define CACHET_TEST_SERVE_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "kbs_fixture.h"
#include "serve/serve.h"

typedef struct sv_resp {
    long status;
    char *body;
    size_t len;
    char ctype[128];
    char *cert_pem;   /* the server's certificate as served, when asked */
} sv_resp;

void sv_resp_clear(sv_resp *r);
/* One request to https://127.0.0.1:port/path; body NULL for GET. */
void sv_http(unsigned port, const char *method, const char *path, const char *body,
             const char *bearer, bool want_cert, sv_resp *out);
/* The body as JSON (asserts it parses). */
json_t *sv_json(const sv_resp *r);

/* Generate the tiny model (cached per directory) and seal it with the
 * fixture's model key under key id default/model-key/llama. */
char *sv_make_sealed(const char *dir, const char *name);

#endif
