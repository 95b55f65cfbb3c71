/* EC public keys as JWKs (RFC 7517 §4, RFC 7518 §6.2.1) and their RFC 7638
 * thumbprints: the workload's "tee-pubkey" and the token issuer's JWKS. */
#include <stdlib.h>
#include <string.h>

#include "cachet/encoding.h"
#include "cachet/runtime_data.h"

#define RD_RC(code) CACHET_RC(CACHET_SUB_EVIDENCE, CACHET_E_##code)
#define EC_MAX_FIELD 66

static const struct {
    cachet_curve curve;
    const char *crv;
    size_t field;
} jwk_curves[] = {
    {CACHET_CURVE_P256, "P-256", 32},
    {CACHET_CURVE_P384, "P-384", 48},
    {CACHET_CURVE_P521, "P-521", 66},
};
#define N_JWK_CURVES (sizeof jwk_curves / sizeof jwk_curves[0])

static json_t *b64url_json(const uint8_t *p, size_t n)
{
    char *s = cachet_base64url_string(p, n);
    json_t *j = s ? json_string(s) : NULL;
    free(s);
    return j;
}

cachet_rc cachet_jwk_from_pkey(const cachet_pkey *k, const char *alg, json_t **out)
{
    if (!k || !out)
        return cachet_err(RD_RC(INVALID_ARG), "jwk: NULL argument");
    *out = NULL;
    uint8_t xy[2 * EC_MAX_FIELD];
    size_t n = 0;
    cachet_curve curve;
    cachet_rc rc = cachet_pkey_ec_point(k, &curve, xy, sizeof xy, &n);
    if (rc != CACHET_OK)
        return cachet_err(RD_RC(UNSUPPORTED), "jwk: only EC keys are supported");
    const char *crv = NULL;
    for (size_t i = 0; i < N_JWK_CURVES; i++)
        if (jwk_curves[i].curve == curve)
            crv = jwk_curves[i].crv;
    json_t *j = json_object();
    if (!j || !crv || json_object_set_new(j, "kty", json_string("EC")) ||
        json_object_set_new(j, "crv", json_string(crv)) ||
        (alg && json_object_set_new(j, "alg", json_string(alg))) ||
        json_object_set_new(j, "x", b64url_json(xy, n / 2)) ||
        json_object_set_new(j, "y", b64url_json(xy + n / 2, n / 2))) {
        json_decref(j);
        return cachet_err(RD_RC(NOMEM), "jwk: out of memory");
    }
    *out = j;
    return CACHET_OK;
}

/* A base64url member decoded into exactly want bytes. */
static cachet_rc coordinate(const json_t *jwk, const char *name, size_t want, uint8_t *dst)
{
    const json_t *v = json_object_get(jwk, name);
    if (!json_is_string(v))
        return cachet_err(RD_RC(FORMAT), "jwk: \"%s\" is missing or not a string", name);
    uint8_t *raw = NULL;
    size_t n = 0;
    if (cachet_base64url_decode(json_string_value(v), json_string_length(v), &raw, &n) !=
        CACHET_OK)
        return cachet_err(RD_RC(FORMAT), "jwk: \"%s\" is not base64url", name);
    if (n != want) {
        free(raw);
        return cachet_err(RD_RC(FORMAT), "jwk: \"%s\" is %zu bytes, the curve needs %zu", name,
                          n, want);
    }
    memcpy(dst, raw, n);
    free(raw);
    return CACHET_OK;
}

static cachet_rc jwk_curve(const json_t *jwk, size_t *idx)
{
    if (!json_is_object(jwk))
        return cachet_err(RD_RC(FORMAT), "jwk: not a JSON object");
    if (!json_is_string(json_object_get(jwk, "kty")) ||
        strcmp(json_string_value(json_object_get(jwk, "kty")), "EC") != 0)
        return cachet_err(RD_RC(UNSUPPORTED), "jwk: kty must be \"EC\"");
    if (json_object_get(jwk, "d"))
        return cachet_err(RD_RC(FORMAT), "jwk: carries a private key (\"d\")");
    const json_t *crv = json_object_get(jwk, "crv");
    for (size_t i = 0; json_is_string(crv) && i < N_JWK_CURVES; i++)
        if (strcmp(json_string_value(crv), jwk_curves[i].crv) == 0) {
            *idx = i;
            return CACHET_OK;
        }
    return cachet_err(RD_RC(UNSUPPORTED), "jwk: crv must be P-256, P-384 or P-521");
}

cachet_rc cachet_jwk_to_pkey(const json_t *jwk, cachet_pkey **out)
{
    if (!out)
        return cachet_err(RD_RC(INVALID_ARG), "jwk: NULL output");
    *out = NULL;
    size_t ci = 0;
    cachet_rc rc = jwk_curve(jwk, &ci);
    if (rc != CACHET_OK)
        return rc;
    size_t f = jwk_curves[ci].field;
    uint8_t xy[2 * EC_MAX_FIELD];
    if ((rc = coordinate(jwk, "x", f, xy)) != CACHET_OK ||
        (rc = coordinate(jwk, "y", f, xy + f)) != CACHET_OK)
        return rc;
    rc = cachet_pkey_from_ec_point(jwk_curves[ci].curve, xy, 2 * f, out);
    if (rc != CACHET_OK)
        return cachet_err(RD_RC(FORMAT), "jwk: x, y is not a point on %s", jwk_curves[ci].crv);
    return CACHET_OK;
}

cachet_rc cachet_jwk_thumbprint(const json_t *jwk, uint8_t out[CACHET_SHA256_LEN])
{
    size_t ci = 0;
    cachet_rc rc = jwk_curve(jwk, &ci);
    if (rc != CACHET_OK)
        return rc;
    /* RFC 7638 §3.2: the required members only, canonically ordered. */
    json_t *req = json_pack("{s:O,s:O,s:O,s:O}", "crv", json_object_get(jwk, "crv"), "kty",
                            json_object_get(jwk, "kty"), "x", json_object_get(jwk, "x"), "y",
                            json_object_get(jwk, "y"));
    if (!req || !json_is_string(json_object_get(req, "x")) ||
        !json_is_string(json_object_get(req, "y"))) {
        json_decref(req);
        return cachet_err(RD_RC(FORMAT), "jwk: x and y must be strings");
    }
    char *text = NULL;
    size_t len = 0;
    rc = cachet_jcs_dump(req, &text, &len);
    json_decref(req);
    if (rc == CACHET_OK)
        rc = cachet_sha256(text, len, out);
    free(text);
    return rc;
}
