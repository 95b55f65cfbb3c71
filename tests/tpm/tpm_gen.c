/* tpm_gen: see tpm_gen.h.  Test-only code: it may call OpenSSL directly. */
#include "tpm_gen.h"

#include <stdarg.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <tss2/tss2_mu.h>

#include "cachet/reader.h"

/* ---- the event log ------------------------------------------------------------ */

static void put_le32(uint8_t **p, uint32_t v)
{
    cachet_put_le32(*p, v);
    *p += 4;
}

void tpmgen_log(tpm_blob *log, tpm_pcrs *pcrs, const unsigned *pcr, const char *const *events,
                size_t n)
{
    size_t cap = 128;
    for (size_t i = 0; i < n; i++)
        cap += 12 + 2 + 32 + 4 + strlen(events[i]);
    uint8_t *buf = calloc(1, cap), *p = buf;
    assert_non_null(buf);
    /* Header: PCR 0, EV_NO_ACTION, zero SHA-1 digest, Spec ID Event03. */
    put_le32(&p, 0);
    put_le32(&p, TPM_EV_NO_ACTION);
    p += 20;
    put_le32(&p, 16 + 4 + 4 + 4 + 4 + 1);
    memcpy(p, "Spec ID Event03", 16);
    p += 16;
    put_le32(&p, 0);
    *p++ = 0; /* minor */
    *p++ = 2; /* major */
    *p++ = 0; /* errata */
    *p++ = 2; /* uintnSize */
    put_le32(&p, 1);
    cachet_put_le16(p, TPM2_ALG_SHA256);
    cachet_put_le16(p + 2, 32);
    p += 4;
    *p++ = 0; /* vendor info */
    uint8_t v[TPM_PCR_COUNT][32];
    memset(v, 0, sizeof v);
    for (unsigned i = 17; i <= 22; i++)
        memset(v[i], 0xff, 32);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(events[i]);
        uint8_t d[32], ext[64];
        assert_int_equal(cachet_sha256(events[i], len, d), CACHET_OK);
        put_le32(&p, pcr[i]);
        put_le32(&p, TPM_EV_IPL);
        put_le32(&p, 1);
        cachet_put_le16(p, TPM2_ALG_SHA256);
        p += 2;
        memcpy(p, d, 32);
        p += 32;
        put_le32(&p, (uint32_t)len);
        memcpy(p, events[i], len);
        p += len;
        memcpy(ext, v[pcr[i]], 32);
        memcpy(ext + 32, d, 32);
        assert_int_equal(cachet_sha256(ext, 64, v[pcr[i]]), CACHET_OK);
    }
    log->p = buf;
    log->len = (size_t)(p - buf);
    for (unsigned i = 0; i < TPM_PCR_COUNT; i++)
        assert_int_equal(tpm_pcrs_set(pcrs, TPM2_ALG_SHA256, i, v[i], 32), CACHET_OK);
}

/* ---- the AK ------------------------------------------------------------------------ */

static void ak_public(tpmgen *g, bool ecc, uint32_t attrs)
{
    EVP_PKEY *k = g->key;
    TPMT_PUBLIC p;
    memset(&p, 0, sizeof p);
    p.nameAlg = TPM2_ALG_SHA256;
    p.objectAttributes = attrs ? attrs
                               : TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                     TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                                     TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
    if (ecc) {
        p.type = TPM2_ALG_ECC;
        p.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
        p.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
        p.parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
        p.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
        p.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
        BIGNUM *x = NULL, *y = NULL;
        assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &x), 1);
        assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &y), 1);
        p.unique.ecc.x.size = 32;
        p.unique.ecc.y.size = 32;
        assert_int_equal(BN_bn2binpad(x, p.unique.ecc.x.buffer, 32), 32);
        assert_int_equal(BN_bn2binpad(y, p.unique.ecc.y.buffer, 32), 32);
        BN_free(x);
        BN_free(y);
    } else {
        p.type = TPM2_ALG_RSA;
        p.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
        p.parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
        p.parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
        p.parameters.rsaDetail.keyBits = 2048;
        BIGNUM *n = NULL;
        assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n), 1);
        p.unique.rsa.size = 256;
        assert_int_equal(BN_bn2binpad(n, p.unique.rsa.buffer, 256), 256);
        BN_free(n);
    }
    uint8_t buf[sizeof(TPMT_PUBLIC)];
    size_t off = 0;
    assert_int_equal(Tss2_MU_TPMT_PUBLIC_Marshal(&p, buf, sizeof buf, &off), TSS2_RC_SUCCESS);
    assert_int_equal(tpm_blob_set(&g->ev.ak_public, buf, off), CACHET_OK);
}

