/* Compact JWS with ES256 (RFC 7515 §7.1, RFC 7518 §3.4): signing, and
 * verification against pinned keys only.
 *
 * Verification never takes a key from the token: a protected header that
 * carries jwk, x5c, x5u, jku (or x5t, whose certificate would have to come
 * from somewhere) is refused before anything else, so that a forger cannot
 * make us verify against a key of their choosing (CVE-2018-0114 and its
 * kin).  alg must be exactly "ES256": "none", HS256 (key confusion with the
 * public key as an HMAC secret) and anything else are refused. */
#include <stdlib.h>
#include <string.h>

#include "cachet/encoding.h"
#include "cachet/runtime_data.h"
#include "token/token_int.h"

#define ES256_SIG_LEN 64
#define MAX_LEEWAY 300

static char *b64url_json(const json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT);
    char *out = text ? cachet_base64url_string((const uint8_t *)text, strlen(text)) : NULL;
    free(text);
    return out;
}

cachet_rc cachet_token_sign(const cachet_token_issuer *iss, const json_t *claims, char **jwt)
{
    if (!iss || !json_is_object(claims) || !jwt)
        return cachet_err(TK_RC(INVALID_ARG), "token: NULL argument or claims not an object");
    *jwt = NULL;
    json_t *hdr = json_pack("{s:s,s:s,s:s}", "alg", "ES256", "typ", "JWT", "kid", iss->kid);
    char *h = hdr ? b64url_json(hdr) : NULL, *p = b64url_json(claims);
    json_decref(hdr);
    char *out = NULL;
    cachet_rc rc = CACHET_OK;
    size_t hl = h ? strlen(h) : 0, pl = p ? strlen(p) : 0;
    size_t sig_b64 = cachet_base64_encoded_len(ES256_SIG_LEN);
    if (!h || !p || !(out = malloc(hl + 1 + pl + 1 + sig_b64 + 1))) {
        rc = cachet_err(TK_RC(NOMEM), "token: out of memory");
        goto done;
    }
    memcpy(out, h, hl);
    out[hl] = '.';
    memcpy(out + hl + 1, p, pl);
    out[hl + 1 + pl] = '\0';
    uint8_t sig[ES256_SIG_LEN];
    rc = cachet_ecdsa_sign_raw(iss->key, CACHET_HASH_SHA256, out, hl + 1 + pl, sig, 32,
                               CACHET_BIG_ENDIAN);
    if (rc != CACHET_OK)
        goto done;
    out[hl + 1 + pl] = '.';
    cachet_base64url_encode(sig, sizeof sig, out + hl + 1 + pl + 1);
    *jwt = out;
    out = NULL;
done:
    free(out);
    free(h);
    free(p);
    return rc;
}

/* ---- pinned keys ------------------------------------------------------------ */

cachet_rc tk_keys_add(cachet_token_keys *k, cachet_pkey *key)
{
    if (k->n >= TK_MAX_KEYS) {
        cachet_pkey_free(key);
        return cachet_err(TK_RC(LIMIT), "token: more than %d keys", TK_MAX_KEYS);
    }
    json_t *jwk = NULL;
    cachet_rc rc = tk_public_jwk(key, &jwk, k->v[k->n].kid);
    json_decref(jwk);
    if (rc != CACHET_OK) {
        cachet_pkey_free(key);
        return rc;
    }
    k->v[k->n++].key = key;
    return CACHET_OK;
}

void cachet_token_keys_free(cachet_token_keys *k)
{
    if (!k)
        return;
    for (size_t i = 0; i < k->n; i++)
        cachet_pkey_free(k->v[i].key);
    free(k);
}

