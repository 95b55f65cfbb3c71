/* nitro_gen: synthetic Nitro documents (see nitro_gen.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>

#include "evidence/registry.h"
#include "nitro_gen.h"

static testpki_cert *mint(const char *cn, bool ca, int path_len, int64_t nb, int64_t na,
                          const testpki_cert *issuer)
{
    testpki_cert_opts o = {
        .cn = cn,
        .org = "Amazon",
        .key = TESTPKI_KEY_P384,
        .not_before = nb,
        .not_after = na,
        .ca = ca,
        .has_path_len = ca && path_len >= 0,
        .path_len = path_len,
        .no_akid = !ca, /* AWS leaves carry no authorityKeyIdentifier */
        .sig_hash = CACHET_HASH_SHA384,
    };
    return testpki_mint(&o, issuer);
}

nitrogen_pki *nitrogen_pki_new(int64_t t0)
{
    nitrogen_pki *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    const int64_t day = 86400, year = 365 * day;
    p->root = mint("test.nitro-enclaves", true, -1, t0 - year, t0 + 20 * year, NULL);
    p->regional = p->root ? mint("r.test.nitro-enclaves", true, 2, t0 - day, t0 + 10 * day, p->root)
                          : NULL;
    p->zonal = p->regional
                   ? mint("z.r.test.nitro-enclaves", true, 1, t0 - day, t0 + 10 * day, p->regional)
                   : NULL;
    p->instance = p->zonal
                      ? mint("i-0.r.test.nitro-enclaves", true, 0, t0 - day, t0 + 10 * day, p->zonal)
                      : NULL;
    p->leaf = p->instance
                  ? mint("i-0-enc0.r.test", false, -1, t0 - 3600, t0 + 2 * 3600, p->instance)
                  : NULL;
    p->anchor = p->root ? testpki_x509(p->root) : NULL;
    if (!p->leaf || !p->anchor) {
        nitrogen_pki_free(p);
        return NULL;
    }
    p->cfg.root = p->anchor;
    p->ops = cachet_nitro_ops;
    p->ops.config = &p->cfg;
    return p;
}

void nitrogen_pki_free(nitrogen_pki *p)
{
    if (!p)
        return;
    testpki_free(p->leaf);
    testpki_free(p->instance);
    testpki_free(p->zonal);
    testpki_free(p->regional);
    testpki_free(p->root);
    cachet_x509_free(p->anchor);
    free(p);
}

void nitrogen_doc_default(nitrogen_doc *d, const nitrogen_pki *p, int64_t t0)
{
    static const uint8_t zero64[64];
    memset(d, 0, sizeof *d);
    d->module_id = "i-0123456789abcdef0-enc0123456789abcdef";
    d->digest = "SHA384";
    d->timestamp_ms = (uint64_t)t0 * 1000u + 250u;
    d->n_pcrs = 16;
    d->pcr_len = NITRO_PCR_LEN;
    for (unsigned i = 0; i < 3; i++)
        memset(d->pcrs[i], 0x10 + (int)i, NITRO_PCR_LEN);
    memset(d->pcrs[4], 0x14, NITRO_PCR_LEN);
    d->certificate = p->leaf;
    d->signer = p->leaf;
    d->cabundle[0] = p->root;
    d->cabundle[1] = p->regional;
    d->cabundle[2] = p->zonal;
    d->cabundle[3] = p->instance;
    d->n_cabundle = 4;
    d->user_data = (nitrogen_bytes){ zero64, sizeof zero64 };
    d->alg = -35;
}

/* ---- encoding ----------------------------------------------------------------- */

typedef struct wbuf {
    uint8_t *p;
    size_t cap, n;
    bool bad;
} wbuf;

static void w_raw(wbuf *b, const void *p, size_t len)
{
    if (b->bad || len > b->cap - b->n) {
        b->bad = true;
        return;
    }
    if (len)
        memcpy(b->p + b->n, p, len);
    b->n += len;
}

static void w_head(wbuf *b, size_t (*enc)(size_t, unsigned char *, size_t), size_t v)
{
    if (b->bad)
        return;
    size_t w = enc(v, b->p + b->n, b->cap - b->n);
    if (!w)
        b->bad = true;
    b->n += w;
}

static void w_u64(wbuf *b, size_t (*enc)(uint64_t, unsigned char *, size_t), uint64_t v)
{
    if (b->bad)
        return;
    size_t w = enc(v, b->p + b->n, b->cap - b->n);
    if (!w)
        b->bad = true;
    b->n += w;
}

static void w_text(wbuf *b, const char *s)
{
    w_head(b, cbor_encode_string_start, strlen(s));
    w_raw(b, s, strlen(s));
}

static void w_bytes(wbuf *b, const uint8_t *p, size_t len)
{
    w_head(b, cbor_encode_bytestring_start, len);
    w_raw(b, p, len);
}

static void w_null(wbuf *b)
{
    static const uint8_t null = 0xF6;
    w_raw(b, &null, 1);
}

static void w_int(wbuf *b, int64_t v)
{
    if (v >= 0)
        w_u64(b, cbor_encode_uint, (uint64_t)v);
    else
        w_u64(b, cbor_encode_negint, (uint64_t)(-1 - v));
}

static void w_cert(wbuf *b, const testpki_cert *c)
{
    size_t len = 0;
    const uint8_t *der = testpki_der(c, &len);
    w_bytes(b, der, len);
}

static unsigned optional_count(const nitrogen_doc *d)
{
    if (!d->omit_optional)
        return 3;
    return (d->public_key.p != NULL) + (d->user_data.p != NULL) + (d->nonce.p != NULL);
}