/* ---- quotes ------------------------------------------------------------------------ */

static const EVP_MD *md_of(uint16_t h)
{
    switch (h) {
    case TPM2_ALG_SHA1: return EVP_sha1();
    case TPM2_ALG_SHA384: return EVP_sha384();
    case TPM2_ALG_SHA512: return EVP_sha512();
    default: return EVP_sha256();
    }
}

void tpmgen_sign(tpmgen *g)
{
    const tpm_blob *a = &g->ev.quotes[0].attest;
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;
    assert_non_null(m);
    assert_int_equal(EVP_DigestSignInit(m, &pc, md_of(g->sig_hash), NULL, g->key), 1);
    if (g->sig_alg == TPM2_ALG_RSAPSS) {
        assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST), 1);
    }
    uint8_t sig[512];
    size_t sl = sizeof sig;
    assert_int_equal(EVP_DigestSign(m, sig, &sl, a->p, a->len), 1);
    EVP_MD_CTX_free(m);

    TPMT_SIGNATURE s;
    memset(&s, 0, sizeof s);
    s.sigAlg = g->sig_alg;
    if (g->sig_alg == TPM2_ALG_ECDSA) {
        const uint8_t *q = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)sl);
        assert_non_null(es);
        s.signature.ecdsa.hash = g->sig_hash;
        s.signature.ecdsa.signatureR.size = 32;
        s.signature.ecdsa.signatureS.size = 32;
        BN_bn2binpad(ECDSA_SIG_get0_r(es), s.signature.ecdsa.signatureR.buffer, 32);
        BN_bn2binpad(ECDSA_SIG_get0_s(es), s.signature.ecdsa.signatureS.buffer, 32);
        ECDSA_SIG_free(es);
    } else {
        s.signature.rsassa.hash = g->sig_hash;
        s.signature.rsassa.sig.size = (UINT16)sl;
        memcpy(s.signature.rsassa.sig.buffer, sig, sl);
    }
    uint8_t buf[sizeof(TPMT_SIGNATURE)];
    size_t off = 0;
    assert_int_equal(Tss2_MU_TPMT_SIGNATURE_Marshal(&s, buf, sizeof buf, &off), TSS2_RC_SUCCESS);
    assert_int_equal(tpm_blob_set(&g->ev.quotes[0].sig, buf, off), CACHET_OK);
}

void tpmgen_quote(tpmgen *g, const uint8_t *nonce, size_t nonce_len, uint32_t mask,
                  const uint8_t *digest, size_t digest_len)
{
    TPMS_ATTEST a;
    memset(&a, 0, sizeof a);
    a.magic = TPM2_GENERATED_VALUE;
    a.type = TPM2_ST_ATTEST_QUOTE;
    a.qualifiedSigner.size = 34;
    a.qualifiedSigner.name[1] = 0x0b;
    a.extraData.size = (UINT16)nonce_len;
    memcpy(a.extraData.buffer, nonce, nonce_len);
    a.clockInfo.clock = 123456;
    a.clockInfo.resetCount = 3;
    a.clockInfo.safe = 1;
    a.firmwareVersion = 0x2019102300000000ull;
    TPML_PCR_SELECTION *sel = &a.attested.quote.pcrSelect;
    sel->count = 1;
    sel->pcrSelections[0].hash = TPM2_ALG_SHA256;
    sel->pcrSelections[0].sizeofSelect = 3;
    sel->pcrSelections[0].pcrSelect[0] = (uint8_t)mask;
    sel->pcrSelections[0].pcrSelect[1] = (uint8_t)(mask >> 8);
    sel->pcrSelections[0].pcrSelect[2] = (uint8_t)(mask >> 16);
    TPM2B_DIGEST *d = &a.attested.quote.pcrDigest;
    if (digest) {
        d->size = (UINT16)digest_len;
        memcpy(d->buffer, digest, digest_len);
    } else {
        /* The quote's digest is over the selected values, hashed with the
         * signature's hash. */
        cachet_hash_alg h = CACHET_HASH_SHA256;
        if (g->sig_hash == TPM2_ALG_SHA384)
            h = CACHET_HASH_SHA384;
        tpm_pcrs sub;
        memset(&sub, 0, sizeof sub);
        const tpm_pcr_bank *b = tpm_pcrs_find(&g->ev.pcrs, TPM2_ALG_SHA256);
        assert_non_null(b);
        for (unsigned i = 0; i < TPM_PCR_COUNT; i++)
            if ((mask & (1u << i)) && (b->present & (1u << i)))
                tpm_pcrs_set(&sub, TPM2_ALG_SHA256, i, b->v[i], 32);
        if (g->sig_hash == TPM2_ALG_SHA1) {
            d->size = 20; /* cannot be checked anyway */
        } else {
            assert_int_equal(tpm_pcr_digest(sel, &sub, h, d->buffer), CACHET_OK);
            d->size = (UINT16)cachet_hash_len(h);
        }
    }
    uint8_t buf[sizeof(TPMS_ATTEST)];
    size_t off = 0;
    assert_int_equal(Tss2_MU_TPMS_ATTEST_Marshal(&a, buf, sizeof buf, &off), TSS2_RC_SUCCESS);
    if (g->ev.n_quotes == 0)
        g->ev.n_quotes = 1;
    assert_int_equal(tpm_blob_set(&g->ev.quotes[0].attest, buf, off), CACHET_OK);
    tpmgen_sign(g);
}

