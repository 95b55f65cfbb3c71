/* The token issuer's signing key: from a file (generated when asked and
 * absent), or fresh in memory; its public half as a JWKS. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cachet/encoding.h"
#include "cachet/fileio.h"
#include "cachet/runtime_data.h"
#include "token/token_int.h"

#define KEY_FILE_MAX ((size_t)64 << 10)

cachet_rc tk_public_jwk(const cachet_pkey *key, json_t **jwk, char kid[TK_KID_LEN])
{
    *jwk = NULL;
    if (!cachet_pkey_is_ec(key, CACHET_CURVE_P256))
        return cachet_err(TK_RC(UNSUPPORTED), "token: the key must be EC P-256 (ES256)");
    json_t *j = NULL;
    cachet_rc rc = cachet_jwk_from_pkey(key, "ES256", &j);
    if (rc != CACHET_OK)
        return rc;
    uint8_t tp[CACHET_SHA256_LEN];
    char k[TK_KID_LEN];
    if ((rc = cachet_jwk_thumbprint(j, tp)) != CACHET_OK) {
        json_decref(j);
        return rc;
    }
    cachet_base64url_encode(tp, sizeof tp, k);
    if (json_object_set_new(j, "use", json_string("sig")) ||
        json_object_set_new(j, "kid", json_string(k))) {
        json_decref(j);
        return cachet_err(TK_RC(NOMEM), "token: out of memory");
    }
    if (kid)
        memcpy(kid, k, TK_KID_LEN);
    *jwk = j;
    return CACHET_OK;
}

static cachet_rc issuer_wrap(cachet_pkey *key, cachet_token_issuer **out)
{
    json_t *jwk = NULL;
    cachet_token_issuer *iss = calloc(1, sizeof *iss);
    cachet_rc rc = iss ? tk_public_jwk(key, &jwk, iss->kid)
                       : cachet_err(TK_RC(NOMEM), "token: out of memory");
    json_decref(jwk);
    if (rc != CACHET_OK) {
        free(iss);
        cachet_pkey_free(key);
        return rc;
    }
    iss->key = key;
    *out = iss;
    return CACHET_OK;
}

cachet_rc cachet_token_issuer_generate(cachet_token_issuer **out)
{
    if (!out)
        return cachet_err(TK_RC(INVALID_ARG), "token: NULL output");
    *out = NULL;
    cachet_pkey *key = NULL;
    cachet_rc rc = cachet_pkey_generate_ec(CACHET_CURVE_P256, &key);
    return rc == CACHET_OK ? issuer_wrap(key, out) : rc;
}

cachet_rc cachet_token_issuer_from_pem(const uint8_t *buf, size_t len, cachet_token_issuer **out)
{
    if (!out || !buf)
        return cachet_err(TK_RC(INVALID_ARG), "token: NULL argument");
    *out = NULL;
    cachet_pkey *key = NULL;
    cachet_rc rc = cachet_pkey_parse_private(buf, len, &key);
    if (rc != CACHET_OK)
        return rc;
    return issuer_wrap(key, out);
}

cachet_rc cachet_token_issuer_load(const char *path, bool create, cachet_token_issuer **out,
                                   bool *created)
{
    if (created)
        *created = false;
    if (!path || !out)
        return cachet_err(TK_RC(INVALID_ARG), "token: NULL argument");
    *out = NULL;
    struct stat st;
    if (create && stat(path, &st) != 0 && errno == ENOENT) {
        cachet_token_issuer *iss = NULL;
        char *pem = NULL;
        cachet_rc rc = cachet_token_issuer_generate(&iss);
        if (rc == CACHET_OK)
            rc = cachet_pkey_private_pem(iss->key, &pem);
        if (rc == CACHET_OK)
            rc = cachet_file_write_atomic(path, pem, strlen(pem), 0600);
        if (pem) {
            memset(pem, 0, strlen(pem));
            free(pem);
        }
        if (rc != CACHET_OK) {
            cachet_token_issuer_free(iss);
            return rc;
        }
        if (created)
            *created = true;
        *out = iss;
        return CACHET_OK;
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    cachet_rc rc = cachet_file_read(path, KEY_FILE_MAX, &buf, &len);
    if (rc != CACHET_OK)
        return rc;
    rc = cachet_token_issuer_from_pem(buf, len, out);
    memset(buf, 0, len);
    free(buf);
    return rc;
}

void cachet_token_issuer_free(cachet_token_issuer *iss)
{
    if (!iss)
        return;
    cachet_pkey_free(iss->key);
    free(iss);
}

const char *cachet_token_issuer_kid(const cachet_token_issuer *iss)
{
    return iss ? iss->kid : NULL;
}

cachet_rc cachet_token_issuer_jwks(const cachet_token_issuer *iss, char **json)
{
    if (!iss || !json)
        return cachet_err(TK_RC(INVALID_ARG), "token: NULL argument");
    *json = NULL;
    json_t *jwk = NULL;
    cachet_rc rc = tk_public_jwk(iss->key, &jwk, NULL);
    if (rc != CACHET_OK)
        return rc;
    json_t *doc = json_pack("{s:[o]}", "keys", jwk);
    *json = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(doc);
    return *json ? CACHET_OK : cachet_err(TK_RC(NOMEM), "token: out of memory");
}