static void w_optional(wbuf *b, const nitrogen_doc *d, const char *key, const nitrogen_bytes *v)
{
    if (!v->p && d->omit_optional)
        return;
    w_text(b, key);
    if (v->p)
        w_bytes(b, v->p, v->len);
    else
        w_null(b);
}

static void encode_payload(wbuf *b, const nitrogen_doc *d)
{
    unsigned n = 6 + optional_count(d) + (d->duplicate_nonce ? 1 : 0) +
                 (d->unknown_field ? 1 : 0) + (d->nest_depth ? 1 : 0);
    if (d->definite_map) {
        w_head(b, cbor_encode_map_start, n);
    } else {
        static const uint8_t indef = 0xBF;
        w_raw(b, &indef, 1);
    }
    w_text(b, "module_id");
    w_text(b, d->module_id);
    w_text(b, "digest");
    w_text(b, d->digest);
    w_text(b, "timestamp");
    w_u64(b, cbor_encode_uint, d->timestamp_ms);
    w_text(b, "pcrs");
    w_head(b, cbor_encode_map_start, d->n_pcrs);
    for (unsigned i = 0; i < d->n_pcrs; i++) {
        w_u64(b, cbor_encode_uint, i);
        w_bytes(b, d->pcrs[i], d->pcr_len);
    }
    w_text(b, "certificate");
    w_cert(b, d->certificate);
    w_text(b, "cabundle");
    w_head(b, cbor_encode_array_start, d->n_cabundle);
    for (size_t i = 0; i < d->n_cabundle; i++)
        w_cert(b, d->cabundle[i]);
    w_optional(b, d, "public_key", &d->public_key);
    if (d->nest_depth) {
        w_text(b, "user_data");
        for (unsigned i = 0; i < d->nest_depth; i++)
            w_head(b, cbor_encode_array_start, i + 1 == d->nest_depth ? 0 : 1);
    } else {
        w_optional(b, d, "user_data", &d->user_data);
    }
    w_optional(b, d, "nonce", &d->nonce);
    if (d->duplicate_nonce) {
        static const uint8_t other[4] = { 1, 2, 3, 4 };
        w_text(b, "nonce");
        w_bytes(b, other, sizeof other);
    }
    if (d->unknown_field) {
        w_text(b, "extra");
        w_int(b, 1);
    }
    if (!d->definite_map) {
        static const uint8_t brk = 0xFF;
        w_raw(b, &brk, 1);
    }
}

uint8_t *nitrogen_encode(const nitrogen_doc *d, size_t *len)
{
    *len = 0;
    uint8_t *payload = malloc(NITRO_DOC_MAX * 2);
    uint8_t *out = malloc(NITRO_DOC_MAX * 3);
    uint8_t prot[16];
    uint8_t sig[NITRO_SIG_LEN];
    uint8_t *msg = NULL;
    size_t msglen = 0;
    cachet_pkey *key = NULL;
    if (!payload || !out)
        goto fail;
    wbuf pb = { payload, NITRO_DOC_MAX * 2, 0, false };
    encode_payload(&pb, d);
    wbuf hb = { prot, sizeof prot, 0, false };
    w_head(&hb, cbor_encode_map_start, 1);
    w_int(&hb, 1);
    w_int(&hb, d->alg);
    if (pb.bad || hb.bad)
        goto fail;

    /* Sign the Sig_structure the verifier will build (RFC 9052 §4.4). */
    nitro_doc sd;
    memset(&sd, 0, sizeof sd);
    sd.protected_hdr = (nitro_bytes){ prot, hb.n };
    sd.payload = (nitro_bytes){ payload, pb.n };
    if (pb.n > NITRO_PAYLOAD_MAX) {
        memset(sig, 0, sizeof sig); /* too large to be verified: any signature */
    } else {
        key = testpki_key(d->signer);
        if (!key || nitro_sig_structure(&sd, &msg, &msglen) != CACHET_OK ||
            cachet_ecdsa_sign_raw(key, CACHET_HASH_SHA384, msg, msglen, sig, NITRO_SIG_LEN / 2,
                                  CACHET_BIG_ENDIAN) != CACHET_OK)
            goto fail;
    }

    wbuf ob = { out, NITRO_DOC_MAX * 3, 0, false };
    if (d->tagged)
        w_u64(&ob, cbor_encode_tag, 18);
    w_head(&ob, cbor_encode_array_start, 4);
    w_bytes(&ob, prot, hb.n);
    if (d->nonempty_unprotected) {
        static const uint8_t kid[] = { 0x01 };
        w_head(&ob, cbor_encode_map_start, 1);
        w_int(&ob, 4);
        w_bytes(&ob, kid, sizeof kid);
    } else {
        w_head(&ob, cbor_encode_map_start, 0);
    }
    w_bytes(&ob, payload, pb.n);
    w_bytes(&ob, sig, sizeof sig);
    if (ob.bad)
        goto fail;
    free(payload);
    free(msg);
    cachet_pkey_free(key);
    *len = ob.n;
    return out;
fail:
    fprintf(stderr, "nitrogen_encode failed\n");
    free(payload);
    free(out);
    free(msg);
    cachet_pkey_free(key);
    return NULL;
}

size_t nitrogen_find(const uint8_t *hay, size_t n, const void *needle, size_t m)
{
    if (m == 0 || m > n)
        return SIZE_MAX;
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0)
            return i;
    return SIZE_MAX;
}