cachet_rc cachet_token_keys_from_pem(const uint8_t *buf, size_t len, cachet_token_keys **out)
{
    if (!buf || !out)
        return cachet_err(TK_RC(INVALID_ARG), "token: NULL argument");
    *out = NULL;
    cachet_pkey *key = NULL;
    if (cachet_pkey_parse_public(buf, len, &key) != CACHET_OK &&
        cachet_pkey_parse_private(buf, len, &key) != CACHET_OK)
        return cachet_err(TK_RC(FORMAT), "token: not a PEM public or private key");
    cachet_token_keys *k = calloc(1, sizeof *k);
    if (!k) {
        cachet_pkey_free(key);
        return cachet_err(TK_RC(NOMEM), "token: out of memory");
    }
    cachet_rc rc = tk_keys_add(k, key);
    if (rc != CACHET_OK) {
        cachet_token_keys_free(k);
        return rc;
    }
    *out = k;
    return CACHET_OK;
}

cachet_rc cachet_token_keys_from_issuer(const cachet_token_issuer *iss, cachet_token_keys **out)
{
    if (!iss || !out)
        return cachet_err(TK_RC(INVALID_ARG), "token: NULL argument");
    *out = NULL;
    uint8_t *der = NULL;
    size_t n = 0;
    cachet_pkey *pub = NULL;
    cachet_rc rc = cachet_pkey_spki_der(iss->key, &der, &n);
    if (rc == CACHET_OK)
        rc = cachet_pkey_parse_public(der, n, &pub);
    free(der);
    cachet_token_keys *k = rc == CACHET_OK ? calloc(1, sizeof *k) : NULL;
    if (rc == CACHET_OK && !k)
        rc = cachet_err(TK_RC(NOMEM), "token: out of memory");
    if (rc == CACHET_OK)
        rc = tk_keys_add(k, pub);
    else
        cachet_pkey_free(pub);
    if (rc != CACHET_OK) {
        cachet_token_keys_free(k);
        return rc;
    }
    *out = k;
    return CACHET_OK;
}

cachet_rc cachet_token_keys_from_jwks(const char *json, size_t len, cachet_token_keys **out)
{
    if (!json || !out)
        return cachet_err(TK_RC(INVALID_ARG), "token: NULL argument");
    *out = NULL;
    json_error_t err;
    json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
    const json_t *keys = json_object_get(doc, "keys");
    if (!json_is_array(keys)) {
        json_decref(doc);
        return cachet_err(TK_RC(FORMAT), "token: not a JWKS (an object with a \"keys\" array)");
    }
    cachet_token_keys *k = calloc(1, sizeof *k);
    cachet_rc rc = k ? CACHET_OK : cachet_err(TK_RC(NOMEM), "token: out of memory");
    for (size_t i = 0; rc == CACHET_OK && i < json_array_size(keys); i++) {
        const json_t *jwk = json_array_get(keys, i);
        const char *alg = json_string_value(json_object_get(jwk, "alg"));
        const char *use = json_string_value(json_object_get(jwk, "use"));
        cachet_pkey *key = NULL;
        /* keys for other algorithms or uses are skipped, never stretched to ES256 */
        if ((alg && strcmp(alg, "ES256") != 0) || (use && strcmp(use, "sig") != 0) ||
            cachet_jwk_to_pkey(jwk, &key) != CACHET_OK)
            continue;
        if (!cachet_pkey_is_ec(key, CACHET_CURVE_P256)) {
            cachet_pkey_free(key);
            continue;
        }
        rc = tk_keys_add(k, key);
    }
    json_decref(doc);
    if (rc == CACHET_OK && k->n == 0)
        rc = cachet_err(TK_RC(NOT_FOUND), "token: the JWKS has no EC P-256 ES256 signing key");
    if (rc != CACHET_OK) {
        cachet_token_keys_free(k);
        return rc;
    }
    *out = k;
    return CACHET_OK;
}

/* ---- verification ----------------------------------------------------------------- */

/* base64url without padding, decoded (malloc'd). */
static cachet_rc seg_decode(const char *s, size_t n, const char *what, uint8_t **out,
                            size_t *outlen)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '=')
            return cachet_err(TK_RC(FORMAT), "token: the %s is padded (JWS uses unpadded "
                                             "base64url)", what);
    if (cachet_base64url_decode(s, n, out, outlen) != CACHET_OK)
        return cachet_err(TK_RC(FORMAT), "token: the %s is not base64url", what);
    return CACHET_OK;
}

