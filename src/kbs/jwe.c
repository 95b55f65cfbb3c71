/* The resource response: a flattened JWE (RFC 7516 §7.2.2) with
 * ECDH-ES+A256KW and A256GCM (protocols.md §1.8). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/encoding.h"
#include "cachet/runtime_data.h"
#include "cachet/secmem.h"
#include "kbs/kbs_int.h"

#define ALG "ECDH-ES+A256KW"
#define ENC "A256GCM"
#define MAX_PT ((size_t)16 << 20)

static const char *curve_name(cachet_curve c)
{
    return c == CACHET_CURVE_P256 ? "P-256" : c == CACHET_CURVE_P384 ? "P-384" : "P-521";
}

/* KEK = ConcatKDF(ECDH(priv, peer)). */
static cachet_rc derive_kek(const cachet_pkey *priv, const cachet_pkey *peer, uint8_t kek[32])
{
    uint8_t z[66];
    size_t zlen = 0;
    cachet_rc rc = cachet_ecdh_derive(priv, peer, z, sizeof z, &zlen);
    if (rc == CACHET_OK)
        rc = cachet_concat_kdf_sha256(z, zlen, ALG, kek);
    cachet_wipe(z, sizeof z);
    return rc;
}

/* {"alg":"ECDH-ES+A256KW","enc":"A256GCM","epk":{"crv","kty","x","y"}} compact, in the
 * member order guest-components re-serialize it (alg, enc, then sorted). */
static char *protected_header(const cachet_pkey *epk)
{
    uint8_t xy[132];
    size_t n = 0;
    cachet_curve c;
    if (cachet_pkey_ec_point(epk, &c, xy, sizeof xy, &n) != CACHET_OK || n % 2)
        return NULL;
    char *x = cachet_base64url_string(xy, n / 2);
    char *y = cachet_base64url_string(xy + n / 2, n / 2);
    char *hdr = NULL;
    if (x && y) {
        size_t cap = strlen(x) + strlen(y) + 128;
        hdr = malloc(cap);
        if (hdr)
            snprintf(hdr, cap,
                     "{\"alg\":\"" ALG "\",\"enc\":\"" ENC
                     "\",\"epk\":{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}}",
                     curve_name(c), x, y);
    }
    free(x);
    free(y);
    return hdr;
}

cachet_rc cachet_jwe_encrypt(const json_t *tee_pubkey, const uint8_t *pt, size_t len, char **out)
{
    if (!tee_pubkey || (!pt && len) || !out || len > MAX_PT)
        return kbs_err(INVALID_ARG, "jwe: bad argument");
    *out = NULL;
    cachet_pkey *peer = NULL, *eph = NULL;
    cachet_rc rc = cachet_jwk_to_pkey(tee_pubkey, &peer);
    if (rc != CACHET_OK)
        return kbs_err(UNSUPPORTED, "jwe: tee-pubkey is not a usable EC JWK: %s", cachet_err_detail());
    const char *alg = json_string_value(json_object_get(tee_pubkey, "alg"));
    if (alg && strcmp(alg, ALG) != 0) {
        cachet_pkey_free(peer);
        return kbs_err(UNSUPPORTED, "jwe: tee-pubkey alg \"%.32s\" is not " ALG, alg);
    }
    cachet_curve curve = cachet_pkey_is_ec(peer, CACHET_CURVE_P256)   ? CACHET_CURVE_P256
                         : cachet_pkey_is_ec(peer, CACHET_CURVE_P384) ? CACHET_CURVE_P384
                                                                      : CACHET_CURVE_P521;
    uint8_t kek[32], cek[32], wrapped[40], iv[CACHET_GCM_IV_LEN], tag[CACHET_GCM_TAG_LEN];
    size_t wlen = 0;
    char *hdr = NULL, *phdr = NULL, *ek = NULL, *ivs = NULL, *cts = NULL, *tags = NULL;
    uint8_t *ct = malloc(len ? len : 1);
    cachet_aead *a = NULL;
    if (!ct) {
        rc = kbs_err(NOMEM, "jwe: out of memory");
        goto done;
    }
    if ((rc = cachet_pkey_generate_ec(curve, &eph)) != CACHET_OK ||
        (rc = derive_kek(eph, peer, kek)) != CACHET_OK || (rc = cachet_random(cek, 32)) != CACHET_OK ||
        (rc = cachet_random(iv, sizeof iv)) != CACHET_OK ||
        (rc = cachet_aes256_kw_wrap(kek, cek, 32, wrapped, sizeof wrapped, &wlen)) != CACHET_OK)
        goto done;
    hdr = protected_header(eph);
    phdr = hdr ? cachet_base64url_string((const uint8_t *)hdr, strlen(hdr)) : NULL;
    a = cachet_aead_new(cek);
    if (!phdr || !a) {
        rc = kbs_err(NOMEM, "jwe: out of memory");
        goto done;
    }
    rc = cachet_aead_seal(a, iv, phdr, strlen(phdr), pt, len, ct, tag);
    if (rc != CACHET_OK)
        goto done;
    ek = cachet_base64url_string(wrapped, wlen);
    ivs = cachet_base64url_string(iv, sizeof iv);
    cts = cachet_base64url_string(ct, len);
    tags = cachet_base64url_string(tag, sizeof tag);
    json_t *j = (ek && ivs && cts && tags)
                    ? json_pack("{s:s,s:s,s:s,s:s,s:s}", "protected", phdr, "encrypted_key", ek,
                                "iv", ivs, "ciphertext", cts, "tag", tags)
                    : NULL;
    *out = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    if (!*out)
        rc = kbs_err(NOMEM, "jwe: out of memory");
done:
    cachet_wipe(kek, sizeof kek);
    cachet_wipe(cek, sizeof cek);
    cachet_aead_free(a);
    cachet_pkey_free(eph);
    cachet_pkey_free(peer);
    if (ct) {
        cachet_wipe(ct, len);
        free(ct);
    }
    free(hdr);
    free(phdr);
    free(ek);
    free(ivs);
    free(cts);
    free(tags);
    return rc;
}

