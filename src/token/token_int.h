/* Internal to src/token: the key structs shared by issuing and verifying. */
#ifndef CACHET_TOKEN_INT_H
#define CACHET_TOKEN_INT_H

#include "cachet/crypto.h"
#include "cachet/token.h"

#define TK_RC(code) CACHET_RC(CACHET_SUB_TOKEN, CACHET_E_##code)

#define TK_KID_LEN 44 /* base64url of 32 bytes is 43 characters */
#define TK_MAX_KEYS 64

struct cachet_token_issuer {
    cachet_pkey *key;
    char kid[TK_KID_LEN];
};

typedef struct tk_key {
    cachet_pkey *key;
    char kid[TK_KID_LEN];
} tk_key;

struct cachet_token_keys {
    tk_key v[TK_MAX_KEYS];
    size_t n;
};

/* The public JWK of an EC P-256 key with alg ES256, use sig and its kid;
 * kid (may be NULL) receives the kid too. */
cachet_rc tk_public_jwk(const cachet_pkey *key, json_t **jwk, char kid[TK_KID_LEN]);
/* Append a key (taken) to a key set. */
cachet_rc tk_keys_add(cachet_token_keys *k, cachet_pkey *key);

#endif