tpmgen *tpmgen_new(const tpmgen_opts *o)
{
    static const tpmgen_opts defaults;
    if (!o)
        o = &defaults;
    tpmgen *g = calloc(1, sizeof *g);
    assert_non_null(g);
    g->ev.format = "test";
    g->sig_alg = o->sig_alg ? o->sig_alg : o->ecc ? TPM2_ALG_ECDSA : TPM2_ALG_RSASSA;
    g->sig_hash = o->sig_hash ? o->sig_hash : TPM2_ALG_SHA256;
    for (size_t i = 0; i < sizeof g->nonce; i++)
        g->nonce[i] = (uint8_t)(0xa0 + i);

    g->root = testpki_mint(&(testpki_cert_opts){ .cn = "Test EK/AK Root", .ca = true }, NULL);
    assert_non_null(g->root);
    g->ica = testpki_mint(&(testpki_cert_opts){ .cn = "Test EK/AK Intermediate", .ca = true },
                          g->root);
    assert_non_null(g->ica);
    g->leaf = testpki_mint(&(testpki_cert_opts){ .cn = "Test AK",
                                                 .key = o->ecc ? TESTPKI_KEY_P256 : TESTPKI_KEY_RSA },
                           g->ica);
    assert_non_null(g->leaf);
    g->anchor = testpki_x509(g->root);
    assert_non_null(g->anchor);
    char *pem = testpki_key_pem(g->leaf);
    assert_non_null(pem);
    BIO *bio = BIO_new_mem_buf(pem, -1);
    g->key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    free(pem);
    assert_non_null(g->key);

    ak_public(g, o->ecc, o->ak_attributes);
    size_t n;
    const uint8_t *der = testpki_der(g->leaf, &n);
    assert_int_equal(tpm_blob_set(&g->ev.ak_cert, der, n), CACHET_OK);
    der = testpki_der(g->ica, &n);
    assert_int_equal(tpm_blob_set(&g->ev.ak_chain[0], der, n), CACHET_OK);
    g->ev.n_ak_chain = 1;

    static const unsigned pcrs[] = { 15, 15, 16 };
    static const char *const events[] = { "cachet-model sha256:1111", "cachet-config v1",
                                          "cachet-runtime v2" };
    tpm_blob log = { 0 };
    tpmgen_log(&log, &g->ev.pcrs, pcrs, events, 3);
    if (o->no_log)
        tpm_blob_free(&log);
    else
        g->ev.event_log = log;
    tpmgen_quote(g, g->nonce, sizeof g->nonce, 0xffffff, NULL, 0);
    return g;
}

void tpmgen_free(tpmgen *g)
{
    if (!g)
        return;
    tpm_evidence_free(&g->ev);
    EVP_PKEY_free(g->key);
    testpki_free(g->root);
    testpki_free(g->ica);
    testpki_free(g->leaf);
    cachet_x509_free(g->anchor);
    free(g);
}

char *tpmgen_bundle(const tpmgen *g, size_t *len)
{
    char *s = NULL;
    assert_int_equal(tpm_bundle_write(&g->ev, &s), CACHET_OK);
    *len = strlen(s);
    return s;
}