static cachet_rc seg_json(const char *s, size_t n, const char *what, json_t **out)
{
    uint8_t *raw = NULL;
    size_t len = 0;
    *out = NULL;
    cachet_rc rc = seg_decode(s, n, what, &raw, &len);
    if (rc != CACHET_OK)
        return rc;
    json_error_t err;
    json_t *j = json_loadb((const char *)raw, len, JSON_REJECT_DUPLICATES, &err);
    free(raw);
    if (!json_is_object(j)) {
        json_decref(j);
        return cachet_err(TK_RC(FORMAT), "token: the %s is not a JSON object (duplicate "
                                         "members are refused)", what);
    }
    *out = j;
    return CACHET_OK;
}

static cachet_rc check_header(const json_t *h, const cachet_token_keys *keys, size_t *first,
                              size_t *last)
{
    static const char *const key_carriers[] = {"jwk", "x5c", "x5u", "jku", "x5t", "x5t#S256",
                                               NULL};
    for (const char *const *k = key_carriers; *k; k++)
        if (json_object_get(h, *k))
            return cachet_err(TK_RC(POLICY), "token: the header carries \"%s\": a key in the "
                                             "token is never trusted; verify with the "
                                             "issuer's pinned key", *k);
    const char *alg = json_string_value(json_object_get(h, "alg"));
    if (!alg || strcmp(alg, "ES256") != 0)
        return cachet_err(TK_RC(UNSUPPORTED), "token: alg is \"%s\", only \"ES256\" is "
                                              "accepted", alg ? alg : "(missing)");
    if (json_object_get(h, "crit"))
        return cachet_err(TK_RC(UNSUPPORTED), "token: critical header extensions are not "
                                              "understood");
    const json_t *typ = json_object_get(h, "typ");
    if (typ && (!json_is_string(typ) || strcmp(json_string_value(typ), "JWT") != 0))
        return cachet_err(TK_RC(UNSUPPORTED), "token: typ must be \"JWT\"");
    const json_t *kid = json_object_get(h, "kid");
    *first = 0;
    *last = keys->n;
    if (kid) {
        if (!json_is_string(kid))
            return cachet_err(TK_RC(FORMAT), "token: kid is not a string");
        for (size_t i = 0; i < keys->n; i++)
            if (strcmp(keys->v[i].kid, json_string_value(kid)) == 0) {
                *first = i;
                *last = i + 1;
                return CACHET_OK;
            }
        return cachet_err(TK_RC(POLICY), "token: kid \"%s\" is none of the pinned keys",
                          json_string_value(kid));
    }
    return CACHET_OK;
}

static cachet_rc int_claim(const json_t *c, const char *name, bool required, int64_t *v,
                           bool *present)
{
    const json_t *j = json_object_get(c, name);
    *present = j != NULL;
    if (!j)
        return required ? cachet_err(TK_RC(FORMAT), "token: no \"%s\" claim", name) : CACHET_OK;
    if (!json_is_integer(j))
        return cachet_err(TK_RC(FORMAT), "token: \"%s\" is not an integer (NumericDate)", name);
    *v = json_integer_value(j);
    return CACHET_OK;
}

