/* Admin authentication (protocols.md §1.10, the classic form): a JWT signed
 * with an Ed25519 key the broker pins, header {"alg":"EdDSA","typ":"JWT"},
 * claims iat/nbf/exp checked against the broker's clock.  A key in the
 * header (jwk, x5c, x5u, jku) or crit is refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/encoding.h"
#include "kbs/kbs_int.h"

#define ADMIN_MAX_JWT 4096
#define ADMIN_LEEWAY 60

static char *b64u_json(const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    char *b = s ? cachet_base64url_string((const uint8_t *)s, strlen(s)) : NULL;
    free(s);
    return b;
}

cachet_rc cachet_kbs_admin_token(const cachet_pkey *key, int64_t now, int64_t lifetime, char **jwt)
{
    if (!key || !jwt || lifetime <= 0 || lifetime > 7200)
        return kbs_err(INVALID_ARG, "admin token: bad argument (lifetime 1..7200 s)");
    *jwt = NULL;
    json_t *h = json_pack("{s:s,s:s}", "alg", "EdDSA", "typ", "JWT");
    json_t *c = json_pack("{s:I,s:I,s:I}", "iat", (json_int_t)now, "nbf", (json_int_t)now, "exp",
                          (json_int_t)(now + lifetime));
    char *hb = h ? b64u_json(h) : NULL, *cb = c ? b64u_json(c) : NULL;
    json_decref(h);
    json_decref(c);
    cachet_rc rc = CACHET_OK;
    if (!hb || !cb) {
        rc = kbs_err(NOMEM, "admin token: out of memory");
        goto done;
    }
    size_t n = strlen(hb) + strlen(cb) + 2;
    char *input = malloc(n);
    if (!input) {
        rc = kbs_err(NOMEM, "admin token: out of memory");
        goto done;
    }
    snprintf(input, n, "%s.%s", hb, cb);
    uint8_t sig[64];
    rc = cachet_ed25519_sign(key, input, strlen(input), sig);
    char *sb = rc == CACHET_OK ? cachet_base64url_string(sig, sizeof sig) : NULL;
    if (rc == CACHET_OK && sb) {
        size_t m = n + strlen(sb) + 1;
        *jwt = malloc(m);
        if (*jwt)
            snprintf(*jwt, m, "%s.%s", input, sb);
    }
    if (rc == CACHET_OK && !*jwt)
        rc = kbs_err(NOMEM, "admin token: out of memory");
    free(sb);
    free(input);
done:
    free(hb);
    free(cb);
    return rc;
}

static json_t *decode_part(const char *p, size_t n)
{
    uint8_t *b = NULL;
    size_t bl = 0;
    if (cachet_base64url_decode(p, n, &b, &bl) != CACHET_OK)
        return NULL;
    json_t *j = json_loadb((const char *)b, bl, JSON_REJECT_DUPLICATES, NULL);
    free(b);
    if (!json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static bool int_claim(const json_t *c, const char *name, int64_t *v)
{
    const json_t *x = json_object_get(c, name);
    if (!json_is_integer(x))
        return false;
    *v = (int64_t)json_integer_value(x);
    return true;
}

bool kbs_admin_verify(cachet_pkey *const *keys, size_t n_keys, const char *authz, int64_t now,
                      char *why, size_t cap)
{
    if (n_keys == 0) {
        snprintf(why, cap, "the admin API is disabled (no admin key configured)");
        return false;
    }
    if (!authz || strncmp(authz, "Bearer ", 7) != 0) {
        snprintf(why, cap, "admin request without a Bearer token");
        return false;
    }
    const char *jwt = authz + 7;
    size_t len = strlen(jwt);
    const char *d1 = memchr(jwt, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - jwt)) : NULL;
    if (len > ADMIN_MAX_JWT || !d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - jwt))) {
        snprintf(why, cap, "admin token is not a compact JWS");
        return false;
    }
    json_t *h = decode_part(jwt, (size_t)(d1 - jwt));
    json_t *c = decode_part(d1 + 1, (size_t)(d2 - d1 - 1));
    uint8_t *sig = NULL;
    size_t sl = 0;
    bool ok = false;
    const char *alg = json_string_value(json_object_get(h, "alg"));
    int64_t exp = 0, nbf = 0, iat = 0;
    if (!h || !c) {
        snprintf(why, cap, "admin token: header or claims are not JSON objects");
    } else if (!alg || strcmp(alg, "EdDSA") != 0) {
        snprintf(why, cap, "admin token: alg must be EdDSA");
    } else if (json_object_get(h, "jwk") || json_object_get(h, "x5c") ||
               json_object_get(h, "x5u") || json_object_get(h, "jku") ||
               json_object_get(h, "crit")) {
        snprintf(why, cap, "admin token: keys or crit in the header are refused");
    } else if (!int_claim(c, "exp", &exp) || exp <= now - ADMIN_LEEWAY) {
        snprintf(why, cap, "admin token: expired or without exp");
    } else if ((int_claim(c, "nbf", &nbf) && nbf > now + ADMIN_LEEWAY) ||
               (int_claim(c, "iat", &iat) && iat > now + ADMIN_LEEWAY)) {
        snprintf(why, cap, "admin token: not yet valid");
    } else if (cachet_base64url_decode(d2 + 1, len - (size_t)(d2 + 1 - jwt), &sig, &sl) !=
               CACHET_OK) {
        snprintf(why, cap, "admin token: signature is not base64url");
    } else {
        for (size_t i = 0; i < n_keys && !ok; i++)
            ok = cachet_ed25519_verify(keys[i], jwt, (size_t)(d2 - jwt), sig, sl) == CACHET_OK;
        if (!ok)
            snprintf(why, cap, "admin token: signature does not verify with an admin key");
    }
    free(sig);
    json_decref(h);
    json_decref(c);
    return ok;
}
