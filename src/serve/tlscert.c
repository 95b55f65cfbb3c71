/* The TLS key and its self-issued certificate (docs/serve.md §4): P-256,
 * CN=cachet-serve, 7 days, with the RA-TLS evidence extension
 * 2.23.133.5.4.9 in the Gramine/CCC form (protocols.md §4.1):
 * CBOR tag 60000 over [bstr evidence, bstr claims], claims =
 * {"pubkey-hash": bstr(CBOR [1, bstr SHA-256(DER SPKI)])}, the evidence's
 * report data being SHA-256(claims) || 0^32. */
#include <stdlib.h>
#include <string.h>

#include "cachet/encoding.h"
#include "cachet/secmem.h"
#include "serve/serve_int.h"

/* A CBOR head (RFC 8949 §3): major type and argument, shortest form. */
static size_t cbor_head(uint8_t *p, unsigned major, uint64_t n)
{
    uint8_t m = (uint8_t)(major << 5);
    if (n < 24) {
        p[0] = m | (uint8_t)n;
        return 1;
    }
    if (n <= 0xff) {
        p[0] = m | 24;
        p[1] = (uint8_t)n;
        return 2;
    }
    if (n <= 0xffff) {
        p[0] = m | 25;
        p[1] = (uint8_t)(n >> 8);
        p[2] = (uint8_t)n;
        return 3;
    }
    if (n <= 0xffffffffu) {
        p[0] = m | 26;
        for (int i = 0; i < 4; i++)
            p[1 + i] = (uint8_t)(n >> (24 - 8 * i));
        return 5;
    }
    p[0] = m | 27;
    for (int i = 0; i < 8; i++)
        p[1 + i] = (uint8_t)(n >> (56 - 8 * i));
    return 9;
}

cachet_rc serve_cert_claims(const uint8_t spki_sha256[CACHET_SHA256_LEN], uint8_t **out,
                            size_t *len)
{
    uint8_t entry[4 + CACHET_SHA256_LEN], *b = malloc(64 + sizeof entry);
    if (!b)
        return serve_err(NOMEM, "tls: out of memory");
    size_t e = 0, n = 0;
    e += cbor_head(entry + e, 4, 2); /* [1, bstr hash] */
    e += cbor_head(entry + e, 0, 1);
    e += cbor_head(entry + e, 2, CACHET_SHA256_LEN);
    memcpy(entry + e, spki_sha256, CACHET_SHA256_LEN);
    e += CACHET_SHA256_LEN;
    static const char key[] = "pubkey-hash";
    n += cbor_head(b + n, 5, 1);
    n += cbor_head(b + n, 3, sizeof key - 1);
    memcpy(b + n, key, sizeof key - 1);
    n += sizeof key - 1;
    n += cbor_head(b + n, 2, e);
    memcpy(b + n, entry, e);
    n += e;
    *out = b;
    *len = n;
    return CACHET_OK;
}

cachet_rc serve_cert_ext_value(const uint8_t *evidence, size_t ev_len, const uint8_t *claims,
                               size_t claims_len, uint8_t **out, size_t *len)
{
    uint8_t *b = malloc(32 + ev_len + claims_len);
    if (!b)
        return serve_err(NOMEM, "tls: out of memory");
    size_t n = 0;
    n += cbor_head(b + n, 6, SERVE_CMW_TAG);
    n += cbor_head(b + n, 4, 2);
    n += cbor_head(b + n, 2, ev_len);
    memcpy(b + n, evidence, ev_len);
    n += ev_len;
    n += cbor_head(b + n, 2, claims_len);
    memcpy(b + n, claims, claims_len);
    n += claims_len;
    *out = b;
    *len = n;
    return CACHET_OK;
}

void serve_tls_clear(serve_tls *t)
{
    if (!t)
        return;
    cachet_pkey_free(t->key);
    free(t->cert_pem);
    if (t->key_pem) {
        cachet_wipe(t->key_pem, strlen(t->key_pem));
        free(t->key_pem);
    }
    memset(t, 0, sizeof *t);
}

cachet_rc serve_tls_make(cachet_attester *a, int64_t now, serve_tls *out)
{
    memset(out, 0, sizeof *out);
    uint8_t *spki = NULL, *claims = NULL, *ev = NULL, *ext = NULL;
    size_t spki_len = 0, claims_len = 0, ev_len = 0, ext_len = 0;
    uint8_t rd[64] = {0};
    cachet_rc rc;
    if ((rc = cachet_pkey_generate_ec(CACHET_CURVE_P256, &out->key)) != CACHET_OK ||
        (rc = cachet_pkey_spki_der(out->key, &spki, &spki_len)) != CACHET_OK ||
        (rc = cachet_sha256(spki, spki_len, out->spki_sha256)) != CACHET_OK ||
        (rc = serve_cert_claims(out->spki_sha256, &claims, &claims_len)) != CACHET_OK ||
        (rc = cachet_sha256(claims, claims_len, rd)) != CACHET_OK) {
        rc = serve_step_err(rc, "tls key");
        goto out;
    }
    cachet_hex_encode(out->spki_sha256, sizeof out->spki_sha256, out->spki_hex);
    if ((rc = cachet_attester_collect_bound(a, rd, NULL, 0, &ev, &ev_len)) != CACHET_OK) {
        rc = serve_step_err(rc, "attestation: certificate evidence");
        goto out;
    }
    if ((rc = serve_cert_ext_value(ev, ev_len, claims, claims_len, &ext, &ext_len)) != CACHET_OK)
        goto out;
    cachet_x509_ext x = {.oid = SERVE_EVIDENCE_OID, .critical = false, .value = ext,
                         .len = ext_len};
    if ((rc = cachet_x509_self_signed(out->key, "cachet-serve", now - 60,
                                      now + (int64_t)SERVE_CERT_DAYS * 86400, &x, 1,
                                      &out->cert_pem, NULL)) != CACHET_OK ||
        (rc = cachet_pkey_private_pem(out->key, &out->key_pem)) != CACHET_OK) {
        rc = serve_step_err(rc, "tls certificate");
    }
out:
    free(spki);
    free(claims);
    free(ev);
    free(ext);
    if (rc != CACHET_OK)
        serve_tls_clear(out);
    return rc;
}
