/* Internal to src/client. */
#ifndef CACHET_CLIENT_INT_H
#define CACHET_CLIENT_INT_H

#include <stdbool.h>

#include <curl/curl.h>

#include "cachet/crypto.h"
#include "cachet/kbs_client.h"

#define CL_RC(code) CACHET_RC(CACHET_SUB_KBS, CACHET_E_##code)
#define cl_err(code, ...) cachet_err(CL_RC(code), __VA_ARGS__)

/* curl_global_init, once per process (http.c). */
void cl_curl_global_init(void);
/* http:// to 127.x, localhost or [::1]: the only plain HTTP the clients use. */
bool cl_loopback_http(const char *url);

struct cachet_kbs_client {
    CURL *curl;
    char *base;
    char session[64];
    char *token;
    cachet_pkey *key;  /* the ephemeral tee key */
    long timeout;
    char *ca_file;
    uint8_t user_data[64]; /* bound as runtime data "user-data" (docs/serve.md §1) */
    size_t user_data_len;
};

#endif
