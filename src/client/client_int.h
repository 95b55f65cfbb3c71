/* Internal to src/client. */
#ifndef CACHET_CLIENT_INT_H
#define CACHET_CLIENT_INT_H

#include <curl/curl.h>

#include "cachet/crypto.h"
#include "cachet/kbs_client.h"

#define CL_RC(code) CACHET_RC(CACHET_SUB_KBS, CACHET_E_##code)
#define cl_err(code, ...) cachet_err(CL_RC(code), __VA_ARGS__)

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