static cachet_rc check_claims(const json_t *c, const cachet_token_verify_opts *o)
{
    int64_t now = cachet_clock_now(o ? o->clock : NULL);
    int64_t leeway = o ? o->leeway : 0;
    int64_t exp = 0, iat = 0, nbf = 0;
    bool has_exp, has_iat, has_nbf;
    cachet_rc rc;
    if ((rc = int_claim(c, "exp", true, &exp, &has_exp)) ||
        (rc = int_claim(c, "iat", true, &iat, &has_iat)) ||
        (rc = int_claim(c, "nbf", false, &nbf, &has_nbf)))
        return rc;
    if (exp <= iat)
        return cachet_err(TK_RC(FORMAT), "token: exp (%lld) is not after iat (%lld)",
                          (long long)exp, (long long)iat);
    if (now >= exp + leeway)
        return cachet_err(TK_RC(EXPIRED), "token: expired at %lld (now %lld)", (long long)exp,
                          (long long)now);
    if (has_nbf && nbf > now + leeway)
        return cachet_err(TK_RC(EXPIRED), "token: not valid before %lld (now %lld)",
                          (long long)nbf, (long long)now);
    if (iat > now + leeway)
        return cachet_err(TK_RC(EXPIRED), "token: issued in the future (iat %lld, now %lld)",
                          (long long)iat, (long long)now);
    const char *want = o && o->profile ? o->profile : CACHET_EAR_PROFILE;
    const char *prof = json_string_value(json_object_get(c, "eat_profile"));
    if (!prof || strcmp(prof, want) != 0)
        return cachet_err(TK_RC(POLICY), "token: eat_profile is \"%s\", want \"%s\"",
                          prof ? prof : "(missing)", want);
    const json_t *sub = json_object_get(c, "submods");
    if (!json_is_object(sub) || json_object_size(sub) == 0)
        return cachet_err(TK_RC(FORMAT), "token: no submods (an EAR appraises at least one "
                                         "component)");
    return CACHET_OK;
}

cachet_rc cachet_token_verify(const cachet_token_keys *keys, const char *jwt, size_t len,
                              const cachet_token_verify_opts *opts, json_t **claims)
{
    if (!claims)
        return cachet_err(TK_RC(INVALID_ARG), "token: NULL output");
    *claims = NULL;
    if (!keys || !keys->n || !jwt)
        return cachet_err(TK_RC(INVALID_ARG), "token: no pinned key or no token");
    if (opts && (opts->leeway < 0 || opts->leeway > MAX_LEEWAY))
        return cachet_err(TK_RC(RANGE), "token: leeway must be 0..%d seconds", MAX_LEEWAY);
    while (len && (jwt[len - 1] == '\n' || jwt[len - 1] == '\r'))
        len--; /* a token read from a file */
    if (len > CACHET_TOKEN_MAX_LEN)
        return cachet_err(TK_RC(LIMIT), "token: over %zu bytes", CACHET_TOKEN_MAX_LEN);
    const char *d1 = memchr(jwt, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - jwt)) : NULL;
    if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - jwt)))
        return cachet_err(TK_RC(FORMAT), "token: not a compact JWS (three '.'-separated parts)");
    json_t *hdr = NULL, *body = NULL;
    uint8_t *sig = NULL;
    size_t sig_len = 0, first = 0, last = 0;
    cachet_rc rc = seg_json(jwt, (size_t)(d1 - jwt), "header", &hdr);
    if (rc == CACHET_OK)
        rc = check_header(hdr, keys, &first, &last);
    if (rc == CACHET_OK)
        rc = seg_decode(d2 + 1, len - (size_t)(d2 + 1 - jwt), "signature", &sig, &sig_len);
    if (rc == CACHET_OK && sig_len != ES256_SIG_LEN)
        rc = cachet_err(TK_RC(FORMAT), "token: an ES256 signature is 64 bytes, not %zu",
                        sig_len);
    if (rc == CACHET_OK) {
        bool ok = false;
        for (size_t i = first; i < last && !ok; i++)
            ok = cachet_ecdsa_verify_raw(keys->v[i].key, CACHET_HASH_SHA256, jwt,
                                         (size_t)(d2 - jwt), sig, 32,
                                         CACHET_BIG_ENDIAN) == CACHET_OK;
        if (!ok)
            rc = cachet_err(TK_RC(SIGNATURE), "token: the signature does not verify with the "
                                              "pinned key%s", last - first > 1 ? "s" : "");
    }
    /* the claims are read only after the signature held */
    if (rc == CACHET_OK)
        rc = seg_json(d1 + 1, (size_t)(d2 - d1 - 1), "payload", &body);
    if (rc == CACHET_OK)
        rc = check_claims(body, opts);
    json_decref(hdr);
    free(sig);
    if (rc != CACHET_OK) {
        json_decref(body);
        return rc;
    }
    *claims = body;
    return CACHET_OK;
}