static cachet_rc b64_member(const json_t *j, const char *name, size_t max, uint8_t **out,
                            size_t *len)
{
    const json_t *v = json_object_get(j, name);
    if (!json_is_string(v) || json_string_length(v) > max)
        return kbs_err(FORMAT, "jwe: \"%s\" missing, not a string or too long", name);
    if (cachet_base64url_decode(json_string_value(v), json_string_length(v), out, len) != CACHET_OK)
        return kbs_err(FORMAT, "jwe: \"%s\" is not base64url", name);
    return CACHET_OK;
}

cachet_rc cachet_jwe_decrypt(const cachet_pkey *priv, const char *jwe, size_t len, uint8_t **pt,
                             size_t *pt_len)
{
    if (!priv || !jwe || !pt || !pt_len || len == 0 || len > 2 * MAX_PT)
        return kbs_err(INVALID_ARG, "jwe: bad argument");
    *pt = NULL;
    json_t *j = json_loadb(jwe, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *hdr = NULL;
    cachet_pkey *epk = NULL;
    uint8_t *h = NULL, *ek = NULL, *iv = NULL, *ct = NULL, *tag = NULL, *out = NULL;
    size_t hl = 0, ekl = 0, ivl = 0, ctl = 0, tagl = 0;
    uint8_t kek[32], cek[40];
    size_t cekl = 0;
    cachet_aead *a = NULL;
    cachet_rc rc;
    if (!json_is_object(j)) {
        rc = kbs_err(FORMAT, "jwe: not a JSON object");
        goto done;
    }
    const char *phdr = json_string_value(json_object_get(j, "protected"));
    if ((rc = b64_member(j, "protected", 4096, &h, &hl)) != CACHET_OK ||
        (rc = b64_member(j, "encrypted_key", 64, &ek, &ekl)) != CACHET_OK ||
        (rc = b64_member(j, "iv", 32, &iv, &ivl)) != CACHET_OK ||
        (rc = b64_member(j, "ciphertext", 2 * MAX_PT, &ct, &ctl)) != CACHET_OK ||
        (rc = b64_member(j, "tag", 32, &tag, &tagl)) != CACHET_OK)
        goto done;
    hdr = json_loadb((const char *)h, hl, JSON_REJECT_DUPLICATES, NULL);
    const char *alg = json_string_value(json_object_get(hdr, "alg"));
    const char *enc = json_string_value(json_object_get(hdr, "enc"));
    if (!alg || !enc || strcmp(alg, ALG) || strcmp(enc, ENC)) {
        rc = kbs_err(UNSUPPORTED, "jwe: only " ALG " with " ENC " is supported");
        goto done;
    }
    if (ivl != CACHET_GCM_IV_LEN || tagl != CACHET_GCM_TAG_LEN || ekl != 40) {
        rc = kbs_err(FORMAT, "jwe: iv, tag or encrypted_key of the wrong length");
        goto done;
    }
    if (cachet_jwk_to_pkey(json_object_get(hdr, "epk"), &epk) != CACHET_OK) {
        rc = kbs_err(FORMAT, "jwe: epk is not an EC public key");
        goto done;
    }
    if ((rc = derive_kek(priv, epk, kek)) != CACHET_OK ||
        (rc = cachet_aes256_kw_unwrap(kek, ek, ekl, cek, sizeof cek, &cekl)) != CACHET_OK)
        goto done;
    if (cekl != 32) {
        rc = kbs_err(FORMAT, "jwe: content key is not 32 bytes");
        goto done;
    }
    out = cachet_secure_alloc(ctl ? ctl : 1);
    a = cachet_aead_new(cek);
    if (!out || !a) {
        rc = kbs_err(NOMEM, "jwe: out of memory");
        goto done;
    }
    rc = cachet_aead_open(a, iv, phdr, strlen(phdr), ct, ctl, out, tag);
    if (rc != CACHET_OK)
        goto done;
    *pt = out;
    *pt_len = ctl;
    out = NULL;
done:
    cachet_wipe(kek, sizeof kek);
    cachet_wipe(cek, sizeof cek);
    cachet_aead_free(a);
    cachet_secure_free(out);
    cachet_pkey_free(epk);
    json_decref(hdr);
    json_decref(j);
    free(h);
    free(ek);
    free(iv);
    free(ct);
    free(tag);
    return rc;
}
